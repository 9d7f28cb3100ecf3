#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stacks' directories and files in a node's own DOCKERDIR (local storage)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: dockerdir_files
short_description: Make the stacks' directories and files in this node's DOCKERDIR
version_added: 0.1.0
description:
  - With C(swarmops_storage=local) every node has a DOCKERDIR of its own, and a service may
    run on any node (a global one on all of them), so each node needs the directories and
    files the stacks bind-mount. M(swarmops.cluster.stack) makes them on the manager that
    deploys; the C(swarmops.cluster.stacks) role runs this module on the other nodes, with
    every present stack's entries in one call.
  - The same rules as M(swarmops.cluster.stack)'s O(swarmops.cluster.stack#module:dockerdir_directories)
    and O(swarmops.cluster.stack#module:dockerdir_files) - directories get their mode and
    group (owner root), files are created once with their content and then left to the
    service; a path outside O(dockerdir), with C(..), or through a symlink is refused
    before anything is made.
options:
  dockerdir:
    description: DOCKERDIR on this node.
    type: path
    required: true
  directories:
    description: Directories (C(path) relative to O(dockerdir), C(mode), default C(2774)).
    type: list
    elements: dict
    default: []
  files:
    description: Files (C(path) relative to O(dockerdir), C(content), C(mode), default
      C(0640)), created when missing.
    type: list
    elements: dict
    default: []
  group:
    description: Group of the directories and files.
    type: str
    default: docker
author:
  - swarmops.cluster contributors (@swarmops)
"""

EXAMPLES = r"""
- name: Give this node the stacks' directories and files
  swarmops.cluster.dockerdir_files:
    dockerdir: /opt/docker
    directories:
      - {path: services/web/www, mode: "2775"}
    files:
      - {path: private/acme.json, content: "", mode: "0600"}
"""

RETURN = r"""
actions:
  description: What was (or in check mode would be) made - mkdir, chmod, write - with
    path and mode; file contents are left out.
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.cluster.plugins.module_utils._stack_files import (
    FilesError, apply_files, plan_files, public)

ARGUMENT_SPEC = {
    "dockerdir": {"type": "path", "required": True},
    "directories": {"type": "list", "elements": "dict", "default": []},
    "files": {"type": "list", "elements": "dict", "default": []},
    "group": {"type": "str", "default": "docker"},
}


def main():
    """Plan the missing directories and files, make them unless check mode, report."""
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    try:
        actions = plan_files(params["dockerdir"], params["directories"], params["files"],
                             params["group"])
        if actions and not module.check_mode:
            apply_files(actions, params["group"])
    except (FilesError, OSError) as err:
        module.fail_json(msg=str(err), actions=[])
    shown = public(actions)
    module.exit_json(changed=bool(actions), actions=shown,
                     diff={"before": {"made": []}, "after": {"made": shown}})


if __name__ == "__main__":
    main()
