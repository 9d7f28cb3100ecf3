"""Backup and restore on the cluster the move to GlusterFS left (three managers, the volume,
the stacks): playbooks/backup.yml stops a manager that is not the leader for the copy of the
swarm's state, backs up DOCKERDIR into a restic repository on that node and checks it;
DOCKERDIR is then damaged (a file deleted, one overwritten, one added) and
playbooks/restore.yml puts it back with the stacks removed and deployed around it; a second
backup's retention (keep the last one) forgets the first backup's snapshots. The password never shows, at
-vvv, in any output. The tests run in file order and build on each other.
"""

import json
import os
import re
import shlex
import subprocess

import pytest

from test_1_local_to_glusterfs import CHECKSUMS, DOCKERDIR, GLUSTERFS, OURS
from test_onboarding import INVENTORY, ROOT, inventory_hosts, on_node, recap

PASSWORD = "lab backup password, never printed"
REPOSITORY = "/srv/backup/restic"
# Snapshot IDs of the first backup, for the retention test.
FIRST = {}


def follower():
    """A manager that is not the leader: the repository, a path, lives on it."""
    managers = inventory_hosts("swarm_managers")
    listing = on_node(managers[0], "docker node ls --format '{{.Hostname}} {{.ManagerStatus}}'")
    leader = next(ln.split()[0] for ln in listing.splitlines() if ln.endswith("Leader"))
    return next(m for m in managers if not leader.endswith("-" + m) and leader != m)


@pytest.fixture(scope="module", name="settings")
def fixture_settings(tmp_path_factory):
    """The backup settings as an extra-vars file (the password stays off every argv)."""
    path = tmp_path_factory.mktemp("backup") / "backup.json"
    path.write_text(json.dumps({"swarmops_backup_repository": REPOSITORY,
                                "swarmops_backup_password": PASSWORD,
                                "swarmops_backup_node": follower()}))
    return "@" + str(path)


def run(name, settings, *options):
    """(rc, output) of a day-2 playbook at -vvv; the output must not hold the password."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    # The lab's inventory still says local storage: the move's runs passed glusterfs too.
    proc = subprocess.run(["ansible-playbook", "-vvv", "-i", INVENTORY, "-e", settings,
                           *GLUSTERFS, *options, str(ROOT / "playbooks" / name)],
                          capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    output = proc.stdout + proc.stderr
    assert PASSWORD not in output, "the backup password was printed"
    return proc.returncode, output


def playbook(name, settings, *options):
    """The output of a day-2 playbook that must pass."""
    rc, output = run(name, settings, *options)
    assert rc == 0, output[-4000:]
    return output


def snapshots(node):
    """The repository's snapshots, read on the node with the password on stdin."""
    return json.loads(on_node(node, "printf %%s '%s' | restic --repo=%s --no-cache "
                                    "snapshots --json" % (PASSWORD, REPOSITORY)))


def manifest(node):
    return json.loads(on_node(node, "cat /var/lib/swarmops/backup/manifest.json"))


@pytest.fixture(scope="module", name="first")
def fixture_first():
    managers = inventory_hosts("swarm_managers")
    assert len(managers) == 3, "run this after test_1_local_to_glusterfs: %s" % managers
    return managers[0]


def node_of(output):
    """The node the backup ran on, from its summary."""
    line = next(ln for ln in output.splitlines() if "repository " + REPOSITORY in ln)
    return line.split("node ", 1)[1].split(",", 1)[0]


def test_a_backup_stops_a_manager_that_is_not_the_leader(first, settings):
    output = playbook("backup.yml", settings)
    node = node_of(output)
    made = manifest(node)
    assert made["node"] == node and made["leader"] != node and made["managers"] == 3
    assert made["storage"] == "glusterfs" and made["dockerdir"] == DOCKERDIR
    tags = sorted(",".join(s["tags"]) for s in snapshots(node))
    assert tags == ["swarmops,dockerdir", "swarmops,swarm-state"], tags
    assert re.search(r"engine stopped [0-9.]+ s", output), output[-3000:]
    FIRST.update(node=node, ids={s["id"] for s in snapshots(node)})
    swarm = json.loads(on_node(node, "docker info --format '{{json .Swarm}}'"))
    assert swarm["LocalNodeState"] == "active" and swarm["ControlAvailable"], swarm


def test_restore_puts_damaged_dockerdir_back_around_the_stacks(first, settings):
    expected = on_node(first, CHECKSUMS % DOCKERDIR)
    on_node(first, "rm %s/%s && echo encrypted > %s/private/move-test.key && "
                   "echo new > %s/config/made-after-the-backup"
            % (DOCKERDIR, next(iter(OURS)), DOCKERDIR, DOCKERDIR))
    assert on_node(first, CHECKSUMS % DOCKERDIR) != expected
    output = playbook("restore.yml", settings, "-e", "confirm=yes")
    assert "files made since the snapshot stay" in output
    now = on_node(first, CHECKSUMS % DOCKERDIR)
    made_after = [ln for ln in now.splitlines() if "made-after-the-backup" in ln]
    assert len(made_after) == 1
    assert "\n".join(ln for ln in now.splitlines() if ln not in made_after) == expected
    services = on_node(first, "docker service ls --format '{{.Name}} {{.Replicas}}'")
    assert "web_web" in services and "core_traefik" in services, services
    changed = recap(playbook("../site.yml", settings))
    assert set(changed.values()) == {0}, changed


