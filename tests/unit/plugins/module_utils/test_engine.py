"""The engine restart's guard and its readiness judgement, on engine responses recorded in
the lab."""

import copy
import json
import time
from pathlib import Path

import pytest

from ansible_collections.swarmops.cluster.plugins.module_utils import _engine as engine
from ansible_collections.swarmops.cluster.plugins.module_utils._swarm import read_local


def local_of(data):
    """The swarm state the module reads before a restart."""
    return read_local(data["info"], data.get("nodes"))


def with_manager_unreachable(data, hostname):
    """The recorded manager view with one manager unreachable (and down)."""
    data = copy.deepcopy(data)
    for node in data["nodes"]:
        if node["Description"]["Hostname"] == hostname:
            node["ManagerStatus"]["Reachability"] = "unreachable"
            node["Status"]["State"] = "down"
    return data


def test_restart_of_a_manager_with_every_manager_reachable(recorded):
    actions = engine.plan_restart(local_of(recorded("manager_three_active")))
    assert actions == [{"action": "restart", "node": "lab-node1", "swarm": "active",
                        "role": "manager"}]


def test_restart_of_a_manager_refused_while_another_is_unreachable(recorded):
    data = with_manager_unreachable(recorded("manager_three_active"), "lab-node3")
    with pytest.raises(engine.RestartRefused) as err:
        engine.plan_restart(local_of(data))
    assert "2 of 3 managers are reachable (unreachable: lab-node3)" in str(err.value)
    assert "nothing was changed" in str(err.value)


@pytest.mark.parametrize("fixture,role", [("worker_active", "worker"), ("inactive", None)])
def test_restart_of_a_worker_or_a_bare_engine_is_not_guarded(recorded, fixture, role):
    actions = engine.plan_restart(local_of(recorded(fixture)))
    assert [a["role"] for a in actions] == [role]


def test_ready_when_back_as_before(recorded):
    data = recorded("manager_three_active")
    before = local_of(data)
    assert engine.ready_problem(before, data["info"], data["nodes"]) is None


def test_not_ready_while_outside_the_swarm(recorded):
    before = local_of(recorded("manager_three_active"))
    inactive = recorded("inactive")
    assert engine.ready_problem(before, inactive["info"], None) == "swarm state inactive"


def test_not_ready_while_the_manager_is_unreachable(recorded):
    data = recorded("manager_three_active")
    before = local_of(data)
    down = with_manager_unreachable(data, "lab-node1")
    assert engine.ready_problem(before, down["info"], down["nodes"]) == \
        "this manager is not ready and reachable yet"


def test_not_ready_without_a_leader(recorded):
    data = copy.deepcopy(recorded("manager_three_active"))
    before = local_of(data)
    for node in data["nodes"]:
        node["ManagerStatus"].pop("Leader", None)
    assert engine.ready_problem(before, data["info"], data["nodes"]) == "no raft leader"


def test_bare_engine_is_ready_once_it_answers(recorded):
    inactive = recorded("inactive")
    assert engine.ready_problem(local_of(inactive), inactive["info"], None) is None


def task_container(service, name_middle, task_id):
    """A swarm task container as the engine lists it (labels only)."""
    return {"Labels": {"com.docker.swarm.task.id": task_id,
                       "com.docker.swarm.service.name": service,
                       "com.docker.swarm.task.name": "%s.%s.%s" % (service, name_middle,
                                                                   task_id)}}


def test_a_global_task_must_run_again_here_after_the_restart():
    before = engine.local_tasks([task_container("web_web", "node1id", "t1"),
                                 task_container("app_api", "2", "t2")], "node1id")
    assert before == [("t1", "web_web", True), ("t2", "app_api", False)]
    assert engine.tasks_problem(before, []) == "tasks not running here again yet: web_web"
    # The old task's container still listed (the engine not restarted yet) is not back.
    assert engine.tasks_problem(before, before) == \
        "tasks not running here again yet: web_web"
    after = engine.local_tasks([task_container("web_web", "node1id", "t3")], "node1id")
    assert engine.tasks_problem(before, after) is None


