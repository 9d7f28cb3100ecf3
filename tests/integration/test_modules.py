"""Our modules on the live swarm: check mode is exact, and bad input changes nothing."""

from conftest import run_module


def node_spec(cluster, manager, node_id):
    return cluster.docker_json(manager, "node inspect", node_id)[0]["Spec"]


def test_info_works_on_every_node(cluster):
    for name in cluster.names:
        result = run_module(cluster, name, "swarmops.cluster.swarm_info")
        assert result["swarm"]["state"] == "active"
        assert result["swarm"]["is_manager"] == (name in cluster.managers)
        assert "join_tokens" not in result["swarm"]


def test_present_on_manager_changes_nothing(cluster, manager):
    result = run_module(cluster, manager, "swarmops.cluster.swarm",
                        {"state": "present", "join_tokens": False})
    assert result["changed"] is False and result["actions"] == []
    assert result["swarm_facts"]["cluster_id"]


def test_check_mode_predicts_and_changes_nothing(cluster, manager):
    node_id = cluster.swarm_state(manager)["NodeID"]
    before = node_spec(cluster, manager, node_id)
    result = run_module(cluster, manager, "swarmops.cluster.swarm_node",
                        {"node": node_id, "availability": "drain", "labels_to_remove": ["zone"]},
                        check=True)
    assert result["changed"] is True
    assert [a["action"] for a in result["actions"]] == ["labels", "availability"]
    assert result["node"]["availability"] == "drain"
    assert "zone" not in result["node"]["labels"]
    assert node_spec(cluster, manager, node_id) == before


def test_join_to_other_swarm_names_both_ids(cluster, manager):
    cluster_id = cluster.swarm_state(manager)["Cluster"]["ID"]
    result = run_module(cluster, manager, "swarmops.cluster.swarm",
                        {"state": "join", "join_token": "SWMTKN-1-not-used", "role": "manager",
                         "remote_addrs": ["127.0.0.1"], "cluster_id": "0ther0swarm0id"})
    assert result.get("failed")
    assert cluster_id in result["msg"] and "0ther0swarm0id" in result["msg"]
    assert "nothing was changed" in result["msg"]
    assert cluster.swarm_state(manager)["Cluster"]["ID"] == cluster_id


def test_unknown_label_mode_refused(cluster, manager):
    result = run_module(cluster, manager, "swarmops.cluster.swarm_node",
                        {"node": "x", "labels_state": "append", "labels": {"a": "b"}})
    assert result.get("failed")
    assert "labels_state" in result["msg"] and "merge, replace" in result["msg"]


def test_non_string_label_refused_before_change(cluster, manager):
    node_id = cluster.swarm_state(manager)["NodeID"]
    before = node_spec(cluster, manager, node_id)
    result = run_module(cluster, manager, "swarmops.cluster.swarm_node",
                        {"node": node_id, "labels": {"port": 8080}})
    assert result.get("failed") and "quote it" in result["msg"]
    assert node_spec(cluster, manager, node_id) == before


def test_unknown_node_named_with_known_ones(cluster, manager):
    result = run_module(cluster, manager, "swarmops.cluster.swarm_node",
                        {"node": "no-such-node", "availability": "active"})
    assert result.get("failed") and "known hostnames" in result["msg"]


def test_leaving_is_planned_safely(cluster, manager):
    result = run_module(cluster, manager, "swarmops.cluster.swarm", {"state": "absent"}, check=True)
    if len(cluster.managers) >= 3:
        assert [a["action"] for a in result["actions"]] == ["demote", "leave"]
    else:
        assert result.get("failed") and "last manager" in result["msg"]
    assert cluster.swarm_state(manager)["ControlAvailable"] is True


def test_workers_refuse_manager_work(cluster):
    for name in cluster.workers:
        result = run_module(cluster, name, "swarmops.cluster.swarm_node", {"node": "x", "availability": "active"})
        assert result.get("failed") and "not a swarm manager" in result["msg"]
        result = run_module(cluster, name, "swarmops.cluster.swarm", {"state": "present"})
        assert result.get("failed") and "worker of another swarm" in result["msg"]
        result = run_module(cluster, name, "swarmops.cluster.swarm",
                            {"state": "join", "join_token": "SWMTKN-1-x",
                             "remote_addrs": ["127.0.0.1"]})
        assert result.get("failed") and "unknown to a worker" in result["msg"]
