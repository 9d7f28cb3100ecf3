"""GID planning on /etc/group and /etc/login.defs recorded on a lab node; the file walk."""

import os
from pathlib import Path

import pytest

from ansible_collections.swarmops.cluster.plugins.module_utils import _group_gid as gg
from ansible_collections.swarmops.cluster.plugins.module_utils._mount import parse_mountinfo

RECORDED = Path(__file__).resolve().parents[2] / "fixtures" / "group_gid"
# A bare lab node (Debian bookworm), before anything was installed.
BARE = gg.parse_groups((RECORDED / "group_bare.txt").read_text())
# The node after the lab runs: docker moved to 2000, "other" to 60000, pg to 59999.
AFTER = gg.parse_groups((RECORDED / "group_with_docker_and_other.txt").read_text())
RANGES = gg.parse_login_defs((RECORDED / "login.defs").read_text())
# The bare node with docker at 1234 and "other" holding 2000, as set up in the lab.
CONFLICT = dict(BARE, docker=[1234], other=[2000])


def desired(**kw):
    """group_gid parameters with defaults."""
    base = {"name": "docker", "gid": 2000, "create": True, "move_conflicting": False}
    base.update(kw)
    return base


def test_the_recorded_group_files_parse():
    assert BARE["root"] == [0] and BARE["nogroup"] == [65534] and "docker" not in BARE
    assert AFTER["docker"] == [2000] and AFTER["other"] == [60000]


def test_a_malformed_line_and_a_duplicate_are_kept_for_their_name():
    groups = gg.parse_groups("root:x:0:\nbroken:x:abc:\nshort:x\n\ntwice:x:5:\ntwice:x:6:a\n")
    assert groups == {"root": [0], "broken": [None], "short": [None], "twice": [5, 6]}


def test_login_defs_ranges_are_read_from_the_recorded_file():
    assert RANGES == {"SYS_GID_MIN": 100, "SYS_GID_MAX": 999, "GID_MIN": 1000,
                      "GID_MAX": 60000}


@pytest.mark.parametrize("text, expected", [
    ("", gg.LOGIN_DEFS_DEFAULTS),
    ("#GID_MIN 5000\nGID_MIN\t\t 2000\nSYS_GID_MAX 499\nGID_MAX x\n",
     dict(gg.LOGIN_DEFS_DEFAULTS, GID_MIN=2000, SYS_GID_MAX=499)),
])
def test_login_defs_falls_back_to_groupadds_defaults(text, expected):
    assert gg.parse_login_defs(text) == expected


@pytest.mark.parametrize("near, expected", [
    (2000, 60000),   # regular range: GID_MAX is free
    (997, 997),      # system range: 999 and 998 are taken by systemd
    (60000, 60000),
])
def test_free_gid_is_the_highest_free_one_of_the_range(near, expected):
    assert gg.free_gid(BARE, RANGES, near) == expected


def test_free_gid_skips_taken_gids_and_fails_on_a_full_range():
    assert gg.free_gid(dict(BARE, a=[997], b=[996]), RANGES, 500) == 995
    narrow = dict(RANGES, SYS_GID_MIN=998)
    with pytest.raises(gg.PlanError, match="no free GID between 998 and 999"):
        gg.free_gid(BARE, narrow, 998)


@pytest.mark.parametrize("groups, kw, expected", [
    (AFTER, {}, []),
    (AFTER, {"gid": 997},
     [{"action": "set_gid", "group": "docker", "from": 2000, "to": 997}]),
    (BARE, {"gid": 997}, [{"action": "create", "group": "docker", "gid": 997, "system": True}]),
    (BARE, {"gid": 1234},
     [{"action": "create", "group": "docker", "gid": 1234, "system": False}]),
    (CONFLICT, {"move_conflicting": True},
     [{"action": "move", "group": "other", "from": 2000, "to": 60000},
      {"action": "set_gid", "group": "docker", "from": 1234, "to": 2000}]),
    (BARE, {"gid": 100, "move_conflicting": True},
     [{"action": "move", "group": "users", "from": 100, "to": 997},
      {"action": "create", "group": "docker", "gid": 100, "system": True}]),
])
def test_plan(groups, kw, expected):
    assert gg.plan_gid(groups, RANGES, desired(**kw)) == expected


