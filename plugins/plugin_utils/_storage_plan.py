# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared storage as preflight judges it: GlusterFS layout, live state, docker GID.

Pure functions of the inventory's node dicts (``cluster_nodes``), the storage settings and
each node's ``swarmops_node`` probe (``node_facts``), so unit tests cover every rule. Used
on the controller by the roles' preflight filters. Private to this collection.

A probe's ``gluster`` part: installed, answering, pool (peers: uuid, hostname, hostnames,
self), volumes (name, id, status, replica, arbiter, bricks: host, path). Its ``paths``
part: per inspected path, exists, entries, volume_id (the brick xattr) and mount (source,
fstype of what is mounted exactly there, or None).
"""

from __future__ import annotations

from ansible_collections.swarmops.cluster.plugins.module_utils._gluster_volume import (
    PlanError, plan_volume)
from ansible_collections.swarmops.cluster.plugins.module_utils._mount import (
    MOUNTED_FSTYPES, is_under, option_problems)

GID_RANGE = (100, 999)


def storage_layout(nodes, storage, settings):
    """Data nodes, the arbiter and the problems of the inventory's storage part.

    storage: inventory names of the storage nodes in order; nodes: every cluster node;
    settings: arbiters (names marked swarmops_glusterfs_arbiter), two_node_arbiter.
    """
    known = {n["name"]: n for n in nodes}
    problems = ["%s is in the storage group but not in the swarm's groups; storage nodes "
                "are swarm nodes: add it to swarm_managers or swarm_workers" % name
                for name in storage if name not in known]
    storage = [name for name in storage if name in known]
    arbiters = [name for name in storage if name in settings.get("arbiters", [])]
    data = [name for name in storage if name not in arbiters]
    problems += count_problems(data, arbiters, settings.get("two_node_arbiter"))
    problems += path_problems(settings)
    return {"data": data, "arbiter": arbiters[0] if len(arbiters) == 1 else None,
            "storage": storage, "problems": problems}


def count_problems(data, arbiters, two_node_arbiter):
    """At least 3 storage nodes, or exactly 2 data nodes and an arbiter."""
    if two_node_arbiter:
        if len(data) != 2 or arbiters:
            return ["swarmops_glusterfs_two_node_arbiter puts the arbiter brick on one of "
                    "exactly two data nodes; the storage group has %d data node(s) and %d "
                    "arbiter(s): drop the option, or list exactly two storage nodes"
                    % (len(data), len(arbiters))]
        return []
    if len(arbiters) > 1:
        return ["%d arbiters (%s); a volume takes one arbiter with exactly two data nodes: "
                "mark one host swarmops_glusterfs_arbiter: true"
                % (len(arbiters), ", ".join(arbiters))]
    if arbiters and len(data) != 2:
        return ["an arbiter (%s) goes with exactly two data nodes, not %d; unmark it "
                "(replica across all storage nodes) or keep two data nodes"
                % (arbiters[0], len(data))]
    if not arbiters and len(data) < 3:
        return ["%d storage node(s) (%s): a replicated volume needs at least 3 (or 2 data "
                "nodes and a third host marked swarmops_glusterfs_arbiter: true); replica 2 "
                "without an arbiter splits brain. Add storage nodes to the storage group"
                % (len(data), ", ".join(data) or "none")]
    return []


def path_problems(settings):
    """Bricks must not live under the mount point, nor the mount point under a brick; the
    mount options must make a valid fstab field."""
    mount = settings["mount_point"].rstrip("/") or "/"
    problems = ["%s (swarmops_glusterfs_mount_options)" % p
                for p in option_problems(settings.get("mount_options") or [])]
    for key in ("brick_dir", "arbiter_brick_dir"):
        brick = (settings.get(key) or "").rstrip("/")
        if not brick:
            continue
        if not brick.startswith("/") or not mount.startswith("/"):
            problems.append("%s %r and the mount point %r must be absolute paths"
                            % (key, brick, mount))
        elif is_under(brick, mount) or is_under(mount, brick):
            problems.append("the brick directory %s and the mount point %s overlap: a "
                            "brick under its own volume's mount loops; put bricks elsewhere "
                            "(swarmops_glusterfs_%s)" % (brick, mount, key))
    return problems


def brick_list(layout, addresses, settings, volume):
    """Bricks in volume order: the existing volume's first, then new ones in inventory order.

    Returns (bricks, replica, arbiter, force).
    """
    data, arbiter = layout["data"], layout["arbiter"]
    path, arb_path = settings["brick_dir"], settings["arbiter_brick_dir"]
    if settings.get("two_node_arbiter"):
        wanted = [(addresses[n], path) for n in data] + [(addresses[data[0]], arb_path)]
        return [{"host": h, "path": p} for h, p in wanted], 3, 1, True
    if arbiter:
        wanted = [(addresses[n], path) for n in data] + [(addresses[arbiter], arb_path)]
        return [{"host": h, "path": p} for h, p in wanted], 3, 1, settings["force"]
    wanted = [(addresses[n], path) for n in data]
    current = [(b["host"], b["path"]) for b in (volume or {}).get("bricks", [])]
    ordered = [b for b in current if b in wanted] + [b for b in wanted if b not in current]
    replica = settings.get("replica") or len(data)
    return [{"host": h, "path": p} for h, p in ordered], replica, 0, settings["force"]


def pool_problems(storage, addresses, probes):
    """Storage nodes in a trusted pool with hosts outside the storage group, or in two pools."""
    ours = {addresses[n]: n for n in storage}
    # A peer may be known by a name learned from reverse DNS (glusterd names a prober as
    # its address resolves): its UUID, the storage node's own pool entry, says who it is.
    ours.update({p["uuid"]: n for n in storage
                 for p in ((probes.get(n) or {}).get("gluster") or {}).get("pool") or []
                 if p.get("self") and p.get("uuid")})
    problems, pools = [], []
    for name in storage:
        gluster = (probes.get(name) or {}).get("gluster") or {}
        peers = [p for p in gluster.get("pool") or [] if not p.get("self")]
        names = {peer_name(p, ours) for p in peers}
        strangers = sorted(n for n in names if n not in ours.values())
        if strangers:
            problems.append("%s is in a trusted pool with %s, which are not in the storage "
                            "group; detach them (gluster peer detach) or add them to the "
                            "inventory - nothing was changed" % (name, ", ".join(strangers)))
        elif names:
            pools.append(frozenset(names | {name}))
    distinct = {p for p in pools if not any(p < q for q in pools)}
    if len(distinct) > 1:
        problems.append("the storage nodes form %d separate trusted pools (%s); glusterd "
                        "cannot merge pools: detach the peers of all but one pool - nothing "
                        "was changed" % (len(distinct), "; ".join(
                            ", ".join(sorted(p)) for p in sorted(distinct, key=sorted))))
    return problems


def peer_name(peer, ours):
    """A pool entry's inventory name when its UUID or one of its hostnames is our storage
    node's, else its name."""
    if peer.get("uuid") in ours:
        return ours[peer["uuid"]]
    for hostname in peer.get("hostnames") or [peer.get("hostname")]:
        if hostname in ours:
            return ours[hostname]
    return peer.get("hostname")


