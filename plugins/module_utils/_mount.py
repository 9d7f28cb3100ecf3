# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One network filesystem mount: its exact fstab line, and what is mounted at its path.

``parse_*``, ``render_*`` and ``plan_*`` are pure, so unit tests feed them fstab files and
mountinfo recorded on lab nodes. Private to this collection.
"""

from __future__ import annotations

import os
import re

FSTYPES = {"glusterfs": "fuse.glusterfs", "nfs": "nfs", "nfs4": "nfs4"}
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "[::1]")
# Options that say the opposite of each other; both in one line is a mistake.
OPPOSITES = (("ro", "rw"), ("auto", "noauto"), ("soft", "hard"), ("sync", "async"),
             ("exec", "noexec"), ("suid", "nosuid"), ("dev", "nodev"))
OPTION_RE = re.compile(r"^[A-Za-z0-9_.+@-]+(=[^\s,]*)?$")


class PlanError(Exception):
    """The request cannot be planned; nothing was changed."""


def unescape(field):
    """fstab / mountinfo octal escapes (\\040 for a space) back to characters."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def escape(field):
    """Characters fstab cannot hold in a field, as octal escapes."""
    return "".join("\\%03o" % ord(c) if c in " \t\n\\" else c for c in field)


def parse_mountinfo(text):
    """Mounts of /proc/self/mountinfo: mount_point, source, fstype, options (last wins)."""
    mounts = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if not sep or len(fields) < 6 or len(tail) < 2:
            continue
        mounts.append({"mount_point": unescape(fields[4]), "source": unescape(tail[1]),
                       "fstype": tail[0], "options": fields[5]})
    return mounts


def mounted_at(mounts, path):
    """The mount on top at path (the last one listed), or None."""
    found = [m for m in mounts if m["mount_point"] == path]
    return found[-1] if found else None


def split_src(src):
    """host and remote path of host:/path (IPv6 hosts in brackets)."""
    host, colon, remote = src.rpartition(":")
    if not colon or not host or not remote.startswith("/"):
        return None, None
    return host, remote


def option_problems(opts):
    """Why mount options cannot go into fstab: empty, spaces, commas, repeats, opposites."""
    problems = []
    for opt in opts:
        if not OPTION_RE.match(opt or ""):
            problems.append("mount option %r is malformed (one option per item: a word or "
                            "key=value, no spaces or commas)" % opt)
    keys = {}
    for opt in opts:
        key, _eq, value = (opt or "").partition("=")
        if key in keys and keys[key] != value:
            problems.append("mount option %s is given twice with different values" % key)
        keys[key] = value
    problems += ["mount options %s and %s contradict each other" % pair
                 for pair in OPPOSITES if pair[0] in keys and pair[1] in keys]
    return problems


def desired_options(params, own):
    """The option list the line carries: ours for glusterfs first, then the given ones.

    glusterfs: _netdev (the network comes first at boot); a mount from this node's own
    glusterd waits for it (x-systemd.requires= is Requires= plus After=); the other storage
    nodes serve the volfile when that one server is down (backup-volfile-servers=).
    """
    opts = [o for o in params["opts"] or [] if o != "defaults"] or ["defaults"]
    if params["fstype"] != "glusterfs":
        return opts
    host, _remote = split_src(params["src"])
    ours = ["_netdev"]
    requires = params["requires_units"]
    if requires is None:
        requires = ["glusterd.service"] if host in LOCAL_HOSTS or host in own else []
    ours += ["x-systemd.requires=%s" % unit for unit in requires]
    if params["backup_volfile_servers"]:
        ours.append("backup-volfile-servers=%s" % ":".join(params["backup_volfile_servers"]))
    return ours + [o for o in opts if o not in ours and o != "defaults"]


def check_params(params, own):
    """Refuse what cannot make a working line, before anything changes."""
    problems = []
    if not params["path"].startswith("/"):
        problems.append("path %r is not absolute" % params["path"])
    host, _remote = split_src(params["src"] or "")
    if params["state"] in ("mounted", "present") and host is None:
        problems.append("src %r is not host:/path" % params["src"])
    backups = params["backup_volfile_servers"] or []
    if backups and params["fstype"] != "glusterfs":
        problems.append("backup_volfile_servers is for glusterfs mounts")
    if host and (host in backups or (host in LOCAL_HOSTS + tuple(own)
                                     and set(backups) & set(LOCAL_HOSTS + tuple(own)))):
        problems.append("backup_volfile_servers lists the mount's own server (%s): a "
                        "backup must be another storage node" % host)
    problems += option_problems(params["opts"] or [])
    if problems:
        raise PlanError("%s - nothing was changed" % "; ".join(problems))


def render_line(params, own):
    """The one fstab line of the mount point."""
    return "%s %s %s %s %d %d" % (escape(params["src"]), escape(params["path"]),
                                  params["fstype"], ",".join(desired_options(params, own)),
                                  params["dump"], params["passno"])


def fstab_path_of(line):
    """The mount point of an active fstab line, or None for comments and blank lines."""
    fields = line.split()
    if not fields or fields[0].startswith("#") or len(fields) < 2:
        return None
    return unescape(fields[1]).rstrip("/") or "/"


