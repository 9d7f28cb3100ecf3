"""Planning probes, detaches, volume creation and growth, on recorded pools and volumes."""

import re
from pathlib import Path

import pytest

from ansible_collections.swarmops.cluster.plugins.module_utils import _gluster as gl
from ansible_collections.swarmops.cluster.plugins.module_utils import _gluster_peer as gp
from ansible_collections.swarmops.cluster.plugins.module_utils import _gluster_volume as gv

RECORDED = Path(__file__).resolve().parents[2] / "fixtures" / "gluster"
OWN = {"swarmops-dev-node2", "10.213.0.12", "localhost", "127.0.0.1"}
# How node2 resolves the names (the lab's DNS gives node1's container name its address);
# an address resolves to itself.
ADDRESSES = dict({"swarmops-dev-node1.swarmops-dev": ["10.213.0.11"], "node1": ["10.213.0.11"],
                  "node2": ["10.213.0.12"], "node3": ["10.213.0.13"], "node4": ["10.213.0.14"]},
                 **{"10.213.0.1%d" % i: ["10.213.0.1%d" % i] for i in range(1, 5)})


def recorded(name):
    """A recorded answer's <cliOutput>."""
    return gl.parse_cli_output((RECORDED / name).read_text())


POOL = gp.parse_pool_list(recorded("pool_list_three_from_node2.xml"))
REPLICA3 = gv.parse_volume_info(recorded("volume_info_replica3.xml"))[0]
ARBITER = gv.parse_volume_info(recorded("volume_info_arbiter.xml"))[0]
BRICKS = [{"host": "10.213.0.1%d" % i, "path": "/srv/gluster/t/brick"} for i in (1, 2, 3)]


@pytest.mark.parametrize("peers, expected", [
    (["10.213.0.11", "10.213.0.13"], []),              # by address
    (["node1", "node3"], []),                          # by a name that resolves to one
    (["swarmops-dev-node1.swarmops-dev"], []),         # by the name glusterd knows
    (["node2", "10.213.0.12", "localhost"], []),       # the node itself is skipped
    (["node4", "node1"], [{"action": "probe", "peer": "node4"}]),
])
def test_probes_only_what_the_pool_lacks(peers, expected):
    assert gp.plan_peers(POOL, peers, "present", ADDRESSES, OWN) == expected


def test_a_host_listed_by_name_and_by_address_is_probed_once():
    actions = gp.plan_peers(POOL, ["node4", "10.213.0.14", "node4"], "present", ADDRESSES, OWN)
    assert actions == [{"action": "probe", "peer": "node4"}]


@pytest.mark.parametrize("peers, fragment", [
    ([""], "cannot be peer names"), (["--help"], "cannot be peer names"),
    (["node4", "no-such-host"], "no-such-host do(es) not resolve")])
def test_names_glusterd_cannot_probe_are_refused_before_any_probe(peers, fragment):
    with pytest.raises(gp.PlanError, match=re.escape(fragment)):
        gp.plan_peers(POOL, peers, "present", ADDRESSES, OWN)


def test_detaching_a_peer_that_holds_bricks_is_refused_before_any_detach():
    bricks = gp.brick_host_uuids(recorded("volume_info_replica3.xml"))
    with pytest.raises(gp.PlanError, match="10.213.0.13 holds bricks gv 10.213.0.13:"):
        gp.plan_peers(POOL, ["node4", "10.213.0.13"], "absent", ADDRESSES, OWN, bricks)


def test_detaching_a_peer_without_bricks_or_one_not_in_the_pool():
    actions = gp.plan_peers(POOL, ["node1", "node4"], "absent", ADDRESSES, OWN, {})
    assert [(a["action"], a["peer"]) for a in actions] == [("detach", "node1")]
    assert gp.predict_pool(POOL, actions) == ["10.213.0.13"]


def desired(**kw):
    """gluster_volume parameters with defaults."""
    base = {"name": "gv", "state": "started", "bricks": BRICKS, "replica": 3, "arbiter": 0,
            "allow_split_brain": False, "force": True, "options": {}, "auth_allow": None,
            "delete_volume": False}
    base.update(kw)
    return base


def test_create_sets_options_then_starts():
    actions = gv.plan_volume(None, desired(auth_allow=["10.213.0.11"]), {})
    assert [a["action"] for a in actions] == ["create", "set", "start"]
    assert gv.command_of("gv", actions[0]) == [
        "volume", "create", "gv", "replica", "3", "10.213.0.11:/srv/gluster/t/brick",
        "10.213.0.12:/srv/gluster/t/brick", "10.213.0.13:/srv/gluster/t/brick", "force"]


def test_the_recorded_volume_is_already_as_desired_whatever_the_auth_order():
    auth = ["10.213.0.13", "10.213.0.11", "10.213.0.12"]
    assert gv.plan_volume(REPLICA3, desired(auth_allow=auth), {}) == []


