# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure checks of a cluster inventory, run by the roles' preflight before any change.

Each node is a dict: name, address, manager, worker (bools), labels, availability.
"""

from __future__ import annotations

from ansible_collections.swarmops.cluster.plugins.plugin_utils._cluster_plan import (
    address_problems, engine_problems, probes_from_hostvars, resolve_address,
    swarm_plan as plan_swarm)
from ansible_collections.swarmops.cluster.plugins.plugin_utils._swarm_nodes import (
    node_in_place)
from ansible_collections.swarmops.cluster.plugins.module_utils._labels import (
    label_value_problems)

AVAILABILITIES = ("active", "pause", "drain")
DOCKER_FAMILIES = ("Debian", "Archlinux")


def cluster_nodes(groups, hostvars, group_names=("swarm_managers", "swarm_workers"),
                  retired=()):
    """The hosts of the given groups, in inventory order, as node dicts.

    Hosts listed in retired (swarmops_retired) are left out: the day-2 playbooks treat a
    node they replace or remove as gone before it leaves the inventory.

    group_names[0] is the managers group and group_names[1] the workers group; further
    groups only add hosts. A host's address is swarmops_node_address, else ansible_host,
    else its inventory name; a name is resolved here, on the controller, as SSH would.
    """
    names = []
    for group in group_names:
        names += [h for h in groups.get(group) or [] if h not in names and h not in retired]
    managers = set(groups.get(group_names[0]) or []) if group_names else set()
    workers = set(groups.get(group_names[1]) or []) if len(group_names) > 1 else set()
    return [describe_node(name, hostvars[name], name in managers, name in workers)
            for name in names]


def describe_node(name, hvars, manager, worker):
    """One node dict from a host's variables, its address resolved to an IP."""
    source = hvars.get("swarmops_node_address") or hvars.get("ansible_host") or name
    address, error = resolve_address(source)
    explicit = str(hvars.get("swarmops_swarm_advertise_addr") or "")
    # An explicit advertise address may name an interface (eth1): its IP is the host's to
    # know, so it is neither resolved here nor compared with the swarm's.
    interface = explicit if explicit and not any(c in explicit for c in ".:") else None
    advertise = resolve_address(explicit)[0] if explicit and not interface else address
    return {
        "name": name,
        "source": str(source),
        "address": address,
        "address_error": error,
        "advertise": None if interface else advertise,
        "advertise_interface": interface,
        "aliases": list(hvars.get("swarmops_hosts_aliases") or []),
        "manager": manager,
        "worker": worker,
        "labels": hvars.get("swarmops_swarm_node_labels", {}),
        "availability": hvars.get("swarmops_swarm_node_availability", "active"),
    }


def group_problems(nodes, allow_even_managers=False):
    """Manager/worker group membership that would make a broken or fragile swarm."""
    problems = []
    managers = [n["name"] for n in nodes if n.get("manager")]
    both = [n["name"] for n in nodes if n.get("manager") and n.get("worker")]
    if not managers:
        problems.append("no managers: put at least one host in the managers group "
                        "(swarm_managers)")
    elif len(managers) % 2 == 0 and not allow_even_managers:
        problems.append("%d managers (%s): an even number tolerates no more failures than "
                        "one less; use an odd number, or set "
                        "swarmops_swarm_allow_even_managers: true"
                        % (len(managers), ", ".join(managers)))
    if both:
        problems.append("%s in both the managers and the workers group; a host has one "
                        "role: remove it from one group" % ", ".join(both))
    return problems


def node_setting_problems(nodes):
    """Labels and availability that the swarm_node module would refuse."""
    problems = []
    for node in nodes:
        labels = node.get("labels")
        if labels is not None and not isinstance(labels, dict):
            problems.append("%s: swarmops_swarm_node_labels must be a mapping of strings, "
                            "not %s" % (node["name"], type(labels).__name__))
        elif labels:
            problems += ["%s: %s" % (node["name"], p) for p in label_value_problems(labels)]
        if node.get("availability") not in AVAILABILITIES:
            problems.append("%s: swarmops_swarm_node_availability %r is not one of %s"
                            % (node["name"], node.get("availability"),
                               ", ".join(AVAILABILITIES)))
    return problems


def swarm_topology_problems(nodes, allow_even_managers=False):
    """Every problem of a swarm inventory, each naming its fix; [] when it is sound."""
    return (group_problems(nodes, allow_even_managers) + address_problems(nodes)
            + node_setting_problems(nodes))


