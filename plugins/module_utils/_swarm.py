# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Swarm membership of one node: read its state, plan, apply.

``read_local`` and ``plan_*`` are pure functions of engine responses, so unit tests feed
them responses recorded from the lab. Private to this collection.
"""

from __future__ import annotations

import time

from ansible_collections.swarmops.cluster.plugins.module_utils._common import PlanError
from ansible_collections.swarmops.cluster.plugins.module_utils._docker_api import (
    EngineError, call)

SWARM_PORT = 2377


def read_local(info, nodes=None):
    """Normalize the engine's /info (and, on managers, /nodes) into the node's swarm state."""
    swarm = info.get("Swarm") or {}
    local = {
        "state": swarm.get("LocalNodeState") or "inactive",
        "node_id": swarm.get("NodeID") or None,
        "node_addr": swarm.get("NodeAddr") or None,
        "is_manager": bool(swarm.get("ControlAvailable")),
        "cluster_id": (swarm.get("Cluster") or {}).get("ID"),
        "remote_managers": sorted(m["Addr"] for m in swarm.get("RemoteManagers") or []),
        "error": swarm.get("Error") or None,
        "hostname": info.get("Name"),
        # A manager's /info carries the swarm's spec: whether managers lock on restart.
        "autolock": bool((((swarm.get("Cluster") or {}).get("Spec") or {})
                          .get("EncryptionConfig") or {}).get("AutoLockManagers")),
    }
    if nodes is not None:
        local["nodes"] = [summarize_node(n) for n in nodes]
    return local


def summarize_node(node):
    """The facts roles use about one swarm node, from the engine's /nodes entry."""
    spec = node.get("Spec") or {}
    manager = node.get("ManagerStatus") or {}
    return {
        "id": node["ID"],
        "hostname": (node.get("Description") or {}).get("Hostname"),
        "role": spec.get("Role"),
        "availability": spec.get("Availability"),
        "labels": spec.get("Labels") or {},
        "state": (node.get("Status") or {}).get("State"),
        "addr": (node.get("Status") or {}).get("Addr"),
        "leader": bool(manager.get("Leader")),
        "reachability": manager.get("Reachability"),
        "version": (node.get("Version") or {}).get("Index"),
    }


def role_of(local):
    """'manager', 'worker' or None (not in a swarm) for diffs and results."""
    if local["state"] != "active":
        return None
    return "manager" if local["is_manager"] else "worker"


def normalize_addr(addr):
    """'host' or 'host:port' -> 'host:port' with the swarm port as default."""
    if addr.startswith("["):
        return addr if "]:" in addr else "%s:%d" % (addr, SWARM_PORT)
    if addr.count(":") == 1:
        return addr
    if ":" in addr:  # bare IPv6
        return "[%s]:%d" % (addr, SWARM_PORT)
    return "%s:%d" % (addr, SWARM_PORT)


def check_usable(local, hostname):
    """Refuse states in which no membership change is safe to plan."""
    if local["state"] == "locked":
        raise PlanError("%s: the manager is locked (autolock): unlock it with "
                        "playbooks/unlock.yml (the key from swarmops_swarm_unlock_key_file) "
                        "- nothing was changed" % hostname)
    if local["state"] in ("pending", "error"):
        raise PlanError("%s: the node's swarm state is %s (%s); make it leave with "
                        "state=absent force=true, then retry - nothing was changed"
                        % (hostname, local["state"], local["error"] or "no error given"))


def plan_present(local, desired, leaderless=False):
    """Init a swarm on a node outside any swarm; confirm an existing manager."""
    hostname = local["hostname"]
    check_usable(local, hostname)
    if local["state"] == "inactive":
        init = {"action": "init", "advertise_addr": desired.get("advertise_addr"),
                "listen_addr": desired.get("listen_addr"),
                "default_addr_pool": desired.get("default_addr_pool"),
                "subnet_size": desired.get("subnet_size"),
                "data_path_addr": desired.get("data_path_addr"),
                "force_new_cluster": False}
        return [init]
    if not local["is_manager"]:
        raise PlanError("%s is a worker of another swarm (managers %s); state=present "
                        "initializes a swarm or confirms a manager. Use state=join, or leave "
                        "first with state=absent - nothing was changed"
                        % (hostname, ", ".join(local["remote_managers"]) or "unknown"))
    if desired.get("force_new_cluster") and leaderless:
        return [{"action": "init", "force_new_cluster": True,
                 "advertise_addr": desired.get("advertise_addr") or local["node_addr"],
                 "listen_addr": desired.get("listen_addr")}]
    return []


