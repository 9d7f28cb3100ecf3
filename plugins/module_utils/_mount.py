# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One network filesystem mount: its exact fstab line, and what is mounted at its path.

``parse_*``, ``render_*`` and ``plan_*`` are pure, so unit tests feed them fstab files and
mountinfo recorded on lab nodes. ``read_*`` and ``apply_*`` touch the host. Private to
this collection.
"""

from __future__ import annotations

import os
import re
import tempfile

from ansible_collections.swarmops.cluster.plugins.module_utils._common import (
    CLI_ENV, PlanError, read_text)

# What /proc/self/mountinfo calls each fstype once mounted: the glusterfs client is a FUSE
# process, and an "nfs" mount that negotiated version 4 shows as nfs4.
MOUNTED_FSTYPES = {"glusterfs": ("fuse.glusterfs",), "nfs": ("nfs", "nfs4"), "nfs4": ("nfs4",)}
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "[::1]")
# Options that say the opposite of each other; both in one line is a mistake.
OPPOSITES = (("ro", "rw"), ("auto", "noauto"), ("soft", "hard"), ("sync", "async"),
             ("exec", "noexec"), ("suid", "nosuid"), ("dev", "nodev"), ("atime", "noatime"),
             ("user", "nouser"), ("fail", "nofail"))
# Keys systemd reads once per item, so a repeat with another value is meaningful.
REPEATABLE = ("x-systemd.requires", "x-systemd.after", "x-systemd.before",
              "x-systemd.wants", "x-systemd.requires-mounts-for")
# Given through backup_volfile_servers only, so the list has one spelling in the line.
BACKUP_KEYS = ("backup-volfile-servers", "backupvolfile-server")
OPTION_RE = re.compile(r"^[A-Za-z0-9_.+@-]+(=[^\s,]*)?$")
HOST_RE = re.compile(r"^(\[[0-9A-Fa-f:.%]+\]|[A-Za-z0-9_.%:-]+)$")
UNIT_RE = re.compile(r"^[A-Za-z0-9:_.\\@-]+$")
SERVER_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
TIMED_OUT = (124, 137)  # coreutils timeout: TERM sent; KILL sent after --kill-after


# The mount module's options; the controller's judge (plugin_utils/_files) fills its
# parameters from the same defaults, so both plan alike.
ARGUMENT_SPEC = {
    "path": {"type": "path", "required": True},
    "src": {"type": "str"},
    "fstype": {"type": "str", "choices": ["glusterfs", "nfs", "nfs4"], "default": "glusterfs"},
    "opts": {"type": "list", "elements": "str", "default": ["defaults"]},
    "backup_volfile_servers": {"type": "list", "elements": "str", "default": []},
    "requires_units": {"type": "list", "elements": "str"},
    "dump": {"type": "int", "default": 0},
    "passno": {"type": "int", "default": 0, "no_log": False},
    "state": {"type": "str", "default": "mounted",
              "choices": ["mounted", "present", "unmounted", "absent"]},
    "fstab": {"type": "path", "default": "/etc/fstab"},
    "backup": {"type": "bool", "default": True},
    "timeout": {"type": "int", "default": 60},
}


def unescape(field):
    """fstab / mountinfo octal escapes (\\040 for a space) back to characters."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def parse_mountinfo(text):
    """Mounts of /proc/self/mountinfo: mount_point, source, fstype, options (in order)."""
    mounts = []
    for line in text.splitlines():
        # Optional fields vary in number; " - " ends them (spaces in paths are \040).
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


def is_under(path, parent):
    """path is parent or lies below it."""
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def split_src(src):
    """(host, remote path) of host:/path; (None, None) when src is not of that form.

    Split at the first ":/" so IPv6 hosts ([::1] or ::1) and colons in the path survive.
    """
    at = (src or "").find(":/")
    if at <= 0 or not HOST_RE.match(src[:at]):
        return None, None
    return src[:at], src[at + 1:]


