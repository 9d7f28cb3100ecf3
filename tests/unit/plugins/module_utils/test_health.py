"""cluster_health: judging the swarm, a GlusterFS volume and the mounts, on answers recorded
from lab engines and glusterds.

fixtures/health/dev_* were recorded on the five-node dev lab (node1-3 managers and storage,
node4-5 workers; volume dockerdir, replica 3, bricks 10.213.0.11-13) once site.yml had
converged: dev_swarm.json holds node1's /info, /nodes, /services and /tasks. The node-down
recordings of fixtures/gluster were taken on a lab of the same layout with node3's glusterd
and brick stopped.
"""

import copy
import json
import time
from pathlib import Path

import pytest

from ansible_collections.swarmops.cluster.plugins.module_utils import _gluster as gl
from ansible_collections.swarmops.cluster.plugins.module_utils import _gluster_peer as gp
from ansible_collections.swarmops.cluster.plugins.module_utils import _gluster_volume as gv
from ansible_collections.swarmops.cluster.plugins.module_utils import _health as hl
from ansible_collections.swarmops.cluster.plugins.module_utils import _mount as mt

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
BRICK = "10.213.0.%d:/srv/gluster/dockerdir/brick"
GV_BRICK = "10.213.1.%d:/srv/gluster/gv/brick"
DOC = "docs/operations/health.md"
NO_IMAGE = "No such image: example/nope:latest"


def recorded_json(name):
    """A recorded engine answer."""
    return json.loads((FIXTURES / name).read_text())


def xml_text(name):
    """The text of a recorded gluster answer."""
    return (FIXTURES / name).read_text()


def xml(name):
    """The <cliOutput> of one recorded gluster answer, through the runner's envelope check."""
    return gl.parse_cli_output(xml_text(name))


def swarm(name):
    """(nodes, services, problems, warnings) of a recorded {nodes, services, tasks}."""
    return hl.assess_swarm(recorded_json(name))


def dev_volume():
    """The dev lab's volume dockerdir as volume info parses it."""
    (volume,) = gv.parse_volume_info(xml("health/dev_volume_info.xml"))
    return volume


def gluster(volume, pool="health/dev_pool_list.xml", status="health/dev_status_detail.xml",
            heal=("health/dev_heal_info.xml", "health/dev_heal_split_brain.xml")):
    """The gluster section from recorded answers (heal: info and split-brain roots or
    file names)."""
    root = xml(status)
    info, split = (xml(h) if isinstance(h, str) else h for h in heal)
    reads = {"status": gv.parse_volume_status(root), "sizes": hl.parse_brick_sizes(root),
             "heal": gv.parse_heal_info(info, split), "errors": []}
    return hl.describe_gluster(volume["name"], gp.parse_pool_list(xml(pool)), volume, reads)


def mounts_of(*entries):
    """Mount entries as the module reports them."""
    return [dict({"host": "node1", "path": "/opt/docker", "mounted": True,
                  "fstype": "fuse.glusterfs", "source": "localhost:/dockerdir",
                  "probe": "ok"}, **e) for e in entries]


def report(swarm_read, gluster_section, mounts):
    """A finished report: swarm_read as assess_swarm returns it (or None), the gluster
    section, the mounts (their problems added)."""
    nodes, services, problems, warnings = swarm_read or (None, None, [], [])
    return hl.finish_report({"nodes": nodes, "services": services, "gluster": gluster_section,
                             "mounts": mounts},
                            problems + hl.judge_mounts(mounts), warnings)


# --- the swarm ---------------------------------------------------------------------------

