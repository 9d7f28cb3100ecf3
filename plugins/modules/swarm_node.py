#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One swarm node's labels, availability and role, managed from a manager."""

from __future__ import annotations

DOCUMENTATION = r"""
module: swarm_node
short_description: Manage a Docker Swarm node's labels, availability, role, or remove it
version_added: 0.1.0
description:
  - Runs on a swarm manager (use C(delegate_to) to reach one) and manages one node, named by
    node ID, unique ID prefix or hostname.
  - When a hostname names several entries (a host that left and joined again leaves a
    C(down) entry), the live entry is used; two live ones are refused as ambiguous.
  - Demoting a manager is refused when it would leave no majority of reachable managers.
extends_documentation_fragment:
  - swarmops.cluster.engine
options:
  node:
    description: Node ID, unique ID prefix (4+ characters) or hostname.
    type: str
    required: true
  state:
    description:
      - V(present) applies the options below to the node.
      - V(absent) removes the node's entry from the swarm. Managers are refused (demote
        first); a node that is not C(down) is refused unless O(force=true).
    type: str
    choices: [present, absent]
    default: present
  labels:
    description: Labels to set. Values must be strings (quote C("true") and numbers in YAML).
    type: dict
  labels_state:
    description:
      - V(merge) adds and updates O(labels), keeping other labels.
      - V(replace) makes O(labels) the node's whole label set.
    type: str
    choices: [merge, replace]
    default: merge
  labels_to_remove:
    description: Label keys to remove.
    type: list
    elements: str
  availability:
    description: Scheduling availability.
    type: str
    choices: [active, pause, drain]
  role:
    description: Promote to V(manager) or demote to V(worker).
    type: str
    choices: [manager, worker]
  remove_stale:
    description:
      - Also remove the C(down) entries a reinstalled host left behind (the address this
        node has, another ID), demoting a stale manager entry first. The swarm role sets
        it, so a node wiped and joined again under its address leaves no ghost.
      - Host names are not compared. Two hosts may share one (an image's default), and the
        other may only be rebooting.
    type: bool
    default: false
  wait_timeout:
    description:
      - With O(availability=drain), wait up to this many seconds until no task of the node
        is meant to run any more and every service that was converged before is converged
        again on other nodes; fail naming what is left. C(0) does not wait.
      - Waits also when the node was drained already, so a re-run still checks.
    type: int
    default: 0
  force:
    description:
      - With O(state=absent), remove a node that is not C(down), or a manager entry that is
        no member of the raft (left by C(force_new_cluster)).
      - With O(role=worker), demote without the raft-majority guard. Only for the stale
        manager entries left after C(force_new_cluster) (C(playbooks/recover.yml)); the raft
        then has the survivor alone.
    type: bool
    default: false
notes:
  - Supports check mode and diff mode.
author:
  - swarmops.cluster contributors (@swarmops)
"""

EXAMPLES = r"""
- name: Label a node and keep it schedulable
  swarmops.cluster.swarm_node:
    node: "{{ swarmops_swarm_node_id }}"
    labels: {zone: a, storage: gluster}
    availability: active
  delegate_to: "{{ groups['swarm_managers'][0] }}"

- name: Drain a node by hostname before maintenance
  swarmops.cluster.swarm_node:
    node: db-host-2
    availability: drain

- name: Make these the node's only labels
  swarmops.cluster.swarm_node:
    node: db-host-2
    labels: {zone: b}
    labels_state: replace

- name: Remove an entry left behind by a host that is gone
  swarmops.cluster.swarm_node:
    node: 7x0u9h4kzl3w
    state: absent
"""

RETURN = r"""
actions:
  description: Changes made (or predicted in check mode).
  returned: always
  type: list
  elements: dict
  sample: [{"action": "labels", "set": {"zone": "a"}, "remove": []},
           {"action": "availability", "from": "active", "to": "drain"}]
node:
  description: The node after the run (id, hostname, labels, availability, role); empty when removed.
  returned: always
  type: dict
waited:
  description: Seconds waited for the drained node to empty (null when not waiting).
  returned: always
  type: float
diff:
  description: Before and after views of the node.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.cluster.plugins.module_utils._docker_api import (
    EngineError, call, connect, fail)
from ansible_collections.swarmops.cluster.plugins.module_utils._engine import (
    converged_services, wait_drained)
from ansible_collections.swarmops.cluster.plugins.module_utils._swarm import PlanError
from ansible_collections.swarmops.cluster.plugins.module_utils._swarm_node import (
    ARGUMENT_SPEC, apply_remove, apply_stale, apply_update, describe, plan_node, plan_stale)


def read_nodes(module, client):
    """The swarm's nodes, or a failure naming the fix when this is no manager."""
    info = call("info", client.info)
    if not (info.get("Swarm") or {}).get("ControlAvailable"):
        module.fail_json(msg="%s is not a swarm manager; run swarm_node on a manager "
                             "(delegate_to one of swarm_managers)" % info.get("Name"))
    return call("node list", client.nodes)


def main():
    """Read, plan, apply unless check mode, report."""
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
                           required_if=[("state", "present",
                                         ("labels", "labels_to_remove", "availability",
                                          "role"), True)])
    client = connect(module)
    waited = None
    try:
        nodes = read_nodes(module, client)
        node, actions, spec = plan_node(nodes, module.params)
        stale = plan_stale(nodes, node) if module.params["remove_stale"] else []
        actions = actions + stale
        after = {} if module.params["state"] == "absent" else \
            describe(dict(node, Spec=spec))
        draining = module.params["availability"] == "drain" and module.params["wait_timeout"]
        converged = converged_services(client) if draining else []
        if actions and not module.check_mode:
            if spec is None:
                apply_remove(client, actions[0])
            elif len(actions) > len(stale):
                apply_update(client, node, spec)
            apply_stale(client, stale)
        if draining and not module.check_mode:
            waited = wait_drained(client, node["ID"], converged, module.params["wait_timeout"])
    except PlanError as err:
        module.fail_json(msg=str(err), actions=[])
    except EngineError as err:
        fail(module, err)
    module.exit_json(changed=bool(actions), actions=actions, node=after, waited=waited,
                     diff={"before": describe(node), "after": after})


if __name__ == "__main__":
    main()
