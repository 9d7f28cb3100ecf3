# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight of the cluster's networks and stacks, from the run's node facts."""

from __future__ import annotations

from ansible_collections.swarmops.cluster.plugins.plugin_utils._cluster_networks import (
    config_params, existing_networks, external_network_problems, ingress_subnet,
    network_problems, pending, relay_problems, swarm_params)
from ansible_collections.swarmops.cluster.plugins.plugin_utils._cluster_plan import (
    probes_from_hostvars)
from ansible_collections.swarmops.cluster.plugins.plugin_utils._stack_placement import (
    unpinned_bind_mounts)


def network_preflight(networks, hostvars, nodes, pool=None, size=24, manager=None,
                      retired=()):
    """{problems, ingress, known, subnets, swarm, config}: the network list judged against
    every node's facts, each network's subnets, and the network module calls still needed:
    swarm (on MANAGER) and config ({host: config-only networks}).

    nodes: the inventory names of the cluster's nodes; pool/size: the swarm's default
    address pool (to predict the ingress subnet before the swarm exists); retired: hosts
    being replaced or removed (swarmops_retired), whose macvlan entries are moot.
    """
    networks = [dict(net, nodes={h: c for h, c in net["nodes"].items() if h not in retired})
                if isinstance(net.get("nodes"), dict) else net for net in networks]
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
            "known": known, "subnets": subnets,
            "swarm": pending(swarm_params(networks), probes.get(manager)),
            "config": {host: pending(config_params(networks, host), probes.get(host))
                       for host in nodes}}


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


def stack_placement_warnings(rendered, dockerdir):
    """With local storage: services that bind-mount DOCKERDIR but may run on any node."""
    warnings = []
    for result in rendered:
        if not result.get("skipped") and "compose" in result:
            warnings += unpinned_bind_mounts(result["stack"], result["compose"], dockerdir)
    return warnings


def present_stacks(stacks):
    """The stacks to deploy (state present, the default), in order."""
    return [stack for stack in stacks if stack.get("state", "present") == "present"]


class FilterModule:
    """swarmops.cluster network and stack preflight."""

    def filters(self):
        """The filters this plugin provides."""
        return {"network_preflight": network_preflight, "stack_preflight": stack_preflight,
                "present_stacks": present_stacks,
                "stack_placement_warnings": stack_placement_warnings}
