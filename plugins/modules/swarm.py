#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Swarm membership of the managed node."""

from __future__ import annotations

DOCUMENTATION = r"""
module: swarm
short_description: Initialize, join or leave a Docker Swarm on the managed node
version_added: 0.1.0
description:
  - Reads the node's swarm state from its engine, plans the smallest change that reaches
    O(state), and applies it unless in check mode.
  - Never leaves, re-initializes or breaks a swarm implicitly. A node already in a different
    swarm is refused, naming both swarms.
extends_documentation_fragment:
  - swarmops.cluster.engine
options:
  state:
    description:
      - V(present) initializes a new swarm on a node outside any swarm, or confirms an
        existing manager (no change).
      - V(join) joins the swarm at O(remote_addrs); no change when the node is in it already.
      - V(absent) leaves the swarm. A manager is demoted first; leaving as the last manager,
        or when it would break the raft quorum, is refused unless O(force=true).
      - V(unlocked) only unlocks a locked manager with O(unlock_key) (no change on one that
        is not locked); it never initializes, joins or leaves.
    type: str
    choices: [present, join, absent, unlocked]
    default: present
  advertise_addr:
    description: Address (optionally C(host:port) or an interface name) other nodes use to reach this one.
    type: str
  listen_addr:
    description: Address the swarm listens on for cluster management traffic.
    type: str
    default: 0.0.0.0:2377
  default_addr_pool:
    description: Address pools for overlay networks (init only; fixed for the swarm's life).
    type: list
    elements: str
  subnet_size:
    description: Prefix length of each overlay subnet taken from O(default_addr_pool) (init only).
    type: int
  data_path_addr:
    description: Address or interface for data path (overlay) traffic.
    type: str
  remote_addrs:
    description: Managers to join, as C(host) or C(host:port). Required with O(state=join).
    type: list
    elements: str
  join_token:
    description:
      - Manager or worker join token; required with O(state=join). It goes to the engine in
        the API request body, never on a command line.
    type: str
  role:
    description:
      - The role O(join_token) gives. Reported in the result and diff; a node already in the
        wanted swarm is left as it is (change roles with M(swarmops.cluster.swarm_node)).
    type: str
    choices: [manager, worker]
    default: worker
  cluster_id:
    description:
      - Swarm (cluster) ID the node is expected to join. When the node is a manager of
        another swarm, the module fails naming both IDs. Without it, membership is judged by
        the managers' addresses.
    type: str
  force:
    description:
      - With O(state=absent), leave even as the last manager or when the quorum breaks.
        Leaving as the last manager destroys that node's copy of the swarm state.
    type: bool
    default: false
  join_tokens:
    description:
      - Return the join tokens in RV(swarm_facts.join_tokens) (managers only). They are
        secrets that any verbosity of C(ansible-playbook) prints with the result, so they are
        returned only when asked for, and a task that asks must set C(no_log=true).
    type: bool
    default: false
  force_new_cluster:
    description:
      - Disaster recovery only. With O(state=present) on a manager that cannot reach a raft
        leader, re-initialize the swarm from this node's state as a single-manager cluster.
        Does nothing on a healthy manager. Never implied by O(force).
    type: bool
    default: false
  rotate:
    description:
      - With O(state=present) on a manager, rotate the swarm's V(worker_token),
        V(manager_token), root V(ca) and/or autolock V(unlock_key) (C(docker swarm
        join-token --rotate), C(docker swarm ca --rotate), C(docker swarm unlock-key
        --rotate)), all in one swarm update that keeps every other setting. A host given a
        token before keeps it, but the swarm refuses it.
      - A V(ca) rotation waits until every node that is up has a certificate of the new
        root (a node that is down gets one when it is back), up to O(rotate_timeout).
      - Rotation is an act, not a state - asked for, it is always done (changed).
    type: list
    elements: str
    choices: [worker_token, manager_token, ca, unlock_key]
    default: []
  rotate_timeout:
    description: Seconds a V(ca) rotation may take to reach every node that is up.
    type: int
    default: 300
  autolock:
    description:
      - With O(state=present) on a manager, lock (V(true)) or stop locking (V(false)) the
        managers when their engine restarts (C(docker swarm update --autolock)); a locked
        manager takes part in the swarm again only once unlocked with the key. Unset
        leaves it as it is.
    type: bool
  unlock_key:
    description:
      - The swarm's unlock key. A locked manager is unlocked with it (in the API request's
        body, never on a command line) before anything else is planned; without it a
        locked manager is refused. Secret.
    type: str
  unlock_wait_timeout:
    description:
      - After unlocking a manager, seconds to wait until it is ready and reachable and
        every service of the swarm has converged again (tasks placed on the manager while
        it was locked are placed again only after a back-off). What has not settled by
        then is returned in C(unsettled) with a warning; the unlock itself has happened.
    type: int
    default: 180
  return_unlock_key:
    description:
      - Return the current unlock key in C(swarm_facts.unlock_key) when the swarm has
        autolock on; a task that asks must set C(no_log=true).
    type: bool
    default: false
notes:
  - Supports check mode and diff mode.
  - "Join tokens are secrets: they are returned only with O(join_tokens=true), and such a
    task must set C(no_log: true)."
author:
  - swarmops.cluster contributors (@swarmops)
"""

