"""The shared storage of the converged cluster: volume, fstab mount, docker GID, DOCKERDIR.

The last test stops a storage node (a lab container: a real systemd shutdown and boot),
writes on the others meanwhile, and checks that the mount comes back by itself after
glusterd, heal reaches 0 pending, every node holds the same files and a re-run of
site.yml changes nothing.
"""

import hashlib
import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from test_preflight import run_site

ROOT = Path(__file__).resolve().parents[2]
VOLUME, MOUNT = "dockerdir", "/opt/docker"
LAB_SKEW_FILE = "/srv/swarmops-lab/owned-by-docker"


def sh(cluster, name, command):
    """Output of a command run as root on a host."""
    return cluster.host(name).check_output("sudo sh -c %s" % quote(command))


def quote(text):
    """Single-quoted for sh."""
    return "'" + text.replace("'", "'\\''") + "'"


def expected_line(cluster, name):
    """The fstab line the role writes on a host."""
    storage = cluster.storage_nodes
    if name in storage:
        src = "localhost:/" + VOLUME
        backups = [cluster.address(n) for n in storage if n != name]
        ordering = ",x-systemd.requires=glusterd.service"
    else:
        src = "%s:/%s" % (cluster.address(storage[0]), VOLUME)
        backups = [cluster.address(n) for n in storage[1:]]
        ordering = ""
    return "%s %s glusterfs _netdev%s,backup-volfile-servers=%s 0 0" % (
        src, MOUNT, ordering, ":".join(backups))


def volume_info(cluster):
    """`gluster volume info` of the volume, as key: value pairs and the brick list."""
    out = sh(cluster, cluster.storage_nodes[0], "gluster volume info " + VOLUME)
    pairs = dict(re.findall(r"^([^:\n]+): (.*)$", out, re.MULTILINE))
    bricks = re.findall(r"^Brick\d+: (\S+)", out, re.MULTILINE)
    return pairs, bricks


@pytest.mark.usefixtures("glusterfs")
def test_fstab_has_exactly_the_roles_line_on_every_node(cluster):
    for name in cluster.names:
        lines = [ln for ln in sh(cluster, name, "cat /etc/fstab").splitlines()
                 if ln.split()[1:2] == [MOUNT]]
        assert lines == [expected_line(cluster, name)], name


@pytest.mark.usefixtures("glusterfs")
def test_every_node_mounts_the_volume(cluster):
    for name in cluster.names:
        fields = sh(cluster, name, "findmnt -n -o SOURCE,FSTYPE " + MOUNT).split()
        assert fields[1] == "fuse.glusterfs" and fields[0].endswith(":/" + VOLUME), name


@pytest.mark.usefixtures("glusterfs")
def test_a_file_written_on_the_first_node_reads_on_the_last(cluster):
    first, last = cluster.names[0], cluster.names[-1]
    token = "written on %s at %f" % (first, time.time())
    sh(cluster, first, "echo '%s' > %s/config/.swarmops-verify" % (token, MOUNT))
    assert sh(cluster, last, "cat %s/config/.swarmops-verify" % MOUNT).strip() == token


@pytest.mark.usefixtures("glusterfs")
def test_the_volume_has_the_inventorys_layout_and_only_the_clusters_addresses(cluster):
    pairs, bricks = volume_info(cluster)
    assert pairs["Status"] == "Started"
    assert {b.split(":")[0] for b in bricks} == {cluster.address(n)
                                                 for n in cluster.storage_nodes}
    expected = "1 x (2 + 1) = 3" if cluster.arbiter() else "1 x %d = %d" % (
        (len(cluster.storage_nodes),) * 2)
    assert pairs["Number of Bricks"] == expected
    assert set(pairs["auth.allow"].split(",")) == {cluster.address(n) for n in cluster.names}


@pytest.mark.usefixtures("glusterfs")
def test_storage_mounts_wait_for_glusterd_at_boot(cluster):
    for name in cluster.storage_nodes:
        props = sh(cluster, name, "systemctl show opt-docker.mount -p Requires -p After")
        assert props.count("glusterd.service") == 2, (name, props)


def test_the_docker_gid_is_equal_everywhere_and_the_lab_skewed_file_followed(cluster):
    gids = {n: sh(cluster, n, "getent group docker").split(":")[2] for n in cluster.names}
    assert len(set(gids.values())) == 1, gids
    for name in cluster.names:
        out = sh(cluster, name, "stat -c %%g %s 2>/dev/null || true" % LAB_SKEW_FILE).strip()
        assert out in ("", gids[name]), (name, out)
        socket_gid = sh(cluster, name, "stat -c %g /run/docker.sock").strip()
        assert socket_gid == gids[name], name


