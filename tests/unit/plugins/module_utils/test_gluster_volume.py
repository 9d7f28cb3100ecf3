"""gluster_volume: info / status / heal parsers on XML recorded in the lab, and the planner.

Recorded on a five-node lab (10.213.1.11-15, glusterfs 10.3): volume_info_replica4 is
replica 3 grown by one brick, volume_info_dist_replica_2x4 is the 2x3 grown to replica 4
(gluster puts each set's new brick after that set), the heal_* answers were taken with
node3's glusterd and brick stopped and four files written through a mount on node4.
"""

from pathlib import Path

import pytest

from ansible_collections.swarmops.cluster.plugins.module_utils import _gluster as gl
from ansible_collections.swarmops.cluster.plugins.module_utils import _gluster_peer as gp
from ansible_collections.swarmops.cluster.plugins.module_utils import _gluster_volume as gv

RECORDED = Path(__file__).resolve().parents[2] / "fixtures" / "gluster"
PATH = "/srv/gluster/gv/brick"


def recorded(name):
    """The <cliOutput> of one recorded answer, through the runner's envelope check."""
    return gl.parse_cli_output((RECORDED / name).read_text())


def volume(name):
    """The one volume of a recorded volume info."""
    (vol,) = gv.parse_volume_info(recorded(name))
    return vol


def bricks(*specs):
    """Brick dicts from (last address octet, path) pairs."""
    return [{"host": "10.213.1.%d" % host, "path": path} for host, path in specs]


def listed(vol):
    """The module's brick list that names exactly a volume's bricks."""
    return [{"host": b["host"], "path": b["path"]} for b in vol["bricks"]]


def desired(**kw):
    """gluster_volume parameters with the module's defaults."""
    base = {"name": "gv", "state": "started", "bricks": None, "replica": None, "arbiter": 0,
            "allow_split_brain": False, "force": True, "options": {}, "auth_allow": None,
            "delete_volume": False, "wait_timeout": 120}
    base.update(kw)
    return base


R3 = bricks((11, PATH), (12, PATH), (13, PATH))
REPLICA3_LAB = volume("volume_info_replica3_options.xml")
REPLICA4 = volume("volume_info_replica4.xml")
ARBITER = volume("volume_info_arbiter_2data.xml")
DIST_2X3 = volume("volume_info_dist_replica_2x3.xml")
REPLICA2 = volume("volume_info_replica2.xml")
# How node1 resolves the names: the lab's /etc/hosts entry for node1; addresses to themselves.
ADDRESSES = dict({"node1": ["10.213.1.11"], "node4": ["10.213.1.14"]},
                 **{"10.213.1.%d" % i: ["10.213.1.%d" % i] for i in range(11, 16)})


# --- volume info ----------------------------------------------------------------------

@pytest.mark.parametrize("name, expected", [
    ("volume_info_replica4.xml", ("gv", "Started", "Replicate", 4, 0, 0, 4, "tcp")),
    ("volume_info_arbiter_2data.xml", ("gva", "Started", "Replicate", 3, 1, 0, 3, "tcp")),
    ("volume_info_arbiter_stopped.xml", ("gva", "Stopped", "Replicate", 3, 1, 0, 3, "tcp")),
    ("volume_info_dist_replica_2x3.xml",
     ("gvd", "Started", "Distributed-Replicate", 3, 0, 0, 6, "tcp")),
    ("volume_info_dist_arbiter.xml",
     ("scratch", "Started", "Distributed-Replicate", 3, 1, 0, 6, "tcp")),
    ("volume_info_replica2.xml", ("gv2", "Started", "Replicate", 2, 0, 0, 2, "tcp")),
    ("volume_info_distribute_created.xml", ("gvc", "Created", "Distribute", 1, 0, 0, 1, "tcp")),
])
def test_volume_info_layout_and_status(name, expected):
    vol = volume(name)
    assert (vol["name"], vol["status"], vol["type"], vol["replica"], vol["arbiter"],
            vol["disperse"], vol["brick_count"], vol["transport"]) == expected
    assert len(vol["bricks"]) == vol["brick_count"] and vol["id"]


def test_volume_info_bricks_carry_host_path_and_peer_uuid():
    first = REPLICA4["bricks"][0]
    assert first == {"name": "10.213.1.11:" + PATH, "host": "10.213.1.11", "path": PATH,
                     "uuid": "210fea10-0488-4bad-b460-db4771ed5ecd", "arbiter": False}
    assert [b["host"] for b in REPLICA4["bricks"]] == ["10.213.1.1%d" % i for i in (1, 2, 3, 4)]


def test_volume_info_reads_the_reconfigured_options():
    assert REPLICA4["options"]["auth.allow"] == "10.213.1.11,10.213.1.12,10.213.1.13,10.213.1.14"
    assert REPLICA4["options"]["network.ping-timeout"] == "10"
    assert REPLICA4["options"]["performance.client-io-threads"] == "off"


