#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A GlusterFS volume: create, grow, start / stop, options, auth.allow, delete."""

from __future__ import annotations

DOCUMENTATION = r"""
module: gluster_volume
short_description: Create, grow, start, stop, tune or delete a GlusterFS volume
version_added: 0.1.0
description:
  - Runs on one node of the trusted pool that holds every brick host (use C(delegate_to)).
  - Creates the volume (C(replica N), or C(replica 3 arbiter 1) for two data bricks and an
    arbiter), grows it when bricks are added at the end of the list (C(add-brick) - raising
    the replica count, adding whole replica sets, or adding an arbiter to each set of a
    replica 2 volume), starts or stops it, and sets the listed options whose value
    differs. Options not listed are left alone.
  - After a replica raise it starts C(gluster volume heal NAME full), so the new bricks get
    the files written before. Adding replica sets does not rebalance (old files stay where
    they are); run C(gluster volume rebalance NAME start) when that matters.
  - Refuses, before any change, C(replica 2) without an arbiter (split brain) unless
    O(allow_split_brain=true), brick counts that do not make whole replica sets, a layout
    add-brick cannot reach, new bricks listed before existing ones, and a volume that has
    bricks the list lacks - taking bricks out is not this module's job.
  - A brick host matches a listed one when the names are equal or resolve, on the node, to
    a common address. Without O(bricks), an existing volume's layout is left alone.
  - Deleting needs O(delete_volume=true); brick directories and their data always stay.
options:
  name:
    description: The volume's name.
    type: str
    required: true
  state:
    description:
      - V(started) - the volume exists and is started; V(stopped) - exists, stopped;
        V(absent) - deleted (with O(delete_volume=true)).
    type: str
    choices: [started, stopped, absent]
    default: started
  bricks:
    description:
      - The bricks, in order. Consecutive groups of O(replica) bricks form a replica set;
        with O(arbiter=1) the last brick of each set is the arbiter.
      - Needed to create the volume; bricks listed after the existing ones are added. When
        O(replica) is raised, the new bricks (new count minus old count per set) are given
        to the replica sets in order.
    type: list
    elements: dict
    suboptions:
      host:
        description: The brick host's name or address, as the pool knows it.
        type: str
        required: true
      path:
        description: The brick directory on that host.
        type: path
        required: true
  remove_bricks:
    description:
      - Bricks to take out of the volume, lowering its replica count by the number taken
        from each set (C(remove-brick replica N-K ... force)), the same number K of bricks
        of every replica set, never all of a set, the arbiter of an arbiter volume. Bricks
        the volume no longer has are skipped, so a re-run changes nothing.
      - Refused when it would leave replica 2 without an arbiter or a single copy, unless
        O(allow_split_brain=true); a data brick of an arbiter volume is replaced, not
        removed. The brick directory and its data stay on the host.
      - Used by C(playbooks/remove_node.yml) for a node's bricks, also when that node is
        down.
    type: list
    elements: dict
    suboptions:
      host:
        description: The brick host's name or address, as the pool knows it.
        type: str
        required: true
      path:
        description: The brick directory on that host.
        type: path
        required: true
  replace_bricks:
    description:
      - Bricks to move, each C(old) to C(new) (C(replace-brick ... commit force), then
        C(heal NAME full) so the new, empty brick gets every file from its replica set).
        The old brick's host may be dead; the new brick's host must be in the pool with the
        brick directory made. A pair already done is skipped.
      - The old brick is named in the command as this node's C(pool list) knows its node
        when that name is not the brick's host (a peer probed from the first node knows it
        by the name its address resolved to), so a new peer that cannot resolve the brick's
        address still finds it (else glusterd fails C(brick ... does not exist in volume)).
        O(remove_bricks) names them the same way.
      - Used by C(playbooks/replace_node.yml). The old brick's data stays on its host.
    type: list
    elements: dict
    suboptions:
      old:
        description: The brick in the volume, C(host) and C(path).
        type: dict
        required: true
      new:
        description: The brick that takes its place, C(host) and C(path).
        type: dict
        required: true
  reset_bricks:
    description:
      - Bricks of the volume whose directory lost its data and its volume-id (the host was
        reinstalled, or its disk replaced), put back in place empty
        (C(reset-brick NAME B start), then C(reset-brick NAME B B commit force)); glusterd
        marks them for self-heal, which copies every file from their replica sets.
      - Only a brick that volume status shows offline is reset; an online brick is left
        alone, so a re-run changes nothing. A brick the volume does not hold is refused.
      - The brick's host must be in the pool with the (empty) directory made, and its
        glusterd started after the directory was (it resolves its bricks' paths at start).
      - The C(swarmops.cluster.glusterfs) role lists the bricks whose directory preflight
        found without a volume-id, after M(swarmops.cluster.gluster_rejoin) took a
        reinstalled node back into the pool.
    type: list
    elements: dict
    suboptions:
      host:
        description: The brick host's name or address, as the pool knows it.
        type: str
        required: true
      path:
        description: The brick directory on that host.
        type: path
        required: true
  replica:
    description:
      - Copies of each file (with O(arbiter=1), two copies and the arbiter's metadata).
      - Raising it with new bricks grows every replica set. Unset, an existing volume keeps
        its count and a new one is plain distribute.
    type: int
  arbiter:
    description:
      - C(1) makes the last brick of each replica 3 set an arbiter (metadata only).
      - Must match an existing volume, except that C(1) with O(replica=3) and one new brick
        per set turns a replica 2 volume into replica 3 arbiter 1.
    type: int
    choices: [0, 1]
    default: 0
  allow_split_brain:
    description: Accept C(replica 2) without an arbiter (created, or left by
      O(remove_bricks)).
    type: bool
    default: false
  force:
    description: Pass C(force) to create and add-brick (bricks on a root filesystem, or two
      bricks of one set on one host).
    type: bool
    default: false
  options:
    description:
      - Volume options (C(gluster volume set)), compared by value with C(gluster volume info)
        and set only when they differ. Values are strings; YAML booleans become V(on) /
        V(off).
      - Options not listed are never reset.
    type: dict
    default: {}
  auth_allow:
    description: Addresses or patterns that may mount the volume (C(auth.allow)), compared
      as a set.
    type: list
    elements: str
  delete_volume:
    description: Let O(state=absent) stop and delete the volume.
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait for every brick to be online (C(gluster volume status))
      after create, start or add-brick; the module fails naming the bricks still offline.
    type: int
    default: 120
notes:
  - Supports check mode and diff mode.
  - Reads C(gluster volume info --xml) and C(gluster volume status --xml).
author:
  - swarmops.cluster contributors (@swarmops)
"""

