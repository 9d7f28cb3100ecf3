#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Put paths of a restic snapshot back in place on this node."""

from __future__ import annotations

DOCUMENTATION = r"""
module: restic_restore
short_description: Put paths of a restic snapshot back in place on this node
version_added: 0.1.0
description:
  - Restores O(include) from a snapshot of O(repository) to where they were backed up
    (owners, modes and times as in the snapshot). The snapshot is O(snapshot) - an ID or
    C(latest) among those with every one of O(tags) (and of O(host) when given); a path
    outside the snapshot's own paths is refused before anything changes. The password
    goes to restic on stdin.
  - Files that the snapshot holds are overwritten; files created since stay, unless
    O(delete) (then the restored paths are exactly as in the snapshot).
  - A restore is an action, so the module always reports a change (in check mode too,
    where it restores nothing).
extends_documentation_fragment:
  - swarmops.cluster.restic
options:
  snapshot:
    description: A snapshot ID (or its short form), or C(latest).
    type: str
    default: latest
  tags:
    description: Only snapshots with every one of these tags.
    type: list
    elements: str
    default: []
  host:
    description: Only snapshots filed under this host name.
    type: str
  include:
    description: The paths to put back (absolute, inside the snapshot's paths).
    type: list
    elements: path
    required: true
  delete:
    description: Also delete, inside the restored paths, what the snapshot does not hold.
    type: bool
    default: false
  target:
    description:
      - Where the snapshot's paths go. C(/) puts them back in place; another directory
        receives a copy under their full paths (a restore drill, or a look at old files
        without touching the live ones).
    type: path
    default: /
  verify:
    description:
      - restic reads every restored file back and checks it against the repository's
        content hashes; the module fails on any difference, on bytes not restored, and,
        when O(include) is the snapshot's whole paths, on a total that differs from what
        the backup read.
    type: bool
    default: false
author:
  - swarmops.cluster contributors (@swarmops)
"""

EXAMPLES = r"""
- name: Restore the latest DOCKERDIR snapshot into a scratch directory and verify it
  swarmops.cluster.restic_restore:
    repository: sftp:backup@backup.example.org:/srv/restic/cluster
    password: "{{ swarmops_backup_password }}"
    tags: [dockerdir]
    include: [/opt/docker]
    target: /var/tmp/drill
    verify: true

- name: Put DOCKERDIR's web files back from the latest backup
  swarmops.cluster.restic_restore:
    repository: /srv/backup/restic
    password: "{{ swarmops_backup_password }}"
    tags: [dockerdir]
    include: [/opt/docker/services/web]
"""

RETURN = r"""
actions:
  description: The restore done (or in check mode to be done) - snapshot, include, delete.
  returned: always
  type: list
  elements: dict
snapshot:
  description: The snapshot restored from (id, time, paths, tags, host, files, bytes).
  returned: always
  type: dict
summary:
  description: restic's summary of the restore.
  returned: when restored
  type: dict
seconds:
  description: How long restic took.
  returned: when restored
  type: float
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.cluster.plugins.module_utils._common import PlanError
from ansible_collections.swarmops.cluster.plugins.module_utils._restic import (
    RESTIC_ARGUMENT_SPEC, ResticError, parse_json_lines, plan_restore, read_snapshots,
    restore_args, restore_problems, run_restic, summarize_snapshot)

ARGUMENT_SPEC = {
    **RESTIC_ARGUMENT_SPEC,
    "snapshot": {"type": "str", "default": "latest"},
    "tags": {"type": "list", "elements": "str", "default": []},
    "host": {"type": "str"},
    "include": {"type": "list", "elements": "path", "required": True},
    "delete": {"type": "bool", "default": False},
    "target": {"type": "path", "default": "/"},
    "verify": {"type": "bool", "default": False},
}


def restore(module, snapshot, params):
    """{summary, seconds} of the restore; with verify, a failure naming what differs."""
    started = time.monotonic()
    _rc, out, _err = run_restic(module, params["repository"], params["password"],
                                restore_args(snapshot["id"], params))
    done = {"summary": parse_json_lines(out, "summary") or {},
            "seconds": round(time.monotonic() - started, 1)}
    problems = restore_problems(snapshot, params["include"], done["summary"]) \
        if params["verify"] else []
    if problems:
        module.fail_json(msg="snapshot %s restored to %s: %s" % (
            snapshot["short_id"], params["target"], "; ".join(problems)), **done)
    return done


def main():
    """Read the snapshots, choose one, restore unless check mode, report."""
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    repo, password = params["repository"], params["password"]
    try:
        snapshot, actions = plan_restore(read_snapshots(module, repo, password), params)
        result = {"changed": True, "actions": actions, "snapshot": summarize_snapshot(snapshot),
                  "diff": {"before": {"paths": "as they are"},
                           "after": {"paths": "as in snapshot %s" % snapshot["short_id"]}}}
        if not module.check_mode:
            result.update(restore(module, snapshot, params))
    except PlanError as err:
        module.fail_json(msg=str(err), actions=[])
    except ResticError as err:
        module.fail_json(msg=str(err))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
