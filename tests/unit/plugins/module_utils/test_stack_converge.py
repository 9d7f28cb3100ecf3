"""Convergence of stacks recorded on a 20.10 lab swarm (fixtures/stack)."""

import copy
import json
from pathlib import Path

import pytest

from ansible_collections.swarmops.cluster.plugins.module_utils import _stack_converge as sc

STACK = Path(__file__).resolve().parents[2] / "fixtures" / "stack"
NO_IMAGE = "No such image: example/nope:latest"


def recorded(name):
    return json.loads((STACK / f"{name}.json").read_text())


def status(name):
    rec = recorded(name)
    return sc.stack_status(rec["services"], rec["tasks"], rec["nodes"])


def brief(service_status):
    return (service_status["state"], service_status["desired"], service_status["running"],
            service_status["completed"])


def service_of(rec, name):
    return next(s for s in rec["services"] if s["Spec"]["Name"] == name)


def node_of(rec, hostname):
    return next(n for n in rec["nodes"] if n["Description"]["Hostname"] == hostname)


@pytest.mark.parametrize("recording", ["app_deployed", "app_updated", "app_drift"])
def test_running_stack_is_converged(recording):
    result = status(recording)
    assert result["converged"] is True
    assert {n: brief(s) for n, s in result["services"].items()} == {
        "app_api": ("converged", 1, 1, 0), "app_web": ("converged", 2, 2, 0),
        "app_dnsrr": ("converged", 0, 0, 0)}


def test_tasks_of_the_previous_spec_do_not_count_during_an_update():
    # start-first update: the old tasks still run (desired running) next to new ones.
    rec = recorded("app_updating")
    web = service_of(rec, "app_web")
    old_running = [t for t in rec["tasks"] if t["ServiceID"] == web["ID"]
                   and t["Status"]["State"] == "running"]
    assert len(old_running) == 2
    assert sc.current_tasks(web, old_running) == []
    result = status("app_updating")
    assert result["converged"] is False
    assert brief(result["services"]["app_web"]) == ("pending", 2, 0, 0)
    assert brief(result["services"]["app_api"]) == ("pending", 1, 0, 0)


def test_jobs_stack_states_and_errors():
    services = status("jobs_deployed")["services"]
    assert brief(services["jobs_everywhere"]) == ("converged", 3, 3, 0)
    assert brief(services["jobs_picky"]) == ("converged", 2, 2, 0)
    assert brief(services["jobs_oneshot"]) == ("converged", 2, 0, 2)
    assert brief(services["jobs_missing"]) == ("failed", 2, 0, 0)
    assert services["jobs_missing"]["errors"] == [NO_IMAGE]
    assert brief(services["jobs_nowhere"]) == ("pending", 1, 0, 0)
    assert services["jobs_nowhere"]["errors"] == [
        "no suitable node (scheduling constraints not satisfied on 3 nodes)"]


def test_a_one_shot_job_that_completed_is_done_though_its_update_paused():
    # Recorded after a deploy that moved app_job to a new image digest: the job exited 0
    # within the update monitor's period, so the engine paused the update "due to failure
    # or early termination"; its api sibling was still rolling.
    services = status("app_job_update_paused")["services"]
    assert brief(services["app_job"]) == ("converged", 1, 0, 1)
    assert services["app_job"]["errors"] == []
    assert services["app_api"]["state"] == "pending"


def test_node_down_and_drained_shrink_global_services():
    result = status("jobs_node_down")
    services = result["services"]
    assert brief(services["jobs_everywhere"]) == ("converged", 1, 1, 0)
    assert brief(services["jobs_picky"]) == ("converged", 1, 1, 0)
    assert brief(services["jobs_oneshot"]) == ("converged", 2, 0, 2)
    assert services["jobs_nowhere"]["errors"][0].startswith("no suitable node (2 nodes not")


def test_replica_that_cannot_be_placed_keeps_the_service_pending():
    web = status("app_node_down")["services"]["app_web"]
    assert brief(web) == ("pending", 2, 1, 0)
    assert web["errors"][0].startswith("no suitable node")


def test_rolled_back_and_paused_updates_fail_with_their_messages():
    services = status("roll_failed")["services"]
    assert brief(services["roll_back"]) == ("failed", 1, 1, 0)
    assert services["roll_back"]["errors"] == ["rollback completed", NO_IMAGE]
    assert services["roll_pause"]["state"] == "failed"
    assert services["roll_pause"]["errors"][0].startswith("update paused due to failure")
    assert services["roll_pause"]["errors"][1:] == [NO_IMAGE]


