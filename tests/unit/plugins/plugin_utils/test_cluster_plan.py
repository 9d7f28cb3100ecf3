"""The preflight planner, fed probes built from node_facts output recorded on lab nodes."""

import json
import socket
from pathlib import Path

import pytest

from ansible_collections.swarmops.cluster.plugins.plugin_utils import _cluster_plan as plan
from ansible_collections.swarmops.cluster.plugins.module_utils import _node_facts as nf

RECORDED = Path(__file__).resolve().parents[2] / "fixtures" / "node_facts"


def recorded(name):
    """The text of one recorded output (fixtures/node_facts/README.md says how and where)."""
    return (RECORDED / name).read_text()


def api_info(name):
    """A recorded engine /info (fixtures/NAME.json) as `docker info --format json` prints it."""
    return json.dumps(json.loads((RECORDED.parent / f"{name}.json").read_text())["info"])


ENGINES = {
    "manager": nf.parse_engine_info(0, recorded("docker_info_manager.json"), ""),
    "inactive": nf.parse_engine_info(0, recorded("docker_info_inactive.json"), ""),
    "stopped": nf.parse_engine_info(0, recorded("docker_info_stopped.json"), ""),
    "locked": nf.parse_engine_info(0, recorded("docker_info_locked.json"), ""),
    "other": nf.parse_engine_info(0, recorded("docker_info_other_swarm.json"), ""),
    "worker": nf.parse_engine_info(0, api_info("worker_active"), ""),
    "absent": {"answering": False, "error": "docker is not installed", "version": None,
               "swarm": None},
}
LAB_SWARM = ENGINES["manager"]["swarm"]["cluster_id"]     # xhbo4a...: lab node1's swarm
OTHER_SWARM = ENGINES["other"]["swarm"]["cluster_id"]     # the capture container's own
LAB_ADDRS = {n: nf.parse_ip_addr(recorded(f"ip_addr_node{n}.json"))["all_ipv4_addresses"]
             for n in (1, 2, 3)}


def engine(kind, **swarm):
    """A parsed recorded engine state, its swarm fields overridden (another node of it)."""
    result = json.loads(json.dumps(ENGINES[kind]))
    if swarm:
        result["swarm"].update(swarm)
    return result


def probe(kind="inactive", addresses=(), daemon_json=None, group=None, hostname=None,
          **swarm):
    """A swarmops_node fact as node_facts returns it, from recorded outputs (ENGINES[kind]);
    each host named after its first address unless hostname says otherwise."""
    service = "systemctl_show_docker_stopped.txt" if kind == "stopped" else \
        "bare_systemctl_show_docker.txt" if kind == "absent" else "systemctl_show_docker.txt"
    return {
        "hostname": hostname or "host-%s" % (list(addresses) or ["unaddressed"])[0],
        "addresses": list(addresses),
        "engine": dict(engine(kind, **swarm), installed=kind != "absent",
                       service=nf.parse_systemd_show(recorded(service))),
        "daemon_json": dict(nf.parse_daemon_json(daemon_json or recorded("daemon.json")),
                            exists=True, path="/etc/docker/daemon.json"),
        "group": dict(nf.parse_group_file(group or recorded("etc_group.txt"), "docker"),
                      name="docker"),
        "packages": nf.parse_package_query(recorded("dpkg_query.txt"), ["docker.io"]),
    }


def node(name, address, manager=True, source=None, advertise=None):
    """A node dict as cluster_nodes makes it."""
    return {"name": name, "address": address, "address_error": None,
            "source": source or address, "advertise": advertise or address,
            "manager": manager, "worker": not manager}


def lab_member(n):
    """Lab node n (1..3): node1's recorded manager state, advertising node n's lab IP."""
    addr = "10.213.0.1%d" % n
    return probe("manager", LAB_ADDRS[n], node_addr=addr)


