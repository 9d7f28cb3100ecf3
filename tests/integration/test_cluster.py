"""The converged cluster is what the inventory describes."""

import pytest


@pytest.mark.parametrize("unit", ["docker"])
def test_engine_running_and_enabled(host, unit):
    service = host.service(unit)
    assert service.is_running
    assert service.is_enabled


def test_docker_sdk_installed(host):
    assert host.run("python3 -c 'import docker'").rc == 0


def test_hosts_file_lists_every_node_once(host, cluster):
    lines = host.file("/etc/hosts").content_string.splitlines()
    assert lines.count("# BEGIN swarmops.cluster hosts") == 1
    for name in cluster.names:
        entries = [line for line in lines if name in line.split()[1:2]]
        assert len(entries) == 1, f"{name}: {entries}"
        assert entries[0].split()[0] == cluster.address(name)


def test_swarm_active_in_expected_role(host, cluster):
    name = host.backend.get_hostname()
    swarm = cluster.swarm_state(name)
    assert swarm["LocalNodeState"] == "active"
    assert swarm["ControlAvailable"] is (name in cluster.managers), swarm


def nodes_by_inventory_name(cluster, manager):
    """Live node entries keyed by inventory name (matched on the advertised address)."""
    nodes = [cluster.docker_json(manager, "node inspect", node_id)[0]
             for node_id in cluster.host(manager).check_output(
                 "sudo docker node ls --format '{{.ID}}'").split()]
    by_addr = {n["Status"]["Addr"]: n for n in nodes if n["Status"]["State"] == "ready"}
    return {name: by_addr.get(cluster.address(name)) for name in cluster.names}


def test_every_node_ready_and_managers_reachable(cluster, manager):
    nodes = nodes_by_inventory_name(cluster, manager)
    assert all(nodes.values()), f"not ready: {[k for k, v in nodes.items() if not v]}"
    managers = {k for k, v in nodes.items() if v["Spec"]["Role"] == "manager"}
    assert managers == set(cluster.managers)
    reachable = [v for v in nodes.values()
                 if (v.get("ManagerStatus") or {}).get("Reachability") == "reachable"]
    assert len(reachable) == len(cluster.managers)
    assert sum(bool((v.get("ManagerStatus") or {}).get("Leader")) for v in nodes.values()) == 1


def test_labels_and_availability_as_in_inventory(cluster, manager):
    nodes = nodes_by_inventory_name(cluster, manager)
    for name, node in nodes.items():
        hvars = cluster.hostvars[name]
        for key, value in (hvars.get("swarmops_swarm_node_labels") or {}).items():
            assert node["Spec"]["Labels"].get(key) == value, (name, key)
        assert node["Spec"]["Availability"] == \
            hvars.get("swarmops_swarm_node_availability", "active"), name


def swarm_listeners(run):
    """The local addresses (address:port) listening on the swarm port, from ss."""
    return sorted(line.split()[3] for line in
                  run("ss -Hltn 'sport = :2377'").splitlines() if line.strip())


def test_the_swarm_api_listens_on_the_cluster_address_only(host, cluster):
    """2377 answers on the node's cluster address, not on every interface (issue 21)."""
    name = host.backend.get_hostname()
    if name not in cluster.managers:
        pytest.skip("only managers serve the swarm API")
    assert swarm_listeners(host.check_output) == [f"{cluster.address(name)}:2377"]
