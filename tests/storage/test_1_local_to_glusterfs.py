"""From local storage to GlusterFS when the third node arrives, by the steps of
docs/user-guide/storage.md, on the one-node scenario's converged lab (side_effect).

The one manager's DOCKERDIR holds the stacks' files and some of ours. Two managers join;
site.yml with swarmops_storage glusterfs is refused before any change (the volume's mount
would hide those files); then the documented steps, in order: the stacks stopped, DOCKERDIR
moved aside, site.yml without stacks (the volume made and mounted), the files copied in and
compared on another node, site.yml with the stacks, and a re-run that changes nothing.
The tests run in file order and build on each other.
"""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "onboarding"))
from test_onboarding import (  # noqa: E402  pylint: disable=wrong-import-position
    INVENTORY, ROOT, grow, inventory_hosts, on_node, run_site)

GLUSTERFS = ("-e", "swarmops_storage=glusterfs")
NO_STACKS = ("-e", '{"swarmops_stacks": [], "swarmops_core_enabled": false}')
NEW_MANAGERS = ["node2", "node3"]
DOCKERDIR = "/opt/docker"
# Every file under DOCKERDIR with its checksum, relative paths, sorted.
CHECKSUMS = "cd %s && find . -type f -print0 | sort -z | xargs -0r sha256sum"
# Files of our own beside the stacks': a nested one, one with a space, a private one.
OURS = {"services/move-test/a.txt": "alpha", "services/move-test/deep/b c.txt": "beta",
        "private/move-test.key": hashlib.sha256(b"key").hexdigest()}


def refused_site(*options):
    """site.yml that must fail: its output."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run(["ansible-playbook", "-i", INVENTORY, *options,
                           str(ROOT / "site.yml")], capture_output=True, text=True,
                          env=env, cwd=ROOT, check=False)
    assert proc.returncode != 0, proc.stdout[-3000:]
    return proc.stdout


@pytest.fixture(scope="module", name="first")
def fixture_first():
    """The one node of the local-storage lab, with our files written into its DOCKERDIR."""
    managers = inventory_hosts("swarm_managers")
    assert len(managers) == 1, "run this from the one-node scenario: %s" % managers
    first = managers[0]
    for path, text in OURS.items():
        on_node(first, "mkdir -p \"$(dirname '%s/%s')\" && printf %%s '%s' > '%s/%s'"
                % (DOCKERDIR, path, text, DOCKERDIR, path))
    return first


def test_two_managers_join_with_local_storage(first):
    grow("swarm_managers", NEW_MANAGERS)
    run_site()
    for name in NEW_MANAGERS:
        assert on_node(name, "stat -c %%a %s" % DOCKERDIR) == "2774", name
    assert on_node(first, "findmnt -n -o FSTYPE --mountpoint %s || true" % DOCKERDIR) == ""


def test_the_switch_is_refused_before_any_change_naming_the_steps(first):
    before = on_node(first, "md5sum /etc/fstab; " + CHECKSUMS % DOCKERDIR)
    output = refused_site(*GLUSTERFS)
    assert "entries that the volume's mount would hide" in output, output[-3000:]
    assert "docs/user-guide/storage.md" in output
    assert on_node(first, "md5sum /etc/fstab; " + CHECKSUMS % DOCKERDIR) == before
    assert "dockerdir" not in on_node(first, "gluster volume list 2>&1 || true")


def test_the_documented_steps_move_every_file_onto_the_volume(first):
    expected = on_node(first, CHECKSUMS % DOCKERDIR)
    assert all(path in expected for path in OURS)
    # 1. the stacks stopped; 2. DOCKERDIR moved aside
    on_node(first, "for s in $(docker stack ls --format '{{.Name}}'); do docker stack rm $s; "
                   "done; for i in $(seq 60); do [ -z \"$(docker ps -q --filter "
                   "label=com.docker.stack.namespace)\" ] && break; sleep 2; done")
    for name in [first] + NEW_MANAGERS:  # each has a DOCKERDIR, if only the empty layout
        on_node(name, "mv %s %s.local" % (DOCKERDIR, DOCKERDIR))
    # 3. site.yml on GlusterFS without the stacks
    run_site(*GLUSTERFS, *NO_STACKS)
    assert on_node(first, "findmnt -n -o FSTYPE --mountpoint " + DOCKERDIR) == "fuse.glusterfs"
    # 4. the files copied in, compared on another node through the volume
    on_node(first, "cp -a %s.local/. %s/" % (DOCKERDIR, DOCKERDIR))
    assert on_node(NEW_MANAGERS[-1], CHECKSUMS % DOCKERDIR) == expected
    modes = "stat -c '%%a %%U %%G' %s/private/move-test.key %s/services/move-test"
    assert on_node(NEW_MANAGERS[-1], modes % (DOCKERDIR, DOCKERDIR)) == \
        on_node(first, modes % (DOCKERDIR + ".local", DOCKERDIR + ".local"))


def test_the_stacks_start_on_the_shared_data_and_a_rerun_changes_nothing(first):
    # 5. site.yml with the stacks
    run_site(*GLUSTERFS)
    services = on_node(first, "docker service ls --format '{{.Name}} {{.Replicas}}'")
    assert "web_web" in services and "core_traefik" in services, services
    assert set(run_site(*GLUSTERFS).values()) == {0}
