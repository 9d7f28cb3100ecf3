"""The inventory checks the roles run before any change."""

import socket
from pathlib import Path

import pytest

from ansible_collections.swarmops.cluster.plugins.filter import topology
from ansible_collections.swarmops.cluster.plugins.plugin_utils import _cluster_plan
from ansible_collections.swarmops.cluster.plugins.module_utils import _node_facts as nf

RECORDED = Path(__file__).resolve().parents[2] / "fixtures" / "node_facts"
# The controller's DNS in these tests; nothing else resolves.
DNS = {"node1.lab": "10.213.0.11", "node2.lab": "10.213.0.12", "alias.lab": "10.213.0.11",
       "node6.lab": "fd00::16"}


def fake_getaddrinfo(host, port, family=0, type_=0):
    """getaddrinfo over DNS: one answer per known name, else the error glibc gives."""
    if host not in DNS:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    ip = DNS[host]
    return [(socket.AF_INET6 if ":" in ip else socket.AF_INET, type_, 6, "", (ip, port or 0))]


@pytest.fixture(autouse=True)
def controller_dns(monkeypatch):
    """Every name is resolved by fake_getaddrinfo: no test reaches the real DNS."""
    monkeypatch.setattr(_cluster_plan.resolve_address, "__defaults__", (fake_getaddrinfo,))


def node(name, address, **settings):
    """A node dict as cluster_nodes makes it: a manager with no labels unless told."""
    return dict({"name": name, "address": address, "address_error": None, "source": address,
                 "advertise": address, "manager": True, "worker": False, "labels": {},
                 "availability": "active"}, **settings)


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


def test_duplicate_and_unresolvable_addresses():
    problems = topology.address_problems([
        node("a", "10.20.0.11"), node("b", "10.20.0.11"),
        node("c", None, source="db.example", address_error="'db.example' does not resolve")])
    assert len(problems) == 2
    assert "a and b share the address 10.20.0.11" in problems[0]
    assert problems[1].startswith("c: 'db.example' does not resolve")
    assert "swarmops_node_address" in problems[1]


def test_a_name_is_no_longer_an_address_problem():
    nodes = topology.cluster_nodes({"swarm_managers": ["n1"]},
                                   {"n1": {"ansible_host": "node1.lab"}})
    assert not topology.address_problems(nodes)


def test_label_and_availability_problems():
    bad = [node("n1", "10.20.0.11", labels={"edge": True}, availability="sleeping")]
    problems = topology.swarm_topology_problems(bad)
    assert any("quote it" in p for p in problems)
    assert any("sleeping" in p for p in problems)
    assert any("must be a mapping" in p for p in topology.swarm_topology_problems(
        [node("n1", "10.20.0.11", labels=["a"])]))


# cluster_nodes

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


def test_cluster_nodes_resolve_ansible_host_names():
    [n1] = topology.cluster_nodes({"swarm_managers": ["n1"]},
                                  {"n1": {"ansible_host": "node1.lab"}})
    assert (n1["address"], n1["source"], n1["address_error"], n1["advertise"]) == (
        "10.213.0.11", "node1.lab", None, "10.213.0.11")


def test_cluster_nodes_fall_back_to_the_inventory_name():
    [n6] = topology.cluster_nodes({"swarm_managers": ["node6.lab"]}, {"node6.lab": {}})
    assert (n6["address"], n6["source"]) == ("fd00::16", "node6.lab")


def test_swarmops_node_address_overrides_ansible_host():
    [n1] = topology.cluster_nodes(
        {"swarm_managers": ["n1"]},
        {"n1": {"ansible_host": "203.0.113.5", "swarmops_node_address": "node2.lab"}})
    assert (n1["address"], n1["source"]) == ("10.213.0.12", "node2.lab")


def test_cluster_nodes_keep_the_resolve_error():
    [n1] = topology.cluster_nodes({"swarm_managers": ["n1"]},
                                  {"n1": {"ansible_host": "gone.lab"}})
    assert n1["address"] is None
    assert "'gone.lab' does not resolve on the controller" in n1["address_error"]
    assert "Name or service not known" in n1["address_error"]


def test_names_resolving_to_one_address_are_a_duplicate():
    nodes = topology.cluster_nodes({"swarm_managers": ["n1", "n2"]},
                                   {"n1": {"ansible_host": "node1.lab"},
                                    "n2": {"ansible_host": "alias.lab"}})
    assert topology.address_problems(nodes) == [
        "n1 and n2 share the address 10.213.0.11; each host needs its own "
        "(swarmops_node_address)"]


@pytest.mark.parametrize("advertise,expected", [
    ("10.30.0.11", "10.30.0.11"), ("node2.lab", "10.213.0.12"), ("[fd00::30]", "fd00::30"),
    ("eth1", None), ("", "10.213.0.11"),
])
def test_explicit_advertise_address(advertise, expected):
    hostvars = {"n1": {"ansible_host": "node1.lab", "swarmops_swarm_advertise_addr": advertise}}
    [n1] = topology.cluster_nodes({"swarm_managers": ["n1"]}, hostvars)
    assert (n1["advertise"], n1["address"]) == (expected, "10.213.0.11")
    # An interface's IP is the host's to know: kept by name, never compared.
    assert n1["advertise_interface"] == ("eth1" if advertise == "eth1" else None)


