"""Network and stack preflight, judged on node facts parsed from recorded lab output."""

import json
from pathlib import Path

import pytest

from ansible_collections.swarmops.cluster.plugins.plugin_utils import _cluster_networks as cn
from ansible_collections.swarmops.cluster.plugins.module_utils import _node_facts as nf

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "node_facts"


def probe(name, manager=False):
    """A node's facts as node_facts reports them, from the lab's recorded CLI output."""
    addrs = nf.parse_ip_addr((FIXTURES / ("ip_addr_%s.json" % name)).read_text())
    nets = nf.parse_networks((FIXTURES / "network_inspect_manager.json").read_text()) \
        if manager else []
    return {"addresses": addrs["all_ipv4_addresses"], "interfaces": addrs["interfaces"],
            "networks": nets}


@pytest.fixture(name="probes")
def fixture_probes():
    return {"node1": probe("node1", manager=True), "node2": probe("node2"),
            "node3": probe("node3")}


PROXY = {"name": "proxy_traefik", "driver": "overlay", "attachable": True,
         "subnet": "10.130.10.0/24"}


def macvlan(**nodes):
    return {"name": "dns", "driver": "macvlan", "parent": "eth0", "subnet": "10.213.0.0/24",
            "gateway": "10.213.0.1", "nodes": nodes}


def test_lab_networks_pass(probes):
    nets = [PROXY, macvlan(node1={"ip_range": "10.213.0.200/29"},
                           node2={"ip_range": "10.213.0.208/29"})]
    assert cn.network_problems(nets, probes, "10.128.0.0/24") == []


def test_ingress_read_from_a_manager(probes):
    assert cn.ingress_subnet(probes, [], 24) == "10.128.0.0/24"


def test_ingress_predicted_before_the_swarm_exists():
    assert cn.ingress_subnet({"n": None}, ["10.140.0.0/16"], 24) == "10.140.0.0/24"
    assert cn.ingress_subnet({"n": None}, [], 24) == "10.0.0.0/24"


@pytest.mark.parametrize("subnet, overlapped", [
    ("10.128.0.0/16", "the ingress network"),
    ("10.111.0.0/24", "docker network docker_gwbridge"),
    ("10.213.0.0/16", "node1's interface eth0"),
    ("10.101.0.0/24", "docker network bridge"),
])
def test_overlay_overlapping_is_refused(probes, subnet, overlapped):
    problems = cn.network_problems([dict(PROXY, subnet=subnet)], probes, "10.128.0.0/24")
    assert any(overlapped in p and "proxy_traefik" in p for p in problems), problems


def test_two_networks_overlapping_each_other(probes):
    nets = [PROXY, dict(PROXY, name="backend", subnet="10.130.0.0/16")]
    problems = cn.network_problems(nets, probes, "10.128.0.0/24")
    assert problems == ["network proxy_traefik: subnet 10.130.10.0/24 overlaps network "
                        "backend (10.130.0.0/16); pick a free range"]


def test_macvlan_parent_missing_names_the_interfaces(probes):
    net = dict(macvlan(node2={"ip_range": "10.213.0.208/29"}), parent="eth9")
    problems = cn.network_problems([net], probes, "10.128.0.0/24")
    assert len(problems) == 1
    assert "parent interface eth9 does not exist on node2" in problems[0]
    assert "eth0" in problems[0]


def test_macvlan_ranges_overlapping_or_holding_a_host(probes):
    net = macvlan(node1={"ip_range": "10.213.0.8/29"}, node2={"ip_range": "10.213.0.12/30"})
    problems = cn.network_problems([net], probes, "10.128.0.0/24")
    assert any("holds host address 10.213.0.11" in p for p in problems), problems
    assert any("ip_ranges of node1 and node2 overlap" in p for p in problems), problems


@pytest.mark.parametrize("net, fragment", [
    (dict(PROXY, subnet="10.130.10.0/33"), "is not a network in CIDR form"),
    (dict(PROXY, subnet="10.130.10.1/24"), "is not a network in CIDR form"),
    (dict(PROXY, gateway="10.131.0.1"), "gateway 10.131.0.1 is not inside subnet"),
    (dict(PROXY, ip_range="10.131.0.0/28"), "is not inside subnet 10.130.10.0/24"),
    (dict(PROXY, driver="bridge"), "driver bridge"),
    ({"name": "dns", "driver": "macvlan", "parent": "eth0"}, "a macvlan needs subnet and nodes"),
    (macvlan(nodeX={"ip_range": "10.213.0.200/29"}), "node nodeX is not in the inventory"),
])
def test_bad_network_entries(probes, net, fragment):
    problems = cn.network_problems([net], probes, "10.128.0.0/24")
    assert any(fragment in p for p in problems), problems


def test_relay_range_holding_the_ingress_is_an_open_relay():
    compose = {"services": {"smtp": {"environment": {
        "RELAYNETS": "172.16.0.0/12,10.0.0.0/8"}}, "web": {"environment": ["A=1"]}}}
    problems = cn.relay_problems("mail", compose, ["RELAYNETS"], "10.0.0.0/24")
    assert len(problems) == 1 and "service smtp: RELAYNETS=" in problems[0]
    assert "open relay" in problems[0]