MANAGERS = [node("n1", "10.213.0.11"), node("n2", "10.213.0.12"), node("n3", "10.213.0.13")]
WORKERS = [node("w1", "10.213.0.21", manager=False), node("w2", "10.213.0.22", manager=False)]
CONVERGED = {"n1": lab_member(1), "n2": lab_member(2), "n3": lab_member(3)}
BARE = {n["name"]: probe("inactive", [n["address"]]) for n in MANAGERS + WORKERS}
BARE_WORKERS = {"w1": BARE["w1"], "w2": BARE["w2"]}
ADDRESSES = {n["name"]: n["address"] for n in MANAGERS + WORKERS}


def fake_dns(table):
    """A getaddrinfo stand-in: getaddrinfo-shaped answers from a table, else gaierror."""
    calls = []

    def resolve(host, port, family=0, type_=0):
        calls.append((host, port, family, type_))
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (ip, 0, 0, 0) if ":" in ip else (ip, 0)) for ip in table[host]]
    resolve.calls = calls
    return resolve


def no_dns(*_args):
    """A resolver that must not be called."""
    raise AssertionError("an IP address must not be looked up")


# resolve_address

@pytest.mark.parametrize("value,expected", [
    ("10.213.0.11", "10.213.0.11"), (" 10.213.0.11 ", "10.213.0.11"),
    ("[fd00::11]", "fd00::11"), ("FD00:0:0::11", "fd00::11"),
])
def test_resolve_ip_without_lookup(value, expected):
    assert plan.resolve_address(value, no_dns) == (expected, None)


def test_resolve_name_on_the_controller():
    dns = fake_dns({"node1.lab": ["10.213.0.11"]})
    assert plan.resolve_address("node1.lab", dns) == ("10.213.0.11", None)
    assert dns.calls == [("node1.lab", None, 0, socket.SOCK_STREAM)]


def test_resolve_first_answer_wins():
    dns = fake_dns({"node1.lab": ["fd00::11", "10.213.0.11"], "v4.lab": ["10.0.0.2", "10.0.0.1"]})
    assert plan.resolve_address("node1.lab", dns)[0] == "fd00::11"
    assert plan.resolve_address("v4.lab", dns)[0] == "10.0.0.2"


def test_resolve_link_local_answer_drops_zone():
    def resolver(*_args):
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("fe80::1%eth0", 0, 0, 2))]
    assert plan.resolve_address("ll.lab", resolver) == ("fe80::1", None)


def test_resolve_failure_says_why():
    address, error = plan.resolve_address("db.example", fake_dns({}))
    assert address is None
    assert "'db.example' does not resolve on the controller" in error
    assert "Name or service not known" in error


def test_resolve_no_answers():
    assert plan.resolve_address("db.example", lambda *a: [])[0] is None


# address_problems

def named(name, source, dns):
    """A node whose inventory address is a name, resolved as cluster_nodes does."""
    address, error = plan.resolve_address(source, dns)
    return dict(node(name, address, source=source), address_error=error)


def test_unresolvable_name_is_a_problem():
    problems = plan.address_problems([named("n1", "node1.lab", fake_dns({}))])
    assert len(problems) == 1
    assert problems[0].startswith("n1: 'node1.lab' does not resolve")
    assert "set swarmops_node_address (or ansible_host)" in problems[0]


def test_two_names_resolving_to_one_address():
    dns = fake_dns({"node1.lab": ["10.213.0.11"], "alias.lab": ["10.213.0.11"]})
    problems = plan.address_problems([named("n1", "node1.lab", dns),
                                      named("n2", "alias.lab", dns), MANAGERS[2]])
    assert problems == ["n1 and n2 share the address 10.213.0.11; each host needs its own "
                        "(swarmops_node_address)"]


def test_resolved_names_are_fine():
    dns = fake_dns({"node1.lab": ["10.213.0.11"], "node2.lab": ["10.213.0.12"]})
    assert not plan.address_problems([named("n1", "node1.lab", dns),
                                      named("n2", "node2.lab", dns)])


