# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One group's GID made equal to a target: plan, move a group in the way, re-own files.

``parse_*`` and ``plan_gid`` are pure, so unit tests feed them /etc/group and
/etc/login.defs recorded on lab nodes. Private to this collection.
"""

from __future__ import annotations

import os
import re
import stat

NAME_RE = re.compile(r"^[a-z_][a-z0-9_-]*\$?$")
MAX_GID = 2 ** 31 - 2
# Never a target: the overflow GIDs of NFS and user namespaces.
RESERVED = {65534: "nogroup / the overflow GID", 65535: "the invalid 16-bit GID"}


class PlanError(Exception):
    """The request cannot be planned; nothing was changed."""


def parse_groups(text):
    """{name: [gid, ...]} of /etc/group: a name listed twice keeps both entries."""
    groups = {}
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) == 4 and fields[2].isdigit():
            groups.setdefault(fields[0], []).append(int(fields[2]))
        elif line.strip():
            groups.setdefault(fields[0], []).append(None)
    return groups


def parse_login_defs(text):
    """The GID ranges of /etc/login.defs (groupadd's defaults where it is silent)."""
    ranges = {"SYS_GID_MIN": 100, "SYS_GID_MAX": 999, "GID_MIN": 1000, "GID_MAX": 60000}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] in ranges and fields[1].isdigit():
            ranges[fields[0]] = int(fields[1])
    return ranges


def free_gid(groups, ranges, near):
    """The highest GID no group holds, in the range (system or regular) that near lies in."""
    used = {g for gids in groups.values() for g in gids if g is not None}
    low, high = (ranges["SYS_GID_MIN"], ranges["SYS_GID_MAX"]) \
        if near <= ranges["SYS_GID_MAX"] else (ranges["GID_MIN"], ranges["GID_MAX"])
    for gid in range(high, low - 1, -1):
        if gid not in used:
            return gid
    raise PlanError("no free GID between %d and %d to move a group to - nothing was "
                    "changed" % (low, high))


def check_request(name, gid, groups):
    """A valid name and target, and one readable /etc/group entry for the group."""
    problems = []
    if not NAME_RE.match(name or ""):
        problems.append("%r is not a valid group name" % name)
    if not 1 <= gid <= MAX_GID or gid in RESERVED:
        problems.append("GID %d cannot be a group's GID (%s)" % (
            gid, RESERVED.get(gid, "outside 1..%d" % MAX_GID)))
    entries = groups.get(name) or []
    if len(entries) > 1 or None in entries:
        problems.append("/etc/group has %s for group %s; fix it with vigr first" % (
            "%d entries" % len(entries) if len(entries) > 1 else "a malformed entry", name))
    if problems:
        raise PlanError("%s - nothing was changed" % "; ".join(problems))


def plan_gid(groups, ranges, desired):
    """[{action, ...}] that give the group its GID (pure).

    desired: name, gid, create, move_conflicting.
    """
    name, gid = desired["name"], desired["gid"]
    check_request(name, gid, groups)
    current = (groups.get(name) or [None])[0]
    if current == gid:
        return []
    holders = sorted(n for n, gids in groups.items() if gid in gids and n != name)
    actions = []
    if holders and not desired["move_conflicting"]:
        raise PlanError("GID %d belongs to group %s on this node; set move_conflicting=true "
                        "to move it to a free GID (its files follow), or choose another GID "
                        "- nothing was changed" % (gid, ", ".join(holders)))
    for holder in holders:
        to = free_gid(groups, ranges, gid)
        actions.append({"action": "move", "group": holder, "from": gid, "to": to})
        groups = dict(groups, **{holder: [to]})
    if current is None:
        if not desired["create"]:
            raise PlanError("group %s does not exist and create=false - nothing was changed"
                            % name)
        actions.append({"action": "create", "group": name, "gid": gid,
                        "system": gid <= ranges["SYS_GID_MAX"]})
    else:
        actions.append({"action": "set_gid", "group": name, "from": current, "to": gid})
    return actions


def collect_files(paths, gids):
    """{gid: [path, ...]} of files under paths whose group is one of gids.

    Symlinks are not followed (their own group counts: lchown); the walk stays on each
    root's filesystem, so a network mount below (the shared volume) is never walked.
    Returns (found, missing roots).
    """
    found, missing = {gid: [] for gid in gids}, []
    for root in paths:
        try:
            root_dev = os.lstat(root).st_dev
        except FileNotFoundError:
            missing.append(root)
            continue
        for path in walk_one_filesystem(root, root_dev):
            gid = os.lstat(path).st_gid
            if gid in found:
                found[gid].append(path)
    return found, missing


def walk_one_filesystem(root, root_dev):
    """root and every path below it on the same filesystem, symlinks not followed."""
    yield root
    if not stat.S_ISDIR(os.lstat(root).st_mode):
        return
    for dirpath, dirnames, filenames in os.walk(root):
        keep = []
        for dirname in dirnames:
            full = os.path.join(dirpath, dirname)
            info = os.lstat(full)
            if info.st_dev == root_dev:
                yield full
                if not stat.S_ISLNK(info.st_mode):
                    keep.append(dirname)
        dirnames[:] = keep
        for filename in filenames:
            yield os.path.join(dirpath, filename)


def reown(files, gid):
    """lchown each file to gid (owner kept)."""
    for path in files:
        os.lchown(path, -1, gid)
