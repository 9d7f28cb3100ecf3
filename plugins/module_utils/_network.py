# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One Docker network: read it, plan, apply.

The engine has no network update call: a network that differs from the task is refused
(or, with recreate, removed and created again when nothing is attached). ``parse_network``,
``attached_to``, ``desired_network``, ``check_desired`` and ``plan`` are pure functions of
engine responses and module parameters. Private to this collection.
"""

from __future__ import annotations

import ipaddress
import os
import time

from ansible_collections.swarmops.cluster.plugins.module_utils._docker_api import call
from ansible_collections.swarmops.cluster.plugins.module_utils._labels import (
    label_value_problems)
from ansible_collections.swarmops.cluster.plugins.module_utils._swarm import PlanError

# Driver options the engine adds by itself; they are never the task's doing.
ENGINE_SET_OPTIONS = frozenset(["com.docker.network.driver.overlay.vxlanid_list"])
# Options the module owns through their own parameters, compared on their own.
OWN_OPTIONS = ("encrypted", "parent")
# Keys of a swarm network's inspect Containers that are the engine's load-balancer endpoint.
ENGINE_ENDPOINTS = ("lb-", "ep-")
# Properties compared one by one, in the order differences are listed.
PROPERTIES = ("driver", "scope", "config_only", "config_from", "attachable", "internal",
              "encrypted", "parent")
SYS_CLASS_NET = "/sys/class/net"
CONFIG_ONLY_DRIVER = "null"
NOTHING_CHANGED = " - nothing was changed"
# How long a new swarm network may wait for the manager's allocator (seconds).
ALLOCATION_WAIT = 30


def parse_network(raw):
    """The module's view of one /networks/{id} response; {} when there is none."""
    if not raw:
        return {}
    options = dict(raw.get("Options") or {})
    return {
        "id": raw.get("Id"),
        "name": raw.get("Name"),
        "driver": raw.get("Driver"),
        "scope": raw.get("Scope"),
        "config_only": bool(raw.get("ConfigOnly")),
        "config_from": (raw.get("ConfigFrom") or {}).get("Network") or None,
        "attachable": bool(raw.get("Attachable")),
        "internal": bool(raw.get("Internal")),
        "encrypted": "encrypted" in options,
        "parent": options.get("parent") or None,
        "labels": dict(raw.get("Labels") or {}),
        "options": {k: v for k, v in options.items()
                    if k not in ENGINE_SET_OPTIONS and k not in OWN_OPTIONS},
        "subnets": subnets_of(raw),
    }


def subnets_of(raw):
    """[{subnet, gateway, ip_range}] from a network's IPAM config."""
    return [{"subnet": c.get("Subnet") or None, "gateway": c.get("Gateway") or None,
             "ip_range": c.get("IPRange") or None}
            for c in (raw.get("IPAM") or {}).get("Config") or []]


def find_network(networks, name, scope):
    """The /networks entry named exactly name (the engine's name filter matches substrings).

    A manager lists swarm and local networks, and a name may exist in both scopes: the one
    in the task's scope wins; two in the same scope are ambiguous.
    """
    named = [n for n in networks if n.get("Name") == name]
    if len(named) > 1:
        named = [n for n in named if n.get("Scope") == scope] or named
    if len(named) > 1:
        raise PlanError("network name %r names %d networks (%s); remove the extra ones with "
                        "docker network rm ID%s" % (name, len(named), ", ".join(
                            "%s %s" % (n["Id"][:12], n.get("Scope")) for n in named),
                            NOTHING_CHANGED))
    return named[0] if named else None


def service_targets(service):
    """Network IDs or names one /services entry references, in its spec and its endpoint."""
    spec = service.get("Spec") or {}
    nets = list((spec.get("TaskTemplate") or {}).get("Networks") or [])
    nets += spec.get("Networks") or []  # the older place for them
    targets = {n.get("Target") for n in nets}
    targets |= {v.get("NetworkID")
                for v in (service.get("Endpoint") or {}).get("VirtualIPs") or []}
    return targets


def attached_to(raw, services, networks):
    """What uses the network: services, containers on this host, networks configured from it.

    raw is the network's inspect; services the manager's /services (empty off a manager);
    networks this engine's /networks list.
    """
    refs = {raw.get("Id"), raw.get("Name")}
    # "lb-NAME" (and "ep-ID" while a service starts) is the engine's own load-balancer
    # endpoint of a swarm network, no container; container IDs are plain hex.
    containers = [c.get("Name") or cid for cid, c in (raw.get("Containers") or {}).items()
                  if not cid.startswith(ENGINE_ENDPOINTS)]
    # Services reference their network by ID; a name is tolerated for API-made specs.
    using = [s["Spec"]["Name"] for s in services or [] if service_targets(s) & refs]
    configured = [n["Name"] for n in networks or []
                  if (n.get("ConfigFrom") or {}).get("Network") == raw.get("Name")
                  and n.get("Id") != raw.get("Id")]
    return {"services": sorted(using), "containers": sorted(containers),
            "networks": sorted(set(configured))}