def test_healthy_dev_swarm_has_five_ready_nodes_seven_converged_services_no_problem():
    nodes, services, problems, warnings = swarm("health/dev_swarm.json")
    assert (problems, warnings) == ([], [])
    assert [(n["hostname"], n["role"], n["state"], n["leader"]) for n in nodes] == [
        ("dev-node1", "manager", "ready", False), ("dev-node2", "manager", "ready", True),
        ("dev-node3", "manager", "ready", False), ("dev-node4", "worker", "ready", False),
        ("dev-node5", "worker", "ready", False)]
    assert nodes[0] == {"hostname": "dev-node1", "id": "2uykvhcc4vyfkbpgdwfjvckq8",
                        "role": "manager", "state": "ready", "message": None,
                        "availability": "active", "reachability": "reachable",
                        "leader": False, "engine_version": "20.10.24+dfsg1",
                        "address": "10.213.0.11"}
    assert nodes[3]["reachability"] is None
    assert [s["name"] for s in services] == sorted(s["name"] for s in services)
    assert {s["name"]: (s["state"], s["running"], s["desired"], s["completed"])
            for s in services}["app_job"] == ("converged", 0, 1, 1)
    assert all(s["state"] == "converged" for s in services) and len(services) == 7


def test_a_down_worker_is_a_problem_with_the_engines_reason():
    nodes = hl.describe_nodes(recorded_json("manager_worker_down.json")["nodes"])
    assert hl.judge_nodes(nodes) == (["node lab-node3: down (heartbeat failure)"], [])


def test_a_down_manager_is_down_and_unreachable_and_a_drained_node_warns():
    nodes, _services, problems, warnings = swarm("stack/app_node_down.json")
    assert problems[:2] == ["node speclab-node3: down (heartbeat failure)",
                            "node speclab-node3: manager unreachable"]
    assert warnings == ["node speclab-node2: availability drain (its tasks moved away and "
                        "it gets no new ones)"]
    assert [n["availability"] for n in nodes] == ["active", "drain", "active"]


def test_a_service_short_of_replicas_is_a_problem_with_its_error():
    _nodes, _services, problems, _warnings = swarm("stack/app_node_down.json")
    assert problems[2:] == ["service app_web: 1/2 running (pending): no suitable node (2 "
                            "nodes not available for new tasks; host-mode port already in "
                            "use on 1 node)"]


def test_failing_and_unplaceable_services_are_problems_converged_jobs_are_not():
    _nodes, services, problems, _warnings = swarm("stack/jobs_deployed.json")
    assert problems == [
        "service jobs_missing: 0/2 running (failed): %s" % NO_IMAGE,
        "service jobs_nowhere: 0/1 running (pending): no suitable node (scheduling "
        "constraints not satisfied on 3 nodes)"]
    oneshot = next(s for s in services if s["name"] == "jobs_oneshot")
    assert (oneshot["state"], oneshot["completed"]) == ("converged", 2)
    assert hl.service_summary(oneshot) == "0/2 running, 2 completed (converged)"


def test_a_manager_that_is_unreachable_but_ready_is_a_problem():
    answers = recorded_json("health/dev_swarm.json")
    node3 = next(n for n in answers["nodes"] if n["Description"]["Hostname"] == "dev-node3")
    node3["ManagerStatus"]["Reachability"] = "unreachable"
    assert hl.judge_nodes(hl.describe_nodes(answers["nodes"]))[0] == [
        "node dev-node3: manager unreachable"]


def test_no_leader_is_a_problem():
    answers = recorded_json("health/dev_swarm.json")
    for node in answers["nodes"]:
        (node.get("ManagerStatus") or {}).pop("Leader", None)
    assert hl.judge_nodes(hl.describe_nodes(answers["nodes"]))[0] == [
        "swarm: no manager is the leader"]


def test_engine_version_skew_is_a_warning_naming_versions_and_nodes():
    answers = recorded_json("health/dev_swarm.json")
    for node in answers["nodes"]:
        if node["Description"]["Hostname"] in ("dev-node4", "dev-node5"):
            node["Description"]["Engine"]["EngineVersion"] = "24.0.7"
    problems, warnings = hl.judge_nodes(hl.describe_nodes(answers["nodes"]))
    assert problems == []
    assert warnings == ["engine versions differ: 20.10.24+dfsg1 on dev-node1, dev-node2, "
                        "dev-node3; 24.0.7 on dev-node4, dev-node5"]