@pytest.mark.parametrize("name, arbiters", [
    ("volume_info_arbiter_2data.xml", [False, False, True]),
    ("volume_info_dist_arbiter.xml", [False, False, True] * 2),
    ("volume_info_dist_replica_2x3.xml", [False] * 6),
])
def test_the_last_brick_of_each_arbiter_set_is_the_arbiter(name, arbiters):
    assert [b["arbiter"] for b in volume(name)["bricks"]] == arbiters


# --- volume status ----------------------------------------------------------------------

def test_volume_status_has_bricks_online_with_pid_and_port_and_every_heal_daemon():
    status = gv.parse_volume_status(recorded("status_replica3.xml"))
    assert status["10.213.1.13:" + PATH] == {"online": True, "pid": 1704, "port": 59922}
    daemons = [v for k, v in status.items() if k.startswith("Self-heal Daemon ")]
    assert len(daemons) == 5 and all(d["online"] and d["port"] is None for d in daemons)


def test_volume_status_detail_is_read_the_same_way():
    status = gv.parse_volume_status(recorded("status_detail_replica3.xml"))
    assert sorted(status) == ["10.213.1.1%d:%s" % (i, PATH) for i in (1, 2, 3)]
    assert all(v["online"] and v["pid"] for v in status.values())


def test_volume_status_of_a_grown_arbiter_volume_lists_all_six_bricks():
    status = gv.parse_volume_status(recorded("status_dist_arbiter.xml"))
    assert len([k for k in status if ":/" in k]) == 6


def test_a_node_whose_glusterd_is_down_has_no_brick_in_volume_status():
    status = gv.parse_volume_status(recorded("status_replica3_node3_down.xml"))
    assert "10.213.1.13:" + PATH not in status
    assert status["10.213.1.11:" + PATH]["online"]


# --- heal info --------------------------------------------------------------------------

def test_heal_info_with_node3_down_counts_pending_entries_on_the_others():
    heal = gv.parse_heal_info(recorded("heal_pending_replica3_node3_down.xml"),
                              recorded("heal_split_brain_replica3_node3_down.xml"))
    assert heal["10.213.1.11:" + PATH] == {"connected": True, "pending": 6, "split_brain": 0}
    assert heal["10.213.1.12:" + PATH] == {"connected": True, "pending": 6, "split_brain": 0}
    assert heal["10.213.1.13:" + PATH] == {"connected": False, "pending": None,
                                           "split_brain": None}


def test_heal_info_after_node3_returned_is_zero_everywhere():
    heal = gv.parse_heal_info(recorded("heal_clean_replica3.xml"),
                              recorded("heal_split_brain_replica3_clean.xml"))
    assert len(heal) == 3
    assert all(v == {"connected": True, "pending": 0, "split_brain": 0} for v in heal.values())


def test_heal_info_without_the_split_brain_answer_leaves_split_brain_unknown():
    heal = gv.parse_heal_info(recorded("heal_pending_replica3_node3_down.xml"))
    assert {v["split_brain"] for v in heal.values()} == {None}


def test_split_brain_answer_of_a_grown_arbiter_volume_names_every_brick():
    counts = gv.heal_counts(recorded("heal_split_brain_dist_arbiter.xml"))
    assert len(counts) == 6 and set(counts.values()) == {(True, 0)}


# --- planner: create, idempotence, state, options -----------------------------------------

def test_create_sets_options_then_starts():
    actions = gv.plan_volume(None, desired(replica=3, bricks=R3, auth_allow=["10.213.1.11"],
                                           options={"nfs.disable": True}), {})
    assert [a["action"] for a in actions] == ["create", "set", "set", "start"]
    assert gv.command_of("gv", actions[0]) == ["volume", "create", "gv", "replica", "3"] + [
        "10.213.1.1%d:%s" % (i, PATH) for i in (1, 2, 3)] + ["force"]
    assert (actions[1]["option"], actions[1]["value"]) == ("nfs.disable", "on")


@pytest.mark.parametrize("kw, command", [
    ({"replica": 3, "arbiter": 1, "force": False},
     ["volume", "create", "gv", "replica", "3", "arbiter", "1"]),
    ({"state": "stopped", "bricks": R3[:1], "force": False}, ["volume", "create", "gv"]),
])
def test_create_command_spells_the_layout(kw, command):
    actions = gv.plan_volume(None, desired(**dict({"bricks": R3}, **kw)), {})
    bricks_given = [gv.brick_name(b) for b in kw.get("bricks", R3)]
    assert gv.command_of("gv", actions[0]) == command + bricks_given
    assert ("start" in [a["action"] for a in actions]) == (kw.get("state") != "stopped")


def test_check_mode_prediction_of_a_create_matches_the_recorded_arbiter_volume():
    wanted = desired(name="gva", replica=3, arbiter=1, bricks=listed(ARBITER))
    after = gv.predict_volume(None, gv.plan_volume(None, wanted, {}), "gva")
    keys = ("status", "type", "replica", "arbiter", "brick_count")
    assert {k: after[k] for k in keys} == {k: ARBITER[k] for k in keys}
    assert [(b["name"], b["arbiter"]) for b in after["bricks"]] == [
        (b["name"], b["arbiter"]) for b in ARBITER["bricks"]]


