# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One swarm node's spec as seen from a manager: find it, plan, apply.

``find_node`` and ``plan_*`` are pure functions of the engine's /nodes responses.
Private to this collection.
"""

from __future__ import annotations

import time

from ansible_collections.swarmops.cluster.plugins.module_utils._docker_api import (
    ENGINE_ARGUMENT_SPEC, EngineError, call)
from ansible_collections.swarmops.cluster.plugins.module_utils._labels import (
    label_value_problems)
from ansible_collections.swarmops.cluster.plugins.module_utils._swarm import (
    PlanError, quorum_after_removal, summarize_node)

# The swarm_node module's options; the controller's judge of a re-run (plugin_utils) fills
# its parameters from the same defaults.
ARGUMENT_SPEC = dict(
    ENGINE_ARGUMENT_SPEC,
    node={"type": "str", "required": True},
    state={"type": "str", "choices": ["present", "absent"], "default": "present"},
    labels={"type": "dict"},
    labels_state={"type": "str", "choices": ["merge", "replace"], "default": "merge"},
    labels_to_remove={"type": "list", "elements": "str", "no_log": False},
    availability={"type": "str", "choices": ["active", "pause", "drain"]},
    role={"type": "str", "choices": ["manager", "worker"]},
    force={"type": "bool", "default": False},
    wait_timeout={"type": "int", "default": 0},
    remove_stale={"type": "bool", "default": False},
)

# Seconds a demoted stale manager entry may take to leave the raft before its removal.
STALE_WAIT = 15


def find_node(nodes, ref):
    """The /nodes entry whose ID, unique ID prefix or hostname is ref; None if absent.

    A hostname can name several entries: a host that left and joined again leaves a
    'down' entry behind. The live entry wins; two live ones are ambiguous.
    """
    by_id = [n for n in nodes if n["ID"] == ref]
    if by_id:
        return by_id[0]
    by_prefix = [n for n in nodes if n["ID"].startswith(ref)] if len(ref) >= 4 else []
    if len(by_prefix) == 1:
        return by_prefix[0]
    by_name = [n for n in nodes if (n.get("Description") or {}).get("Hostname") == ref]
    live = [n for n in by_name if (n.get("Status") or {}).get("State") != "down"]
    matches = live or by_name
    if len(matches) > 1:
        raise PlanError("node %r names %d nodes (%s); address it by node id - nothing was "
                        "changed" % (ref, len(matches), ", ".join(n["ID"] for n in matches)))
    return matches[0] if matches else None


def check_labels(labels, to_remove):
    """Labels are strings, and no key is both set and removed."""
    problems = label_value_problems(labels)
    if problems:
        raise PlanError("%s - nothing was changed" % "; ".join(problems))
    both = sorted(set(labels or {}) & set(to_remove or []))
    if both:
        raise PlanError("labels %s are both set and removed; drop them from one of "
                        "labels / labels_to_remove - nothing was changed" % ", ".join(both))


def desired_labels(current, labels, labels_state, to_remove):
    """The label set after merge or replace, minus the removed keys."""
    if labels_state == "replace":
        result = dict(labels or {})
    else:
        result = dict(current)
        result.update(labels or {})
    for key in to_remove or []:
        result.pop(key, None)
    return result


def plan_node(nodes, params):
    """(node, actions, new spec or None) for the requested state."""
    node = find_node(nodes, params["node"])
    if params["state"] == "absent":
        return node, plan_absent(node, params["force"]), None
    if node is None:
        known = sorted({hostname_of(n) for n in nodes})
        raise PlanError("no swarm node %r; known hostnames: %s - nothing was changed"
                        % (params["node"], ", ".join(known)))
    actions, spec = plan_present(nodes, node, params)
    return node, actions, spec


def plan_present(nodes, node, desired):
    """Actions and the new spec that bring one node's labels, availability, role in line."""
    check_labels(desired.get("labels"), desired.get("labels_to_remove"))
    spec = dict(node["Spec"])
    current_labels = spec.get("Labels") or {}
    labels = desired_labels(current_labels, desired.get("labels"), desired["labels_state"],
                            desired.get("labels_to_remove"))
    actions = []
    if labels != current_labels:
        added = {k: v for k, v in labels.items() if current_labels.get(k) != v}
        removed = sorted(set(current_labels) - set(labels))
        actions.append({"action": "labels", "set": added, "remove": removed})
        spec["Labels"] = labels
    for key, name in (("availability", "Availability"), ("role", "Role")):
        wanted = desired.get(key)
        if wanted and wanted != spec.get(name):
            actions.append({"action": key, "from": spec.get(name), "to": wanted})
            spec[name] = wanted
    # force: after force_new_cluster the other managers' entries are stale, the raft has
    # only the survivor (recover.yml demotes them).
    if spec.get("Role") == "worker" and node["Spec"].get("Role") == "manager" and \
            not desired.get("force"):
        if not quorum_after_removal([summarize_node(n) for n in nodes], summarize_node(node)):
            raise PlanError("demoting %s would leave the swarm without a raft majority of "
                            "reachable managers; add or repair managers first - nothing was "
                            "changed" % hostname_of(node))
    return actions, spec


