"""The day-2 playbooks on one lab, in order: remove, replace, wipe, restart, recover, reset.

Run by molecule/lifecycle's verify step on the lab it converged (SWARMOPS_LAB_NAME; three
managers node1-3, two workers node4-5, storage node1-4: a replica 4 volume), or by hand:
  SWARMOPS_LAB_NAME=L SWARMOPS_LAB_STORAGE=node1,node2,node3,node4 \
    pytest -p no:cacheprovider -v tests/lifecycle/test_lifecycle.py
Each test is one step and starts from the state the one before left; after a failure the
rest are skipped (conftest.py). A step whose playbook does not exist yet fails before it
changes anything, so the steps after it still run.

The order, and why:
 1. baseline: health passes, the first files. Bad input that needs a healthy cluster with
    a leader: recover.yml (refused while a leader exists) and remove_node.yml of a host the
    inventory does not have.
 2. remove the live worker node5 (not a storage node: the volume keeps its four bricks);
    the worker token it could have kept is refused after (remove_node.yml rotates both).
    Then rotate.yml -e ca=yes: new tokens, every node on a certificate of a new root CA.
 3. stop the manager node3 and remove it as dead (replica 4 -> 3, no allow_split_brain).
    Two managers are left for a moment: nothing here runs site.yml (which refuses an even
    count) before the next step puts the third back.
 4. grow node6, a bare manager (the inventory has three managers again): remove_node.yml
    of a node never provisioned is refused; then site.yml provisions node6 as manager and
    storage node (replica 4 again). node6 is grown only after node3 is removed, because
    remove_node.yml ends with the health report, which counts an inventory host that was
    never provisioned (no mount) as unhealthy. One fresh node serves both steps.
 5. replace: grow node7, stop node6 (the manager added in step 4, not node1 or node2:
    the inventory's macvlan is configured on those two by name) and replace the dead node6
    with node7 (replace_node.yml; refused first onto node2, a node already in the
    cluster). Its brick must be healed onto node7.
 6. stop the worker node4: upgrade.yml refuses an unhealthy cluster. Then wipe node4 (a
    host reinstalled under the same name and address, its brick directory gone with it)
    and re-run site.yml: the stale swarm entry goes, node4 joins again, its glusterd takes
    its old UUID back (gluster_rejoin) and its empty brick is reset in place and healed.
    The stopped node and the wipe are one lab operation this way.
 7. rolling restart for a daemon.json change (site.yml, log-opts max-file) with an HTTP
    probe on every node once a second, then 8. upgrade.yml restart_only the same way: both
    need three managers and every node, so they come before recover.
 9. recover: stop two of the three managers (node2, node7; node1 survives: it holds the
    volume's first brick, so the volume keeps client quorum with half its bricks) and run
    recover.yml: one manager, services answer. recover.yml leaves the lost managers'
    bricks in the volume, so both leave in one remove_node.yml run as dead nodes
    (node=node2,node7, so that its closing health report judges the cluster without
    either): replica 4 -> 2, refused first and then run with allow_split_brain=yes. They
    leave the inventory right after, as remove_node.yml asks.
    The cluster is left with one manager and one worker (replica 2): the next steps need
    no more, and one manager is what the last-manager refusal needs.
10. bad input that needs one manager: remove_node.yml of the last manager; reset.yml
    without confirmation (stdin is no TTY: the prompt gets no answer).
11. reset.yml: no swarm, no mount or fstab line, no volume, no peers, no /etc/hosts block,
    and the files still in the bricks.
12. reset.yml -e wipe_data=yes on the reset hosts: the old bricks (their volume-id is all
    that says they are bricks now) and /var/lib/docker go; a directory at the configured
    arbiter path that is no brick stays.
After every step that leaves the cluster whole: site.yml re-runs with changed=0, health.yml
passes and every file written so far (5 before and 5 after each step, one a second during
its playbook, through node1) reads back unchanged on every node's mount and, after the
steps that move bricks, in every brick.
"""

