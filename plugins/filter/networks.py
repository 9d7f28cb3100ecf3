# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight of the cluster's networks and stacks, from the run's node facts."""

from __future__ import annotations

from ansible_collections.swarmops.cluster.plugins.module_utils._cluster_networks import (
    existing_networks, external_network_problems, ingress_subnet, network_problems,
    relay_problems)
from ansible_collections.swarmops.cluster.plugins.module_utils._cluster_plan import (
    probes_from_hostvars)


def network_preflight(networks, hostvars, nodes, pool=None, size=24):
    """{problems, ingress, known, subnets}: the network list judged against every node's
    facts, and each network's subnets.

    nodes: the inventory names of the cluster's nodes; pool/size: the swarm's default
    address pool (to predict the ingress subnet before the swarm exists).
    """
    probes = probes_from_hostvars(hostvars, list(nodes))
    ingress = ingress_subnet(probes, pool or [], size)
    existing = existing_networks(probes)
    known = sorted(set(existing) | {net.get("name") for net in networks})
    # Each network's subnets for stacks' variables (Mailu's POD_ADDRESS_RANGE): as the
    # engine allocated them, else as the inventory asks.
    subnets = {name: net.get("subnets") or [] for name, net in existing.items()}
    subnets.update({net["name"]: [net["subnet"]] for net in networks
                    if net.get("subnet") and not subnets.get(net.get("name"))})
    return {"problems": network_problems(networks, probes, ingress), "ingress": ingress,
            "known": known, "subnets": subnets}


def stack_preflight(rendered, network_plan, relay_variables):
    """Problems of the stacks rendered in preflight (the stack action's render_only
    results): unknown external networks, relay ranges holding the ingress subnet."""
    problems = []
    for result in rendered:
        if result.get("skipped") or "compose" not in result:
            continue
        name, compose = result["stack"], result["compose"]
        problems += external_network_problems(name, compose, set(network_plan["known"]))
        problems += relay_problems(name, compose, relay_variables, network_plan["ingress"])
    return problems


def present_stacks(stacks):
    """The stacks to deploy (state present, the default), in order."""
    return [stack for stack in stacks if stack.get("state", "present") == "present"]


def macvlan_configs(networks, host):
    """The config-only networks HOST carries: one per macvlan constrained to it, with the
    node's own ip_range (and parent, when it differs from the network's)."""
    configs = []
    for net in networks:
        node = (net.get("nodes") or {}).get(host)
        if net.get("driver") != "macvlan" or node is None:
            continue
        configs.append({"name": config_network_name(net), "subnet": net["subnet"],
                        "gateway": net.get("gateway"), "ip_range": (node or {}).get("ip_range"),
                        "parent": (node or {}).get("parent") or net.get("parent")})
    return configs


def config_network_name(net):
    """The config-only network a swarm-scope macvlan is made from."""
    return net.get("config_name") or "%s_config" % net["name"]


class FilterModule:
    """swarmops.cluster network and stack preflight."""

    def filters(self):
        """The filters this plugin provides."""
        return {"network_preflight": network_preflight, "stack_preflight": stack_preflight,
                "macvlan_configs": macvlan_configs, "config_network_name": config_network_name,
                "present_stacks": present_stacks}