# host_address_problems

def test_address_on_the_host():
    assert not plan.host_address_problems(MANAGERS[0], LAB_ADDRS[1])


def test_address_not_on_the_host_lists_its_own():
    problems = plan.host_address_problems(MANAGERS[1], LAB_ADDRS[1])
    assert len(problems) == 1
    assert problems[0].startswith("n2: the address 10.213.0.12 is not configured on the host")
    assert "(it has 10.101.0.1, 10.213.0.11, 10.111.0.1)" in problems[0]
    assert "set swarmops_node_address" in problems[0]


def test_address_from_a_name_says_it_resolves_to_it():
    [problem] = plan.host_address_problems(
        node("n1", "10.213.0.12", source="node1.lab"), LAB_ADDRS[1])
    assert "10.213.0.12 (node1.lab resolves to it) is not configured" in problem


def test_explicit_advertise_address_must_be_on_the_host():
    ok = node("n1", "10.213.0.11", advertise="10.111.0.1")
    bad = node("n1", "10.213.0.11", advertise="10.99.0.1")
    assert not plan.host_address_problems(ok, LAB_ADDRS[1])
    [problem] = plan.host_address_problems(bad, LAB_ADDRS[1])
    assert "the swarm advertise address 10.99.0.1 is not configured" in problem


def test_host_without_addresses():
    [problem] = plan.host_address_problems(MANAGERS[0], [])
    assert "(it has none)" in problem


# engine_problems

def test_recorded_sound_host_has_no_engine_problems():
    assert not plan.engine_problems("n1", CONVERGED["n1"])


def test_engine_installed_but_not_answering():
    [problem] = plan.engine_problems("n1", probe("stopped"))
    assert problem.startswith("n1: the Docker engine is installed but does not answer")
    assert "Cannot connect to the Docker daemon" in problem
    assert "systemctl start docker" in problem and "journalctl -u docker" in problem


def test_engine_not_installed_is_fine():
    assert not plan.engine_problems("n1", probe("absent"))


def test_daemon_json_not_json():
    [problem] = plan.engine_problems("n1", probe(daemon_json='{"bip": "10.1.0.1/24",}'))
    assert problem.startswith("n1: /etc/docker/daemon.json is not valid JSON (Expecting")
    assert "fix or remove it" in problem and "swarmops_docker_daemon_options" in problem


def test_docker_group_unusable():
    group = recorded("etc_group.txt") + "docker:x:999:\n"
    [problem] = plan.engine_problems("n1", probe(group=group))
    assert problem.startswith("n1: the docker group cannot be used: 2 entries")
    assert "repair /etc/group (vigr -g)" in problem


# swarm_state_problems

def test_swarm_states_without_problems():
    for state in ("manager", "inactive", "stopped", "absent"):
        assert not plan.swarm_state_problems(MANAGERS[0], probe(state)), state
    assert not plan.swarm_state_problems(MANAGERS[0], None)


def test_locked_swarm():
    [problem] = plan.swarm_state_problems(node("n1", "172.17.0.2"), probe("locked"))
    assert problem.startswith("n1: the manager is locked (autolock)")
    assert "playbooks/unlock.yml" in problem
    assert "docker swarm unlock" in problem


def test_swarm_in_error_state():
    [problem] = plan.swarm_state_problems(
        MANAGERS[0], probe("inactive", state="error", error="manager stopped: boom"))
    assert "n1: its swarm state is error (manager stopped: boom)" in problem
    assert "docker swarm leave --force" in problem


def test_swarm_advertising_another_address():
    # 10.111.0.1 is on lab node1 too, but its swarm advertises 10.213.0.11.
    [problem] = plan.swarm_state_problems(node("n1", "10.111.0.1"), lab_member(1))
    assert problem.startswith("n1 is in a swarm advertising 10.213.0.11, but its inventory "
                              "address is 10.111.0.1")
    assert "swarmops_node_address: 10.213.0.11" in problem and "docker swarm leave" in problem