import json
import os
import time

import pytest
import yaml

from harness import (BRICK_DATA_DIR, HOSTS_MARKER, MOUNT_POINT, ROOT, STATE, Disruption,
                     HarnessError, Suite, check_layout, data_problems, engine_windows, hostname,
                     on_node, overlapping_managers, swarm_nodes, verify, wait_down, wait_until)
from probe import Probe, analyse, ask

# In a lab with autolock on (SWARMOPS_LAB_AUTOLOCK=1), the options that turn it off.
AUTOLOCK_OFF = ["-e", "swarmops_swarm_autolock=false"] \
    if os.environ.get("SWARMOPS_LAB_AUTOLOCK") == "1" else []

if os.environ.get("SWARMOPS_BYOH_INVENTORY"):
    pytest.skip("the lifecycle suite removes, wipes and resets nodes and grows the lab: it "
                "runs only on a lab, never on your own hosts (SWARMOPS_BYOH_INVENTORY)",
                allow_module_level=True)

INCREMENTAL = True
WEB_ENV = ROOT / "tests" / "lab" / "stacks" / "web" / ".env"


@pytest.fixture(name="suite", scope="module")
def fixture_suite(lab, ledger, report):
    """The steps' shared tools, on a lab of molecule/lifecycle's layout."""
    check_layout(lab, (["node1", "node2", "node3"], ["node4", "node5"],
                       ["node1", "node2", "node3", "node4"]), "molecule/lifecycle")
    return Suite(lab, ledger, report)


def web_port():
    """The web stack's host-mode port (WEB_PORT of its .env)."""
    for line in WEB_ENV.read_text().splitlines():
        if line.startswith("WEB_PORT="):
            return int(line.split("=", 1)[1].strip().strip("\"'"))
    raise AssertionError(f"no WEB_PORT in {WEB_ENV}")


def web_answers(suite, node):
    """True when the web service answers on a node's host-mode port."""
    return ask(f"http://{suite.lab.address(node)}:{web_port()}/", timeout=10)[0]


# --- 1. baseline -----------------------------------------------------------------------------

def test_baseline_is_healthy(suite):
    """The converged cluster is healthy and holds the first files."""
    suite.healthy("01-baseline")
    suite.write_files("01-baseline", "before")
    suite.check_data("01-baseline")


def test_refuses_recover_while_a_leader_exists(suite):
    """recover.yml refuses a swarm that still has a raft leader."""
    # With autolock on, recover.yml refuses for that first (step 08-recover-autolocked).
    suite.refused("01-bad-recover-with-leader", "recover.yml", "-e", "confirm=yes",
                  *AUTOLOCK_OFF, expect="the swarm has a raft leader")


def test_refuses_removing_a_host_not_in_the_inventory(suite):
    """remove_node.yml refuses a name the inventory does not have."""
    suite.refused("01-bad-remove-unknown-host", "remove_node.yml", "-e", "node=node99",
                  "-e", "confirm=yes", expect="node99 is not a host of the inventory")


# --- 2. remove a live worker -------------------------------------------------------------------

def join_with(suite, node, token):
    """(joined, what the engine said) when node joins node1's swarm with token; the token
    goes on stdin, as the collection passes it."""
    manager = f"{suite.lab.address('node1')}:2377"
    try:
        out = on_node(suite.lab, node, f"docker swarm join --token \"$(cat)\" {manager}",
                      timeout=60, stdin=token.encode())
    except HarnessError as err:
        return False, str(err)
    return True, out


