"""site.yml with a bad inventory fails in preflight, names the fix, and changes nothing.

Each case copies the inventory under test (connection variables included) into a YAML
inventory with one thing wrong, runs site.yml, and compares a fingerprint of every host
taken before and after.
"""

import json
import os
import re
import shlex
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import run_module

ROOT = Path(__file__).resolve().parents[2]
FILES = Path(__file__).resolve().parent / "files"
# What any role would change: the files it writes, groups, swarm membership, every node's
# spec, the trusted pool, the volume, what is mounted on its mount point, the networks and
# the services.
FINGERPRINT = ("sudo sh -c 'md5sum /etc/hosts /etc/docker/daemon.json /etc/fstab /etc/group; "
               "gluster pool list 2>/dev/null | sort; gluster volume info 2>/dev/null; "
               "grep \" /opt/docker \" /proc/self/mountinfo | cut -d\" \" -f5-; "
               "docker info --format \"{{.Swarm.LocalNodeState}} {{.Swarm.NodeID}} "
               "{{.Swarm.ControlAvailable}}\"; "
               "docker node inspect --format \"{{.ID}} {{.Spec}}\" "
               "$(docker node ls -q 2>/dev/null) 2>/dev/null | sort; "
               "docker network ls --format \"{{.Name}}\" 2>/dev/null | sort; "
               "docker service ls --format \"{{.Name}} {{.Image}}\" 2>/dev/null | sort; true'")


def fingerprint(cluster):
    return {name: cluster.host(name).check_output(FINGERPRINT) for name in cluster.names}


def write_inventory(cluster, tmp_path, managers, workers, hostvars_patch=None, storage=None):
    """A YAML inventory of the cluster's hosts with the given groups and patched vars.

    storage: the storage group (default: the cluster's storage nodes, pinned, so a case
    that moves managers does not also move the bricks).
    """
    def hvars(name):
        merged = {k: v for k, v in cluster.hostvars[name].items()
                  if k.startswith(("ansible_", "swarmops_", "_swarmops_"))}
        merged.update((hostvars_patch or {}).get(name, {}))
        return merged
    tree = {"all": {"children": {
        "swarm_managers": {"hosts": {n: hvars(n) for n in managers}},
        "swarm_workers": {"hosts": {n: hvars(n) for n in workers}}}}}
    storage = cluster.storage_nodes if storage is None else storage
    if storage:
        tree["all"]["children"]["storage"] = {"hosts": {
            n: hvars(n) if n in cluster.hostvars else {"ansible_host": "ghost.invalid"}
            for n in storage}}
    path = tmp_path / "hosts.yml"
    path.write_text(json.dumps(tree))
    return path


def run_site(inventory, *options):
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0")
    env.pop("ANSIBLE_VAULT_PASSWORD_FILE", None)
    return subprocess.run(["ansible-playbook", "-i", str(inventory), *options,
                           str(ROOT / "site.yml")],
                          capture_output=True, text=True, env=env, cwd=ROOT, check=False)


def stack(name, service, networks=None):
    """A one-service stack entry (inline compose), with the core stack switched off."""
    definition = {"version": "3.8", "services": {"s": service}}
    if networks:
        definition["networks"] = networks
    return {"name": name, "definition": definition}