def test_relay_range_of_own_networks_passes():
    compose = {"services": {"smtp": {"environment": ["RELAYNETS=10.130.10.0/24"]}}}
    assert cn.relay_problems("mail", compose, ["RELAYNETS"], "10.0.0.0/24") == []


def test_unknown_external_network():
    compose = {"networks": {"proxy": {"external": True, "name": "proxy_traefik"},
                            "old": {"external": {"name": "legacy"}}, "own": {}}}
    assert cn.external_network_problems("web", compose, {"proxy_traefik"}) == [
        "stack web: external network legacy does not exist and is not in swarmops_networks; "
        "add it there or create it first"]


def test_the_filter_gives_each_networks_subnets_for_stacks(probes):
    from ansible_collections.swarmops.cluster.plugins.filter import networks as flt
    hostvars = {name: {"ansible_facts": {"swarmops_node": p}} for name, p in probes.items()}
    plan = flt.network_preflight([PROXY, {"name": "mailu_net", "subnet": "10.131.0.0/24"}],
                                 hostvars, sorted(probes))
    assert plan["problems"] == [] and plan["ingress"] == "10.128.0.0/24"
    assert plan["subnets"]["ingress"] == ["10.128.0.0/24"]  # as the engine allocated it
    assert plan["subnets"]["mailu_net"] == ["10.131.0.0/24"]  # as the inventory asks
    assert "docker_gwbridge" in plan["known"] and "proxy_traefik" in plan["known"]


def test_a_retired_hosts_macvlan_entry_is_left_out(probes):
    # replace_node.yml -e old=node1: site.yml runs with node1 retired and out of the play.
    from ansible_collections.swarmops.cluster.plugins.filter import networks as flt
    hostvars = {name: {"ansible_facts": {"swarmops_node": p}} for name, p in probes.items()
                if name != "node1"}
    nets = [macvlan(node1={"ip_range": "10.213.0.200/29"},
                    node2={"ip_range": "10.213.0.208/29"})]
    assert flt.network_preflight(nets, hostvars, ["node2", "node3"])["problems"] == [
        "network dns: node node1 is not in the inventory"]
    plan = flt.network_preflight(nets, hostvars, ["node2", "node3"], retired=["node1"])
    assert plan["problems"] == [] and list(plan["config"]) == ["node2", "node3"]


NETWORK_FIXTURES = FIXTURES.parent / "network"


def engine_probe(name):
    """A host's preflight read of its engine's networks, from recorded inspect output."""
    recorded = json.loads((NETWORK_FIXTURES / name).read_text())
    return {"networks": nf.parse_networks(json.dumps(list(recorded["inspect"].values())))}


MACVLAN = {"name": "mvnet2", "driver": "macvlan", "parent": "eth0", "config_name": "mvcfg2",
           "subnet": "172.31.251.0/24", "attachable": True,
           "nodes": {"node1": {"ip_range": "172.31.251.16/28"},
                     "node2": {"ip_range": "172.31.251.32/28"}}}


def test_networks_that_exist_as_listed_need_no_call():
    # mvcfg2 and mvnet2 were made by the network module on the lab with these options.
    probe = engine_probe("macvlan_node1_manager.json")
    assert cn.pending(cn.config_params([MACVLAN], "node1"), probe) == []
    assert cn.pending(cn.swarm_params([MACVLAN]), probe) == []
    node2 = engine_probe("macvlan_node2.json")
    assert cn.pending(cn.config_params([MACVLAN], "node2"), node2) == []


def test_a_network_that_differs_or_is_missing_is_left_to_the_module():
    probe = engine_probe("macvlan_node1_manager.json")
    other_range = dict(MACVLAN, nodes={"node1": {"ip_range": "172.31.251.64/28"}})
    assert [p["ip_range"] for p in cn.pending(cn.config_params([other_range], "node1"),
                                              probe)] == ["172.31.251.64/28"]
    overlay = {"name": "ov_full", "driver": "overlay", "subnet": "10.250.7.0/24"}
    assert [p["name"] for p in cn.pending(cn.swarm_params([MACVLAN, overlay]), probe)] == [
        "ov_full"]
    assert cn.pending(cn.swarm_params([MACVLAN]), None) == cn.swarm_params([MACVLAN])


def test_an_overlay_read_from_the_engine_matches_its_entry():
    probe = engine_probe("overlays.json")
    full = {"name": "ov_full", "driver": "overlay", "subnet": "10.250.7.0/24",
            "gateway": "10.250.7.1", "ip_range": "10.250.7.128/25", "attachable": True,
            "encrypted": True, "labels": {"owner": "platform", "tier": "apps"}}
    assert cn.pending(cn.swarm_params([full]), probe) == []
    assert cn.pending(cn.swarm_params([dict(full, internal=True)]), probe) != []
    assert cn.config_params([full], "node1") == []
