"""Planner of the network module, fed /networks and /services responses recorded in the lab.

Fixtures (tests/unit/fixtures/network/, see its README.md): ``overlays`` (node1, a manager:
ov_plain with an engine-picked subnet, ov_full with subnet/gateway/ip_range, attachable,
encrypted and labels, ov_internal, ov_svc with service t), ``overlay_service_and_container``
(ov_svc with service t and container c1 on node1), ``macvlan_node{1,2,3}`` (config-only
mvcfg/mvcfg2 per node, the swarm networks mvnet/mvnet2 made from them),
``overlay_before_allocation`` (inspects of a new swarm network before and after allocation),
``overlay_service_starting`` (fresh3 while its service t4 starts).
"""

import pytest

from ansible_collections.swarmops.cluster.plugins.module_utils import _network as nw
from ansible_collections.swarmops.cluster.plugins.module_utils._swarm import PlanError

DEFAULTS = {"state": "present", "driver": None, "scope": None, "attachable": False,
            "internal": False, "encrypted": False, "labels": None, "subnet": None,
            "gateway": None, "ip_range": None, "driver_options": None, "parent": None,
            "config_only": False, "config_from": None, "recreate": False}
OV_FULL = {"name": "ov_full", "subnet": "10.250.7.0/24", "gateway": "10.250.7.1",
           "ip_range": "10.250.7.128/25", "attachable": True, "encrypted": True,
           "labels": {"owner": "platform", "tier": "apps"}}
MVCFG_NODE2 = {"name": "mvcfg", "config_only": True, "parent": "eth0",
               "subnet": "172.31.250.0/24", "gateway": "172.31.250.1",
               "ip_range": "172.31.250.32/28"}


def desired(base=None, **params):
    """desired_network of the module's defaults, then base, then params."""
    merged = dict(DEFAULTS)
    merged.update(base or {})
    merged.update(params)
    return nw.desired_network(merged)


def current(recording, name):
    """The view plan() gets: parsed inspect plus what is attached."""
    raw = recording["inspect"][name]
    view = nw.parse_network(raw)
    view["attached"] = nw.attached_to(raw, recording.get("services", []),
                                      recording["networks"])
    return view


@pytest.fixture(name="overlays")
def fixture_overlays(recorded):
    return recorded("network/overlays")


@pytest.fixture(name="macvlan")
def fixture_macvlan(recorded):
    return {node: recorded("network/macvlan_node%d%s" % (node, "_manager" if node == 1 else ""))
            for node in (1, 2, 3)}


def test_parse_overlay_with_every_option(overlays):
    view = nw.parse_network(overlays["inspect"]["ov_full"])
    assert (view["driver"], view["scope"], view["attachable"], view["encrypted"]) == (
        "overlay", "swarm", True, True)
    assert view["labels"] == {"owner": "platform", "tier": "apps"}
    # vxlanid_list is the engine's own; encrypted has its own parameter.
    assert view["options"] == {}
    assert view["subnets"] == [{"subnet": "10.250.7.0/24", "gateway": "10.250.7.1",
                                "ip_range": "10.250.7.128/25"}]


def test_parse_engine_picked_subnet(overlays):
    raw = overlays["inspect"]["ov_plain"]
    assert nw.subnets_of(raw) == [{"subnet": "10.128.1.0/24", "gateway": "10.128.1.1",
                                   "ip_range": None}]


def test_parse_config_only_and_config_from(macvlan):
    cfg = nw.parse_network(macvlan[2]["inspect"]["mvcfg"])
    assert (cfg["driver"], cfg["scope"], cfg["config_only"], cfg["parent"]) == (
        "null", "local", True, "eth0")
    assert cfg["subnets"][0]["ip_range"] == "172.31.250.32/28"
    net = nw.parse_network(macvlan[1]["inspect"]["mvnet2"])
    assert (net["driver"], net["scope"], net["config_from"], net["attachable"]) == (
        "macvlan", "swarm", "mvcfg2", True)
    assert net["subnets"] == [] and net["parent"] is None


def test_attached_service_and_container(recorded):
    rec = recorded("network/overlay_service_and_container")
    attached = current(rec, "ov_svc")["attached"]
    # The lb-ov_svc load-balancer endpoint is the engine's, not a container.
    assert attached == {"services": ["t"], "containers": ["c1"], "networks": []}


def test_attached_service_while_it_starts(recorded):
    # Its endpoint shows as "ep-<id>" for a moment; the service (made with the network's
    # name through the API) references it by ID.
    rec = recorded("network/overlay_service_starting")
    assert current(rec, "fresh3")["attached"] == {"services": ["t4"], "containers": [],
                                                  "networks": []}


def test_attached_config_only_names_networks_made_from_it(macvlan):
    assert current(macvlan[2], "mvcfg2")["attached"]["networks"] == ["mvnet2"]