def find_volume(storage, probes, volume):
    """The volume as the storage nodes that answer report it (first one that has it)."""
    for name in storage:
        for vol in ((probes.get(name) or {}).get("gluster") or {}).get("volumes") or []:
            if vol.get("name") == volume:
                return vol
    return None


def volume_problems(volume, bricks, replica, arbiter):
    """An existing volume of the same name that this plan cannot reach by growing it."""
    if volume is None:
        return []
    have = [(b["host"], b["path"]) for b in volume.get("bricks") or []]
    want = [(b["host"], b["path"]) for b in bricks]
    problems = []
    foreign = [h + ":" + p for h, p in have if (h, p) not in want]
    if foreign:
        problems.append("volume %s exists with bricks %s that are not storage nodes' bricks "
                        "in the inventory; put those hosts back in the storage group, or, "
                        "for a host that is gone, put it back in the inventory under its "
                        "name and address and run playbooks/replace_node.yml -e old=NAME "
                        "-e new=NEW -e confirm=yes (or playbooks/remove_node.yml -e "
                        "node=NAME -e confirm=yes) - nothing was changed"
                        % (volume["name"], ", ".join(foreign)))
    if (volume.get("arbiter") or 0) != arbiter or (volume.get("replica") or 1) > replica:
        problems.append("volume %s exists as replica %s arbiter %s; the inventory asks for "
                        "replica %s arbiter %s, which add-brick cannot reach; set "
                        "swarmops_glusterfs_replica / the arbiter to match, or use another "
                        "volume name - nothing was changed"
                        % (volume["name"], volume.get("replica"), volume.get("arbiter") or 0,
                           replica, arbiter))
    return problems


