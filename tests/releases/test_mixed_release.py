"""A node of the other Debian release joins a converged lab, then leaves it.

Run by the bookworm molecule scenario's side effect, after verify, against its lab
(SWARMOPS_LAB_NAME, Debian 12): a bare Debian 13 worker is added to the inventory. site.yml
refuses the mixed cluster in preflight and changes nothing; with
swarmops_docker_allow_mixed_releases (the setting for a move from one release to the next,
node by node) the node joins: engine 26.1 as a worker of 20.10 managers, GlusterFS 11's
client on a GlusterFS 10 volume, and a re-run changes nothing. remove_node.yml then takes
it out again. The tests run in file order and build on each other.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "onboarding"))
# pylint: disable=wrong-import-position
from test_onboarding import (  # noqa: E402
    INVENTORY, fingerprints, inventory_hosts, on_node, recap, swarm_of)

LAB = os.environ.get("SWARMOPS_LAB_NAME", "lab")
NEW = "mixed1"
# What the refusal names as the way forward: the releases allowed to mix and, where the new
# node's system groups hold the cluster's docker GID (messagebus has 997 on a Debian 13 lab
# node, docker has it on the Debian 12 ones), that group moved out of the way.
ALLOW = ["-e", "swarmops_docker_allow_mixed_releases=true",
         "-e", "swarmops_docker_gid_move_conflicting=true"]


def lab_py(*args):
    """tests/lab/lab.py on the scenario's lab; returns its stdout."""
    return subprocess.run([sys.executable, str(ROOT / "tests" / "lab" / "lab.py"), args[0],
                           f"--name={LAB}", *args[1:]],
                          check=True, capture_output=True, text=True).stdout


def run_playbook(playbook, *options):
    """(returncode, output) of a playbook on the lab inventory."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0")
    proc = subprocess.run(["ansible-playbook", "-i", INVENTORY, *options,
                           str(ROOT / playbook)], capture_output=True, text=True, env=env,
                          cwd=ROOT, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def failure(output):
    """The run's output from its first failure on (the end alone may hold only a
    traceback of the module's error handling)."""
    start = output.find("fatal: ")
    return output[start:start + 6000] if start >= 0 else output[-4000:]


def other_suite():
    """The release the lab does not run (the lab records its image tag: <suite>-...)."""
    image = json.loads(lab_py("status"))["image"]
    return "trixie" if image.split(":", 1)[1].startswith("bookworm") else "bookworm"


@pytest.fixture(scope="module", name="old_nodes")
def fixture_old_nodes():
    """The converged cluster's nodes and fingerprints, before the other release arrives."""
    names = inventory_hosts("swarm_managers") + inventory_hosts("swarm_workers")
    assert names, f"lab {LAB} has no nodes: run this from the molecule scenario"
    return {"names": names, "before": fingerprints(names)}


def test_mixed_cluster_refused_before_any_change(old_nodes):
    lab_py("grow", "--group=swarm_workers", f"--suite={other_suite()}", NEW)
    rc, output = run_playbook("site.yml")
    assert rc != 0
    assert "the cluster mixes Debian releases" in output, output[-3000:]
    assert "swarmops_docker_allow_mixed_releases: true" in output
    # Each release is named with its nodes, the new node under the other release.
    assert f": {NEW}" in output or f", {NEW}" in output, output[-3000:]
    assert fingerprints(old_nodes["names"]) == old_nodes["before"]
    old_nodes["gid_refused"] = "swarmops_docker_gid_move_conflicting: true" in output


def test_mixed_cluster_converges_when_allowed(old_nodes):
    if old_nodes.get("gid_refused"):
        # A file of the group in the way, outside the docker paths: it must follow the group.
        on_node(NEW, "install -d -g messagebus /usr/local/lib/mixed-release-check")
    rc, output = run_playbook("site.yml", *ALLOW)
    assert rc == 0, failure(output)
    swarm = swarm_of(NEW)
    assert swarm["LocalNodeState"] == "active" and not swarm["ControlAvailable"], swarm
    nodes = on_node(old_nodes["names"][0], "docker node ls --format '{{.Hostname}} {{.Status}}'")
    assert f"{LAB}-{NEW} Ready" in nodes.splitlines(), nodes
    assert on_node(NEW, "findmnt -n -o FSTYPE /opt/docker") == "fuse.glusterfs"
    # One volume, two GlusterFS majors: written on the new node, read on a manager.
    stamp = on_node(NEW, "date +%s%N | tee /opt/docker/.mixed-release-check")
    assert on_node(old_nodes["names"][0], "cat /opt/docker/.mixed-release-check") == stamp
    versions = {on_node(name, "docker version --format '{{.Server.Version}}'")
                for name in (NEW, old_nodes["names"][0])}
    assert len(versions) == 2, versions
    gids = {on_node(name, "getent group docker | cut -d: -f3")
            for name in (NEW, old_nodes["names"][0])}
    assert len(gids) == 1, gids
    if old_nodes.get("gid_refused"):
        # The group that held the GID moved with its files; its daemon is named to restart.
        assert "still run with GID" in " ".join(output.split()), output[-4000:]
        assert on_node(NEW, "stat -c %G /usr/local/lib/mixed-release-check") == "messagebus"
    rc, output = run_playbook("site.yml", *ALLOW)
    assert rc == 0, output[-4000:]
    assert set(recap(output).values()) == {0}, recap(output)


def test_node_of_the_other_release_removed(old_nodes):
    on_node(old_nodes["names"][0], "rm -f /opt/docker/.mixed-release-check")
    rc, output = run_playbook("playbooks/remove_node.yml", *ALLOW, "-e", f"node={NEW}",
                              "-e", "confirm=yes")
    assert rc == 0, output[-4000:]
    lab_py("forget", NEW)
    assert NEW not in inventory_hosts("swarm_workers")
    swarm = swarm_of(old_nodes["names"][0])
    assert swarm["Nodes"] == len(old_nodes["names"]), swarm