def test_health_shows_the_last_backup_and_fails_past_its_max_age(settings):
    output = playbook("health.yml", settings)
    assert re.search(r"BACKUP.*last ok \d{4}-\d\d-\d\d \d\d:\d\d UTC on %s \([0-9.]+ h "
                     r"ago\)" % FIRST["node"], output, re.S), output[-3000:]
    rc, output = run("health.yml", settings, "-e", "swarmops_backup_max_age=0.001")
    assert rc != 0 and "over swarmops_backup_max_age (0.001 h)" in output, output[-3000:]


def test_a_failed_backup_is_recorded_and_fails_health_until_the_next_one(settings, tmp_path):
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"swarmops_backup_password": "not the password"}))
    rc, output = run("backup.yml", settings, "-e", "@%s" % wrong)
    assert rc != 0 and "wrong password" in output, output[-3000:]
    record = json.loads(on_node(FIRST["node"], "cat /var/lib/swarmops/backup/last.json"))
    assert record["last_run"]["result"] == "failed" and record["last_ok"]["time"], record
    rc, output = run("health.yml", settings)
    assert rc != 0 and "backup: the last run on %s at" % FIRST["node"] in output, output[-3000:]
    assert "not the password" not in output


def test_a_second_backup_forgets_the_older_snapshots(settings):
    # Keep the last one per tags. (restic also keeps the oldest snapshot while a daily,
    # weekly or monthly bucket is not full, so the default keeps both on the first day.)
    node = node_of(playbook("backup.yml", settings,
                            "-e", '{"swarmops_backup_keep": {"last": 1}}'))
    assert node == FIRST["node"]
    left = {s["id"] for s in snapshots(node)}
    assert len(left) == 2 and not left & FIRST["ids"], (left, FIRST)
    # backup.yml ends with the health report: it passed, the failure above is history.
    record = json.loads(on_node(node, "cat /var/lib/swarmops/backup/last.json"))
    assert record["last_run"]["result"] == "ok", record


# One byte flipped near the start of every pack of a repository (no "=" in it: ad hoc
# shell arguments with one are read as module options).
FLIP = ("import pathlib; [p.write_bytes(b[:i] + bytes([b[i] ^ 255]) + b[i + 1:]) "
        "for p in pathlib.Path(%r, 'data').glob('*/*') for b in [p.read_bytes()] "
        "for i in [min(300, len(b) // 2)]]")


def scratch_left(node):
    """Drill directories left under /var/tmp on the node."""
    return on_node(node, "find /var/tmp -maxdepth 1 -name 'swarmops-drill-*'").split()


def test_the_drill_restores_and_verifies_both_snapshots_beside_the_live_data(first, settings):
    node = FIRST["node"]
    before = on_node(first, CHECKSUMS % DOCKERDIR)
    output = playbook("restore_drill.yml", settings)
    # The YAML callback folds long lines: read the report with its whitespace collapsed.
    reported = re.findall(r"(swarm-state|dockerdir): snapshot [0-9a-f]{8} of [0-9-]+ [0-9:]+ "
                          r"UTC \([0-9.]+ h old\), [0-9.]+ (?:B|KiB|MiB) restored and "
                          r"verified in [0-9.]+ s", " ".join(output.split()))
    assert sorted(set(reported)) == ["dockerdir", "swarm-state"], output[-3000:]
    assert on_node(first, CHECKSUMS % DOCKERDIR) == before
    assert scratch_left(node) == []


def test_the_drill_fails_on_a_damaged_repository_and_cleans_up(settings):
    node = FIRST["node"]
    copy = REPOSITORY + "-drill"
    # A copy of the repository with a byte flipped near the start of every pack (the first
    # blob of each, data or tree): the real repository stays whole for what runs after.
    on_node(node, "rm -rf {c} && cp -a {r} {c} && chmod -R u+w {c}/data".format(
        r=REPOSITORY, c=copy))
    on_node(node, "python3 -c " + shlex.quote(FLIP % copy))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run(["ansible-playbook", "-i", INVENTORY, "-e", settings, *GLUSTERFS,
                           "-e", "swarmops_backup_repository=" + copy,
                           str(ROOT / "playbooks" / "restore_drill.yml")],
                          capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    output = proc.stdout + proc.stderr
    on_node(node, "rm -rf " + copy)
    assert proc.returncode != 0, output[-3000:]
    assert "restore failed" in output and PASSWORD not in output, output[-3000:]
    assert scratch_left(node) == []