def test_a_paused_node_warns():
    answers = recorded_json("health/dev_swarm.json")
    answers["nodes"][0]["Spec"]["Availability"] = "pause"
    assert hl.judge_nodes(hl.describe_nodes(answers["nodes"]))[1] == [
        "node dev-node1: availability pause (it gets no new tasks)"]


def test_a_stale_entry_of_a_rejoined_node_is_named_with_its_id():
    nodes = hl.describe_nodes(recorded_json("manager_rejoined_stale_entry.json")["nodes"])
    assert hl.judge_nodes(nodes) == (["node lab-node3 (wpi93coriuck): down (heartbeat "
                                      "failure)"], [])


@pytest.mark.parametrize("name, expected", [
    ("manager_three_active.json", None),
    ("worker_active.json", "swarm: lab-node3 is a worker; read the swarm from a manager"),
    ("inactive.json", "swarm: lab-node3 is not in a swarm (state inactive); read it from a "
                      "manager"),
])
def test_only_a_manager_can_read_the_swarm(name, expected):
    assert hl.swarm_access_problem(recorded_json(name)["info"]) == expected


class FakeClient:
    """The SDK's APIClient answering from a recording; list calls fail on demand."""

    def __init__(self, answers, info, fail=None):
        """answers: {nodes, services, tasks}; info: /info; fail: the API error of nodes()."""
        self.answers, self._info, self.fail = answers, info, fail

    def info(self):
        """/info."""
        return self._info

    def nodes(self):
        """/nodes, or the error of a manager without a leader."""
        if self.fail:
            raise hl.EngineError(self.fail)
        return self.answers["nodes"]

    def services(self):
        """/services."""
        return self.answers["services"]

    def tasks(self):
        """/tasks."""
        return self.answers["tasks"]


def test_read_swarm_on_a_manager_returns_the_answers(monkeypatch):
    answers = recorded_json("health/dev_swarm.json")
    monkeypatch.setattr(hl, "connect", lambda _module: FakeClient(answers, answers["info"]))
    read, problem = hl.read_swarm(FakeModule())
    assert problem is None and len(read["nodes"]) == 5 and len(read["tasks"]) == 35


def test_read_swarm_on_a_worker_is_a_problem_not_a_failure(monkeypatch):
    info = recorded_json("worker_active.json")["info"]
    monkeypatch.setattr(hl, "connect", lambda _module: FakeClient({}, info))
    assert hl.read_swarm(FakeModule()) == (
        None, "swarm: lab-node3 is a worker; read the swarm from a manager")


def test_read_swarm_without_a_leader_reports_the_engines_error(monkeypatch):
    answers = recorded_json("health/dev_swarm.json")
    monkeypatch.setattr(hl, "connect", lambda _module: FakeClient(
        answers, answers["info"], fail="list nodes failed: rpc error: The swarm does not "
                                       "have a leader"))
    monkeypatch.setattr(hl.socket, "gethostname", lambda: "dev-node1")
    assert hl.read_swarm(FakeModule()) == (
        None, "swarm: cannot be read on dev-node1: list nodes failed: rpc error: The swarm "
              "does not have a leader")


# --- GlusterFS ---------------------------------------------------------------------------

def test_healthy_dev_volume_has_three_connected_peers_and_clean_online_bricks():
    section = gluster(dev_volume())
    assert hl.judge_gluster(section, 85, 95) == ([], [])
    assert (section["volume"], section["exists"], section["status"], section["replica"]) == (
        "dockerdir", True, "Started", 3)
    assert [(p["hostname"], p["connected"], p["self"]) for p in section["peers"]] == [
        ("10.213.0.12", True, False), ("10.213.0.13", True, False), ("localhost", True, True)]
    assert section["bricks"][0] == {
        "name": BRICK % 11, "host": "10.213.0.11", "path": "/srv/gluster/dockerdir/brick",
        "arbiter": False, "online": True, "heal_pending": 0, "split_brain": 0,
        "size_total": 270553174016, "size_free": 241720016896, "used_percent": 10.7}