EXAMPLES = r"""
- name: Initialize the swarm on the first manager
  swarmops.cluster.swarm:
    state: present
    advertise_addr: 10.20.0.11
    default_addr_pool: [10.128.0.0/16]
    subnet_size: 24
  register: swarm_init

- name: Read the join tokens (secrets, so only under no_log)
  swarmops.cluster.swarm_info:
    nodes: false
    join_tokens: true
  register: swarm_tokens
  no_log: true

- name: Join a worker
  swarmops.cluster.swarm:
    state: join
    role: worker
    remote_addrs: ["10.20.0.11:2377"]
    join_token: "{{ hostvars['node1'].swarm_tokens.swarm.join_tokens.worker }}"
    advertise_addr: 10.20.0.14
    cluster_id: "{{ hostvars['node1'].swarm_init.swarm_facts.cluster_id }}"

- name: Rotate both join tokens after a node left (its saved token no longer joins)
  swarmops.cluster.swarm:
    rotate: [worker_token, manager_token]

- name: Leave (a manager is demoted first; quorum is kept)
  swarmops.cluster.swarm:
    state: absent
"""

RETURN = r"""
actions:
  description: What was done (or, in check mode, would be done), in order. Secrets are left out.
  returned: always
  type: list
  elements: dict
  sample: [{"action": "join", "role": "worker", "remote_addrs": ["10.20.0.11:2377"]},
           {"action": "rotate", "worker_token": true, "manager_token": true, "ca": false}]
swarm_facts:
  description: The node's swarm after the run.
  returned: always
  type: dict
  contains:
    cluster_id:
      description: Swarm ID (null on workers, which cannot see it).
      type: str
    node_id:
      description: This node's ID in the swarm.
      type: str
    role:
      description: manager, worker or null.
      type: str
    join_tokens:
      description: C(manager) and C(worker) tokens, on managers with O(join_tokens=true)
        only; empty otherwise. Secret.
      type: dict
    unlock_key:
      description: The swarm's unlock key, on managers of an autolocked swarm with
        O(return_unlock_key=true) only. Secret.
      type: str
      returned: when asked for and autolock is on
unsettled:
  description: After an unlock, the services (or the node's problem) not settled within
    O(unlock_wait_timeout); empty when everything converged.
  returned: when a locked manager was unlocked
  type: list
  elements: str
  sample: ["web_web"]
diff:
  description: Before and after views of the node's membership; after a rotation the
    after view lists what was C(rotated) (never a token).
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.cluster.plugins.module_utils._docker_api import (
    ENGINE_ARGUMENT_SPEC, EngineError, connect, fail)
from ansible_collections.swarmops.cluster.plugins.module_utils._engine import wait_unlocked
from ansible_collections.swarmops.cluster.plugins.module_utils._swarm import (
    PlanError, apply, describe, is_leaderless, plan_absent, plan_autolock, plan_join,
    plan_present, plan_rotation, plan_unlocked, predict, read_state, swarm_facts, unlock_key)

ARGUMENT_SPEC = dict(
    ENGINE_ARGUMENT_SPEC,
    state={"type": "str", "choices": ["present", "join", "absent", "unlocked"],
           "default": "present"},
    advertise_addr={"type": "str"},
    listen_addr={"type": "str", "default": "0.0.0.0:2377"},
    default_addr_pool={"type": "list", "elements": "str"},
    subnet_size={"type": "int"},
    data_path_addr={"type": "str"},
    remote_addrs={"type": "list", "elements": "str"},
    join_token={"type": "str", "no_log": True},
    role={"type": "str", "choices": ["manager", "worker"], "default": "worker"},
    cluster_id={"type": "str"},
    force={"type": "bool", "default": False},
    force_new_cluster={"type": "bool", "default": False},
    join_tokens={"type": "bool", "default": False, "no_log": False},
    rotate={"type": "list", "elements": "str", "default": [],
            "choices": ["worker_token", "manager_token", "ca", "unlock_key"]},
    rotate_timeout={"type": "int", "default": 300},
    autolock={"type": "bool"},
    unlock_key={"type": "str", "no_log": True},
    unlock_wait_timeout={"type": "int", "default": 180},
    return_unlock_key={"type": "bool", "default": False, "no_log": False},
)


def plan(client, local, params):
    """Dispatch to the planner of the requested state."""
    if params["state"] == "present":
        leaderless = params["force_new_cluster"] and local["is_manager"] and \
            is_leaderless(client)
        actions = plan_present(local, params, leaderless)
        initializing = any(a["action"] == "init" for a in actions)
        return actions + plan_autolock(local, params["autolock"], initializing) + \
            plan_rotation(local, params["rotate"])
    if params["state"] == "join":
        return plan_join(local, params)
    if params["state"] == "unlocked":
        # Only the unlock (unlock_first): never an init, join or leave.
        return plan_unlocked(local)
    return plan_absent(local, params["force"])


def main():
    """Read, plan, apply unless check mode, report."""
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
                           required_if=[("state", "join", ("remote_addrs", "join_token"))],
                           mutually_exclusive=[("rotate", "force_new_cluster")])
    client = connect(module)
    params = module.params
    try:
        local, unlocked = unlock_first(module, client)
        if unlocked and module.check_mode:
            # Nothing past the lock can be read until the key is used.
            module.exit_json(changed=True, actions=unlocked,
                             diff={"before": describe(local), "after": predict(local, unlocked)})
        actions = plan(client, local, params)
        diff = {"before": describe(local), "after": predict(local, unlocked + actions)}
        if actions and not module.check_mode:
            apply(client, actions, params)
            local = read_state(client, with_nodes=False)
        facts = swarm_facts(client, local, params["join_tokens"])
        if params["return_unlock_key"] and local["is_manager"] and local["autolock"]:
            facts["unlock_key"] = unlock_key(client)
    except PlanError as err:
        module.fail_json(msg=str(err), actions=[])
    except EngineError as err:
        fail(module, err)
    result = {"unsettled": settle_after_unlock(module, client)} if unlocked else {}
    actions = unlocked + actions
    module.exit_json(changed=bool(actions), actions=actions, diff=diff, swarm_facts=facts,
                     **result)


def settle_after_unlock(module, client):
    """What has not settled after the unlock's wait, warned about (never fatal)."""
    try:
        unsettled = wait_unlocked(client, module.params["unlock_wait_timeout"])
    except EngineError as err:
        fail(module, err)
    if unsettled:
        module.warn("unlocked, but not settled within %d s: %s (see playbooks/health.yml)"
                    % (module.params["unlock_wait_timeout"], ", ".join(unsettled)))
    return unsettled


def unlock_first(module, client):
    """(the node's state, [unlock action]) - a locked manager is unlocked with unlock_key
    (outside check mode) and read again; without a key the plan refuses it."""
    local = read_state(client, with_nodes=module.params["state"] == "absent")
    if local["state"] != "locked" or not module.params["unlock_key"]:
        return local, []
    actions = [{"action": "unlock"}]
    if module.check_mode:
        return local, actions
    apply(client, actions, module.params)
    return read_state(client, with_nodes=module.params["state"] == "absent"), actions


if __name__ == "__main__":
    main()