def test_a_gid_held_by_another_group_is_refused_naming_it_and_the_fix():
    with pytest.raises(gg.PlanError, match="GID 2000 belongs to group other.*"
                                           "move_conflicting=true.*nothing was changed"):
        gg.plan_gid(CONFLICT, RANGES, desired())


def test_a_missing_group_with_create_false_is_refused():
    with pytest.raises(gg.PlanError, match="does not exist and create=false"):
        gg.plan_gid(BARE, RANGES, desired(create=False))


@pytest.mark.parametrize("groups, kw, fragment", [
    (AFTER, {"gid": 65534}, "nogroup"),
    (AFTER, {"gid": 65535}, "16-bit"),
    (AFTER, {"gid": 0}, "outside"),
    (AFTER, {"gid": -5}, "outside"),
    (AFTER, {"gid": 2 ** 31 - 1}, "outside"),
    (AFTER, {"name": "Bad Name"}, "not a valid group name"),
    (AFTER, {"name": "-docker"}, "not a valid group name"),
    (AFTER, {"name": "1234"}, "not a valid group name"),
    (AFTER, {"name": "a" * 33}, "not a valid group name"),
    (dict(AFTER, docker=[2000, 3000]), {}, "2 entries for group docker; fix it with vigr"),
    (dict(AFTER, docker=[None]), {}, "malformed entry"),
])
def test_bad_requests_are_refused_before_any_change(groups, kw, fragment):
    with pytest.raises(gg.PlanError, match=fragment):
        gg.plan_gid(groups, RANGES, desired(**kw))


def test_debian_style_names_are_accepted():
    assert gg.plan_gid(BARE, RANGES, desired(name="Debian-exim", gid=1500))[0]["group"] \
        == "Debian-exim"


def test_reown_is_planned_per_changed_gid_with_counts():
    actions = gg.plan_gid(CONFLICT, RANGES, desired(move_conflicting=True))
    assert gg.gids_to_collect(actions) == [2000, 1234]
    found = {2000: ["/srv/other-file"], 1234: ["/srv/data", "/srv/data/a"]}
    assert gg.plan_reown(actions, found) == [
        {"action": "reown", "group": "other", "from": 2000, "to": 60000, "count": 1},
        {"action": "reown", "group": "docker", "from": 1234, "to": 2000, "count": 2}]
    assert gg.plan_reown(actions, {2000: [], 1234: []}) == []


# The lab node with the gluster volume mounted at /srv/shared.
MOUNTS = parse_mountinfo((RECORDED / "mountinfo_gluster.txt").read_text())


@pytest.mark.parametrize("path, fstype", [
    ("/srv/shared", "fuse.glusterfs"), ("/srv/shared/x/y", "fuse.glusterfs"),
    ("/srv/sharedother", "overlay"), ("/srv", "overlay"), ("/run/docker.sock", "tmpfs"),
    ("/", "overlay"), ("/etc/hostname", "ext4"),
])
def test_filesystem_of_a_path_is_its_longest_mount(path, fstype):
    assert gg.filesystem_of(gg.mount_points(MOUNTS), path) == fstype


@pytest.mark.parametrize("fstype, network", [
    ("fuse.glusterfs", True), ("fuse.sshfs", True), ("nfs4", True), ("cifs", True),
    ("ext4", False), ("tmpfs", False), ("overlay", False), ("fusectl", False),
])
def test_fuse_and_network_filesystems_are_told_apart(fstype, network):
    assert gg.is_network_fs(fstype) is network


def tree(tmp_path):
    """A small tree: dir, nested file, a symlink to a directory elsewhere."""
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_text("x")
    (tmp_path / "link").symlink_to("/etc")
    return tmp_path


def test_the_walk_finds_files_of_the_gids_without_following_symlinks(tmp_path):
    mine = os.getgid()
    root = tree(tmp_path)
    result = gg.collect_files([str(root) + "/", str(root / "nope")], [mine, mine + 1], [])
    names = sorted(os.path.relpath(p, root) for p in result["found"][mine])
    assert names == [".", "d", "d/f", "link"]
    assert result["found"][mine + 1] == [] and result["missing"] == [str(root / "nope")]