def plan_absent(node, force):
    """Remove a node entry: never a manager, and a live node only with force."""
    if node is None:
        return []
    name = hostname_of(node)
    # A manager entry without ManagerStatus is not in the raft (left stale by
    # force_new_cluster): the engine removes it, and cannot demote it.
    if node["Spec"].get("Role") == "manager" and (node.get("ManagerStatus") or not force):
        raise PlanError("%s is a manager; demote it first (role: worker) - nothing was "
                        "changed" % name)
    state = (node.get("Status") or {}).get("State")
    if state != "down" and not force:
        raise PlanError("%s is %s, not down; make it leave the swarm first (swarm "
                        "state=absent on that host) or set force=true - nothing was changed"
                        % (name, state))
    return [{"action": "remove", "node_id": node["ID"], "force": state != "down"}]


def address_of(node):
    """The address a node entry was last seen on; None when the engine does not know it.

    A manager's Status.Addr can be 0.0.0.0 (the engine then knows it by its raft address)."""
    addr = (node.get("Status") or {}).get("Addr")
    if addr and addr != "0.0.0.0":
        return addr
    raft = (node.get("ManagerStatus") or {}).get("Addr") or ""
    return raft.rsplit(":", 1)[0].strip("[]") or None


def plan_stale(nodes, node):
    """Remove actions for the down entries a reinstalled host left behind: the live node's
    address, another ID. A hostname proves nothing (two hosts may share a default one, and
    the other may only be rebooting). A manager entry is demoted first (the engine removes
    no raft member)."""
    addr = address_of(node) if node is not None else None
    if addr is None:
        return []
    actions = []
    for other in nodes:
        if other["ID"] == node["ID"] or (other.get("Status") or {}).get("State") != "down" \
                or address_of(other) != addr:
            continue
        if other.get("ManagerStatus"):
            if not quorum_after_removal([summarize_node(n) for n in nodes],
                                        summarize_node(other)):
                raise PlanError("the stale manager entry %s of %s cannot be demoted without "
                                "losing the raft majority - nothing was changed"
                                % (other["ID"], hostname_of(node)))
            actions.append({"action": "demote-stale", "node_id": other["ID"]})
        actions.append({"action": "remove-stale", "node_id": other["ID"], "force": False})
    return actions


def hostname_of(node):
    """A node's hostname for messages."""
    return (node.get("Description") or {}).get("Hostname") or node["ID"]


def describe(node):
    """The diff view of one node's spec."""
    if node is None:
        return {}
    spec = node["Spec"]
    return {"id": node["ID"], "hostname": hostname_of(node), "labels": spec.get("Labels") or {},
            "availability": spec.get("Availability"), "role": spec.get("Role")}


def apply_update(client, node, spec):
    """Write the new spec at the version we read (the engine refuses a stale one)."""
    call("node update", client.update_node, node["ID"], node["Version"]["Index"], spec)


def apply_remove(client, action):
    """Remove a node entry from the swarm."""
    call("node remove", client.remove_node, action["node_id"], force=action["force"])


def apply_stale(client, actions):
    """Demote and remove stale entries; a demoted entry leaves the raft shortly after."""
    for action in actions:
        if action["action"] == "demote-stale":
            node = call("node inspect", client.inspect_node, action["node_id"])
            apply_update(client, node, dict(node["Spec"], Role="worker"))
        elif action["action"] == "remove-stale":
            deadline = time.time() + STALE_WAIT
            while True:
                try:
                    apply_remove(client, action)
                    break
                except EngineError:
                    if time.time() >= deadline:
                        raise
                    time.sleep(0.5)