def brick_dir_problems(storage_bricks, probes, volume):
    """A brick directory that holds data, or another volume's id, but is not our brick.

    storage_bricks: (inventory name, address, path) of each brick the plan wants.
    """
    problems = []
    in_volume = {(b["host"], b["path"]) for b in (volume or {}).get("bricks") or []}
    our_id = ((volume or {}).get("id") or "").replace("-", "")
    for name, address, path in storage_bricks:
        if (address, path) in in_volume:
            continue
        state = ((probes.get(name) or {}).get("paths") or {}).get(path) or {}
        vol_id = state.get("volume_id")
        if vol_id and vol_id.replace("-", "") != our_id:
            problems.append("%s: %s is a brick of another volume (volume-id %s); use "
                            "another brick directory, or clear it after checking its data "
                            "(setfattr -x trusted.glusterfs.volume-id) - nothing was changed"
                            % (name, path, vol_id))
        elif state.get("entries"):
            problems.append("%s: the brick directory %s holds %d entries but is no brick of "
                            "the volume; move the data away or choose another "
                            "swarmops_glusterfs_brick_dir - nothing was changed"
                            % (name, path, state["entries"]))
    return problems


def reinstalled_nodes(storage_bricks, probes, volume):
    """Storage nodes that answer with no glusterd, a glusterd that knows no volume, or one
    installed but stopped with no peer or volume on disk (a reinstall that brought the
    packages), while the volume still holds their brick: the host was reinstalled (or its
    /var/lib/glusterd lost). storage_bricks: (inventory name, address, path) of each brick
    the plan wants."""
    if not volume:
        return []
    in_volume = {(b["host"], b["path"]) for b in volume.get("bricks") or []}
    found = []
    for name, address, path in storage_bricks:
        probe = probes.get(name)
        gluster = (probe or {}).get("gluster") or {}
        if probe is None or (address, path) not in in_volume or name in found:
            continue
        if not gluster.get("installed") or (gluster.get("answering")
                                            and not gluster.get("volumes")) \
                or (not gluster.get("answering") and gluster.get("fresh")):
            found.append(name)
    return found


def rejoin_plan(names, addresses, source, source_probe):
    """({name: {uuid, peers}}, problems): the old UUID each reinstalled node had in the
    pool and every other member, as the storage node `source` (it holds the volume) knows
    them; the module gluster_rejoin gives the node that identity back."""
    pool = ((source_probe or {}).get("gluster") or {}).get("pool") or []
    own = next((p for p in pool if p.get("self") and p.get("uuid")), None)
    rejoin, problems = {}, []
    for name in names:
        old = next((p for p in pool if not p.get("self") and addresses[name] in
                    (p.get("hostnames") or [p.get("hostname")])), None)
        if old is None or own is None:
            problems.append("%s looks reinstalled (the volume holds its brick, its glusterd "
                            "is new) but %s does not know its old UUID; take it out with "
                            "playbooks/remove_node.yml -e node=%s and run site.yml to add it "
                            "back - nothing was changed" % (name, source, name))
            continue
        peers = [{"uuid": own["uuid"], "hostname": addresses[source]}] + \
            [{"uuid": p["uuid"], "hostname": p["hostname"]} for p in pool
             if not p.get("self") and p["uuid"] != old["uuid"]]
        rejoin[name] = {"uuid": old["uuid"], "peers": peers}
    return rejoin, problems


