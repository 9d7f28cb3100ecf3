"""The restore drill's report, from restic_restore results built on restic 0.18's recorded
snapshot list and restore summary (tests/unit/fixtures/restic)."""

import datetime
import json
from pathlib import Path

from ansible_collections.swarmops.cluster.plugins.module_utils import _health as hl
from ansible_collections.swarmops.cluster.plugins.module_utils import _restic as rs
from ansible_collections.swarmops.cluster.plugins.plugin_utils import _backup_report as br

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "restic"
SNAPSHOTS = json.loads((FIXTURES / "snapshots.json").read_text())
RESTORED = rs.parse_json_lines((FIXTURES / "restore.json").read_text(), "summary")


def result(snapshot, summary, seconds):
    """What restic_restore registers."""
    return {"snapshot": rs.summarize_snapshot(snapshot), "summary": summary,
            "seconds": seconds}


def test_restics_nanosecond_times_are_read_to_the_microsecond():
    taken = br.parse_restic_time("2026-12-07T17:30:30.301469997Z")
    assert taken == datetime.datetime(2026, 12, 7, 17, 30, 30, 301469,
                                      tzinfo=datetime.timezone.utc)
    assert br.parse_restic_time("2026-12-07T18:30:30.5+01:00") == taken.replace(
        microsecond=500000)
    assert br.parse_restic_time("2026-12-07T17:30:30Z").second == 30


def test_each_snapshot_gets_its_age_size_and_rate():
    snapshot = SNAPSHOTS[-1]
    now = br.parse_restic_time(snapshot["time"]) + datetime.timedelta(hours=5, minutes=6)
    big = dict(RESTORED, total_bytes=3 * 1024 ** 3, bytes_restored=3 * 1024 ** 3)
    lines = br.drill_report([result(snapshot, RESTORED, 0.5), result(snapshot, big, 30.0)],
                            now)
    what = ",".join(t for t in snapshot["tags"] if t != "swarmops")
    assert lines[0] == "%s: snapshot %s of %s (5.1 h old), 4 B restored and verified in 0.5 s " \
        "(0.0 MiB/s)" % (what, snapshot["short_id"],
                         br.parse_restic_time(snapshot["time"]).strftime("%Y-%m-%d %H:%M UTC"))
    assert lines[1].endswith("3.0 GiB restored and verified in 30.0 s (102.4 MiB/s)")


def test_a_restic_without_a_restore_summary_still_reports_time_and_age():
    snapshot = SNAPSHOTS[0]
    line = br.drill_report([result(snapshot, {}, 2.0)],
                           br.parse_restic_time(snapshot["time"]))[0]
    assert line.endswith("(0.0 h old), restored and verified in 2.0 s")


# The last backup in the health report: the records backup.yml writes on the node it ran on

NOW = br.parse_restic_time("2026-12-07T20:00:00Z")


def record(host, run_time, result="ok", ok_time=None, error=None):
    """A node's record as backup.yml writes it, as cluster_health returns it."""
    snapshots = {"swarm-state": "1a2b3c4d", "dockerdir": "5e6f7a8b"}
    ok_time = run_time if result == "ok" else ok_time
    return {"host": host,
            "last_run": {"time": run_time, "result": result, "error": error,
                         "snapshots": snapshots if result == "ok" else None},
            "last_ok": {"time": ok_time, "snapshots": snapshots} if ok_time else None}


def test_the_newest_record_of_any_node_is_the_last_backup():
    # The backup node moved from node2 to node3 (default: any manager but the leader).
    records = [record("node2", "2026-12-06T03:00:00Z"), record("node3", "2026-12-07T03:00:00Z")]
    summary, problems, warnings = br.judge_backup(records, None, NOW)
    assert (problems, warnings) == ([], [])
    assert summary["last_ok"]["host"] == "node3" and summary["age_hours"] == 17.0
    assert summary["line"] == "last ok 2026-12-07 03:00 UTC on node3 (17.0 h ago)"
    assert br.judge_backup(records, 26, NOW)[1] == []
    assert br.judge_backup(records, 12, NOW)[1] == [
        "backup: the last successful backup is 17.0 h old, over swarmops_backup_max_age "
        "(12 h) (docs/operations/backup.md)"]


def test_a_failed_last_run_is_a_problem_and_the_last_success_keeps_its_age():
    records = [record("node2", "2026-12-07T19:00:00Z", "failed", "2026-12-06T19:00:00Z",
                      "restic backup failed (rc=1): unable to open repository")]
    summary, problems, _warnings = br.judge_backup(records, 48, NOW)
    assert problems == [
        "backup: the last run on node2 at 2026-12-07T19:00:00Z failed: restic backup failed "
        "(rc=1): unable to open repository - fix it and run playbooks/backup.yml "
        "(docs/operations/backup.md)"]
    assert summary["age_hours"] == 25.0
    assert summary["line"].endswith("(25.0 h ago); the last run on node2 at 2026-12-07 19:00 "
                                    "UTC failed")


def test_no_record_warns_and_fails_only_against_a_max_age():
    assert br.judge_backup([], None, NOW) == (None, [], [
        "backup: no run of playbooks/backup.yml recorded on any node "
        "(docs/operations/backup.md)"])
    assert br.judge_backup([], 26, NOW)[1:] == ([
        "backup: no run of playbooks/backup.yml recorded on any node "
        "(docs/operations/backup.md)"], [])
    # Only failures so far: no success to take an age from.
    failed = [record("node2", "2026-12-07T19:00:00Z", "failed", None, "boom")]
    assert br.judge_backup(failed, 26, NOW)[1][-1].startswith(
        "backup: no backup succeeded yet, over swarmops_backup_max_age (26 h)")


def test_a_record_that_does_not_parse_is_named(tmp_path):
    path = tmp_path / "last.json"
    assert hl.read_backup_record(str(path), "node2") is None
    path.write_text("{not json")
    broken = hl.read_backup_record(str(path), "node2")
    assert broken["host"] == "node2" and "does not parse" in broken["error"]
    path.write_text(json.dumps(record("x", "2026-12-07T03:00:00Z")))
    assert hl.read_backup_record(str(path), "node2")["host"] == "node2"
    assert br.judge_backup([broken], None, NOW)[1][0].startswith("backup: node2: ")
