"""A cluster with swarmops_storage: local (the one-node scenario): DOCKERDIR on each node's
own disk, no volume and no mount, the health report without them, and a switch to
GlusterFS refused before any change while the cluster is too small for it."""

import os
import subprocess

import pytest

from test_preflight import ROOT, fingerprint, run_site
from test_storage import MOUNT, sh


@pytest.fixture(name="local", autouse=True)
def fixture_local(cluster):
    """These tests are for local storage only."""
    if cluster.shared:
        pytest.skip("swarmops_storage is glusterfs: DOCKERDIR is the shared volume")


def test_dockerdir_is_a_directory_of_each_nodes_own_disk(cluster):
    for name in cluster.names:
        fstype = sh(cluster, name, "findmnt -n -o FSTYPE --target " + MOUNT).strip()
        assert "glusterfs" not in fstype, (name, fstype)
        assert sh(cluster, name, "findmnt -n --mountpoint %s || true" % MOUNT).strip() == ""
        fstab = [ln for ln in sh(cluster, name, "cat /etc/fstab").splitlines()
                 if ln.split()[1:2] == [MOUNT]]
        assert fstab == [], name


def test_no_glusterd_runs_and_no_volume_exists(cluster):
    for name in cluster.names:
        state = sh(cluster, name, "systemctl is-active glusterd || true").strip()
        assert state != "active", name


def test_health_passes_without_a_volume(cluster):
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
               ANSIBLE_NOCOLOR="1")
    run = subprocess.run(["ansible-playbook", "-i", cluster.inventory,
                          str(ROOT / "playbooks/health.yml")],
                         capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "volume: no storage node" not in run.stdout
    # (YAML output doubles the apostrophe of "node's")
    assert "local: DOCKERDIR on each node" in run.stdout, run.stdout[-3000:]


def test_a_switch_to_glusterfs_is_refused_before_any_change(cluster):
    before = fingerprint(cluster)
    run = run_site(cluster.inventory, "-e", "swarmops_storage=glusterfs")
    assert run.returncode != 0
    # Too few nodes for a volume on one node; with three, the files DOCKERDIR holds.
    assert "a replicated volume needs at least 3" in run.stdout or \
        "docs/user-guide/storage.md" in run.stdout, run.stdout[-3000:]
    assert fingerprint(cluster) == before