def test_hosts_role_groups_add_hosts_in_order():
    groups = {"swarm_managers": ["m1"], "swarm_workers": ["w1"], "edge": ["e1", "m1"]}
    hostvars = {h: {"ansible_host": "10.20.0.%d" % i} for i, h in enumerate(["m1", "w1", "e1"])}
    nodes = topology.cluster_nodes(groups, hostvars, ["swarm_managers", "swarm_workers", "edge"])
    assert [(n["name"], n["manager"], n["worker"]) for n in nodes] == [
        ("m1", True, False), ("w1", False, True), ("e1", False, False)]


# docker_host_problems

def engine_facts(info="docker_info_inactive.json", family="Debian"):
    """ansible_facts as node_facts sets them, the engine from a recorded `docker info`."""
    engine = nf.parse_engine_info(0, (RECORDED / info).read_text(), "")
    return {"os_family": family, "distribution": family,
            "swarmops_node": {"hostname": "lab-node1", "addresses": ["10.213.0.11"],
                              "engine": dict(engine, installed=True), "daemon_json": {},
                              "group": {"name": "docker", "exists": True, "error": None}}}


def test_docker_host_sound():
    assert not topology.docker_host_problems(engine_facts(), "debian", "n1")
    assert not topology.docker_host_problems(engine_facts(family="Archlinux"), "debian", "n1")
    assert not topology.docker_host_problems(engine_facts(), "upstream", "n1")


def test_docker_host_unsupported_family():
    facts = dict(engine_facts(family="RedHat"), distribution="Rocky")
    [problem] = topology.docker_host_problems(facts, "debian", "n1")
    assert problem.startswith("n1 runs Rocky (RedHat)")
    assert "supports Debian, Raspberry Pi OS and Arch Linux" in problem


def test_docker_host_upstream_on_arch():
    [problem] = topology.docker_host_problems(engine_facts(family="Archlinux"), "upstream",
                                              "n1")
    assert problem.startswith("n1: swarmops_docker_source: upstream is for Debian")
    assert "leave swarmops_docker_source at debian" in problem


def test_docker_host_engine_down():
    [problem] = topology.docker_host_problems(engine_facts("docker_info_stopped.json"))
    assert problem.startswith("lab-node1: the Docker engine is installed but does not answer")
    assert "systemctl start docker" in problem


# swarm_plan wrapper: probes from hostvars and from the delegated read of outside managers

def lab_probe(node_addr, addresses):
    """A manager of the recorded lab swarm (lab node1's `docker info`) at node_addr."""
    engine = nf.parse_engine_info(
        0, (RECORDED / "docker_info_manager.json").read_text(), "")
    engine["swarm"]["node_addr"] = node_addr
    return {"hostname": "lab", "addresses": addresses, "engine": dict(engine, installed=True)}


def bare_probe(addresses):
    """A node whose engine answers outside any swarm (recorded in the capture container)."""
    engine = nf.parse_engine_info(0, (RECORDED / "docker_info_inactive.json").read_text(), "")
    return {"hostname": "bare", "addresses": addresses, "engine": dict(engine, installed=True)}


def limit_run(outside_facts):
    """n1 (outside the run) manages the swarm; w1 joins it under --limit w1.

    outside_facts: what the delegated node_facts read left on n1 (delegate_facts), or None
    when it was unreachable or failed.
    """
    groups = {"swarm_managers": ["n1"], "swarm_workers": ["w1"]}
    hostvars = {"n1": {"ansible_host": "node1.lab"},
                "w1": {"ansible_host": "node2.lab",
                       "ansible_facts": {"swarmops_node": bare_probe(["10.213.0.12"])}}}
    if outside_facts is not None:
        hostvars["n1"]["ansible_facts"] = outside_facts
    nodes = topology.cluster_nodes(groups, hostvars)
    return topology.swarm_plan(nodes, hostvars, ["w1"])


def test_plan_reads_outside_managers_from_the_delegated_read():
    result = limit_run({"swarmops_node": lab_probe("10.213.0.11", ["10.213.0.11"])})
    assert (result["problems"], result["bootstrap"], result["to_join"], result["endpoint"]) \
        == ([], "n1", ["w1"], "10.213.0.11:2377")


@pytest.mark.parametrize("facts", [None, {}])
def test_plan_cannot_tell_when_the_outside_manager_is_unread(facts):
    plan = limit_run(facts)
    assert any(p.startswith("cannot tell") and "n1 outside" in p for p in plan["problems"])
    assert not plan["init"]


# Regressions: bugs found while these tests were written.