def test_find_network_is_exact_and_scoped(macvlan):
    nets = macvlan[1]["networks"]
    assert nw.find_network(nets, "mvnet", "swarm")["Name"] == "mvnet"
    assert nw.find_network(nets, "mvne", "swarm") is None
    twin = dict(nw.find_network(nets, "mvnet", "swarm"), Id="x" * 25, Scope="local")
    assert nw.find_network(nets + [twin], "mvnet", "swarm")["Scope"] == "swarm"
    with pytest.raises(PlanError, match="names 2 networks"):
        nw.find_network(nets + [dict(twin, Scope="swarm")], "mvnet", "swarm")


def test_create_when_missing():
    actions = nw.plan({}, desired(OV_FULL, name="new"))
    assert actions == [{"action": "create", "name": "new", "request": {
        "Name": "new", "Driver": "overlay", "Scope": "swarm", "Attachable": True,
        "Internal": False, "Labels": {"owner": "platform", "tier": "apps"},
        "Options": {"encrypted": ""}, "IPAM": {"Driver": "default", "Config": [
            {"Subnet": "10.250.7.0/24", "Gateway": "10.250.7.1",
             "IPRange": "10.250.7.128/25"}]}}}]


def test_create_config_only_and_config_from_requests():
    cfg = nw.plan({}, desired(MVCFG_NODE2))[0]["request"]
    # The engine refuses Scope, Attachable and Internal on a config-only network.
    assert cfg == {"Name": "mvcfg", "Driver": "macvlan", "ConfigOnly": True, "Labels": {},
                   "Options": {"parent": "eth0"}, "IPAM": {"Driver": "default", "Config": [
                       {"Subnet": "172.31.250.0/24", "Gateway": "172.31.250.1",
                        "IPRange": "172.31.250.32/28"}]}}
    net = nw.plan({}, desired(name="mvnet", config_from="mvcfg", attachable=True))[0]
    assert net["request"] == {"Name": "mvnet", "Driver": "macvlan", "Scope": "swarm",
                              "Attachable": True, "Internal": False, "Labels": {},
                              "Options": {}, "ConfigFrom": {"Network": "mvcfg"}}


@pytest.mark.parametrize("fixture,name,params", [
    ("overlays", "ov_full", OV_FULL),
    ("overlays", "ov_full", dict(OV_FULL, labels=None, gateway=None)),
    # No subnet asked: the engine's pick (10.128.1.0/24) is not a difference.
    ("overlays", "ov_plain", {"name": "ov_plain"}),
    ("overlays", "ov_internal", {"name": "ov_internal", "internal": True, "labels": {}}),
])
def test_matching_overlay_plans_nothing(request, fixture, name, params):
    assert nw.plan(current(request.getfixturevalue(fixture), name), desired(params)) == []


def test_matching_macvlan_plans_nothing(macvlan):
    # Config-only networks are listed with driver "null"; the task's macvlan is no difference.
    assert nw.plan(current(macvlan[2], "mvcfg"), desired(MVCFG_NODE2)) == []
    assert nw.plan(current(macvlan[2], "mvcfg"), desired(MVCFG_NODE2, driver="macvlan")) == []
    assert nw.plan(current(macvlan[1], "mvnet2"),
                   desired(name="mvnet2", config_from="mvcfg2", attachable=True)) == []


@pytest.mark.parametrize("change,line", [
    ({"subnet": "10.250.8.0/24", "gateway": None, "ip_range": None},
     "subnet: 10.250.7.0/24 -> 10.250.8.0/24"),
    ({"gateway": "10.250.7.254"}, "gateway: 10.250.7.1 -> 10.250.7.254"),
    ({"ip_range": "10.250.7.0/25"}, "ip_range: 10.250.7.128/25 -> 10.250.7.0/25"),
    ({"ip_range": None}, "ip_range: 10.250.7.128/25 -> none"),
    ({"attachable": False}, "attachable: true -> false"),
    ({"internal": True}, "internal: false -> true"),
    ({"encrypted": False}, "encrypted: true -> false"),
    ({"labels": {"owner": "platform"}}, "labels: {'owner': 'platform', 'tier': 'apps'} -> "
                                        "{'owner': 'platform'}"),
    ({"driver_options": {"com.docker.network.driver.mtu": "1400"}},
     "driver_options: none -> {'com.docker.network.driver.mtu': '1400'}"),
    ({"driver": "macvlan", "encrypted": False}, "driver: overlay -> macvlan"),
])
def test_each_difference_refused_with_the_list(overlays, change, line):
    with pytest.raises(PlanError) as err:
        nw.plan(current(overlays, "ov_full"), desired(OV_FULL, **change))
    assert line in str(err.value)
    assert "Attached: nothing" in str(err.value) and "recreate: true" in str(err.value)