@pytest.mark.parametrize("current, kw", [
    (REPLICA4, {"replica": 4, "bricks": listed(REPLICA4)}),
    # other order of the addresses, node1 by its name, no replica given
    (REPLICA4, {"bricks": [dict(b, host="node1") if b["host"] == "10.213.1.11" else b
                           for b in listed(REPLICA4)],
                "auth_allow": ["10.213.1.14", "10.213.1.13", "10.213.1.12", "10.213.1.11"],
                "options": {"network.ping-timeout": 10,
                            "performance.client-io-threads": False}}),
    (ARBITER, {"replica": 3, "arbiter": 1, "bricks": listed(ARBITER)}),
    (DIST_2X3, {"replica": 3, "bricks": listed(DIST_2X3)}),
    # without bricks the layout is not looked at
    (ARBITER, {"options": {"cluster.quorum-type": "auto"}}),
    (volume("volume_info_arbiter_stopped.xml"), {"state": "stopped"}),
    (volume("volume_info_distribute_created.xml"), {"name": "gvc", "state": "stopped"}),
])
def test_a_volume_already_as_desired_plans_nothing(current, kw):
    assert gv.plan_volume(current, desired(**kw), ADDRESSES) == []


@pytest.mark.parametrize("current, state, expected", [
    (volume("volume_info_arbiter_stopped.xml"), "started", [{"action": "start"}]),
    (volume("volume_info_distribute_created.xml"), "started", [{"action": "start"}]),
    (ARBITER, "stopped", [{"action": "stop"}]),
])
def test_start_and_stop(current, state, expected):
    assert gv.plan_volume(current, desired(state=state), {}) == expected


def test_only_changed_options_are_set_and_unlisted_ones_are_never_reset():
    actions = gv.plan_volume(REPLICA4, desired(options={
        "nfs.disable": "on", "network.ping-timeout": "20", "cluster.quorum-type": "auto"}), {})
    assert actions == [
        {"action": "set", "option": "network.ping-timeout", "value": "20", "before": "10"},
        {"action": "set", "option": "cluster.quorum-type", "value": "auto", "before": None}]
    assert gv.command_of("gv", actions[0]) == ["volume", "set", "gv", "network.ping-timeout",
                                               "20"]


@pytest.mark.parametrize("allow, changed", [
    (["10.213.1.14", "10.213.1.11", "10.213.1.13", "10.213.1.12"], False),
    (["10.213.1.11", "10.213.1.12", "10.213.1.13"], True),
    (["10.213.1.11", "10.213.1.12", "10.213.1.13", "10.213.1.14", "10.213.1.15"], True),
])
def test_auth_allow_is_compared_as_a_set(allow, changed):
    actions = gv.plan_volume(REPLICA4, desired(auth_allow=allow), {})
    assert bool(actions) == changed
    if changed:
        assert actions[0]["value"] == ",".join(allow)


# --- planner: growth ----------------------------------------------------------------------

def test_a_fourth_brick_raises_the_replica_to_4_and_prediction_matches_the_lab():
    wanted = desired(replica=4, bricks=R3 + bricks((14, PATH)))
    actions = gv.plan_volume(REPLICA3_LAB, wanted, ADDRESSES)
    assert actions == [{"action": "add-brick", "bricks": ["10.213.1.14:" + PATH],
                        "replica": 4, "force": True}]
    assert gv.command_of("gv", actions[0]) == ["volume", "add-brick", "gv", "replica", "4",
                                               "10.213.1.14:" + PATH, "force"]
    after = gv.predict_volume(REPLICA3_LAB, actions, "gv")
    assert [b["name"] for b in after["bricks"]] == [b["name"] for b in REPLICA4["bricks"]]


def test_raising_the_replica_of_2_sets_interleaves_new_bricks_as_gluster_does():
    grown = volume("volume_info_dist_replica_2x4.xml")
    new = bricks((12, "/srv/gluster/gv/d4"), (13, "/srv/gluster/gv/d4"))
    actions = gv.plan_volume(DIST_2X3, desired(replica=4, bricks=listed(DIST_2X3) + new), {})
    assert actions[0]["replica"] == 4 and len(actions[0]["bricks"]) == 2
    after = gv.predict_volume(DIST_2X3, actions, "gvd")
    assert [b["name"] for b in after["bricks"]] == [b["name"] for b in grown["bricks"]]
    assert gv.plan_volume(grown, desired(replica=4, bricks=listed(DIST_2X3) + new), {}) == []