def plan_fstab(text, path, line):
    """The new fstab text: one exact line for path, at the place of the first old one.

    Comments, blank lines and other mount points stay byte for byte; commented-out lines
    for the path are comments and stay too. line None removes the path's lines.
    """
    out, placed = [], False
    for old in text.splitlines(keepends=True):
        if fstab_path_of(old) != path:
            out.append(old)
        elif line is not None and not placed:
            out.append(line + "\n")
            placed = True
    if line is not None and not placed:
        if out and not out[-1].endswith("\n"):
            out[-1] += "\n"
        out.append(line + "\n")
    return "".join(out)


# Options read only when a mount starts or at boot: a change needs no remount of a live
# mount (which would fail while containers hold it) - the next mount uses the new line.
MOUNT_TIME_ONLY = ("_netdev", "x-systemd.", "backup-volfile-servers=", "backupvolfile-server=",
                   "defaults", "nofail", "auto", "noauto")


def needs_remount(fstab_text, path, line):
    """The line's change alters the live mount: another source, type or runtime option."""
    def runtime(fields):
        opts = fields[3].split(",") if len(fields) > 3 else []
        return fields[0], fields[2] if len(fields) > 2 else None, sorted(
            o for o in opts if not o.startswith(MOUNT_TIME_ONLY))
    old = [ln for ln in fstab_text.splitlines() if fstab_path_of(ln) == path]
    return not old or runtime(old[0].split()) != runtime(line.split())


def plan_mount(params, fstab_text, mount, own):
    """(actions, new fstab text) for the requested state (pure).

    mount: what mountinfo shows at the path (None when nothing is mounted there).
    """
    check_params(params, own)
    state, path = params["state"], params["path"]
    line = render_line(params, own) if state != "absent" else None
    new_text = plan_fstab(fstab_text, path, line)
    actions = [{"action": "fstab", "line": line}] if new_text != fstab_text else []
    wanted_fstype = FSTYPES[params["fstype"]]
    if state in ("mounted", "present") and mount and not (
            mount["fstype"] == wanted_fstype and mount["source"] == params["src"]):
        raise PlanError("%s has %s (%s) mounted, not %s; unmount it first (and remove its "
                        "fstab line) or choose another path - nothing was changed"
                        % (path, mount["source"], mount["fstype"], params["src"]))
    if state == "mounted" and mount is None:
        actions.append({"action": "mount", "path": path})
    elif state == "mounted" and actions and needs_remount(fstab_text, path, line):
        # glusterfs has no -o remount: the new options take effect on a fresh mount only.
        actions.append({"action": "remount", "path": path})
    elif state in ("unmounted", "absent") and mount is not None:
        actions.append({"action": "umount", "path": path})
    return actions, new_text


def read_text(path):
    """A file's text; '' when it does not exist."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return ""


def read_mount(path):
    """What is mounted at path now, from /proc/self/mountinfo."""
    return mounted_at(parse_mountinfo(read_text("/proc/self/mountinfo")), path)


def write_fstab(module, fstab, text):
    """Replace fstab atomically (same mode and owner), then let systemd regenerate units.

    Without the daemon-reload, systemd keeps the .mount unit of the old line and mounts
    that at the next boot.
    """
    tmp = fstab + ".swarmops.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
    module.atomic_move(tmp, fstab)
    if read_text("/proc/1/comm").strip() == "systemd":
        run(module, ["systemctl", "daemon-reload"])


def run(module, argv, timeout=None):
    """Run a command (LANG=C), bounded by coreutils timeout; fail_json naming it on error."""
    full = (["timeout", str(timeout)] if timeout else []) + argv
    rc, out, err = module.run_command(full, environ_update={"LANG": "C", "LC_ALL": "C"})
    if rc != 0:
        why = "timed out after %ss (a server that does not answer?)" % timeout \
            if timeout and rc == 124 else (err or out).strip()
        module.fail_json(msg="%s failed: %s" % (" ".join(argv), why), cmd=full, rc=rc,
                         stdout=out, stderr=err)
    return out


def apply_mount_actions(module, params, actions):
    """umount / mount as planned, then check the expected source is what is mounted."""
    path, timeout = params["path"], params["timeout"]
    for action in actions:
        if action["action"] in ("umount", "remount"):
            run(module, ["umount", "--", path], timeout)
        if action["action"] in ("mount", "remount"):
            if not os.path.isdir(path):
                os.makedirs(path, 0o755)
            run(module, ["mount", "--", path], timeout)
    mount = read_mount(path)
    if params["state"] == "mounted" and (
            mount is None or mount["source"] != params["src"]
            or mount["fstype"] != FSTYPES[params["fstype"]]):
        module.fail_json(msg="after mounting, %s shows %s instead of %s (%s); see the "
                         "client log (glusterfs: /var/log/glusterfs/)"
                         % (path, mount and mount["source"], params["src"],
                            FSTYPES[params["fstype"]]), actions=actions)
    return mount
