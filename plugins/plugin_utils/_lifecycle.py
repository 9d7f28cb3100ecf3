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
            or str(n.get("addr") or "").split(":", maxsplit=1)[0] in names]


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
                "%d; bring the unreachable managers back first"
                % (name, up_after, after, after // 2 + 1)]
    return []


def manager_warnings(swarm_nodes, entries):
    """What the removal leaves that site.yml will judge: an even number of managers."""
    left = sum(1 for n in swarm_nodes if n["role"] == "manager") - \
        sum(1 for n in entries if n["role"] == "manager")
    if left and left % 2 == 0 and any(n["role"] == "manager" for n in entries):
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
    steps = []
    for node in plan["leave"]:
        steps += ["drain %s and wait until its tasks run elsewhere" % node["name"],
                  "%s leaves the swarm%s" % (node["name"], " (demoted first)"
                                             if node["manager"] else "")]
    steps += ["demote %s (down) on a manager that stays" % name for name in plan["demote"]]
    steps += ["remove swarm entry %s" % i for i in plan["swarm_ids"]]
    steps += ["unmount the shared volume on %s and drop its fstab line" % name
              for name in plan["unmount"]]
    if plan["bricks"]:
        steps.append("volume %s: remove-brick %s (the bricks' data stays on the nodes' disks)"
                     % (plan["volume"], ", ".join("%s:%s" % (b["host"], b["path"])
                                                  for b in plan["bricks"])))
    if plan["volume"]:
        steps.append("volume %s: auth.allow without %s" % (plan["volume"], plan["node"]))
    steps += ["detach gluster peer %s" % peer for peer in plan["peers"]]
    steps.append("drop %s from /etc/hosts on the other nodes" % plan["node"])
    return steps


def removal_targets(node):
    """The nodes to remove, named as one name, a comma-separated list or a list."""
    names = node.split(",") if isinstance(node, str) else list(node or [])
    return list(dict.fromkeys(str(n).strip() for n in names if str(n).strip()))


def empty_removal(targets, nodes, volume):
    """A removal plan with nothing in it yet."""
    return {"nodes": targets, "node": ", ".join(targets), "answers": [], "leave": [],
            "demote": [], "manager": False, "swarm_ids": [], "demote_ids": [], "bricks": [],
            "peers": [], "unmount": [], "volume": volume,
            "auth_allow": [n["address"] for n in nodes
                           if n["name"] not in targets and n["address"]],
            "problems": [], "warnings": [], "steps": []}


def add_node_removal(plan, target, read, cluster):
    """Put one node's swarm entries, peer and mount into the plan; the entries it has."""
    name = target["name"]
    names = names_of(target, read.get("hostname"))
    entries = swarm_entries(cluster.get("swarm_nodes") or [], names, read.get("node_id"))
    ids = [n["id"] for n in entries]
    manager = any(n["role"] == "manager" for n in entries)
    # Only the node's own live entry can drain and leave; stale entries are removed.
    live = read.get("alive") and read.get("node_id") in ids
    if live:
        plan["leave"].append({"name": name, "id": read["node_id"], "manager": manager})
    if read.get("alive"):
        plan["answers"].append(name)
    if read.get("alive") and read.get("mounted"):
        plan["unmount"].append(name)
    down = [n["id"] for n in entries if n["role"] == "manager"
            and not (live and n["id"] == read["node_id"])]
    if down:
        plan["demote"].append(name)
    plan["swarm_ids"] += ids
    plan["demote_ids"] += down
    plan["manager"] = plan["manager"] or manager
    peer = pool_peer(cluster.get("pool") or [], names)
    if peer:
        plan["peers"].append(peer["hostname"])
    if not entries and not peer and not any(b["host"] in names for v in
                                            cluster.get("volumes") or []
                                            for b in v["bricks"]):
        plan["problems"].append("%s is neither in the swarm nor in the storage pool: "
                                "nothing to remove" % name)
    return entries, names


def removal_plan(node, nodes, cluster, options):
    """What playbooks/remove_node.yml does to remove `node` (a name, a comma-separated list
    or a list: several nodes leave in one plan), and what refuses it.

    cluster: {reads: {name: {alive, node_id, hostname, mounted}} (each node's own read when
    it answered), swarm_nodes (None when no manager that stays answered), volumes, pool
    (None when no storage node that stays answered)}. options: {allow_split_brain, volume
    (the cluster's volume name), kind (swarmops_storage)}. auth_allow: the addresses of the inventory's other nodes,
    as the glusterfs role sets them.
    """
    targets = removal_targets(node)
    volume = options.get("volume")
    plan = empty_removal(targets, nodes, volume if any(
        v["name"] == volume for v in cluster.get("volumes") or []) else None)
    by_name = {n["name"]: n for n in nodes}
    unknown = [t for t in targets if t not in by_name]
    if unknown or not targets:
        plan["problems"] += ["%s is not a host of the inventory's swarm_managers or "
                             "swarm_workers; name the host as the inventory does (take it "
                             "out of the inventory after this playbook)" % t
                             for t in unknown or ["''"]]
        return plan
    swarm_nodes = cluster.get("swarm_nodes")
    if swarm_nodes is None:
        plan["problems"].append("no manager other than %s answered: the swarm cannot be "
                                "read (playbooks/recover.yml rebuilds lost managers)"
                                % plan["node"])
    entries, names = [], set()
    for target in targets:
        found, known = add_node_removal(plan, by_name[target],
                                        (cluster.get("reads") or {}).get(target) or {},
                                        cluster)
        entries += found
        names |= known
    plan["problems"] += manager_problems(swarm_nodes or [], entries, plan["node"])
    plan["warnings"] = manager_warnings(swarm_nodes or [], entries)
    if options.get("kind") == "local":
        plan["warnings"] += ["%s keeps its DOCKERDIR on its own disk (swarmops_storage: "
                             "local): copy what its pinned services need before it goes"
                             % t for t in targets]
    plan["bricks"], problems = volume_removal(cluster.get("volumes") or [], volume, names,
                                              options.get("allow_split_brain"))
    plan["problems"] += problems
    plan["steps"] = removal_steps(plan)
    return plan


def new_node_problems(new, target, node_read, pool):
    """Why the new host cannot take a node's place: not in the inventory, not answering, or
    already in a swarm or the storage pool."""
    if target is None:
        return ["%s is not a host of the inventory's swarm_managers or swarm_workers; add "
                "the fresh host to the inventory, in the old node's group" % new]
    if not node_read.get("answered"):
        return ["%s does not answer: the new host must be up and reachable" % new]
    problems = []
    if node_read.get("swarm_state") not in (None, "inactive"):
        problems.append("%s is already in a swarm (%s): replace onto a fresh host, or reset "
                        "it first (playbooks/reset.yml)" % (new, node_read["swarm_state"]))
    if pool_peer(pool or [], names_of(target)):
        problems.append("%s is already a peer of the storage pool: replace onto a fresh host"
                        % new)
    return problems


def replacement_pairs(volumes, volume_name, old_names, new_address, dirs):
    """The old node's bricks of the cluster's volume, each with the brick that takes its
    place: same role (data or arbiter) on the new host, in the role's directory."""
    volume = next((v for v in volumes if v["name"] == volume_name), None)
    return [{"old": {"host": b["host"], "path": b["path"]},
             "new": {"host": new_address,
                     "path": dirs["arbiter_brick_dir"] if b.get("arbiter")
                     else dirs["brick_dir"]}}
            for b in (volume or {}).get("bricks", []) if b["host"] in old_names]


def replacement_steps(plan):
    """The replacement in words, in the order the playbook acts."""
    old, new, steps = plan["old"], plan["new"], []
    if plan["resumed"]:
        steps.append("%s holds %s's bricks already (an earlier run): go on from there"
                     % (new, old))
    if plan["bricks"]:
        steps += ["install GlusterFS on %s, make its brick directory, probe it into the pool"
                  % new]
        steps += ["volume %s: replace-brick %s:%s -> %s:%s, heal full, wait until 0 pending"
                  % (plan["volume"], p["old"]["host"], p["old"]["path"], p["new"]["host"],
                     p["new"]["path"]) for p in plan["bricks"]]
    if plan["old_peer"]:
        steps.append("detach gluster peer %s (%s)" % (plan["old_peer"], old))
    steps.append("site.yml without %s: %s joins the swarm as a %s with its inventory labels, "
                 "mounts the volume; /etc/hosts and auth.allow drop %s"
                 % (old, new, plan["role"], old))
    steps.append("remove_node.yml -e node=%s: its swarm entries go" % old)
    return steps


def replacement_plan(old, new, nodes, cluster, options):
    """What playbooks/replace_node.yml does to put `new` in `old`'s place, and what refuses.

    cluster: as removal_plan's for the old node (alive, node_id, hostname, swarm_nodes,
    volumes, pool) plus new: {alive, swarm_state}. options: {volume, brick_dir,
    arbiter_brick_dir, storage (the storage group's hosts)}.
    """
    by_name = {n["name"]: n for n in nodes}
    target, fresh = by_name.get(old), by_name.get(new)
    plan = {"old": old, "new": new, "volume": options.get("volume"), "bricks": [],
            "resumed": False, "old_peer": None,
            "role": "manager" if target and target["manager"] else "worker",
            "problems": [], "steps": []}
    if old == new:
        plan["problems"].append("old and new name the same host (%s); a node reinstalled "
                                "under its own name is taken back by site.yml" % old)
        return plan
    if target is None:
        plan["problems"].append("%s is not a host of the inventory's swarm_managers or "
                                "swarm_workers" % old)
        return plan
    plan["bricks"] = replacement_pairs(cluster.get("volumes") or [], plan["volume"],
                                       names_of(target, cluster.get("hostname")),
                                       fresh["address"] if fresh else None, options)
    # A run stopped after its replace-brick: OLD holds no brick, NEW holds some - go on.
    plan["resumed"] = bool(fresh) and not plan["bricks"] and bool(replacement_pairs(
        cluster.get("volumes") or [], plan["volume"], names_of(fresh), None, options))
    if not plan["resumed"]:
        plan["problems"] += new_node_problems(new, fresh, cluster.get("new") or {},
                                              cluster.get("pool"))
    if fresh and fresh["manager"] != target["manager"]:
        plan["problems"].append("%s is a %s in the inventory and %s is not: put %s in %s's "
                                "group" % (old, plan["role"], new, new, old))
    peer = pool_peer(cluster.get("pool") or [], names_of(target, cluster.get("hostname")))
    plan["old_peer"] = peer["hostname"] if peer else None
    if plan["bricks"] and new not in options.get("storage", []):
        plan["problems"].append("%s holds a brick of volume %s and %s is not in the storage "
                                "group: add %s to it" % (old, plan["volume"], new, new))
    if cluster.get("swarm_nodes") is None:
        plan["problems"].append("no manager other than %s answered: the swarm cannot be read"
                                " (playbooks/recover.yml rebuilds lost managers)" % old)
    plan["steps"] = replacement_steps(plan)
    return plan


def fresh_stand_in(dead, nodes, probes):
    """An inventory host that could take a dead node's place: same role, answered, in no
    swarm (added to the inventory for the replacement). None when there is none."""
    role = next(n["manager"] for n in nodes if n["name"] == dead)
    for node in nodes:
        probe = probes.get(node["name"])
        swarm = ((probe or {}).get("engine") or {}).get("swarm") or {}
        if node["manager"] == role and probe is not None and \
                swarm.get("state", "inactive") == "inactive":
            return node["name"]
    return None


def dead_node_problems(dead, nodes, probes, storage, inventory="INVENTORY"):
    """Why site.yml stops on hosts that do not answer, each naming the playbook that gets
    the cluster going again with that host gone, with the exact options.

    dead: {name: why it did not answer}; storage: the storage nodes' names (their data
    nodes without the arbiter). A node whose loss leaves two data copies is removed only
    with allow_split_brain; a stand-in is any answering host of its role in no swarm.
    """
    problems = []
    for name, why in sorted(dead.items()):
        new = fresh_stand_in(name, nodes, probes)
        split = name in storage and len(storage) - 1 == 2
        replace = "ansible-playbook -i %s playbooks/replace_node.yml -e old=%s -e new=%s " \
                  "-e confirm=yes" % (inventory, name, new or "NEW")
        remove = "ansible-playbook -i %s playbooks/remove_node.yml -e node=%s%s " \
                 "-e confirm=yes" % (inventory, name,
                                     " -e allow_split_brain=yes" if split else "")
        problems.append(
            "%s does not answer (%s). If it only restarted, bring it back and run site.yml "
            "again. If it is gone for good, put %s in its place: %s; or take it out: %s "
            "(then delete it from the inventory) - nothing was changed"
            % (name, why, new if new else "a fresh host (add it to the inventory in "
               "%s's groups as NEW)" % name, replace, remove))
    return problems


def backup_plan(swarm, nodes, answering, wanted=None, repository=""):
    """{node, problems, manifest}: the manager playbooks/backup.yml stops for the copy of the
    swarm's state - wanted, else an answering manager that is not the leader (the leader's
    stop would cost an election), else the leader of a one-manager swarm - and what refuses
    the backup: a manager that does not answer or is unreachable (one more down would cost
    the raft majority), a swarm without a leader, a wanted node that is no answering manager.

    swarm: swarm_info's swarm part read on a manager (None when no manager answered);
    nodes: cluster_nodes; answering: the hosts whose read succeeded; repository: a path is
    on one node, so it needs wanted.
    """
    plan = {"node": None, "problems": [], "manifest": {}}
    if str(repository).startswith("/") and not wanted:
        # A path is on one node: chosen afresh each run, the snapshots would scatter.
        plan["problems"].append("swarmops_backup_repository %s is a path, which lives on "
                                "one node: set swarmops_backup_node to that manager (or use "
                                "a repository on another host: sftp:, rest:, s3:)"
                                % repository)
    if not swarm or swarm.get("leaderless") or not swarm.get("nodes"):
        plan["problems"].append("no manager answered with a leader: the swarm cannot be "
                                "backed up (playbooks/recover.yml rebuilds lost managers)")
        return plan
    entries = {n["addr"]: n for n in swarm["nodes"] if n["role"] == "manager"}
    managers = [n for n in nodes if n["manager"]]
    for node in managers:
        entry = entries.get(node["address"])
        if node["name"] not in answering or not entry or entry["reachability"] != "reachable":
            plan["problems"].append(
                "manager %s %s: stopping another manager for the copy could cost the raft "
                "majority; bring it back, or remove it (playbooks/remove_node.yml), first"
                % (node["name"], "does not answer" if node["name"] not in answering
                   else "is not a reachable manager of the swarm"))
    followers = [n["name"] for n in managers if n["name"] in answering
                 and not (entries.get(n["address"]) or {}).get("leader")]
    leaders = [n["name"] for n in managers if (entries.get(n["address"]) or {}).get("leader")]
    if wanted:
        if wanted not in [n["name"] for n in managers] or wanted not in answering:
            plan["problems"].append("swarmops_backup_node %s is not a manager that answers: "
                                    "only a manager holds the swarm's state" % wanted)
        plan["node"] = wanted
    else:
        plan["node"] = (followers or leaders or [None])[0]
    plan["manifest"] = {"cluster_id": swarm.get("cluster_id"), "node": plan["node"],
                        "leader": (leaders or [None])[0], "managers": len(managers)}
    return plan
