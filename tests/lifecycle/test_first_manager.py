"""The first manager dies: replaced, then its successor as first manager dies and is removed.

Run by molecule/first-manager's verify step on the lab it converged (SWARMOPS_LAB_NAME;
three managers node1-3 holding the bricks, no storage group: a replica 3 volume, and the
worker node4), or by hand:
  SWARMOPS_LAB_NAME=L pytest -p no:cacheprovider -v tests/lifecycle/test_first_manager.py
Steps in order, each from the state the one before left (conftest.py skips the rest after
a failure). node1 is the node every other suite keeps: the swarm's bootstrap node, the
first storage node (the one that probed the others into the pool, so they know it by the
name its address resolves to on them) and the first manager of the inventory.

 1. baseline: health passes, the first files (through node2: node1 dies next).
 2. node1 stops for good and the fresh node5 is grown as a manager: site.yml refuses,
    naming node1 and the exact command that replaces it with node5.
 3. that command: replace_node.yml -e old=node1 -e new=node5. It failed at replace-brick
    ("brick: 10.213.0.11:... does not exist in volume", on node5) before gluster_volume
    named the brick as the pool knows node1.
 4. node2, the inventory's first manager now, dies and is removed: replica 3 -> 2 is
    refused without allow_split_brain, then done with it. Two managers and replica 2 are
    what site.yml refuses, so the fresh manager node6 is grown and provisioned with
    site.yml (three managers, replica 3 again) before the re-run and the checks.
After steps 3 and 4: site.yml re-runs with changed=0, health.yml passes and every file
written so far (5 before and 5 after each step, one a second during its playbook) reads
back unchanged on every node's mount and in every brick.
"""

import os

import pytest

from harness import Suite, check_layout, hostname, swarm_nodes, wait_down

if os.environ.get("SWARMOPS_BYOH_INVENTORY"):
    pytest.skip("this suite stops and removes nodes and grows the lab: it runs only on a "
                "lab, never on your own hosts (SWARMOPS_BYOH_INVENTORY)",
                allow_module_level=True)

INCREMENTAL = True
# The lab inventory's macvlan is configured on node1 and node2 by name, and both leave
# here: the suite's runs list the overlay alone (the network itself stays; nothing here
# is attached to it).
NETWORKS = ('{"swarmops_networks": [{"name": "proxy_traefik", "driver": "overlay", '
            '"attachable": true, "subnet": "10.130.10.0/24"}]}')


@pytest.fixture(name="suite", scope="module")
def fixture_suite(lab, ledger, report):
    """The steps' shared tools, writing through node2 (node1 dies in step 2)."""
    check_layout(lab, (["node1", "node2", "node3"], ["node4"], []), "molecule/first-manager")
    lab.extra_vars = ["-e", NETWORKS]
    return Suite(lab, ledger, report, writer_node="node2")


def managers(suite, reader):
    """{swarm hostname: manager status} of the swarm's managers, read on `reader`."""
    return {h: m for h, (_s, m) in swarm_nodes(suite, reader).items() if m}


# --- 1. baseline -----------------------------------------------------------------------------

def test_baseline_is_healthy(suite):
    """The converged cluster is healthy and holds the first files."""
    suite.healthy("01-baseline")
    suite.write_files("01-baseline", "before")
    suite.check_data("01-baseline", bricks=True)


# --- 2. the first manager dies: site.yml names the way forward --------------------------------

def test_site_names_the_replacement_of_the_dead_first_manager(suite):
    """node1 stops for good, node5 is added as a manager: site.yml refuses before any change,
    with the command that replaces node1 by node5."""
    lab = suite.lab
    suite.write_files("02-first-manager-dies", "before")
    lab.stop("node1")
    wait_down(suite, "node1", manager="node2")
    lab.grow("swarm_managers", "node5")
    suite.refused("02-bad-site-with-dead-first-manager", "site.yml",
                  expect="playbooks/replace_node.yml -e old=node1 -e new=node5 -e confirm=yes")


# --- 3. ... and that command works -----------------------------------------------------------

def test_replace_the_dead_first_manager(suite):
    """replace_node.yml moves node1's brick onto node5 and makes it a manager."""
    step, lab = "03-replace-dead-first-manager", suite.lab
    suite.apply(step, "replace_node.yml", "-e", "old=node1", "-e", "new=node5",
                "-e", "confirm=yes")
    lab.forget("node1")
    nodes = swarm_nodes(suite, "node2")
    assert hostname(suite, "node1") not in nodes
    assert nodes[hostname(suite, "node5")][1] in ("Reachable", "Leader"), nodes
    suite.settled(step, bricks=True)


# --- 4. the next first manager dies and is removed ---------------------------------------------

def test_refuses_removing_the_dead_first_manager_without_split_brain_accepted(suite):
    """node2 stops: removing it leaves replica 2, refused without allow_split_brain."""
    lab = suite.lab
    suite.write_files("04-remove-dead-first-manager", "before")
    lab.stop("node2")
    wait_down(suite, "node2", manager="node3")
    suite.writer_node = "node3"
    suite.refused("04-bad-remove-without-split-brain", "remove_node.yml", "-e", "node=node2",
                  "-e", "confirm=yes", expect="replica 3 -> 2 without an arbiter")


def test_remove_the_dead_first_manager_and_provision_a_fresh_one(suite):
    """node2 leaves (replica 3 -> 2); site.yml then provisions node6 (replica 3 again)."""
    step, lab = "04-remove-dead-first-manager", suite.lab
    suite.apply(step, "remove_node.yml", "-e", "node=node2", "-e", "allow_split_brain=yes",
                "-e", "confirm=yes")
    lab.forget("node2")
    assert hostname(suite, "node2") not in swarm_nodes(suite, "node3")
    lab.grow("swarm_managers", "node6")
    suite.apply(step, "site.yml")
    assert sorted(managers(suite, "node3")) == [hostname(suite, n)
                                                for n in ("node3", "node5", "node6")]
    suite.settled(step, bricks=True)
