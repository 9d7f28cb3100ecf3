"""restic: the runner, its JSON answers and the backup/restore plans.

On answers recorded from restic 0.18 (Debian 13's; tests/unit/fixtures/restic), and against
the real restic binary (`make oracles` unpacks Debian 13's into .cache/restic; the tests
that need it skip without it): a repository made, backed up into, pruned, checked and
restored from through the module's own functions, the password only ever on stdin.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ansible_collections.swarmops.cluster.plugins.module_utils import _restic as rs
from ansible_collections.swarmops.cluster.plugins.module_utils._common import PlanError

ROOT = Path(__file__).resolve().parents[4]
FIXTURES = ROOT / "tests" / "unit" / "fixtures" / "restic"
RESTIC = next((p for p in (ROOT / ".cache/restic/usr/bin/restic", shutil.which("restic"))
               if p and Path(p).is_file()), None)
PASSWORD = "correct horse battery staple"
PARAMS = {"paths": ["/opt/docker"], "tags": ["dockerdir"], "host": "swarmops", "keep": {},
          "check": True, "stop_engine": False}


def fixture(name):
    return (FIXTURES / name).read_text()


class Recorded:
    """What run_restic uses of AnsibleModule, answering one recorded (rc, stdout, stderr)."""

    def __init__(self, rc=0, out="", err=""):
        self.answer, self.calls = (rc, out, err), []

    @staticmethod
    def get_bin_path(name):
        return "/usr/bin/" + name

    def run_command(self, argv, data=None, environ_update=None, binary_data=False):
        self.calls.append({"argv": argv, "data": data, "env": environ_update})
        return self.answer


class Real(Recorded):
    """The real restic binary, run as AnsibleModule.run_command runs it (its cache in the
    test's own directory)."""

    def __init__(self, cache):
        super().__init__()
        self.cache = str(cache)

    @staticmethod
    def get_bin_path(name):
        return str(RESTIC)

    def run_command(self, argv, data=None, environ_update=None, binary_data=False):
        self.calls.append({"argv": argv, "data": data, "env": environ_update})
        proc = subprocess.run(argv, input=data, capture_output=True, text=True, check=False,
                              env=dict(os.environ, RESTIC_CACHE_DIR=self.cache,
                                       **environ_update))
        return proc.returncode, proc.stdout, proc.stderr


# The recorded answers

def test_the_backup_summary_names_the_snapshot():
    summary = rs.parse_json_lines(fixture("backup.jsonl"), "summary")
    assert len(summary["snapshot_id"]) == 64 and summary["files_new"] == 2


def test_forget_with_prune_parses_past_prunes_words():
    groups = rs.parse_first_json(fixture("forget.json"))
    assert [s["short_id"] for s in groups[0]["remove"]] == ["1988e959"]
    assert [s["short_id"] for s in groups[0]["keep"]] == ["bc71da6a"]


@pytest.mark.parametrize("rc, stderr, exists", [
    (0, "", True),
    (rs.NO_REPOSITORY, fixture("no-repository.stderr"), False),
])
def test_a_missing_repository_is_told_apart(rc, stderr, exists):
    assert rs.repository_exists(Recorded(rc, "", stderr), "/srv/r", PASSWORD) is exists


def test_a_wrong_password_names_the_setting():
    with pytest.raises(rs.ResticError, match="swarmops_backup_password"):
        rs.repository_exists(Recorded(rs.WRONG_PASSWORD, "", fixture("wrong-password.stderr")),
                             "/srv/r", PASSWORD)


def test_the_password_goes_on_stdin_only():
    module = Recorded()
    rs.run_restic(module, "/srv/r", PASSWORD, rs.backup_args(PARAMS))
    call = module.calls[0]
    assert call["data"] == PASSWORD and PASSWORD not in " ".join(call["argv"])
    assert PASSWORD not in json.dumps(call["env"]) and call["env"]["LANG"] == "C"
    assert call["argv"][-2:] == ["--", "/opt/docker"]


# The plans

def test_a_backup_with_the_engine_stopped_starts_it_again_before_forget_and_check():
    current = {"initialized": False, "engine": {"state": "active"}}
    actions = rs.plan_backup(current, dict(PARAMS, stop_engine=True, keep={"daily": 7}))
    assert [a["action"] for a in actions] == ["init", "stop-engine", "backup", "start-engine",
                                              "forget", "check"]


@pytest.mark.parametrize("params, fragment", [
    (dict(PARAMS, paths=[]), "at least one path"),
    (dict(PARAMS, keep={"daily": 0}), "keeps nothing"),
])
def test_a_backup_that_would_lose_snapshots_or_do_nothing_is_refused(params, fragment):
    with pytest.raises(PlanError, match=fragment):
        rs.plan_backup({"initialized": True, "engine": None}, params)


def test_forget_keeps_per_host_and_tags_and_refuses_unknown_keys():
    args = rs.forget_args({"daily": 7, "monthly": 6}, ["dockerdir"], "swarmops")
    assert args == ["forget", "--group-by=host,tags", "--prune", "--keep-daily=7",
                    "--keep-monthly=6", "--tag=dockerdir", "--host=swarmops"]
    with pytest.raises(PlanError, match="unknown keys dayly"):
        rs.forget_args({"dayly": 7}, [], None)


def test_latest_is_the_newest_with_every_tag():
    snapshots = rs.parse_first_json(fixture("snapshots.json"))
    assert rs.choose_snapshot(snapshots, "latest", ["dockerdir"], "swarmops")["short_id"] \
        == "bc71da6a"
    assert rs.choose_snapshot(snapshots, "1988e959", [], None)["short_id"] == "1988e959"
    with pytest.raises(PlanError, match="no snapshot with tags swarm-state"):
        rs.choose_snapshot(snapshots, "latest", ["swarm-state"], None)
    with pytest.raises(PlanError, match="not found"):
        rs.choose_snapshot(snapshots, "ffff", [], None)


def test_a_restore_outside_the_snapshots_paths_is_refused():
    snapshots = rs.parse_first_json(fixture("snapshots.json"))
    params = {"snapshot": "latest", "tags": [], "host": None, "delete": False}
    _snap, actions = rs.plan_restore(snapshots, dict(params,
                                                     include=["/tmp/REC/opt/docker/config"]))
    assert actions[0]["include"] == ["/tmp/REC/opt/docker/config"]
    with pytest.raises(PlanError, match="not /etc"):
        rs.plan_restore(snapshots, dict(params, include=["/etc"]))


# The real restic

@pytest.mark.skipif(RESTIC is None, reason="no restic binary: `make oracles` unpacks one")
def test_backup_forget_check_and_restore_with_the_real_restic(tmp_path):
    module, repo = Real(tmp_path / "cache"), str(tmp_path / "repo")
    data = tmp_path / "opt" / "docker"
    (data / "config").mkdir(parents=True)
    (data / "config" / "a.yml").write_text("first\n")
    params = dict(PARAMS, paths=[str(data)], keep={"last": 1})
    assert rs.repository_exists(module, repo, PASSWORD) is False
    rs.run_restic(module, repo, PASSWORD, ["init"])
    assert rs.repository_exists(module, repo, PASSWORD) is True
    first = rs.parse_json_lines(rs.run_restic(module, repo, PASSWORD,
                                              rs.backup_args(params))[1], "summary")
    (data / "config" / "a.yml").write_text("second\n")
    rs.run_restic(module, repo, PASSWORD, rs.backup_args(params))
    out = rs.run_restic(module, repo, PASSWORD, rs.forget_args({"last": 1}, ["dockerdir"],
                                                               "swarmops"))[1]
    assert [s["id"] for s in rs.parse_first_json(out)[0]["remove"]] == [first["snapshot_id"]]
    rs.run_restic(module, repo, PASSWORD, ["check"])
    (data / "config" / "a.yml").write_text("ransomware\n")
    snapshot, _actions = rs.plan_restore(rs.read_snapshots(module, repo, PASSWORD), {
        "snapshot": "latest", "tags": ["dockerdir"], "host": "swarmops", "delete": False,
        "include": [str(data / "config")]})
    rs.run_restic(module, repo, PASSWORD, rs.restore_args(snapshot["id"], {
        "include": [str(data / "config")], "delete": False}))
    assert (data / "config" / "a.yml").read_text() == "second\n"
    assert all(PASSWORD not in " ".join(c["argv"]) for c in module.calls)
    with pytest.raises(rs.ResticError, match="wrong password"):
        rs.repository_exists(module, repo, "not the password")


# A restore drill: a copy elsewhere, verified

def test_a_drill_restores_under_its_target_and_verifies():
    args = rs.restore_args("abc", {"include": ["/opt/docker"], "delete": False,
                                   "target": "/var/tmp/drill", "verify": True})
    assert args == ["restore", "abc", "--target=/var/tmp/drill", "--include=/opt/docker",
                    "--verify"]
    # In place, unverified, as before.
    assert rs.restore_args("abc", {"include": ["/opt/docker"], "delete": True})[2:] == [
        "--target=/", "--include=/opt/docker", "--delete"]


def test_a_verified_restore_is_judged_on_its_bytes():
    summary = rs.parse_json_lines(fixture("restore.json"), "summary")
    snapshot = {"paths": ["/opt/docker"], "summary": {"total_bytes_processed": 4}}
    assert rs.restore_problems(snapshot, ["/opt/docker"], summary) == []
    # Part of it: the snapshot's total is not the restore's, and is not compared.
    assert rs.restore_problems(snapshot, ["/opt/docker/config"],
                               dict(summary, total_bytes=3, bytes_restored=3)) == []
    assert rs.restore_problems(snapshot, ["/opt/docker"], dict(summary, bytes_restored=1)) \
        == ["1 of 4 bytes restored"]
    assert rs.restore_problems(dict(snapshot, summary={"total_bytes_processed": 9}),
                               ["/opt/docker"], summary) \
        == ["the snapshot holds 4 bytes, the backup read 9"]
    # restic 0.14 (Debian 12) writes no restore summary: nothing to judge beyond its rc.
    assert rs.restore_problems(snapshot, ["/opt/docker"], {}) == []


@pytest.mark.skipif(RESTIC is None, reason="no restic binary: `make oracles` unpacks one")
def test_a_drill_with_the_real_restic_verifies_and_catches_a_damaged_pack(tmp_path):
    module, repo = Real(tmp_path / "cache"), str(tmp_path / "repo")
    data = tmp_path / "opt" / "docker"
    (data / "services").mkdir(parents=True)
    (data / "services" / "db.bin").write_bytes(os.urandom(200_000))
    (data / "services" / "small.txt").write_text("small\n")
    rs.run_restic(module, repo, PASSWORD, ["init"])
    rs.run_restic(module, repo, PASSWORD, rs.backup_args(dict(PARAMS, paths=[str(data)])))
    snapshot, _actions = rs.plan_restore(rs.read_snapshots(module, repo, PASSWORD), {
        "snapshot": "latest", "tags": ["dockerdir"], "host": "swarmops", "delete": False,
        "include": [str(data)]})
    params = {"include": [str(data)], "delete": False, "verify": True,
              "target": str(tmp_path / "drill")}
    out = rs.run_restic(module, repo, PASSWORD, rs.restore_args(snapshot["id"], params))[1]
    assert rs.restore_problems(snapshot, [str(data)], rs.parse_json_lines(out, "summary")) == []
    copy = tmp_path / "drill" / str(data).lstrip("/") / "services" / "db.bin"
    assert copy.read_bytes() == (data / "services" / "db.bin").read_bytes()
    # One flipped byte in the largest pack: the verified restore fails and says why.
    pack = max((tmp_path / "repo" / "data").glob("*/*"), key=lambda p: p.stat().st_size)
    pack.chmod(0o600)
    damaged = bytearray(pack.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    pack.write_bytes(bytes(damaged))
    with pytest.raises(rs.ResticError, match="restore failed.*verification failed"):
        rs.run_restic(module, repo, PASSWORD, rs.restore_args(
            snapshot["id"], dict(params, target=str(tmp_path / "drill2"))))
