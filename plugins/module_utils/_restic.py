# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one runner for the ``restic`` CLI, its JSON answers, and the backup and restore plans.

Every call is an argv list under ``LANG=C`` with ``--json``; the repository password goes
on stdin (restic reads it from there when stdin is not a terminal), never in argv or the
environment, and operands follow ``--``. Private to this collection.
"""

from __future__ import annotations

import json

from ansible_collections.swarmops.cluster.plugins.module_utils._common import (
    CLI_ENV, PlanError, SwarmopsError)

# restic's exit codes (0.17 and later): no repository at the location, wrong password.
NO_REPOSITORY, WRONG_PASSWORD = 10, 12
# The options of doc fragment swarmops.cluster.restic.
RESTIC_ARGUMENT_SPEC = {
    "repository": {"type": "str", "required": True},
    "password": {"type": "str", "required": True, "no_log": True},
}
# What `restic forget` keeps, option by option.
KEEP_OPTIONS = ("last", "hourly", "daily", "weekly", "monthly", "yearly")


class ResticError(SwarmopsError):
    """A restic call failed; the message names the command and restic's words."""


def run_restic(module, repository, password, args, ok_codes=(0,)):
    """(rc, stdout, stderr) of ``restic --repo=REPO --json ARGS`` with the password on
    stdin; ResticError for an exit code not in ok_codes."""
    binary = module.get_bin_path("restic")
    if binary is None:
        raise ResticError("restic is not installed on this host; install the restic "
                          "package (playbooks/backup.yml does)")
    argv = [binary, "--repo=" + repository, "--json"] + list(args)
    rc, out, err = module.run_command(argv, data=password, environ_update=CLI_ENV,
                                      binary_data=False)
    if rc not in ok_codes:
        raise ResticError("restic %s failed (rc=%d): %s" % (
            args[0], rc, password_problem(rc, err) or (err.strip() or out.strip())[-2000:]))
    return rc, out, err


def password_problem(rc, stderr):
    """What a failed call means for the user, when restic said it plainly."""
    if rc == WRONG_PASSWORD or "wrong password" in stderr:
        return "the repository does not open with swarmops_backup_password (wrong password)"
    return None


def repository_exists(module, repository, password):
    """Whether a repository answers at the location with this password."""
    rc, _out, err = run_restic(module, repository, password, ["cat", "config"],
                               ok_codes=(0, 1, NO_REPOSITORY, WRONG_PASSWORD))
    if rc == 0:
        return True
    if rc == NO_REPOSITORY or "Is there a repository" in err:
        return False
    raise ResticError("restic cat config failed (rc=%d): %s"
                      % (rc, password_problem(rc, err) or err.strip()[-2000:]))


def parse_json_lines(text, message_type):
    """The last JSON object of that message_type in restic's line-per-message output."""
    found = None
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if message.get("message_type") == message_type:
            found = message
    return found


def parse_first_json(text):
    """The first JSON document of an answer (forget --prune prints prune's words after)."""
    for line in text.splitlines():
        if line.strip().startswith(("[", "{")):
            return json.loads(line)
    return None


def forget_args(keep, tags, host):
    """`restic forget` arguments that keep `keep` ({daily: 7, ...}) per host and tags."""
    unknown = sorted(set(keep) - set(KEEP_OPTIONS))
    if unknown:
        raise PlanError("swarmops_backup_keep: unknown keys %s (use %s)"
                        % (", ".join(unknown), ", ".join(KEEP_OPTIONS)))
    args = ["forget", "--group-by=host,tags", "--prune"]
    args += ["--keep-%s=%d" % (k, int(keep[k])) for k in KEEP_OPTIONS if keep.get(k)]
    args += ["--tag=" + ",".join(tags)] if tags else []
    return args + (["--host=" + host] if host else [])


def plan_backup(current, params):
    """The backup's actions, in order: init, stop-engine, backup, start-engine, forget,
    check. current: {initialized, engine (read_state) or None}."""
    if not params["paths"]:
        raise PlanError("name at least one path to back up")
    if params["keep"] and not any(params["keep"].get(k) for k in KEEP_OPTIONS):
        raise PlanError("swarmops_backup_keep keeps nothing: it would forget every "
                        "snapshot; give at least one of %s" % ", ".join(KEEP_OPTIONS))
    actions = [] if current["initialized"] else [{"action": "init"}]
    stop = params["stop_engine"] and current.get("engine") is not None
    if stop:
        actions.append({"action": "stop-engine"})
    actions.append({"action": "backup", "paths": list(params["paths"]),
                    "tags": list(params["tags"])})
    if stop:
        actions.append({"action": "start-engine"})
    if params["keep"]:
        actions.append({"action": "forget", "keep": dict(params["keep"])})
    if params["check"]:
        actions.append({"action": "check"})
    return actions


