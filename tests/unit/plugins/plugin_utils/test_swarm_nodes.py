"""The controller's judge of swarm_node on a manager's node list as node_facts trims it,
against the module's own plan on the whole /nodes answer recorded in the lab."""

import pytest

from ansible_collections.swarmops.cluster.plugins.module_utils._common import with_defaults
from ansible_collections.swarmops.cluster.plugins.module_utils._node_facts import trim_node
from ansible_collections.swarmops.cluster.plugins.module_utils._swarm_node import (
    ARGUMENT_SPEC, PlanError, plan_node, plan_stale)
from ansible_collections.swarmops.cluster.plugins.plugin_utils._swarm_nodes import (
    node_in_place)


def node_id(nodes, hostname, state="ready"):
    return next(n["ID"] for n in nodes if n["Description"]["Hostname"] == hostname
                and n["Status"]["State"] == state)


def module_changes(nodes, params):
    """What swarm_node itself plans on the untrimmed list (its apply order), or 'refused'."""
    full = with_defaults(ARGUMENT_SPEC, params)
    try:
        node, actions, _spec = plan_node(nodes, full)
        return actions + (plan_stale(nodes, node) if full["remove_stale"] else [])
    except PlanError:
        return "refused"


CASES = [
    ("manager_three_active", "lab-node1",
     {"labels": {"storage": "gluster", "zone": "a"}, "role": "manager",
      "availability": "active", "remove_stale": True}),
    ("manager_three_active", "lab-node1", {"labels": {"zone": "b"}}),
    ("manager_three_active", "lab-node1", {"labels": {"zone": "a"}, "labels_state": "replace"}),
    ("manager_three_active", "lab-node3", {"availability": "drain"}),
    ("manager_three_active", "lab-node3", {"role": "worker"}),
    ("manager_three_active", "lab-node2", {"labels": {"zone": 3}}),
    ("manager_rejoined_stale_entry", "lab-node3",
     {"labels": {"edge": "true"}, "role": "manager", "remove_stale": True}),
    ("manager_rejoined_stale_entry", "lab-node3",
     {"labels": {"edge": "true"}, "role": "manager", "remove_stale": False}),
    ("manager_two_plus_worker", "lab-node3", {"role": "worker", "remove_stale": True}),
    ("manager_two_plus_worker", "lab-node3", {"role": "manager"}),
]


@pytest.mark.parametrize("fixture,hostname,params", CASES,
                         ids=["in-place", "label-value", "replace-drops-labels", "drain",
                              "demote", "label-not-a-string", "stale-entry",
                              "stale-entry-kept", "worker-in-place", "promote"])
def test_the_judge_on_trimmed_nodes_agrees_with_the_module(recorded, fixture, hostname, params):
    nodes = recorded(fixture)["nodes"]
    params = dict(params, node=node_id(nodes, hostname))
    assert node_in_place([trim_node(n) for n in nodes], params) == \
        (module_changes(nodes, params) == [])


def test_the_recorded_healthy_node_is_in_place_and_an_unread_list_is_not(recorded):
    nodes = recorded("manager_three_active")["nodes"]
    params = {"node": node_id(nodes, "lab-node2"), "labels": {"zone": "b"}}
    assert node_in_place([trim_node(n) for n in nodes], params)
    assert not node_in_place(None, params)
    assert not node_in_place([trim_node(n) for n in nodes], dict(params, node="nosuchnode"))