def desired_network(params):
    """The module's view of the network the task asks for."""
    config_only = bool(params.get("config_only"))
    subnets = None
    if params.get("subnet"):
        subnets = [{"subnet": params["subnet"], "gateway": params.get("gateway"),
                    "ip_range": params.get("ip_range")}]
    return {
        "name": params["name"],
        "state": params.get("state") or "present",
        "driver": params.get("driver") or default_driver(params),
        "scope": params.get("scope") or ("local" if config_only else "swarm"),
        "config_only": config_only,
        "config_from": params.get("config_from") or None,
        "attachable": bool(params.get("attachable")),
        "internal": bool(params.get("internal")),
        "encrypted": bool(params.get("encrypted")),
        "parent": params.get("parent") or None,
        "labels": params.get("labels"),
        "options": params.get("driver_options"),
        "subnets": subnets,
        "recreate": bool(params.get("recreate")),
    }


def default_driver(params):
    """macvlan when the task uses a macvlan piece, else overlay."""
    if params.get("config_only") or params.get("config_from") or params.get("parent"):
        return "macvlan"
    return "overlay"


def check_desired(desired):
    """Every problem with the task's options, at once, before anything is read or changed."""
    problems = label_value_problems(desired["labels"])
    problems += ["driver option %s=%r is a %s; driver option values are strings: quote it "
                 "in YAML" % (k, v, type(v).__name__)
                 for k, v in (desired["options"] or {}).items() if not isinstance(v, str)]
    problems += ["driver option %r has its own parameter; use %s instead of driver_options"
                 % (k, k) for k in OWN_OPTIONS if k in (desired["options"] or {})]
    problems += driver_problems(desired)
    for entry in desired["subnets"] or []:
        problems += address_problems(entry)
    if problems:
        raise PlanError("%s%s" % ("; ".join(problems), NOTHING_CHANGED))


def driver_problems(desired):
    """Option combinations Docker refuses or that cannot mean what they say."""
    driver, scope = desired["driver"], desired["scope"]
    problems = []
    if desired["encrypted"] and driver != "overlay":
        problems.append("encrypted is an overlay option; the %s driver has no encryption"
                        % driver)
    if desired["parent"] and driver != "macvlan":
        problems.append("parent is a macvlan option; set driver: macvlan")
    if driver == "overlay" and scope != "swarm":
        problems.append("overlay networks are swarm-scoped; drop scope: %s" % scope)
    if desired["config_only"] and scope != "local":
        problems.append("a config_only network is local to its host; drop scope: %s" % scope)
    # Not required_if: removing a config_only network needs neither.
    if desired["config_only"] and desired["state"] == "present" and not (
            desired["parent"] and desired["subnets"]):
        problems.append("a config_only network needs parent and subnet: without a subnet each "
                        "host's engine would pick its own for the swarm network")
    if desired["config_only"] and (desired["attachable"] or desired["internal"]):
        problems.append("a config_only network takes no attachable or internal; set them on "
                        "the config_from network")
    if desired["config_from"] and (desired["subnets"] or desired["parent"]
                                   or desired["options"] or desired["encrypted"]):
        problems.append("config_from takes subnet, gateway, ip_range, parent and driver "
                        "options from the config_only network %r; set them there"
                        % desired["config_from"])
    if desired["config_from"] and driver == "overlay":
        problems.append("config_from is for macvlan networks; set driver: macvlan")
    return problems


def address_problems(entry):
    """Why one {subnet, gateway, ip_range} cannot be an IPAM config; [] when it can."""
    try:
        subnet = ipaddress.ip_network(entry["subnet"], strict=True)
    except ValueError as exc:
        return ["subnet %r is not a network in CIDR form (%s)" % (entry["subnet"], exc)]
    problems = []
    if subnet.version != 4:
        problems.append("subnet %s is IPv6; this module manages IPv4 networks" % subnet)
    if entry.get("gateway"):
        try:
            if ipaddress.ip_address(entry["gateway"]) not in subnet:
                problems.append("gateway %s is outside subnet %s" % (entry["gateway"], subnet))
        except ValueError as exc:
            problems.append("gateway %r is not an address (%s)" % (entry["gateway"], exc))
    if entry.get("ip_range"):
        try:
            ip_range = ipaddress.ip_network(entry["ip_range"], strict=True)
            if ip_range.version != subnet.version or not ip_range.subnet_of(subnet):
                problems.append("ip_range %s is outside subnet %s" % (ip_range, subnet))
        except ValueError as exc:
            problems.append("ip_range %r is not a network in CIDR form (%s)"
                            % (entry["ip_range"], exc))
    return problems


