"""fstab planning and mountinfo parsing, on files recorded on a converged lab node."""

from pathlib import Path

import pytest

from ansible_collections.swarmops.cluster.plugins.module_utils import _mount as mt

RECORDED = Path(__file__).resolve().parents[2] / "fixtures" / "mount"
FSTAB = (RECORDED / "fstab_node2_converged.txt").read_text()
OWN = ["swarmops-dev-node2", "10.213.0.12"]
LINE = ("localhost:/dockerdir /opt/docker glusterfs _netdev,x-systemd.requires=glusterd.service,"
        "backup-volfile-servers=10.213.0.11:10.213.0.13 0 0")
GLUSTER_MOUNT = {"mount_point": "/opt/docker", "source": "localhost:/dockerdir",
                 "fstype": "fuse.glusterfs", "options": "rw"}


def params(**kw):
    """mount module parameters with defaults: node2's shared volume."""
    base = {"path": "/opt/docker", "src": "localhost:/dockerdir", "fstype": "glusterfs",
            "opts": ["defaults"], "backup_volfile_servers": ["10.213.0.11", "10.213.0.13"],
            "requires_units": None, "dump": 0, "passno": 0, "state": "mounted"}
    base.update(kw)
    return base


def test_the_recorded_mountinfo_has_the_gluster_mount_and_unescapes_paths():
    mounts = mt.parse_mountinfo((RECORDED / "mountinfo_glusterfs.txt").read_text())
    assert mt.mounted_at(mounts, "/opt/docker")["source"] == "localhost:/gv"
    assert mt.mounted_at(mounts, "/opt/docker")["fstype"] == "fuse.glusterfs"
    spaced = mt.parse_mountinfo("90 72 0:50 / /mnt/a\\040b rw - nfs4 h:/x\\040y rw")
    assert (spaced[0]["mount_point"], spaced[0]["source"]) == ("/mnt/a b", "h:/x y")


def test_the_converged_node_needs_nothing():
    assert mt.plan_mount(params(), FSTAB, GLUSTER_MOUNT, OWN) == ([], FSTAB)
    assert mt.render_line(params(), OWN) == LINE


def test_an_old_line_is_replaced_in_place_duplicates_go_comments_stay():
    text = ("# a comment\n\nUUID=1 / ext4 defaults 0 1\nlocalhost:/dockerdir /opt/docker "
            "glusterfs defaults,_netdev,backupvolfile-server=localhost 0 0\n#localhost:/old "
            "/opt/docker glusterfs defaults 0 0\nUUID=2 /srv ext4 defaults 0 2\n"
            "localhost:/dockerdir /opt/docker/ glusterfs defaults 0 0\n")
    actions, new = mt.plan_mount(params(), text, None, OWN)
    assert new == ("# a comment\n\nUUID=1 / ext4 defaults 0 1\n" + LINE + "\n#localhost:/old "
                   "/opt/docker glusterfs defaults 0 0\nUUID=2 /srv ext4 defaults 0 2\n")
    assert [a["action"] for a in actions] == ["fstab", "mount"]


def test_a_missing_line_is_appended_even_after_a_last_line_without_newline():
    _actions, new = mt.plan_mount(params(), "UUID=1 / ext4 defaults 0 1", None, OWN)
    assert new == "UUID=1 / ext4 defaults 0 1\n" + LINE + "\n"


def test_a_mount_from_another_node_gets_no_glusterd_ordering():
    line = mt.render_line(params(src="10.213.0.11:/dockerdir",
                                 backup_volfile_servers=["10.213.0.12"]), OWN)
    assert line.split()[3] == "_netdev,backup-volfile-servers=10.213.0.12"


def test_a_mount_from_the_nodes_own_address_waits_for_glusterd():
    line = mt.render_line(params(src="10.213.0.12:/dockerdir"), OWN)
    assert "x-systemd.requires=glusterd.service" in line


def test_nfs4_options_pass_through_without_gluster_ones():
    line = mt.render_line(params(src="nas:/export/media", fstype="nfs4", path="/mnt/media",
                                 backup_volfile_servers=[],
                                 opts=["vers=4.2", "soft", "timeo=600", "retrans=2"]), OWN)
    assert line == "nas:/export/media /mnt/media nfs4 vers=4.2,soft,timeo=600,retrans=2 0 0"


@pytest.mark.parametrize("kw, fragment", [
    ({"opts": ["rw,noatime"]}, "malformed"),
    ({"opts": [""]}, "malformed"),
    ({"opts": ["a b"]}, "malformed"),
    ({"opts": ["=x"]}, "malformed"),
    ({"opts": ["ro", "rw"]}, "contradict"),
    ({"opts": ["timeo=1", "timeo=2"]}, "twice with different values"),
    ({"src": "dockerdir"}, "not host:/path"),
    ({"backup_volfile_servers": ["localhost"]}, "own server"),
    ({"src": "10.213.0.11:/v", "backup_volfile_servers": ["10.213.0.11"]}, "own server"),
    ({"fstype": "nfs4", "src": "nas:/x"}, "for glusterfs mounts"),
    ({"path": "opt/docker"}, "not absolute"),
])
def test_malformed_input_is_refused_before_any_change(kw, fragment):
    with pytest.raises(mt.PlanError, match=fragment):
        mt.plan_mount(params(**kw), FSTAB, None, OWN)


def test_something_else_mounted_on_the_path_is_refused():
    other = dict(GLUSTER_MOUNT, source="/dev/sdb1", fstype="ext4")
    with pytest.raises(mt.PlanError, match="has /dev/sdb1 .ext4. mounted"):
        mt.plan_mount(params(), FSTAB, other, OWN)


def test_a_runtime_option_change_remounts_a_boot_only_change_does_not():
    actions, _new = mt.plan_mount(params(opts=["log-level=WARNING"]), FSTAB, GLUSTER_MOUNT, OWN)
    assert [a["action"] for a in actions] == ["fstab", "remount"]
    actions, _new = mt.plan_mount(params(backup_volfile_servers=["10.213.0.11"]), FSTAB,
                                  GLUSTER_MOUNT, OWN)
    assert [a["action"] for a in actions] == ["fstab"]


def test_unmounted_keeps_the_line_absent_removes_it():
    assert mt.plan_mount(params(state="unmounted"), FSTAB, GLUSTER_MOUNT, OWN) == (
        [{"action": "umount", "path": "/opt/docker"}], FSTAB)
    actions, new = mt.plan_mount(params(state="absent"), FSTAB, GLUSTER_MOUNT, OWN)
    assert [a["action"] for a in actions] == ["fstab", "umount"] and "/opt/docker" not in new