def test_remove_a_live_worker(suite):
    """node5 leaves while files are written; nothing is lost, a re-run changes nothing.
    node5 cannot join again with the worker token it could have kept: the other nodes'
    firewalls shut it out of the cluster's ports (its join times out), and the token itself
    was rotated by remove_node.yml."""
    step, lab = "02-remove-live-worker", suite.lab
    suite.write_files(step, "before")
    kept = on_node(lab, "node1", "docker swarm join-token -q worker").strip()
    suite.apply(step, "remove_node.yml", "-e", "node=node5", "-e", "confirm=yes")
    joined, said = join_with(suite, "node5", kept)
    suite.report.put(step, "old_token_join", said.strip()[-300:])
    if joined:
        on_node(lab, "node5", "docker swarm leave --force")
    assert not joined, said
    # Without the firewall (swarmops_firewall_enabled: false) the swarm refuses the token.
    assert "timeout was reached" in said.lower() or "join token" in said.lower(), said
    assert on_node(lab, "node1", "docker swarm join-token -q worker").strip() != kept
    lab.forget("node5")
    assert hostname(suite, "node5") not in swarm_nodes(suite)
    suite.settled(step)


def join_tokens(lab):
    """The swarm's worker and manager join tokens, read on node1."""
    return on_node(lab, "node1", "docker swarm join-token -q worker; "
                                 "docker swarm join-token -q manager").split()


def trust_roots(lab):
    """({the root CA each node trusts}, the swarm's root CA), read on node1."""
    nodes = on_node(lab, "node1", "docker node inspect $(docker node ls -q) --format "
                                  "'{{json .Description.TLSInfo.TrustRoot}}'")
    swarm = on_node(lab, "node1",
                    "docker info --format '{{json .Swarm.Cluster.TLSInfo.TrustRoot}}'")
    return {json.loads(line) for line in nodes.splitlines() if line}, json.loads(swarm)


def test_rotate_tokens_and_the_root_ca(suite):
    """rotate.yml -e ca=yes: new join tokens, every node on a certificate of a new root,
    the services keep answering, and the cluster is as healthy as before."""
    step, lab = "02-rotate", suite.lab
    tokens, old_root = join_tokens(lab), trust_roots(lab)[1]
    result = suite.apply(step, "rotate.yml", "-e", "ca=yes")
    assert "SWMTKN" not in result.output
    new_tokens = join_tokens(lab)
    assert len(new_tokens) == 2 and not set(new_tokens) & set(tokens)
    nodes_roots, root = trust_roots(lab)
    assert nodes_roots == {root} and root != old_root, (nodes_roots, root, old_root)
    assert web_answers(suite, "node1")
    suite.rerun_unchanged(step)
    suite.healthy(step)


# --- 3. remove a dead manager --------------------------------------------------------------

def test_remove_a_dead_manager(suite):
    """node3 dies and is removed as dead (replica 4 -> 3); two managers are left."""
    step, lab = "03-remove-dead-manager", suite.lab
    suite.write_files(step, "before")
    lab.stop("node3")
    wait_down(suite, "node3")
    suite.apply(step, "remove_node.yml", "-e", "node=node3", "-e", "confirm=yes")
    lab.forget("node3")
    lab.storage = [n for n in lab.storage if n != "node3"]
    lab.refresh()
    assert hostname(suite, "node3") not in swarm_nodes(suite)
    suite.write_files(step, "after")
    suite.check_data(step, bricks=True)


# --- 4. a fresh manager in its place -----------------------------------------------------------

def test_refuses_removing_a_node_not_in_the_swarm(suite):
    """remove_node.yml refuses a host in the inventory that was never provisioned."""
    suite.require("remove_node.yml")
    # node6 is also the manager that site.yml provisions next, in node3's place.
    suite.lab.grow("swarm_managers", "node6")
    suite.refused("04-bad-remove-unprovisioned", "remove_node.yml", "-e", "node=node6",
                  "-e", "confirm=yes", expect="neither in the swarm nor in the storage pool")


