# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Has a stack converged? Pure functions of the engine's /services, /tasks and /nodes.

A task belongs to the service's current version when its Spec equals the service's
TaskTemplate: the engine copies the template into every task it creates and has no
version field on tasks (``docker service ps`` asks the engine for the same thing with
its private ``_up-to-date`` filter). Private to this collection.
"""

from __future__ import annotations

import ipaddress
import json

from ansible_collections.swarmops.cluster.plugins.module_utils._stack_spec import running_mode

# A slot/node with this many failed or rejected tasks in a row, and none running, is
# not going to converge by waiting: the engine would keep retrying the same error.
FAILURE_THRESHOLD = 3
MAX_ERRORS = 5
FAILED_STATES = ("failed", "rejected")
# Update states in which the service is still moving, or stopped until someone acts.
MOVING_UPDATES = ("updating", "rollback_started")
STUCK_UPDATES = ("paused", "rollback_paused")
# Keys of a task spec that may differ from the service's template without the task
# being out of date: the engine fills Runtime in on the service only, and a change of
# placement alone leaves tasks that still fit where they run.
IGNORED_TASK_KEYS = ("Runtime", "Placement")


def task_spec_key(spec):
    """A comparable form of a task spec or task template."""
    spec = {k: v for k, v in (spec or {}).items() if k not in IGNORED_TASK_KEYS}
    return json.dumps(spec, sort_keys=True)


def current_tasks(service, tasks):
    """The service's tasks that run its current spec, newest first."""
    template = task_spec_key(service["Spec"].get("TaskTemplate"))
    mine = [t for t in tasks if t.get("ServiceID") == service["ID"]
            and task_spec_key(t.get("Spec")) == template]
    return sorted(mine, key=lambda t: time_key(task_time(t)), reverse=True)


def task_time(task):
    """When a task last changed state, as the engine's RFC 3339 string."""
    return (task.get("Status") or {}).get("Timestamp") or task.get("UpdatedAt") or ""


def time_key(stamp):
    """An engine timestamp in a form that sorts by time: the engine drops trailing zeros
    of the fraction, so pad it ("...:05Z" sorts after "...:05.5Z" as a plain string)."""
    stamp = (stamp or "").rstrip("Z")
    whole, _dot, fraction = stamp.partition(".")
    return whole + "." + fraction.ljust(9, "0")


def task_state(task):
    """The observed state of a task."""
    return (task.get("Status") or {}).get("State") or ""


def node_value(node, key):
    """What a placement constraint key names on a node; None when the node lacks it."""
    spec = node.get("Spec") or {}
    desc = node.get("Description") or {}
    platform = desc.get("Platform") or {}
    fixed = {"node.id": node.get("ID"), "node.hostname": desc.get("Hostname"),
             "node.role": spec.get("Role"), "node.platform.os": platform.get("OS"),
             "node.platform.arch": platform.get("Architecture"),
             "node.ip": (node.get("Status") or {}).get("Addr")}
    if key in fixed:
        return fixed[key]
    for prefix, labels in (("node.labels.", spec.get("Labels")),
                           ("engine.labels.", (desc.get("Engine") or {}).get("Labels"))):
        if key.startswith(prefix):
            return (labels or {}).get(key[len(prefix):])
    return None


def value_matches(key, have, want):
    """Swarm compares constraint values case-insensitively; node.ip also takes a CIDR."""
    if have is None:
        return False
    if key == "node.ip" and "/" in want:
        try:
            return ipaddress.ip_address(have) in ipaddress.ip_network(want, strict=False)
        except ValueError:
            return False
    return have.lower() == want.lower()


def constraint_holds(node, constraint):
    """Does one "key ==|!= value" constraint hold on node?"""
    for operator in ("==", "!="):
        key, found, want = constraint.partition(operator)
        if found:
            key, want = key.strip(), want.strip()
            match = value_matches(key, node_value(node, key), want)
            return match if operator == "==" else not match
    return False


def eligible_nodes(service, nodes):
    """Nodes a global service must run on: ready, active, and within its constraints."""
    placement = service["Spec"].get("TaskTemplate", {}).get("Placement") or {}
    constraints = placement.get("Constraints") or []
    return [n for n in nodes
            if (n.get("Status") or {}).get("State") == "ready"
            and (n.get("Spec") or {}).get("Availability") == "active"
            and all(constraint_holds(n, c) for c in constraints)]


def service_mode(service):
    """(mode, replica count or None) of a service."""
    return running_mode(service["Spec"])


def restart_condition(service):
    """The service's restart condition; the engine's default is "any"."""
    policy = service["Spec"].get("TaskTemplate", {}).get("RestartPolicy") or {}
    return policy.get("Condition") or "any"


def failure_limit(service):
    """How many failures in a row mean the slot will not come up by itself."""
    policy = service["Spec"].get("TaskTemplate", {}).get("RestartPolicy") or {}
    if (policy.get("Condition") or "any") == "none":
        return 1
    attempts = int(policy.get("MaxAttempts") or 0)
    return min(FAILURE_THRESHOLD, attempts) if attempts else FAILURE_THRESHOLD


