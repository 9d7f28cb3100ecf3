"""fstab planning, option synthesis, mountinfo parsing and the apply order of the mount
module, on fstab files and mountinfo recorded on lab nodes."""

from pathlib import Path

import pytest

from ansible_collections.swarmops.cluster.plugins.module_utils import _mount as mt

RECORDED = Path(__file__).resolve().parents[2] / "fixtures" / "mount"
# node1 of the lab: the fstab seeded by hand (an old line, a commented-out one, a
# trailing-slash duplicate), the same file after the module ran, and its mountinfo with the
# glusterfs FUSE mount and two tmpfs mounts at paths with a space and a tab.
SEEDED = (RECORDED / "fstab_node1_seeded.txt").read_text()
CONVERGED = (RECORDED / "fstab_node1_converged.txt").read_text()
MOUNTS = mt.parse_mountinfo((RECORDED / "mountinfo_node1_glusterfs_escapes.txt").read_text())
OWN = ["node1", "node1.lab", "10.213.2.11"]
OPTS = "_netdev,x-systemd.requires=glusterd.service,backup-volfile-servers=10.213.2.12:10.213.2.13"
LINE = "localhost:/gv /opt/docker glusterfs %s 0 0" % OPTS
GLUSTER = mt.mounted_at(MOUNTS, "/opt/docker")


def params(**kw):
    """mount module parameters: node1's shared volume with the other two as backups."""
    base = {"path": "/opt/docker", "src": "localhost:/gv", "fstype": "glusterfs",
            "opts": ["defaults"], "backup_volfile_servers": ["10.213.2.12", "10.213.2.13"],
            "requires_units": None, "dump": 0, "passno": 0, "state": "mounted",
            "fstab": "/etc/fstab", "backup": True, "timeout": 60}
    base.update(kw)
    return base


def current(fstab=CONVERGED, mount=GLUSTER, path_kind="dir"):
    """What the module reads on node1 (converged and mounted unless told otherwise)."""
    return {"fstab": fstab, "mount": mount, "path_kind": path_kind, "own": OWN}


def kinds(actions):
    """The action names, in order."""
    return [a["action"] for a in actions]


def test_recorded_mountinfo_has_the_glusterfs_fuse_mount():
    assert GLUSTER["source"] == "localhost:/gv" and GLUSTER["fstype"] == "fuse.glusterfs"


@pytest.mark.parametrize("path, source, fstype", [
    ("/mnt/a b", "scratch space", "tmpfs"),
    ("/mnt/tab\tx", "tmpfs", "tmpfs"),
    ("/var/lib/docker", "/dev/vda", "ext4"),
])
def test_recorded_mountinfo_octal_escapes_are_undone(path, source, fstype):
    found = mt.mounted_at(MOUNTS, path)
    assert (found["source"], found["fstype"]) == (source, fstype)


def test_mountinfo_lines_without_the_separator_are_skipped():
    assert mt.parse_mountinfo("garbage\n1 2 0:1 / /x rw shared:1\n") == []


def test_the_top_mount_of_stacked_mounts_wins():
    mounts = mt.parse_mountinfo("1 0 0:1 / /m rw - tmpfs a rw\n2 1 0:2 / /m rw - tmpfs b rw\n")
    assert mt.mounted_at(mounts, "/m")["source"] == "b"


def test_the_seeded_fstab_becomes_the_recorded_converged_one_exactly():
    actions, new = mt.plan_mount(current(fstab=SEEDED, mount=None, path_kind="missing"),
                                 params())
    assert new == CONVERGED
    assert actions == [{"action": "fstab", "fstab": "/etc/fstab", "line": LINE},
                       {"action": "mkdir", "path": "/opt/docker", "mode": "0755"},
                       {"action": "mount", "path": "/opt/docker", "src": "localhost:/gv"}]


def test_comments_blank_lines_other_mounts_and_the_commented_out_line_stay_byte_for_byte():
    kept = [ln for ln in SEEDED.splitlines(keepends=True)
            if mt.fstab_path_of(ln) != "/opt/docker"]
    _actions, new = mt.plan_mount(current(fstab=SEEDED, mount=None), params())
    assert [ln for ln in new.splitlines(keepends=True) if ln != LINE + "\n"] == kept
    assert "#localhost:/gv /opt/docker glusterfs defaults 0 0\n" in new
    assert "tmpfs\t/mnt/scratch\ttmpfs\tsize=1m\t0\t0\n" in new