def brick_mount_problems(storage_bricks, probes):
    """Bricks under an fstab mount point that is not mounted: the brick's disk did not
    mount, and a brick made now would land on the filesystem below it (the root
    filesystem, which a heal would fill). storage_bricks: (name, address, path)."""
    problems = []
    for name, _address, path in storage_bricks:
        state = ((probes.get(name) or {}).get("paths") or {}).get(path) or {}
        for mount_point in state.get("unmounted") or []:
            problems.append("%s: the brick directory %s lies under %s, which /etc/fstab "
                            "lists but is not mounted (its disk did not mount?); mount it "
                            "(mount %s; journalctl -b says why it failed at boot) and run "
                            "again - nothing was changed"
                            % (name, path, mount_point, mount_point))
    return problems


def emptied_bricks(storage_bricks, probes, volume, force):
    """(bricks, problems): bricks of the volume whose directory, as a node that answers read
    it, has no volume-id (a reinstalled host, a new disk): the volume takes them back with
    reset-brick. A directory the read did not cover is left alone; one under an fstab mount
    that is not mounted is brick_mount_problems'; one on the root filesystem is taken back
    only with force, as glusterd makes a brick there only with force."""
    in_volume = {(b["host"], b["path"]) for b in (volume or {}).get("bricks") or []}
    emptied, problems = [], []
    for name, address, path in storage_bricks:
        probe = probes.get(name)
        if probe is None or (address, path) not in in_volume:
            continue
        state = (probe.get("paths") or {}).get(path)
        if state is None or state.get("volume_id") or state.get("unmounted"):
            continue
        if state.get("filesystem") == "/" and not force:
            problems.append("%s: the brick %s of volume %s is %s on the root filesystem; "
                            "mount the disk that held it (and add it to /etc/fstab), or set "
                            "swarmops_glusterfs_force: true to rebuild the brick on the root "
                            "filesystem - nothing was changed"
                            % (name, path, volume["name"], "empty" if state.get("exists")
                               else "missing"))
            continue
        emptied.append({"host": address, "path": path})
    return emptied, problems


def mount_point_problems(nodes, probes, mount_point, volume):
    """Something else mounted on the mount point, or files a mount would hide."""
    problems = []
    for name in nodes:
        state = ((probes.get(name) or {}).get("paths") or {}).get(mount_point) or {}
        mounted = state.get("mount")
        if mounted:
            source = mounted.get("source") or ""
            if mounted.get("fstype") not in MOUNTED_FSTYPES["glusterfs"] or \
                    source.rsplit(":", 1)[-1].strip("/") != volume:
                problems.append("%s: %s already has %s (%s) mounted; unmount it and remove "
                                "its fstab line, or choose another swarmops_glusterfs_mount_"
                                "point - nothing was changed"
                                % (name, mount_point, source, mounted.get("fstype")))
        elif state.get("entries"):
            problems.append("%s: %s holds %d entries that the volume's mount would hide "
                            "(DOCKERDIR of swarmops_storage: local?); move them aside and into "
                            "the volume after the run, the steps are in "
                            "docs/user-guide/storage.md - nothing was changed"
                            % (name, mount_point, state["entries"]))
    return problems


def local_storage_problems(nodes, probes, mount_point):
    """With local storage: nodes where DOCKERDIR is still the shared volume's mount.

    Switching a running cluster off GlusterFS would leave the data on the volume and each
    node with an empty DOCKERDIR of its own, so it is refused with the way to do it.
    """
    problems = []
    for name in nodes:
        state = ((probes.get(name) or {}).get("paths") or {}).get(mount_point) or {}
        mounted = state.get("mount") or {}
        shared = mounted.get("fstype") in MOUNTED_FSTYPES["glusterfs"] or any(
            len(line.split()) > 2 and line.split()[2] == "glusterfs"
            for line in state.get("fstab_lines") or [])
        if shared:
            problems.append("%s: %s is the GlusterFS volume's mount, but swarmops_storage "
                            "is local: the data would stay on the volume. Keep "
                            "swarmops_storage: glusterfs, or move off it by the steps in "
                            "docs/user-guide/storage.md - nothing was changed"
                            % (name, mount_point))
    return problems


