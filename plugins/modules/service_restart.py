#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restart swarm services (docker service update --force) and wait for them."""

from __future__ import annotations

DOCUMENTATION = r"""
module: service_restart
short_description: Restart swarm services and wait until they converged again
version_added: 0.1.0
description:
  - Runs on a swarm manager. Force-updates each named service (what
    C(docker service update --force) does, each task replaced as the service's update
    config says, the spec unchanged), then waits for convergence as
    M(swarmops.cluster.stack) does and fails with the services' latest task errors.
  - A restart is an action, so the module always reports a change (in check mode too, where
    it restarts nothing).
extends_documentation_fragment:
  - swarmops.cluster.engine
options:
  services:
    description: Full service names (C(<stack>_<service>)).
    type: list
    elements: str
    required: true
  wait:
    description: Wait until the services converged.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait before failing.
    type: int
    default: 300
author:
  - swarmops.cluster contributors (@swarmops)
"""

EXAMPLES = r"""
- name: Restart Traefik (new tasks pick up a changed file on the shared mount)
  swarmops.cluster.service_restart:
    services: [core_traefik]
  run_once: true
  delegate_to: "{{ groups['swarm_managers'][0] }}"
"""

RETURN = r"""
actions:
  description: The services restarted (or, in check mode, to be restarted).
  returned: always
  type: list
  elements: dict
status:
  description: Each service's convergence after the restart.
  returned: when waited
  type: dict
waited:
  description: Seconds spent waiting for convergence.
  returned: when waited
  type: float
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.cluster.plugins.module_utils._docker_api import (
    ENGINE_ARGUMENT_SPEC, EngineError, connect, fail)
from ansible_collections.swarmops.cluster.plugins.module_utils._stack import (
    find_services, force_update, wait_services)

ARGUMENT_SPEC = dict(
    ENGINE_ARGUMENT_SPEC,
    services={"type": "list", "elements": "str", "required": True},
    wait={"type": "bool", "default": True},
    wait_timeout={"type": "int", "default": 300},
)


def main():
    """Find every service first (unknown names change nothing), restart, wait."""
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    client = connect(module)
    names = module.params["services"]
    result = {"changed": True, "actions": [{"action": "restart", "service": name}
                                           for name in names]}
    try:
        services = find_services(client, names)
        if not module.check_mode:
            for service in services:
                force_update(client, service)
            if module.params["wait"]:
                status, waited = wait_services(client, names, module.params["wait_timeout"])
                result.update(status=status["services"], waited=waited)
    except EngineError as err:  # a StackError too: its message and details alike
        fail(module, err)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
