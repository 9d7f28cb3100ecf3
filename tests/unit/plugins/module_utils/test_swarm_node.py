"""Planners of the swarm_node module, fed /nodes responses recorded in the lab."""

import pytest

from ansible_collections.swarmops.cluster.plugins.module_utils import _swarm_node as sn
from ansible_collections.swarmops.cluster.plugins.module_utils._swarm import PlanError

DESIRED = {"labels": None, "labels_state": "merge", "labels_to_remove": None,
           "availability": None, "role": None}


def desired(**kwargs):
    return dict(DESIRED, **kwargs)


def by_host(nodes, hostname, state="ready"):
    return next(n for n in nodes if n["Description"]["Hostname"] == hostname
                and n["Status"]["State"] == state)


def test_find_by_id_prefix_and_hostname(recorded):
    nodes = recorded("manager_three_active")["nodes"]
    node2 = by_host(nodes, "lab-node2")
    assert sn.find_node(nodes, node2["ID"]) is node2
    assert sn.find_node(nodes, node2["ID"][:6]) is node2
    assert sn.find_node(nodes, "lab-node2") is node2
    assert sn.find_node(nodes, "no-such-host") is None


def test_find_prefers_live_entry_over_stale_down_one(recorded):
    nodes = recorded("manager_rejoined_stale_entry")["nodes"]
    found = sn.find_node(nodes, "lab-node3")
    assert found["Status"]["State"] == "ready"
    assert found["Spec"]["Role"] == "manager"


def test_find_two_live_entries_is_ambiguous(recorded):
    nodes = recorded("manager_rejoined_stale_entry")["nodes"]
    for node in nodes:
        node["Status"]["State"] = "ready"
    with pytest.raises(PlanError, match="address it by node id"):
        sn.find_node(nodes, "lab-node3")


def test_matching_spec_plans_nothing(recorded):
    nodes = recorded("manager_three_active")["nodes"]
    node = by_host(nodes, "lab-node3")
    actions = sn.plan_present(nodes, node, desired(
        labels={"zone": "c", "edge": "true"}, availability="active", role="manager"))[0]
    assert actions == []


def test_merge_adds_and_keeps(recorded):
    nodes = recorded("manager_three_active")["nodes"]
    node = by_host(nodes, "lab-node1")
    actions, spec = sn.plan_present(nodes, node, desired(labels={"rack": "r1"}))
    assert actions == [{"action": "labels", "set": {"rack": "r1"}, "remove": []}]
    assert spec["Labels"] == {"zone": "a", "storage": "gluster", "rack": "r1"}


def test_replace_drops_other_labels(recorded):
    nodes = recorded("manager_three_active")["nodes"]
    node = by_host(nodes, "lab-node1")
    actions, spec = sn.plan_present(nodes, node, desired(labels={"zone": "a"},
                                                         labels_state="replace"))
    assert actions[0]["remove"] == ["storage"]
    assert spec["Labels"] == {"zone": "a"}


def test_remove_keys(recorded):
    nodes = recorded("manager_three_active")["nodes"]
    node = by_host(nodes, "lab-node3")
    actions, spec = sn.plan_present(nodes, node, desired(labels_to_remove=["edge", "absent"]))
    assert actions == [{"action": "labels", "set": {}, "remove": ["edge"]}]
    assert "edge" not in spec["Labels"]


def test_label_set_and_removed_refused(recorded):
    nodes = recorded("manager_three_active")["nodes"]
    with pytest.raises(PlanError, match="both set and removed"):
        sn.plan_present(nodes, nodes[0], desired(labels={"zone": "x"}, labels_to_remove=["zone"]))


def test_non_string_label_refused(recorded):
    nodes = recorded("manager_three_active")["nodes"]
    with pytest.raises(PlanError, match="quote it"):
        sn.plan_present(nodes, nodes[0], desired(labels={"edge": True}))
    # Every bad value is named at once, so one fix of the inventory settles them all.
    with pytest.raises(PlanError, match=r"edge=True is a bool.*port=8080 is a int"):
        sn.plan_present(nodes, nodes[0], desired(labels={"edge": True, "port": 8080,
                                                         "zone": "a"}))


def test_availability_and_demote(recorded):
    nodes = recorded("manager_three_active")["nodes"]
    node = by_host(nodes, "lab-node3")
    actions, spec = sn.plan_present(nodes, node, desired(availability="drain", role="worker"))
    assert [a["action"] for a in actions] == ["availability", "role"]
    assert (spec["Availability"], spec["Role"]) == ("drain", "worker")
    assert node["Spec"]["Role"] == "manager", "the recorded node must not be mutated"


def test_demote_breaking_quorum_refused(recorded):
    nodes = recorded("manager_three_active")["nodes"]
    by_host(nodes, "lab-node2")["ManagerStatus"]["Reachability"] = "unreachable"
    with pytest.raises(PlanError, match="raft majority"):
        sn.plan_present(nodes, by_host(nodes, "lab-node1"), desired(role="worker"))