EXAMPLES = r"""
- name: A volume with a copy of everything on three nodes, open to the cluster only
  swarmops.cluster.gluster_volume:
    name: dockerdir
    replica: 3
    bricks:
      - {host: 10.0.0.11, path: /srv/gluster/dockerdir/brick}
      - {host: 10.0.0.12, path: /srv/gluster/dockerdir/brick}
      - {host: 10.0.0.13, path: /srv/gluster/dockerdir/brick}
    auth_allow: [10.0.0.11, 10.0.0.12, 10.0.0.13]
  delegate_to: "{{ groups['storage'][0] }}"
  run_once: true

- name: Grow it to a fourth copy on a new node (a full heal fills the new brick)
  swarmops.cluster.gluster_volume:
    name: dockerdir
    replica: 4
    force: true
    bricks:
      - {host: 10.0.0.11, path: /srv/gluster/dockerdir/brick}
      - {host: 10.0.0.12, path: /srv/gluster/dockerdir/brick}
      - {host: 10.0.0.13, path: /srv/gluster/dockerdir/brick}
      - {host: 10.0.0.14, path: /srv/gluster/dockerdir/brick}
    options:
      network.ping-timeout: "10"
      performance.client-io-threads: false
  delegate_to: "{{ groups['storage'][0] }}"
  run_once: true

- name: Stop a volume, then delete it (its brick directories keep their data)
  swarmops.cluster.gluster_volume:
    name: scratch
    state: absent
    delete_volume: true

- name: Two data nodes and an arbiter
  swarmops.cluster.gluster_volume:
    name: dockerdir
    replica: 3
    arbiter: 1
    bricks:
      - {host: 10.0.0.11, path: /srv/gluster/dockerdir/brick}
      - {host: 10.0.0.12, path: /srv/gluster/dockerdir/brick}
      - {host: 10.0.0.13, path: /srv/gluster/dockerdir/arbiter}
"""