def test_site_provisions_a_new_manager_in_its_place(suite):
    """site.yml joins node6 as manager and storage node: three managers, replica 4."""
    step, lab = "04-new-manager", suite.lab
    suite.require("site.yml")
    lab.storage = lab.storage + ["node6"]
    lab.refresh()
    suite.write_files(step, "before")
    suite.apply(step, "site.yml")
    managers = {h: m for h, (_s, m) in swarm_nodes(suite).items() if m}
    assert len(managers) == 3 and hostname(suite, "node6") in managers, managers
    suite.settled(step, bricks=True)


# --- 5. replace a dead manager -----------------------------------------------------------------

def test_refuses_replacing_onto_a_node_in_the_cluster(suite):
    """replace_node.yml refuses a new node that is already a cluster member."""
    lab = suite.lab
    suite.require("replace_node.yml")
    lab.grow("swarm_managers", "node7")
    lab.stop("node6")
    wait_down(suite, "node6")
    lab.storage = lab.storage + ["node7"]
    lab.refresh()
    suite.refused("05-bad-replace-onto-member", "replace_node.yml", "-e", "old=node6",
                  "-e", "new=node2", "-e", "confirm=yes", expect="node2 is already in a swarm")


def test_replace_a_dead_manager_with_a_fresh_node(suite):
    """The dead node6 is replaced by node7: its role, its brick healed onto node7."""
    step, lab = "05-replace-dead-manager", suite.lab
    suite.require("replace_node.yml")
    suite.write_files(step, "before")
    suite.apply(step, "replace_node.yml", "-e", "old=node6", "-e", "new=node7",
                "-e", "confirm=yes")
    lab.forget("node6")
    lab.storage = [n for n in lab.storage if n != "node6"]
    lab.refresh()
    nodes = swarm_nodes(suite)
    assert hostname(suite, "node6") not in nodes
    assert nodes[hostname(suite, "node7")][1] in ("Reachable", "Leader"), nodes
    suite.settled(step, bricks=True)


# --- 6. a stopped worker, then the same node reinstalled ---------------------------------------

def test_refuses_upgrade_with_a_stopped_worker(suite):
    """upgrade.yml refuses to start while a worker is down."""
    suite.require("upgrade.yml")
    suite.lab.stop("node4")
    suite.refused("06-bad-upgrade-unhealthy", "upgrade.yml", "-e", "confirm=yes",
                  expect="The cluster is unhealthy")


def test_site_takes_a_reinstalled_storage_node_back_in_place(suite):
    """node4 wiped (reinstalled under its name and address, its brick directory empty):
    site.yml alone takes it back - the swarm's stale entry removed, the old glusterd UUID
    restored, the brick reset onto the empty directory and healed with every file."""
    step = "06-wipe-and-site"
    suite.require("site.yml")
    suite.write_files(step, "before")
    suite.lab.wipe("node4")
    suite.apply(step, "site.yml")
    names = on_node(suite.lab, "node1", "docker node ls --format '{{.Hostname}}'").split()
    assert names.count(hostname(suite, "node4")) == 1, names
    suite.rerun_unchanged(step)
    suite.check_data(step, bricks=True)
    suite.healthy(step, settle=180)
    suite.write_files(step, "after")
    suite.check_data(step, bricks=True)


# --- 7, 8. rolling restarts under an HTTP probe ------------------------------------------------

def changed_daemon_options():
    """The lab's daemon.json options with log-opts max-file changed, as extra vars."""
    group_vars = yaml.safe_load((ROOT / "inventories/lab/group_vars/all.yml").read_text())
    options = group_vars["swarmops_docker_daemon_options"]
    options["log-opts"]["max-file"] = str(int(options["log-opts"]["max-file"]) + 2)
    path = STATE / "lifecycle-daemon-options.json"
    path.write_text(json.dumps({"swarmops_docker_daemon_options": options}))
    return ["-e", f"@{path}"]


