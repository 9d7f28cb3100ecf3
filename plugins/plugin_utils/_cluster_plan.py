# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster as preflight judges it, from the inventory and each node's live state.

Pure functions (no Ansible, no I/O except the injected resolver), so unit tests cover every
rule. Used on the controller by the roles' preflight filters. Private to this collection.

A node is a dict from ``cluster_nodes``: name, address (the IP others reach it on), source
(what the inventory said), manager, worker. A probe is the ``swarmops_node`` fact that
``node_facts`` returns, or None when the node was not (or could not be) read.
"""

from __future__ import annotations

import ipaddress
import socket

SWARM_PORT = 2377


def resolve_address(value, resolver=socket.getaddrinfo):
    """(ip, None) for an IP or a name the controller resolves, else (None, why).

    A name is resolved the way SSH resolves ansible_host on the controller (getaddrinfo,
    first answer), not by the nodes, which may not know the name.
    """
    text = str(value).strip()
    try:
        return str(ipaddress.ip_address(text.strip("[]"))), None
    except ValueError:
        pass
    try:
        answers = resolver(text, None, 0, socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        return None, "%r does not resolve on the controller (%s)" % (text, exc)
    if not answers:
        return None, "%r does not resolve on the controller" % text
    return str(ipaddress.ip_address(answers[0][4][0].split("%")[0])), None


def probes_from_hostvars(hostvars, names):
    """Each host's swarmops_node fact (node_facts, also delegated), None when unread."""
    probes = {}
    for name in names:
        facts = (hostvars[name].get("ansible_facts") or {}) if name in hostvars else {}
        probes[name] = facts.get("swarmops_node")
    return probes


def address_problems(nodes):
    """Addresses that do not resolve, or that two hosts share."""
    problems = []
    seen = {}
    for node in nodes:
        if node.get("address_error"):
            problems.append("%s: %s; set swarmops_node_address (or ansible_host) to an IP "
                            "or a name that resolves to the address other nodes reach it on"
                            % (node["name"], node["address_error"]))
            continue
        addr = node["address"]
        if addr in seen:
            problems.append("%s and %s share the address %s; each host needs its own "
                            "(swarmops_node_address)" % (seen[addr], node["name"], addr))
        else:
            seen[addr] = node["name"]
    return problems


def endpoint(addr, port=SWARM_PORT):
    """host:port of a swarm manager, IPv6 in brackets."""
    return ("[%s]:%d" if ":" in addr else "%s:%d") % (addr, port)


def host_address_problems(node, own):
    """The node's address (and an explicit advertise address) must be on the host itself."""
    problems = []
    for addr, what in ((node.get("address"), "address"), (node.get("advertise"),
                                                          "swarm advertise address")):
        if addr is None or addr in own or (what != "address" and addr == node["address"]):
            continue
        via = "" if addr != node["address"] or addr == node["source"] else \
            " (%s resolves to it)" % node["source"]
        problems.append("%s: the %s %s%s is not configured on the host (it has %s); set "
                        "swarmops_node_address (or ansible_host) to one of its own addresses"
                        % (node["name"], what, addr, via, ", ".join(own) or "none"))
    return problems


def engine_down_problems(name, probe):
    """An engine that is installed but does not answer: its swarm cannot be judged."""
    engine = probe.get("engine") or {}
    if engine.get("installed") and not engine.get("answering"):
        return ["%s: the Docker engine is installed but does not answer (%s); start it "
                "(systemctl start docker; journalctl -u docker says why it stopped): its "
                "swarm membership cannot be judged while it is down"
                % (name, engine.get("error") or "no error given")]
    return []


def engine_problems(name, probe):
    """Engine, daemon.json and docker group states no role can safely work with."""
    problems = engine_down_problems(name, probe)
    daemon = probe.get("daemon_json") or {}
    if daemon.get("error"):
        problems.append("%s: %s is not valid JSON (%s); fix or remove it - the docker role "
                        "writes it from swarmops_docker_daemon_options"
                        % (name, daemon.get("path", "/etc/docker/daemon.json"),
                           daemon["error"]))
    group = probe.get("group") or {}
    if group.get("error"):
        problems.append("%s: the %s group cannot be used: %s; repair /etc/group (vigr -g)"
                        % (name, group.get("name", "docker"), group["error"]))
    return problems


def hostname_problems(nodes, probes):
    """Hosts that share a host name: the engine names swarm nodes by it, so two of them
    are told apart only by id and address, and a person reading `docker node ls` cannot."""
    seen, problems = {}, []
    for node in nodes:
        hostname = (probes.get(node["name"]) or {}).get("hostname")
        if not hostname:
            continue
        if hostname in seen:
            problems.append("%s and %s share the host name %s; give each host its own "
                            "(hostnamectl set-hostname) and restart its engine - nothing "
                            "was changed" % (seen[hostname], node["name"], hostname))
        else:
            seen[hostname] = node["name"]
    return problems


def swarm_of(probe):
    """The node's swarm state from its probe; None when unknown or the engine is down."""
    return ((probe or {}).get("engine") or {}).get("swarm")