def case(cluster, mutation):
    """(managers, workers, hostvars patch[, storage group]) of one bad-input case."""
    first, names, storage = cluster.names[0], cluster.names, cluster.storage_nodes

    def everyone(**hvars):
        return {n: hvars for n in names}
    bridge = str(cluster.hostvars[first].get("swarmops_lab_bip", "")).split("/", maxsplit=1)[0]
    addr = cluster.hostvars[names[1]]["ansible_host"] if len(names) > 1 else "127.0.0.3"
    return {
        "even_managers": (names[:2], names[2:], {}),
        "no_managers": ([], names, {}),
        "host_in_both_groups": (names[:1] + names[2:], names[1:], {}),
        "duplicate_address": (names[:1], names[1:], {first: {"swarmops_node_address": addr}}),
        "address_not_on_host": (names[:1], names[1:],
                                {first: {"swarmops_node_address": "127.0.0.2"}}),
        "name_does_not_resolve": (names[:1], names[1:],
                                  {first: {"swarmops_node_address": "node-one.invalid"}}),
        # A name the controller resolves, to an address the host does not have.
        "name_resolves_elsewhere": (names[:1], names[1:],
                                    {first: {"swarmops_node_address": "localhost"}}),
        # An address the host has (its engine's bridge), but not the one its swarm uses.
        "advertise_differs": (names[:1], names[1:], {first: {"swarmops_node_address": bridge}}),
        "label_not_a_string": (names[:1], names[1:],
                               {first: {"swarmops_swarm_node_labels": {"port": 8080}}}),
        "unknown_availability": (names[:1], names[1:],
                                 {first: {"swarmops_swarm_node_availability": "sleep"}}),
        "unknown_label_mode": (names[:1], names[1:],
                               {first: {"swarmops_swarm_node_labels_state": "append"}}),
        "unknown_docker_source": (names[:1], names[1:],
                                  {first: {"swarmops_docker_source": "snap"}}),
        # Storage: layouts that split brain or cannot be built, bad paths and options.
        "storage_replica_2": (cluster.managers, cluster.workers, {}, storage[:2]),
        "storage_one_node": (cluster.managers, cluster.workers, {}, storage[:1]),
        "storage_unknown_peer": (cluster.managers, cluster.workers, {},
                                 storage + ["ghost"]),
        "brick_under_mount_point": (cluster.managers, cluster.workers, everyone(
            swarmops_glusterfs_brick_dir="/opt/docker/brick")),
        "volume_has_other_bricks": (cluster.managers, cluster.workers, everyone(
            swarmops_glusterfs_brick_dir="/srv/gluster/elsewhere/brick")),
        "mount_options_malformed": (cluster.managers, cluster.workers, everyone(
            swarmops_glusterfs_mount_options=["rw,noatime"])),
        # GID 100 is Debian's "users" group on every node.
        "gid_taken": (cluster.managers, cluster.workers, everyone(swarmops_docker_gid=100)),
        # Networks and stacks: refused on the controller, from preflight's one read.
        "stack_undefined_variable": (cluster.managers, cluster.workers, everyone(
            swarmops_stacks=[stack("bad", {"image": "${NOPE}"})])),
        "stack_malformed_compose": (cluster.managers, cluster.workers, everyone(
            swarmops_stacks=[{"name": "bad", "files": [str(FILES / "malformed-compose.txt")]}])),
        # Issue 18: what docker stack deploy would refuse only after earlier stacks changed.
        "stack_mailu_empty_volumes": (cluster.managers, cluster.workers, everyone(
            swarmops_stacks=[{"name": "mailu",
                              "files": [str(FILES / "mailu-empty-volumes.txt")],
                              "variables": {"VERSION": "1.7", "ROOT": "/opt/docker/mailu"}}])),
        "stack_unknown_network": (cluster.managers, cluster.workers, everyone(
            swarmops_stacks=[stack("bad", {"image": "web", "networks": ["gone"]},
                                   networks={"gone": {"external": True, "name": "nowhere"}})])),
        "relay_range_holds_ingress": (cluster.managers, cluster.workers, everyone(
            swarmops_stacks=[stack("mail", {"image": "smtp", "environment": {
                "RELAYNETS": "192.0.2.0/24,10.0.0.0/8"}})])),
        "overlapping_subnets": (cluster.managers, cluster.workers, everyone(
            swarmops_networks=[{"name": "a", "subnet": "10.150.0.0/16"},
                               {"name": "b", "subnet": "10.150.1.0/24"}])),
        "macvlan_parent_missing": (cluster.managers, cluster.workers, everyone(
            swarmops_networks=[{"name": "m", "driver": "macvlan", "parent": "eth9",
                                "subnet": "10.151.0.0/24",
                                "nodes": {first: {"ip_range": "10.151.0.8/29"}}}])),
        # Firewall: an admin list without the controller, a port that is not one.
        "firewall_locks_out_controller": (cluster.managers, cluster.workers, everyone(
            swarmops_firewall_admin_sources=["192.0.2.0/24"])),
        "firewall_bad_published_port": (cluster.managers, cluster.workers, everyone(
            swarmops_firewall_published=[{"port": 70000, "sources": ["192.0.2.0/24"]}])),
        "autolock_without_key_file": (cluster.managers, cluster.workers, everyone(
            swarmops_swarm_autolock=True)),
        # run_site gives no vault password: the key could not be kept.
        "autolock_without_vault_password": (cluster.managers, cluster.workers, everyone(
            swarmops_swarm_autolock=True,
            swarmops_swarm_unlock_key_file=str(ROOT / ".lab" / "never-written.vault"))),
        "renamed_node_groups": (cluster.managers, cluster.workers, everyone(
            swarmops_swarm_managers_group="my_managers")),
        # The running cluster's DOCKERDIR is the volume: local storage would leave it there.
        "storage_switched_to_local": (cluster.managers, cluster.workers, everyone(
            swarmops_storage="local")),
        "storage_kind_unknown": (cluster.managers, cluster.workers, everyone(
            swarmops_storage="nfs")),
        # Loopback, where no SSH server listens: the host cannot be reached.
        "unreachable_host": (names[:1], names[1:], {names[-1]: {"ansible_host": "127.0.0.2"}}),
    }[mutation]