def test_dockerdir_layout_and_modes(cluster):
    # Shared: made once, seen the same on the last node; local: made on every node.
    for name in cluster.names[-1:] if cluster.shared else cluster.names:
        out = sh(cluster, name, "stat -c '%%n %%a %%U %%G' %s %s/config %s/logs "
                 "%s/services %s/private" % ((MOUNT,) * 5))
        modes = {line.split()[0]: line.split()[1:] for line in out.splitlines()}
        for path, mode in ((MOUNT, "2774"), (MOUNT + "/config", "2774"),
                           (MOUNT + "/logs", "2774"), (MOUNT + "/services", "2774"),
                           (MOUNT + "/private", "2770")):
            assert modes[path] == [mode, "root", "docker"], (name, path)


# The fault test: one storage node down, then booted again.


def lab_container(cluster, name):
    """The lab container of an inventory host, or None when the hosts are not a lab."""
    lab = os.environ.get("SWARMOPS_LAB_NAME")
    if not lab or os.environ.get("SWARMOPS_BYOH_INVENTORY"):
        return None
    out = subprocess.run(["python3", str(ROOT / "tests/lab/lab.py"), "status", "--name", lab],
                         capture_output=True, text=True, check=True).stdout
    # A lab that is not up (or a VM lab of that name) has no "nodes": not a container lab.
    return next((n["container"] for n in json.loads(out).get("nodes", []) if n["name"] == name),
                None)


# New files in a directory of this run only: overwriting a file through one client while
# another has it cached is not what this test is about.
FAULT_DIR = "%s/config/fault-%d" % (MOUNT, time.time())


def write_files(cluster, name, stage, count=5):
    """Files with random content, written through one node's mount; their checksums."""
    sums = {}
    for i in range(count):
        data = os.urandom(4096).hex()
        path = "%s/%s-%s-%d" % (FAULT_DIR, stage, name, i)
        sh(cluster, name, "mkdir -p %s && printf %%s %s > %s" % (FAULT_DIR, data, path))
        sums[os.path.basename(path)] = hashlib.sha256(data.encode()).hexdigest()
    return sums


def checksums(cluster, name):
    """{file: sha256} of the fault test's files as one node reads them."""
    out = sh(cluster, name, "cd %s && sha256sum *" % FAULT_DIR)
    return {line.split()[1]: line.split()[0] for line in out.splitlines()}


def wait_for(what, probe, timeout=240):
    """Poll probe() until it returns a true value; fail naming what did not happen."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            value = probe()
        except (AssertionError, RuntimeError):  # the node is not back yet (SSH refused)
            value = None
        if value:
            return value
        time.sleep(3)
    pytest.fail("%s: not within %ss" % (what, timeout))


def heal_pending(cluster, name):
    """Entries waiting for heal, summed over the bricks (None while a brick is missing)."""
    out = sh(cluster, name, "gluster volume heal %s info" % VOLUME)
    counts = re.findall(r"^Number of entries: (\S+)", out, re.MULTILINE)
    if len(counts) < len(cluster.storage_nodes) or not all(c.isdigit() for c in counts):
        return None
    return sum(int(c) for c in counts)


@pytest.mark.usefixtures("glusterfs")
def test_a_storage_node_stopped_and_booted_again_loses_nothing(cluster):
    victim = cluster.storage_nodes[-1]
    container = lab_container(cluster, victim)
    if container is None:
        pytest.skip("stops a node: runs on the lab only")
    survivor = cluster.storage_nodes[0]
    expected = write_files(cluster, survivor, "before")
    subprocess.run(["docker", "stop", container], check=True, capture_output=True)
    try:
        expected.update(write_files(cluster, survivor, "during"))
        other = next(n for n in cluster.names if n not in (victim, survivor))
        expected.update(write_files(cluster, other, "during"))
        assert checksums(cluster, other) == expected
    finally:
        subprocess.run(["docker", "start", container], check=True, capture_output=True)
    cluster.hosts.pop(victim, None)  # a new connection to the booted node
    wait_for("%s answers over SSH" % victim, lambda: sh(cluster, victim, "true") == "")
    wait_for("the mount on %s is back by itself" % victim,
             lambda: "fuse.glusterfs" in sh(cluster, victim, "findmnt -n -o FSTYPE %s || true"
                                            % MOUNT))
    order = sh(cluster, victim, "systemctl show -p ActiveEnterTimestampMonotonic glusterd "
               "opt-docker.mount").split()
    assert int(order[0].split("=")[1]) <= int(order[1].split("=")[1]), order
    expected.update(write_files(cluster, victim, "after"))
    wait_for("heal info at 0 pending", lambda: heal_pending(cluster, survivor) == 0)
    for name in cluster.names:
        assert checksums(cluster, name) == expected, name
    wait_for("%s Ready in the swarm" % victim, lambda: "Down" not in sh(
        cluster, cluster.managers[0], "docker node ls --format '{{.Status}}'"))
    result = run_site(cluster.inventory)
    assert result.returncode == 0, result.stdout[-3000:]
    recap = result.stdout[result.stdout.index("PLAY RECAP"):]
    assert recap.count("changed=0") == len(cluster.names), recap