def test_node3_down_brick_offline_peer_disconnected_heal_pending_on_the_others():
    info = xml("gluster/heal_info_pending_node_down.xml")
    section = gluster(dev_volume(), pool="gluster/pool_list_node3_down.xml",
                      status="gluster/volume_status_node_down.xml",
                      heal=(info, xml("health/dev_heal_split_brain.xml")))
    problems, warnings = hl.judge_gluster(section, 85, 95)
    assert problems == [
        "gluster peer 10.213.0.13: disconnected",
        "volume dockerdir: 6 entries pending heal on %s (%s#heal-pending)" % (BRICK % 11, DOC),
        "volume dockerdir: 6 entries pending heal on %s (%s#heal-pending)" % (BRICK % 12, DOC),
        "volume dockerdir: brick %s offline" % BRICK % 13]
    assert warnings == []
    # glusterd writes '-' for the brick it cannot ask, and leaves it out of status.
    assert [(b["online"], b["heal_pending"], b["used_percent"]) for b in section["bricks"]] \
        == [(True, 6, None), (True, 6, None), (False, None, None)]


def test_gv_replica3_with_node3_down_from_its_own_recordings():
    (volume,) = gv.parse_volume_info(xml("gluster/volume_info_replica3_options.xml"))
    section = gluster(volume, pool="gluster/pool_list_three.xml",
                      status="gluster/status_replica3_node3_down.xml",
                      heal=("gluster/heal_pending_replica3_node3_down.xml",
                            "gluster/heal_split_brain_replica3_node3_down.xml"))
    problems = hl.judge_gluster(section, 85, 95)[0]
    assert problems == ["volume gv: 6 entries pending heal on %s (%s#heal-pending)" % (GV_BRICK % 11, DOC),
                        "volume gv: 6 entries pending heal on %s (%s#heal-pending)" % (GV_BRICK % 12, DOC),
                        "volume gv: brick %s offline" % GV_BRICK % 13]
    assert section["bricks"][2]["split_brain"] is None


def test_split_brain_entries_are_a_problem_per_brick():
    # The clean recording with one brick's count raised: split-brain cannot be made in a
    # lab without writing conflicting copies behind glusterd's back.
    split = xml_text("health/dev_heal_split_brain.xml").replace(
        "<numberOfEntries>0</numberOfEntries>", "<numberOfEntries>2</numberOfEntries>", 1)
    section = gluster(dev_volume(), heal=("health/dev_heal_info.xml",
                                          gl.parse_cli_output(split)))
    assert hl.judge_gluster(section, 85, 95) == (
        ["volume dockerdir: 2 entries in split-brain on %s (%s#split-brain)" % (BRICK % 11, DOC)], [])


@pytest.mark.parametrize("warn, fail, problems, warnings", [
    (85, 95, 0, 0),
    (10, 95, 0, 3),
    (5, 10, 3, 0),
    (10, 10, 3, 0),
    (11, 95, 0, 0),
])
def test_disk_use_over_the_thresholds(warn, fail, problems, warnings):
    # Every dev brick's filesystem is 10.7% used.
    found, cautions = hl.judge_gluster(gluster(dev_volume()), warn, fail)
    assert (len(found), len(cautions)) == (problems, warnings)
    for text in found + cautions:
        assert text.startswith("volume dockerdir: brick 10.213.0.1")
        assert text.endswith("disk 10.7%% used (over %d%%)" % (fail if found else warn))


def test_brick_sizes_come_from_the_status_detail_in_bytes():
    sizes = hl.parse_brick_sizes(xml("gluster/status_detail_replica3.xml"))
    assert sizes == {GV_BRICK % n: (270553174016, 241705086976) for n in (11, 12, 13)}
    assert hl.used_percent(sizes[GV_BRICK % 11]) == 10.7
    assert hl.used_percent(None) is None
    # Status without detail has no sizes.
    assert set(hl.parse_brick_sizes(xml("gluster/status_replica3.xml")).values()) == {None}