def option_problems(opts):
    """Why mount options cannot go into one fstab field: empty items, spaces or commas in
    an item, an empty key, one key with two values, options that contradict."""
    problems = ["mount option %r is malformed (one option per item: a word or key=value, "
                "no spaces or commas, a non-empty key)" % opt
                for opt in opts if not OPTION_RE.match(opt or "")]
    values = {}
    for opt in opts:
        key, sep, value = (opt or "").partition("=")
        if key in REPEATABLE:
            continue
        if key in values and values[key] != (sep, value):
            problems.append("mount option %s is given twice with different values; keep one"
                            % key)
        values.setdefault(key, (sep, value))
    problems += ["mount options %s and %s contradict each other; keep one" % pair
                 for pair in OPPOSITES if pair[0] in values and pair[1] in values]
    return problems


def is_local(host, own):
    """The host names this node: a loopback name or one of its own names or addresses."""
    return host in LOCAL_HOSTS or host in own or host.strip("[]") in own


def requires_of(params, own):
    """The units the mount requires at boot: given, or glusterd for a local glusterfs."""
    if params["requires_units"] is not None:
        return params["requires_units"]
    host = split_src(params["src"])[0]
    if params["fstype"] == "glusterfs" and host and is_local(host, own):
        return ["glusterd.service"]
    return []


def desired_options(params, own):
    """The line's options: ours first, then the given ones in their order, repeats dropped.

    Ours: _netdev for glusterfs (systemd cannot tell a FUSE mount needs the network);
    x-systemd.requires= (Requires= plus After=) so the mount waits for a local glusterd at
    boot; backup-volfile-servers= (colon separated, glusterfs >= 3) for a volfile when the
    source's server is down. "defaults" only fills an otherwise empty field.
    """
    ours = ["_netdev"] if params["fstype"] == "glusterfs" else []
    ours += ["x-systemd.requires=%s" % unit for unit in requires_of(params, own)]
    if params["backup_volfile_servers"]:
        ours.append("backup-volfile-servers=%s" % ":".join(params["backup_volfile_servers"]))
    result = []
    for opt in ours + [o for o in params["opts"] or [] if o != "defaults"]:
        if opt not in result:
            result.append(opt)
    return result or ["defaults"]


def backup_problems(params, host, own):
    """Backup volfile servers must be other glusterfs servers, written colon separated."""
    backups = params["backup_volfile_servers"] or []
    if backups and params["fstype"] != "glusterfs":
        return ["backup_volfile_servers is for glusterfs mounts; drop it"]
    problems = ["backup volfile server %r is not a host name or IPv4 address (the list is "
                "colon separated)" % name for name in backups if not SERVER_RE.match(name)]
    same = [name for name in backups if host and (
        name == host or (is_local(host, own) and is_local(name, own)))]
    if same:
        problems.append("backup_volfile_servers lists the mount's own server (%s as %s): a "
                        "backup must be another storage node; drop it"
                        % (host, ", ".join(same)))
    if len(set(backups)) != len(backups):
        problems.append("backup_volfile_servers lists a server twice; list each once")
    return problems


def field_problems(params):
    """What is wrong with path and src (messages name the fix)."""
    problems = []
    if not params["path"].startswith("/"):
        problems.append("path %r is not absolute" % params["path"])
    if params["src"] is not None and split_src(params["src"])[0] is None:
        problems.append("src %r is not host:/path (glusterfs host:/volume, nfs host:/export)"
                        % params["src"])
    if params["state"] != "absent" and params["src"] is not None:
        # fstab would need \040 escapes, and mount.glusterfs (a shell script) splits an
        # escaped mount point at the space (seen in the lab): lines we write carry none.
        problems += ["%s %r has a space, tab or backslash; choose one without"
                     % (key, params[key]) for key in ("path", "src")
                     if re.search(r"[\s\\]", params[key])]
    return problems


