"""The inventory checks the roles run before any change."""

from ansible_collections.swarmops.cluster.plugins.filter import topology


def node(name, address, **settings):
    """A node dict as cluster_nodes makes it: a manager with no labels unless told."""
    return dict({"name": name, "address": address, "manager": True, "worker": False,
                 "labels": {}, "availability": "active"}, **settings)


GOOD = [node("n1", "10.20.0.11"), node("n2", "10.20.0.12"), node("n3", "10.20.0.13"),
        node("w1", "10.20.0.14", manager=False, worker=True)]


def test_sound_inventory_has_no_problems():
    assert not topology.swarm_topology_problems(GOOD)


def test_even_managers():
    problems = topology.swarm_topology_problems(GOOD[:2])
    assert len(problems) == 1 and "even number" in problems[0]
    assert not topology.swarm_topology_problems(GOOD[:2], allow_even_managers=True)


def test_no_managers():
    problems = topology.swarm_topology_problems([GOOD[3]])
    assert problems == ["no managers: put at least one host in the managers group "
                        "(swarm_managers)"]


def test_host_in_both_groups():
    both = GOOD[:2] + [node("n3", "10.20.0.13", worker=True)]
    assert any("in both" in p and "n3" in p for p in topology.swarm_topology_problems(both))


def test_duplicate_and_invalid_addresses():
    problems = topology.address_problems([node("a", "10.20.0.11"), node("b", "10.20.0.11"),
                                          node("c", "db.example")])
    assert len(problems) == 2
    assert "share the address 10.20.0.11" in problems[0]
    assert "not an IP address" in problems[1]


def test_label_and_availability_problems():
    bad = [node("n1", "10.20.0.11", labels={"edge": True}, availability="sleeping")]
    problems = topology.swarm_topology_problems(bad)
    assert any("quote it" in p for p in problems)
    assert any("sleeping" in p for p in problems)
    assert any("must be a mapping" in p for p in topology.swarm_topology_problems(
        [node("n1", "10.20.0.11", labels=["a"])]))


def test_cluster_nodes_from_groups_and_hostvars():
    groups = {"swarm_managers": ["m1"], "swarm_workers": ["w1"]}
    hostvars = {"m1": {"ansible_host": "10.20.0.11", "swarmops_node_address": "10.30.0.11"},
                "w1": {"ansible_host": "10.20.0.14",
                       "swarmops_swarm_node_labels": {"zone": "b"}}}
    nodes = topology.cluster_nodes(groups, hostvars)
    assert [(n["name"], n["address"], n["manager"], n["worker"]) for n in nodes] == [
        ("m1", "10.30.0.11", True, False), ("w1", "10.20.0.14", False, True)]
    assert nodes[1]["labels"] == {"zone": "b"}
    assert nodes[0]["availability"] == "active"
