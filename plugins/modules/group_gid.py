#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A group's GID made equal to a target on a node, its files re-owned."""

from __future__ import annotations

DOCUMENTATION = r"""
module: group_gid
short_description: Give a group a target GID on a node, and re-own its files
version_added: 0.2.0
description:
  - Makes the group's GID equal to O(gid) - the same on every node, so files on a shared
    volume mean the same group everywhere. A missing group is created with it (before a
    package would create the group with a GID of its own choosing).
  - When another group holds the GID, fails naming it - or, with O(move_conflicting=true),
    first moves that group to the highest free GID of its range (C(/etc/login.defs)).
  - Files under O(reown_paths) that had the group's old GID get the new one, and files
    of a moved group follow it; both sets are found before anything changes. The walk does
    not follow symlinks or cross into another filesystem.
  - Check mode reports the actions and how many files would be re-owned.
options:
  name:
    description: The group.
    type: str
    required: true
  gid:
    description: The GID the group must have.
    type: int
    required: true
  create:
    description: Create the group with O(gid) when it is missing.
    type: bool
    default: true
  move_conflicting:
    description: Move another group that holds O(gid) to a free GID.
    type: bool
    default: false
  reown_paths:
    description: Files and directories (walked recursively) whose files are re-owned.
    type: list
    elements: path
    default: []
notes:
  - Supports check mode and diff mode.
  - Uses C(groupadd) and C(groupmod), which also update users' primary GIDs.
author:
  - swarmops.cluster contributors (@swarmops)
"""

EXAMPLES = r"""
- name: The docker group with the cluster's GID; the engine's socket and files follow
  swarmops.cluster.group_gid:
    name: docker
    gid: 998
    reown_paths: [/run/docker.sock, /etc/docker, /srv]
"""

RETURN = r"""
actions:
  description: What was done (or would be, in check mode), in order.
  returned: always
  type: list
  elements: dict
  sample: [{"action": "set_gid", "group": "docker", "from": 1234, "to": 998}]
group:
  description: C(name), C(gid_before) (null when it was missing) and C(gid).
  returned: always
  type: dict
moved:
  description: The group moved out of the way (C(name), C(gid_before), C(gid)), or null.
  returned: always
  type: dict
reowned:
  description: Files re-owned (or that would be) - C(group) for the group's, C(moved) for
    the moved group's.
  returned: always
  type: dict
missing_paths:
  description: Entries of O(reown_paths) that do not exist (skipped).
  returned: always
  type: list
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.swarmops.cluster.plugins.module_utils._group_gid import (
    PlanError, collect_files, parse_groups, parse_login_defs, plan_gid, reown)
from ansible_collections.swarmops.cluster.plugins.module_utils._mount import read_text

ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    "gid": {"type": "int", "required": True},
    "create": {"type": "bool", "default": True},
    "move_conflicting": {"type": "bool", "default": False},
    "reown_paths": {"type": "list", "elements": "path", "default": []},
}
ENV = {"LANG": "C", "LC_ALL": "C"}


def command(module, argv):
    """groupadd / groupmod, failing with what they said."""
    rc, out, err = module.run_command(argv, environ_update=ENV)
    if rc != 0:
        module.fail_json(msg="%s failed: %s" % (" ".join(argv), (err or out).strip()),
                         cmd=argv, rc=rc, stdout=out, stderr=err)


def apply_actions(module, actions, files):
    """Move, create or set, then re-own the files found before."""
    for action in actions:
        if action["action"] == "move":
            command(module, ["groupmod", "--gid", str(action["to"]), "--", action["group"]])
            reown(files.get(action["from"], []), action["to"])
        elif action["action"] == "create":
            command(module, ["groupadd", "--gid", str(action["gid"])]
                    + (["--system"] if action["system"] else []) + ["--", action["group"]])
        else:
            command(module, ["groupmod", "--gid", str(action["to"]), "--", action["group"]])
            reown(files.get(action["from"], []), action["to"])


def main():
    """Read /etc/group, plan, find the files, apply unless check mode, report."""
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    groups = parse_groups(read_text("/etc/group"))
    try:
        actions = plan_gid(groups, parse_login_defs(read_text("/etc/login.defs")), params)
    except PlanError as err:
        module.fail_json(msg=str(err), actions=[])
    old = (groups.get(params["name"]) or [None])[0]
    move = next((a for a in actions if a["action"] == "move"), None)
    gids = [g for g in (old, move and move["from"]) if g is not None and actions]
    files, missing = collect_files(params["reown_paths"] if gids else [], gids)
    if actions and not module.check_mode:
        apply_actions(module, actions, files)
    # A moved group's files had the target GID; the group's own had its old one.
    moved_count = len(files.get(move["from"], [])) if move else 0
    before = {params["name"]: old}
    after = {params["name"]: params["gid"]}
    if move:
        before[move["group"]], after[move["group"]] = move["from"], move["to"]
    module.exit_json(
        changed=bool(actions), actions=actions, missing_paths=missing,
        group={"name": params["name"], "gid_before": old, "gid": params["gid"]},
        moved={"name": move["group"], "gid_before": move["from"], "gid": move["to"]}
        if move else None,
        reowned={"group": len(files.get(old, [])) if old is not None else 0,
                 "moved": moved_count},
        diff={"before": before, "after": after})


if __name__ == "__main__":
    main()