def failure_streak(group):
    """Failed/rejected tasks in a row, newest first, past retries still on their way."""
    streak = 0
    for task in group:
        state = task_state(task)
        if state in FAILED_STATES:
            streak += 1
        elif state in ("complete", "running", "shutdown") or streak:
            break
    return streak


def group_tasks(tasks, mode, live_nodes):
    """Current tasks per slot (replicated) or per node (global), newest first.

    Tasks on nodes that are down (or removed) do not count: the engine replaces them
    elsewhere - except a completed one: a one-shot job that finished there is done, and the
    engine does not run it again.
    """
    groups = {}
    for task in tasks:
        node = task.get("NodeID")
        if node and node not in live_nodes and task_state(task) != "complete":
            continue
        key = node if mode == "global" else task.get("Slot")
        if mode == "global" and not node:
            continue
        groups.setdefault(key, []).append(task)
    return groups


def summarize_group(group, one_shot):
    """"running", "completed" or None for one slot/node's tasks (newest first)."""
    for task in group:
        if task.get("DesiredState") == "running" and task_state(task) == "running":
            return "running"
    if one_shot and group and task_state(group[0]) == "complete":
        return "completed"
    return None


def task_errors(tasks):
    """Distinct task errors, newest first."""
    errors = []
    for task in sorted(tasks, key=lambda t: time_key(task_time(t)), reverse=True):
        err = (task.get("Status") or {}).get("Err")
        if err and err not in errors:
            errors.append(err)
    return errors[:MAX_ERRORS]


def update_problem(service):
    """(state, message) from the service's UpdateStatus; (None, None) when settled.

    A completed rollback means the deploy did not take. It does not linger: the next
    deploy clears UpdateStatus even when it changes nothing (seen on engine 20.10).
    """
    status = service.get("UpdateStatus") or {}
    state = status.get("State")
    if state in MOVING_UPDATES:
        return "pending", None
    if state in STUCK_UPDATES or state == "rollback_completed":
        return "failed", status.get("Message") or state
    return None, None


def update_errors(service, tasks):
    """Errors of the service's tasks since a stuck or rolled back update started: after a
    rollback, the tasks that failed ran the spec that is no longer current."""
    started = time_key((service.get("UpdateStatus") or {}).get("StartedAt"))
    return task_errors([t for t in tasks if t.get("ServiceID") == service["ID"]
                        and time_key(task_time(t)) >= started])


def count_groups(service, current, nodes):
    """(desired, running, completed, task groups that are neither) for a service."""
    mode, replicas = service_mode(service)
    live = {n["ID"] for n in nodes if (n.get("Status") or {}).get("State") != "down"}
    groups = group_tasks(current, mode, live)
    one_shot = restart_condition(service) in ("none", "on-failure")
    if mode == "global":
        # Tasks on nodes the service no longer fits are being removed; not waited for.
        wanted = [n["ID"] for n in eligible_nodes(service, nodes)]
        desired = len(wanted)
    else:
        wanted = list(groups)
        desired = replicas or 0
    summary = {key: summarize_group(groups.get(key, []), one_shot) for key in wanted}
    # Slots above the replica count linger while a scale-down removes them.
    running = min(desired, sum(1 for v in summary.values() if v == "running"))
    completed = min(desired - running, sum(1 for v in summary.values() if v == "completed"))
    waiting = [groups.get(key, []) for key, v in summary.items() if v is None]
    return desired, running, completed, waiting


def finished_one_shot(service, desired, completed, waiting):
    """True for a service that does not restart on success whose every slot completed."""
    return restart_condition(service) in ("none", "on-failure") and not waiting \
        and completed >= desired


def service_status(service, tasks, nodes):
    """Convergence of one service: counts of its current version, state and errors.

    state is "converged" when every replica (or eligible node) runs a task of the current
    spec - or, for services that do not restart on success, finished one - and no update
    is under way; "failed" when a slot keeps failing or the update is stuck or rolled
    back; "pending" otherwise.
    """
    current = current_tasks(service, tasks)
    mode = service_mode(service)[0]
    desired, running, completed, waiting = count_groups(service, current, nodes)
    update_state, update_message = update_problem(service)
    errors = task_errors(current)
    if update_message:
        errors = [update_message] + [e for e in update_errors(service, tasks)
                                     if e not in errors] + errors
    limit = failure_limit(service)
    if update_state == "failed" and finished_one_shot(service, desired, completed, waiting):
        # The update monitor takes a one-shot task that exited 0 within its monitor period
        # for an "early termination" and pauses the update; the job did its work.
        update_state, errors = None, task_errors(current)
    if update_state == "failed" or any(failure_streak(g) >= limit for g in waiting):
        state = "failed"
    elif update_state is None and running + completed >= desired:
        state = "converged"
    else:
        state = "pending"
    return {"name": service["Spec"]["Name"], "mode": mode, "desired": desired,
            "running": running, "completed": completed, "state": state,
            "errors": errors[:MAX_ERRORS]}


def stack_status(services, tasks, nodes):
    """Convergence of every service of a stack: {"converged", "services": {name: ...}}."""
    result = {}
    for service in services:
        result[service["Spec"]["Name"]] = service_status(service, tasks, nodes)
    return {"converged": all(s["state"] == "converged" for s in result.values()),
            "services": result}
