#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A group's GID made equal to a target on a node, its files re-owned."""

from __future__ import annotations


DOCUMENTATION = r"""
module: group_gid
short_description: Give a group a target GID on a node, and re-own its files
version_added: 0.1.0
description:
  - Makes the group's GID equal to O(gid) - the same on every node, so files on a shared
    volume mean the same group everywhere. A missing group is created with it (C(groupadd),
    C(--system) below C(GID_MIN)), so a package installed later (C(docker.io)) finds the
    group instead of creating it with a GID of its own choosing.
  - When another group holds the GID, fails naming it - or, with O(move_conflicting=true),
    first moves that group to the highest free GID of its range (C(SYS_GID_MIN..SYS_GID_MAX)
    or C(GID_MIN..GID_MAX) of C(/etc/login.defs)), as C(groupadd --system) picks one.
  - Files, directories and symlinks under O(reown_paths) that had the group's old GID get
    the new one, and those of a moved group follow it on every local filesystem; both sets
    are found before anything changes. The walk does not follow symlinks, does not cross
    into another filesystem and skips a path on a FUSE or network filesystem (the shared
    volume).
  - Refuses, before changing anything, a GID outside 1..2147483646, 65534 (nogroup) and
    65535, an invalid group name, and an C(/etc/group) with a duplicate or malformed entry
    for the group.
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
    description: Create the group with O(gid) when it is missing; V(false) fails instead.
    type: bool
    default: true
  move_conflicting:
    description:
      - Move another group that holds O(gid) to a free GID. Its files follow it on the
        root filesystem, every other disk filesystem (ext4, xfs, btrfs, ...) and under
        O(reown_paths); left behind, they would belong to the group O(name).
      - V(false) fails naming that group.
    type: bool
    default: false
  reown_paths:
    description:
      - Files and directories (walked recursively) whose files follow the GID change.
      - A path that does not exist is skipped and listed in RV(missing_paths).
    type: list
    elements: path
    default: []
notes:
  - Supports check mode and diff mode.
  - Uses C(groupadd) and C(groupmod); C(groupmod) also updates users' primary GID in
    C(/etc/passwd). Members listed in C(/etc/group) keep their membership.
  - Running processes keep the GIDs they started with; restart services (C(docker)) whose
    sockets or files matter. Processes of a moved group (C(dbus-daemon) of C(messagebus))
    would run with the GID that now names O(name); they are listed in
    RV(stale_processes) with a warning, to restart or reboot.
author:
  - swarmops.cluster contributors (@swarmops)
"""

EXAMPLES = r"""
- name: The docker group with the cluster's GID; the engine's socket and files follow
  swarmops.cluster.group_gid:
    name: docker
    gid: 998
    reown_paths: [/run/docker.sock, /etc/docker, /srv]

- name: Take GID 2000 for docker even if another group has it
  swarmops.cluster.group_gid:
    name: docker
    gid: 2000
    move_conflicting: true
    reown_paths: [/run/docker.sock, /srv]
"""