def test_a_missing_volume_is_a_problem():
    section = hl.describe_gluster("dockerdir", gp.parse_pool_list(
        xml("health/dev_pool_list.xml")), None, {})
    assert (section["exists"], section["bricks"]) == (False, [])
    assert hl.judge_gluster(section, 85, 95) == (["volume dockerdir: does not exist"], [])


def test_a_stopped_volume_is_a_problem_and_its_bricks_are_not_judged():
    (volume,) = gv.parse_volume_info(xml("gluster/volume_info_arbiter_stopped.xml"))
    section = hl.describe_gluster("gva", [], volume, {})
    assert [b["online"] for b in section["bricks"]] == [None, None, None]
    assert hl.judge_gluster(section, 85, 95) == (
        ["volume gva: not started (status Stopped)"], [])


class Runner:
    """Stands in for run_gluster: answers recorded files by the command's words."""

    def __init__(self, answers, fail=None):
        """answers: {command words: fixture}; fail: words whose call raises."""
        self.answers, self.fail, self.calls = answers, fail, []

    def __call__(self, module, args, **_options):
        """Record the call, answer or fail."""
        self.calls.append(" ".join(args))
        if self.fail and " ".join(args).startswith(self.fail):
            raise gl.GlusterError("--mode=script --xml %s failed: Connection failed. "
                                  "(glusterd is not answering)" % " ".join(args))
        return gl.parse_cli_output(xml_text(self.answers[" ".join(args)]))


DEV_ANSWERS = {"pool list": "health/dev_pool_list.xml",
               "volume info": "health/dev_volume_info.xml",
               "volume status dockerdir detail": "health/dev_status_detail.xml",
               "volume heal dockerdir info": "health/dev_heal_info.xml",
               "volume heal dockerdir info split-brain": "health/dev_heal_split_brain.xml"}


def use_runner(monkeypatch, runner):
    """Both readers (ours and read_volume's) ask the runner."""
    monkeypatch.setattr(hl, "run_gluster", runner)
    monkeypatch.setattr(gv, "run_gluster", runner)
    return runner


def test_read_gluster_asks_pool_info_status_and_heal(monkeypatch):
    runner = use_runner(monkeypatch, Runner(DEV_ANSWERS))
    section = hl.read_gluster(None, "dockerdir")
    assert runner.calls == list(DEV_ANSWERS)
    assert section == gluster(dev_volume())


def test_read_gluster_does_not_ask_a_stopped_volume_for_status_or_heal(monkeypatch):
    runner = use_runner(monkeypatch, Runner(dict(DEV_ANSWERS, **{
        "volume info": "gluster/volume_info_arbiter_stopped.xml"})))
    section = hl.read_gluster(None, "gva")
    assert runner.calls == ["pool list", "volume info"]
    assert hl.judge_gluster(section, 85, 95)[0] == ["volume gva: not started (status Stopped)"]


def test_glusterd_not_answering_is_a_problem(monkeypatch):
    use_runner(monkeypatch, Runner(DEV_ANSWERS, fail="pool"))
    section = hl.read_gluster(None, "dockerdir")
    assert section["exists"] is None
    assert hl.judge_gluster(section, 85, 95) == ([
        "volume dockerdir: gluster --mode=script --xml pool list failed: Connection failed. "
        "(glusterd is not answering)"], [])


def test_heal_that_fails_on_a_started_volume_is_a_problem_bricks_still_judged(monkeypatch):
    use_runner(monkeypatch, Runner(DEV_ANSWERS, fail="volume heal"))
    section = hl.read_gluster(None, "dockerdir")
    problems = hl.judge_gluster(section, 85, 95)[0]
    assert len(problems) == 1 and problems[0].startswith(
        "volume dockerdir: gluster --mode=script --xml volume heal dockerdir info failed")
    assert [b["online"] for b in section["bricks"]] == [True, True, True]
    assert [b["heal_pending"] for b in section["bricks"]] == [None, None, None]