EXPECTED = {
    "even_managers": "even number",
    "no_managers": "no managers",
    "host_in_both_groups": "in both the managers and the workers group",
    "duplicate_address": "share the address",
    "address_not_on_host": "is not configured on the host",
    "name_does_not_resolve": "does not resolve on the controller",
    "name_resolves_elsewhere": "(localhost resolves to it) is not configured on the host",
    "advertise_differs": "is in a swarm advertising",
    "label_not_a_string": "quote it",
    "unknown_availability": "swarmops_swarm_node_availability must be one of: active, pause, drain",
    "unknown_label_mode": "swarmops_swarm_node_labels_state",
    "unknown_docker_source": "swarmops_docker_source",
    "storage_replica_2": "replica 2 without an arbiter splits brain",
    "storage_one_node": "a replicated volume needs at least 3",
    "storage_unknown_peer": "ghost is in the storage group but not in the swarm's groups",
    "brick_under_mount_point": "overlap",
    "volume_has_other_bricks": "that are not storage nodes' bricks in the inventory",
    "mount_options_malformed": "mount option 'rw,noatime' is malformed",
    "gid_taken": "belongs to group users there",
    "stack_undefined_variable": "definition: service s: variable NOPE is not set",
    "stack_malformed_compose": "malformed-compose.txt:5:",
    "stack_mailu_empty_volumes":
        "mailu-empty-volumes.txt:20: service fetchmail: volumes must be a list, not null",
    "stack_unknown_network": "external network nowhere does not exist",
    "relay_range_holds_ingress": "this is an open relay",
    "overlapping_subnets": "network a: subnet 10.150.0.0/16 overlaps network b",
    "macvlan_parent_missing": "parent interface eth9 does not exist on",
    "firewall_locks_out_controller": "swarmops_firewall_admin_sources would lock this "
                                     "controller out",
    "firewall_bad_published_port": "swarmops_firewall_published: 70000 is not a port",
    "autolock_without_key_file": "swarmops_swarm_autolock needs swarmops_swarm_unlock_key_file",
    "autolock_without_vault_password": "no vault password in this run to encrypt it with",
    "renamed_node_groups": "name the inventory groups swarm_managers and swarm_workers",
    "storage_switched_to_local": "is the GlusterFS volume's mount, but swarmops_storage is local",
    "storage_kind_unknown": "swarmops_storage must be one of: glusterfs, local",
    # any_errors_fatal stops the first play at fact gathering; ansible names the fix.
    "unreachable_host": "Make sure this host can be reached over ssh",
}


# The cases that judge the GlusterFS volume (or switch away from it).
GLUSTER_CASES = ("storage_replica_2", "storage_one_node", "storage_unknown_peer",
                 "brick_under_mount_point", "volume_has_other_bricks",
                 "mount_options_malformed", "storage_switched_to_local")


def skip_reason(cluster, mutation):
    """Why a case does not apply to the cluster under test, or None."""
    if mutation in ("even_managers", "host_in_both_groups", "unreachable_host") \
            and len(cluster.names) < 3:
        return "needs three hosts"
    if mutation in GLUSTER_CASES and not cluster.shared:
        return "the cluster's storage is local: no volume to judge"
    if mutation == "storage_replica_2" and cluster.arbiter() in cluster.storage_nodes[:2]:
        return "an arbiter layout has two data nodes by design"
    if mutation == "advertise_differs" and "swarmops_lab_bip" not in \
            cluster.hostvars[cluster.names[0]]:
        return "needs the lab's engine bridge address"
    return None


# Refusals read and change nothing, so they run side by side: one at a time they were most
# of the verify step's time (27 runs of ~10 s calm, ~55 s on a busy 2-core machine).
PARALLEL = int(os.environ.get("SWARMOPS_TEST_PARALLEL", "4"))


@pytest.fixture(name="refusals", scope="module")
def fixture_refusals(cluster, tmp_path_factory, request):
    """The site.yml run of every selected and applicable bad-inventory case, side by side,
    with the fingerprint of every host taken before the first and after the last."""
    selected = {item.callspec.params["mutation"] for item in request.session.items
                if item.originalname == "test_bad_inventory_fails_before_any_change"}
    cases = [m for m in sorted(selected) if not skip_reason(cluster, m)]
    inventories = {m: write_inventory(cluster, tmp_path_factory.mktemp(m), *case(cluster, m))
                   for m in cases}
    before = fingerprint(cluster)
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        results = dict(zip(cases, pool.map(run_site, (inventories[m] for m in cases))))
    return results, before, fingerprint(cluster)


