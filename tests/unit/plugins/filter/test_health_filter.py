"""health_report: one report from the cluster_health results of every host of the play.

The per-host results are built with the module's own pure functions from answers recorded
on the dev lab (fixtures/health), shaped as Ansible registers them.
"""

import json
from pathlib import Path

from ansible_collections.swarmops.cluster.plugins.filter import health
from ansible_collections.swarmops.cluster.plugins.module_utils import _gluster as gl
from ansible_collections.swarmops.cluster.plugins.module_utils import _gluster_peer as gp
from ansible_collections.swarmops.cluster.plugins.module_utils import _gluster_volume as gv
from ansible_collections.swarmops.cluster.plugins.module_utils import _health as hl

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def xml(name):
    """A recorded gluster answer's <cliOutput>."""
    return gl.parse_cli_output((FIXTURES / "health" / name).read_text())


def registered(host, swarm=False, volume=False, mounted=True):
    """What `register` holds for one host's cluster_health run on the dev lab."""
    sections = {"nodes": None, "services": None, "gluster": None}
    problems, warnings = [], []
    if swarm:
        answers = json.loads((FIXTURES / "health" / "dev_swarm.json").read_text())
        sections["nodes"], sections["services"], problems, warnings = hl.assess_swarm(answers)
    if volume:
        (vol,) = gv.parse_volume_info(xml("dev_volume_info.xml"))
        root = xml("dev_status_detail.xml")
        sections["gluster"] = hl.describe_gluster("dockerdir", gp.parse_pool_list(
            xml("dev_pool_list.xml")), vol, {
                "status": gv.parse_volume_status(root), "sizes": hl.parse_brick_sizes(root),
                "heal": gv.parse_heal_info(xml("dev_heal_info.xml"),
                                           xml("dev_heal_split_brain.xml"))})
        found, cautions = hl.judge_gluster(sections["gluster"], 85, 95)
        problems, warnings = problems + found, warnings + cautions
    mounts = [{"host": host, "path": "/opt/docker", "mounted": mounted,
               "fstype": "fuse.glusterfs" if mounted else None,
               "source": "localhost:/dockerdir" if mounted else None,
               "probe": "ok" if mounted else None}]
    problems += hl.judge_mounts(mounts)
    return {"changed": False, "failed": False, "health": dict(sections, mounts=mounts),
            "problems": problems, "health_warnings": warnings,
            "healthy": not problems, "table": "..."}


UNREACHABLE = {"unreachable": True, "changed": False,
               "msg": "Failed to connect to the host via ssh: ssh: connect to host 10.213.0.13 "
                      "port 22: No route to host", "skipped": True}
FAILED = {"failed": True, "changed": False,
          "msg": "cannot reach the Docker engine at unix:///var/run/docker.sock"}


def healthy_results():
    """Every dev lab host's result: swarm read on node1, volume on node1."""
    return {"node1": registered("node1", swarm=True, volume=True),
            **{"node%d" % n: registered("node%d" % n) for n in range(2, 6)}}


def test_a_healthy_cluster_merges_into_a_healthy_report():
    report = health.health_report(healthy_results(), "node1", "node1")
    assert report["problems"] == [] and report["warnings"] == []
    assert report["healthy"] is True
    assert [n["hostname"] for n in report["health"]["nodes"]] == [
        "dev-node%d" % n for n in range(1, 6)]
    assert len(report["health"]["services"]) == 7
    assert report["health"]["gluster"]["volume"] == "dockerdir"
    assert [m["host"] for m in report["health"]["mounts"]] == [
        "node%d" % n for n in range(1, 6)]
    lines = report["table"].splitlines()
    assert lines[-1] == "healthy"
    assert lines[lines.index("MOUNTS") + 1].split()[:2] == ["HOST", "PATH"]
    assert [line.split()[0] for line in lines[lines.index("MOUNTS") + 2:]
            if line.startswith("  node")] == ["node%d" % n for n in range(1, 6)]


def test_an_unreachable_host_is_a_problem_and_the_rest_is_still_reported():
    results = healthy_results()
    results["node3"] = UNREACHABLE
    results["node4"] = registered("node4", mounted=False)
    report = health.health_report(results, "node1", "node1")
    assert report["problems"] == [
        "host node3: unreachable: Failed to connect to the host via ssh: ssh: connect to "
        "host 10.213.0.13 port 22: No route to host",
        "mount /opt/docker on node4: not mounted"]
    assert report["healthy"] is False
    assert [m["host"] for m in report["health"]["mounts"]] == ["node1", "node2", "node4",
                                                               "node5"]
    assert report["table"].splitlines()[-1] == "UNHEALTHY: 2 problems"
    assert report["health"]["nodes"] is not None


