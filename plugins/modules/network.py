#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One Docker network: a swarm overlay or macvlan network, or a host's config-only network."""

from __future__ import annotations

DOCUMENTATION = r"""
module: network
short_description: Create or remove a Docker network (swarm overlay, macvlan, config-only)
version_added: 0.1.0
description:
  - Creates a swarm-scoped V(overlay) or V(macvlan) network on a swarm manager, or a host's
    local O(config_only) network that a swarm-scoped macvlan network takes its addresses and
    parent interface from.
  - "Docker cannot change a network in place. When the network exists with other properties
    the task fails, listing each difference (C(subnet: 10.1.0.0/24 -> 10.2.0.0/24)) and the
    services and containers attached; O(recreate=true) removes and creates it, and only when
    nothing is attached."
  - A network that services, containers or other networks (O(config_from)) use is never
    removed, also not for O(state=absent); the task fails naming them.
  - All options are checked (subnet, gateway and ip_range parse, gateway and ip_range lie in
    the subnet, the parent interface exists) before anything is read or changed.
extends_documentation_fragment:
  - swarmops.cluster.engine
options:
  name:
    description: The network's name.
    type: str
    required: true
  state:
    description: V(present) creates the network; V(absent) removes it when nothing uses it.
    type: str
    choices: [present, absent]
    default: present
  driver:
    description:
      - The network driver. Left out, V(macvlan) when O(config_only), O(config_from) or
        O(parent) is set, else V(overlay).
    type: str
    choices: [overlay, macvlan]
  scope:
    description:
      - V(swarm) (the default) for networks the swarm's services use; run the task on a
        manager. V(local) for O(config_only) networks (their default) and host-only macvlan.
    type: str
    choices: [swarm, local]
  attachable:
    description: Standalone containers may attach (swarm-scoped networks).
    type: bool
    default: false
  internal:
    description: No route out of the network.
    type: bool
    default: false
  encrypted:
    description: Encrypt the overlay's VXLAN traffic (IPsec; driver option C(encrypted)).
    type: bool
    default: false
  labels:
    description:
      - Labels of the network. Values must be strings. Left out, existing labels are not
        compared.
    type: dict
  subnet:
    description:
      - The network's IPv4 subnet in CIDR form. Left out, the engine picks one from its
        default address pool; the return value RV(subnets) shows the one it picked, and a
        later run does not compare it.
    type: str
  gateway:
    description: The gateway address; must lie in O(subnet).
    type: str
  ip_range:
    description:
      - The range containers get addresses from; must lie in O(subnet). For a config-only
        macvlan network, this host's own share of the subnet, distinct on every host.
    type: str
  driver_options:
    description:
      - Further driver options (values are strings). Use O(encrypted) and O(parent) for those
        two. Left out, existing options are not compared.
    type: dict
  parent:
    description:
      - The host interface a macvlan network sits on (driver option C(parent)), which must
        exist on the host the task runs on (C(/sys/class/net)). A VLAN sub-interface such as
        C(eth0.10) is created by the driver; its base interface must exist.
    type: str
  config_only:
    description:
      - Create a local configuration-only network, as C(docker network create --config-only)
        does. It holds O(parent), O(subnet), O(gateway) and this host's O(ip_range) for a
        swarm macvlan network created with O(config_from), and carries no containers itself.
      - Needs O(parent) and O(subnet). Run it on every host the macvlan network's tasks may
        land on; the manager that creates the O(config_from) network needs one only when
        tasks may run there too.
    type: bool
    default: false
  config_from:
    description:
      - Create a swarm-scoped macvlan network (C(docker network create --scope swarm
        --config-from NAME)) that takes its configuration from the config-only network
        O(config_from) of each host. Its O(driver) is V(macvlan); subnet, gateway, ip_range,
        parent and driver options come from the config-only networks.
    type: str
  recreate:
    description:
      - When the network exists with other properties, remove and create it. Refused while
        services, containers or networks use it.
    type: bool
    default: false
notes:
  - Supports check mode and diff mode.
  - Swarm-scoped networks are listed and changed on managers only; services attached to
    them are found in the services' specs and endpoints. Containers are those the inspect
    on the host the task runs on shows.
  - Swarm-scoped macvlan, as measured on Docker 20.10.24 (Debian 12 docker.io), API 1.41.
    A config-only network is listed with driver C(null) whatever driver it is created with,
    scope C(local), its subnet, gateway and ip_range in IPAM and C(parent) in its options; the
    module compares it as such, so O(driver) does not matter for O(config_only).
  - The manager creating the O(config_from) network does not need a config-only network of
    its own; the engine accepts the name unchecked. On a manager the swarm network is listed
    with driver C(macvlan), C(ConfigFrom) naming the config-only network, and no IPAM config
    or options. Each node where a task lands builds its local copy from its own config-only
    network (its subnet, ip_range and parent show in that node's inspect); a node without one
    rejects the task (C(configuration network "NAME" does not exist)). So run the
    O(config_only) task on every node, managers included, that may run the network's tasks.
  - A config-only network is not removed while a network is configured from it (the engine
    refuses, C(configuration network "NAME" is in use)); the module names those networks.
  - Containers attached on other hosts are not in the manager's inspect and the engine's
    task list leaves out their attachments; the engine itself refuses to remove a swarm
    network they use (C(network ID is in use by task ID)), and the task fails with that.
author:
  - swarmops.cluster contributors (@swarmops)
"""