def test_the_old_line_is_replaced_in_its_place_and_duplicates_removed():
    text = "a /x t d 0 0\nold:/v /opt/docker glusterfs d 0 0\nb /y t d 0 0\n" \
           "dup:/v /opt/docker// glusterfs d 0 0\n"
    _actions, new = mt.plan_mount(current(fstab=text, mount=None), params())
    assert new == "a /x t d 0 0\n%s\nb /y t d 0 0\n" % LINE


def test_the_converged_mounted_node_needs_nothing():
    assert mt.plan_mount(current(), params()) == ([], CONVERGED)
    assert mt.render_line(params(), OWN) == LINE


def test_an_identical_line_in_the_wrong_place_is_left_where_it_is():
    text = "# head\n%s\nproc /proc proc defaults 0 0\n" % LINE
    assert mt.plan_mount(current(fstab=text), params()) == ([], text)


def test_a_line_that_differs_in_spacing_only_is_rewritten_without_a_remount():
    text = LINE.replace(" ", "\t") + "\n"
    actions, new = mt.plan_mount(current(fstab=text), params())
    assert new == LINE + "\n" and kinds(actions) == ["fstab"]


@pytest.mark.parametrize("change", [
    {"backup_volfile_servers": ["10.213.2.12", "10.213.2.13", "10.213.2.14"]},
    {"backup_volfile_servers": ["10.213.2.12"]},
    {"requires_units": []},
])
def test_a_boot_only_option_change_rewrites_fstab_and_keeps_the_live_mount(change):
    actions, new = mt.plan_mount(current(), params(**change))
    assert kinds(actions) == ["fstab"] and new != CONVERGED


@pytest.mark.parametrize("text, expected", [
    ("", LINE + "\n"),
    ("UUID=1 / ext4 defaults 0 1", "UUID=1 / ext4 defaults 0 1\n" + LINE + "\n"),
])
def test_a_missing_line_is_appended_after_a_last_line_without_newline(text, expected):
    assert mt.plan_mount(current(fstab=text, mount=None), params())[1] == expected


@pytest.mark.parametrize("kw, opts", [
    ({}, OPTS),
    ({"src": "10.213.2.11:/gv"}, OPTS),
    ({"src": "[::1]:/gv"}, OPTS),
    ({"src": "10.213.2.12:/gv", "backup_volfile_servers": ["10.213.2.13"]},
     "_netdev,backup-volfile-servers=10.213.2.13"),
    ({"requires_units": []}, "_netdev,backup-volfile-servers=10.213.2.12:10.213.2.13"),
    ({"backup_volfile_servers": [], "opts": ["log-level=WARNING", "_netdev", "noatime"]},
     "_netdev,x-systemd.requires=glusterd.service,log-level=WARNING,noatime"),
    ({"backup_volfile_servers": [], "requires_units": ["glusterd.service", "a.service"]},
     "_netdev,x-systemd.requires=glusterd.service,x-systemd.requires=a.service"),
])
def test_glusterfs_options_the_module_adds(kw, opts):
    actions, _new = mt.plan_mount(current(fstab="", mount=None), params(**kw))
    assert actions[0]["line"].split()[3] == opts


@pytest.mark.parametrize("kw, opts", [
    ({"opts": ["vers=4.2", "soft", "timeo=600", "retrans=2"]},
     "vers=4.2,soft,timeo=600,retrans=2"),
    ({}, "defaults"),
    ({"requires_units": ["network-online.target"]}, "x-systemd.requires=network-online.target"),
    ({"src": "localhost:/export"}, "defaults"),
])
def test_nfs4_options_pass_through_without_glusterfs_ones(kw, opts):
    nfs = dict({"src": "10.213.2.12:/export/media", "fstype": "nfs4", "path": "/mnt/media",
                "backup_volfile_servers": []}, **kw)
    line = mt.plan_mount(current(fstab="", mount=None), params(**nfs))[0][0]["line"]
    assert line == "%s /mnt/media nfs4 %s 0 0" % (nfs["src"], opts)