def test_demote_of_the_unreachable_manager_itself_keeps_the_majority(recorded):
    # A dead manager is demoted (then removed) by the managers that stay: 2 of 3 reachable
    # before, 2 of 2 after.
    nodes = recorded("manager_three_active")["nodes"]
    dead = by_host(nodes, "lab-node3")
    dead["ManagerStatus"]["Reachability"] = "unreachable"
    actions = sn.plan_present(nodes, dead, desired(role="worker"))[0]
    assert actions == [{"action": "role", "from": "manager", "to": "worker"}]


def test_demote_one_of_two_managers_allowed(recorded):
    nodes = recorded("manager_two_plus_worker")["nodes"]
    actions = sn.plan_present(nodes, by_host(nodes, "lab-node1"), desired(role="worker"))[0]
    assert actions == [{"action": "role", "from": "manager", "to": "worker"}]


def test_remove_down_worker(recorded):
    nodes = recorded("manager_worker_down")["nodes"]
    node = by_host(nodes, "lab-node3", state="down")
    assert sn.plan_absent(node, force=False) == [
        {"action": "remove", "node_id": node["ID"], "force": False}]


def test_remove_refuses_manager_and_live_worker(recorded):
    nodes = recorded("manager_two_plus_worker")["nodes"]
    with pytest.raises(PlanError, match="demote it first"):
        sn.plan_absent(by_host(nodes, "lab-node1"), force=True)
    worker = by_host(nodes, "lab-node3")
    with pytest.raises(PlanError, match="not down"):
        sn.plan_absent(worker, force=False)
    assert sn.plan_absent(worker, force=True)[0]["force"] is True


def test_remove_missing_node_is_noop():
    assert sn.plan_absent(None, force=False) == []


def test_forced_demotion_skips_the_majority_guard(recorded):
    # recover.yml: after force_new_cluster the other managers' entries are stale.
    nodes = recorded("manager_three_active")["nodes"]
    for name in ("lab-node2", "lab-node3"):
        by_host(nodes, name)["ManagerStatus"]["Reachability"] = "unreachable"
    with pytest.raises(PlanError, match="raft majority"):
        sn.plan_present(nodes, by_host(nodes, "lab-node2"), desired(role="worker"))
    actions = sn.plan_present(nodes, by_host(nodes, "lab-node2"),
                              desired(role="worker", force=True))[0]
    assert actions == [{"action": "role", "from": "manager", "to": "worker"}]


def test_a_stale_manager_entry_outside_the_raft_is_removed_with_force(recorded):
    # After force_new_cluster the lost managers keep Role manager without ManagerStatus;
    # the engine cannot demote them ("can't find manager in raft memberlist").
    nodes = recorded("manager_three_active")["nodes"]
    stale = by_host(nodes, "lab-node3")
    del stale["ManagerStatus"]
    stale["Status"]["State"] = "unknown"
    with pytest.raises(PlanError, match="demote it first"):
        sn.plan_absent(stale, force=False)
    assert sn.plan_absent(stale, force=True) == [
        {"action": "remove", "node_id": stale["ID"], "force": True}]
    with pytest.raises(PlanError, match="demote it first"):
        sn.plan_absent(by_host(nodes, "lab-node2"), force=True)


def test_stale_entries_of_a_reinstalled_host_are_demoted_and_removed(recorded):
    nodes = recorded("manager_rejoined_stale_entry")["nodes"]
    live = by_host(nodes, "lab-node3")
    stale = by_host(nodes, "lab-node3", state="down")
    assert sn.plan_stale(nodes, live) == [
        {"action": "remove-stale", "node_id": stale["ID"], "force": False}]
    stale["ManagerStatus"] = {"Addr": "10.213.0.13:2377", "Reachability": "unreachable"}
    assert [a["action"] for a in sn.plan_stale(nodes, live)] == ["demote-stale",
                                                                 "remove-stale"]


def test_a_down_host_sharing_the_hostname_is_no_stale_entry(recorded):
    # Two hosts kept the image's default host name; node3 is only rebooting.
    nodes = recorded("manager_worker_down")["nodes"]
    for entry in nodes:
        entry["Description"]["Hostname"] = "debian"
    live = next(n for n in nodes if n["Status"]["Addr"] == "10.213.0.11")
    assert sn.plan_stale(nodes, live) == []


def test_a_stale_manager_entry_is_matched_by_its_raft_address(recorded):
    # A manager's Status.Addr may read 0.0.0.0; its raft address still names the host,
    # and another down manager reading 0.0.0.0 too is not this host's.
    nodes = recorded("manager_rejoined_stale_entry")["nodes"]
    live = by_host(nodes, "lab-node3")
    stale = by_host(nodes, "lab-node3", state="down")
    other = by_host(nodes, "lab-node2")
    other["Status"]["State"] = "down"
    stale["Description"]["Hostname"] = "lab-node3-old"
    for entry in (live, stale, other):
        entry["Status"]["Addr"] = "0.0.0.0"
    stale["ManagerStatus"] = {"Addr": "10.213.0.13:2377", "Reachability": "unreachable"}
    assert [a["node_id"] for a in sn.plan_stale(nodes, live)] == [stale["ID"]] * 2


def test_no_stale_entry_for_a_node_that_never_left(recorded):
    nodes = recorded("manager_three_active")["nodes"]
    assert sn.plan_stale(nodes, by_host(nodes, "lab-node1")) == []