def test_when_the_chosen_manager_is_unreachable_the_report_says_how_to_read_another():
    results = healthy_results()
    results["node1"] = UNREACHABLE
    results["node2"] = registered("node2", swarm=True, volume=True)
    report = health.health_report(results, "node1", "node1")
    assert report["problems"][0].startswith("host node1: unreachable: ")
    assert report["problems"][0].endswith(
        "; the swarm and the volume not read (leave node1 out with --limit '!node1' to read "
        "from another node)")
    # node2 read them too, but it was not the chosen one: its sections are not used.
    assert (report["health"]["nodes"], report["health"]["gluster"]) == (None, None)
    assert "NODES\n  not read" in report["table"]


def test_failed_missing_and_skipped_hosts_are_problems():
    results = healthy_results()
    results["node2"] = FAILED
    results["node4"] = None
    results["node5"] = {"skipped": True, "changed": False}
    report = health.health_report(results, "node1", "node1")
    assert report["problems"] == [
        "host node2: the health check failed: cannot reach the Docker engine at "
        "unix:///var/run/docker.sock",
        "host node4: no result (it failed or was unreachable earlier in the run)",
        "host node5: the health check did not run"]


def test_warnings_and_problems_of_every_host_are_kept_in_order():
    results = healthy_results()
    results["node1"]["health_warnings"] = ["node dev-node2: availability drain (...)"]
    results["node5"]["problems"] = ["mount /opt/docker on node5: probe did not finish in 10 s"]
    report = health.health_report(results, "node1", "node1")
    assert report["warnings"] == ["node dev-node2: availability drain (...)"]
    assert report["problems"] == ["mount /opt/docker on node5: probe did not finish in 10 s"]
    assert "WARNINGS" in report["table"].splitlines()


def test_no_manager_or_storage_node_in_the_play_is_a_problem():
    report = health.health_report({"node4": registered("node4")}, None, None)
    assert report["problems"] == [
        "swarm: no manager among the hosts of the play; it was not read",
        "volume: no storage node among the hosts of the play; it was not read"]


def test_local_storage_has_no_volume_to_read():
    results = healthy_results()
    for result in results.values():
        result["health"]["gluster"] = None
        result["health"]["mounts"] = []
    report = health.health_report(results, "node1", None, shared=False)
    assert report["problems"] == [] and report["healthy"]
    assert "STORAGE\n  local: DOCKERDIR on each node's own disk" in report["table"]
    assert "GLUSTER" not in report["table"] and "MOUNTS" not in report["table"]


def test_the_filter_is_registered():
    assert health.FilterModule().filters() == {"health_report": health.health_report}


def test_results_are_taken_from_hostvars_by_their_register_name():
    # As the playbook calls it: hostvars, the play's hosts, the register name. node3 failed
    # earlier in the run (no result), node6 is in the inventory but not in the play.
    results = healthy_results()
    hostvars = {host: {"_result": result, "ansible_host": "10.213.0.1"}
                for host, result in results.items()}
    hostvars["node3"] = {"ansible_host": "10.213.0.13"}
    hostvars["node6"] = {"_result": registered("node6", mounted=False)}
    report = health.health_report(hostvars, manager="node1", storage="node1",
                                  hosts=["node%d" % n for n in range(1, 6)],
                                  register="_result")
    assert report["problems"] == [
        "host node3: no result (it failed or was unreachable earlier in the run)"]
    assert [m["host"] for m in report["health"]["mounts"]] == ["node1", "node2", "node4",
                                                               "node5"]
    assert health.registered_results(hostvars, ["node9"], "_result") == {"node9": None}


def test_the_last_backup_is_a_line_of_the_table_and_judged_against_max_age():
    results = healthy_results()
    recorded = {"host": "node2", "last_run": {"time": "2026-12-07T03:00:00Z", "result": "ok",
                                              "error": None, "snapshots": {}},
                "last_ok": {"time": "2026-12-07T03:00:00Z", "snapshots": {}}}
    results["node2"]["health"]["backup_record"] = recorded
    report = health.health_report(results, "node1", "node1", backup=True)
    assert report["healthy"] and report["health"]["backup"]["last_ok"]["host"] == "node2"
    assert "\nBACKUP\n  last ok 2026-12-07 03:00 UTC on node2 (" in report["table"]
    # An hour is long past (the record's time is fixed; now is the test's own).
    late = health.health_report(results, "node1", "node1", backup=True, backup_max_age="1")
    assert not late["healthy"]
    assert late["problems"][-1].startswith("backup: the last successful backup is ")
    # Without backup settings nothing of it is read or shown.
    assert "BACKUP" not in health.health_report(results, "node1", "node1")["table"]
