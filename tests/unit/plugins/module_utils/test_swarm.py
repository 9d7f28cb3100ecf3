"""Planners of the swarm module, fed engine responses recorded in the lab."""

import json
from pathlib import Path

import pytest

from ansible_collections.swarmops.cluster.plugins.module_utils import _swarm as swarm


def local_of(recorded, name):
    """read_local over a recorded {info, nodes} pair."""
    data = recorded(name)
    return swarm.read_local(data["info"], data.get("nodes"))


def test_read_local_manager(recorded):
    local = local_of(recorded, "manager_three_active")
    assert local["state"] == "active"
    assert local["is_manager"] is True
    assert local["cluster_id"]
    assert local["hostname"] == "lab-node1"
    assert len(local["nodes"]) == 3
    assert swarm.role_of(local) == "manager"


def test_read_local_worker_cannot_see_cluster_id(recorded):
    local = local_of(recorded, "worker_active")
    assert local["is_manager"] is False
    assert local["cluster_id"] is None
    assert local["remote_managers"] == ["10.213.0.11:2377", "10.213.0.12:2377"]
    assert swarm.role_of(local) == "worker"


def test_read_local_inactive(recorded):
    local = local_of(recorded, "inactive")
    assert local["state"] == "inactive"
    assert local["node_id"] is None
    assert swarm.role_of(local) is None


@pytest.mark.parametrize("addr,expected", [
    ("10.0.0.1", "10.0.0.1:2377"), ("10.0.0.1:4000", "10.0.0.1:4000"),
    ("fd00::1", "[fd00::1]:2377"), ("[fd00::1]:4000", "[fd00::1]:4000"),
    ("[fd00::1]", "[fd00::1]:2377"),
])
def test_normalize_addr(addr, expected):
    assert swarm.normalize_addr(addr) == expected


def test_present_inits_inactive_node(recorded):
    desired = {"advertise_addr": "10.213.0.13", "listen_addr": "0.0.0.0:2377",
               "default_addr_pool": ["10.128.0.0/16"], "subnet_size": 24}
    actions = swarm.plan_present(local_of(recorded, "inactive"), desired)
    assert [a["action"] for a in actions] == ["init"]
    assert actions[0]["default_addr_pool"] == ["10.128.0.0/16"]
    assert actions[0]["force_new_cluster"] is False


def test_present_on_manager_is_noop(recorded):
    assert swarm.plan_present(local_of(recorded, "manager_three_active"), {}) == []


def test_force_new_cluster_only_when_leaderless(recorded):
    local = local_of(recorded, "manager_three_active")
    assert swarm.plan_present(local, {"force_new_cluster": True}, leaderless=False) == []
    actions = swarm.plan_present(local, {"force_new_cluster": True}, leaderless=True)
    assert actions[0]["force_new_cluster"] is True


def test_present_on_worker_refused(recorded):
    with pytest.raises(swarm.PlanError, match="worker of another swarm"):
        swarm.plan_present(local_of(recorded, "worker_active"), {})


def test_join_inactive_plans_join_without_token(recorded):
    desired = {"remote_addrs": ["10.213.0.11"], "join_token": "SWMTKN-secret", "role": "worker"}
    actions = swarm.plan_join(local_of(recorded, "inactive"), desired)
    assert actions[0]["remote_addrs"] == ["10.213.0.11:2377"]
    assert "SWMTKN-secret" not in repr(actions)


def test_join_same_swarm_by_manager_address_is_noop(recorded):
    local = local_of(recorded, "worker_active")
    assert swarm.plan_join(local, {"remote_addrs": ["10.213.0.12:2377"]}) == []


def test_join_same_swarm_by_cluster_id_is_noop(recorded):
    local = local_of(recorded, "manager_three_active")
    desired = {"remote_addrs": ["10.213.0.11"], "cluster_id": local["cluster_id"]}
    assert swarm.plan_join(local, desired) == []


def test_join_other_swarm_names_both_cluster_ids(recorded):
    local = local_of(recorded, "manager_three_active")
    with pytest.raises(swarm.PlanError) as err:
        swarm.plan_join(local, {"remote_addrs": ["10.213.0.11"], "cluster_id": "othercluster"})
    assert local["cluster_id"] in str(err.value)
    assert "othercluster" in str(err.value)
    assert "nothing was changed" in str(err.value)


def test_join_worker_of_other_swarm_refused(recorded):
    with pytest.raises(swarm.PlanError, match="unknown to a worker"):
        swarm.plan_join(local_of(recorded, "worker_active"), {"remote_addrs": ["10.9.9.9"]})


@pytest.mark.parametrize("state", ["locked", "pending", "error"])
def test_unusable_states_refused(recorded, state):
    data = recorded("inactive")
    data["info"]["Swarm"]["LocalNodeState"] = state
    with pytest.raises(swarm.PlanError, match="nothing was changed"):
        swarm.plan_join(swarm.read_local(data["info"]), {"remote_addrs": ["10.213.0.11"]})


def test_absent_inactive_is_noop(recorded):
    assert swarm.plan_absent(local_of(recorded, "inactive"), force=False) == []


