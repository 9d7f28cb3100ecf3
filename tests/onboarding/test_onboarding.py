"""Onboarding with --limit on a running lab: nodes join the existing swarm, never a new one.

Run by the default molecule scenario's side_effect step, after converge and idempotence,
against the scenario's lab (SWARMOPS_LAB_NAME): three managers grow by two workers, then by
two managers (storage nodes: their bricks join the volume), each with `site.yml --limit NEW
-vvv`; then a full run adds the new nodes to the old nodes' /etc/hosts blocks and fstab
lines, and a re-run changes nothing. No run may print a join token.
The tests run in file order and build on each other, as the scenario does.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = str(ROOT / "inventories" / "lab")
LAB = os.environ.get("SWARMOPS_LAB_NAME", "lab")
NEW_WORKERS = ["delta", "epsilon"]
NEW_MANAGERS = ["node4", "node5"]
# What onboarding may not touch on a node that is already in the cluster.
NODE_FINGERPRINT = ("md5sum /etc/hosts /etc/docker/daemon.json /etc/fstab /etc/group; "
                    "docker node inspect --format '{{.ID}} {{.Spec}}' self")


def inventory_hosts(group):
    """The lab inventory's hosts of a group, as ansible sees them now."""
    out = subprocess.run(["ansible-inventory", "-i", INVENTORY, "--list"], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out).get(group, {}).get("hosts", [])


def on_node(name, command):
    """stdout of a shell command run as root on a node over SSH.

    Ad hoc ansible, not testinfra: testinfra keeps the inventory it read first, which does
    not have the nodes this test adds.
    """
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0")
    proc = subprocess.run(["ansible", "-i", INVENTORY, name, "--become", "-m",
                           # raw: docker's Go templates are not Jinja (and args that
                           # start with "{" would be read as JSON)
                           "ansible.builtin.shell", "-a",
                           "true && {% raw %}" + command + "{% endraw %}"],
                          capture_output=True,
                          text=True, env=env, cwd=ROOT, check=False)
    # Ad hoc shell output: "NAME | STATUS | rc=N >>" and then the command's stdout.
    head, _sep, stdout = proc.stdout.partition(" >>\n")
    assert re.search(rf"^{re.escape(name)} \| CHANGED \| rc=0$", head, re.MULTILINE), \
        proc.stdout[-2000:] + proc.stderr[-2000:]
    return stdout.strip()


def fingerprints(names):
    return {name: on_node(name, NODE_FINGERPRINT) for name in names}


def swarm_of(name):
    """The engine's Swarm section on a node."""
    return json.loads(on_node(name, "docker info --format '{{json .Swarm}}'"))


def run_site(*options):
    """site.yml at -vvv on the lab; no join token may appear in anything it prints."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0")
    proc = subprocess.run(["ansible-playbook", "-vvv", "-i", INVENTORY, *options,
                           str(ROOT / "site.yml")], capture_output=True, text=True, env=env,
                          cwd=ROOT, check=False)
    output = proc.stdout + proc.stderr
    assert "SWMTKN" not in output, "a join token was printed"
    assert proc.returncode == 0, failures(output) + output[-2000:]
    return recap(output)


def failures(output):
    """What a failed run says about its failed tasks (at -vvv the tail is the last task's
    result, seldom the one that failed): each fatal or failed result with the task before
    it, then the recap."""
    lines, found = output.splitlines(), []
    for index, line in enumerate(lines):
        if line.startswith(("fatal: ", "failed: ")) or "FAILED! =>" in line:
            task = next((lines[i] for i in range(index, -1, -1)
                         if lines[i].startswith("TASK [")), "")
            found += [task] + [text[:600] for text in lines[index:index + 12]] + ["..."]
    return "\n".join(found[:120]) + "\n"


def recap(output):
    """{host: changed count} from the PLAY RECAP."""
    return {m.group(1): int(m.group(2)) for m in
            re.finditer(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", output, re.MULTILINE)}


def grow(group, names):
    subprocess.run([sys.executable, str(ROOT / "tests" / "lab" / "lab.py"), "grow",
                    f"--name={LAB}", f"--group={group}", *names], check=True)


@pytest.fixture(scope="module", name="old_nodes")
def fixture_old_nodes():
    """The converged cluster's nodes before onboarding, with their fingerprints."""
    names = inventory_hosts("swarm_managers") + inventory_hosts("swarm_workers")
    assert names, f"lab {LAB} has no nodes: run this from the molecule scenario"
    return {"names": names, "before": fingerprints(names),
            "cluster_id": swarm_of(names[0])["Cluster"]["ID"]}


def onboard(group, names, old_nodes):
    """Add bare nodes to the lab and run site.yml --limit on them: they, and only they,
    change; they join the old nodes' swarm in their role; the old nodes stay as they were."""
    grow(group, names)
    changed = run_site("--limit", ",".join(names))
    assert set(changed) == set(names)
    manager = group == "swarm_managers"
    for name in names:
        swarm = swarm_of(name)
        assert swarm["LocalNodeState"] == "active", name
        assert swarm["ControlAvailable"] is manager, name
        if manager:
            assert swarm["Cluster"]["ID"] == old_nodes["cluster_id"], name
    assert fingerprints(old_nodes["names"]) == old_nodes["before"]


def test_workers_join_with_limit(old_nodes):
    onboard("swarm_workers", NEW_WORKERS, old_nodes)


def test_managers_join_the_running_swarm_with_limit(old_nodes):
    onboard("swarm_managers", NEW_MANAGERS, old_nodes)
    managers = inventory_hosts("swarm_managers")
    swarm = swarm_of(managers[0])
    assert swarm["Managers"] == len(managers) == 5, swarm
    assert swarm["Nodes"] == len(managers) + len(inventory_hosts("swarm_workers"))
    assert {swarm_of(m)["Cluster"]["ID"] for m in managers} == {old_nodes["cluster_id"]}
    # The managers are the storage nodes: probed from a running peer, their bricks added
    # with the replica count raised to one copy per node, and the volume mounted on them.
    info = on_node(managers[0], "gluster volume info dockerdir")
    assert "Number of Bricks: 1 x 5 = 5" in info, info
    for name in NEW_MANAGERS:
        assert on_node(name, "findmnt -n -o FSTYPE /opt/docker") == "fuse.glusterfs", name


def test_full_run_adds_new_nodes_to_old_hosts_blocks_then_rerun_changes_nothing(old_nodes):
    changed = run_site()
    # Only the nodes that were there before the last --limit run change, twice each: their
    # /etc/hosts blocks and their fstab lines do not list the managers that joined last (the
    # fstab's backup-volfile-servers; read at mount time only, so no remount).
    earlier = old_nodes["names"] + NEW_WORKERS
    assert {name for name, count in changed.items() if count} == set(earlier), changed
    assert all(changed[name] == 2 for name in earlier), changed
    changed = run_site()
    assert set(changed.values()) == {0}, changed