def backup_args(params):
    """`restic backup` arguments."""
    args = ["backup"]
    if params["tags"]:
        args.append("--tag=" + ",".join(params["tags"]))
    if params.get("host"):
        args.append("--host=" + params["host"])
    return args + ["--"] + list(params["paths"])


def restore_args(snapshot, params):
    """`restic restore` arguments: the snapshot's paths under include, back in place (or
    under another target); with verify, restic reads every restored file back and checks
    it against the repository's content hashes."""
    args = ["restore", snapshot, "--target=" + (params.get("target") or "/")]
    args += ["--include=" + path for path in params["include"]]
    args += ["--delete"] if params["delete"] else []
    args += ["--verify"] if params.get("verify") else []
    return args


def restore_problems(snapshot, include, summary):
    """What a verified restore's summary says is missing: bytes not restored, and, when the
    whole snapshot was restored, a total that differs from what the backup read. restic's
    file counts are not compared: with --include they count directories their own way."""
    problems = []
    restored = (summary.get("bytes_restored") or 0) + (summary.get("bytes_skipped") or 0)
    if summary.get("total_bytes") is not None and restored != summary["total_bytes"]:
        problems.append("%d of %d bytes restored" % (restored, summary["total_bytes"]))
    backed_up = (snapshot.get("summary") or {}).get("total_bytes_processed")
    whole = sorted(include) == sorted(snapshot.get("paths") or [])
    if whole and backed_up is not None and summary.get("total_bytes") not in (None, backed_up):
        problems.append("the snapshot holds %d bytes, the backup read %d"
                        % (summary["total_bytes"], backed_up))
    return problems


def choose_snapshot(snapshots, wanted, tags, host):
    """The snapshot to restore: an ID (prefix) or latest among those with all tags (and
    the host, when given); PlanError naming what exists otherwise."""
    matching = [s for s in snapshots if set(tags) <= set(s.get("tags") or [])
                and (not host or s.get("hostname") == host)]
    if wanted == "latest":
        if not matching:
            raise PlanError("no snapshot with tags %s%s in the repository - nothing was "
                            "changed" % (",".join(tags) or "(any)",
                                         " of host %s" % host if host else ""))
        return max(matching, key=lambda s: s["time"])
    found = [s for s in matching if s["id"].startswith(wanted) or s.get("short_id") == wanted]
    if len(found) != 1:
        listed = ", ".join(s["short_id"] for s in matching[-10:])
        raise PlanError("snapshot %s: %s among the %d matching snapshots (%s) - nothing was "
                        "changed" % (wanted, "not found" if not found else "ambiguous",
                                     len(matching), listed))
    return found[0]


def summarize_snapshot(snapshot):
    """What the result and the manifest say of a snapshot."""
    summary = snapshot.get("summary") or {}
    return {"id": snapshot.get("id"), "short_id": snapshot.get("short_id"),
            "time": snapshot.get("time"), "paths": snapshot.get("paths"),
            "tags": snapshot.get("tags") or [], "host": snapshot.get("hostname"),
            "files": summary.get("total_files_processed"),
            "bytes": summary.get("total_bytes_processed")}


def read_snapshots(module, repository, password):
    """Every snapshot in the repository (restic snapshots --json)."""
    _rc, out, _err = run_restic(module, repository, password, ["snapshots"])
    return parse_first_json(out) or []


def plan_restore(snapshots, params):
    """The restore action of the chosen snapshot, only inside its own paths."""
    snapshot = choose_snapshot(snapshots, params["snapshot"], params["tags"], params["host"])
    outside = [path for path in params["include"]
               if not any(path == root or path.startswith(root.rstrip("/") + "/")
                          or root.startswith(path.rstrip("/") + "/")
                          for root in snapshot.get("paths") or [])]
    if outside:
        raise PlanError("snapshot %s holds %s, not %s - nothing was changed"
                        % (snapshot["short_id"], ", ".join(snapshot.get("paths") or []),
                           ", ".join(outside)))
    return snapshot, [{"action": "restore", "snapshot": snapshot["short_id"],
                       "include": list(params["include"]), "delete": params["delete"]}]