def test_three_bricks_add_a_replica_set_to_an_arbiter_volume():
    new = bricks((13, "/srv/gluster/gv/a-data"), (14, "/srv/gluster/gv/a-data"),
                 (15, "/srv/gluster/arb/a-arbiter2"))
    actions = gv.plan_volume(ARBITER, desired(replica=3, arbiter=1,
                                              bricks=listed(ARBITER) + new), {})
    assert actions == [{"action": "add-brick", "bricks": [gv.brick_name(b) for b in new],
                        "replica": None, "force": True}]
    assert gv.command_of("gva", actions[0])[:4] == ["volume", "add-brick", "gva",
                                                    "10.213.1.13:/srv/gluster/gv/a-data"]
    after = gv.predict_volume(ARBITER, actions, "gva")
    assert (after["type"], [b["arbiter"] for b in after["bricks"]]) == (
        "Distributed-Replicate", [b["arbiter"] for b in volume(
            "volume_info_dist_arbiter.xml")["bricks"]])


def test_an_arbiter_turns_replica_2_into_replica_3_arbiter_1():
    wanted = desired(name="gv2", replica=3, arbiter=1,
                     bricks=listed(REPLICA2) + bricks((14, "/srv/gluster/arb/r2")))
    actions = gv.plan_volume(REPLICA2, wanted, {})
    assert gv.command_of("gv2", actions[0]) == [
        "volume", "add-brick", "gv2", "replica", "3", "arbiter", "1",
        "10.213.1.14:/srv/gluster/arb/r2", "force"]
    after = gv.predict_volume(REPLICA2, actions, "gv2")
    assert (after["replica"], after["arbiter"], after["bricks"][-1]["arbiter"]) == (3, 1, True)


# --- planner: refusals ----------------------------------------------------------------------

@pytest.mark.parametrize("kw, fragment", [
    ({"replica": 2, "bricks": R3[:2]}, "replica 2 without an arbiter"),
    ({"replica": 3, "bricks": R3[:2]}, "2 bricks do not make whole replica sets of 3"),
    ({"replica": 2, "arbiter": 1, "bricks": R3[:2]}, "an arbiter goes with replica 3"),
    ({"replica": 3, "bricks": R3[:2] + R3[:1]}, "bricks listed twice"),
    ({"replica": 3}, "list its bricks to create it"),
    ({"name": "gv;x", "replica": 3, "bricks": R3}, "volume name"),
    ({"replica": 3, "bricks": bricks((11, "srv/b"), (12, "/b"), (13, "/b"))}, "absolute path"),
    ({"replica": 3, "bricks": R3, "options": {"nfs.disable": ""}}, "non-empty value"),
    ({"replica": 3, "bricks": R3, "auth_allow": ["10.0.0.1,10.0.0.2"]}, "no spaces or commas"),
])
def test_unsound_requests_are_refused_before_anything_is_created(kw, fragment):
    with pytest.raises(gv.PlanError, match=fragment) as err:
        gv.plan_volume(None, desired(**kw), {})
    assert str(err.value).endswith("- nothing was changed")


def test_replica_2_with_explicit_acceptance_is_planned():
    actions = gv.plan_volume(None, desired(replica=2, bricks=R3[:2], allow_split_brain=True),
                             {})
    assert gv.command_of("gv", actions[0])[3:5] == ["replica", "2"]


@pytest.mark.parametrize("current, kw, fragment", [
    # a brick of the volume is not listed
    (REPLICA4, {"replica": 4, "bricks": listed(REPLICA4)[:3] + bricks((15, PATH))},
     "has bricks 10.213.1.14:/srv/gluster/gv/brick that are not listed"),
    # a new brick listed before the existing ones
    (REPLICA3_LAB, {"replica": 4, "bricks": bricks((14, PATH)) + R3},
     "new brick 10.213.1.14:/srv/gluster/gv/brick is listed before"),
    # another layout without new bricks
    (REPLICA4, {"replica": 3, "bricks": listed(REPLICA4)[:3]}, "not listed"),
    (REPLICA3_LAB, {"replica": 3, "arbiter": 1, "bricks": R3}, "needs bricks added with it"),
    # replica 3 -> 4 over two sets takes two bricks, not six
    (DIST_2X3, {"replica": 4, "bricks": listed(DIST_2X3) + bricks(
        (12, "/x"), (13, "/x"), (14, "/x"), (15, "/x"), (11, "/x"), (12, "/y"))},
     "exactly 2 new bricks"),
    # an arbiter volume neither drops nor changes its arbiter
    (ARBITER, {"replica": 3, "bricks": listed(ARBITER) + bricks(
        (13, "/x"), (14, "/x"), (15, "/x"))}, "stays one"),
    (REPLICA3_LAB, {"replica": 3, "arbiter": 1, "bricks": R3 + bricks(
        (14, "/x"), (15, "/x"), (11, "/x"))}, "added only to a replica 2 volume"),
    # lowering the replica count is remove-brick's job
    (REPLICA4, {"replica": 3, "bricks": listed(REPLICA4) + bricks((15, "/x"), (15, "/y"))},
     "remove-brick"),
])
def test_changes_add_brick_cannot_make_are_refused(current, kw, fragment):
    with pytest.raises(gv.PlanError, match=fragment):
        gv.plan_volume(current, desired(**kw), ADDRESSES)


