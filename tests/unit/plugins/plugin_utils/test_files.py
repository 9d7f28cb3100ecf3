"""The controller's judgement of a blockinfile step against what the real module answered
(ansible.builtin.blockinfile run on each recorded text): the judge may only say "in place"
where the module changed nothing."""

import json
from pathlib import Path

import pytest

from ansible_collections.swarmops.cluster.plugins.module_utils import _node_facts as nf
from ansible_collections.swarmops.cluster.plugins.module_utils._common import with_defaults
from ansible_collections.swarmops.cluster.plugins.module_utils._mount import (
    ARGUMENT_SPEC as MOUNT_SPEC, PlanError, mounted_at, parse_mountinfo, plan_mount)
from ansible_collections.swarmops.cluster.plugins.plugin_utils._files import (
    block_in_place, dirs_in_place, mount_in_place)

RECORDED = json.loads((Path(__file__).resolve().parents[2] / "fixtures" / "files"
                       / "blockinfile.json").read_text())


def state(text, uid=0, gid=0, mode="0644"):
    return {"text": text, "uid": uid, "gid": gid, "mode": mode}


@pytest.mark.parametrize("name", sorted(RECORDED["cases"]))
def test_the_judge_agrees_with_blockinfile(name):
    case = RECORDED["cases"][name]
    judged = block_in_place(state(case["text"]), RECORDED["marker"], RECORDED["block"])
    assert judged == (not case["changed"])


def test_a_block_in_place_with_another_owner_or_mode_is_not_in_place():
    text = RECORDED["cases"]["block_at_end"]["text"]
    assert block_in_place(state(text), RECORDED["marker"], RECORDED["block"])
    assert not block_in_place(state(text, uid=1000), RECORDED["marker"], RECORDED["block"])
    assert not block_in_place(state(text, mode="0600"), RECORDED["marker"], RECORDED["block"])


def test_a_file_not_read_or_missing_is_never_in_place():
    assert not block_in_place(None, RECORDED["marker"], RECORDED["block"])


# --- the mount: the controller's judge against the mount module's plan on the whole read ---

NODE_FACTS = Path(__file__).resolve().parents[2] / "fixtures" / "node_facts"
FSTAB = (NODE_FACTS / "fstab_brick_disk.txt").read_text()
OWN = ["node1", "node1.lab", "10.213.0.11"]
LINE_PARAMS = {"path": "/opt/docker", "src": "10.213.0.11:/dockerdir", "fstype": "glusterfs",
               "opts": ["defaults"], "backup_volfile_servers": ["10.213.0.12", "10.213.0.13"],
               "requires_units": [], "state": "mounted"}


def mount_reads(mountinfo_name, fstab_text, path="/opt/docker"):
    """(node_facts' read of the mount point, the mount module's own read), both from the
    recorded mountinfo of a lab node and an fstab text."""
    mounts = parse_mountinfo((NODE_FACTS / mountinfo_name).read_text())
    mount = mounted_at(mounts, path)
    facts = dict(nf.placement(path, mounts, fstab_text), kind="dir",
                 mount={"source": mount["source"], "fstype": mount["fstype"]}
                 if mount else None)
    module = {"fstab": fstab_text, "mount": mount, "path_kind": "dir", "own": OWN}
    return facts, module


def module_changes(module_read, params):
    """What the mount module itself would do, or 'refused'."""
    full = with_defaults(MOUNT_SPEC, params)
    full["path"] = full["path"].rstrip("/") or "/"  # as the module's main() does
    try:
        return plan_mount(module_read, full)[0]
    except PlanError:
        return "refused"


@pytest.mark.parametrize("mountinfo,fstab_text,params", [
    ("mountinfo_brick_disk_mounted.txt", FSTAB, LINE_PARAMS),
    ("mountinfo_brick_disk_mounted.txt", FSTAB, dict(LINE_PARAMS, opts=["defaults", "ro"])),
    ("mountinfo_brick_disk_mounted.txt", FSTAB,
     dict(LINE_PARAMS, backup_volfile_servers=["10.213.0.12"])),
    ("mountinfo_brick_disk_mounted.txt", FSTAB + FSTAB.splitlines(True)[1], LINE_PARAMS),
    ("mountinfo_brick_disk_mounted.txt", "", LINE_PARAMS),
    ("mountinfo_brick_disk_mounted.txt", FSTAB, dict(LINE_PARAMS, src="10.213.0.11:/other")),
    ("mountinfo_brick_disk_unmounted.txt", FSTAB, LINE_PARAMS),
    ("mountinfo_brick_disk_mounted.txt", FSTAB, dict(LINE_PARAMS, path="/opt/docker/")),
], ids=["in-place", "new-option", "fewer-backups",
        "line-twice", "no-line", "other-volume-mounted", "not-mounted", "trailing-slash"])
def test_the_mount_judge_agrees_with_the_module_on_the_whole_fstab(
        mountinfo, fstab_text, params):
    facts, module_read = mount_reads(mountinfo, fstab_text)
    judged = mount_in_place(facts, OWN, params)
    assert judged == (module_changes(module_read, params) == [])


def test_the_mount_line_without_a_final_newline_is_not_in_place():
    text = FSTAB.splitlines(True)[1].rstrip("\n")
    facts, module_read = mount_reads("mountinfo_brick_disk_mounted.txt", text)
    assert module_changes(module_read, LINE_PARAMS) != []
    assert not mount_in_place(facts, OWN, LINE_PARAMS)


def test_the_recorded_lab_mount_is_in_place_and_a_mount_point_not_read_is_not():
    facts, _module_read = mount_reads("mountinfo_brick_disk_mounted.txt", FSTAB)
    assert mount_in_place(facts, OWN, LINE_PARAMS)
    assert not mount_in_place(None, OWN, LINE_PARAMS)


# --- directories: the judge on the lab's recorded stat ---

STATS = nf.parse_stats((NODE_FACTS / "stat_dockerdir.txt").read_text(),
                       ["/opt/docker", "/opt/docker/config", "/opt/docker/private",
                        "/opt/docker/logs"])
ROOT = [{"name": "", "mode": "2774"}, {"name": "config", "mode": "2774"}]


def test_directories_as_recorded_are_in_place_with_the_group_they_carry():
    # The recorded root and config belong to group 0; private to 990.
    assert dirs_in_place(STATS, "/opt/docker", ROOT, 0)
    assert dirs_in_place(STATS, "/opt/docker", [{"name": "private", "mode": "2770"}], 990)


@pytest.mark.parametrize("wanted,gid", [
    (ROOT, 990),                                                   # another group
    ([{"name": "", "mode": "0774"}], 0),                           # setgid bit dropped
    ([{"name": "", "mode": "u=rwx,g=rwxs,o=r"}], 0),               # symbolic: module judges
    ([{"name": "logs", "mode": "2774"}], 0),                       # missing
    ([{"name": "other", "mode": "2774"}], 0),                      # not read
    (ROOT, None),                                                  # no GID known
], ids=["group", "mode", "symbolic", "missing", "unread", "no-gid"])
def test_directories_not_in_place(wanted, gid):
    assert not dirs_in_place(STATS, "/opt/docker", wanted, gid)


def test_directories_not_read_in_time_are_not_in_place_and_int_modes_count():
    assert not dirs_in_place(None, "/opt/docker", ROOT, 0)
    assert dirs_in_place(STATS, "/opt/docker", [{"name": "", "mode": 0o2774}], 0)
