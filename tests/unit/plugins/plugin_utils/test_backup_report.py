"""The restore drill's report, from restic_restore results built on restic 0.18's recorded
snapshot list and restore summary (tests/unit/fixtures/restic)."""

import datetime
import json
from pathlib import Path

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