RETURN = r"""
actions:
  description: What was done (or would be, in check mode), in order.
  returned: always
  type: list
  elements: dict
  sample: [{"action": "add-brick", "bricks": ["10.0.0.14:/srv/b"], "replica": 4,
            "arbiter": 0, "force": false}]
done:
  description: On failure, the actions that had run before it (the rest did not).
  returned: failure
  type: list
  elements: dict
  sample: [{"action": "create", "replica": 3, "arbiter": 0, "force": true,
            "bricks": ["10.0.0.11:/srv/b", "10.0.0.12:/srv/b", "10.0.0.13:/srv/b"]}]
volume:
  description: The volume after the change (as planned, in check mode); empty once deleted.
  returned: always
  type: dict
  contains:
    name:
      description: The volume's name.
      type: str
    id:
      description: The volume's UUID.
      type: str
    status:
      description: C(Created), C(Started) or C(Stopped).
      type: str
    type:
      description: Gluster's word for the layout, e.g. C(Replicate), C(Distributed-Replicate).
      type: str
    replica:
      description: Bricks per replica set.
      type: int
    arbiter:
      description: Arbiter bricks per replica set.
      type: int
    disperse:
      description: Bricks per disperse set (0 for replicated volumes).
      type: int
    brick_count:
      description: Number of bricks.
      type: int
    transport:
      description: C(tcp), C(rdma) or C(tcp,rdma).
      type: str
    bricks:
      description: C(name) (host:/path), C(host), C(path), C(uuid) (the peer's; null when
        predicted), C(arbiter) of each brick, in volume order.
      type: list
      elements: dict
    options:
      description: The volume's reconfigured options (C(Options Reconfigured)).
      type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.swarmops.cluster.plugins.module_utils._gluster import (
    GlusterError, fail, resolve_names, run_gluster)
from ansible_collections.swarmops.cluster.plugins.module_utils._gluster_peer import (
    parse_pool_list)
from ansible_collections.swarmops.cluster.plugins.module_utils._gluster_volume import (
    PlanError, apply_actions, describe, offline_bricks, plan_volume, predict_volume,
    read_volume, started_bricks, wait_bricks_online, wanted_options)

# A list of bricks, each a host and a directory on it.
BRICKS = {"type": "list", "elements": "dict", "options": {
    "host": {"type": "str", "required": True},
    "path": {"type": "path", "required": True}}}

ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    "state": {"type": "str", "choices": ["started", "stopped", "absent"], "default": "started"},
    "bricks": BRICKS,
    "remove_bricks": BRICKS,
    "replace_bricks": {"type": "list", "elements": "dict", "options": {
        "old": {"type": "dict", "required": True},
        "new": {"type": "dict", "required": True}}},
    "reset_bricks": BRICKS,
    "replica": {"type": "int"},
    "arbiter": {"type": "int", "choices": [0, 1], "default": 0},
    "allow_split_brain": {"type": "bool", "default": False},
    "force": {"type": "bool", "default": False},
    "options": {"type": "dict", "default": {}},
    "auth_allow": {"type": "list", "elements": "str"},
    "delete_volume": {"type": "bool", "default": False},
    "wait_timeout": {"type": "int", "default": 120},
}


def main():
    """Read the volume, plan, apply unless check mode, wait for its bricks, report."""
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
                           mutually_exclusive=[("bricks", "remove_bricks", "replace_bricks")])
    params, actions, done = module.params, [], []
    try:
        current = read_volume(module, params["name"])
        if current and params["reset_bricks"]:
            current["offline"] = offline_bricks(module, current)
        if current and (params["replace_bricks"] or params["remove_bricks"]):
            current["pool"] = parse_pool_list(run_gluster(module, ["pool", "list"]))
        listed = (params["bricks"] or []) + (params["remove_bricks"] or []) + \
            (params["reset_bricks"] or []) + \
            [b for pair in params["replace_bricks"] or [] for b in pair.values()]
        hosts = [b["host"] for b in listed] + \
            [b["host"] for b in (current or {}).get("bricks", [])]
        actions = plan_volume(current, params, resolve_names(hosts))
        after = predict_volume(current, actions, params["name"])
        if actions and not module.check_mode:
            done = apply_actions(module, params["name"], actions, params["wait_timeout"])
            after = read_volume(module, params["name"])
        if after and after["status"] == "Started" and started_bricks(after, done):
            wait_bricks_online(module, after, params["wait_timeout"],
                               started_bricks(after, done))
    except PlanError as err:
        module.fail_json(msg=str(err), actions=[])
    except GlusterError as err:
        # A failure after some actions ran reports them (done) and changed=true.
        done = err.details.pop("done", done)
        fail(module, err, actions=actions, done=done, changed=bool(done))
    keys = set(wanted_options(params))
    module.exit_json(changed=bool(actions), actions=actions, volume=after or {},
                     diff={"before": describe(current, keys), "after": describe(after, keys)})


if __name__ == "__main__":
    main()
