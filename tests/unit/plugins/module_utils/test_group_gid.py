"""GID planning on /etc/group and /etc/login.defs recorded on a lab node; the file walk."""

import os
from pathlib import Path

import pytest

from ansible_collections.swarmops.cluster.plugins.module_utils import _group_gid as gg

RECORDED = Path(__file__).resolve().parents[2] / "fixtures" / "group_gid"
# Node3 after the module ran: docker moved to 2000, "other" to 60000.
GROUPS = gg.parse_groups((RECORDED / "group_with_docker_and_other.txt").read_text())
RANGES = gg.parse_login_defs((RECORDED / "login.defs").read_text())


def desired(**kw):
    """group_gid parameters with defaults."""
    base = {"name": "docker", "gid": 2000, "create": True, "move_conflicting": False}
    base.update(kw)
    return base


def test_the_recorded_files_parse():
    assert GROUPS["docker"] == [2000] and GROUPS["other"] == [60000]
    assert (RANGES["SYS_GID_MIN"], RANGES["SYS_GID_MAX"], RANGES["GID_MAX"]) == (100, 999, 60000)


def test_already_equal_needs_nothing():
    assert gg.plan_gid(GROUPS, RANGES, desired()) == []


def test_a_different_gid_is_set():
    assert gg.plan_gid(GROUPS, RANGES, desired(gid=997)) == [
        {"action": "set_gid", "group": "docker", "from": 2000, "to": 997}]


def test_a_missing_group_is_created_as_a_system_group_below_gid_min():
    groups = {k: v for k, v in GROUPS.items() if k != "docker"}
    assert gg.plan_gid(groups, RANGES, desired(gid=997)) == [
        {"action": "create", "group": "docker", "gid": 997, "system": True}]
    with pytest.raises(gg.PlanError, match="create=false"):
        gg.plan_gid(groups, RANGES, desired(gid=997, create=False))


def test_a_gid_held_by_another_group_is_refused_naming_it():
    with pytest.raises(gg.PlanError, match="GID 60000 belongs to group other"):
        gg.plan_gid(GROUPS, RANGES, desired(gid=60000))


def test_moving_picks_the_highest_free_gid_of_the_holders_range():
    actions = gg.plan_gid(GROUPS, RANGES, desired(gid=100, move_conflicting=True))
    assert actions[0]["group"] == "users" and actions[0]["to"] == max(
        g for g in range(100, 1000) if all(g not in v for v in GROUPS.values()))
    assert actions[1] == {"action": "set_gid", "group": "docker", "from": 2000, "to": 100}


@pytest.mark.parametrize("groups, kw, fragment", [
    (GROUPS, {"gid": 65534}, "nogroup"),
    (GROUPS, {"gid": 0}, "outside"),
    (GROUPS, {"name": "Bad Name"}, "not a valid group name"),
    (dict(GROUPS, docker=[2000, 3000]), {}, "2 entries"),
    (dict(GROUPS, docker=[None]), {}, "malformed entry"),
])
def test_bad_requests_are_refused(groups, kw, fragment):
    with pytest.raises(gg.PlanError, match=fragment):
        gg.plan_gid(groups, RANGES, desired(**kw))


def test_the_walk_finds_files_of_the_old_gid_without_following_symlinks(tmp_path):
    mine = os.getgid()
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_text("x")
    (tmp_path / "link").symlink_to("/etc")
    found, missing = gg.collect_files([str(tmp_path), str(tmp_path / "nope")], [mine])
    names = sorted(os.path.relpath(p, tmp_path) for p in found[mine])
    assert names == [".", "d", "d/f", "link"] and missing == [str(tmp_path / "nope")]