def setting_problems(params):
    """What is wrong with units, numbers, and backup servers hidden in opts."""
    problems = ["requires_units item %r is not a systemd unit name" % unit
                for unit in params["requires_units"] or [] if not UNIT_RE.match(unit)]
    problems += ["%s must be 0 or more, not %d" % (key, params[key])
                 for key in ("dump", "passno") if params[key] < 0]
    if params["timeout"] < 1:
        problems.append("timeout must be 1 second or more, not %d" % params["timeout"])
    if params["fstype"] == "glusterfs":
        problems += ["give backup volfile servers in backup_volfile_servers, not as %r in "
                     "opts" % opt for opt in params["opts"] or []
                     if (opt or "").partition("=")[0] in BACKUP_KEYS]
    return problems


def check_params(params, own):
    """Refuse what cannot make a working line, before anything changes."""
    problems = field_problems(params) + setting_problems(params) + backup_problems(
        params, split_src(params["src"])[0], own) + option_problems(params["opts"] or [])
    if not problems and params["src"] is not None:
        problems = option_problems(desired_options(params, own))
    if problems:
        raise PlanError("%s - nothing was changed" % "; ".join(problems))


def render_line(params, own):
    """The one fstab line of the mount point: six space-separated fields, or None when
    the state keeps no line of ours (absent, or unmounted without src)."""
    if params["state"] == "absent" or params["src"] is None:
        return None
    return "%s %s %s %s %d %d" % (params["src"], params["path"], params["fstype"],
                                  ",".join(desired_options(params, own)),
                                  params["dump"], params["passno"])


def fstab_path_of(line):
    """The mount point of an active fstab line, or None for comments and blank lines."""
    fields = line.split()
    if len(fields) < 2 or fields[0].startswith("#"):
        return None
    return unescape(fields[1]).rstrip("/") or "/"


def plan_fstab(text, path, line):
    """The new fstab text: one exact line for path, at the place of the first old one.

    Comments, blank lines and other mount points stay byte for byte; commented-out lines
    for the path are comments and stay too. line None removes the path's active lines.
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


def live_source(fstype, src):
    """What of a mount source the live mount depends on. A glusterfs server only hands out
    the volume file when the mount starts (like backup-volfile-servers): the live mount is
    the volume's whichever server that was, and one mounted from a storage node that has
    since died or left stays as good as a new one from another server."""
    if fstype in ("glusterfs",) + MOUNTED_FSTYPES["glusterfs"]:
        return split_src(src)[1] or src
    return src


def is_expected(params, mount):
    """What is mounted is src (for glusterfs: its volume) with the fstype's mounted name."""
    return live_source(params["fstype"], mount["source"]) == \
        live_source(params["fstype"], params["src"]) and \
        mount["fstype"] in MOUNTED_FSTYPES[params["fstype"]]


def check_mounted_source(params, mount):
    """Something other than src at the path is refused: never unmount or cover it."""
    if mount is None or params["src"] is None or is_expected(params, mount):
        return
    raise PlanError("%s has %s (%s) mounted, not %s (%s); unmount it and remove its fstab "
                    "line, or choose another path - nothing was changed"
                    % (params["path"], mount["source"], mount["fstype"], params["src"],
                       params["fstype"]))


def plan_mount_point(params, current):
    """mkdir and mount actions for state mounted when nothing is mounted at path."""
    path = params["path"]
    if current["path_kind"] == "other":
        raise PlanError("%s exists and is not a directory; move it away so it can be the "
                        "mount point - nothing was changed" % path)
    actions = []
    if current["path_kind"] == "missing":
        actions.append({"action": "mkdir", "path": path, "mode": "0755"})
    return actions + [{"action": "mount", "path": path, "src": params["src"]}]


# Options read only when a mount starts or at boot: a change to them needs no remount of
# the live mount - which fails while containers use it - since the next mount reads the new
# line. Onboarding a storage node changes only backup-volfile-servers on the others.
MOUNT_TIME_ONLY = ("_netdev", "x-systemd.", "backup-volfile-servers=", "defaults", "nofail",
                   "noauto")