def test_explicit_advertise_address_is_compared():
    converged = node("n1", "10.111.0.1", advertise="10.213.0.11")
    assert not plan.swarm_state_problems(converged, lab_member(1))


# swarm_plan: whole clusters

def test_fresh_cluster_inits_on_the_first_manager():
    result = plan.swarm_plan(MANAGERS + WORKERS, BARE, ["n1", "n2", "n3", "w1", "w2"])
    assert result == {"problems": [], "bootstrap": "n1", "cluster_id": None, "init": True,
                      "endpoint": "10.213.0.11:2377", "to_join": ["n2", "n3", "w1", "w2"],
                      "addresses": ADDRESSES}


def test_fresh_cluster_endpoint_is_the_explicit_advertise_address():
    nodes = [node("n1", "10.213.0.11", advertise="10.111.0.1")] + MANAGERS[1:]
    probes = dict(BARE, n1=probe("inactive", LAB_ADDRS[1]))
    assert plan.swarm_plan(nodes, probes, ["n1", "n2", "n3"])["endpoint"] == "10.111.0.1:2377"


def test_bootstrap_is_the_first_manager_in_inventory_order():
    result = plan.swarm_plan(MANAGERS, BARE, ["n3", "n2", "n1"])
    assert (result["bootstrap"], result["to_join"]) == ("n1", ["n2", "n3"])


def test_converged_cluster_changes_nothing():
    result = plan.swarm_plan(MANAGERS, CONVERGED, ["n1", "n2", "n3"])
    assert result == {"problems": [], "bootstrap": "n1", "cluster_id": LAB_SWARM,
                      "init": False, "endpoint": "10.213.0.11:2377", "to_join": [],
                      "addresses": {n: ADDRESSES[n] for n in ("n1", "n2", "n3")}}


def test_hosts_sharing_a_host_name_are_refused():
    # Two bare hosts imaged alike keep the image's default name ("debian").
    probes = dict(BARE, n2=probe("inactive", ["10.213.0.12"], hostname="debian"),
                  w2=probe("inactive", ["10.213.0.22"], hostname="debian"))
    result = plan.swarm_plan(MANAGERS + WORKERS, probes, ["n1", "n2", "n3", "w1", "w2"])
    assert result["problems"] == [
        "n2 and w2 share the host name debian; give each host its own (hostnamectl "
        "set-hostname) and restart its engine - nothing was changed"]


def test_converged_cluster_endpoint_is_the_swarms_node_addr():
    nodes = [node("n1", "10.111.0.1", advertise="10.213.0.11")] + MANAGERS[1:]
    assert plan.swarm_plan(nodes, CONVERGED, ["n1"])["endpoint"] == "10.213.0.11:2377"


def test_ipv6_endpoint_in_brackets():
    nodes = [node("n1", "fd00::11")]
    probes = {"n1": probe("manager", ["fd00::11"], node_addr="fd00::11")}
    result = plan.swarm_plan(nodes, probes, ["n1"], port=4000)
    assert (result["problems"], result["endpoint"]) == ([], "[fd00::11]:4000")


def test_only_the_missing_nodes_join():
    probes = dict(CONVERGED, n3=probe("inactive", LAB_ADDRS[3]))
    result = plan.swarm_plan(MANAGERS, probes, ["n1", "n2", "n3"])
    assert (result["init"], result["bootstrap"], result["to_join"]) == (False, "n1", ["n3"])


def test_swarm_kept_on_a_later_manager():
    probes = dict(CONVERGED, n1=probe("inactive", LAB_ADDRS[1]))
    result = plan.swarm_plan(MANAGERS, probes, ["n1", "n2", "n3"])
    assert (result["bootstrap"], result["endpoint"], result["to_join"]) == (
        "n2", "10.213.0.12:2377", ["n1"])