def test_several_differences_listed_together(overlays):
    with pytest.raises(PlanError, match=r"attachable: true -> false; .*subnet: 10.250.7.0/24 "
                                        r"-> 10.250.8.0/24; ip_range: 10.250.7.128/25 -> none"):
        nw.plan(current(overlays, "ov_full"),
                desired(name="ov_full", subnet="10.250.8.0/24", encrypted=True))


@pytest.mark.parametrize("node,name,params,line", [
    (2, "mvcfg", dict(MVCFG_NODE2, ip_range="172.31.250.64/28"),
     "ip_range: 172.31.250.32/28 -> 172.31.250.64/28"),
    (2, "mvcfg", dict(MVCFG_NODE2, parent="eth1"), "parent: eth0 -> eth1"),
    (1, "mvnet", {"name": "mvnet", "config_from": "mvcfg2"}, "config_from: mvcfg -> mvcfg2"),
    (2, "mvcfg", {"name": "mvcfg", "driver": "macvlan", "scope": "local", "parent": "eth0"},
     "config_only: true -> false"),
    (1, "mvnet", {"name": "mvnet", "driver": "overlay"}, "config_from: mvcfg -> none"),
])
def test_macvlan_differences_refused(macvlan, node, name, params, line):
    with pytest.raises(PlanError) as err:
        nw.plan(current(macvlan[node], name), desired(params))
    assert line in str(err.value)


def test_refusal_names_attached_service_and_container(recorded):
    rec = recorded("network/overlay_service_and_container")
    with pytest.raises(PlanError, match=r"subnet: 10.128.3.0/24 -> 10.9.0.0/24.*Attached: "
                                        r"containers c1; services t"):
        nw.plan(current(rec, "ov_svc"), desired(name="ov_svc", subnet="10.9.0.0/24",
                                                attachable=True))


def test_recreate_when_nothing_attached(overlays):
    view = current(overlays, "ov_full")
    actions = nw.plan(view, desired(OV_FULL, subnet="10.250.8.0/24", gateway=None,
                                    ip_range=None, recreate=True))
    assert [a["action"] for a in actions] == ["remove", "create"]
    assert actions[0] == {"action": "remove", "id": view["id"], "name": "ov_full",
                          "differences": ["subnet: 10.250.7.0/24 -> 10.250.8.0/24",
                                          "ip_range: 10.250.7.128/25 -> none"]}
    assert actions[1]["request"]["IPAM"]["Config"] == [{"Subnet": "10.250.8.0/24"}]


def test_recreate_refused_when_attached(recorded, macvlan):
    rec = recorded("network/overlay_service_and_container")
    with pytest.raises(PlanError, match="in use by containers c1; services t; cannot "
                                        "recreate it"):
        nw.plan(current(rec, "ov_svc"), desired(name="ov_svc", recreate=True))
    with pytest.raises(PlanError, match="in use by networks mvnet2"):
        nw.plan(current(macvlan[3], "mvcfg2"),
                desired(MVCFG_NODE2, name="mvcfg2", subnet="172.31.251.0/24",
                        gateway=None, ip_range=None, recreate=True))


def test_recreate_without_difference_plans_nothing(overlays):
    assert nw.plan(current(overlays, "ov_full"), desired(OV_FULL, recreate=True)) == []


def test_absent(overlays, recorded, macvlan):
    assert nw.plan({}, desired(name="gone", state="absent")) == []
    view = current(overlays, "ov_plain")
    assert nw.plan(view, desired(name="ov_plain", state="absent")) == [
        {"action": "remove", "id": view["id"], "name": "ov_plain"}]
    rec = recorded("network/overlay_service_and_container")
    with pytest.raises(PlanError, match="in use by containers c1; services t; cannot remove"):
        nw.plan(current(rec, "ov_svc"), desired(name="ov_svc", state="absent"))
    # A service alone (the fixture where t is attached and no container) also blocks.
    with pytest.raises(PlanError, match="in use by services t;"):
        nw.plan(current(overlays, "ov_svc"), desired(name="ov_svc", state="absent"))
    with pytest.raises(PlanError, match="in use by networks mvnet;"):
        nw.plan(current(macvlan[1], "mvcfg"),
                desired(name="mvcfg", config_only=True, state="absent"))


