"""The removal plan of playbooks/remove_node.yml, on swarm and gluster answers recorded in
the lab."""

import copy
from pathlib import Path

from ansible_collections.swarmops.cluster.plugins.module_utils import _gluster as gl
from ansible_collections.swarmops.cluster.plugins.plugin_utils import _lifecycle as lc
from ansible_collections.swarmops.cluster.plugins.module_utils._gluster_peer import (
    parse_pool_list)
from ansible_collections.swarmops.cluster.plugins.module_utils._gluster_volume import (
    parse_volume_info)
from ansible_collections.swarmops.cluster.plugins.module_utils._swarm import read_local

GLUSTER = Path(__file__).resolve().parents[2] / "fixtures" / "gluster"


def gluster(name):
    """One recorded gluster answer."""
    return gl.parse_cli_output((GLUSTER / name).read_text())


def inventory(count=3, workers=()):
    """Inventory node dicts as cluster_nodes makes them (lab addresses)."""
    return [{"name": "node%d" % i, "source": "10.213.0.%d" % (10 + i),
             "address": "10.213.0.%d" % (10 + i), "aliases": [],
             "manager": i <= count and "node%d" % i not in workers,
             "worker": "node%d" % i in workers} for i in range(1, count + 1)]


OWN = ("alive", "node_id", "hostname", "mounted")


def cluster(recorded, fixture="manager_three_active", volume="volume_info_replica3.xml",
            node="node3", **kw):
    """What the playbook reads from the hosts that stay, plus the node's own read (the
    keywords in OWN; the others replace the cluster's reads)."""
    data = recorded(fixture)
    read = {"swarm_nodes": read_local(data["info"], data["nodes"])["nodes"],
            "volumes": parse_volume_info(gluster(volume)),
            "pool": parse_pool_list(gluster("pool_list_three.xml")),
            "reads": {node: {k: kw.pop(k) for k in OWN if k in kw}}}
    read.update(kw)
    return read


def unreachable(read, hostname):
    """The read with one manager unreachable and down."""
    read = copy.deepcopy(read)
    for node in read["swarm_nodes"]:
        if node["hostname"] == hostname:
            node.update(reachability="unreachable", state="down")
    return read


OPTIONS = {"volume": "gv", "allow_split_brain": False}


def test_a_dead_manager_with_a_replica_3_brick_is_refused_without_split_brain_accepted(
        recorded):
    read = unreachable(cluster(recorded), "lab-node3")
    plan = lc.removal_plan("node3", inventory(), read, OPTIONS)
    assert plan["problems"] == [
        "volume gv: replica 3 -> 2 without an arbiter is split-brain-prone (or one copy of "
        "every file); name a replacement (playbooks/replace_node.yml) or set "
        "allow_split_brain=true to accept the risk"]
    accepted = lc.removal_plan("node3", inventory(), read, dict(OPTIONS,
                                                                allow_split_brain=True))
    assert accepted["problems"] == []
    assert accepted["manager"] and accepted["demote_ids"] == ["wpi93coriuckk7if78eem7xq0"]
    assert accepted["bricks"] == [{"host": "10.213.0.13", "path": "/srv/gluster/t/brick"}]
    assert accepted["peers"] == ["10.213.0.13"]
    assert accepted["auth_allow"] == ["10.213.0.11", "10.213.0.12"]
    assert accepted["steps"][0] == "demote node3 (down) on a manager that stays"
    assert accepted["warnings"][0].startswith("2 managers remain: an even count")


def test_a_live_manager_is_drained_and_leaves_itself(recorded):
    read = cluster(recorded, volume="volume_info_none.xml", alive=True, mounted=True,
                   node_id="wpi93coriuckk7if78eem7xq0", hostname="lab-node3")
    plan = lc.removal_plan("node3", inventory(), read, OPTIONS)
    assert plan["problems"] == [] and plan["volume"] is None
    assert plan["steps"][:3] == ["drain node3 and wait until its tasks run elsewhere",
                                 "node3 leaves the swarm (demoted first)",
                                 "remove swarm entry wpi93coriuckk7if78eem7xq0"]


def test_a_second_manager_down_is_refused(recorded):
    read = unreachable(unreachable(cluster(recorded), "lab-node3"), "lab-node2")
    plan = lc.removal_plan("node3", inventory(), read, dict(OPTIONS, allow_split_brain=True))
    assert plan["problems"] == ["the swarm has lost its raft majority (1 of 3 managers "
                                "reachable): no manager can be removed; recover it with "
                                "playbooks/recover.yml"]


def test_removing_a_live_manager_while_another_is_down_is_refused(recorded):
    read = unreachable(cluster(recorded, volume="volume_info_none.xml"), "lab-node2")
    plan = lc.removal_plan("node3", inventory(), read, OPTIONS)
    assert "leaves 1 of 2 managers reachable" in plan["problems"][0]


