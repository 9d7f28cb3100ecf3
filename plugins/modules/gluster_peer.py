#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""GlusterFS trusted pool membership, managed from one node of the pool."""

from __future__ import annotations

DOCUMENTATION = r"""
module: gluster_peer
short_description: Probe or detach GlusterFS peers, compared by hostname and address
version_added: 0.1.0
description:
  - Runs on one node of the trusted pool (or the node that starts it) and brings the listed
    peers into the pool (C(gluster peer probe)) or out of it (C(gluster peer detach)).
  - A listed peer counts as in the pool when one of the names glusterd knows it by is the
    listed name, or when both resolve, on the node, to a common address - a peer probed by
    address is not probed again by name.
  - The node itself may be listed; it is skipped.
  - After probing, waits until every listed peer is C(Peer in Cluster) and connected - also
    when nothing was probed, so a listed peer that is down fails the task after
    O(wait_timeout) (check mode does not wait).
  - Names that are empty, start with C(-) or do not resolve on the node are refused before
    any probe. A host listed twice (by name and by address) is probed once.
  - Detaching refuses, before any change, a peer that still holds bricks of a volume.
options:
  peers:
    description: Names or addresses of the peers.
    type: list
    elements: str
    required: true
  state:
    description: V(present) probes missing peers; V(absent) detaches listed peers.
    type: str
    choices: [present, absent]
    default: present
  wait_timeout:
    description: Seconds to wait for probed peers to be in the pool and connected.
    type: int
    default: 120
notes:
  - Supports check mode and diff mode.
  - Reads C(gluster pool list --xml) and C(gluster volume info --xml).
author:
  - swarmops.cluster contributors (@swarmops)
"""

EXAMPLES = r"""
- name: One trusted pool of the storage nodes, formed from the first of them
  swarmops.cluster.gluster_peer:
    peers: [10.0.0.11, 10.0.0.12, 10.0.0.13]
  delegate_to: "{{ groups['storage'][0] }}"
  run_once: true

- name: Take a peer without bricks out of the pool
  swarmops.cluster.gluster_peer:
    peers: [10.0.0.14]
    state: absent
"""

RETURN = r"""
actions:
  description: What was done (or would be, in check mode), in order.
  returned: always
  type: list
  elements: dict
  sample: [{"action": "probe", "peer": "10.0.0.12"}]
pool:
  description: The trusted pool after the change; in check mode the pool as it is (the
    diff shows the planned hostnames).
  returned: always
  type: list
  elements: dict
  contains:
    uuid:
      description: The peer's UUID.
      type: str
    hostname:
      description: The name glusterd shows first; C(localhost) for the node itself.
      type: str
    hostnames:
      description: Every name glusterd knows the peer by.
      type: list
    connected:
      description: Whether the peer is connected.
      type: bool
    state_str:
      description: The peer state, C(Peer in Cluster) when it is a full member.
      type: str
    self:
      description: This entry is the node that answered.
      type: bool
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.swarmops.cluster.plugins.module_utils._gluster import (
    GlusterError, fail, resolve_names, run_gluster)
from ansible_collections.swarmops.cluster.plugins.module_utils._gluster_peer import (
    PlanError, apply_actions, brick_host_uuids, is_self, parse_peers, plan_peers,
    predict_pool, wait_connected)
from ansible_collections.swarmops.cluster.plugins.module_utils._node_facts import own_names

ARGUMENT_SPEC = {
    "peers": {"type": "list", "elements": "str", "required": True},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "wait_timeout": {"type": "int", "default": 120},
}


def main():
    """Read the pool, plan, apply unless check mode, wait, report."""
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params, actions, applied = module.params, [], False
    try:
        pool = parse_peers(run_gluster(module, ["pool", "list"]))
        addresses = resolve_names(params["peers"] + [n for p in pool for n in p["hostnames"]])
        own = set(own_names(module)) | {"localhost", "127.0.0.1", "::1"}
        bricks = brick_host_uuids(run_gluster(module, ["volume", "info"])) \
            if params["state"] == "absent" else {}
        actions = plan_peers(pool, params["peers"], params["state"], addresses, own, bricks)
        before = predict_pool(pool, [])
        after_names = predict_pool(pool, actions)
        if actions and not module.check_mode:
            applied = True
            apply_actions(module, actions)
        if params["state"] == "present" and not module.check_mode:
            waiting = [p for p in params["peers"] if not is_self(p, addresses, own)]
            pool = wait_connected(module, waiting, addresses, params["wait_timeout"])
        elif actions and not module.check_mode:
            pool = parse_peers(run_gluster(module, ["pool", "list"]))
    except PlanError as err:
        module.fail_json(msg=str(err), actions=[])
    except GlusterError as err:
        fail(module, err, actions=actions, changed=applied)
    module.exit_json(changed=bool(actions), actions=actions, pool=pool,
                     diff={"before": {"pool": before}, "after": {"pool": after_names}})


if __name__ == "__main__":
    main()