@pytest.mark.parametrize("current, kw, expected", [
    (ARBITER, {"delete_volume": True}, [{"action": "stop"}, {"action": "delete"}]),
    (volume("volume_info_arbiter_stopped.xml"), {"delete_volume": True},
     [{"action": "delete"}]),
    (None, {}, []),
])
def test_absent_stops_and_deletes_only_with_delete_volume(current, kw, expected):
    assert gv.plan_volume(current, desired(state="absent", **kw), {}) == expected


def test_absent_without_delete_volume_is_refused_with_the_fix():
    with pytest.raises(gv.PlanError, match="only with delete_volume=true"):
        gv.plan_volume(ARBITER, desired(state="absent"), {})


def test_diff_shows_only_the_managed_options():
    view = gv.describe(REPLICA4, {"network.ping-timeout", "cluster.quorum-type"})
    assert view == {"status": "Started", "replica": 4, "arbiter": 0,
                    "bricks": [b["name"] for b in REPLICA4["bricks"]],
                    "options": {"cluster.quorum-type": None, "network.ping-timeout": "10"}}
    assert gv.describe(None, set()) == {}


# --- apply and wait, with the runner replaced ---------------------------------------------

class Runner:
    """Stands in for run_gluster: records argv, answers from a table, fails on demand."""

    def __init__(self, answers=None, fail_on=None):
        """answers: {(word, word): answer}; fail_on: the first two words that fail."""
        self.calls, self.answers, self.fail_on = [], answers or {}, fail_on

    def __call__(self, module, args, xml=True):
        """Record the call; GlusterError for fail_on, else the table's answer."""
        self.calls.append(list(args))
        if self.fail_on and args[:2] == self.fail_on:
            raise gl.GlusterError("%s failed" % " ".join(args))
        return self.answers.get(tuple(args[:2]), "" if not xml else None)


def test_a_replica_raise_is_followed_by_a_full_heal_once_the_new_brick_is_online(monkeypatch):
    runner = Runner({("volume", "info"): recorded("volume_info_replica4.xml"),
                     ("volume", "status"): recorded("status_replica4.xml")})
    monkeypatch.setattr(gv, "run_gluster", runner)
    actions = gv.plan_volume(REPLICA3_LAB, desired(replica=4, bricks=R3 + bricks((14, PATH))),
                             {})
    assert gv.apply_actions(None, "gv", actions) == actions
    assert [c[:2] for c in runner.calls] == [["volume", "add-brick"], ["volume", "info"],
                                             ["volume", "status"], ["volume", "heal"]]
    assert runner.calls[-1] == ["volume", "heal", "gv", "full"]


class StatusSequence(Runner):
    """Answers volume status from a list, one per call (the last one repeats)."""

    def __init__(self, answers, statuses):
        super().__init__(answers)
        self.statuses = list(statuses)

    def __call__(self, module, args, xml=True):
        if args[:2] == ["volume", "status"]:
            self.calls.append(list(args))
            return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return super().__call__(module, args, xml)


def test_a_reset_brick_is_healed_in_full_after_its_brick_comes_back(monkeypatch):
    """A reinstalled node's empty brick: an index heal alone left one entry pending for
    the daemon's next crawl in the lab (ten minutes), so the module heals in full, and
    only once volume status shows the brick online."""
    monkeypatch.setattr(gv.time, "sleep", lambda _s: None)
    lab = REPLICA3_LAB
    runner = StatusSequence({("volume", "info"): recorded("volume_info_replica3_options.xml")},
                            [recorded("status_replica3_node3_down.xml"),
                             recorded("status_replica3.xml")])
    monkeypatch.setattr(gv, "run_gluster", runner)
    held = lab["bricks"][2]
    current = dict(lab, offline=[held["name"]])
    actions = gv.plan_volume(current, desired(reset_bricks=[
        {"host": held["host"], "path": held["path"]}]), {held["host"]: [held["host"]]})
    assert actions == [{"action": "reset-brick", "brick": held["name"]}]
    gv.apply_actions(None, lab["name"], actions)
    words = [c[2] if c[1] == "reset-brick" else c[1] for c in runner.calls]
    assert words[:2] == [lab["name"], lab["name"]]
    assert [c[1] for c in runner.calls[2:]] == ["info", "status", "status", "heal"]
    assert runner.calls[-1] == ["volume", "heal", lab["name"], "full"]


def test_a_failed_action_reports_the_ones_done(monkeypatch):
    monkeypatch.setattr(gv, "run_gluster", Runner(fail_on=["volume", "start"]))
    actions = gv.plan_volume(None, desired(replica=3, bricks=R3), {})
    with pytest.raises(gl.GlusterError) as err:
        gv.apply_actions(None, "gv", actions)
    assert [a["action"] for a in err.value.details["done"]] == ["create"]