def test_advertise_on_an_interface_survives_a_rerun():
    hostvars = {"n1": {"ansible_host": "node1.lab", "swarmops_swarm_advertise_addr": "eth1",
                       "ansible_facts": {"swarmops_node": lab_probe(
                           "10.30.0.11", ["10.213.0.11", "10.30.0.11"])}}}
    nodes = topology.cluster_nodes({"swarm_managers": ["n1"]}, hostvars)
    assert topology.swarm_plan(nodes, hostvars, ["n1"])["problems"] == []


def test_swarm_preflight_reports_an_address_problem_once():
    hostvars = {"n1": {"ansible_host": "gone.lab"}, "n2": {"ansible_host": "node2.lab"},
                "n3": {"ansible_host": "10.213.0.13"}}
    for name, addr in (("n1", "10.213.0.11"), ("n2", "10.213.0.12"), ("n3", "10.213.0.13")):
        hostvars[name]["ansible_facts"] = {"swarmops_node": bare_probe([addr])}
    nodes = topology.cluster_nodes({"swarm_managers": ["n1", "n2", "n3"]}, hostvars)
    # As roles/swarm/tasks/preflight.yml puts them together:
    problems = (topology.swarm_topology_problems(nodes)
                + topology.swarm_plan(nodes, hostvars, ["n1", "n2", "n3"])["problems"])
    assert len([p for p in problems if "gone.lab" in p]) == 1


def with_gluster(probe, volumes):
    """A probe whose glusterd answers with the named volumes."""
    return dict(probe, gluster={"installed": True, "answering": True, "pool": [],
                                "volumes": [{"name": v} for v in volumes]})


def test_the_first_manager_holding_swarm_and_volume_settles_the_outside_reads():
    n1 = with_gluster(lab_probe("10.213.0.11", ["10.213.0.11"]), ["dockerdir"])
    hostvars = {"n1": {"ansible_facts": {"swarmops_node": n1}}, "n2": {}}
    assert topology.outside_reads_settled(hostvars, ["n1", "n2"], ["n1", "n2"])
    # All in the run: nothing to read outside.
    assert topology.outside_reads_settled(hostvars, [], [])


@pytest.mark.parametrize("first", [
    None,  # unreachable: no facts were delegated
    with_gluster(bare_probe(["10.213.0.11"]), ["dockerdir"]),  # no swarm yet
    with_gluster(lab_probe("10.213.0.11", ["10.213.0.11"]), []),  # no volume yet
])
def test_anything_less_than_a_running_cluster_reads_every_outside_host(first):
    hostvars = {"n1": {"ansible_facts": {"swarmops_node": first} if first else {}}}
    assert not topology.outside_reads_settled(hostvars, ["n1"], ["n1"])


def test_a_separate_storage_node_is_judged_on_its_own_read():
    manager = lab_probe("10.213.0.11", ["10.213.0.11"])
    hostvars = {"n1": {"ansible_facts": {"swarmops_node": manager}},
                "s1": {"ansible_facts": {"swarmops_node": with_gluster(manager, ["dockerdir"])}}}
    assert topology.outside_reads_settled(hostvars, ["n1"], ["s1"])
    assert not topology.outside_reads_settled(hostvars, ["n1"], ["n1"])


# The distribution facts node_facts reported on the lab's nodes (recorded 2026-12 on the
# Debian 13 and Debian 12 lab images).
TRIXIE = {"distribution": "Debian", "distribution_major_version": "13",
          "distribution_release": "trixie", "distribution_version": "13.8",
          "os_family": "Debian"}
BOOKWORM = {"distribution": "Debian", "distribution_major_version": "12",
            "distribution_release": "bookworm", "distribution_version": "12.12",
            "os_family": "Debian"}


@pytest.mark.parametrize("releases, allow, refused", [
    ({"node1": TRIXIE, "node2": TRIXIE, "node3": TRIXIE}, False, False),
    ({"node1": BOOKWORM, "node2": BOOKWORM}, False, False),
    ({"node1": BOOKWORM, "node2": TRIXIE, "node3": BOOKWORM}, False, True),
    ({"node1": BOOKWORM, "node2": TRIXIE}, True, False),
    # A host not read in this run (outside --limit) is not judged.
    ({"node1": TRIXIE, "node2": None}, False, False),
    # Not Debian (Arch has no releases to mix).
    ({"node1": TRIXIE, "node2": {"distribution": "Archlinux", "os_family": "Archlinux"}},
     False, False),
])
def test_release_mix(releases, allow, refused):
    nodes = [{"name": name} for name in releases]
    hostvars = {name: {"ansible_facts": facts} if facts else {}
                for name, facts in releases.items()}
    problems = topology.release_mix_problems(nodes, hostvars, allow)
    assert bool(problems) is refused
    if refused:
        assert "Debian 12: node1, node3; Debian 13: node2" in problems[0]
        assert "swarmops_docker_allow_mixed_releases: true" in problems[0]