def test_redeploy_clears_the_rollback_but_not_the_broken_image():
    services = status("roll_redeployed")["services"]
    assert brief(services["roll_back"]) == ("converged", 1, 1, 0)
    assert services["roll_pause"]["state"] == "failed"


def test_one_shot_task_that_failed_is_final():
    rec = recorded("jobs_deployed")
    oneshot = service_of(rec, "jobs_oneshot")
    tasks = copy.deepcopy(rec["tasks"])
    task = next(t for t in tasks if t["ServiceID"] == oneshot["ID"])
    task["Status"].update(State="failed", Err="task: non-zero exit (1)")
    result = sc.service_status(oneshot, tasks, rec["nodes"])
    assert brief(result) == ("failed", 2, 0, 1)
    assert result["errors"] == ["task: non-zero exit (1)"]


def test_restart_any_does_not_count_completed_tasks():
    rec = recorded("jobs_deployed")
    oneshot = copy.deepcopy(service_of(rec, "jobs_oneshot"))
    for task in rec["tasks"]:
        if task["ServiceID"] == oneshot["ID"]:
            del task["Spec"]["RestartPolicy"]
    del oneshot["Spec"]["TaskTemplate"]["RestartPolicy"]
    assert brief(sc.service_status(oneshot, rec["tasks"], rec["nodes"])) == (
        "pending", 2, 0, 0)


def test_update_in_progress_is_not_converged_even_with_tasks_running():
    rec = recorded("app_updated")
    web = copy.deepcopy(service_of(rec, "app_web"))
    web["UpdateStatus"]["State"] = "updating"
    assert sc.service_status(web, rec["tasks"], rec["nodes"])["state"] == "pending"


def test_scaled_down_extra_slots_are_not_waited_for():
    rec = recorded("app_updated")
    web = copy.deepcopy(service_of(rec, "app_web"))
    web["Spec"]["Mode"]["Replicated"]["Replicas"] = 1
    assert brief(sc.service_status(web, rec["tasks"], rec["nodes"])) == (
        "converged", 1, 1, 0)


def test_placement_only_change_keeps_tasks_current():
    rec = recorded("app_updated")
    web = copy.deepcopy(service_of(rec, "app_web"))
    web["Spec"]["TaskTemplate"]["Placement"]["Constraints"].append("node.labels.x != y")
    assert len(sc.current_tasks(web, rec["tasks"])) == 2


@pytest.mark.parametrize("constraint, holds", [
    ("node.labels.zone == a", True),
    ("node.labels.zone==A", True),
    ("node.labels.zone != a", False),
    ("node.labels.missing != a", True),
    ("node.labels.missing == a", False),
    ("node.role == manager", True),
    ("node.hostname == speclab-node1", True),
    ("node.platform.os == linux", True),
    ("node.platform.arch == x86_64", True),
    ("node.ip == 10.213.1.0/24", True),
    ("engine.labels.foo == bar", False),
    ("nonsense", False),
])
def test_constraints_on_a_recorded_node(constraint, holds):
    node = node_of(recorded("jobs_deployed"), "speclab-node1")
    assert sc.constraint_holds(node, constraint) is holds


def test_eligible_nodes_follow_state_and_availability():
    rec = recorded("jobs_node_down")
    everywhere = service_of(rec, "jobs_everywhere")
    assert [n["Description"]["Hostname"] for n in sc.eligible_nodes(everywhere, rec["nodes"])
            ] == ["speclab-node1"]


def test_time_key_orders_engine_timestamps():
    stamps = ["2026-11-24T23:37:05Z", "2026-11-24T23:37:05.5Z", "2026-11-24T23:37:04.999Z"]
    assert sorted(stamps, key=sc.time_key) == [stamps[2], stamps[0], stamps[1]]


def test_a_one_shot_job_completed_on_a_node_since_removed_stays_done():
    # remove_node takes the node's entry out; the engine never runs a completed job again.
    rec = recorded("jobs_deployed")
    gone = node_of(rec, "speclab-node2")
    rec["nodes"] = [n for n in rec["nodes"] if n["ID"] != gone["ID"]]
    services = sc.stack_status(rec["services"], rec["tasks"], rec["nodes"])["services"]
    assert brief(services["jobs_oneshot"]) == ("converged", 2, 0, 2)
