# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight of the cluster's networks and stacks, computed on the controller. Pure.

Judged on the inventory's network list, each host's node_facts (interfaces, and on the
managers the engine's networks) and the stacks rendered in preflight:

- subnets parse, gateways and ranges lie inside them, and no subnet overlaps another one,
  the swarm's ingress, a docker network the cluster already has, or a host's own network
  (a macvlan's subnet is its parent's network by design: only other interfaces count);
- a macvlan's parent exists on every node it is constrained to, and the nodes' address
  ranges neither overlap nor hold a host's address;
- a stack's external networks exist or are in the list;
- relay / trusted ranges (Mailu's RELAYNETS) do not contain the ingress subnet, whose
  addresses every client reaching a published port through the routing mesh comes from:
  such a relay range makes an open relay.

Private to this collection.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.swarmops.cluster.plugins.module_utils._network import (
    PlanError, desired_network, plan)

# Docker's first ingress subnet when the swarm has no default address pool.
DOCKER_INGRESS = "10.0.0.0/24"
DRIVERS = ("overlay", "macvlan")


def parse_net(text, what, problems):
    """An ip_network, or None with a problem naming WHAT."""
    try:
        return ipaddress.ip_network(str(text), strict=True)
    except ValueError as err:
        problems.append("%s: %s is not a network in CIDR form (%s)" % (what, text, err))
        return None


def ingress_subnet(probes, pool, size):
    """The ingress subnet: as a manager's engine reports it, else as init will pick it
    (the first subnet of the default address pool, else docker's own default)."""
    for probe in probes.values():
        for net in (probe or {}).get("networks") or []:
            if net.get("ingress") and net.get("subnets"):
                return net["subnets"][0]
    if pool:
        return str(next(ipaddress.ip_network(pool[0]).subnets(new_prefix=int(size))))
    return DOCKER_INGRESS


def existing_networks(probes):
    """{name: network} the engines report (managers see every swarm network)."""
    found = {}
    for probe in probes.values():
        for net in (probe or {}).get("networks") or []:
            found.setdefault(net["name"], net)
    return found


def shape_problems(net, problems):
    """Driver, subnet, gateway and ranges of one network entry."""
    what = "network %s" % net.get("name")
    if not net.get("name"):
        problems.append("a network entry has no name: %r" % (net,))
    if net.get("driver", "overlay") not in DRIVERS:
        problems.append("%s: driver %s; use one of %s" % (what, net.get("driver"),
                                                          ", ".join(DRIVERS)))
    subnet = parse_net(net["subnet"], what, problems) if net.get("subnet") else None
    ranges = [(what + " ip_range", net.get("ip_range"))] + [
        ("%s on %s ip_range" % (what, host), (cfg or {}).get("ip_range"))
        for host, cfg in sorted((net.get("nodes") or {}).items())]
    for label, value in ranges:
        rng = parse_net(value, label, problems) if value else None
        if rng and subnet and not rng.subnet_of(subnet):
            problems.append("%s %s is not inside subnet %s" % (label, rng, subnet))
    if net.get("gateway") and subnet:
        try:
            if ipaddress.ip_address(net["gateway"]) not in subnet:
                problems.append("%s: gateway %s is not inside subnet %s"
                                % (what, net["gateway"], subnet))
        except ValueError:
            problems.append("%s: gateway %s is not an address" % (what, net["gateway"]))
    if net.get("driver") == "macvlan" and not (net.get("subnet") and net.get("nodes")):
        problems.append("%s: a macvlan needs subnet and nodes (each with its ip_range)" % what)
    return subnet


def overlap_problems(named, taken, pairwise=True):
    """Subnets overlapping what is already taken ([(label, network)]) and, with PAIRWISE,
    one another."""
    problems = []
    for i, (name, subnet) in enumerate(named):
        others = [("network %s" % n, net) for n, net in named[i + 1:]] if pairwise else []
        for other, net in others + taken:
            if subnet.version == net.version and subnet.overlaps(net):
                problems.append("network %s: subnet %s overlaps %s (%s); pick a free range"
                                % (name, subnet, other, net))
    return problems


def host_networks(probes):
    """[(label, network)] of every host's interfaces (veth pairs carry no network)."""
    taken = []
    for host, probe in sorted(probes.items()):
        for ifname, cidrs in sorted(((probe or {}).get("interfaces") or {}).items()):
            for cidr in cidrs:
                net = ipaddress.ip_interface(cidr).network
                taken.append(("%s's interface %s" % (host, ifname), net))
    return taken


def macvlan_problems(net, probes):
    """The parent on every constrained node; per-node ranges apart and free of hosts."""
    problems, ranges = [], []
    addresses = [ipaddress.ip_address(a) for p in probes.values()
                 for a in (p or {}).get("addresses") or []]
    for host, cfg in sorted((net.get("nodes") or {}).items()):
        parent = (cfg or {}).get("parent") or net.get("parent")
        probe = probes.get(host)
        if host not in probes:
            problems.append("network %s: node %s is not in the inventory" % (net["name"], host))
        elif probe is not None and parent not in (probe.get("interfaces") or {}):
            problems.append("network %s: parent interface %s does not exist on %s (it has %s)"
                            % (net["name"], parent, host,
                               ", ".join(sorted(probe.get("interfaces") or {}))))
        try:
            rng = ipaddress.ip_network((cfg or {}).get("ip_range"))
        except (TypeError, ValueError):
            continue  # reported by shape_problems
        problems += ["network %s: %s's ip_range %s holds host address %s"
                     % (net["name"], host, rng, a) for a in addresses if a in rng]
        problems += ["network %s: the ip_ranges of %s and %s overlap (docker derives MACs "
                     "from addresses: a shared address breaks both)" % (net["name"], other, host)
                     for other, prev in ranges if prev.overlaps(rng)]
        ranges.append((host, rng))
    return problems


def network_problems(networks, probes, ingress):
    """Every problem of the inventory's network list; [] when it can be applied.

    A macvlan's subnet is the LAN of its parent by design, so hosts' own networks are
    judged against overlays only; a macvlan's ranges must instead hold no host address.
    """
    problems, named, overlays = [], [], []
    existing = existing_networks(probes)
    for net in networks:
        subnet = shape_problems(net, problems)
        if net.get("driver") == "macvlan":
            problems += macvlan_problems(net, probes)
        if subnet:
            named.append((net["name"], subnet))
            if net.get("driver", "overlay") != "macvlan":
                overlays.append((net["name"], subnet))
    names = {name for name, _subnet in named}
    taken = [("the ingress network", ipaddress.ip_network(ingress))]
    for name, net in sorted(existing.items()):
        if name in names or net.get("ingress") or net.get("config_only") \
                or net.get("config_from") in names:
            continue  # our own (compared by the module), or ingress (above)
        taken += [("docker network %s" % name, ipaddress.ip_network(s))
                  for s in net.get("subnets") or []]
    problems += overlap_problems(named, taken)
    return problems + overlap_problems(overlays, host_networks(probes), pairwise=False)


def relay_problems(stack, compose, relay_variables, ingress):
    """Relay/trusted ranges in a rendered stack's environments that hold the ingress."""
    problems = []
    ingress_net = ipaddress.ip_network(ingress)
    for svc_name, svc in sorted((compose.get("services") or {}).items()):
        env = (svc or {}).get("environment") or {}
        if isinstance(env, list):
            env = dict(item.split("=", 1) for item in env if "=" in item)
        for var in relay_variables:
            for item in str(env.get(var) or "").replace(";", ",").replace(" ", ",").split(","):
                try:
                    rng = ipaddress.ip_network(item.strip(), strict=False)
                except ValueError:
                    continue
                if rng.version == ingress_net.version and rng.overlaps(ingress_net):
                    problems.append(
                        "stack %s: service %s: %s=%s holds the ingress subnet %s: every "
                        "client reaching a published port comes from it, so this is an open "
                        "relay; list only your own networks" % (stack, svc_name, var,
                                                                env[var], ingress_net))
    return problems


def external_network_problems(stack, compose, known):
    """External networks a rendered stack names that neither exist nor are planned."""
    problems = []
    for key, spec in sorted((compose.get("networks") or {}).items()):
        spec = spec or {}
        external = spec.get("external")
        # compose 3.x also spells it external: {name: NAME}
        name = (external.get("name") if isinstance(external, dict) else None) \
            or spec.get("name") or key
        if external and name not in known:
            problems.append("stack %s: external network %s does not exist and is not in "
                            "swarmops_networks; add it there or create it first"
                            % (stack, name))
    return problems


def config_network_name(net):
    """The config-only network a swarm-scope macvlan is made from."""
    return net.get("config_name") or "%s_config" % net["name"]


def config_params(networks, host):
    """The network module's options for the config-only networks HOST carries: one per
    macvlan constrained to it, with the node's own ip_range (and parent, if its own)."""
    params = []
    for net in networks:
        node = (net.get("nodes") or {}).get(host)
        if net.get("driver") != "macvlan" or node is None:
            continue
        params.append({"name": config_network_name(net), "config_only": True,
                       "subnet": net["subnet"], "gateway": net.get("gateway"),
                       "ip_range": (node or {}).get("ip_range"),
                       "parent": (node or {}).get("parent") or net.get("parent")})
    return params


def swarm_params(networks):
    """The network module's options for every swarm network of the list."""
    params = []
    for net in networks:
        common = {key: net[key] for key in ("attachable", "internal", "labels")
                  if net.get(key) is not None}
        if net.get("driver") == "macvlan":
            params.append(dict(common, name=net["name"], driver="macvlan",
                               config_from=config_network_name(net)))
            continue
        params.append(dict(common, name=net["name"], driver=net.get("driver", "overlay"),
                           **{key: net[key] for key in ("subnet", "gateway", "ip_range",
                                                        "encrypted", "driver_options")
                              if net.get(key) is not None}))
    return params


def pending(params_list, probe):
    """The entries of PARAMS_LIST the network module would act on (or refuse), judged with
    its own planner on the host's preflight read; all of them when the host was not read.
    A re-run whose networks all exist as listed then makes no network call at all."""
    if probe is None:
        return list(params_list)
    views = [n["view"] for n in probe.get("networks") or [] if n.get("view")]
    result = []
    for params in params_list:
        desired = desired_network(params)
        named = [v for v in views if v["name"] == params["name"]]
        if len(named) > 1:
            named = [v for v in named if v["scope"] == desired["scope"]]
        if len(named) != 1:
            result.append(params)
            continue
        current = dict(named[0], attached={"services": [], "containers": [], "networks": []})
        try:
            if plan(current, desired):
                result.append(params)
        except PlanError:
            result.append(params)  # the module names the difference and what is attached
    return result