def test_only_changed_options_are_set():
    actions = gv.plan_volume(REPLICA3, desired(options={"nfs.disable": "on",
                                                        "network.ping-timeout": 10}), {})
    assert actions == [{"action": "set", "option": "network.ping-timeout", "value": "10",
                        "before": None}]


def test_bricks_named_by_another_name_of_the_same_host_match():
    named = [dict(b, host=h) for b, h in zip(BRICKS, ("node1", "10.213.0.12", "node3"))]
    assert gv.plan_volume(REPLICA3, desired(bricks=named), ADDRESSES) == []


def test_a_fourth_brick_raises_the_replica_to_4_and_a_full_heal_follows():
    actions = gv.plan_volume(REPLICA3, desired(
        replica=4, bricks=BRICKS + [{"host": "node4", "path": "/srv/gluster/t/brick"}]),
        ADDRESSES)
    assert actions == [{"action": "add-brick", "bricks": ["node4:/srv/gluster/t/brick"],
                        "replica": 4, "force": True}]
    assert gv.command_of("gv", actions[0])[:5] == ["volume", "add-brick", "gv", "replica", "4"]


def test_three_more_bricks_add_a_replica_set():
    more = [{"host": b["host"], "path": "/srv/b2"} for b in BRICKS]
    actions = gv.plan_volume(REPLICA3, desired(bricks=BRICKS + more), {})
    assert actions[0]["action"] == "add-brick" and actions[0]["replica"] is None
    assert gv.predict_volume(REPLICA3, actions, "gv")["brick_count"] == 6


@pytest.mark.parametrize("kw, fragment", [
    ({"replica": 2, "bricks": BRICKS[:2]}, "replica 2 without an arbiter splits brain"),
    ({"replica": 2, "arbiter": 1, "bricks": BRICKS[:2]}, "an arbiter goes with replica 3"),
    ({"replica": 3, "bricks": BRICKS[:2]}, "2 bricks do not make whole replica sets"),
    ({"bricks": BRICKS + BRICKS[:1], "replica": 1}, "bricks listed twice"),
])
def test_unsound_layouts_are_refused(kw, fragment):
    with pytest.raises(gv.PlanError, match=fragment):
        gv.plan_volume(None, desired(**kw), {})


def test_replica_2_with_explicit_acceptance_is_planned():
    actions = gv.plan_volume(None, desired(replica=2, bricks=BRICKS[:2],
                                           allow_split_brain=True), {})
    assert actions[0]["replica"] == 2


@pytest.mark.parametrize("current, kw, fragment", [
    (REPLICA3, {"bricks": BRICKS[:2] + [{"host": "10.213.0.14", "path": "/srv/gluster/t/brick"}]},
     "has bricks 10.213.0.13:/srv/gluster/t/brick that are not listed"),
    (REPLICA3, {"arbiter": 1}, "needs bricks added with it"),
    (dict(REPLICA3, bricks=REPLICA3["bricks"] + [dict(b, path="/b2", name=b["host"] + ":/b2")
                                                 for b in REPLICA3["bricks"]], brick_count=6),
     {"replica": 4, "bricks": BRICKS + [dict(b, path="/b2") for b in BRICKS]
      + [{"host": "10.213.0.1%d" % i, "path": "/b"} for i in range(4, 10)]}, "exactly 2"),
])
def test_changes_add_brick_cannot_make_are_refused(current, kw, fragment):
    with pytest.raises(gv.PlanError, match=fragment):
        gv.plan_volume(current, desired(**kw), {})


def test_start_stop_and_delete_only_with_delete_volume():
    stopped = dict(REPLICA3, status="Stopped")
    assert gv.plan_volume(stopped, desired(), {}) == [{"action": "start"}]
    assert gv.plan_volume(REPLICA3, desired(state="stopped"), {}) == [{"action": "stop"}]
    with pytest.raises(gv.PlanError, match="delete_volume=true"):
        gv.plan_volume(REPLICA3, desired(state="absent"), {})
    assert [a["action"] for a in gv.plan_volume(REPLICA3, desired(
        state="absent", delete_volume=True), {})] == ["stop", "delete"]
    assert gv.plan_volume(None, desired(state="absent"), {}) == []


def test_a_disconnected_peer_is_detached_with_force():
    # Seen on the lab: glusterd refuses to detach a dead peer ("One of the peers is probably
    # down") unless forced; a connected one is detached plainly.
    pool = gp.parse_pool_list(recorded("pool_list_node3_down.xml"))
    down = next(p for p in pool if not p["connected"])
    actions = gp.plan_peers(pool, [down["hostname"]], "absent", ADDRESSES, OWN, {})
    assert actions == [{"action": "detach", "peer": down["hostname"], "uuid": down["uuid"],
                        "force": True}]
    assert gp.plan_peers(POOL, ["node1"], "absent", ADDRESSES, OWN, {})[0]["force"] is False
