#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read-only swarm state of the managed node."""

from __future__ import annotations

DOCUMENTATION = r"""
module: swarm_info
short_description: Read the managed node's Docker Swarm state, on managers and workers alike
version_added: 0.1.0
description:
  - Reads the engine's C(/info) local node state, so it works on every node whatever its
    role. On a manager it also lists the swarm's nodes.
  - Never changes anything.
extends_documentation_fragment:
  - swarmops.cluster.engine
options:
  nodes:
    description: On a manager, also return every node of the swarm.
    type: bool
    default: true
  join_tokens:
    description: On a manager, also return the join tokens (secrets; use C(no_log)).
    type: bool
    default: false
notes:
  - Supports check mode; it never changes anything.
author:
  - swarmops.cluster contributors (@swarmops)
"""

EXAMPLES = r"""
- name: Learn every node's swarm state
  swarmops.cluster.swarm_info:
  register: swarm_state

- name: Show the managers' view of the cluster
  ansible.builtin.debug:
    var: swarm_state.swarm.nodes
  when: swarm_state.swarm.is_manager
"""

RETURN = r"""
swarm:
  description: The node's swarm state.
  returned: always
  type: dict
  contains:
    state:
      description: Local node state (inactive, pending, active, error, locked).
      type: str
    node_id:
      description: This node's ID, or null outside a swarm.
      type: str
    node_addr:
      description: The address this node advertises.
      type: str
    is_manager:
      description: Whether the node is a (reachable) manager.
      type: bool
    cluster_id:
      description: Swarm ID, on managers only.
      type: str
    remote_managers:
      description: Manager addresses as C(host:port).
      type: list
    hostname:
      description: The engine's host name (which may differ from the inventory name).
      type: str
    nodes:
      description: On managers with O(nodes=true), every node (id, hostname, role,
        availability, labels, state, addr, leader, reachability).
      type: list
    join_tokens:
      description: On managers with O(join_tokens=true), C(manager) and C(worker) tokens.
      type: dict
    leaderless:
      description:
        - On a manager, true when it cannot reach a raft leader (a majority of managers is
          lost); C(nodes) is then not returned, as no manager can list them. C(recover.yml)
          acts only then.
      type: bool
engine:
  description: Engine and API versions.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.cluster.plugins.module_utils._docker_api import (
    ENGINE_ARGUMENT_SPEC, EngineError, call, connect, fail)
from ansible_collections.swarmops.cluster.plugins.module_utils._swarm import (
    is_leaderless, read_state, swarm_facts)

ARGUMENT_SPEC = dict(
    ENGINE_ARGUMENT_SPEC,
    nodes={"type": "bool", "default": True},
    join_tokens={"type": "bool", "default": False, "no_log": False},
)


def main():
    """Read and report; never change."""
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    client = connect(module)
    try:
        swarm = read_state(client, with_nodes=False)
        swarm["leaderless"] = swarm["is_manager"] and is_leaderless(client)
        if swarm["is_manager"] and not swarm["leaderless"] and module.params["nodes"]:
            swarm = dict(read_state(client), leaderless=False)
        if module.params["join_tokens"] and swarm["is_manager"] and not swarm["leaderless"]:
            swarm["join_tokens"] = swarm_facts(client, swarm, with_tokens=True)["join_tokens"]
        version = call("version", client.version)
    except EngineError as err:
        fail(module, err)
    module.exit_json(changed=False, swarm=swarm,
                     engine={"version": version.get("Version"),
                             "api_version": version.get("ApiVersion")})


if __name__ == "__main__":
    main()