# --- mounts ------------------------------------------------------------------------------

MOUNTINFO = mt.parse_mountinfo(xml_text("mount/mountinfo_node1_glusterfs_escapes.txt"))


def test_a_glusterfs_mount_is_described_from_mountinfo():
    assert hl.describe_mount("/opt/docker", MOUNTINFO, "node1") == {
        "host": "node1", "path": "/opt/docker", "mounted": True, "fstype": "fuse.glusterfs",
        "source": "localhost:/gv", "probe": None}


def test_mount_problems_name_the_host():
    mounts = [hl.describe_mount("/mnt/gluster", MOUNTINFO, "node1"),
              hl.describe_mount("/mnt/a b", MOUNTINFO, "node2"),
              dict(hl.describe_mount("/opt/docker", MOUNTINFO, "node3"),
                   probe="probe did not finish in 10 s"),
              dict(hl.describe_mount("/opt/docker", MOUNTINFO, "node4"), probe="ok")]
    assert hl.judge_mounts(mounts) == [
        "mount /mnt/gluster on node1: not mounted",
        "mount /mnt/a b on node2: tmpfs from scratch space is not a GlusterFS or NFS mount",
        "mount /opt/docker on node3: probe did not finish in 10 s"]


def test_nfs_mounts_are_shared_mounts():
    assert set(hl.SHARED_FSTYPES) == {"fuse.glusterfs", "nfs", "nfs4"}
    assert hl.judge_mounts(mounts_of({"fstype": "nfs4", "source": "nas:/export"})) == []


def test_the_probe_writes_reads_back_and_removes_its_file(tmp_path):
    assert hl.probe_mount(str(tmp_path), ".swarmops-health-node1", 10) == "ok"
    assert list(tmp_path.iterdir()) == []


def test_the_probe_never_writes_through_a_symlink_planted_in_its_place(tmp_path):
    # A service can write DOCKERDIR; the probe runs as root.
    target = tmp_path / "elsewhere"
    target.write_text("precious")
    mount = tmp_path / "mount"
    mount.mkdir()
    (mount / ".swarmops-health-node1").symlink_to(target)
    result = hl.probe_mount(str(mount), ".swarmops-health-node1", 10)
    assert result == "probe file %s/.swarmops-health-node1 is a symlink (%s); remove it" % (
        mount, target)
    assert target.read_text() == "precious"


def test_a_probe_file_left_by_an_interrupted_run_is_replaced(tmp_path):
    (tmp_path / ".swarmops-health-node1").write_text("stale")
    assert hl.probe_mount(str(tmp_path), ".swarmops-health-node1", 10) == "ok"
    assert list(tmp_path.iterdir()) == []


def test_a_probe_that_cannot_write_says_why(tmp_path):
    missing = tmp_path / "gone"
    result = hl.probe_mount(str(missing), ".swarmops-health-node1", 10)
    assert result == "probe could not write %s/.swarmops-health-node1: No such file or " \
                     "directory" % missing


def test_a_hung_probe_is_left_behind_after_the_timeout(monkeypatch, tmp_path):
    # A child that sleeps stands in for one stuck on a hung FUSE mount.
    monkeypatch.setattr(hl, "PROBE_CODE", "import time; time.sleep(60)")
    start = time.monotonic()
    assert hl.probe_mount(str(tmp_path), "x", 1) == "probe did not finish in 1 s"
    assert time.monotonic() - start < 5


def test_read_mounts_probes_only_what_is_mounted(monkeypatch):
    probed = []
    monkeypatch.setattr(hl, "read_text", lambda _path: xml_text(
        "mount/mountinfo_node1_glusterfs_escapes.txt"))
    monkeypatch.setattr(hl, "probe_mount", lambda path, name, timeout: probed.append(
        (path, name.startswith(hl.PROBE_PREFIX), timeout)) or "ok")
    mounts = hl.read_mounts(["/opt/docker/", "/mnt/gluster"], "node1", 7)
    assert probed == [("/opt/docker", True, 7)]
    assert [(m["path"], m["mounted"], m["probe"]) for m in mounts] == [
        ("/opt/docker", True, "ok"), ("/mnt/gluster", False, None)]
    assert [m["probe"] for m in hl.read_mounts(["/opt/docker"], "node1", None)] == [None]


