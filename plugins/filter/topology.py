# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure checks of a cluster inventory, run by the roles' preflight before any change.

Each node is a dict: name, address, manager, worker (bools), labels, availability.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.swarmops.cluster.plugins.module_utils._labels import (
    label_value_problems)

AVAILABILITIES = ("active", "pause", "drain")


def cluster_nodes(groups, hostvars, group_names=("swarm_managers", "swarm_workers")):
    """The hosts of the given groups, in inventory order, as node dicts.

    group_names[0] is the managers group and group_names[1] the workers group; further
    groups only add hosts. A host's address is swarmops_node_address, else ansible_host,
    else its inventory name.
    """
    names = []
    for group in group_names:
        names += [h for h in groups.get(group) or [] if h not in names]
    managers = set(groups.get(group_names[0]) or []) if group_names else set()
    workers = set(groups.get(group_names[1]) or []) if len(group_names) > 1 else set()
    nodes = []
    for name in names:
        hvars = hostvars[name]
        nodes.append({
            "name": name,
            "address": hvars.get("swarmops_node_address") or hvars.get("ansible_host") or name,
            "aliases": list(hvars.get("swarmops_hosts_aliases") or []),
            "manager": name in managers,
            "worker": name in workers,
            "labels": hvars.get("swarmops_swarm_node_labels", {}),
            "availability": hvars.get("swarmops_swarm_node_availability", "active"),
        })
    return nodes


def address_problems(nodes):
    """Addresses that are not IPs, or that two hosts share."""
    problems = []
    seen = {}
    for node in nodes:
        try:
            addr = str(ipaddress.ip_address(str(node.get("address"))))
        except ValueError:
            problems.append("%s: address %r is not an IP address; set swarmops_node_address "
                            "(or ansible_host) to the IP other nodes reach it on"
                            % (node["name"], node.get("address")))
            continue
        if addr in seen:
            problems.append("%s and %s share the address %s; each host needs its own "
                            "(swarmops_node_address)" % (seen[addr], node["name"], addr))
        else:
            seen[addr] = node["name"]
    return problems


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


class FilterModule:
    """swarmops.cluster inventory checks."""

    def filters(self):
        """The filters this plugin provides."""
        return {
            "cluster_nodes": cluster_nodes,
            "swarm_topology_problems": swarm_topology_problems,
            "address_problems": address_problems,
        }