@pytest.mark.parametrize("opts, fragment", [
    ([""], "malformed"),
    (["rw,noatime"], "malformed"),
    (["a b"], "malformed"),
    (["tab\there"], "malformed"),
    (["=x"], "malformed"),
    (["ro", "rw"], "ro and rw contradict"),
    (["soft", "hard"], "soft and hard contradict"),
    (["timeo=1", "timeo=2"], "timeo is given twice with different values"),
    (["sync", "sync=1"], "sync is given twice"),
    (["backupvolfile-server=localhost"], "not as 'backupvolfile-server=localhost' in opts"),
])
def test_malformed_opts_are_refused_before_any_change(opts, fragment):
    with pytest.raises(mt.PlanError, match=fragment + ".* - nothing was changed"):
        mt.plan_mount(current(fstab=SEEDED, mount=None), params(opts=opts))


def test_one_option_given_twice_alike_is_written_once():
    line = mt.render_line(params(opts=["noatime", "noatime"], backup_volfile_servers=[]), OWN)
    assert line.split()[3].split(",").count("noatime") == 1


@pytest.mark.parametrize("kw, fragment", [
    ({"backup_volfile_servers": ["localhost"]}, r"own server \(localhost as localhost\)"),
    ({"backup_volfile_servers": ["10.213.2.11", "10.213.2.12"]}, "own server"),
    ({"backup_volfile_servers": ["node1"]}, "own server"),
    ({"src": "10.213.2.12:/gv", "backup_volfile_servers": ["10.213.2.12"]}, "own server"),
    ({"backup_volfile_servers": ["10.213.2.12", "10.213.2.12"]}, "twice"),
    ({"backup_volfile_servers": ["fd00::2"]}, "colon separated"),
    ({"fstype": "nfs4", "src": "nas:/x"}, "for glusterfs mounts"),
])
def test_bad_backup_volfile_servers_are_refused(kw, fragment):
    with pytest.raises(mt.PlanError, match=fragment):
        mt.plan_mount(current(mount=None), params(**kw))


@pytest.mark.parametrize("kw, fragment", [
    ({"src": "gv"}, "not host:/path"),
    ({"src": "localhost:gv"}, "not host:/path"),
    ({"src": ":/gv"}, "not host:/path"),
    ({"path": "opt/docker"}, "not absolute"),
    ({"path": "/opt/my docker"}, "has a space"),
    ({"src": "localhost:/my gv"}, "has a space"),
    ({"requires_units": ["glusterd service"]}, "not a systemd unit name"),
    ({"passno": -1}, "passno must be 0 or more"),
    ({"timeout": 0}, "timeout must be 1 second or more"),
])
def test_bad_paths_sources_and_settings_are_refused(kw, fragment):
    with pytest.raises(mt.PlanError, match=fragment):
        mt.plan_mount(current(mount=None), params(**kw))


@pytest.mark.parametrize("path, state", [("/var/lib/docker", "mounted"),
                                         ("/var/lib/docker", "present"),
                                         ("/mnt/a b", "absent"),
                                         ("/var/lib/docker", "unmounted")])
def test_something_else_mounted_at_the_path_is_refused(path, state):
    mount = mt.mounted_at(MOUNTS, path)
    with pytest.raises(mt.PlanError, match="has %s .%s. mounted, not localhost:/gv.*nothing"
                       % (mount["source"], mount["fstype"])):
        mt.plan_mount(current(mount=mount), params(path=path, state=state))


def test_another_volume_from_the_same_server_is_something_else_too():
    with pytest.raises(mt.PlanError, match="has localhost:/gv"):
        mt.plan_mount(current(), params(src="localhost:/other"))


# The lab worker node4 after node1, the first storage node it mounted from, died; site.yml
# (replace_node.yml's run, node1 retired) then wants node2 as the server.
WORKER_FSTAB = (RECORDED / "fstab_worker_first_node_dead.txt").read_text()
WORKER_MOUNT = mt.mounted_at(mt.parse_mountinfo(
    (RECORDED / "mountinfo_worker_first_node_dead.txt").read_text()), "/opt/docker")


def test_a_volume_mounted_from_a_dead_server_gets_a_new_fstab_line_and_keeps_its_mount():
    # The server only hands out the volume file at mount time: remounting the live mount
    # (which containers use) would gain nothing; the next mount reads the new line.
    wanted = params(src="10.213.0.12:/dockerdir", opts=["defaults"],
                    backup_volfile_servers=["10.213.0.13", "10.213.0.15"])
    current_read = {"fstab": WORKER_FSTAB, "mount": WORKER_MOUNT, "path_kind": "dir",
                    "own": ["node4", "10.213.0.14"]}
    actions, text = mt.plan_mount(current_read, wanted)
    assert kinds(actions) == ["fstab"]
    assert text.splitlines()[-1] == (
        "10.213.0.12:/dockerdir /opt/docker glusterfs "
        "_netdev,backup-volfile-servers=10.213.0.13:10.213.0.15 0 0")