# --- the report --------------------------------------------------------------------------

def test_the_table_has_every_section_and_the_verdict_last():
    done = report(swarm("health/dev_swarm.json"), gluster(dev_volume()), mounts_of({}))
    lines = done["table"].splitlines()
    assert done["healthy"] is True and lines[-1] == "healthy"
    for section in ("NODES", "SERVICES", "GLUSTER", "MOUNTS"):
        assert section in lines
    assert "PROBLEMS" not in lines and "WARNINGS" not in lines
    assert lines[lines.index("NODES") + 1].split() == [
        "HOSTNAME", "ROLE", "STATE", "AVAILABILITY", "MANAGER", "ENGINE", "ADDRESS"]
    assert lines[lines.index("NODES") + 3].split() == [
        "dev-node2", "manager", "ready", "active", "leader", "20.10.24+dfsg1", "10.213.0.12"]
    brick = next(line for line in lines if line.startswith("  " + BRICK % 13))
    assert brick.split() == [BRICK % 13, "yes", "0", "0", "10.7%"]
    assert "  volume dockerdir: Started, Replicate, replica 3" in lines
    assert "  localhost (this node)  yes        -" in lines


def test_the_table_columns_line_up():
    nodes = swarm("health/dev_swarm.json")[0]
    lines = hl.render_nodes(nodes)
    starts = {line.index(word) for line, word in zip(lines[1:], ["ENGINE"] + ["20.10"] * 5)}
    assert len(starts) == 1


def test_an_unhealthy_table_lists_problems_and_counts_them():
    done = report(swarm("stack/app_node_down.json"), None,
                  mounts_of({"mounted": False, "fstype": None, "source": None, "probe": None}))
    lines = done["table"].splitlines()
    assert done["healthy"] is False
    assert lines[-1] == "UNHEALTHY: 4 problems"
    assert "  - node speclab-node3: down (heartbeat failure)" in lines
    assert "  - mount /opt/docker on node1: not mounted" in lines
    assert lines[lines.index("WARNINGS") + 1].startswith(
        "  - node speclab-node2: availability drain")
    assert lines[lines.index("GLUSTER") + 1] == "  not read"
    assert hl.verdict(["one"]) == "UNHEALTHY: 1 problem"


def test_long_errors_are_cut_in_the_table_but_whole_in_problems():
    long_error = "x" * 200
    status = {"name": "s_s", "mode": "replicated", "desired": 1, "running": 0, "completed": 0,
              "state": "failed", "errors": [long_error]}
    row = hl.render_services([status])[2]
    assert row.endswith("x" * (hl.CELL_WIDTH - 3) + "...")
    assert hl.judge_services([status]) == ["service s_s: 0/1 running (failed): " + long_error]


@pytest.mark.parametrize("params, expected", [
    ({"disk_warn": 85, "disk_fail": 95, "probe_timeout": 10}, []),
    ({"disk_warn": 96, "disk_fail": 95, "probe_timeout": 10},
     ["disk_warn (96) and disk_fail (95) must be percentages with disk_warn <= disk_fail"]),
    ({"disk_warn": 85, "disk_fail": 101, "probe_timeout": 0},
     ["disk_warn (85) and disk_fail (101) must be percentages with disk_warn <= disk_fail",
      "probe_timeout must be 1 second or more, not 0"]),
])
def test_options_are_checked(params, expected):
    assert hl.check_params(params) == expected