def choose_probe_from(storage, probes, volume_name):
    """The storage node that probes new peers and runs volume commands.

    A node that already has the volume, else one already in a pool, else the first; under
    --limit this is a running peer outside the run, so the old pool is extended, not split.
    """
    def gluster(name):
        return (probes.get(name) or {}).get("gluster") or {}
    answering = [n for n in storage if gluster(n).get("answering")]
    for name in answering:
        if any(v.get("name") == volume_name for v in gluster(name).get("volumes") or []):
            return name
    for name in answering:
        if [p for p in gluster(name).get("pool") or [] if not p.get("self")]:
            return name
    return storage[0] if storage else None


def not_yet_provisioned(layout, addresses, play_hosts, volume):
    """Storage nodes outside the run that hold no brick of the volume (when it exists)."""
    if volume is None:
        return []
    hosts = {b["host"] for b in volume.get("bricks") or []}
    return [n for n in layout["storage"] if n not in play_hosts and addresses[n] not in hosts]


def mount_sources(nodes, layout, addresses, volume):
    """Each node's mount source and backup volfile servers.

    Storage nodes mount from their own glusterd (localhost), the others from the first
    storage node; the backup servers are the other storage nodes, so a mount at boot
    still finds a volfile when that one server is down.
    """
    storage = layout["storage"]
    mounts = {}
    for name in nodes:
        if name in storage:
            server = "localhost"
            backups = [addresses[n] for n in storage if n != name]
        else:
            server = addresses[storage[0]]
            backups = [addresses[n] for n in storage[1:]]
        mounts[name] = {"src": "%s:/%s" % (server, volume), "backup_volfile_servers": backups}
    return mounts


def without_waiting(plan, layout, addresses, play_hosts, volume):
    """The layout without the storage nodes outside the run that are not in the volume yet
    (under --limit they have no glusterd or brick directory: they join when a run includes
    them), each named in a warning."""
    waiting = not_yet_provisioned(layout, addresses, play_hosts, volume)
    if not waiting:
        return layout
    plan["warnings"].append("%s: in the storage group but outside this run and not in the "
                            "volume yet; run site.yml with --limit %s to add it"
                            % (", ".join(waiting), ",".join(waiting)))
    return dict(layout, data=[n for n in layout["data"] if n not in waiting],
                storage=[n for n in layout["storage"] if n not in waiting])


def storage_plan(nodes, storage, probes, play_hosts, settings):
    """The storage plan: problems (each naming its fix), the layout, bricks, peers, mounts.

    nodes: every cluster node (cluster_nodes); storage: the storage group's names;
    probes: node name -> swarmops_node fact (None if unread); settings: volume, brick_dir,
    arbiter_brick_dir, mount_point, replica (0: one copy per data node), arbiters,
    two_node_arbiter, force.
    """
    layout = storage_layout(nodes, storage, settings)
    plan = {"problems": layout["problems"], "warnings": [], "storage": layout["storage"],
            "data": layout["data"], "arbiter": layout["arbiter"]}
    if plan["problems"]:
        return plan
    addresses = {n["name"]: n["address"] for n in nodes}
    volume = find_volume(layout["storage"], probes, settings["volume"])
    layout = without_waiting(plan, layout, addresses, play_hosts, volume)
    bricks, replica, arbiter, force = brick_list(layout, addresses, settings, volume)
    by_address = {addresses[n]: n for n in layout["storage"]}
    # The bricks of the run's hosts: (inventory name, address, path).
    ours = [(by_address[b["host"]], b["host"], b["path"]) for b in bricks
            if by_address[b["host"]] in play_hosts]
    plan["problems"] += (
        pool_problems(layout["storage"], addresses, probes)
        + volume_problems(volume, bricks, replica, arbiter)
        + brick_dir_problems(ours, probes, volume) + brick_mount_problems(ours, probes)
        + mount_point_problems([n for n in play_hosts if n in addresses], probes,
                               settings["mount_point"], settings["volume"]))
    if settings.get("two_node_arbiter"):
        plan["warnings"].append(
            "swarmops_glusterfs_two_node_arbiter: the arbiter brick is on %s, a data node: "
            "when %s is down, the volume loses quorum and turns read-only. Add a third host "
            "and mark it swarmops_glusterfs_arbiter: true" % ((layout["data"][0],) * 2))
    probe_from = choose_probe_from(layout["storage"], probes, settings["volume"])
    plan["rejoin"], problems = rejoin_plan(reinstalled_nodes(ours, probes, volume),
                                           addresses, probe_from, probes.get(probe_from))
    reset, reset_problems = emptied_bricks(ours, probes, volume, force)
    plan["problems"] += problems + reset_problems
    plan.update(
        probe_from=probe_from, reset_bricks=reset,
        peers=[addresses[n] for n in layout["storage"]], bricks=bricks, replica=replica,
        arbiter_count=arbiter, force=force, volume_exists=volume is not None,
        addresses={n: addresses[n] for n in addresses},
        auth_allow=[n["address"] for n in nodes if n.get("address")],
        mounts=mount_sources([n["name"] for n in nodes], layout, addresses,
                             settings["volume"]))
    plan.update(ready_steps(plan, probes.get(plan["probe_from"]) or {}, volume, settings))
    return plan