def test_the_last_manager_is_refused(recorded):
    read = cluster(recorded, fixture="manager_worker_down", volume="volume_info_none.xml")
    for node in read["swarm_nodes"]:
        if node["hostname"] == "lab-node2":
            node["role"] = "worker"
    plan = lc.removal_plan("node1", inventory(), read, OPTIONS)
    assert plan["problems"][0].startswith("node1 is the swarm's last manager")


def test_a_host_outside_the_inventory_is_refused(recorded):
    plan = lc.removal_plan("node9", inventory(), cluster(recorded), OPTIONS)
    assert "node9 is not a host of the inventory" in plan["problems"][0]
    assert plan["steps"] == []


def test_a_node_in_neither_swarm_nor_pool_is_refused(recorded):
    read = cluster(recorded, volume="volume_info_none.xml", pool=[])
    plan = lc.removal_plan("node4", inventory(4), read, OPTIONS)
    assert plan["problems"] == ["node4 is neither in the swarm nor in the storage pool: "
                                "nothing to remove"]


def test_a_down_worker_found_by_address_is_removed_without_demotion(recorded):
    read = cluster(recorded, fixture="manager_worker_down", volume="volume_info_none.xml",
                   pool=[])
    plan = lc.removal_plan("node3", inventory(workers=("node3",)), read, OPTIONS)
    assert plan["problems"] == [] and not plan["manager"]
    assert len(plan["swarm_ids"]) == 1 and plan["demote_ids"] == []
    assert plan["leave"] == [] and plan["unmount"] == []


def test_bricks_in_a_volume_of_someone_else_are_left_to_the_operator(recorded):
    plan = lc.removal_plan("node3", inventory(), cluster(recorded),
                           dict(OPTIONS, volume="dockerdir"))
    assert plan["problems"] == ["volume gv (not the cluster's dockerdir) has bricks on the "
                                "node: 10.213.0.13:/srv/gluster/t/brick; take them out by "
                                "hand first"]


def after_recovery(read, survivor="lab-node1"):
    """The read after recover.yml: the survivor the only manager, the others' entries gone,
    their peers disconnected."""
    read = copy.deepcopy(read)
    read["swarm_nodes"] = [n for n in read["swarm_nodes"] if n["hostname"] == survivor]
    for peer in read["pool"]:
        if not peer.get("self"):
            peer["connected"] = False
    return read


def test_two_lost_managers_leave_in_one_plan(recorded):
    read = after_recovery(cluster(recorded))
    refused = lc.removal_plan("node2,node3", inventory(), read, OPTIONS)
    assert refused["problems"] == [
        "volume gv: replica 3 -> 1 without an arbiter is split-brain-prone (or one copy of "
        "every file); name a replacement (playbooks/replace_node.yml) or set "
        "allow_split_brain=true to accept the risk"]
    plan = lc.removal_plan(" node2, node3,node2", inventory(), read,
                           dict(OPTIONS, allow_split_brain=True))
    assert plan["problems"] == [] and plan["nodes"] == ["node2", "node3"]
    assert plan["swarm_ids"] == [] and plan["leave"] == []
    assert plan["bricks"] == [{"host": "10.213.0.12", "path": "/srv/gluster/t/brick"},
                              {"host": "10.213.0.13", "path": "/srv/gluster/t/brick"}]
    assert plan["peers"] == ["10.213.0.12", "10.213.0.13"]
    assert plan["auth_allow"] == ["10.213.0.11"]
    assert plan["steps"][-1] == "drop node2, node3 from /etc/hosts on the other nodes"


def test_two_managers_of_three_cannot_leave_together(recorded):
    read = cluster(recorded, volume="volume_info_none.xml")
    plan = lc.removal_plan(["node2", "node3"], inventory(), read, OPTIONS)
    assert plan["problems"] == [] or "raft majority" in plan["problems"][0]
    assert plan["warnings"] == [] and plan["demote_ids"] == [
        n["id"] for n in read["swarm_nodes"] if n["hostname"] in ("lab-node2", "lab-node3")]


def test_each_unknown_name_of_a_list_is_named(recorded):
    plan = lc.removal_plan("node3,node8,node9", inventory(), cluster(recorded), OPTIONS)
    assert [p.split(" ")[0] for p in plan["problems"]] == ["node8", "node9"]
    assert lc.removal_plan("", inventory(), cluster(recorded), OPTIONS)["problems"]


# --- site.yml's refusal of a host that does not answer names the way forward ----------------

SSH_DOWN = ('timed out waiting for ping module test: Data could not be sent to remote host '
            '"10.213.0.11". Make sure this host can be reached over ssh: ssh: connect to '
            'host 10.213.0.11 port 22: No route to host')  # site.yml's read, node1 stopped


