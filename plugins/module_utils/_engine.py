# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restart a node's Docker engine without costing the swarm its managers.

Private to this collection; its interface may change without notice.
"""

from __future__ import annotations

import time

from ansible_collections.swarmops.cluster.plugins.module_utils._common import PlanError
from ansible_collections.swarmops.cluster.plugins.module_utils._docker_api import (
    EngineError, call)
from ansible_collections.swarmops.cluster.plugins.module_utils._stack_converge import (
    stack_status)
from ansible_collections.swarmops.cluster.plugins.module_utils._swarm import (
    manager_counts, read_local, read_state)

POLL = 0.5
# read_ready's word for a manager that came back locked (autolock).
LOCKED = "locked"


class RestartRefused(PlanError):
    """Restarting now would take a second manager down; nothing was changed."""


def plan_restart(local):
    """The restart action, or RestartRefused when another manager is already unreachable.

    A manager's engine restart takes it out of the raft for a few seconds. With every other
    manager reachable that is one manager down, which the quorum rule allows; with one
    already gone it would be two, so the restart waits for the operator. A single-manager
    swarm has no second manager to lose: its restart is only a short control-plane pause.
    """
    action = {"action": "restart", "node": local["hostname"],
              "swarm": local["state"], "role": "manager" if local["is_manager"] else
              ("worker" if local["state"] == "active" else None)}
    if local["state"] != "active" or not local["is_manager"]:
        return [action]
    total, reachable = manager_counts(local["nodes"])
    if reachable < total:
        down = sorted(n["hostname"] or n["id"] for n in local["nodes"]
                      if n["role"] == "manager" and n["reachability"] != "reachable")
        raise RestartRefused(
            "%s: refusing to restart the engine of a manager while %d of %d managers are "
            "reachable (unreachable: %s): that would take a second manager down. Bring "
            "them back (or remove them with playbooks/remove_node.yml) first - nothing "
            "was changed" % (local["hostname"], reachable, total, ", ".join(down)))
    return [action]


TASK_ID = "com.docker.swarm.task.id"
TASK_NAME = "com.docker.swarm.task.name"
SERVICE_NAME = "com.docker.swarm.service.name"


def local_tasks(containers, node_id):
    """[(task id, service, global)] of the swarm task containers running on this node. A
    global task is named service.<node id>.<task id>, a replicated one
    service.<slot>.<task id>: only global ones must come back on this node."""
    found = []
    for container in containers:
        labels = container.get("Labels") or {}
        if TASK_ID not in labels:
            continue
        parts = labels.get(TASK_NAME, "").split(".")
        found.append((labels[TASK_ID], labels.get(SERVICE_NAME),
                      len(parts) >= 3 and parts[-2] == node_id))
    return found


def read_local_tasks(client, node_id):
    """local_tasks of the containers running now (the engine's own view, on any role)."""
    containers = call("list containers", client.containers, filters={"label": TASK_ID})
    return local_tasks(containers, node_id)


def tasks_problem(before, now):
    """Why this node's global services do not run here again yet: each needs a running
    task that was not there before the restart (those died with the engine)."""
    old = {task for task, _svc, _glob in before}
    back = {svc for task, svc, glob in now if glob and task not in old}
    missing = sorted({svc for _task, svc, glob in before if glob} - back)
    return "tasks not running here again yet: %s" % ", ".join(missing) if missing else None


def converged_services(client):
    """Names of the swarm's services that are converged now (read on a manager)."""
    services = call("list services", client.services)
    ids = [svc["ID"] for svc in services]
    tasks = call("list tasks", client.tasks, filters={"service": ids}) if ids else []
    status = stack_status(services, tasks, call("list nodes", client.nodes))["services"]
    return sorted(name for name, svc in status.items() if svc["state"] == "converged")


def drain_problem(client, node_id, converged):
    """Why a drained node is not empty yet: its tasks still meant to run, or services that
    were converged before the drain and are not converged elsewhere yet; None once done."""
    left = call("list tasks", client.tasks,
                filters={"node": node_id, "desired-state": "running"})
    if left:
        return "%d task(s) still on the node" % len(left)
    back = converged_services(client)
    missing = [name for name in converged if name not in back]
    return "services not converged elsewhere yet: %s" % ", ".join(missing) if missing else None


def wait_drained(client, node_id, converged, timeout):
    """Seconds until drain_problem found nothing; EngineError naming what is left."""
    start = time.time()
    while True:
        problem = drain_problem(client, node_id, converged)
        waited = round(time.time() - start, 2)
        if problem is None:
            return waited
        if waited >= timeout:
            raise EngineError("the node was drained but after %d s %s; see `docker service "
                              "ps` for where those tasks are stuck" % (timeout, problem),
                              waited=waited)
        time.sleep(POLL)


# Seconds an unlocked manager must stay settled before the wait ends: the orchestrator
# places its global tasks only after it is ready again, a few seconds later.
SETTLE = 15


def local_tasks_problem(client, node_id):
    """Why tasks the swarm wants running on this node are not running yet; None if none."""
    try:
        tasks = call("list tasks", client.tasks,
                     filters={"node": node_id, "desired-state": "running"})
    except EngineError as err:
        return "engine does not answer: %s" % err.msg
    waiting = [t for t in tasks if (t.get("Status") or {}).get("State") != "running"]
    return "%d task(s) not running here yet" % len(waiting) if waiting else None


def wait_unlocked(client, timeout):
    """[what has not settled] after waiting up to timeout seconds for an unlocked manager
    to be ready and reachable, run every task the swarm places on it, and see every
    service converged, all of it for SETTLE seconds in a row.

    While the manager was locked, tasks placed on it failed ("cannot create a swarm scoped
    network when swarm is not active"); the swarm places them again only after a back-off,
    and places a global service's task on it only once it is ready again, so a state read
    right after the unlock can look converged a few seconds too early. A service broken for
    another reason is returned, not waited on forever: the unlock itself has happened and
    the health report names it.
    """
    services = [svc["Spec"]["Name"] for svc in call("list services", client.services)]
    node_id = (call("info", client.info).get("Swarm") or {}).get("NodeID")
    before = {"state": "active", "is_manager": True, "converged": services}
    start, settled_since = time.time(), None
    while True:
        problem = read_ready(client, before) or local_tasks_problem(client, node_id)
        now = time.time()
        settled_since = (settled_since or now) if problem is None else None
        if settled_since is not None and now - settled_since >= SETTLE:
            return []
        if now - start >= timeout:
            if problem is None:
                return []
            if problem.startswith("services not converged"):
                return sorted(set(services) - set(converged_services(client)))
            return [problem]
        time.sleep(POLL)


def ready_problem(before, info, nodes):
    """Why the engine is not back to its state before the restart; None once it is.

    A node that was in a swarm must be active in it again; a manager must also see a
    leader and itself ready and reachable, so the next manager restart keeps a majority.
    """
    local = read_local(info, nodes)
    if before["state"] != "active":
        return None
    if local["state"] != "active":
        return "swarm state %s%s" % (local["state"], ": " + local["error"]
                                     if local["error"] else "")
    if not before["is_manager"]:
        return None
    if not local["is_manager"]:
        return "not acting as a manager yet"
    me = [n for n in local.get("nodes") or [] if n["id"] == local["node_id"]]
    if not any(n["leader"] for n in local.get("nodes") or []):
        return "no raft leader"
    if not me or me[0]["state"] != "ready" or me[0]["reachability"] != "reachable":
        return "this manager is not ready and reachable yet"
    return None


def read_ready(client, before):
    """ready_problem on a fresh read; an engine that does not answer is a problem too."""
    try:
        info = call("info", client.info)
        if (info.get("Swarm") or {}).get("LocalNodeState") == "locked":
            return LOCKED
        manager = (info.get("Swarm") or {}).get("ControlAvailable")
        nodes = call("node list", client.nodes) if manager else None
        problem = ready_problem(before, info, nodes)
        if problem is None and before.get("tasks"):
            problem = tasks_problem(before["tasks"], read_local_tasks(client,
                                                                      before["node_id"]))
        if problem is None and manager and before.get("converged"):
            # Only what ran before: a service already failing is not the restart's to fix.
            back = converged_services(client)
            missing = [name for name in before["converged"] if name not in back]
            problem = "services not converged again: %s" % ", ".join(missing) \
                if missing else None
    except EngineError as err:
        return "engine does not answer: %s" % err.msg
    return problem


def read_before_restart(client):
    """(state, actions): what wait_ready compares with after the engine stops (the swarm
    state, converged services, this node's task containers) and the restart's plan;
    RestartRefused when stopping this manager would take a second one down."""
    before = read_state(client)
    actions = plan_restart(before)
    if before["is_manager"]:
        before["converged"] = converged_services(client)
    if before["state"] == "active":
        before["tasks"] = read_local_tasks(client, before["node_id"])
    return before, actions


def wait_ready(client, before, timeout, unlock_key=None):
    """Seconds until read_ready found nothing wrong; EngineError naming the last problem.
    A manager of an autolocked swarm comes back locked: unlock_key unlocks it (in the API
    request's body); without one the wait ends at once, naming the way forward."""
    start = time.time()
    while True:
        problem = read_ready(client, before)
        waited = round(time.time() - start, 2)
        if problem is None:
            return waited
        if problem == LOCKED:
            if not unlock_key:
                raise EngineError("%s: the manager came back locked (autolock): unlock it "
                                  "with playbooks/unlock.yml, or give this run the key "
                                  "(swarmops_swarm_unlock_key_file)" % before["hostname"],
                                  waited=waited)
            call("swarm unlock", client.unlock_swarm, unlock_key)
            continue
        if waited >= timeout:
            raise EngineError("the engine did not come back within %d s after its restart: "
                              "%s. Check `systemctl status docker` and `journalctl -u "
                              "docker` on %s" % (timeout, problem, before["hostname"]),
                              waited=waited)
        time.sleep(POLL)