def docker_host_problems(facts, source="debian", name=None):
    """Why the docker role cannot work on a host, from its node_facts (one per line)."""
    name = name or facts.get("swarmops_node", {}).get("hostname", "host")
    problems = []
    family = facts.get("os_family")
    if family not in DOCKER_FAMILIES:
        problems.append("%s runs %s (%s); the docker role supports Debian, Raspberry Pi OS "
                        "and Arch Linux" % (name, facts.get("distribution"), family))
    elif source == "upstream" and family != "Debian":
        problems.append("%s: swarmops_docker_source: upstream is for Debian / Raspberry Pi "
                        "OS; Arch Linux installs its own docker package: leave "
                        "swarmops_docker_source at debian" % name)
    return problems + engine_problems(name, facts.get("swarmops_node") or {})


def release_mix_problems(nodes, hostvars, allow_mixed=False):
    """A cluster whose Debian nodes run different releases, refused unless allowed.

    nodes: cluster_nodes entries; hostvars: each read host's node_facts (hosts not read in
    this run, e.g. outside a --limit, are not judged). Debian 12 and 13 bring different
    engines (docker.io 20.10 / 26.1) and GlusterFS majors (10 / 11); a pool keeps the lowest
    op-version until every peer is upgraded, so they only belong together while a cluster
    moves from one release to the next.
    """
    releases = {}
    for node in nodes:
        facts = (hostvars.get(node["name"]) or {}).get("ansible_facts") or {}
        if facts.get("distribution") == "Debian" and facts.get("distribution_major_version"):
            releases.setdefault(str(facts["distribution_major_version"]), []).append(node["name"])
    if len(releases) < 2 or allow_mixed:
        return []
    found = "; ".join("Debian %s: %s" % (release, ", ".join(names))
                      for release, names in sorted(releases.items(),
                                                   key=lambda item: item[0].zfill(4)))
    return ["the cluster mixes Debian releases (%s). Bring every node to one release; while "
            "you move a cluster from one to the next node by node "
            "(docs/operations/upgrade-debian.md), set "
            "swarmops_docker_allow_mixed_releases: true" % found]


def swarm_plan(nodes, hostvars, play_hosts, port=2377):
    """The swarm plan (see module_utils._cluster_plan.swarm_plan) from the run's facts.

    Probes of the run's hosts come from their node_facts; those of managers outside the run
    (--limit) from the delegated node_facts reads that put facts on their names.
    """
    outside = [n["name"] for n in nodes if n.get("manager") and n["name"] not in play_hosts]
    probes = probes_from_hostvars(hostvars, list(play_hosts) + outside)
    return plan_swarm(nodes, probes, list(play_hosts), port)


def outside_reads_settled(hostvars, managers, storage):
    """Whether the first reads outside a --limit run (the first listed manager and storage
    node) show the running cluster: the manager active in a swarm as a manager, the storage
    node's glusterd holding a volume. Then its node list and pool tell the plans what the
    other hosts outside the run would, and onboarding reads no other host; else (a first
    host down, or no cluster yet) every one is read."""
    probes = probes_from_hostvars(hostvars, list(managers[:1]) + list(storage[:1]))
    for name in managers[:1]:
        swarm = ((probes.get(name) or {}).get("engine") or {}).get("swarm") or {}
        if swarm.get("state") != "active" or not swarm.get("is_manager"):
            return False
    for name in storage[:1]:
        gluster = (probes.get(name) or {}).get("gluster") or {}
        if not gluster.get("answering") or not gluster.get("volumes"):
            return False
    return True


def swarm_node_in_place(nodes, params):
    """Whether swarm_node would change nothing on the node list a manager's node_facts read."""
    return node_in_place(nodes, params)


class FilterModule:
    """swarmops.cluster inventory checks."""

    def filters(self):
        """The filters this plugin provides."""
        return {
            "cluster_nodes": cluster_nodes,
            "swarm_topology_problems": swarm_topology_problems,
            "address_problems": address_problems,
            "docker_host_problems": docker_host_problems,
            "release_mix_problems": release_mix_problems,
            "swarm_plan": swarm_plan,
            "outside_reads_settled": outside_reads_settled,
            "swarm_node_in_place": swarm_node_in_place,
        }