def swarm_state_problems(node, probe):
    """A swarm state the roles cannot plan from, or an advertise address that differs."""
    swarm = swarm_of(probe)
    if not swarm or swarm["state"] == "inactive":
        return []
    name = node["name"]
    if swarm["state"] == "locked":
        return ["%s: the manager is locked (autolock); unlock it with playbooks/unlock.yml "
                "(or docker swarm unlock there) and run again" % name]
    if swarm["state"] != "active":
        return ["%s: its swarm state is %s (%s); make it leave (docker swarm leave --force) "
                "and run again" % (name, swarm["state"], swarm.get("error") or "no error")]
    wanted = None if node.get("advertise_interface") else \
        node.get("advertise") or node.get("address")
    if wanted and swarm.get("node_addr") and swarm["node_addr"] != wanted:
        return ["%s is in a swarm advertising %s, but its inventory address is %s; set "
                "swarmops_node_address: %s, or make it leave the swarm (docker swarm leave)"
                % (name, swarm["node_addr"], wanted, swarm["node_addr"])]
    return []


def cluster_ids(nodes, probes):
    """{cluster id: [manager names]} of the swarms the inventory's managers are in."""
    ids = {}
    for node in nodes:
        swarm = swarm_of(probes.get(node["name"]))
        if swarm and swarm["state"] == "active" and swarm["is_manager"]:
            ids.setdefault(swarm["cluster_id"], []).append(node["name"])
    return ids


def choose_bootstrap(nodes, probes, play_hosts, cluster_id):
    """(name, problem): the manager whose swarm to keep, or the one to initialize it on."""
    managers = [n for n in nodes if n["manager"]]
    if cluster_id is not None:
        members = [n["name"] for n in managers + [n for n in nodes if not n["manager"]]
                   if (swarm_of(probes.get(n["name"])) or {}).get("cluster_id") == cluster_id]
        return members[0], None
    unknown = [n["name"] for n in managers if n["name"] not in play_hosts
               and swarm_of(probes.get(n["name"])) is None
               and ((probes.get(n["name"]) or {}).get("engine") or {}).get("installed", True)]
    if unknown:
        return None, ("cannot tell whether the inventory's managers already form a swarm: "
                      "%s outside this run (--limit) could not be read; make them reachable "
                      "or run without --limit" % ", ".join(unknown))
    in_play = [n["name"] for n in managers if n["name"] in play_hosts]
    if not in_play:
        return None, ("no inventory manager is in a swarm yet and none is in this run; "
                      "form the swarm with a run that includes the managers")
    return in_play[0], None


def membership_problems(nodes, probes, bootstrap):
    """Nodes that are in a swarm other than the one being kept."""
    keep = swarm_of(probes.get(bootstrap)) if bootstrap else None
    keep_id = keep["cluster_id"] if keep and keep["state"] == "active" else None
    keep_managers = set((keep or {}).get("manager_addrs") or []) if keep_id else set()
    problems = []
    for node in nodes:
        swarm = swarm_of(probes.get(node["name"]))
        if not swarm or swarm["state"] != "active" or swarm["is_manager"]:
            continue
        if keep_managers & set(swarm.get("manager_addrs") or []):
            continue
        problems.append("%s is a worker of another swarm (its managers: %s)%s; make it leave "
                        "(docker swarm leave) and run again"
                        % (node["name"], ", ".join(swarm.get("manager_addrs") or []) or "none",
                           "" if keep_id is None else ", not of swarm %s" % keep_id))
    return problems


def swarm_plan(nodes, probes, play_hosts, port=SWARM_PORT):
    """Every live-state problem, and the swarm to keep or form, in one controller pass.

    Returns problems (each naming the host, what was found and the fix), bootstrap (the
    manager to init on or read tokens from; it may be outside the run), cluster_id (None
    before init), endpoint (host:port to join), to_join (run hosts outside any swarm), init
    (whether the bootstrap manager must initialize the swarm) and addresses (each node's
    resolved address, so later tasks need not resolve again).
    """
    # Inventory-only checks (addresses among them) are swarm_topology_problems' to report,
    # and daemon.json and the docker group the docker preflight's (docker_host_problems).
    problems = []
    for node in nodes:
        probe = probes.get(node["name"])
        if probe is None:
            continue
        problems += host_address_problems(node, probe.get("addresses") or [])
        problems += engine_down_problems(node["name"], probe)
        problems += swarm_state_problems(node, probe)
    problems += hostname_problems(nodes, probes)
    ids = cluster_ids(nodes, probes)
    if len(ids) > 1:
        problems.append("the inventory's hosts are managers of different swarms: %s; make "
                        "the odd ones leave (docker swarm leave --force) or fix the inventory"
                        % "; ".join("%s in %s" % (", ".join(names), cid)
                                    for cid, names in sorted(ids.items())))
        return {"problems": problems, "bootstrap": None, "cluster_id": None,
                "endpoint": None, "to_join": [], "init": False,
                "addresses": {n["name"]: n["address"] for n in nodes}}
    cluster_id = next(iter(ids), None)
    bootstrap, problem = choose_bootstrap(nodes, probes, play_hosts, cluster_id)
    problems += [problem] if problem else []
    problems += membership_problems(nodes, probes, bootstrap)
    by_name = {n["name"]: n for n in nodes}
    joined = swarm_of(probes.get(bootstrap)) if bootstrap else None
    addr = (joined or {}).get("node_addr") or (
        (by_name[bootstrap].get("advertise") or by_name[bootstrap]["address"])
        if bootstrap else None)
    to_join = [n["name"] for n in nodes if n["name"] in play_hosts and n["name"] != bootstrap
               and (swarm_of(probes.get(n["name"])) or {}).get("state", "inactive")
               == "inactive"]
    return {"problems": problems, "bootstrap": bootstrap, "cluster_id": cluster_id,
            "endpoint": endpoint(addr, port) if addr else None, "to_join": to_join,
            "init": bool(bootstrap) and cluster_id is None,
            "addresses": {n["name"]: n["address"] for n in nodes}}