RETURN = r"""
actions:
  description:
    - What was done (or would be, in check mode), in order - C(move), C(create) or
      C(set_gid), then C(reown) with the C(count) of files for each GID that changed.
  returned: always
  type: list
  elements: dict
  sample: [{"action": "move", "group": "other", "from": 2000, "to": 60000},
           {"action": "set_gid", "group": "docker", "from": 1234, "to": 2000},
           {"action": "reown", "group": "docker", "from": 1234, "to": 2000, "count": 3}]
group:
  description: C(name), C(gid_before) (null when it was missing) and C(gid).
  returned: always
  type: dict
  sample: {"name": "docker", "gid_before": 1234, "gid": 2000}
moved:
  description: The group moved out of the way (C(name), C(gid_before), C(gid)), or null.
  returned: always
  type: dict
  sample: {"name": "other", "gid_before": 2000, "gid": 60000}
reowned:
  description: Files re-owned (or that would be) - C(group) for the group's, C(moved) for
    the moved group's.
  returned: always
  type: dict
  sample: {"group": 3, "moved": 1}
missing_paths:
  description: Entries of O(reown_paths) that do not exist (skipped).
  returned: always
  type: list
  elements: str
skipped_paths:
  description: Entries of O(reown_paths) on a FUSE or network filesystem (not walked).
  returned: always
  type: list
  elements: str
stale_processes:
  description: Processes still running with a moved group's old GID (C(pid), C(command),
    C(gid), C(group)); in check mode, those that would.
  returned: always
  type: list
  elements: dict
  sample: [{"pid": 63, "command": "dbus-daemon", "gid": 997, "group": "messagebus"}]
diff:
  description: The GIDs of the group and of a moved group, before and after.
  returned: always
  type: dict
  sample: {"before": {"docker": 1234, "other": 2000}, "after": {"docker": 2000, "other": 60000}}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.cluster.plugins.module_utils._common import CLI_ENV
from ansible_collections.swarmops.cluster.plugins.module_utils._group_gid import (
    PlanError, collect_files, gids_to_collect, merge_found, moved_group_roots, parse_groups,
    parse_login_defs, plan_gid, plan_reown, processes_with_gid, reown)
from ansible_collections.swarmops.cluster.plugins.module_utils._mount import (
    parse_mountinfo, read_text)

ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    "gid": {"type": "int", "required": True},
    "create": {"type": "bool", "default": True},
    "move_conflicting": {"type": "bool", "default": False},
    "reown_paths": {"type": "list", "elements": "path", "default": []},
}


def run_tool(module, argv, done):
    """groupadd / groupmod; a failure says what had already changed."""
    rc, out, err = module.run_command([module.get_bin_path(argv[0], required=True)]
                                      + argv[1:], environ_update=CLI_ENV)
    if rc != 0:
        module.fail_json(msg="%s failed: %s - %s" % (
            " ".join(argv), (err or out).strip(),
            "done before: %s" % done if done else "nothing was changed"),
            cmd=argv, rc=rc, stdout=out, stderr=err, actions=done)


def apply_actions(module, actions, found):
    """Move, create or set the GID, then re-own the files found before any change."""
    done = []
    for action in actions:
        kind = action["action"]
        if kind == "create":
            run_tool(module, ["groupadd", "--gid", str(action["gid"])]
                     + (["--system"] if action["system"] else []) + ["--", action["group"]],
                     done)
        elif kind in ("move", "set_gid"):
            run_tool(module, ["groupmod", "--gid", str(action["to"]), "--", action["group"]],
                     done)
        else:
            try:
                action["count"] = reown(found[action["from"]], action["to"])
            except OSError as err:
                module.fail_json(msg="re-owning files of GID %d failed: %s; fix it and run "
                                     "again (the files still have GID %d) - done before: %s"
                                 % (action["from"], err, action["from"], done), actions=done)
        done.append(action)


def summarize(params, groups, actions):
    """The group, moved, reowned and diff results of the plan."""
    name, old = params["name"], (groups.get(params["name"]) or [None])[0]
    move = next((a for a in actions if a["action"] == "move"), None)
    counts = {a["from"]: a["count"] for a in actions if a["action"] == "reown"}
    before, after = {name: old}, {name: params["gid"]}
    if move:
        before[move["group"]], after[move["group"]] = move["from"], move["to"]
    return {
        "group": {"name": name, "gid_before": old, "gid": params["gid"]},
        "moved": {"name": move["group"], "gid_before": move["from"], "gid": move["to"]}
        if move else None,
        "reowned": {"group": counts.get(old, 0),
                    "moved": counts.get(move["from"], 0) if move else 0},
        "diff": {"before": before, "after": after},
    }


def find_files(params, actions, mounts):
    """The files whose GID changes, found before anything changes: under reown_paths for
    the group's old GID, on every local filesystem for a moved group's."""
    files = collect_files(params["reown_paths"], gids_to_collect(actions), mounts)
    moves = [a["from"] for a in actions if a["action"] == "move"]
    if moves:
        more = collect_files(moved_group_roots(mounts, params["reown_paths"]), moves, mounts)
        files["found"] = merge_found(files["found"], more["found"])
    return files


def warn_stale_processes(module, actions):
    """A process started under a moved group keeps its old GID, which is now the target
    group's: name those processes, so their services are restarted (or the node rebooted)."""
    stale = []
    for move in (a for a in actions if a["action"] == "move"):
        procs = processes_with_gid(move["from"])
        stale += [{"pid": pid, "command": cmd, "gid": move["from"], "group": move["group"]}
                  for pid, cmd in procs]
        if procs:
            module.warn("processes started as group %s still run with GID %d, now %s's: %s; "
                        "restart their services or reboot the node so they take GID %d"
                        % (move["group"], move["from"], module.params["name"],
                           ", ".join("%s (%d)" % (cmd, pid) for pid, cmd in procs),
                           move["to"]))
    return stale


def main():
    """Read /etc/group, plan, find the files, apply unless check mode, report."""
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    groups = parse_groups(read_text("/etc/group"))
    try:
        actions = plan_gid(groups, parse_login_defs(read_text("/etc/login.defs")), params)
    except PlanError as err:
        module.fail_json(msg=str(err), actions=[])
    files = find_files(params, actions, parse_mountinfo(read_text("/proc/self/mountinfo")))
    actions += plan_reown(actions, files["found"])
    if files["skipped"]:
        module.warn("not walked (FUSE or network filesystem): %s"
                    % ", ".join(files["skipped"]))
    if actions and not module.check_mode:
        apply_actions(module, actions, files["found"])
    module.exit_json(changed=bool(actions), actions=actions, missing_paths=files["missing"],
                     skipped_paths=files["skipped"],
                     stale_processes=warn_stale_processes(module, actions),
                     **summarize(params, groups, actions))


if __name__ == "__main__":
    main()