def probed(suite, step, playbook, *options):
    """Run a rolling playbook while the probe asks the web service on every node; return
    the probe's analysis beside the engines' restart windows (recorded and printed)."""
    lab = suite.lab
    targets = {n: f"http://{lab.address(n)}:{web_port()}/" for n in lab.nodes}
    started = time.time()
    probe = Probe(targets).start()
    try:
        suite.apply(step, playbook, *options)
        time.sleep(3)  # the last node's tail
    finally:
        samples = probe.stop()
    windows = {n: engine_windows(lab, n, started - 1) for n in lab.nodes}
    result = analyse(samples, windows)
    result["manager_overlaps"] = overlapping_managers(windows, lab.managers)
    suite.report.put(step, "probe", result)
    print(f"{step}: {result['total']} requests, {result['failed']} failed, "
          f"{result['failed_outside_engine_down']} while the node's own engine was up, "
          f"{result['failed_outside_restart']} outside the node's own restart, "
          f"{result['failed_on_others_while_restarting']} while another node's engine was "
          f"down; at most {result['max_nodes_failing_at_once']} nodes failing at once")
    for node, numbers in result["per_node"].items():
        print(f"  {node}: {numbers}")
    return result, windows


def assert_rolled(suite, result, windows):
    """Every engine restarted, never two managers at a time, and no request failed on a
    node except around its own restart. Checked last: the lab is fine either way, so a
    miss is a Disruption and the steps after still run."""
    if not all(windows.get(n) for n in suite.lab.nodes):
        raise Disruption(f"not every engine restarted: {windows}")
    if result["manager_overlaps"]:
        raise Disruption(f"managers restarted at the same time: {result['manager_overlaps']}")
    if result["failed_outside_restart"] or result["failed_on_others_while_restarting"]:
        raise Disruption(
            f"{result['failed_outside_restart']} requests failed outside their node's own "
            f"restart, {result['failed_on_others_while_restarting']} while another node's "
            f"engine was down: {result['outside_samples'] or result['others_samples']}")


def test_rolling_restart_for_a_daemon_json_change(suite):
    """A daemon.json change restarts one engine at a time; the others keep serving."""
    step = "07-rolling-restart-daemon-json"
    suite.require("site.yml")
    suite.write_files(step, "before")
    options = changed_daemon_options()
    result, windows = probed(suite, step, "site.yml", *options)
    # From now on site.yml keeps the new daemon.json.
    suite.lab.extra_vars = options
    suite.settled(step)
    assert_rolled(suite, result, windows)


def test_rolling_restart_with_upgrade_restart_only(suite):
    """upgrade.yml restart_only drains and restarts one node at a time."""
    step = "08-upgrade-restart-only"
    suite.require("upgrade.yml")
    suite.write_files(step, "before")
    result, windows = probed(suite, step, "upgrade.yml", "-e", "confirm=yes",
                             "-e", "restart_only=yes")
    suite.settled(step)
    assert_rolled(suite, result, windows)


def swarm_state(suite, node):
    """The node's LocalNodeState, read on the node."""
    return on_node(suite.lab, node, "docker info --format '{{.Swarm.LocalNodeState}}'").strip()


def test_a_manager_restarted_by_hand_stays_locked_until_unlock_yml(suite):
    """Autolock: an engine restarted outside a playbook (as by a reboot) comes back locked,
    the health report names it, and unlock.yml unlocks it with the vaulted key."""
    step, lab = "08-unlock", suite.lab
    if not AUTOLOCK_OFF:
        pytest.skip("autolock is off in this lab (SWARMOPS_LAB_AUTOLOCK)")
    suite.require("unlock.yml")
    manager = [m for m in lab.managers if m != "node1"][0]
    on_node(lab, manager, "systemctl restart docker")
    wait_until(f"{manager} to come back locked",
               lambda: swarm_state(suite, manager) == "locked", timeout=120)
    health = suite.playbook(step, "health.yml")
    assert health.rc != 0 and "playbooks/unlock.yml" in health.output, health.tail()
    result = suite.apply(step, "unlock.yml")
    assert "SWMKEY" not in result.output
    assert swarm_state(suite, manager) == "active"
    suite.settled(step)