def test_an_nfs_mount_that_negotiated_version_4_is_the_expected_one():
    mount = {"mount_point": "/mnt/media", "source": "nas:/e", "fstype": "nfs4", "options": ""}
    kw = {"path": "/mnt/media", "src": "nas:/e", "fstype": "nfs", "backup_volfile_servers": []}
    line = mt.render_line(params(**kw), OWN) + "\n"
    assert mt.plan_mount(current(fstab=line, mount=mount), params(**kw)) == ([], line)


def test_a_changed_line_of_a_mounted_path_remounts_before_fstab_is_written():
    actions, _new = mt.plan_mount(current(), params(opts=["noatime"]))
    assert kinds(actions) == ["remount", "fstab"]
    assert actions[0] == {"action": "remount", "path": "/opt/docker", "source": "localhost:/gv"}


def test_present_writes_the_line_without_touching_the_mount():
    actions, _new = mt.plan_mount(current(), params(opts=["noatime"], state="present"))
    assert kinds(actions) == ["fstab"]
    assert kinds(mt.plan_mount(current(fstab=SEEDED, mount=None), params(state="present"))[0]) \
        == ["fstab"]


@pytest.mark.parametrize("path_kind, expected", [("dir", ["mount"]),
                                                 ("missing", ["mkdir", "mount"])])
def test_an_unmounted_path_is_mounted_and_created_only_when_missing(path_kind, expected):
    actions, _new = mt.plan_mount(current(mount=None, path_kind=path_kind), params())
    assert kinds(actions) == expected


def test_a_mount_point_that_is_a_file_is_refused():
    with pytest.raises(mt.PlanError, match="not a directory"):
        mt.plan_mount(current(mount=None, path_kind="other"), params())


@pytest.mark.parametrize("kw, mount, expected_kinds, fstab_after", [
    ({"state": "unmounted", "src": None}, GLUSTER, ["umount"], CONVERGED),
    ({"state": "unmounted"}, GLUSTER, ["umount"], CONVERGED),
    ({"state": "unmounted", "src": None}, None, [], CONVERGED),
    ({"state": "absent", "src": None}, GLUSTER, ["umount", "fstab"], None),
    ({"state": "absent", "src": None}, None, ["fstab"], None),
])
def test_unmounted_keeps_the_line_absent_removes_it(kw, mount, expected_kinds, fstab_after):
    actions, new = mt.plan_mount(current(mount=mount), params(**kw))
    assert kinds(actions) == expected_kinds
    assert new == (fstab_after if fstab_after is not None else CONVERGED.replace(
        LINE + "\n", ""))


def test_absent_removes_an_escaped_line_and_keeps_the_commented_one():
    text = "#h:/v /mnt/a\\040b nfs defaults 0 0\nh:/v /mnt/a\\040b nfs defaults 0 0\n"
    actions, new = mt.plan_mount(current(fstab=text, mount=None),
                                 params(path="/mnt/a b", src=None, state="absent"))
    assert new == "#h:/v /mnt/a\\040b nfs defaults 0 0\n" and kinds(actions) == ["fstab"]


@pytest.mark.parametrize("state, mount, expected", [
    ("mounted", None, {"source": "localhost:/gv", "fstype": "fuse.glusterfs"}),
    ("mounted", GLUSTER, {"source": "localhost:/gv", "fstype": "fuse.glusterfs"}),
    ("present", None, None),
    ("unmounted", GLUSTER, None),
    ("absent", GLUSTER, None),
])
def test_check_mode_predicts_what_is_mounted_afterwards(state, mount, expected):
    assert mt.predicted_mount(params(state=state), mount) == expected