def ready_steps(plan, probe, volume, settings):
    """Whether the pool and the volume are already as planned, as preflight read them.

    A converged cluster's re-run then skips the two calls on the probing node. The volume
    is judged by the module's own pure planner (no actions = nothing to do); anything it
    cannot say for sure leaves the step to the module.
    """
    gluster = probe.get("gluster") or {}
    own = plan["addresses"].get(plan["probe_from"])
    connected = {h for p in gluster.get("pool") or [] if p.get("connected")
                 and p.get("state_str") == "Peer in Cluster" for h in p.get("hostnames") or []}
    peers_ready = bool(gluster.get("answering")) and all(
        a in connected for a in plan["peers"] if a != own)
    desired = {"name": settings["volume"], "state": "started", "bricks": plan["bricks"],
               "replica": plan["replica"], "arbiter": plan["arbiter_count"],
               "force": plan["force"], "options": settings.get("volume_options") or {},
               "auth_allow": plan["auth_allow"], "allow_split_brain": False,
               "delete_volume": False}
    try:
        volume_ready = volume is not None and bool(gluster.get("answering")) and not \
            plan["reset_bricks"] and not plan_volume(volume, desired, {
                b["host"]: [b["host"]] for b in plan["bricks"]})
    except PlanError:
        volume_ready = False
    return {"peers_ready": peers_ready, "volume_ready": volume_ready}


def gid_plan(nodes, probes, play_hosts, explicit=0, allow_move=False, group="docker"):
    """The docker group's GID for every node, and who must first move a group out of its way.

    The GID is explicit, else the first manager's; when the first manager has no such
    group yet (a bare host), the highest system GID free on every node read, which the
    role gives the group before the package would pick one.
    """
    def gids(name):
        return (probes.get(name) or {}).get("group_gids") or {}
    first = next((n["name"] for n in nodes if n.get("manager")), None)
    problems = []
    if explicit:
        gid, source = int(explicit), "swarmops_docker_gid"
    elif first and probes.get(first) is None:
        return {"gid": None, "source": None, "moves": {}, "problems": [
            "%s (the first manager, whose docker GID every node takes) could not be read; "
            "make it reachable or set swarmops_docker_gid - nothing was changed" % first]}
    elif group in gids(first):
        gid, source = gids(first)[group], "%s's %s group" % (first, group)
    else:
        used = {g for n in nodes for g in gids(n["name"]).values()}
        gid = next((g for g in range(GID_RANGE[1], GID_RANGE[0] - 1, -1) if g not in used),
                   None)
        source = "the highest system GID free on every node"
    moves = {}
    for name in play_hosts:
        holders = sorted(g for g, v in gids(name).items() if v == gid and g != group)
        if holders and not allow_move:
            problems.append("%s: GID %s, which the %s group takes on every node (%s), "
                            "belongs to group %s there; set swarmops_docker_gid_move_"
                            "conflicting: true to move it to a free GID, or choose another "
                            "swarmops_docker_gid - nothing was changed"
                            % (name, gid, group, source, ", ".join(holders)))
        elif holders:
            moves[name] = holders[0]
    return {"gid": gid, "source": source, "problems": problems, "moves": moves}
