# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side judgements of files preflight's one read (node_facts) brought back, so a
re-run skips the remote call of a file step that would change nothing.

Each judge answers "in place" only when the module that writes the file would leave it as
it is; anything it cannot tell (the file unread, a marker twice) is "not in place", and the
module, which decides for itself, runs. Private to this collection.
"""

from __future__ import annotations

from ansible_collections.swarmops.cluster.plugins.module_utils._common import with_defaults
from ansible_collections.swarmops.cluster.plugins.module_utils._mount import (
    ARGUMENT_SPEC as MOUNT_SPEC, PlanError, plan_mount)


def block_lines(marker, block, begin="BEGIN", end="END"):
    """The lines ansible.builtin.blockinfile writes for block between its markers."""
    if block and not block.endswith("\n"):
        block += "\n"
    return [marker.replace("{mark}", begin) + "\n"] + block.splitlines(True) + \
        [marker.replace("{mark}", end) + "\n"]


def block_in_place(state, marker, block, mode="0644"):
    """Whether blockinfile (insert at the end, no blank lines added) would change neither
    the file nor its root:root ownership and mode.

    state: node_facts' read of the file ({text, uid, gid, mode}, None when missing).
    blockinfile replaces the lines from the last begin marker to the last end marker; the
    file is in place when those lines are exactly the block's.
    """
    if not state or not block or (state["uid"], state["gid"], state["mode"]) != (0, 0, mode):
        return False
    wanted = block_lines(marker, block)
    lines = state["text"].splitlines(True)
    begins = [i for i, line in enumerate(lines) if line == wanted[0]]
    ends = [i for i, line in enumerate(lines) if line == wanted[-1]]
    if not begins or not ends or begins[-1] > ends[-1]:
        return False
    return lines[begins[-1]:ends[-1] + 1] == wanted


def mount_in_place(path_state, own, params):
    """Whether the mount module, given params, would change neither fstab nor the mount.

    path_state: node_facts' read of the mount point (paths[...]: kind, mount, fstab_lines);
    own: the node's names and addresses (hostname, fqdn, addresses). The module's own
    planner judges, on the path's fstab lines alone: every other line stays as it is
    whatever the plan, so they cannot make it act. A plan the module would refuse is "not
    in place": the module runs and names the fix.
    """
    if not path_state or "fstab_lines" not in path_state:
        return False
    full = with_defaults(MOUNT_SPEC, params)
    full["path"] = full["path"].rstrip("/") or "/"
    current = {"fstab": "".join(path_state["fstab_lines"]), "mount": path_state["mount"],
               "path_kind": path_state["kind"],
               "own": list(own) if full["fstype"] == "glusterfs" else []}
    try:
        actions, _text = plan_mount(current, full)
    except PlanError:
        return False
    return not actions


def octal_mode(mode):
    """A file module mode as a number: an int as it is, a string of octal digits as octal;
    None for a symbolic mode (u=rwx), which only the module can judge."""
    if isinstance(mode, int):
        return mode
    text = str(mode)
    return int(text, 8) if text.isdigit() and set(text) <= set("01234567") else None


def dirs_in_place(stats, base, entries, gid):
    """Whether ansible.builtin.file (state directory, owner root, group gid) would change
    none of base and its subdirectories, judged on node_facts' bounded stat of them.

    entries: [{name, mode}], name '' for base itself. stats None (stat did not answer in
    time), a directory missing or not read, or a symbolic mode: not in place.
    """
    if not stats or gid is None:
        return False
    for entry in entries:
        path = base + ("/" + entry["name"] if entry["name"] else "")
        now, mode = stats.get(path), octal_mode(entry["mode"])
        if not now or now["kind"] != "directory" or mode is None or \
                (now["uid"], now["gid"], int(now["mode"], 8)) != (0, int(gid), mode):
            return False
    return True