class FakeModule:
    """Records commands; answers them from a table {command name: (rc, out, err)}."""

    def __init__(self, answers=None):
        """answers: {command name: (rc, out, err)}; anything else succeeds silently."""
        self.calls, self.answers = [], answers or {}

    @staticmethod
    def get_bin_path(name, required=False):
        """Every tool is in /usr/bin here."""
        assert required
        return "/usr/bin/" + name

    def run_command(self, argv, environ_update=None):
        """Record argv; the table's answer for the command after timeout's arguments."""
        assert environ_update == mt.CLI_ENV
        self.calls.append(argv)
        name = argv[3] if argv[0].endswith("timeout") else argv[0]
        return self.answers.get(name.rsplit("/", 1)[-1], (0, "", ""))

    def backup_local(self, path):
        """Pretend backup."""
        self.calls.append(["backup", path])
        return path + ".bak"

    def atomic_move(self, src, dest):
        """Record the write and drop the temporary file."""
        self.calls.append(["write", dest, Path(src).read_text()])
        Path(src).unlink()

    def fail_json(self, **result):
        """Raise what the module would report."""
        raise RuntimeError(result)


def test_apply_unmounts_before_writing_fstab_then_mounts(tmp_path, monkeypatch):
    fstab = tmp_path / "fstab"
    fstab.write_text(CONVERGED)
    monkeypatch.setattr(mt, "read_mount", lambda _path: GLUSTER)
    monkeypatch.setattr(mt, "systemd_booted", lambda: True)
    module = FakeModule()
    result = mt.apply_actions(module, params(fstab=str(fstab)), [{"action": "remount"},
                                                                 {"action": "fstab"}], "new\n")
    assert [c[:2] if c[0] in ("backup", "write") else c[-3:] if "timeout" in c[0] else c
            for c in module.calls] == [
        ["/usr/bin/umount", "--", "/opt/docker"], ["backup", str(fstab)],
        ["write", str(fstab)], ["/usr/bin/systemctl", "daemon-reload"],
        ["/usr/bin/mount", "--", "/opt/docker"]]
    assert module.calls[0][:3] == ["/usr/bin/timeout", "--kill-after=10", "60"]
    assert result == {"backup_file": str(fstab) + ".bak",
                      "mounted": {"source": "localhost:/gv", "fstype": "fuse.glusterfs"}}


def test_a_busy_mount_point_fails_before_fstab_is_written(monkeypatch):
    monkeypatch.setattr(mt, "read_mount", lambda _path: GLUSTER)
    module = FakeModule({"umount": (32, "", "umount: /opt/docker: target is busy.")})
    with pytest.raises(RuntimeError, match="target is busy; stop what uses /opt/docker.*"
                       "nothing was changed"):
        mt.apply_actions(module, params(), [{"action": "remount"}, {"action": "fstab"}], "x")
    assert len(module.calls) == 1


def test_a_timed_out_mount_is_lazily_unmounted_and_reported(monkeypatch):
    monkeypatch.setattr(mt, "read_mount", lambda _path: GLUSTER)
    module = FakeModule({"mount": (124, "", "")})
    with pytest.raises(RuntimeError, match="timed out after 60s.*umount --lazy"):
        mt.apply_actions(module, params(), [{"action": "mount"}], "x")
    assert module.calls[-1][-4:] == ["/usr/bin/umount", "--lazy", "--", "/opt/docker"]


def test_a_mount_that_shows_something_else_afterwards_fails_with_mounts_words(monkeypatch):
    monkeypatch.setattr(mt, "read_mount", lambda _path: None)
    module = FakeModule({"mount": (0, "", "WARNING: getfattr not found")})
    with pytest.raises(RuntimeError, match="shows None instead of localhost:/gv.*getfattr"):
        mt.apply_actions(module, params(), [{"action": "mount"}], "x")


def test_the_line_a_full_site_run_left_on_a_dev_lab_node_is_kept_as_it_is():
    fstab = (RECORDED / "fstab_node2_converged.txt").read_text()
    mount = {"mount_point": "/opt/docker", "source": "localhost:/dockerdir",
             "fstype": "fuse.glusterfs", "options": "rw"}
    node2 = {"fstab": fstab, "mount": mount, "path_kind": "dir",
             "own": ["swarmops-dev-node2", "10.213.0.12"]}
    assert mt.plan_mount(node2, params(src="localhost:/dockerdir", backup_volfile_servers=[
        "10.213.0.11", "10.213.0.13"])) == ([], fstab)


def test_the_dev_lab_mountinfo_with_docker_running_has_the_fuse_mount_on_top():
    mounts = mt.parse_mountinfo((RECORDED / "mountinfo_glusterfs.txt").read_text())
    assert mt.mounted_at(mounts, "/opt/docker")["fstype"] == "fuse.glusterfs"
    assert mt.mounted_at(mounts, "/")["fstype"] == "overlay"
