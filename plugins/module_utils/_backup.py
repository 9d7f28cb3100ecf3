# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One backup run on a node: the swarm's state with the engine stopped, DOCKERDIR, into a
restic repository; and a restore in place. Private to this collection.

Docker's admin guide backs up a manager's /var/lib/docker/swarm with its engine stopped,
so the raft log does not change under the copy; the engine is started again and waited for
(ready, reachable, its global tasks back) as after any restart, also when the copy failed.
"""

from __future__ import annotations

import time

from ansible_collections.swarmops.cluster.plugins.module_utils._common import run_systemctl
from ansible_collections.swarmops.cluster.plugins.module_utils._docker_api import (
    EngineError, connect)
from ansible_collections.swarmops.cluster.plugins.module_utils._engine import (
    read_before_restart, wait_ready)
from ansible_collections.swarmops.cluster.plugins.module_utils._restic import (
    backup_args, forget_args, parse_first_json, parse_json_lines, repository_exists,
    run_restic)

ENGINE_UNITS = ["docker.socket", "docker.service"]


def read_current(module, params):
    """{initialized, engine, client}: the repository, and the engine when it is stopped."""
    current = {"initialized": repository_exists(module, params["repository"],
                                                params["password"]),
               "engine": None, "client": None}
    if params["stop_engine"]:
        current["client"] = connect(module)
        current["engine"], _actions = read_before_restart(current["client"])
    return current


def run_backup(module, params):
    """The new snapshot's summary (restic's backup summary message)."""
    _rc, out, _err = run_restic(module, params["repository"], params["password"],
                                backup_args(params))
    return parse_json_lines(out, "summary") or {}


def backup_with_engine_stopped(module, params, current):
    """Stop the engine, back up, start it and wait, even when the backup failed."""
    result = {}
    stopped = time.monotonic()
    run_systemctl(module, ["stop", "--"] + ENGINE_UNITS, EngineError,
                  "check `systemctl status docker`")
    try:
        result["summary"] = run_backup(module, params)
    finally:
        run_systemctl(module, ["start", "--"] + ENGINE_UNITS[::-1], EngineError,
                      "check `systemctl status docker`")
        result["engine_stopped"] = round(time.monotonic() - stopped, 2)
        result["waited"] = wait_ready(current["client"], current["engine"],
                                      params["wait_timeout"], params["unlock_key"])
    return result


def apply_backup(module, params, actions, current):
    """Run the planned actions; what the result reports of them."""
    repo, password, result = params["repository"], params["password"], {}
    names = [act["action"] for act in actions]
    if "init" in names:
        run_restic(module, repo, password, ["init"])
    if "stop-engine" in names:
        result.update(backup_with_engine_stopped(module, params, current))
    else:
        result["summary"] = run_backup(module, params)
    result["snapshot"] = result["summary"].get("snapshot_id")
    if "forget" in names:
        _rc, out, _err = run_restic(module, repo, password, forget_args(
            params["keep"], params["tags"], params.get("host")))
        groups = parse_first_json(out) or []
        result["forgotten"] = sorted(s["short_id"] for g in groups
                                     for s in g.get("remove") or [])
    if "check" in names:
        run_restic(module, repo, password, ["check"])
    return result