def needs_remount(fstab_text, path, line):
    """The new line changes the live mount: its source (live_source), type or a runtime
    option."""
    def runtime(fields):
        opts = fields[3].split(",") if len(fields) > 3 else []
        fstype = fields[2] if len(fields) > 2 else None
        return (live_source(fstype, unescape(fields[0])), fstype,
                sorted(o for o in opts if not o.startswith(MOUNT_TIME_ONLY)))
    old = [ln.split() for ln in fstab_text.splitlines() if fstab_path_of(ln) == path]
    return not old or runtime(old[0]) != runtime(line.split())


def plan_mount(current, params):
    """(actions, new fstab text) that bring fstab and the mount to the state (pure).

    current: fstab (text), mount (mountinfo entry at path or None), path_kind (dir,
    missing, other), own (this node's names and addresses). Actions are listed in the
    order they run; a remount unmounts before fstab is written (see apply_actions).
    """
    check_params(params, current["own"])
    state, path, mount = params["state"], params["path"], current["mount"]
    check_mounted_source(params, mount)
    line = render_line(params, current["own"])
    new_text = current["fstab"]
    if state == "absent" or line is not None:
        new_text = plan_fstab(current["fstab"], path, line)
    actions = []
    if mount is not None and (state in ("unmounted", "absent") or (
            state == "mounted" and needs_remount(current["fstab"], path, line))):
        # glusterfs has no -o remount: new options take effect on a fresh mount only.
        actions.append({"action": "umount" if state != "mounted" else "remount",
                        "path": path, "source": mount["source"]})
    if new_text != current["fstab"]:
        actions.append({"action": "fstab", "fstab": params["fstab"], "line": line})
    if state == "mounted" and mount is None:
        actions += plan_mount_point(params, current)
    return actions, new_text


def predicted_mount(params, mount):
    """{source, fstype} mounted at path once the plan ran; None when nothing is."""
    if params["state"] in ("unmounted", "absent"):
        return None
    if params["state"] == "mounted" and mount is None:
        return {"source": params["src"], "fstype": MOUNTED_FSTYPES[params["fstype"]][0]}
    return {"source": mount["source"], "fstype": mount["fstype"]} if mount else None


def read_mount(path):
    """What is mounted at path now, from /proc/self/mountinfo."""
    return mounted_at(parse_mountinfo(read_text("/proc/self/mountinfo")), path)


def read_path_kind(path):
    """dir, missing or other (a file, a dangling link) for the mount point."""
    if os.path.isdir(path):
        return "dir"
    return "other" if os.path.lexists(path) else "missing"


def run_bounded(module, argv, timeout=None):
    """Run a command under LANG=C, bounded by coreutils timeout; {cmd, rc, stdout, stderr,
    timeout}."""
    full = [module.get_bin_path(argv[0], required=True)] + argv[1:]
    if timeout:
        # mount.glusterfs waits on unreachable servers; KILL follows TERM if it ignores it.
        full = [module.get_bin_path("timeout", required=True), "--kill-after=10",
                str(timeout)] + full
    rc, out, err = module.run_command(full, environ_update=CLI_ENV)
    return {"cmd": full, "rc": rc, "stdout": out, "stderr": err, "timeout": timeout}


def fail_run(module, argv, ran, hint=""):
    """fail_json for a failed command: what it said (or that it timed out), and hint."""
    why = (ran["stderr"] or ran["stdout"]).strip().rstrip(".")
    if ran["timeout"] and ran["rc"] in TIMED_OUT:
        why = "timed out after %ss (a server that does not answer?)" % ran["timeout"]
    module.fail_json(msg="%s failed: %s%s" % (" ".join(argv), why, hint), cmd=ran["cmd"],
                     rc=ran["rc"], stdout=ran["stdout"], stderr=ran["stderr"])