EXAMPLES = r"""
- name: An attachable, encrypted overlay network for the apps
  swarmops.cluster.network:
    name: apps
    attachable: true
    encrypted: true
    labels: {owner: platform}
  delegate_to: "{{ groups['swarm_managers'][0] }}"

- name: An overlay with a fixed subnet, for an app that needs its address range
  swarmops.cluster.network:
    name: mail
    subnet: 10.250.7.0/24
  register: mail_net
  run_once: true
  delegate_to: "{{ groups['swarm_managers'][0] }}"

- name: Hand the real range to the app (Mailu's POD_ADDRESS_RANGE)
  ansible.builtin.set_fact:
    mailu_pod_address_range: "{{ mail_net.subnets[0].subnet }}"

- name: Each host's share of a macvlan LAN segment
  swarmops.cluster.network:
    name: lan-config
    config_only: true
    parent: eth0
    subnet: 192.168.50.0/24
    gateway: 192.168.50.1
    ip_range: "{{ lan_ip_range }}"   # e.g. 192.168.50.64/28 on this host, .80/28 on the next

- name: The swarm macvlan network, from the hosts' config-only networks
  swarmops.cluster.network:
    name: lan
    config_from: lan-config
    attachable: true
  run_once: true
  delegate_to: "{{ groups['swarm_managers'][0] }}"

- name: Remove a network nothing uses any more
  swarmops.cluster.network:
    name: old-apps
    state: absent
"""

RETURN = r"""
network:
  description:
    - The engine's inspect of the network after the run; empty when it is absent, and in
      check mode when it would be created or recreated.
  returned: always
  type: dict
subnets:
  description:
    - The network's IPAM configs, including a subnet the engine picked from its pool. In
      check mode before a create, the requested one (empty when the engine would pick).
      Empty for a config_from network, whose addresses are in the hosts' config-only ones.
  returned: always
  type: list
  elements: dict
  sample: [{"subnet": "10.250.7.0/24", "gateway": "10.250.7.1", "ip_range": null}]
actions:
  description: Changes made (or predicted in check mode).
  returned: always
  type: list
  elements: dict
  sample: [{"action": "create", "name": "apps",
            "request": {"Name": "apps", "Driver": "overlay", "Scope": "swarm",
                        "Attachable": true, "Internal": false, "Labels": {},
                        "Options": {"encrypted": ""}}}]
diff:
  description: Before and after views of the network's properties.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.cluster.plugins.module_utils._docker_api import (
    ENGINE_ARGUMENT_SPEC, EngineError, connect, fail)
from ansible_collections.swarmops.cluster.plugins.module_utils._network import (
    apply, check_desired, check_parent, describe, desired_network, host_interfaces,
    parse_network, plan, predicted, read_current, subnets_of)
from ansible_collections.swarmops.cluster.plugins.module_utils._swarm import PlanError

ARGUMENT_SPEC = dict(
    ENGINE_ARGUMENT_SPEC,
    name={"type": "str", "required": True},
    state={"type": "str", "choices": ["present", "absent"], "default": "present"},
    driver={"type": "str", "choices": ["overlay", "macvlan"]},
    scope={"type": "str", "choices": ["swarm", "local"]},
    attachable={"type": "bool", "default": False},
    internal={"type": "bool", "default": False},
    encrypted={"type": "bool", "default": False},
    labels={"type": "dict"},
    subnet={"type": "str"},
    gateway={"type": "str"},
    ip_range={"type": "str"},
    driver_options={"type": "dict"},
    parent={"type": "str"},
    config_only={"type": "bool", "default": False},
    config_from={"type": "str"},
    recreate={"type": "bool", "default": False},
)


def main():
    """Check the options, read, plan, apply unless check mode, report."""
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
        required_by={"gateway": "subnet", "ip_range": "subnet"},
        mutually_exclusive=[("config_only", "config_from"), ("config_from", "subnet"),
                            ("config_from", "parent"), ("config_from", "driver_options")])
    desired = desired_network(module.params)
    try:
        check_desired(desired)
        if desired["state"] == "present":
            check_parent(desired["parent"], host_interfaces())
    except PlanError as err:
        module.fail_json(msg=str(err), actions=[])
    client = connect(module)
    actions = []
    try:
        current, raw = read_current(client, desired)
        actions = plan(current, desired)
        if actions and not module.check_mode:
            raw = apply(client, actions)
    except PlanError as err:
        module.fail_json(msg=str(err), actions=[])
    except EngineError as err:
        # A failed create after a remove leaves the network gone: say what was planned.
        fail(module, err, actions=actions)
    after = describe(parse_network(raw))
    if actions and module.check_mode:
        raw = {}
        after = {} if desired["state"] == "absent" else describe(predicted(desired))
    subnets = subnets_of(raw) if raw else (after.get("subnets") or [])
    module.exit_json(changed=bool(actions), actions=actions, network=raw, subnets=subnets,
                     diff={"before": describe(current), "after": after})


if __name__ == "__main__":
    main()
