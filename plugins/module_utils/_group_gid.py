# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One group's GID made equal to a target: plan, move a group in the way, re-own files.

``parse_*``, ``plan_gid`` and ``plan_reown`` are pure, so unit tests feed them /etc/group
and /etc/login.defs recorded on lab nodes; the walk is tested on a temporary tree.
Private to this collection.
"""

from __future__ import annotations

import os
import re
import stat

from ansible_collections.swarmops.cluster.plugins.module_utils._common import PlanError

# Debian's shadow accepts more than upstream's default (Debian-exim exists), but never a
# leading '-', ':', ',', '/', whitespace or an all-digit name; 32 is useradd's limit.
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,30}\$?$")
MAX_GID = 2 ** 31 - 2
# Never a target: the overflow GIDs of NFS and user namespaces.
RESERVED = {65534: "nogroup, the overflow GID", 65535: "the invalid 16-bit GID"}
# Files on these are owned by what the server says, and a dead server hangs the walk.
NETWORK_FS = ("fuse", "nfs", "nfs4", "cifs", "smb3", "glusterfs", "ceph", "9p", "afs")
# Disk filesystems a moved system group's files may lie on besides the root (a separate
# /var or /home): its GID now names another group, so every file of it must follow.
LOCAL_FS = ("ext2", "ext3", "ext4", "xfs", "btrfs", "zfs", "f2fs", "jfs", "reiserfs")
LOGIN_DEFS_DEFAULTS = {"SYS_GID_MIN": 100, "SYS_GID_MAX": 999, "GID_MIN": 1000,
                       "GID_MAX": 60000}


def parse_groups(text):
    """{name: [gid, ...]} of /etc/group; a name listed twice keeps both entries, and a
    malformed line counts as a None GID for its name (refused only for the group asked)."""
    groups = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = line.split(":")
        gid = int(fields[2]) if len(fields) == 4 and fields[2].isdigit() else None
        groups.setdefault(fields[0], []).append(gid)
    return groups


def parse_login_defs(text):
    """The GID ranges of /etc/login.defs (groupadd's built-in defaults where it is silent)."""
    ranges = dict(LOGIN_DEFS_DEFAULTS)
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] in ranges and fields[1].isdigit():
            ranges[fields[0]] = int(fields[1])
    return ranges


def free_gid(groups, ranges, near):
    """The highest GID no group holds, in the range (system or regular) that near lies in -
    the way ``groupadd --system`` picks one."""
    used = {g for gids in groups.values() for g in gids if g is not None}
    low, high = (ranges["SYS_GID_MIN"], ranges["SYS_GID_MAX"]) \
        if near < ranges["GID_MIN"] else (ranges["GID_MIN"], ranges["GID_MAX"])
    for gid in range(high, low - 1, -1):
        if gid not in used:
            return gid
    raise PlanError("no free GID between %d and %d (/etc/login.defs) to move a group to; "
                    "widen the range or choose another gid - nothing was changed" % (low, high))


def check_request(name, gid, groups):
    """A valid name and target, and one readable /etc/group entry for the group."""
    problems = []
    if not NAME_RE.match(name or "") or name.isdigit():
        problems.append("%r is not a valid group name" % name)
    if not 1 <= gid <= MAX_GID or gid in RESERVED:
        problems.append("GID %d cannot be a group's GID (%s); choose another gid" % (
            gid, RESERVED.get(gid, "outside 1..%d" % MAX_GID)))
    entries = groups.get(name) or []
    if len(entries) > 1 or None in entries:
        problems.append("/etc/group has %s for group %s; fix it with vigr first" % (
            "%d entries" % len(entries) if len(entries) > 1 else "a malformed entry", name))
    if problems:
        raise PlanError("%s - nothing was changed" % "; ".join(problems))


def plan_moves(groups, ranges, desired):
    """Move actions for the groups holding the target GID, or a refusal naming them."""
    gid = desired["gid"]
    holders = sorted(n for n, gids in groups.items() if gid in gids and n != desired["name"])
    if holders and not desired["move_conflicting"]:
        raise PlanError("GID %d belongs to group %s on this node; set move_conflicting=true "
                        "to move it to a free GID (its files under reown_paths follow), or "
                        "choose another gid - nothing was changed" % (gid, ", ".join(holders)))
    actions = []
    for holder in holders:
        new = free_gid(groups, ranges, gid)
        actions.append({"action": "move", "group": holder, "from": gid, "to": new})
        groups = dict(groups, **{holder: [new]})
    return actions


def plan_gid(groups, ranges, desired):
    """[{action, ...}] that give the group its GID (pure): moves first, since groupmod and
    groupadd refuse a GID another group holds.

    desired: name, gid, create, move_conflicting.
    """
    name, gid = desired["name"], desired["gid"]
    check_request(name, gid, groups)
    current = (groups.get(name) or [None])[0]
    if current == gid:
        return []
    if current is None and not desired["create"]:
        raise PlanError("group %s does not exist and create=false; set create=true or "
                        "create it first - nothing was changed" % name)
    actions = plan_moves(groups, ranges, desired)
    if current is None:
        actions.append({"action": "create", "group": name, "gid": gid,
                        "system": gid < ranges["GID_MIN"]})
    else:
        actions.append({"action": "set_gid", "group": name, "from": current, "to": gid})
    return actions