def plan_join(local, desired):
    """Join when outside any swarm; no-op when already in the wanted one; refuse another."""
    hostname = local["hostname"]
    check_usable(local, hostname)
    wanted = sorted(normalize_addr(a) for a in desired["remote_addrs"])
    if local["state"] == "inactive":
        return [{"action": "join", "role": desired.get("role"), "remote_addrs": wanted,
                 "advertise_addr": desired.get("advertise_addr"),
                 "listen_addr": desired.get("listen_addr"),
                 "data_path_addr": desired.get("data_path_addr")}]
    same = bool(set(wanted) & set(local["remote_managers"]))
    cluster_id = desired.get("cluster_id")
    if cluster_id and local["cluster_id"]:
        same = local["cluster_id"] == cluster_id
    if not same:
        current = local["cluster_id"] or "unknown to a worker (its managers: %s)" % (
            ", ".join(local["remote_managers"]) or "none")
        raise PlanError("%s is already in swarm %s; it was asked to join swarm %s at %s. "
                        "Make it leave that swarm first (state=absent, force=true) - "
                        "nothing was changed" % (hostname, current,
                                                 cluster_id or "(cluster id not given)",
                                                 ", ".join(wanted)))
    return []


def manager_counts(nodes):
    """(managers, reachable managers) from node summaries."""
    managers = [n for n in nodes if n["role"] == "manager"]
    reachable = [n for n in managers if n["reachability"] == "reachable"]
    return len(managers), len(reachable)


def quorum_after_removal(nodes, leaving=None):
    """True when removing one manager leaves a raft majority: a reachable one, or the node
    summary `leaving` (an unreachable manager leaves the reachable count as it is)."""
    total, reachable = manager_counts(nodes)
    remaining = total - 1
    lost = 1 if leaving is None or leaving["reachability"] == "reachable" else 0
    return remaining >= 1 and reachable - lost >= remaining // 2 + 1


def plan_absent(local, force):
    """Leave the swarm; a manager is demoted first, and quorum loss needs force."""
    hostname = local["hostname"]
    if local["state"] == "inactive":
        return []
    if local["state"] != "active" or not local["is_manager"]:
        return [{"action": "leave", "force": local["state"] != "active" or force}]
    if quorum_after_removal(local["nodes"]):
        return [{"action": "demote", "node_id": local["node_id"]},
                {"action": "leave", "force": False}]
    total, reachable = manager_counts(local["nodes"])
    if not force:
        why = ("it is the last manager: leaving destroys the swarm" if total == 1 else
               "%d of %d managers are reachable: leaving breaks the raft quorum"
               % (reachable, total))
        raise PlanError("%s: refusing to leave, %s. Add managers first, or set force=true "
                        "to leave anyway - nothing was changed" % (hostname, why))
    return [{"action": "leave", "force": True}]


def plan_autolock(local, autolock, initializing=False):
    """Lock or unlock the managers on restart (pure): None leaves it as it is. A swarm
    this run initializes starts unlocked, so asking for autolock adds the switch."""
    if autolock is None or (not initializing and local["autolock"] == autolock):
        return []
    if not initializing and (local["state"] != "active" or not local["is_manager"]):
        raise PlanError("%s is not a manager of an active swarm; autolock is set on a "
                        "manager - nothing was changed" % local["hostname"])
    return [] if initializing and not autolock else [{"action": "autolock",
                                                     "enabled": bool(autolock)}]