def test_recover_refuses_an_autolocked_swarm_then_autolock_goes_off(suite):
    """Docker cannot force a new cluster from an autolocked manager (moby/moby#36852):
    recover.yml refuses before any change. site.yml then turns autolock off (while the
    swarm has its leader), so the next step can recover."""
    step, lab = "08-recover-autolocked", suite.lab
    if not AUTOLOCK_OFF:
        pytest.skip("autolock is off in this lab (SWARMOPS_LAB_AUTOLOCK)")
    suite.refused(step, "recover.yml", "-e", "confirm=yes", expect="moby/moby#36852")
    lab.extra_vars = list(lab.extra_vars) + AUTOLOCK_OFF
    suite.apply("08-autolock-off", "site.yml")
    spec = on_node(lab, "node1", "docker info --format "
                                 "'{{.Swarm.Cluster.Spec.EncryptionConfig.AutoLockManagers}}'")
    assert spec.strip() == "false", spec
    suite.settled("08-autolock-off")


# --- 9. recover the swarm from one manager -----------------------------------------------------

def no_leader(suite):
    """True when node1 answers that its swarm has no leader (the majority is lost)."""
    out = on_node(suite.lab, "node1", "docker node ls >/dev/null 2>&1 && echo leader "
                  "|| echo none")
    return out.strip() == "none"


def test_recover_after_losing_two_managers(suite):
    """Two managers die; recover.yml makes node1 the only manager of the same swarm."""
    step, lab = "09-recover", suite.lab
    suite.require("recover.yml")
    lost = lost_managers(suite)
    assert len(lost) == 2, lab.managers
    suite.write_files(step, "before")
    lab.stop(*lost)
    wait_until("node1 to lose its leader", lambda: no_leader(suite), timeout=120)
    suite.apply(step, "recover.yml", "-e", "confirm=yes")
    managers = {h: m for h, (_s, m) in swarm_nodes(suite).items() if m}
    assert managers == {hostname(suite, "node1"): "Leader"}, managers
    # The new cluster listens where the old one did: on node1's address, not 0.0.0.0.
    listeners = on_node(lab, "node1", "ss -Hltn 'sport = :2377'").split()
    assert f"{lab.address('node1')}:2377" in listeners, listeners
    assert not {"*:2377", "0.0.0.0:2377", "[::]:2377"} & set(listeners), listeners
    assert all(web_answers(suite, node) for node in lab.nodes if lab.running(node))
    suite.write_files(step, "after")
    suite.check_data(step, nodes=[n for n in lab.nodes if lab.running(n)])


def lost_managers(suite):
    """The managers recover.yml gave up, still in the inventory (stopped)."""
    return [m for m in suite.lab.managers if m != "node1"]


def remove_lost(suite, nodes, *options):
    """remove_node.yml of the managers recover.yml gave up (bricks and peers, in one run);
    then they leave the inventory, as the playbook asks."""
    lab = suite.lab
    suite.apply("09-remove-lost-managers", "remove_node.yml", "-e", "node=" + ",".join(nodes),
                "-e", "confirm=yes", *options)
    for node in nodes:
        lab.forget(node)
    lab.storage = [n for n in lab.storage if n not in nodes]
    lab.refresh()


def test_refuses_a_replica_2_volume_without_allow_split_brain(suite):
    """remove_node.yml refuses replica 4 -> 2 without an arbiter unless allowed."""
    suite.refused("09-bad-remove-split-brain", "remove_node.yml",
                  "-e", "node=" + ",".join(lost_managers(suite)), "-e", "confirm=yes",
                  expect="replica 4 -> 2 without an arbiter")