class FakeModule:
    """The module's parameters, as read_health reads them."""

    def __init__(self, **params):
        """cluster_health's defaults, overridden by params."""
        self.params = dict({"swarm": True, "volume": None, "mounts": [], "probe": True,
                            "probe_timeout": 10, "disk_warn": 85, "disk_fail": 95,
                            "host": None, "leaving": []}, **params)


def test_read_health_puts_the_sections_together(monkeypatch):
    answers = copy.deepcopy(recorded_json("stack/app_node_down.json"))
    monkeypatch.setattr(hl, "read_swarm", lambda _module: (answers, None))
    monkeypatch.setattr(hl, "read_gluster",
                        lambda _module, _name, _leaving: gluster(dev_volume()))
    monkeypatch.setattr(hl, "read_mounts", lambda paths, host, timeout: [
        dict(m, path=p) for p, m in zip(paths, mounts_of({"host": host, "probe": timeout}))])
    done = hl.read_health(FakeModule(volume="dockerdir", mounts=["/opt/docker"],
                                     host="node1", probe=False))
    assert [m["host"] for m in done["health"]["mounts"]] == ["node1"]
    assert done["health"]["gluster"]["volume"] == "dockerdir"
    assert len(done["health"]["nodes"]) == 3 and len(done["health"]["services"]) == 3
    assert len(done["problems"]) == 3 and len(done["warnings"]) == 1
    assert done["healthy"] is False


def test_read_health_on_a_worker_reports_the_swarm_as_unread(monkeypatch):
    problem = "swarm: w is a worker; read the swarm from a manager"
    monkeypatch.setattr(hl, "read_swarm", lambda _module: (None, problem))
    monkeypatch.setattr(hl, "read_mounts", lambda paths, host, timeout: [])
    done = hl.read_health(FakeModule())
    assert (done["health"]["nodes"], done["health"]["services"]) == (None, None)
    assert done["problems"] == ["swarm: w is a worker; read the swarm from a manager"]
    assert "NODES\n  not read" in done["table"]


def test_a_converged_services_old_errors_stay_out_of_the_table():
    status = {"name": "core_agent", "mode": "global", "desired": 3, "running": 3,
              "completed": 0, "state": "converged",
              "errors": ["cannot create a swarm scoped network when swarm is not active"]}
    assert hl.render_services([status])[2].split() == ["core_agent", "global", "3/3", "0",
                                                       "converged"]
    assert hl.judge_services([status]) == []


def test_an_engine_that_does_not_answer_is_a_problem_not_a_failure(monkeypatch):
    def refuse(module):
        """connect's own failure, as it reports a stopped engine."""
        module.fail_json(msg="cannot reach the Docker engine at unix:///var/run/docker.sock: "
                             "Connection refused. Is dockerd running?")
    monkeypatch.setattr(hl, "connect", refuse)
    monkeypatch.setattr(hl.socket, "gethostname", lambda: "dev-node1")
    assert hl.read_swarm(FakeModule()) == (None, "swarm: cannot be read on dev-node1: cannot "
                                                 "reach the Docker engine at unix:///var/run/"
                                                 "docker.sock: Connection refused. Is dockerd "
                                                 "running?")


def test_leaving_hosts_are_not_judged():
    # replace_node waits for the heal while the dead node it replaces is still listed.
    answers = copy.deepcopy(recorded_json("stack/app_node_down.json"))
    down = [n for n in answers["nodes"] if n["Status"]["State"] == "down"]
    assert down, "the recording has a node down"
    name = down[0]["Description"]["Hostname"]
    kept, _pool = hl.drop_leaving(answers, None, [name])
    assert name not in [n["Description"]["Hostname"] for n in kept["nodes"]]
    assert len(kept["nodes"]) == len(answers["nodes"]) - 1
    pool = [{"hostname": "10.213.0.13", "hostnames": ["10.213.0.13"], "connected": False},
            {"hostname": "10.213.0.12", "hostnames": ["10.213.0.12"], "connected": True}]
    assert [p["hostname"] for p in hl.drop_leaving(None, pool, ["10.213.0.13"])[1]] == \
        ["10.213.0.12"]