def plan_unlocked(local):
    """Nothing to do for state=unlocked once unlock_first ran; a manager still locked had
    no key (pure)."""
    if local["state"] == "locked":
        raise PlanError("%s: the manager is locked and no unlock_key was given - nothing "
                        "was changed" % local["hostname"])
    return []


def plan_rotation(local, rotate):
    """A rotation of the join tokens and/or the swarm's root CA (pure): on an active manager
    only, since only a manager can change the cluster's secrets. Rotation is an act, not a
    state: asked for, it is always planned."""
    rotate = sorted(set(rotate or []))
    if not rotate:
        return []
    check_usable(local, local["hostname"])
    if local["state"] != "active" or not local["is_manager"]:
        raise PlanError("%s is not a manager of an active swarm; rotate the join tokens or "
                        "the CA on a manager - nothing was changed" % local["hostname"])
    return [{"action": "rotate", "worker_token": "worker_token" in rotate,
             "manager_token": "manager_token" in rotate, "ca": "ca" in rotate,
             "unlock_key": "unlock_key" in rotate}]


def describe(local):
    """The diff view of a node's membership."""
    return {"state": local["state"], "role": role_of(local),
            "cluster_id": local["cluster_id"], "node_id": local["node_id"],
            "autolock": local.get("autolock", False)}


def predict(local, actions):
    """The diff's after-view: what the actions will make of the node."""
    after = describe(local)
    for action in actions:
        if action["action"] in ("init", "join"):
            after.update(state="active", role=action.get("role") or "manager")
        elif action["action"] == "demote":
            after["role"] = "worker"
        elif action["action"] == "leave":
            after = {"state": "inactive", "role": None, "cluster_id": None, "node_id": None}
        elif action["action"] == "rotate":
            after["rotated"] = [k for k in ("worker_token", "manager_token", "ca",
                                            "unlock_key") if action.get(k)]
        elif action["action"] == "autolock":
            after["autolock"] = action["enabled"]
        elif action["action"] == "unlock":
            after["state"] = "active"
    return after


def apply(client, actions, desired):
    """Carry out planned actions in order. The join token comes from desired, not actions."""
    for action in actions:
        kind = action["action"]
        if kind == "init":
            init_args = {k: action[k] for k in ("advertise_addr", "listen_addr",
                                                "force_new_cluster", "default_addr_pool",
                                                "subnet_size", "data_path_addr")
                         if action.get(k) is not None}
            call("swarm init", client.init_swarm, **init_args)
        elif kind == "join":
            join_args = {k: action[k] for k in ("advertise_addr", "listen_addr",
                                                "data_path_addr") if action.get(k)}
            call("swarm join", client.join_swarm, action["remote_addrs"],
                 desired["join_token"], **join_args)
        elif kind == "demote":
            demote_self(client, action["node_id"])
        elif kind == "leave":
            call("swarm leave", client.leave_swarm, force=action["force"])
        elif kind == "rotate":
            rotate(client, action, desired.get("rotate_timeout") or 300)
        elif kind == "autolock":
            set_autolock(client, action["enabled"])
        elif kind == "unlock":
            # The key goes in the request body, never on a command line.
            call("swarm unlock", client.unlock_swarm, desired["unlock_key"])


def update_spec(client, change=None, **rotations):
    """One swarm update: the whole current spec, with what change(spec) returns (top-level
    keys) merged in, and the rotation flags. The API takes the body as the new spec, so an
    update without the rest of it would reset the swarm's settings."""
    swarm = call("swarm inspect", client.inspect_swarm)
    spec = dict(swarm["Spec"])
    if change:
        spec.update(change(spec))
    call("swarm update", client.update_swarm, swarm["Version"]["Index"], swarm_spec=spec,
         **rotations)


def set_autolock(client, enabled):
    """Switch autolock in one swarm update that keeps the rest of the spec."""
    update_spec(client, lambda spec: {"EncryptionConfig": dict(
        spec.get("EncryptionConfig") or {}, AutoLockManagers=bool(enabled))})


