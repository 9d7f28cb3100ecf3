# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a restore drill says: each restored snapshot's age, size and restore rate. Pure
functions of restic_restore's registered results, on the controller. Private to this
collection."""

from __future__ import annotations

import datetime

# The tag every snapshot of backup.yml carries; the other one names what it holds.
COMMON_TAG = "swarmops"


def parse_restic_time(text):
    """A timezone-aware datetime of an RFC 3339 time as restic writes it (nanoseconds cut
    to microseconds); a time without a zone is UTC."""
    head, dot, rest = str(text).partition(".")
    if dot:
        digits = rest[:len(rest) - len(rest.lstrip("0123456789"))]
        head = "%s.%s%s" % (head, digits[:6].ljust(6, "0"), rest[len(digits):])
    parsed = datetime.datetime.fromisoformat(head.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)


def hours_since(text, now):
    """Hours from a restic-style time to now."""
    return (now - parse_restic_time(text)).total_seconds() / 3600


def show_time(text):
    """A restic-style time as the report prints it."""
    return parse_restic_time(text).strftime("%Y-%m-%d %H:%M UTC")


def describe_size(count):
    """Bytes as a person reads them (1024-based, one decimal)."""
    size, unit = float(count), "B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            break
        size /= 1024
    return ("%d %s" if unit == "B" else "%.1f %s") % (size, unit)


def describe_drill(result, now):
    """One line of the drill report for one restic_restore result."""
    snapshot, summary = result.get("snapshot") or {}, result.get("summary") or {}
    what = ",".join(t for t in snapshot.get("tags") or [] if t != COMMON_TAG) or "snapshot"
    restored = summary.get("bytes_restored", summary.get("total_bytes"))
    seconds = result.get("seconds") or 0
    line = "%s: snapshot %s of %s (%.1f h old)" % (
        what, snapshot.get("short_id"), show_time(snapshot["time"]),
        hours_since(snapshot["time"], now))
    if restored is None:
        # restic 0.14 (Debian 12) writes no restore summary.
        return line + ", restored and verified in %.1f s" % seconds
    rate = restored / seconds / 1024 / 1024 if seconds else 0
    return line + ", %s restored and verified in %.1f s (%.1f MiB/s)" % (
        describe_size(restored), seconds, rate)


def drill_report(results, now=None):
    """The drill's lines, one per restored snapshot, oldest age first."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return [describe_drill(result, now) for result in results]


def newest(records, key):
    """The record's `key` part (with its host) that is the newest across records."""
    parts = [dict(r[key], host=r["host"]) for r in records
             if isinstance(r.get(key), dict) and r[key].get("time")]
    return max(parts, key=lambda p: parse_restic_time(p["time"]), default=None)


def describe_backup(last_run, last_ok, now):
    """The report's BACKUP line."""
    if last_ok is None:
        ok = "none succeeded yet"
    else:
        ok = "last ok %s on %s (%.1f h ago)" % (
            show_time(last_ok["time"]), last_ok["host"], hours_since(last_ok["time"], now))
    if last_run and last_run.get("result") != "ok":
        ok += "; the last run on %s at %s failed" % (
            last_run["host"], show_time(last_run["time"]))
    return ok


def judge_backup(records, max_age=None, now=None):
    """(summary, problems, warnings) of the backup records every node reported (playbooks/
    backup.yml writes one on the node it ran on): the newest run and the newest success
    across nodes. A failed last run is a problem; so is a last success older than max_age
    hours, or none at all, when max_age is set; no record without max_age is a warning."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    guide = " (docs/operations/backup.md)"
    problems = ["backup: %s: %s" % (r["host"], r["error"]) for r in records if r.get("error")]
    records = [r for r in records if not r.get("error")]
    last_run, last_ok = newest(records, "last_run"), newest(records, "last_ok")
    warnings = []
    if last_run is None:
        (problems if max_age else warnings).append(
            "backup: no run of playbooks/backup.yml recorded on any node" + guide)
        return None, problems, warnings
    summary = {"last_run": last_run, "last_ok": last_ok, "max_age": max_age,
               "line": describe_backup(last_run, last_ok, now)}
    if last_run.get("result") != "ok":
        problems.append("backup: the last run on %s at %s failed: %s - fix it and run "
                        "playbooks/backup.yml%s" % (last_run["host"], last_run["time"],
                                                    last_run.get("error") or "no message",
                                                    guide))
    age = None if last_ok is None else \
        hours_since(last_ok["time"], now)
    summary["age_hours"] = None if age is None else round(age, 2)
    if max_age and (age is None or age > max_age):
        problems.append("backup: %s, over swarmops_backup_max_age (%g h)%s" % (
            "no backup succeeded yet" if age is None else
            "the last successful backup is %.1f h old" % age, float(max_age), guide))
    return summary, problems, warnings
