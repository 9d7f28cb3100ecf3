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
    """A timezone-aware datetime of restic's RFC 3339 time (nanoseconds cut to micro)."""
    head, _dot, rest = text.partition(".")
    if not _dot:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    digits = rest[:len(rest) - len(rest.lstrip("0123456789"))]
    zone = rest[len(digits):].replace("Z", "+00:00") or "+00:00"
    return datetime.datetime.fromisoformat("%s.%s%s" % (head, digits[:6].ljust(6, "0"), zone))


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
    taken = parse_restic_time(snapshot["time"])
    hours = (now - taken).total_seconds() / 3600
    restored = summary.get("bytes_restored", summary.get("total_bytes"))
    seconds = result.get("seconds") or 0
    line = "%s: snapshot %s of %s (%.1f h old)" % (
        what, snapshot.get("short_id"), taken.strftime("%Y-%m-%d %H:%M UTC"), hours)
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
