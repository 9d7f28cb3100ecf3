#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Back up paths of this node into a restic repository (the swarm's state with the engine
stopped), then apply the retention and check the repository."""

from __future__ import annotations

DOCUMENTATION = r"""
module: restic_backup
short_description: Back up paths of this node into a restic repository
version_added: 0.1.0
description:
  - Makes one snapshot of O(paths) in the restic repository O(repository) (created when it
    does not exist yet), then forgets and prunes what O(keep) does not keep (per host and
    tags) and checks the repository. The password goes to restic on stdin, never in argv,
    the environment or the result.
  - With O(stop_engine), the Docker engine is stopped for the snapshot - Docker's admin
    guide backs up a manager's C(/var/lib/docker/swarm) that way, so the raft log does not
    change under the copy - then started again and waited for as after a restart (ready,
    reachable, its global tasks back; an autolocked manager unlocked with O(unlock_key)),
    also when the snapshot failed. Refused, like M(swarmops.cluster.engine_restart), when
    another manager is unreachable (stopping this one would take a second manager down).
  - A backup is an action, so the module always reports a change (in check mode too,
    where it does nothing).
extends_documentation_fragment:
  - swarmops.cluster.engine
  - swarmops.cluster.restic
options:
  paths:
    description: What to back up (absolute paths on this node).
    type: list
    elements: path
    required: true
  tags:
    description: Tags of the snapshot (and of the snapshots O(keep) judges).
    type: list
    elements: str
    default: []
  host:
    description: The host name the snapshot is filed under (restic's C(--host)); default
      this node's hostname.
    type: str
  keep:
    description: What C(restic forget --prune) keeps of the snapshots with these tags
      (C(last), C(hourly), C(daily), C(weekly), C(monthly), C(yearly)); empty keeps all.
    type: dict
    default: {}
  check:
    description: Run C(restic check) after the backup.
    type: bool
    default: true
  stop_engine:
    description: Stop the Docker engine for the snapshot, start it and wait after.
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait for the engine to be back after the snapshot.
    type: int
    default: 300
  unlock_key:
    description: The swarm's unlock key, for a manager of an autolocked swarm. Secret.
    type: str
author:
  - swarmops.cluster contributors (@swarmops)
"""

EXAMPLES = r"""
- name: Back up a manager's swarm state
  swarmops.cluster.restic_backup:
    repository: /srv/backup/restic
    password: "{{ swarmops_backup_password }}"
    paths: [/var/lib/docker/swarm]
    tags: [swarm-state]
    stop_engine: true
    keep: {daily: 7, weekly: 4, monthly: 6}
"""

RETURN = r"""
actions:
  description: What was (or in check mode would be) done - init, stop-engine, backup,
    start-engine, forget, check.
  returned: always
  type: list
  elements: dict
snapshot:
  description: The new snapshot's ID.
  returned: when backed up
  type: str
summary:
  description: restic's summary of the snapshot (files and bytes processed and added).
  returned: when backed up
  type: dict
forgotten:
  description: Short IDs of the snapshots the retention removed.
  returned: when O(keep) is given
  type: list
  elements: str
engine_stopped:
  description: Seconds the engine was stopped.
  returned: with O(stop_engine)
  type: float
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.cluster.plugins.module_utils._backup import (
    apply_backup, read_current)
from ansible_collections.swarmops.cluster.plugins.module_utils._common import PlanError
from ansible_collections.swarmops.cluster.plugins.module_utils._docker_api import (
    ENGINE_ARGUMENT_SPEC, EngineError, fail)
from ansible_collections.swarmops.cluster.plugins.module_utils._restic import (
    RESTIC_ARGUMENT_SPEC, ResticError, plan_backup)

ARGUMENT_SPEC = dict(
    ENGINE_ARGUMENT_SPEC,
    **RESTIC_ARGUMENT_SPEC,
    paths={"type": "list", "elements": "path", "required": True},
    tags={"type": "list", "elements": "str", "default": []},
    host={"type": "str"},
    keep={"type": "dict", "default": {}},
    check={"type": "bool", "default": True},
    stop_engine={"type": "bool", "default": False},
    wait_timeout={"type": "int", "default": 300},
    unlock_key={"type": "str", "no_log": True},
)


def main():
    """Read the repository (and the engine), plan, back up unless check mode, report."""
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    try:
        current = read_current(module, params)
        actions = plan_backup(current, params)
        result = {"changed": True, "actions": actions,
                  "diff": {"before": {"snapshots": "as they were"},
                           "after": {"snapshots": "one more of %s" % ", ".join(params["paths"])}}}
        if not module.check_mode:
            result.update(apply_backup(module, params, actions, current))
    except PlanError as err:
        module.fail_json(msg=str(err), actions=[])
    except ResticError as err:
        module.fail_json(msg=str(err))
    except EngineError as err:
        fail(module, err)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
