# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every node-side part of the collection shares: the error base class, the
environment every CLI runs in, and the few file and systemd operations more than one
domain needs.

Private to this collection; its interface may change without notice.
"""

from __future__ import annotations

import os

# Every CLI runs in the C locale: its output is parsed, and its words end up in messages
# that name a fix.
CLI_ENV = {"LANG": "C", "LC_ALL": "C"}


class SwarmopsError(Exception):
    """Base of the collection's errors: msg names the fix, details are what fail_json shows
    beside it (cmd, rc, stdout, stderr, waited, ...)."""

    def __init__(self, msg, **details):
        super().__init__(msg)
        self.msg = msg
        self.details = details


class PlanError(SwarmopsError):
    """The request cannot be planned (or not safely); nothing was changed."""


def with_defaults(argument_spec, params):
    """A module's parameters as AnsibleModule would hand them over: every option of its
    argument spec at its default, then params. The controller's judges run a module's own
    planner on these, so a default changed in the spec changes both alike."""
    full = {key: spec.get("default") for key, spec in argument_spec.items()}
    full.update(params)
    return full


def read_text(path, missing=""):
    """A file's text; missing when it does not exist."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return missing


def replace_file(path, text, mode=0o644):
    """Replace path with text atomically: a temporary file beside it (never following a
    link planted at that name), flushed to disk, then renamed over the old one, so a crash
    leaves the old file or the new one, never half of either."""
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    temporary = "%s.swarmops-%d" % (path, os.getpid())
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(temporary, mode)
    os.replace(temporary, path)


def run_systemctl(module, args, error=SwarmopsError, hint=""):
    """systemctl ARGS (the one systemctl runner); error(msg) naming hint on failure."""
    argv = [module.get_bin_path("systemctl", required=True)] + list(args)
    rc, out, err = module.run_command(argv, environ_update=CLI_ENV)
    if rc != 0:
        raise error("systemctl %s failed: %s%s" % (" ".join(args), (err or out).strip(),
                                                   "; " + hint if hint else ""),
                    cmd=argv, rc=rc, stdout=out, stderr=err)
    return out