class SettlingRunner(Runner):
    """A create whose staging fails while a peer does not see another one yet (as
    glusterd 11 answered in the lab), then goes through; or never does."""

    def __init__(self, failures, message):
        super().__init__()
        self.failures, self.message = failures, message

    def __call__(self, module, args, xml=True):
        self.calls.append(list(args))
        if args[:2] == ["volume", "create"] and self.failures:
            self.failures -= 1
            raise gl.GlusterError(self.message)
        return None


STAGING = ("--mode=script --xml volume create dockerdir ... force failed: Staging failed on "
           "10.213.2.12. Error: Host 10.213.2.13 not connected")


def test_a_create_waits_while_a_peer_does_not_see_another_yet(monkeypatch):
    monkeypatch.setattr(gv.time, "sleep", lambda _s: None)
    runner = SettlingRunner(2, STAGING)
    monkeypatch.setattr(gv, "run_gluster", runner)
    actions = gv.plan_volume(None, desired(replica=3, bricks=R3), {})
    assert gv.apply_actions(None, "gv", actions) == actions
    assert [c[:2] for c in runner.calls].count(["volume", "create"]) == 3


def test_other_create_failures_and_a_peer_that_never_settles_fail(monkeypatch):
    monkeypatch.setattr(gv.time, "sleep", lambda _s: None)
    actions = gv.plan_volume(None, desired(replica=3, bricks=R3), {})
    runner = SettlingRunner(5, "volume create: gv: failed: brick is already part of a volume")
    monkeypatch.setattr(gv, "run_gluster", runner)
    with pytest.raises(gl.GlusterError):
        gv.apply_actions(None, "gv", actions)
    assert len(runner.calls) == 1
    clock = iter(range(0, 1000, 30))
    monkeypatch.setattr(gv.time, "time", lambda: next(clock))
    monkeypatch.setattr(gv, "run_gluster", SettlingRunner(100, STAGING))
    with pytest.raises(gl.GlusterError, match="not connected"):
        gv.apply_actions(None, "gv", actions)


def test_waiting_for_bricks_names_the_offline_one(monkeypatch):
    down = recorded("status_replica3_node3_down.xml")
    monkeypatch.setattr(gv, "run_gluster", Runner({("volume", "status"): down}))
    with pytest.raises(gl.GlusterError, match=r"not online after 0s: 10\.213\.1\.13:/srv"):
        gv.wait_bricks_online(None, REPLICA3_LAB, 0)


@pytest.mark.parametrize("status, vol", [("status_replica3.xml", REPLICA3_LAB),
                                         ("status_replica4.xml", REPLICA4)])
def test_waiting_ends_once_every_brick_is_online(monkeypatch, status, vol):
    runner = Runner({("volume", "status"): recorded(status)})
    monkeypatch.setattr(gv, "run_gluster", runner)
    gv.wait_bricks_online(None, vol, 0)
    assert runner.calls == [["volume", "status", "gv"]]


def removing(*specs, **kw):
    """Parameters that take bricks out of the volume."""
    return desired(remove_bricks=bricks(*specs), force=False, **kw)


def test_removing_a_brick_of_replica_4_lowers_it_to_3_and_prediction_matches():
    actions = gv.plan_volume(REPLICA4, removing((14, PATH)), ADDRESSES)
    assert actions == [{"action": "remove-brick", "replica": 3, "force": True,
                        "bricks": ["10.213.1.14:" + PATH]}]
    assert gv.command_of("gv", actions[0]) == [
        "volume", "remove-brick", "gv", "replica", "3", "10.213.1.14:" + PATH, "force"]
    after = gv.predict_volume(REPLICA4, actions, "gv")
    assert (after["replica"], after["brick_count"], after["type"]) == (3, 3, "Replicate")
    assert [b["name"] for b in after["bricks"]] == [b["name"] for b in REPLICA3_LAB["bricks"]]


def test_a_brick_named_by_host_name_is_matched_through_the_nodes_resolution():
    wanted = desired(remove_bricks=[{"host": "node4", "path": PATH}])
    assert gv.plan_volume(REPLICA4, wanted, ADDRESSES)[0]["bricks"] == ["10.213.1.14:" + PATH]


def test_a_brick_already_removed_plans_nothing():
    assert gv.plan_volume(REPLICA3_LAB, removing((14, PATH)), ADDRESSES) == []


def test_replica_3_to_2_is_refused_unless_split_brain_is_accepted():
    with pytest.raises(gv.PlanError) as err:
        gv.plan_volume(REPLICA3_LAB, removing((13, PATH)), ADDRESSES)
    assert "replica 3 -> 2 without an arbiter is split-brain-prone" in str(err.value)
    assert "replace_node.yml" in str(err.value) and "nothing was changed" in str(err.value)
    actions = gv.plan_volume(REPLICA3_LAB, removing((13, PATH), allow_split_brain=True),
                             ADDRESSES)
    assert actions[0]["replica"] == 2


def test_a_data_brick_of_an_arbiter_volume_is_replaced_not_removed():
    with pytest.raises(gv.PlanError) as err:
        gv.plan_volume(ARBITER, removing((12, "/srv/gluster/gv/a-data"),
                                         allow_split_brain=True), ADDRESSES)
    assert "a data brick of an arbiter volume is replaced" in str(err.value)


