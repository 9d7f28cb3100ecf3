"""The gluster runner's envelope and the pool / volume parsers, on XML recorded in the lab."""

from pathlib import Path

import pytest

from ansible_collections.swarmops.cluster.plugins.module_utils import _gluster as gl
from ansible_collections.swarmops.cluster.plugins.module_utils import _gluster_peer as gp
from ansible_collections.swarmops.cluster.plugins.module_utils import _gluster_volume as gv

RECORDED = Path(__file__).resolve().parents[2] / "fixtures" / "gluster"


def recorded(name):
    """The <cliOutput> of one recorded answer, through the runner's envelope check."""
    return gl.parse_cli_output((RECORDED / name).read_text())


def test_a_failed_envelope_raises_glusterds_message():
    with pytest.raises(gl.GlusterError) as err:
        recorded("volume_info_missing.xml")
    assert err.value.msg == "Volume does not exist" and err.value.details["op_ret"] == -1


@pytest.mark.parametrize("text", ["Connection failed.", "<other/>"])
def test_an_answer_that_is_not_cli_output_raises(text):
    with pytest.raises(gl.GlusterError):
        gl.parse_cli_output(text)


def test_pool_of_one_is_the_node_itself():
    assert [(p["hostname"], p["self"]) for p in gp.parse_pool_list(
        recorded("pool_list_single.xml"))] == [("localhost", True)]


def test_pool_of_three_seen_from_node2_names_node1_by_its_reverse_dns_name():
    pool = gp.parse_pool_list(recorded("pool_list_three_from_node2.xml"))
    others = [p for p in pool if not p["self"]]
    assert [p["hostname"] for p in others] == ["swarmops-dev-node1.swarmops-dev", "10.213.0.13"]
    assert all(p["connected"] and p["state_str"] == gp.IN_CLUSTER for p in others)


def test_peer_status_lists_the_others_only():
    peers = gp.parse_peer_status(recorded("peer_status_three.xml"))
    assert sorted(p["hostname"] for p in peers) == ["10.213.0.12", "10.213.0.13"]


def test_no_volumes_parse_to_an_empty_list():
    assert gv.parse_volume_info(recorded("volume_info_none.xml")) == []


def test_replica_3_volume_info():
    (vol,) = gv.parse_volume_info(recorded("volume_info_replica3.xml"))
    assert (vol["name"], vol["status"], vol["type"], vol["replica"], vol["arbiter"],
            vol["brick_count"], vol["transport"]) == ("gv", "Started", "Replicate", 3, 0, 3,
                                                      "tcp")
    assert [b["host"] for b in vol["bricks"]] == ["10.213.0.11", "10.213.0.12", "10.213.0.13"]
    assert vol["bricks"][0]["path"] == "/srv/gluster/t/brick"
    assert vol["options"]["auth.allow"] == "10.213.0.11,10.213.0.12,10.213.0.13"


def test_arbiter_volume_marks_its_last_brick():
    (vol,) = gv.parse_volume_info(recorded("volume_info_arbiter.xml"))
    assert (vol["replica"], vol["arbiter"]) == (3, 1)
    assert [b["arbiter"] for b in vol["bricks"]] == [False, False, True]


@pytest.mark.parametrize("name, status", [("volume_info_created.xml", "Created"),
                                          ("volume_info_stopped.xml", "Stopped")])
def test_volume_status_words(name, status):
    assert gv.parse_volume_info(recorded(name))[0]["status"] == status


def test_volume_status_has_every_brick_online_and_the_heal_daemons():
    status = gv.parse_volume_status(recorded("volume_status_replica3.xml"))
    bricks = {k: v for k, v in status.items() if k.startswith("10.")}
    assert len(bricks) == 3 and all(v["online"] and v["pid"] for v in bricks.values())
    assert len([k for k in status if k.startswith("Self-heal Daemon")]) == 3


def test_heal_info_of_a_clean_volume_is_zero_everywhere():
    heal = gv.parse_heal_info(recorded("heal_info_clean.xml"))
    assert len(heal) == 3 and all(v == {"connected": True, "pending": 0, "split_brain": None}
                                  for v in heal.values())


def test_brick_holders_by_peer_uuid():
    holders = gp.brick_host_uuids(recorded("volume_info_replica3.xml"))
    assert holders["64331238-353d-4c56-a156-5f092a0850e8"] == ["gv 10.213.0.11:/srv/gluster/t/brick"]


def test_heal_info_with_a_node_down_counts_pending_on_the_others():
    heal = gv.parse_heal_info(recorded("heal_info_pending_node_down.xml"))
    assert heal["10.213.0.11:/srv/gluster/dockerdir/brick"] == {
        "connected": True, "pending": 6, "split_brain": None}
    assert heal["10.213.0.13:/srv/gluster/dockerdir/brick"] == {
        "connected": False, "pending": None, "split_brain": None}


def test_volume_status_with_a_node_down_lacks_its_brick():
    status = gv.parse_volume_status(recorded("volume_status_node_down.xml"))
    assert "10.213.0.13:/srv/gluster/dockerdir/brick" not in status or not status[
        "10.213.0.13:/srv/gluster/dockerdir/brick"]["online"]
    assert status["10.213.0.11:/srv/gluster/dockerdir/brick"]["online"]


def test_a_stopped_peer_is_in_the_pool_but_disconnected():
    pool = gp.parse_pool_list(recorded("pool_list_node3_down.xml"))
    down = [p for p in pool if not p["connected"]]
    assert [p["hostname"] for p in down] == ["10.213.0.13"]
    assert down[0]["state_str"] == gp.IN_CLUSTER