@pytest.mark.parametrize("params,message", [
    ({"subnet": "10.9.0.0/24", "ip_range": "10.9.1.0/25"},
     "ip_range 10.9.1.0/25 is outside subnet 10.9.0.0/24"),
    ({"subnet": "10.9.0.0/24", "gateway": "10.8.0.1"},
     "gateway 10.8.0.1 is outside subnet 10.9.0.0/24"),
    ({"subnet": "10.9.0.0/33"}, "subnet '10.9.0.0/33' is not a network in CIDR form"),
    ({"subnet": "10.9.0.5/24"}, "has host bits set"),
    ({"subnet": "10.9.0.0/24", "gateway": "10.9.0.x"}, "gateway '10.9.0.x' is not an address"),
    ({"subnet": "10.9.0.0/24", "ip_range": "nope"}, "ip_range 'nope' is not a network"),
    ({"subnet": "fd00::/64"}, "is IPv6"),
    ({"driver": "macvlan", "encrypted": True}, "encrypted is an overlay option"),
    ({"driver": "overlay", "parent": "eth0"}, "parent is a macvlan option"),
    ({"scope": "local"}, "overlay networks are swarm-scoped"),
    ({"config_only": True, "parent": "eth0"}, "needs parent and subnet"),
    ({"config_only": True, "parent": "eth0", "subnet": "10.9.0.0/24", "scope": "swarm"},
     "local to its host"),
    ({"config_only": True, "parent": "eth0", "subnet": "10.9.0.0/24", "attachable": True},
     "takes no attachable or internal"),
    ({"config_from": "cfg", "subnet": "10.9.0.0/24"}, "config_from takes subnet"),
    ({"config_from": "cfg", "driver": "overlay"}, "config_from is for macvlan"),
    ({"labels": {"port": 8080}}, "port=8080 is a int"),
    ({"driver_options": {"com.docker.network.driver.mtu": 1400}}, "quote it"),
    ({"driver_options": {"encrypted": ""}}, "use encrypted instead"),
])
def test_bad_input_refused_before_anything(overlays, params, message):
    # Also when the network exists and matches otherwise: the options are checked first.
    with pytest.raises(PlanError) as err:
        nw.plan(current(overlays, "ov_plain"), desired(name="ov_plain", **params))
    assert message in str(err.value) and "nothing was changed" in str(err.value)


def test_every_bad_address_named_at_once():
    with pytest.raises(PlanError, match="gateway 10.8.0.1 is outside.*; ip_range 10.9.1.0/25"):
        nw.check_desired(desired(name="x", subnet="10.9.0.0/24", gateway="10.8.0.1",
                                 ip_range="10.9.1.0/25"))


def test_parent_must_exist_on_this_host():
    interfaces = ["docker0", "docker_gwbridge", "eth0", "lo"]
    nw.check_parent("eth0", interfaces)
    nw.check_parent(None, interfaces)
    # The macvlan driver creates a VLAN sub-interface itself; its base link must exist.
    nw.check_parent("eth0.10", interfaces)
    with pytest.raises(PlanError, match="eth9 does not exist on this host; its interfaces "
                                        "are: docker0, docker_gwbridge, eth0, lo"):
        nw.check_parent("eth9", interfaces)
    with pytest.raises(PlanError, match="eth1 does not exist"):
        nw.check_parent("eth1.10", interfaces)


def test_host_interfaces_reads_sys_class_net(tmp_path):
    for name in ("eth0", "lo"):
        (tmp_path / name).mkdir()
    assert sorted(nw.host_interfaces(str(tmp_path))) == ["eth0", "lo"]


def test_new_swarm_network_waits_for_allocation(recorded, macvlan):
    rec = recorded("network/overlay_before_allocation")
    assert not nw.allocated(rec["inspect_first"])
    assert nw.allocated(rec["inspect_allocated"])
    # A config_from network never gets an IPAM config on the manager; a local one needs none.
    assert nw.allocated(macvlan[1]["inspect"]["mvnet2"])
    assert nw.allocated(macvlan[1]["inspect"]["mvcfg2"])


class FakeClient:
    """Answers inspect_network with recorded responses, in order."""

    def __init__(self, responses):
        self.responses = list(responses)

    def inspect_network(self, net_id):
        return self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]


def test_inspect_allocated_polls_until_the_subnet_shows(recorded):
    rec = recorded("network/overlay_before_allocation")
    client = FakeClient([rec["inspect_first"], rec["inspect_first"], rec["inspect_allocated"]])
    raw = nw.inspect_allocated(client, rec["create"]["Id"], wait=5, step=0)
    assert nw.subnets_of(raw) == [{"subnet": "10.128.6.0/24", "gateway": "10.128.6.1",
                                   "ip_range": None}]


def test_describe_and_predicted_views(overlays):
    before = nw.describe(current(overlays, "ov_full"))
    assert "attached" not in before and "id" not in before
    after = nw.predicted(desired(OV_FULL))
    assert {k: before[k] for k in nw.PROPERTIES} == {k: after[k] for k in nw.PROPERTIES}
    assert nw.predicted(desired(MVCFG_NODE2))["driver"] == "null"
    assert nw.describe({}) == {}
