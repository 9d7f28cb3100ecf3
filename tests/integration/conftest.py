"""Fixtures of the testinfra suite: the inventory under test and handles on its hosts.

Run by the molecule scenarios' verify step as
  pytest --hosts=ansible://all --ansible-inventory=INV tests/integration
with SWARMOPS_INVENTORY=INV (the lab's inventories/lab, or your own hosts).
"""

import json
import os
import re
import socket
import subprocess
from dataclasses import dataclass, field

import pytest
import testinfra


@dataclass
class Cluster:
    """What the inventory says the cluster is, and a way to reach its hosts."""

    inventory: str
    hostvars: dict
    managers: list
    workers: list
    storage: list = field(default_factory=list)
    hosts: dict = field(default_factory=dict)

    @property
    def names(self):
        """Every cluster host, managers first."""
        return self.managers + self.workers

    @property
    def storage_nodes(self):
        """The GlusterFS nodes: the storage group, else the managers (as the role does)."""
        return self.storage or self.managers

    @property
    def shared(self):
        """Whether DOCKERDIR is the GlusterFS volume (swarmops_storage glusterfs, the
        default) rather than each node's own disk (local)."""
        return self.hostvars[self.managers[0]].get("swarmops_storage", "glusterfs") == \
            "glusterfs"

    def arbiter(self):
        """The storage node marked as the arbiter, or None."""
        return next((n for n in self.storage_nodes
                     if self.hostvars[n].get("swarmops_glusterfs_arbiter")), None)

    def address(self, name):
        """The IP the roles give a host: swarmops_node_address, else ansible_host, a name
        resolved on the controller as the roles resolve it."""
        hvars = self.hostvars[name]
        return socket.gethostbyname(hvars.get("swarmops_node_address") or hvars["ansible_host"])

    def host(self, name):
        """A testinfra host for an inventory name (cached)."""
        if name not in self.hosts:
            self.hosts[name] = testinfra.get_host(
                f"ansible://{name}?ansible_inventory={self.inventory}")
        return self.hosts[name]

    def docker_json(self, name, *args):
        """Run a read-only docker CLI command under sudo on a host; parse its JSON."""
        host = self.host(name)
        with host.sudo():
            out = host.check_output("docker " + " ".join(args))
        return json.loads(out)

    def swarm_state(self, name):
        """The engine's /info Swarm section on a host."""
        return self.docker_json(name, "info", "--format", "'{{json .Swarm}}'")


def read_inventory(path):
    """ansible-inventory --list of the inventory under test."""
    out = subprocess.run(["ansible-inventory", "-i", path, "--list"], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


@pytest.fixture(name="cluster", scope="session")
def fixture_cluster():
    """The inventory under test (SWARMOPS_INVENTORY)."""
    path = os.environ.get("SWARMOPS_INVENTORY")
    if not path:
        pytest.fail("SWARMOPS_INVENTORY is not set: run this suite through molecule "
                    "(make molecule) or set it to the inventory of the hosts under test")
    data = read_inventory(path)
    cluster = Cluster(inventory=path, hostvars=data["_meta"]["hostvars"],
                      managers=list(data.get("swarm_managers", {}).get("hosts", [])),
                      workers=list(data.get("swarm_workers", {}).get("hosts", [])),
                      storage=list(data.get("storage", {}).get("hosts", [])))
    assert cluster.managers, f"{path} has no swarm_managers: nothing to verify"
    return cluster


@pytest.fixture(name="glusterfs")
def fixture_glusterfs(cluster):
    """Skip a test of the shared volume on a cluster with local storage."""
    if not cluster.shared:
        pytest.skip("swarmops_storage is local: no shared volume")


@pytest.fixture(name="manager")
def fixture_manager(cluster):
    """The first manager's inventory name."""
    return cluster.managers[0]


def run_module(cluster, name, module, args=None, check=False):
    """Run a module ad hoc on one host (become root); return its whole result dict.

    testinfra's host.ansible drops the 'failed' key and takes only k=v strings, so this
    reads ansible's own "HOST | STATUS => {json}" line, with 'failed' set from STATUS.
    """
    argv = ["ansible", "-i", cluster.inventory, name, "-m", module, "--become"]
    argv += (["-a", json.dumps(args)] if args else []) + (["--check"] if check else [])
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_CALLBACK_RESULT_FORMAT="json")
    out = subprocess.run(argv, capture_output=True, text=True, env=env, check=False).stdout
    match = re.search(rf"^{re.escape(name)} \| ([A-Z]+)!?.*? => ", out, re.MULTILINE)
    if not match:
        raise AssertionError(f"no result from {argv}: {out[-2000:]}")
    result = json.loads(out[match.end():])
    result["failed"] = match.group(1) in ("FAILED", "UNREACHABLE")
    return result