def gids_to_collect(actions):
    """The GIDs whose files follow a change: a changed group's old one, a moved group's."""
    return [a["from"] for a in actions if a["action"] in ("move", "set_gid")]


def plan_reown(actions, found):
    """Reown actions with counts for the files found (pure); none where nothing matched."""
    return [{"action": "reown", "group": a["group"], "from": a["from"], "to": a["to"],
             "count": len(found.get(a["from"], []))}
            for a in actions if a["action"] in ("move", "set_gid") and found.get(a["from"])]


def moved_group_roots(mounts, paths):
    """Where a moved group's files are looked for (pure): the root, every disk filesystem
    and the given paths. Not only reown_paths: the moved group's old GID becomes the
    target group's, so a file of it left anywhere (a setuid helper of dbus, say) would
    silently change hands."""
    disks = sorted(m["mount_point"] for m in mounts if m["fstype"] in LOCAL_FS)
    return list(dict.fromkeys(["/"] + disks + list(paths)))


def merge_found(found, more):
    """found with more's paths added per GID, each path once (roots may nest)."""
    merged = {gid: list(dict.fromkeys(paths)) for gid, paths in found.items()}
    for gid, paths in more.items():
        merged[gid] = list(dict.fromkeys(merged.get(gid, []) + paths))
    return merged


def parse_proc_gids(text):
    """The GIDs a process runs with, from /proc/PID/status (real, effective, saved, fs and
    the supplementary groups)."""
    gids = set()
    for line in text.splitlines():
        key, value = line.split(":", 1) if ":" in line else (line, "")
        if key in ("Gid", "Groups"):
            gids.update(int(field) for field in value.split())
    return gids


def processes_with_gid(gid, proc="/proc"):
    """[(pid, command)] of the processes running with gid, read from proc."""
    found = []
    for pid in sorted((p for p in os.listdir(proc) if p.isdigit()), key=int):
        try:
            with open(os.path.join(proc, pid, "status"), encoding="utf-8") as handle:
                text = handle.read()
        except OSError:  # the process ended while we looked
            continue
        if gid in parse_proc_gids(text):
            name = re.search(r"^Name:\s*(.*)$", text, re.M)
            found.append((int(pid), name.group(1) if name else "?"))
    return found


def mount_points(mounts):
    """{mount point: fstype} of parsed mountinfo (the last mount at a point is on top)."""
    return {m["mount_point"]: m["fstype"] for m in mounts}


def is_network_fs(fstype):
    """A FUSE or network filesystem: its files are the server's business."""
    return fstype.split(".")[0] in NETWORK_FS


def filesystem_of(points, path):
    """The fstype of the mount that path lies on (longest mount point above it)."""
    best = max((p for p in points if path == p or path.startswith(p.rstrip("/") + "/")),
               key=len, default="/")
    return points.get(best, "")


def collect_files(paths, gids, mounts):
    """Files under paths whose group is one of gids, found before anything changes.

    Symlinks are not followed (their own group counts: lchown); the walk stays on each
    root's filesystem and a root on a FUSE or network mount is skipped. Without gids
    (nothing changes) roots are only checked for existence.
    Returns {"found": {gid: [path, ...]}, "missing": [...], "skipped": [...]}.
    """
    result = {"found": {gid: [] for gid in gids}, "missing": [], "skipped": []}
    points = mount_points(mounts)
    for given in paths:
        root = resolve_root(given)
        if not os.path.lexists(root):
            result["missing"].append(given)
        elif is_network_fs(filesystem_of(points, root)):
            result["skipped"].append(given)
        elif gids:
            add_matches(result["found"], walk_one_filesystem(root, points))
    return result


def resolve_root(path):
    """path with its directories resolved, as mountinfo names them; the last component
    stays as it is, so a symlink given as a root is re-owned itself, not its target."""
    path = path.rstrip("/") or "/"
    if path == "/":
        return path
    return os.path.join(os.path.realpath(os.path.dirname(path) or "."),
                        os.path.basename(path))


def add_matches(found, paths):
    """Append each path whose group is a key of found (vanished paths are passed over)."""
    for path in paths:
        try:
            gid = os.lstat(path).st_gid
        except FileNotFoundError:
            continue
        if gid in found:
            found[gid].append(path)


def walk_one_filesystem(root, points):
    """root and every path below it on root's filesystem, symlinks not followed.

    Mount points are pruned by name before they are touched (lstat on a dead FUSE
    mount hangs or fails); st_dev catches what mountinfo does not list.
    """
    yield root
    info = os.lstat(root)
    if not stat.S_ISDIR(info.st_mode):
        return
    for dirpath, dirnames, filenames in os.walk(root):
        entries = [(n, True) for n in dirnames] + [(n, False) for n in filenames]
        keep = []
        for entry, is_dir in entries:
            full = os.path.join(dirpath, entry)
            if not same_filesystem(full, points, info.st_dev):
                continue
            yield full
            if is_dir:
                keep.append(entry)
        dirnames[:] = keep


def same_filesystem(path, points, root_dev):
    """Path is no mount point and lies on the root's device; vanished paths are not."""
    if path in points:
        return False
    try:
        return os.lstat(path).st_dev == root_dev
    except FileNotFoundError:
        return False


def reown(files, gid):
    """lchown each file to gid (owner kept); the number re-owned (vanished ones left out)."""
    count = 0
    for path in files:
        try:
            os.lchown(path, -1, gid)
        except FileNotFoundError:
            continue
        count += 1
    return count
