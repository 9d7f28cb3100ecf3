"""What only real machines show: each node boots its own kernel, loads the kernel modules
the cluster needs, and serves through the swarm's routing mesh and virtual IPs (IPVS).

Runs on hosts that are machines of their own: the VM lab (molecule scenario `vm`, `make
test-vm`) or your own hosts (SWARMOPS_BYOH_INVENTORY; the mesh tests when the inventory
deploys the `mesh` stack of inventories/vm). Skipped on the container lab, whose nodes share
the host's kernel, which has no IPVS.
"""

import json
from pathlib import Path

import pytest

from test_storage import sh

MESH_PORT = 8090
MESH_PAGE = "served from the shared volume through the routing mesh"
# What the converged cluster needs from each node's kernel: the engine's image store and
# bridges, the overlay networks, the routing mesh, the GlusterFS FUSE mount.
MODULES = ["overlay", "br_netfilter", "vxlan", "ip_vs", "fuse"]


@pytest.fixture(name="machines")
def fixture_machines(cluster):
    """The cluster's hosts, when they are machines of their own (not the container lab)."""
    if any("swarmops_lab_bip" in cluster.hostvars[n] for n in cluster.names):
        pytest.skip("the container lab's nodes share the host's kernel")
    return cluster.names


@pytest.fixture(name="mesh")
def fixture_mesh(cluster, machines):
    """The mesh stack's published port, when the inventory deploys it."""
    stacks = cluster.hostvars[machines[0]].get("swarmops_stacks") or []
    if not any(isinstance(s, dict) and s.get("name") == "mesh" for s in stacks):
        pytest.skip("the inventory does not deploy the mesh stack (inventories/vm)")
    return MESH_PORT


def fetch_from(cluster, name, url):
    """The body of an HTTP GET made on a node (its own Python: no client is assumed)."""
    script = ("import urllib.request; "
              f"print(urllib.request.urlopen({url!r}, timeout=20).read().decode())")
    return cluster.host(name).check_output("python3 -c %s" % json.dumps(script))


def test_every_node_boots_a_kernel_of_its_own(cluster, machines):
    local = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    boot_ids = {name: cluster.host(name).file("/proc/sys/kernel/random/boot_id")
                .content_string.strip() for name in machines}
    assert local not in boot_ids.values(), f"a node shares the controller's kernel: {boot_ids}"
    assert len(set(boot_ids.values())) == len(machines), boot_ids


def test_the_kernel_modules_the_cluster_needs_are_loaded(cluster, machines):
    for name in machines:
        loaded = {line.split()[0] for line in
                  cluster.host(name).file("/proc/modules").content_string.splitlines()}
        builtin = sh(cluster, name, "cat /lib/modules/$(uname -r)/modules.builtin").split()
        missing = [m for m in MODULES if m not in loaded
                   and not any(path.endswith(f"/{m}.ko") for path in builtin)]
        assert not missing, f"{name}: not loaded: {missing}"


def test_the_routing_mesh_serves_on_every_node_from_every_node(cluster, mesh):
    # One replica: every other node reaches it only through its own ingress (IPVS).
    for client in cluster.names:
        for target in cluster.names:
            body = fetch_from(cluster, client, f"http://{cluster.address(target)}:{mesh}/")
            assert MESH_PAGE in body, f"{client} -> {target}: {body!r}"


def test_the_service_answers_on_its_virtual_ip_from_the_overlay(cluster, mesh):
    manager = cluster.managers[0]
    spec = cluster.docker_json(manager, "service", "inspect", "mesh_web")[0]
    network = cluster.docker_json(manager, "network", "inspect", "proxy_traefik")[0]
    vips = [v["Addr"].split("/")[0] for v in spec["Endpoint"].get("VirtualIPs", [])
            if v["NetworkID"] == network["Id"]]
    assert vips, f"mesh_web has no virtual IP on proxy_traefik: {spec['Endpoint']}"
    # A throwaway container on the attachable overlay asks the VIP and the service's name.
    for address in (vips[0], "mesh_web"):
        out = sh(cluster, manager,
                 "docker run --rm --network proxy_traefik --entrypoint /bin/sh lab/web:1 -c "
                 "\"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 10 %s %d\"" % (address, 80))
        assert MESH_PAGE in out, f"{address}: {out!r}"