def test_managers_in_different_swarms():
    nodes = [MANAGERS[0], node("n2", "172.17.0.2")]
    probes = {"n1": lab_member(1), "n2": probe("other", ["172.17.0.2"])}
    result = plan.swarm_plan(nodes, probes, ["n1", "n2"])
    [problem] = result["problems"]
    assert "different swarms" in problem
    assert "n1 in %s" % LAB_SWARM in problem and "n2 in %s" % OTHER_SWARM in problem
    assert "docker swarm leave --force" in problem
    assert (result["bootstrap"], result["endpoint"], result["to_join"]) == (None, None, [])


def test_every_plan_has_the_same_keys():
    nodes = [MANAGERS[0], node("n2", "172.17.0.2")]
    probes = {"n1": lab_member(1), "n2": probe("other", ["172.17.0.2"])}
    split = plan.swarm_plan(nodes, probes, ["n1", "n2"])
    assert set(split) == set(plan.swarm_plan(MANAGERS, CONVERGED, ["n1"]))


def test_plan_leaves_daemon_json_and_group_to_the_docker_preflight():
    broken = dict(CONVERGED, n2=probe("manager", LAB_ADDRS[2], node_addr="10.213.0.12",
                                      daemon_json="{",
                                      group=recorded("etc_group.txt") + "docker:x:9:\n"))
    assert len(plan.engine_problems("n2", broken["n2"])) == 2
    assert plan.swarm_plan(MANAGERS, broken, ["n1", "n2", "n3"])["problems"] == []


def test_every_host_problem_is_collected():
    nodes = [MANAGERS[0], node("n2", "172.17.0.2"), MANAGERS[2]]
    probes = {"n1": probe("stopped", LAB_ADDRS[1]), "n2": probe("locked", ["172.17.0.2"]),
              "n3": probe("inactive", LAB_ADDRS[2])}
    problems = plan.swarm_plan(nodes, probes, ["n1", "n2", "n3"])["problems"]
    assert [p.split(" ")[0] for p in problems] == ["n1:", "n2:", "n3:"]
    assert "does not answer" in problems[0] and "locked" in problems[1]
    assert "not configured on the host" in problems[2]


def test_unresolvable_address_is_left_to_the_inventory_checks():
    # address_problems reports it (swarm_topology_problems); the plan must not repeat it.
    nodes = [named("n1", "node1.lab", fake_dns({}))] + MANAGERS[1:]
    result = plan.swarm_plan(nodes, BARE, ["n1", "n2", "n3"])
    assert not any("does not resolve" in p for p in result["problems"])
    assert any(p.startswith("n1: 'node1.lab' does not resolve")
               for p in plan.address_problems(nodes))


# swarm_plan: workers

def test_worker_of_our_swarm():
    nodes = [MANAGERS[0], node("w1", "10.213.0.13", manager=False)]
    probes = {"n1": lab_member(1), "w1": probe("worker", ["10.213.0.13"])}
    result = plan.swarm_plan(nodes, probes, ["n1", "w1"])
    assert (result["problems"], result["to_join"]) == ([], [])


def test_worker_of_another_swarm():
    nodes = [node("n1", "172.17.0.2"), node("w1", "10.213.0.13", manager=False)]
    probes = {"n1": probe("other", ["172.17.0.2"]), "w1": probe("worker", ["10.213.0.13"])}
    [problem] = plan.swarm_plan(nodes, probes, ["n1", "w1"])["problems"]
    assert problem.startswith("w1 is a worker of another swarm (its managers: "
                              "10.213.0.11:2377, 10.213.0.12:2377)")
    assert "not of swarm %s" % OTHER_SWARM in problem and "docker swarm leave" in problem


def test_worker_of_a_swarm_when_none_is_kept():
    nodes = [MANAGERS[0], node("w1", "10.213.0.13", manager=False)]
    probes = {"n1": BARE["n1"], "w1": probe("worker", ["10.213.0.13"])}
    result = plan.swarm_plan(nodes, probes, ["n1", "w1"])
    [problem] = result["problems"]
    assert problem.startswith("w1 is a worker of another swarm") and "not of swarm" not in problem