def test_the_arbiter_goes_only_with_split_brain_accepted_and_leaves_plain_replica_2():
    spec = (15, "/srv/gluster/arb/a-arbiter")
    with pytest.raises(gv.PlanError, match="replica 3 arbiter 1 -> 2"):
        gv.plan_volume(ARBITER, removing(spec), ADDRESSES)
    actions = gv.plan_volume(ARBITER, removing(spec, allow_split_brain=True), ADDRESSES)
    after = gv.predict_volume(ARBITER, actions, "gv")
    assert (after["replica"], after["arbiter"], after["brick_count"]) == (2, 0, 2)


def test_removal_takes_as_many_bricks_of_every_replica_set():
    with pytest.raises(gv.PlanError, match="the same number of bricks out of every replica"):
        gv.plan_volume(DIST_2X3, removing((13, "/srv/gluster/gv/d1"),
                                          allow_split_brain=True), ADDRESSES)
    actions = gv.plan_volume(DIST_2X3, removing((11, "/srv/gluster/gv/d1"),
                                                (11, "/srv/gluster/gv/d2"),
                                                allow_split_brain=True), ADDRESSES)
    assert actions[0]["bricks"] == ["10.213.1.11:/srv/gluster/gv/d1",
                                    "10.213.1.11:/srv/gluster/gv/d2"]
    after = gv.predict_volume(DIST_2X3, actions, "gv")
    assert (after["replica"], after["brick_count"], after["type"]) == \
        (2, 4, "Distributed-Replicate")


def test_two_bricks_of_a_set_go_in_one_remove_brick_only_with_split_brain_accepted():
    two = ((12, PATH), (13, PATH))
    with pytest.raises(gv.PlanError, match="replica 3 -> 1 without an arbiter"):
        gv.plan_volume(REPLICA3_LAB, removing(*two), ADDRESSES)
    actions = gv.plan_volume(REPLICA3_LAB, removing(*two, allow_split_brain=True), ADDRESSES)
    assert actions == [{"action": "remove-brick", "replica": 1, "force": True,
                        "bricks": ["10.213.1.12:" + PATH, "10.213.1.13:" + PATH]}]
    assert gv.command_of("gv", actions[0])[:5] == ["volume", "remove-brick", "gv",
                                                   "replica", "1"]
    after = gv.predict_volume(REPLICA3_LAB, actions, "gv")
    assert (after["replica"], after["brick_count"]) == (1, 1)


def test_every_brick_of_a_set_is_never_removed():
    with pytest.raises(gv.PlanError, match="every brick of a replica set would go"):
        gv.plan_volume(REPLICA3_LAB, removing((11, PATH), (12, PATH), (13, PATH),
                                              allow_split_brain=True), ADDRESSES)


def test_uneven_removal_across_sets_is_refused():
    with pytest.raises(gv.PlanError, match="the same number of bricks"):
        gv.plan_volume(DIST_2X3, removing((11, "/srv/gluster/gv/d1"),
                                          (12, "/srv/gluster/gv/d1"),
                                          (11, "/srv/gluster/gv/d2"),
                                          allow_split_brain=True), ADDRESSES)


def replacing(*pairs):
    """Parameters that move bricks: ((old octet, path), (new octet, path)) pairs."""
    return desired(force=False, replace_bricks=[
        {"old": bricks(old)[0], "new": bricks(new)[0]} for old, new in pairs])


def test_replacing_a_brick_keeps_its_place_in_the_replica_set():
    actions = gv.plan_volume(REPLICA3_LAB, replacing(((13, PATH), (16, PATH))), ADDRESSES)
    assert actions == [{"action": "replace-brick", "old": "10.213.1.13:" + PATH,
                        "new": "10.213.1.16:" + PATH}]
    assert gv.command_of("gv", actions[0]) == [
        "volume", "replace-brick", "gv", "10.213.1.13:" + PATH, "10.213.1.16:" + PATH,
        "commit", "force"]
    after = gv.predict_volume(REPLICA3_LAB, actions, "gv")
    assert [b["name"] for b in after["bricks"]] == [
        "10.213.1.11:" + PATH, "10.213.1.12:" + PATH, "10.213.1.16:" + PATH]
    assert gv.started_bricks(after, actions) == ["10.213.1.16:" + PATH]


def first_node_dead():
    """The lab volume, replica 3 on node1..3, after node1 (the first storage node, which
    probed the others) died and node5 was probed in from node2: node2's pool list and
    volume info, node1's brick set back in the info (it was recorded after the manual
    replace-brick that proved the cause)."""
    vol = volume("volume_info_first_node_replaced.xml")
    vol["bricks"][0] = dict(vol["bricks"][0], host="10.213.0.11",
                            name="10.213.0.11:/srv/gluster/dockerdir/brick",
                            uuid="0645c2a4-4a15-4679-8b4f-ffc08094c0d8")
    vol["pool"] = gp.parse_pool_list(recorded("pool_list_first_node_dead_from_node2.xml"))
    return vol