def check_parent(parent, interfaces):
    """The macvlan parent must exist on this host; a VLAN parent (eth0.10) needs its link."""
    if not parent:
        return
    # The macvlan driver creates the 802.1q sub-interface itself, but not its base link.
    link = parent.split(".", 1)[0] if "." in parent and parent not in interfaces else parent
    if link not in interfaces:
        raise PlanError("parent interface %s does not exist on this host; its interfaces are: "
                        "%s%s" % (link, ", ".join(sorted(interfaces)), NOTHING_CHANGED))


def host_interfaces(sys_class_net=SYS_CLASS_NET):
    """The network interfaces of this host, as the kernel lists them."""
    return os.listdir(sys_class_net)


def same_subnet(current, wanted):
    """Two CIDR strings name the same network (the engine may spell it differently)."""
    try:
        return ipaddress.ip_network(current) == ipaddress.ip_network(wanted)
    except (TypeError, ValueError):
        return current == wanted


def show(value):
    """A property value as a difference line prints it."""
    if value is None or value == {}:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def subnet_differences(current, desired):
    """'key: now -> wanted' lines for the IPAM config; a subnet left out is the engine's pick."""
    if desired["subnets"] is None:
        return []
    wanted = desired["subnets"][0]
    now = current["subnets"][0] if len(current["subnets"]) == 1 else {}
    if len(current["subnets"]) > 1:
        return ["subnets: %s -> %s" % (", ".join(s["subnet"] for s in current["subnets"]),
                                       wanted["subnet"])]
    lines = []
    if not same_subnet(now.get("subnet"), wanted["subnet"]):
        lines.append("subnet: %s -> %s" % (show(now.get("subnet")), wanted["subnet"]))
    # The engine fills in a gateway when none is given, so only a requested one is compared.
    if wanted["gateway"] and now.get("gateway") != wanted["gateway"]:
        lines.append("gateway: %s -> %s" % (show(now.get("gateway")), wanted["gateway"]))
    if not same_subnet(now.get("ip_range"), wanted["ip_range"]):
        lines.append("ip_range: %s -> %s" % (show(now.get("ip_range")),
                                             show(wanted["ip_range"])))
    return lines


def differences(current, desired):
    """One 'key: now -> wanted' line per property the existing network has differently."""
    wanted = dict(desired)
    if desired["config_only"]:
        # The engine lists every config-only network with driver "null", whatever was sent.
        wanted["driver"] = CONFIG_ONLY_DRIVER
    lines = ["%s: %s -> %s" % (key, show(current[key]), show(wanted[key]))
             for key in PROPERTIES if current[key] != wanted[key]]
    # Labels and driver options left out of the task are not compared: the engine and
    # tools like docker stack add their own.
    if desired["labels"] is not None and current["labels"] != desired["labels"]:
        lines.append("labels: %s -> %s" % (show(current["labels"]), show(desired["labels"])))
    if desired["options"] is not None and current["options"] != desired["options"]:
        lines.append("driver_options: %s -> %s" % (show(current["options"]),
                                                   show(desired["options"])))
    return lines + subnet_differences(current, desired)


def describe_attached(attached):
    """'services a, b; containers c' for messages."""
    parts = ["%s %s" % (kind, ", ".join(names)) for kind, names in sorted(attached.items())
             if names]
    return "; ".join(parts)


def create_request(desired):
    """The /networks/create body (the SDK's create_network cannot send ConfigOnly/From)."""
    options = dict(desired["options"] or {})
    if desired["encrypted"]:
        options["encrypted"] = ""
    if desired["parent"]:
        options["parent"] = desired["parent"]
    body = {"Name": desired["name"], "Driver": desired["driver"], "Scope": desired["scope"],
            "Attachable": desired["attachable"], "Internal": desired["internal"],
            "Labels": dict(desired["labels"] or {}), "Options": options}
    if desired["subnets"]:
        body["IPAM"] = {"Driver": "default", "Config": [
            {key: entry[name] for key, name in (("Subnet", "subnet"), ("Gateway", "gateway"),
                                                ("IPRange", "ip_range")) if entry[name]}
            for entry in desired["subnets"]]}
    if desired["config_only"]:
        # The engine refuses operator fields on a config-only network, also when false.
        for key in ("Scope", "Attachable", "Internal"):
            del body[key]
        body["ConfigOnly"] = True
    if desired["config_from"]:
        body["ConfigFrom"] = {"Network": desired["config_from"]}
    return body