# swarm_plan: --limit

def test_limit_onboards_new_nodes_into_the_swarm_outside_the_run():
    result = plan.swarm_plan(MANAGERS + WORKERS, dict(CONVERGED, **BARE_WORKERS),
                             ["w1", "w2"])
    assert result == {"problems": [], "bootstrap": "n1", "cluster_id": LAB_SWARM,
                      "init": False, "endpoint": "10.213.0.11:2377", "to_join": ["w1", "w2"],
                      "addresses": ADDRESSES}


def test_limit_unreadable_manager_and_no_swarm_found():
    probes = dict(BARE_WORKERS, n1=None, n2=BARE["n2"], n3=BARE["n3"])
    result = plan.swarm_plan(MANAGERS + WORKERS, probes, ["w1", "w2"])
    [problem] = result["problems"]
    assert problem.startswith("cannot tell whether the inventory's managers already form a "
                              "swarm: n1 outside this run (--limit) could not be read")
    assert "run without --limit" in problem
    assert (result["init"], result["bootstrap"], result["endpoint"]) == (False, None, None)


def test_limit_unreadable_manager_is_moot_once_the_swarm_is_found():
    probes = dict(CONVERGED, n3=None, **BARE_WORKERS)
    result = plan.swarm_plan(MANAGERS + WORKERS, probes, ["w1", "w2"])
    assert (result["problems"], result["bootstrap"], result["init"]) == ([], "n1", False)


def test_limit_outside_manager_with_engine_down_cannot_be_told():
    probes = dict(BARE_WORKERS, n1=probe("stopped"), n2=BARE["n2"], n3=BARE["n3"])
    problems = plan.swarm_plan(MANAGERS + WORKERS, probes, ["n3", "w1"])["problems"]
    assert any(p.startswith("cannot tell") and "n1 outside" in p for p in problems)


def test_limit_outside_managers_bare_inits_on_a_manager_in_the_run():
    result = plan.swarm_plan(MANAGERS + WORKERS, BARE, ["n3", "w1"])
    assert (result["problems"], result["init"], result["bootstrap"], result["to_join"]) == (
        [], True, "n3", ["w1"])
    assert result["endpoint"] == "10.213.0.13:2377"


def test_limit_without_a_manager_and_no_swarm():
    result = plan.swarm_plan(MANAGERS + WORKERS, BARE, ["w1", "w2"])
    [problem] = result["problems"]
    assert "no inventory manager is in a swarm yet and none is in this run" in problem
    assert "a run that includes the managers" in problem
    assert (result["init"], result["bootstrap"]) == (False, None)


# swarm_plan: check mode on bare hosts (the docker role only predicted the engine)

def test_bare_hosts_without_an_engine():
    probes = {n["name"]: probe("absent", [n["address"]]) for n in MANAGERS + WORKERS}
    result = plan.swarm_plan(MANAGERS + WORKERS, probes, ["n1", "n2", "n3", "w1", "w2"])
    assert (result["problems"], result["init"], result["bootstrap"]) == ([], True, "n1")
    assert result["to_join"] == ["n2", "n3", "w1", "w2"]


def test_limit_outside_managers_without_an_engine_are_bare():
    probes = dict(BARE, n1=probe("absent", ["10.213.0.11"]), n2=probe("absent", ["10.213.0.12"]))
    result = plan.swarm_plan(MANAGERS + WORKERS, probes, ["n3", "w1"])
    assert (result["problems"], result["bootstrap"], result["init"]) == ([], "n3", True)


@pytest.mark.parametrize("addr,port,expected", [
    ("10.213.0.11", 2377, "10.213.0.11:2377"), ("fd00::11", 2377, "[fd00::11]:2377"),
    ("10.213.0.11", 4000, "10.213.0.11:4000"),
])
def test_endpoint(addr, port, expected):
    assert plan.endpoint(addr, port) == expected