def run(module, argv, timeout=None, hint=""):
    """run_bounded, failing the module (naming the fix in hint) unless rc is 0."""
    ran = run_bounded(module, argv, timeout)
    if ran["rc"] != 0:
        fail_run(module, argv, ran, hint)
    return ran


def mount_now(module, path, timeout):
    """mount PATH from its fstab line; mount's stderr.

    A glusterfs mount killed by the timeout can leave its FUSE mount behind (seen in the
    lab): it looks mounted, so the next run would skip it, yet it hangs on use. It is
    lazily unmounted before the run fails, so the next run mounts afresh.
    """
    argv = ["mount", "--", path]
    ran = run_bounded(module, argv, timeout)
    if ran["rc"] == 0:
        return ran["stderr"]
    hint = "; the fstab line is written: fix the cause and run again"
    if ran["rc"] in TIMED_OUT and read_mount(path) is not None:
        run_bounded(module, ["umount", "--lazy", "--", path], timeout)
        hint = "; the half-made mount was unmounted (umount --lazy)" + hint
    return fail_run(module, argv, ran, hint)


def write_fstab(module, params, text):
    """Back fstab up, replace it atomically (keeping mode and owner), reload systemd.

    The daemon-reload makes systemd's fstab generator rebuild the .mount unit: without it
    the unit of the old line stays loaded. Returns the backup's path or None.
    """
    fstab = params["fstab"]
    backup = None
    if params["backup"] and os.path.exists(fstab):
        backup = module.backup_local(fstab)
    handle, tmp = tempfile.mkstemp(prefix=".fstab.", dir=os.path.dirname(fstab) or ".")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    module.atomic_move(tmp, fstab)
    if systemd_booted():
        run(module, ["systemctl", "daemon-reload"])
    return backup


def systemd_booted():
    """systemd is PID 1 (sd_booted(3): /run/systemd/system exists)."""
    return os.path.isdir("/run/systemd/system")


def make_mount_point(path):
    """The missing mount point, mode 0755 whatever the umask."""
    os.makedirs(path, 0o755)
    os.chmod(path, 0o755)


def check_after(module, params, actions, mount_err):
    """What mountinfo shows now must be what the state asks for; else fail with mount's
    own words and where the client logs."""
    mount = read_mount(params["path"])
    if params["state"] == "mounted" and (mount is None or not is_expected(params, mount)):
        module.fail_json(msg="after mounting, %s shows %s instead of %s (%s): %s; the fstab "
                         "line is written, see the client log (glusterfs: /var/log/glusterfs/)"
                         % (params["path"], mount and mount["source"], params["src"],
                            params["fstype"], (mount_err or "mount said nothing").strip()),
                         actions=actions, stderr=mount_err)
    if params["state"] in ("unmounted", "absent") and mount is not None:
        module.fail_json(msg="%s still has %s mounted after umount (stacked mounts?); "
                         "unmount the rest by hand" % (params["path"], mount["source"]),
                         actions=actions)
    return {"source": mount["source"], "fstype": mount["fstype"]} if mount else None


def apply_actions(module, params, actions, new_text):
    """Carry the plan out; {mounted, backup_file?}.

    Unmount first, so a busy mount point fails the run before fstab changes (and the next
    run plans the same remount); then fstab, the directory, the mount; then check.
    """
    kinds = {a["action"] for a in actions}
    path, timeout, result, mount_err = params["path"], params["timeout"], {}, ""
    if kinds & {"umount", "remount"}:
        run(module, ["umount", "--", path], timeout,
            "; stop what uses %s (containers, shells in it) and run again - nothing was "
            "changed" % path)
    if "fstab" in kinds:
        backup = write_fstab(module, params, new_text)
        if backup:
            result["backup_file"] = backup
    if "mkdir" in kinds:
        make_mount_point(path)
    if kinds & {"mount", "remount"}:
        mount_err = mount_now(module, path, timeout)
    result["mounted"] = check_after(module, params, actions, mount_err)
    return result