def test_the_walk_does_not_enter_a_mount_point(tmp_path):
    mine = os.getgid()
    root = tree(tmp_path)
    mounts = [{"mount_point": str(root / "d"), "fstype": "fuse.glusterfs"}]
    found = gg.collect_files([str(root)], [mine], mounts)["found"][mine]
    assert sorted(os.path.relpath(p, root) for p in found) == [".", "link"]


def test_a_root_on_a_network_filesystem_is_skipped(tmp_path):
    root = tree(tmp_path)
    mounts = [{"mount_point": str(root), "fstype": "fuse.glusterfs"}]
    result = gg.collect_files([str(root / "d")], [os.getgid()], mounts)
    assert result["skipped"] == [str(root / "d")] and result["found"][os.getgid()] == []


def test_a_symlink_root_is_itself_not_its_target(tmp_path):
    root = tree(tmp_path)
    found = gg.collect_files([str(root / "link")], [os.getgid()], [])["found"]
    assert found[os.getgid()] == [str(root / "link")]


def test_without_gids_nothing_is_walked_but_missing_roots_are_named(tmp_path):
    root = tree(tmp_path)
    result = gg.collect_files([str(root), str(root / "nope")], [], [])
    assert result == {"found": {}, "missing": [str(root / "nope")], "skipped": []}


def test_reown_counts_the_files_it_changed_and_passes_over_vanished_ones(tmp_path):
    root = tree(tmp_path)
    files = [str(root / "d" / "f"), str(root / "link"), str(root / "gone")]
    assert gg.reown(files, os.getgid()) == 2
    assert os.lstat(root / "link").st_gid == os.getgid()


# The bookworm cluster's docker GID (997) on a Debian 13 lab node: messagebus holds it and
# dbus-daemon runs with it (both recorded on that node).
TRIXIE = gg.parse_groups((RECORDED / "group-trixie-lab").read_text())
DBUS_STATUS = (RECORDED / "proc-status-dbus-daemon-trixie").read_text()


def test_a_bookworm_clusters_gid_held_by_messagebus_on_trixie_is_moved_on_request():
    assert TRIXIE["messagebus"] == [997] and "docker" not in TRIXIE
    with pytest.raises(gg.PlanError, match="belongs to group messagebus"):
        gg.plan_gid(TRIXIE, RANGES, desired(gid=997))
    actions = gg.plan_gid(TRIXIE, RANGES, desired(gid=997, move_conflicting=True))
    move, create = actions
    assert move["group"] == "messagebus" and move["from"] == 997
    assert move["to"] not in {g for gids in TRIXIE.values() for g in gids}
    assert create == {"action": "create", "group": "docker", "gid": 997, "system": True}


def test_a_moved_group_is_looked_for_on_the_root_and_every_disk_filesystem():
    mounts = parse_mountinfo(
        "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
        "23 22 0:5 / /proc rw - proc proc rw\n"
        "24 22 8:2 / /var rw - xfs /dev/sda2 rw\n"
        "25 22 0:40 / /opt/docker rw - fuse.glusterfs node1:/docker rw\n"
        "26 22 0:41 / /run rw - tmpfs tmpfs rw\n")
    assert gg.moved_group_roots(mounts, ["/srv", "/var"]) == ["/", "/var", "/srv"]


def test_files_found_twice_by_nested_roots_are_reowned_once():
    merged = gg.merge_found({997: ["/opt/a"], 5: []}, {997: ["/opt/a", "/usr/x"]})
    assert merged == {997: ["/opt/a", "/usr/x"], 5: []}


def test_a_process_gids_are_its_real_effective_and_supplementary_ones():
    assert gg.parse_proc_gids(DBUS_STATUS) == {997}
    status = "Name:\tx\nGid:\t0\t0\t0\t0\nGroups:\t4 24 27 \n"
    assert gg.parse_proc_gids(status) == {0, 4, 24, 27}


def test_processes_still_running_with_a_gid_are_named(tmp_path):
    for pid, text in (("63", DBUS_STATUS), ("1", "Name:\tsystemd\nGid:\t0\t0\t0\t0\n"),
                      ("self", DBUS_STATUS)):
        (tmp_path / pid).mkdir()
        (tmp_path / pid / "status").write_text(text)
    (tmp_path / "70").mkdir()  # ended between listing and reading: passed over
    assert gg.processes_with_gid(997, str(tmp_path)) == [(63, "dbus-daemon")]