def test_absent_worker_leaves(recorded):
    assert swarm.plan_absent(local_of(recorded, "worker_active"), force=False) == [
        {"action": "leave", "force": False}]


def test_absent_manager_of_three_demotes_then_leaves(recorded):
    local = local_of(recorded, "manager_three_active")
    actions = swarm.plan_absent(local, force=False)
    assert [a["action"] for a in actions] == ["demote", "leave"]
    assert actions[0]["node_id"] == local["node_id"]


def test_absent_manager_of_two_demotes_first(recorded):
    # Demoting first leaves a sound one-manager swarm; leaving without it would not.
    actions = swarm.plan_absent(local_of(recorded, "manager_two_plus_worker"), force=False)
    assert [a["action"] for a in actions] == ["demote", "leave"]


def with_unreachable_peer(recorded):
    """Three managers, one of them (not this node) unreachable."""
    data = recorded("manager_three_active")
    me = data["info"]["Swarm"]["NodeID"]
    peer = next(n for n in data["nodes"] if n["ID"] != me)
    peer["ManagerStatus"]["Reachability"] = "unreachable"
    return swarm.read_local(data["info"], data["nodes"])


def test_absent_breaking_quorum_refused_unless_forced(recorded):
    local = with_unreachable_peer(recorded)
    with pytest.raises(swarm.PlanError, match="breaks the raft quorum"):
        swarm.plan_absent(local, force=False)
    assert swarm.plan_absent(local, force=True) == [{"action": "leave", "force": True}]


def test_absent_last_manager_refused(recorded):
    data = recorded("manager_three_active")
    me = data["info"]["Swarm"]["NodeID"]
    nodes = [n for n in data["nodes"] if n["ID"] == me]
    with pytest.raises(swarm.PlanError, match="last manager"):
        swarm.plan_absent(swarm.read_local(data["info"], nodes), force=False)


def test_predict_join_and_leave(recorded):
    inactive = local_of(recorded, "inactive")
    after = swarm.predict(inactive, [{"action": "join", "role": "worker"}])
    assert after["state"] == "active" and after["role"] == "worker"
    manager = local_of(recorded, "manager_three_active")
    after = swarm.predict(manager, [{"action": "demote"}, {"action": "leave"}])
    assert after == {"state": "inactive", "role": None, "cluster_id": None, "node_id": None}


# --- rotation: the join tokens and the root CA ---------------------------------------------

def test_rotation_is_planned_on_a_manager_whatever_the_state(recorded):
    local = local_of(recorded, "manager_three_active")
    assert swarm.plan_rotation(local, []) == []
    assert swarm.plan_rotation(local, ["manager_token", "worker_token", "worker_token"]) == [
        {"action": "rotate", "worker_token": True, "manager_token": True, "ca": False,
         "unlock_key": False}]
    after = swarm.predict(local, swarm.plan_rotation(local, ["ca"]))
    assert after["rotated"] == ["ca"] and after["role"] == "manager"


@pytest.mark.parametrize("name", ["worker_active", "inactive"])
def test_rotation_off_a_manager_is_refused(recorded, name):
    with pytest.raises(swarm.PlanError, match="rotate the join tokens or the CA on a manager"):
        swarm.plan_rotation(local_of(recorded, name), ["worker_token"])


def trust_root(nodes, index=0):
    """The TrustRoot a recorded node reports."""
    return nodes[index]["Description"]["TLSInfo"]["TrustRoot"]


def test_nodes_on_the_old_root_are_those_up_with_another_trust_root(recorded):
    nodes = recorded("manager_three_active")["nodes"]
    names = sorted(n["Description"]["Hostname"] for n in nodes)
    done = {"TLSInfo": {"TrustRoot": trust_root(nodes)}, "RootRotationInProgress": False}
    assert swarm.nodes_on_old_root(done, nodes) == []
    rotating = {"TLSInfo": {"TrustRoot": "-----BEGIN CERTIFICATE-----\nnew"},
                "RootRotationInProgress": True}
    assert swarm.nodes_on_old_root(rotating, nodes) == names
    down = [dict(n, Status={"State": "down"}) if i == 0 else n for i, n in enumerate(nodes)]
    # A node that is down is not waited for: it gets its certificate when it is back.
    assert swarm.nodes_on_old_root(rotating, down) == sorted(
        n["Description"]["Hostname"] for n in down[1:])
    # Every node has the new root, but the swarm has not finished: still waiting.
    assert swarm.nodes_on_old_root(dict(done, RootRotationInProgress=True), nodes) == [
        "(the swarm: root rotation in progress)"]


class SwarmClient:
    """The two calls rotate makes, answering a recorded-shaped swarm."""

    def __init__(self, spec):
        self.swarm = {"Version": {"Index": 42}, "Spec": spec,
                      "TLSInfo": {"TrustRoot": "r"}, "RootRotationInProgress": False}
        self.updates = []

    def inspect_swarm(self):
        return self.swarm

    def update_swarm(self, version, **kwargs):
        self.updates.append(dict(kwargs, version=version))

    def nodes(self):
        return []


