#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A reinstalled storage node takes its old place (UUID, peers, volumes) in the pool."""

from __future__ import annotations

DOCUMENTATION = r"""
module: gluster_rejoin
short_description: Give a reinstalled GlusterFS node its old identity in the trusted pool
version_added: 0.1.0
description:
  - Runs on a storage node that was reinstalled under its old name and address. The pool
    still knows the node by its old UUID, which holds its bricks, and refuses the new
    glusterd's UUID; a probe cannot take it back and a detach would need its bricks gone.
  - Follows GlusterFS's procedure for a host replaced under the same hostname - glusterd
    stopped, C(/var/lib/glusterd/glusterd.info) given the old O(uuid) (its other lines
    kept), one peer file per member of the pool, glusterd started - then waits until every
    peer is a connected C(Peer in Cluster) and the O(volumes) have been synced to the node,
    and restarts glusterd once, so that it resolves its own bricks' directories (the
    directories must exist by then, since an emptied brick is reset from them).
  - Changes nothing when glusterd has the old UUID already (it still waits, outside check
    mode). Refused, before any change, when this glusterd has a peer or a volume of its
    own (not a fresh install) or a UUID is malformed.
  - The bricks are not touched here - an empty brick directory is put back into its volume
    by M(swarmops.cluster.gluster_volume) with O(swarmops.cluster.gluster_volume#module:reset_bricks).
  - The C(swarmops.cluster.glusterfs) role runs it when preflight finds a storage node whose
    brick the volume holds but whose glusterd is new, and takes the UUID and peers from a
    storage node that stayed.
options:
  uuid:
    description: The node's UUID as the pool knows it (C(gluster pool list) on another node).
    type: str
    required: true
  peers:
    description: Every other member of the pool, with its UUID and the hostname (or address)
      the pool knows it by.
    type: list
    elements: dict
    required: true
    suboptions:
      uuid:
        description: The peer's UUID.
        type: str
        required: true
      hostname:
        description: The peer's hostname or address.
        type: str
        required: true
  volumes:
    description: Volumes to wait for until the pool has synced them to the node.
    type: list
    elements: str
    default: []
  wait_timeout:
    description: Seconds to wait for the peers and volumes.
    type: int
    default: 120
notes:
  - Supports check mode and diff mode.
  - Reads the files under C(/var/lib/glusterd); restarts glusterd only when it writes them.
author:
  - swarmops.cluster contributors (@swarmops)
"""

EXAMPLES = r"""
- name: Take the reinstalled node3 back into the pool under its old UUID
  swarmops.cluster.gluster_rejoin:
    uuid: 5d0f9f3e-8c1a-4b8e-9f65-2d6c1b0e7a11
    peers:
      - {uuid: 0c6b2c9a-1e7d-4f43-8d1c-53b8a8e1f0a2, hostname: 10.0.0.11}
      - {uuid: 7a4e1d0b-3f2c-4c55-a8e9-1b2d3c4e5f60, hostname: 10.0.0.12}
    volumes: [dockerdir]
"""

RETURN = r"""
actions:
  description: What was done (or would be, in check mode), in order.
  returned: always
  type: list
  elements: dict
  sample: [{"action": "set-uuid", "uuid": "5d0f9f3e-8c1a-4b8e-9f65-2d6c1b0e7a11",
            "was": "e3b0c442-98fc-4c14-9afb-f4c8996fb924"},
           {"action": "write-peer", "uuid": "0c6b2c9a-1e7d-4f43-8d1c-53b8a8e1f0a2",
            "hostname": "10.0.0.11"}]
pool:
  description: The pool as the node sees it after the rejoin (empty in check mode).
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.swarmops.cluster.plugins.module_utils._gluster import (
    GlusterError, fail)
from ansible_collections.swarmops.cluster.plugins.module_utils._gluster_rejoin import (
    PlanError, apply_rejoin, plan_rejoin, read_identity, wait_rejoined)

ARGUMENT_SPEC = {
    "uuid": {"type": "str", "required": True},
    "peers": {"type": "list", "elements": "dict", "required": True, "options": {
        "uuid": {"type": "str", "required": True},
        "hostname": {"type": "str", "required": True}}},
    "volumes": {"type": "list", "elements": "str", "default": []},
    "wait_timeout": {"type": "int", "default": 120},
}


def main():
    """Read glusterd's files, plan, apply unless check mode, wait, report."""
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params, actions, pool = module.params, [], []
    try:
        identity = read_identity()
        actions = plan_rejoin(identity, params)
        if actions and not module.check_mode:
            apply_rejoin(module, actions, identity["info"], params)
        if not module.check_mode:
            pool = wait_rejoined(module, params, params["wait_timeout"])
    except PlanError as err:
        module.fail_json(msg=str(err), actions=[])
    except GlusterError as err:
        fail(module, err, actions=actions, changed=bool(actions) and not module.check_mode)
    except OSError as err:
        module.fail_json(msg="writing glusterd's files failed: %s; glusterd may be stopped "
                         "- start it (systemctl start glusterd) and re-run" % err,
                         actions=actions, changed=True)
    module.exit_json(changed=bool(actions), actions=actions, pool=pool,
                     diff={"before": {"uuid": identity["uuid"], "peers": identity["peers"]},
                           "after": {"uuid": params["uuid"], "peers": sorted(
                               set(identity["peers"]) | {p["uuid"] for p in params["peers"]})}})


if __name__ == "__main__":
    main()