def bump_ca(spec):
    """The CAConfig that makes the swarm rotate its root CA (docker swarm ca --rotate)."""
    ca_config = dict(spec.get("CAConfig") or {})
    ca_config["ForceRotate"] = int(ca_config.get("ForceRotate") or 0) + 1
    return {"CAConfig": ca_config}


def unlock_key(client):
    """The swarm's current unlock key (a manager of an autolocked swarm), else None."""
    return call("swarm unlock-key", client.get_unlock_key).get("UnlockKey") or None


def rotate(client, action, timeout):
    """Rotate the tokens, the unlock key and/or the root CA in one swarm update (the rest
    of the spec kept); wait for the CA's."""
    update_spec(client, bump_ca if action["ca"] else None,
                rotate_worker_token=action["worker_token"],
                rotate_manager_token=action["manager_token"],
                rotate_manager_unlock_key=action.get("unlock_key", False))
    if action["ca"]:
        wait_for_new_root(client, timeout)


def nodes_on_old_root(swarm, nodes):
    """Hostnames of the nodes that are up and do not trust the swarm's root yet (pure); the
    swarm's own rotation flag counts as the last one."""
    root = (swarm.get("TLSInfo") or {}).get("TrustRoot")
    stale = sorted((n.get("Description") or {}).get("Hostname") or n["ID"] for n in nodes
                   if (n.get("Status") or {}).get("State") != "down"
                   and ((n.get("Description") or {}).get("TLSInfo") or {}).get("TrustRoot")
                   != root)
    if swarm.get("RootRotationInProgress") and not stale:
        stale = ["(the swarm: root rotation in progress)"]
    return stale


def wait_for_new_root(client, timeout, interval=2):
    """Poll until every node that is up has a certificate of the new root CA, as
    `docker swarm ca --rotate` waits; a node that is down gets one when it is back."""
    deadline = time.time() + timeout
    while True:
        stale = nodes_on_old_root(call("swarm inspect", client.inspect_swarm),
                                  call("node list", client.nodes))
        if not stale:
            return
        if time.time() > deadline:
            # Not "run again": that would start another rotation.
            raise EngineError("the root CA rotation did not reach %s within %d s; it goes "
                              "on in the swarm (docker info shows RootRotationInProgress "
                              "until it ends): bring those nodes back or wait, and do not "
                              "rotate again meanwhile" % (", ".join(stale), timeout),
                              stale_nodes=stale)
        time.sleep(interval)


def demote_self(client, node_id, wait=30):
    """Demote this manager and wait until the engine has stopped acting as one."""
    node = call("node inspect", client.inspect_node, node_id)
    spec = dict(node["Spec"], Role="worker")
    call("node update", client.update_node, node_id, node["Version"]["Index"], spec)
    deadline = time.time() + wait
    while time.time() < deadline:
        if not (call("info", client.info).get("Swarm") or {}).get("ControlAvailable"):
            return
        time.sleep(0.5)


def read_state(client, with_nodes=True):
    """Read the local swarm state once; on a manager, the node list too."""
    info = call("info", client.info)
    local = read_local(info)
    if local["is_manager"] and with_nodes:
        local = read_local(info, call("node list", client.nodes))
    return local


def is_leaderless(client):
    """True when this manager cannot reach a raft leader (inspect fails)."""
    try:
        call("swarm inspect", client.inspect_swarm)
    except Exception:  # pylint: disable=broad-except  # any failure here means no leader
        return True
    return False


def swarm_facts(client, local, with_tokens=False):
    """Cluster id, node id and (on managers, if asked) join tokens of the node's swarm."""
    facts = {"node_id": local["node_id"], "cluster_id": local["cluster_id"],
             "role": role_of(local), "join_tokens": {}}
    if local["state"] == "active" and local["is_manager"] and with_tokens:
        swarm = call("swarm inspect", client.inspect_swarm)
        facts["join_tokens"] = {"manager": swarm["JoinTokens"]["Manager"],
                                "worker": swarm["JoinTokens"]["Worker"]}
    return facts