def test_remove_both_lost_managers_with_allow_split_brain(suite):
    """With allow_split_brain=yes both lost managers leave in one run (replica 2), and
    the health report at its end passes."""
    suite.require("remove_node.yml")
    remove_lost(suite, lost_managers(suite), "-e", "allow_split_brain=yes")
    assert suite.lab.managers == ["node1"], suite.lab.managers
    suite.healthy("09-remove-lost-managers")
    suite.check_data("09-remove-lost-managers", bricks=True)


# --- 10. bad input on a one-manager cluster ----------------------------------------------------

def test_refuses_removing_the_last_manager(suite):
    """remove_node.yml refuses the swarm's last manager."""
    assert suite.lab.managers == ["node1"], "needs the one-manager cluster recover leaves"
    suite.refused("10-bad-remove-last-manager", "remove_node.yml", "-e", "node=node1",
                  "-e", "confirm=yes", expect="last manager")


def test_refuses_reset_without_confirmation(suite):
    """reset.yml without confirm=yes and no TTY to answer refuses."""
    suite.refused("10-bad-reset-unconfirmed", "reset.yml", expect="not confirmed")


# --- 11. reset ---------------------------------------------------------------------------------

def reset_leftovers(suite, node):
    """What reset.yml should have taken away from a node but did not."""
    checks = {
        "in a swarm": "docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null "
                      "| grep -vx inactive || true",
        "fstab line": f"grep -E '[[:space:]]{MOUNT_POINT}[[:space:]]' /etc/fstab || true",
        "mounted": f"findmnt -n {MOUNT_POINT} || true",
        "volume": "gluster volume list 2>/dev/null | grep -x dockerdir || true",
        "peers": "gluster pool list 2>/dev/null | tail -n +2 | grep -v localhost || true",
        "hosts block": f"grep -F '{HOSTS_MARKER}' /etc/hosts || true",
    }
    return {what: out for what, command in checks.items()
            if (out := on_node(suite.lab, node, command).strip())}


def test_reset_to_bare_hosts(suite):
    """reset.yml: no swarm, mount, volume, peer or hosts block left; brick files kept."""
    step, lab = "11-reset", suite.lab
    suite.require("reset.yml")
    suite.apply(step, "reset.yml", "-e", "confirm=yes", writer=False)
    leftovers = {node: reset_leftovers(suite, node) for node in lab.nodes}
    suite.report.put(step, "leftovers", leftovers)
    assert not any(leftovers.values()), leftovers
    bricks = verify(lab, suite.ledger, lab.groups["storage"], BRICK_DATA_DIR)
    suite.record_data(step, {"bricks": bricks})
    assert not data_problems(bricks), data_problems(bricks)


# --- 12. reset with wipe_data ------------------------------------------------------------------

BRICK = BRICK_DATA_DIR.rsplit("/", 1)[0]
# The configured arbiter brick directory: no node has an arbiter brick in this lab.
NOT_A_BRICK = "/srv/gluster/dockerdir/arbiter"


def test_reset_with_wipe_data_deletes_bricks_only(suite):
    """reset.yml -e wipe_data=yes after a reset: the old volume's bricks (marked with its
    volume-id, the volume itself gone) are deleted with /var/lib/docker; a directory at the
    configured arbiter path that is no brick keeps its files."""
    step, lab = "12-reset-wipe-data", suite.lab
    node = lab.managers[0]
    on_node(lab, node, f"mkdir -p {NOT_A_BRICK} && echo keep > {NOT_A_BRICK}/mine")
    on_node(lab, node, "docker volume create swarmops-wipe-check")
    suite.apply(step, "reset.yml", "-e", "confirm=yes", "-e", "wipe_data=yes", writer=False)
    left = {n: on_node(lab, n, f"test -e {BRICK} && echo {BRICK} || true").strip()
            for n in lab.groups["storage"]}
    suite.report.put(step, "bricks_left", left)
    assert not any(left.values()), left
    assert on_node(lab, node, f"cat {NOT_A_BRICK}/mine").strip() == "keep"
    assert "swarmops-wipe-check" not in on_node(lab, node, "docker volume ls -q")
