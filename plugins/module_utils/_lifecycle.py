# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plans of the day-2 playbooks, computed on the controller from one read of the cluster.

Pure functions: the inventory's node dicts (filter cluster_nodes), the swarm's nodes as a
manager that stays reports them (swarm_info), and the pool and volumes as a storage node
that stays reports them (node_facts). Every refusal is a problem in the plan, listed before
the playbook changes anything. Private to this collection.
"""

from __future__ import annotations

from ansible_collections.swarmops.cluster.plugins.module_utils._gluster_volume import (
    removal_problems)


def names_of(node, hostname=None):
    """Every name and address the swarm or the pool may know the node by."""
    names = {node["name"], node.get("source"), node.get("address"), hostname}
    names.update(node.get("aliases") or [])
    return {str(n) for n in names if n}


def swarm_entries(swarm_nodes, names, node_id=None):
    """The swarm's entries of the node: its own ID, or a hostname or address it has (a node
    reinstalled under the same name leaves a stale, down entry beside the live one)."""
    return [n for n in swarm_nodes
            if n["id"] == node_id or n.get("hostname") in names
            or str(n.get("addr") or "").split(":")[0] in names]


def manager_problems(swarm_nodes, entries, name):
    """Why taking the node's manager entries out would cost the swarm its raft majority."""
    managers = [n for n in swarm_nodes if n["role"] == "manager"]
    reachable = [n for n in managers if n["reachability"] == "reachable"]
    leaving = [n for n in entries if n["role"] == "manager"]
    if not leaving:
        return []
    total, up = len(managers), len(reachable)
    after = total - len(leaving)
    up_after = up - sum(1 for n in leaving if n["reachability"] == "reachable")
    if after == 0:
        return ["%s is the swarm's last manager: removing it destroys the swarm (add a "
                "manager first, or use playbooks/reset.yml)" % name]
    if up < total // 2 + 1:
        return ["the swarm has lost its raft majority (%d of %d managers reachable): no "
                "manager can be removed; recover it with playbooks/recover.yml" % (up, total)]
    if up_after < after // 2 + 1:
        return ["removing %s leaves %d of %d managers reachable, below the raft majority of "
                "%d; bring the unreachable managers back first" % (name, up_after, after,
                                                                  after // 2 + 1)]
    return []


def manager_warnings(swarm_nodes, entries):
    """What the removal leaves that site.yml will judge: an even number of managers."""
    left = sum(1 for n in swarm_nodes if n["role"] == "manager") - \
        sum(1 for n in entries if n["role"] == "manager")
    if left and left % 2 == 0 and len(entries) and any(n["role"] == "manager"
                                                        for n in entries):
        return ["%d managers remain: an even count tolerates no more failures than %d, and "
                "site.yml refuses it unless swarmops_swarm_allow_even_managers is true; add "
                "a manager (playbooks/replace_node.yml puts a new node in this one's place)"
                % (left, left - 1)]
    return []


def volume_removal(volumes, volume_name, names, allow_split_brain):
    """(the node's bricks of the cluster's volume, problems), also for other volumes the
    node holds bricks of: those are not this collection's to change."""
    bricks, problems = [], []
    for volume in volumes:
        mine = [b for b in volume["bricks"] if b["host"] in names]
        if not mine:
            continue
        if volume["name"] != volume_name:
            problems.append("volume %s (not the cluster's %s) has bricks on the node: %s; take "
                            "them out by hand first" % (volume["name"], volume_name,
                                                        ", ".join(b["name"] for b in mine)))
            continue
        bricks = [{"host": b["host"], "path": b["path"]} for b in mine]
        per_set = {}
        for index, brick in enumerate(volume["bricks"]):
            if brick in mine:
                per_set.setdefault(index // max(volume["replica"], 1), []).append(brick)
        found = removal_problems(volume, per_set, allow_split_brain)
        problems += ["volume %s: %s" % (volume["name"], p) for p in found]
    return bricks, problems


def pool_peer(pool, names):
    """The pool entry of the node (as the answering node's glusterd names it), or None."""
    return next((p for p in pool if not p.get("self")
                 and (set(p.get("hostnames") or [p["hostname"]]) & names)), None)


def removal_steps(plan):
    """The plan in words, in the order the playbook acts."""
    name, steps = plan["node"], []
    if plan["alive"] and plan["swarm_ids"]:
        steps += ["drain %s and wait until its tasks run elsewhere" % name,
                  "%s leaves the swarm%s" % (name, " (demoted first)" if plan["manager"]
                                             else "")]
    elif plan["manager"]:
        steps.append("demote %s (down) on a manager that stays" % name)
    steps += ["remove swarm entry %s" % i for i in plan["swarm_ids"]]
    if plan["alive"] and plan["mounted"]:
        steps.append("unmount the shared volume on %s and drop its fstab line" % name)
    if plan["bricks"]:
        steps.append("volume %s: remove-brick %s (the brick's data stays on %s)"
                     % (plan["volume"], ", ".join("%s:%s" % (b["host"], b["path"])
                                                  for b in plan["bricks"]), name))
    if plan["volume"]:
        steps.append("volume %s: auth.allow without %s" % (plan["volume"], name))
    if plan["peer"]:
        steps.append("detach gluster peer %s" % plan["peer"])
    steps.append("drop %s from /etc/hosts on the other nodes" % name)
    return steps


def removal_plan(node, nodes, cluster, options):
    """What playbooks/remove_node.yml does to remove `node`, and what refuses it.

    cluster: {alive, node_id, hostname, mounted (the node's own read when it answered),
    swarm_nodes (None when no manager that stays answered), volumes, pool (None when no
    storage node that stays answered)}. options: {allow_split_brain, volume (the cluster's
    volume name)}. auth_allow: the addresses of the inventory's other nodes, as the
    glusterfs role sets them.
    """
    volume = options.get("volume")
    plan = {"node": node, "alive": bool(cluster.get("alive")), "manager": False,
            "swarm_ids": [], "demote_ids": [], "bricks": [], "peer": None,
            "volume": volume if any(v["name"] == volume for v in cluster.get("volumes") or [])
            else None,
            "auth_allow": [n["address"] for n in nodes if n["name"] != node and n["address"]],
            "mounted": bool(cluster.get("mounted")), "problems": [], "warnings": [],
            "steps": []}
    target = next((n for n in nodes if n["name"] == node), None)
    if target is None:
        plan["problems"].append("%s is not a host of the inventory's swarm_managers or "
                                "swarm_workers; name the host as the inventory does (take "
                                "it out of the inventory after this playbook)" % node)
        return plan
    names = names_of(target, cluster.get("hostname"))
    swarm_nodes = cluster.get("swarm_nodes")
    if swarm_nodes is None:
        plan["problems"].append("no manager other than %s answered: the swarm cannot be "
                                "read (playbooks/recover.yml rebuilds lost managers)" % node)
        swarm_nodes = []
    entries = swarm_entries(swarm_nodes, names, cluster.get("node_id"))
    plan["swarm_ids"] = [n["id"] for n in entries]
    plan["manager"] = any(n["role"] == "manager" for n in entries)
    plan["demote_ids"] = [n["id"] for n in entries if n["role"] == "manager"]
    plan["problems"] += manager_problems(swarm_nodes, entries, node)
    plan["warnings"] = manager_warnings(swarm_nodes, entries)
    plan["bricks"], problems = volume_removal(cluster.get("volumes") or [], volume, names,
                                              options.get("allow_split_brain"))
    plan["problems"] += problems
    peer = pool_peer(cluster.get("pool") or [], names)
    plan["peer"] = peer["hostname"] if peer else None
    if not entries and not plan["bricks"] and not peer:
        plan["problems"].append("%s is neither in the swarm nor in the storage pool: "
                                "nothing to remove" % node)
    plan["steps"] = removal_steps(plan)
    return plan