def test_a_rotation_sends_the_whole_spec_back_with_the_ca_bumped():
    spec = {"Name": "default", "Orchestration": {"TaskHistoryRetentionLimit": 5},
            "CAConfig": {"NodeCertExpiry": 7776000000000000, "ForceRotate": 2}}
    client = SwarmClient(spec)
    swarm.rotate(client, {"worker_token": True, "manager_token": False, "ca": True}, 5)
    (update,) = client.updates
    assert update["version"] == 42 and update["rotate_worker_token"] is True
    assert update["rotate_manager_token"] is False
    assert update["swarm_spec"]["Orchestration"] == {"TaskHistoryRetentionLimit": 5}
    assert update["swarm_spec"]["CAConfig"] == {"NodeCertExpiry": 7776000000000000,
                                                "ForceRotate": 3}
    assert spec["CAConfig"]["ForceRotate"] == 2  # the read is not changed in place


def test_a_token_rotation_leaves_the_ca_config_as_it_is():
    client = SwarmClient({"Name": "default"})
    swarm.rotate(client, {"worker_token": True, "manager_token": True, "ca": False}, 5)
    assert client.updates[0]["swarm_spec"] == {"Name": "default"}


def test_a_finished_ca_rotation_recorded_in_the_lab_waits_for_nobody(recorded):
    """/swarm (its join tokens dropped) and /nodes read on a lab manager right after
    rotate.yml -e ca=yes: ForceRotate 1, every node on the new root."""
    data = recorded("swarm_after_ca_rotation")
    assert data["swarm"]["Spec"]["CAConfig"]["ForceRotate"] == 1
    assert swarm.nodes_on_old_root(data["swarm"], data["nodes"]) == []
    # Before it finished, a node still on the old root is named.
    old = [dict(n, Description=dict(n["Description"], TLSInfo={"TrustRoot": "old"}))
           if i == 1 else n for i, n in enumerate(data["nodes"])]
    assert swarm.nodes_on_old_root(data["swarm"], old) == [
        data["nodes"][1]["Description"]["Hostname"]]


# Autolock: /info recorded on a Debian 13 lab manager after site.yml with autolock on, and
# on a Debian 12 manager after `systemctl restart docker` with autolock on (locked).

def autolocked_info():
    """/info of the Debian 13 manager with autolock on."""
    path = Path(__file__).resolve().parents[2] / "fixtures" / "autolock" / \
        "docker_info_manager_autolock_trixie.json"
    return json.loads(path.read_text())


def test_an_autolocked_manager_reads_as_such(recorded):
    local = swarm.read_local(autolocked_info())
    assert local["state"] == "active" and local["is_manager"] and local["autolock"] is True
    assert local_of(recorded, "manager_three_active")["autolock"] is False


def test_autolock_is_switched_only_when_it_differs(recorded):
    locked = swarm.read_local(autolocked_info())
    plain = local_of(recorded, "manager_three_active")
    assert swarm.plan_autolock(locked, True) == [] and swarm.plan_autolock(plain, None) == []
    assert swarm.plan_autolock(plain, True) == [{"action": "autolock", "enabled": True}]
    assert swarm.plan_autolock(locked, False) == [{"action": "autolock", "enabled": False}]
    # A swarm this run initializes starts unlocked: only asking for autolock adds it.
    inactive = local_of(recorded, "inactive")
    assert swarm.plan_autolock(inactive, True, initializing=True) == [
        {"action": "autolock", "enabled": True}]
    assert swarm.plan_autolock(inactive, False, initializing=True) == []
    with pytest.raises(swarm.PlanError, match="not a manager"):
        swarm.plan_autolock(local_of(recorded, "worker_active"), True)


def test_a_locked_manager_is_refused_naming_unlock_yml(recorded):
    local = dict(local_of(recorded, "manager_three_active"), state="locked")
    with pytest.raises(swarm.PlanError, match="playbooks/unlock.yml"):
        swarm.plan_present(local, {})
    with pytest.raises(swarm.PlanError, match="no unlock_key"):
        swarm.plan_unlocked(local)
    assert swarm.plan_unlocked(local_of(recorded, "manager_three_active")) == []


def test_switching_autolock_sends_the_whole_spec_back():
    spec = {"Name": "default", "EncryptionConfig": {"AutoLockManagers": False},
            "Dispatcher": {"HeartbeatPeriod": 5000000000}}
    client = SwarmClient(spec)
    swarm.set_autolock(client, True)
    (update,) = client.updates
    assert update["swarm_spec"] == dict(spec, EncryptionConfig={"AutoLockManagers": True})
    assert spec["EncryptionConfig"]["AutoLockManagers"] is False


def test_an_unlock_key_rotation_is_one_update(recorded):
    (action,) = swarm.plan_rotation(local_of(recorded, "manager_three_active"), ["unlock_key"])
    assert action["unlock_key"] and not action["worker_token"] and not action["ca"]
    client = SwarmClient({"Name": "default"})
    swarm.rotate(client, action, 5)
    assert client.updates[0]["rotate_manager_unlock_key"] is True
    after = swarm.predict(local_of(recorded, "manager_three_active"), [action])
    assert after["rotated"] == ["unlock_key"]