@pytest.mark.parametrize("mutation", sorted(EXPECTED))
def test_bad_inventory_fails_before_any_change(cluster, refusals, mutation):
    reason = skip_reason(cluster, mutation)
    if reason:
        pytest.skip(reason)
    results, before, after = refusals
    assert_refused(results[mutation], EXPECTED[mutation])
    # A change by any case shows in every case: the runs overlap.
    assert after == before, "a refused run changed a host"


def assert_refused(result, expected):
    """The run failed in preflight naming the fix, before any role's install or configure
    part."""
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert expected in output, output[-3000:]
    assert "Preflight" in output
    assert "changed=0" in output or "PLAY RECAP" not in output
    # After any_errors_fatal the next play's header still prints; none of its tasks may run.
    # No task of a role's install or configure part ran (any_errors_fatal ends the run).
    assert not re.search(r"TASK \[[^]]*: (Install|Configure|Form) \|", output), \
        "provisioning began"


def assert_refused_unchanged(cluster, result, expected, before):
    """The run failed in preflight naming the fix, and no host changed."""
    assert_refused(result, expected)
    assert fingerprint(cluster) == before


def test_check_mode_on_converged_cluster_predicts_no_change(cluster):
    before = fingerprint(cluster)
    result = run_site(cluster.inventory, "--check", "--diff")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    recap = output[output.index("PLAY RECAP"):]
    assert recap.count("changed=0") == len(cluster.names), recap
    assert fingerprint(cluster) == before


# Host states preflight must refuse before any change: (break, restore, expected message).
# Each runs as root on one node, a worker where there is one; restore puts it back.
HOST_STATES = {
    "engine_stopped": ("systemctl stop docker.socket docker.service",
                       "systemctl start docker.service",
                       "the Docker engine is installed but does not answer"),
    "daemon_json_not_json": ("cp -p /etc/docker/daemon.json /root/daemon.json.preflight && "
                             "echo '{broken' >> /etc/docker/daemon.json",
                             "mv /root/daemon.json.preflight /etc/docker/daemon.json",
                             "/etc/docker/daemon.json is not valid JSON"),
    "docker_group_twice": ("cp -p /etc/group /root/group.preflight && "
                           "echo 'docker:x:4242:' >> /etc/group",
                           "mv /root/group.preflight /etc/group",
                           "2 entries for group docker"),
    # Something else mounted over the volume's mount point (stacked on it; umount lifts it).
    "mount_point_taken": ("mount -t tmpfs -o size=1m swarmops-preflight /opt/docker",
                          "umount /opt/docker",
                          "/opt/docker already has swarmops-preflight (tmpfs) mounted"),
    # The node leaves and forms a swarm of its own: two swarms in one inventory.
    "node_in_other_swarm": ("docker swarm leave --force && docker swarm init "
                            "--advertise-addr {address} >/dev/null",
                            "docker swarm leave --force",
                            "are managers of different swarms"),
}


@pytest.mark.parametrize("state", sorted(HOST_STATES))
def test_host_state_refused_before_any_change(cluster, state):
    target = (cluster.workers or cluster.names)[-1]
    if state == "node_in_other_swarm" and not cluster.workers:
        pytest.skip("needs a worker that may leave")
    breaker, restore, expected = HOST_STATES[state]
    node = cluster.host(target)
    node.check_output("sudo sh -c %s" % shlex.quote(
        breaker.replace("{address}", cluster.address(target))))
    try:
        before = fingerprint(cluster)
        result = run_site(cluster.inventory)
        assert_refused_unchanged(cluster, result, expected, before)
        assert target in result.stdout
    finally:
        node.check_output("sudo sh -c %s" % shlex.quote(restore))
        if state == "node_in_other_swarm":
            rejoin(cluster, target)
        wait_until_healthy(cluster)


def wait_until_healthy(cluster):
    """Wait until the swarm is whole again after a state was restored: a restarted engine's
    tasks (and the overlay networks they attach) come back some seconds later, and the next
    case's fingerprint must not catch them arriving."""
    result = run_module(cluster, cluster.managers[0], "swarmops.cluster.cluster_health",
                        {"swarm": True, "probe": False, "wait_timeout": 180})
    assert result.get("healthy"), result.get("problems") or result


def rejoin(cluster, name):
    """Put a node that left back into the cluster the way a user would, and drop the entry
    its old membership left behind."""
    result = run_site(cluster.inventory, "--limit", name)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    manager = cluster.host(cluster.managers[0])
    down = manager.check_output("sudo docker node ls --filter role=worker --format "
                                "'{{.ID}} {{.Status}}' | awk '$2 == \"Down\" {print $1}'")
    if down.split():
        manager.check_output("sudo docker node rm " + " ".join(down.split()))