def plan(current, desired):
    """Actions that bring the network to the task's state.

    current is {} or parse_network(...) plus 'attached' (attached_to(...)); desired is
    desired_network(...). Raises PlanError, changing nothing, when the network differs
    and may not be recreated, or is in use and would have to go.
    """
    check_desired(desired)
    if desired["state"] == "absent":
        if not current:
            return []
        refuse_if_attached(current, "remove it")
        return [{"action": "remove", "id": current["id"], "name": current["name"]}]
    if not current:
        return [{"action": "create", "name": desired["name"],
                 "request": create_request(desired)}]
    lines = differences(current, desired)
    if not lines:
        return []
    if not desired["recreate"]:
        in_use = describe_attached(current["attached"])
        raise PlanError("network %s exists with other properties and Docker cannot change a "
                        "network in place: %s. Attached: %s. Set recreate: true to remove "
                        "and create it (only when nothing is attached), or change the task "
                        "to match%s" % (desired["name"], "; ".join(lines), in_use or "nothing",
                                        NOTHING_CHANGED))
    refuse_if_attached(current, "recreate it (%s)" % "; ".join(lines))
    return [{"action": "remove", "id": current["id"], "name": current["name"],
             "differences": lines},
            {"action": "create", "name": desired["name"], "request": create_request(desired)}]


def refuse_if_attached(current, what):
    """Docker networks in use must not go away under their services and containers."""
    in_use = describe_attached(current["attached"])
    if in_use:
        raise PlanError("network %s is in use by %s; cannot %s. Remove or move those first "
                        "(docker service update --network-rm, docker network disconnect, "
                        "state: absent for networks made with config_from)%s"
                        % (current["name"], in_use, what, NOTHING_CHANGED))


def describe(view):
    """The diff view of one network: its properties without engine bookkeeping."""
    if not view:
        return {}
    keys = ("name",) + PROPERTIES + ("labels", "options", "subnets")
    return {key: view.get(key) for key in keys}


def predicted(desired):
    """What the network will look like after create, as far as the task says."""
    view = {key: desired[key] for key in ("name",) + PROPERTIES}
    if desired["config_only"]:
        view["driver"] = CONFIG_ONLY_DRIVER
    view.update(labels=dict(desired["labels"] or {}), options=dict(desired["options"] or {}),
                subnets=desired["subnets"] or [])
    return view


def read_current(client, desired):
    """(view with 'attached', raw inspect) of the task's network; ({}, {}) when absent.

    Swarm networks and services are only known to managers, so a swarm-scoped task must run
    on one; config_only (local) networks are read on any node.
    """
    info = call("info", client.info)
    manager = bool((info.get("Swarm") or {}).get("ControlAvailable"))
    if desired["scope"] == "swarm" and not manager:
        raise PlanError("%s is not a swarm manager and network %s is swarm-scoped; run the "
                        "task on a manager (delegate_to one of swarm_managers)%s"
                        % (info.get("Name"), desired["name"], NOTHING_CHANGED))
    networks = call("network list", client.networks)
    found = find_network(networks, desired["name"], desired["scope"])
    if found is None:
        return {}, {}
    raw = call("network inspect", client.inspect_network, found["Id"])
    services = call("service list", client.services) if manager else []
    view = parse_network(raw)
    view["attached"] = attached_to(raw, services, networks)
    return view, raw


def post_create(client, request):
    """Create a network from a /networks/create body.

    The SDK's create_network has no ConfigOnly / ConfigFrom parameters, so the body goes
    through the APIClient's own request helpers, as create_network itself sends it.
    """
    # pylint: disable=protected-access
    response = client._post_json(client._url("/networks/create"), data=request)
    return client._result(response, json=True)


def apply(client, actions):
    """Run the planned actions in order; the inspect of the network created last, or {}."""
    created = {}
    for action in actions:
        if action["action"] == "remove":
            call("network remove %s" % action["name"], client.remove_network, action["id"])
        else:
            created = call("network create %s" % action["name"], post_create, client,
                           action["request"])
    if not created:
        return {}
    return inspect_allocated(client, created["Id"])


def allocated(raw):
    """The manager's allocator has filled in a new swarm network (driver, subnet)."""
    if raw.get("Scope") != "swarm":
        return True
    # A config_from network keeps an empty IPAM config: its addresses are per host.
    configured = bool((raw.get("ConfigFrom") or {}).get("Network"))
    return bool(raw.get("Driver")) and (configured or bool(subnets_of(raw)))


def inspect_allocated(client, net_id, wait=ALLOCATION_WAIT, step=0.2):
    """The inspect of a new network once allocated, so the subnet the engine picked shows.

    A manager answers the create before its allocator runs; an inspect right away can show
    no driver and no IPAM config at all.
    """
    deadline = time.monotonic() + wait
    raw = call("network inspect", client.inspect_network, net_id)
    while not allocated(raw) and time.monotonic() < deadline:
        time.sleep(step)
        raw = call("network inspect", client.inspect_network, net_id)
    return raw