LOCKED_INFO = json.loads((Path(__file__).resolve().parents[2] / "fixtures" / "node_facts"
                          / "docker_info_locked.json").read_text())


class LockedClient:
    """An engine that comes back locked (autolock: /info recorded on a Debian 12 manager
    after `systemctl restart docker`) until the key is sent."""

    def __init__(self):
        self.sent = []
        self.locked = LOCKED_INFO

    def info(self):
        return self.locked if not self.sent else {"Swarm": {"LocalNodeState": "active"}}

    def unlock_swarm(self, key):
        self.sent.append(key)


def test_a_manager_back_locked_is_unlocked_with_the_key(monkeypatch):
    client = LockedClient()
    monkeypatch.setattr(engine, "ready_problem", lambda before, info, nodes: None)
    engine.wait_ready(client, {"hostname": "n1"}, 5, unlock_key="SWMKEY-1-x")
    assert client.sent == ["SWMKEY-1-x"]


def test_a_manager_back_locked_without_a_key_fails_at_once_naming_unlock_yml():
    client = LockedClient()
    with pytest.raises(engine.EngineError, match="playbooks/unlock.yml"):
        engine.wait_ready(client, {"hostname": "n1"}, 300)
    assert client.sent == []


STACK = Path(__file__).resolve().parents[2] / "fixtures" / "stack"


class SettlingClient:
    """A manager just unlocked: the swarm as recorded with a node down (a service short of
    its tasks) for the first reads, then as recorded converged."""

    def __init__(self, recorded, unsettled_reads):
        self.manager = recorded("manager_three_active")
        self.views = [json.loads((STACK / name).read_text())
                      for name in ("app_node_down.json", "app_deployed.json")]
        self.reads = 0
        self.unsettled_reads = unsettled_reads

    def view(self):
        return self.views[0 if self.reads <= self.unsettled_reads else 1]

    def info(self):
        # A manager's /info, as the stack recording's leader (its nodes are that lab's).
        self.reads += 1
        info = copy.deepcopy(self.manager["info"])
        info["Swarm"]["NodeID"] = next(n["ID"] for n in self.view()["nodes"]
                                       if (n.get("ManagerStatus") or {}).get("Leader"))
        return info

    def nodes(self):
        return self.view()["nodes"]

    def services(self):
        return self.view()["services"]

    def tasks(self, filters=None):
        tasks = self.view()["tasks"]
        wanted = (filters or {}).get("desired-state")
        return [t for t in tasks if not wanted or t.get("DesiredState") == wanted]


def test_an_unlocked_manager_waits_until_the_services_converged_again(recorded, monkeypatch):
    monkeypatch.setattr(engine, "POLL", 0)
    monkeypatch.setattr(engine, "SETTLE", 0)
    client = SettlingClient(recorded, unsettled_reads=3)
    assert engine.converged_services(client) != sorted(
        s["Spec"]["Name"] for s in client.services())
    assert engine.wait_unlocked(client, 30) == []
    assert client.reads == 4


def test_a_state_that_looks_settled_must_stay_so_before_the_wait_ends(recorded, monkeypatch):
    """Right after the unlock the swarm has not placed the manager's global tasks yet: a
    converged read then is not the end; it must hold for SETTLE seconds."""
    monkeypatch.setattr(engine, "POLL", 0)
    monkeypatch.setattr(engine, "SETTLE", 0.05)
    client = SettlingClient(recorded, unsettled_reads=0)
    started = time.time()
    assert engine.wait_unlocked(client, 30) == []
    assert time.time() - started >= 0.05 and client.reads > 2


def test_a_service_that_does_not_settle_is_returned_not_waited_on_forever(recorded,
                                                                          monkeypatch):
    monkeypatch.setattr(engine, "POLL", 0)
    client = SettlingClient(recorded, unsettled_reads=10 ** 9)
    unsettled = engine.wait_unlocked(client, 0.05)
    assert unsettled and set(unsettled) < {"app_api", "app_web", "app_dnsrr"}