def test_a_dead_first_nodes_brick_is_named_as_the_pool_knows_its_node():
    # node2 knows node1 as "node1" (its /etc/hosts name for 10.213.0.11), and so does node5,
    # which cannot resolve it: named by its address, glusterd on node5 failed "brick:
    # 10.213.0.11:... does not exist in volume"; named node1:..., the replace-brick passed.
    brick = "/srv/gluster/dockerdir/brick"
    seen_by_node5 = gp.parse_pool_list(recorded("pool_list_first_node_dead_from_node5.xml"))
    assert [p["hostnames"] for p in seen_by_node5
            if p["uuid"] == "0645c2a4-4a15-4679-8b4f-ffc08094c0d8"] == [["node1"]]
    new5 = {"host": "10.213.0.15", "path": brick}
    actions = gv.plan_volume(first_node_dead(), desired(force=False, replace_bricks=[
        {"old": {"host": "10.213.0.11", "path": brick}, "new": new5}]), {})
    assert actions == [{"action": "replace-brick", "old": "10.213.0.11:" + brick,
                        "old_as": "node1:" + brick, "new": "10.213.0.15:" + brick}]
    assert gv.command_of("dockerdir", actions[0])[3:5] == ["node1:" + brick,
                                                           "10.213.0.15:" + brick]
    assert [b["name"] for b in gv.predict_volume(first_node_dead(), actions, "dockerdir")[
        "bricks"]] == ["10.213.0.15:" + brick, "10.213.0.12:" + brick, "10.213.0.13:" + brick]


def test_a_dead_first_nodes_brick_is_removed_under_the_name_the_pool_knows():
    brick = "/srv/gluster/dockerdir/brick"
    [action] = gv.plan_volume(first_node_dead(), desired(
        force=False, allow_split_brain=True,
        remove_bricks=[{"host": "10.213.0.11", "path": brick}]), {})
    assert action["bricks"] == ["10.213.0.11:" + brick]
    assert gv.command_of("dockerdir", action) == [
        "volume", "remove-brick", "dockerdir", "replica", "2", "node1:" + brick, "force"]


def test_a_brick_whose_node_the_pool_knows_by_its_address_keeps_its_name():
    brick = "/srv/gluster/dockerdir/brick"
    actions = gv.plan_volume(first_node_dead(), desired(force=False, replace_bricks=[
        {"old": {"host": "10.213.0.13", "path": brick},
         "new": {"host": "10.213.0.15", "path": brick}}]), {})
    assert "old_as" not in actions[0]
    assert gv.command_of("dockerdir", actions[0])[3] == "10.213.0.13:" + brick


def test_a_replacement_already_done_plans_nothing():
    assert gv.plan_volume(REPLICA3_LAB, replacing(((16, PATH), (13, PATH))), ADDRESSES) == []


def test_a_replacement_onto_a_brick_of_the_volume_or_from_nowhere_is_refused():
    with pytest.raises(gv.PlanError, match="holds both"):
        gv.plan_volume(REPLICA3_LAB, replacing(((13, PATH), (12, PATH))), ADDRESSES)
    with pytest.raises(gv.PlanError, match="holds neither"):
        gv.plan_volume(REPLICA3_LAB, replacing(((15, PATH), (16, PATH))), ADDRESSES)


# --- reset-brick of an emptied brick ------------------------------------------------------

def offline(volume_dict, *octets):
    """The volume as the module reads it with reset_bricks: its offline bricks beside."""
    return dict(volume_dict, offline=["10.213.1.%d:%s" % (o, PATH) for o in octets])


def test_an_offline_emptied_brick_is_reset_in_two_steps_and_waited_for():
    actions = gv.plan_volume(offline(REPLICA3_LAB, 13),
                             desired(force=False, reset_bricks=bricks((13, PATH))), ADDRESSES)
    brick = "10.213.1.13:" + PATH
    assert actions == [{"action": "reset-brick", "brick": brick}]
    assert gv.commands_of("gv", actions[0]) == [
        ["volume", "reset-brick", "gv", brick, "start"],
        ["volume", "reset-brick", "gv", brick, brick, "commit", "force"]]
    assert gv.predict_volume(REPLICA3_LAB, actions, "gv")["bricks"] == REPLICA3_LAB["bricks"]
    assert gv.started_bricks(REPLICA3_LAB, actions) == [brick]


def test_an_online_brick_is_never_reset():
    assert gv.plan_volume(offline(REPLICA3_LAB, 12), desired(
        force=False, reset_bricks=bricks((13, PATH))), ADDRESSES) == []


def test_a_brick_the_volume_does_not_hold_is_not_reset():
    with pytest.raises(gv.PlanError, match="holds no brick 10.213.1.15:" + PATH):
        gv.plan_volume(offline(REPLICA3_LAB, 13), desired(
            force=False, reset_bricks=bricks((15, PATH))), ADDRESSES)
