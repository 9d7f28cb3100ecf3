# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The directories and files a stack needs under DOCKERDIR, in the stack module's call.

DOCKERDIR is the shared volume: every node sees the same tree, so the manager that deploys
the stack makes them, in the same call that reads and compares the stack (a re-run then
makes one remote call per stack, not three). Directories get their mode and group; files
are created once with their content and then left to the service (Traefik writes its
certificates into acme.json). Private to this collection.
"""

from __future__ import annotations

import grp
import os
import stat

from ansible_collections.swarmops.cluster.plugins.module_utils._common import SwarmopsError


class FilesError(SwarmopsError):
    """A path the stack asks for that cannot be made; the message names the fix."""


def resolve(root, rel):
    """ROOT/REL, refusing absolute paths, anything that leaves ROOT, and a symlink on the
    way: DOCKERDIR is writable by the services, and a link planted there would have root
    make, chown or chmod a path outside it."""
    if not rel or os.path.isabs(rel) or ".." in rel.split("/"):
        raise FilesError("%r must be a relative path under %s without '..'" % (rel, root))
    path = root
    for part in [p for p in rel.split("/") if p]:
        path = os.path.join(path, part)
        if os.path.islink(path):
            raise FilesError("%s is a symlink; a stack's directories and files are made "
                             "inside DOCKERDIR only, never through a link - remove it"
                             % path)
    return os.path.join(root, rel)


def group_id(name):
    """The GID of group NAME on this host."""
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError as err:
        raise FilesError("group %s does not exist on this host" % name) from err


def plan_files(root, directories, files, group):
    """Actions that make the directories (mode, group) and the missing files. Reads only."""
    gid, actions = group_id(group), []
    for entry in directories or []:
        path, mode = resolve(root, entry["path"]), int(str(entry.get("mode") or "2774"), 8)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            actions.append({"action": "mkdir", "path": path, "mode": "%04o" % mode})
            continue
        if not stat.S_ISDIR(st.st_mode):
            raise FilesError("%s exists and is not a directory" % path)
        if stat.S_IMODE(st.st_mode) != mode or st.st_gid != gid:
            actions.append({"action": "chmod", "path": path, "mode": "%04o" % mode})
    for entry in files or []:
        path = resolve(root, entry["path"])
        if not os.path.lexists(path):
            actions.append({"action": "write", "path": path,
                            "mode": "%04o" % int(str(entry.get("mode") or "0640"), 8),
                            "content": entry.get("content") or ""})
    return actions


def apply_files(actions, group):
    """Make what plan_files planned (directories first, in order, as root). Owner and mode
    are set on what was opened without following a link (fchown, fchmod), so a symlink
    swapped in after the plan is refused by the open, not followed."""
    gid = group_id(group)
    for act in actions:
        mode = int(act["mode"], 8)
        if act["action"] == "write":
            fd = os.open(act["path"], os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                         mode)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                set_owner_and_mode(handle.fileno(), gid, mode)
                handle.write(act["content"])
            continue
        if act["action"] == "mkdir":
            os.makedirs(act["path"], exist_ok=True)
        fd = os.open(act["path"], os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        try:
            set_owner_and_mode(fd, gid, mode)
        finally:
            os.close(fd)


def set_owner_and_mode(fd, gid, mode):
    """root:gid and mode on an open file; chmod after chown, which clears setgid bits."""
    os.fchown(fd, 0, gid)
    os.fchmod(fd, mode)


def public(actions):
    """The actions as the result shows them (file contents left out)."""
    return [{key: value for key, value in act.items() if key != "content"} for act in actions]
