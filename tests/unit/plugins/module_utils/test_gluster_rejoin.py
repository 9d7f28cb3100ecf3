"""A reinstalled storage node's old identity: glusterd's files recorded on a lab node, and
the pool as the node saw it after the rejoin."""

import shutil
from pathlib import Path

import pytest

from ansible_collections.swarmops.cluster.plugins.module_utils import _gluster as gl
from ansible_collections.swarmops.cluster.plugins.module_utils import _gluster_rejoin as rj
from ansible_collections.swarmops.cluster.plugins.module_utils._gluster_peer import (
    parse_peers)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
NODE1 = FIXTURES / "glusterd" / "lab-node1"
OLD = "181474f3-8433-48d4-8717-c3804da9d2dc"
PEERS = [{"uuid": "e99c7bb8-52ed-4892-9377-80bfbecf45f4", "hostname": "10.213.0.11"},
         {"uuid": "137fb433-a9b8-400c-8053-e7fd9eac9e71", "hostname": "10.213.0.12"}]
DESIRED = {"uuid": OLD, "peers": PEERS, "volumes": ["dockerdir"]}


def fresh(tmp_path, uuid="0d7f6a53-6d2b-4a57-9a0e-3c1f6e2b9b10"):
    """/var/lib/glusterd of a fresh install: glusterd.info only, empty peers and vols."""
    (tmp_path / "peers").mkdir()
    (tmp_path / "vols").mkdir()
    (tmp_path / "glusterd.info").write_text("UUID=%s\noperating-version=100000\n" % uuid)
    return tmp_path


def test_a_recorded_glusterd_reads_as_its_uuid_peers_and_volumes():
    identity = rj.read_identity(str(NODE1))
    assert identity["uuid"] == "e99c7bb8-52ed-4892-9377-80bfbecf45f4"
    assert identity["peers"] == ["137fb433-a9b8-400c-8053-e7fd9eac9e71", OLD]
    assert identity["volumes"] == ["dockerdir"]
    assert identity["info"]["operating-version"] == "100000"


def test_a_fresh_glusterd_takes_the_old_uuid_and_a_file_per_peer(tmp_path):
    root = fresh(tmp_path)
    identity = rj.read_identity(str(root))
    actions = rj.plan_rejoin(identity, DESIRED)
    assert actions == [{"action": "set-uuid", "uuid": OLD,
                        "was": "0d7f6a53-6d2b-4a57-9a0e-3c1f6e2b9b10"}] + [
        {"action": "write-peer", **peer} for peer in PEERS]
    rj.write_identity(actions, identity["info"], str(root))
    assert (root / "glusterd.info").read_text() == \
        "UUID=%s\noperating-version=100000\n" % OLD
    # Written as glusterd writes its own (compare the recorded peer file of node4 on node1).
    assert (root / "peers" / PEERS[0]["uuid"]).read_text() == \
        "uuid=%s\nstate=3\nhostname1=10.213.0.11\n" % PEERS[0]["uuid"]
    assert rj.parse_info((NODE1 / "peers" / OLD).read_text()) == {
        "uuid": OLD, "state": "3", "hostname1": "10.213.0.14"}
    assert oct((root / "peers" / PEERS[1]["uuid"]).stat().st_mode & 0o777) == "0o600"
    assert rj.plan_rejoin(rj.read_identity(str(root)), DESIRED) == []


def test_a_glusterd_that_never_ran_gets_the_uuid_line_alone(tmp_path):
    identity = rj.read_identity(str(tmp_path))
    assert identity == {"uuid": None, "peers": [], "volumes": [], "info": {}}
    actions = rj.plan_rejoin(identity, DESIRED)
    rj.write_identity(actions, identity["info"], str(tmp_path))
    assert (tmp_path / "glusterd.info").read_text() == "UUID=%s\n" % OLD


def test_a_glusterd_with_peers_or_volumes_of_its_own_is_refused(tmp_path):
    root = tmp_path / "node1"
    shutil.copytree(NODE1, root)
    with pytest.raises(rj.PlanError) as err:
        rj.plan_rejoin(rj.read_identity(str(root)), DESIRED)
    assert "is not a fresh install: it has peer 137fb433" in str(err.value)
    assert "volume dockerdir" in str(err.value) and "nothing was changed" in str(err.value)


@pytest.mark.parametrize("change, fragment", [
    ({"uuid": "node4"}, "not a glusterd UUID: node4"),
    ({"uuid": PEERS[0]["uuid"]}, "is listed among its peers"),
    ({"peers": []}, "no peer listed"),
    ({"peers": [{"uuid": PEERS[0]["uuid"], "hostname": "-oops"}]}, "not a peer hostname"),
])
def test_malformed_requests_are_refused(tmp_path, change, fragment):
    with pytest.raises(rj.PlanError, match=fragment):
        rj.plan_rejoin(rj.read_identity(str(fresh(tmp_path))), dict(DESIRED, **change))


def test_the_rejoined_pool_and_volume_list_recorded_on_node4_are_complete():
    pool = parse_peers(gl.parse_cli_output(
        (FIXTURES / "gluster" / "pool_list_rejoined_node4.xml").read_text()))
    volumes = rj.parse_volume_list(gl.parse_cli_output(
        (FIXTURES / "gluster" / "volume_list_one.xml").read_text()))
    assert volumes == ["dockerdir"]
    assert rj.rejoin_state(pool, volumes, DESIRED) == ([], [])
    assert rj.rejoin_state(pool[1:], [], DESIRED) == (["10.213.0.11"], ["dockerdir"])