def test_a_dead_first_manager_is_named_with_its_replacement_and_the_exact_command():
    nodes = inventory(5, workers=("node4",))
    fresh = {"engine": {"swarm": {"state": "inactive"}}}
    member = {"engine": {"swarm": {"state": "active"}}}
    probes = {"node2": member, "node3": member, "node4": member, "node5": fresh}
    [problem] = lc.dead_node_problems({"node1": SSH_DOWN}, nodes, probes,
                                      ["node1", "node2", "node3", "node5"], "inv/hosts.yml")
    assert problem.startswith("node1 does not answer (timed out waiting for ping")
    assert "put node5 in its place: ansible-playbook -i inv/hosts.yml playbooks/" \
        "replace_node.yml -e old=node1 -e new=node5 -e confirm=yes;" in problem
    assert "take it out: ansible-playbook -i inv/hosts.yml playbooks/remove_node.yml " \
        "-e node=node1 -e confirm=yes (then" in problem


def test_without_a_fresh_host_and_with_replica_3_the_message_says_new_and_split_brain():
    nodes = inventory(4, workers=("node4",))
    member = {"engine": {"swarm": {"state": "active"}}}
    # node4, a fresh worker, is no stand-in for a manager.
    probes = {"node2": member, "node3": member, "node4": {"engine": {"swarm": None}}}
    [problem] = lc.dead_node_problems({"node1": SSH_DOWN}, nodes, probes,
                                      ["node1", "node2", "node3"])
    assert "put a fresh host (add it to the inventory in node1's groups as NEW) in its " \
        "place: ansible-playbook -i INVENTORY playbooks/replace_node.yml -e old=node1 " \
        "-e new=NEW -e confirm=yes" in problem
    assert "remove_node.yml -e node=node1 -e allow_split_brain=yes -e confirm=yes" in problem


def test_local_storage_removes_no_brick_and_warns_that_dockerdir_stays(recorded):
    # Local storage: the day-2 read finds no pool and no volume on the nodes.
    read = cluster(recorded, volume="volume_info_none.xml", pool=[], alive=True,
                   node_id=None, hostname="lab-node3", mounted=False)
    plan = lc.removal_plan("node3", inventory(), read, dict(OPTIONS, kind="local"))
    assert plan["problems"] == [] and plan["bricks"] == [] and plan["peers"] == []
    assert any("node3 keeps its DOCKERDIR on its own disk" in w for w in plan["warnings"])
    assert not any("DOCKERDIR" in w for w in lc.removal_plan(
        "node3", inventory(), read, OPTIONS)["warnings"])


# backup_plan: the manager stopped for the copy of the swarm's state

def backup_swarm(recorded, fixture="manager_three_active"):
    data = recorded(fixture)
    local = read_local(data["info"], data["nodes"])
    return dict(local, nodes=local["nodes"])


def test_a_backup_stops_a_manager_that_is_not_the_leader(recorded):
    swarm = backup_swarm(recorded)
    leader = next(n for n in swarm["nodes"] if n["leader"])
    plan = lc.backup_plan(swarm, inventory(), ["node1", "node2", "node3"])
    chosen = next(n for n in inventory() if n["name"] == plan["node"])
    assert plan["problems"] == [] and chosen["address"] != leader["addr"]
    assert plan["manifest"]["cluster_id"] == swarm["cluster_id"]
    assert plan["manifest"]["leader"] != plan["node"]


def test_a_backup_is_refused_while_a_manager_is_down_or_unreachable(recorded):
    swarm = backup_swarm(recorded)
    plan = lc.backup_plan(swarm, inventory(), ["node1", "node2"])
    assert plan["problems"] and "manager node3 does not answer" in plan["problems"][0]
    down = unreachable({"swarm_nodes": swarm["nodes"]}, "lab-node2")["swarm_nodes"]
    plan = lc.backup_plan(dict(swarm, nodes=down), inventory(), ["node1", "node2", "node3"])
    assert "manager node2 is not a reachable manager" in plan["problems"][0]


def test_a_backup_without_a_leader_or_on_a_worker_is_refused(recorded):
    assert "no manager answered with a leader" in lc.backup_plan(
        {"leaderless": True}, inventory(), ["node1"])["problems"][0]
    plan = lc.backup_plan(backup_swarm(recorded), inventory(4, workers=("node4",)),
                          ["node1", "node2", "node3", "node4"], wanted="node4")
    assert "swarmops_backup_node node4 is not a manager that answers" in plan["problems"][0]


def test_a_repository_path_needs_its_node(recorded):
    swarm, hosts = backup_swarm(recorded), ["node1", "node2", "node3"]
    plan = lc.backup_plan(swarm, inventory(), hosts, repository="/srv/backup/restic")
    assert "set swarmops_backup_node to that manager" in plan["problems"][0]
    assert lc.backup_plan(swarm, inventory(), hosts, "node1", "/srv/backup/restic"
                          )["problems"] == []
    assert lc.backup_plan(swarm, inventory(), hosts, None, "sftp:b@h:/r")["problems"] == []
