#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restart the node's Docker engine and wait until it is back in its swarm."""

from __future__ import annotations

DOCUMENTATION = r"""
module: engine_restart
short_description: Restart the node's Docker engine and wait until it is back in its swarm
version_added: 0.1.0
description:
  - Restarts the engine's systemd unit on the managed node, then waits until the engine
    answers and, if the node was in a swarm, is active in it again; a manager also until it
    sees a raft leader and itself ready and reachable, and until every service that was
    converged before the restart is converged again. On every node it also waits until
    each global service that ran a task here runs a new one here (the old ones die with the
    engine), so the next node's restart never meets this one's tasks still starting.
  - Refuses to restart a manager while another manager is unreachable, so that at most one
    manager is ever down. Run it one node at a time (C(serial=1)); the rolling play of
    C(site.yml) and C(playbooks/upgrade.yml) do, and wait for the whole cluster with
    M(swarmops.cluster.cluster_health) between nodes.
  - A restart is an action, so the module always reports a change (in check mode too, where
    it restarts nothing).
extends_documentation_fragment:
  - swarmops.cluster.engine
options:
  unit:
    description: The engine's systemd unit.
    type: str
    default: docker
  wait_timeout:
    description: Seconds to wait for the engine to come back before failing.
    type: int
    default: 300
  unlock_key:
    description:
      - The swarm's unlock key. A manager of an autolocked swarm comes back locked; with
        the key it is unlocked (in the API request's body, never on a command line) and
        the wait goes on, without it the module fails at once naming C(playbooks/unlock.yml).
        Secret.
    type: str
author:
  - swarmops.cluster contributors (@swarmops)
"""

EXAMPLES = r"""
- name: Restart the engine, one node at a time
  swarmops.cluster.engine_restart:
  throttle: 1
"""

RETURN = r"""
actions:
  description: The restart done (or, in check mode, to be done), with the node's swarm state.
  returned: always
  type: list
  elements: dict
waited:
  description: Seconds from the restart until the engine was back in its swarm.
  returned: when restarted
  type: float
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.cluster.plugins.module_utils._common import run_systemctl
from ansible_collections.swarmops.cluster.plugins.module_utils._docker_api import (
    ENGINE_ARGUMENT_SPEC, EngineError, connect, fail)
from ansible_collections.swarmops.cluster.plugins.module_utils._engine import (
    RestartRefused, read_before_restart, wait_ready)

ARGUMENT_SPEC = dict(
    ENGINE_ARGUMENT_SPEC,
    unit={"type": "str", "default": "docker"},
    wait_timeout={"type": "int", "default": 300},
    unlock_key={"type": "str", "no_log": True},
)


def main():
    """Read the swarm state, refuse a second manager down, restart, wait."""
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    client = connect(module)
    try:
        before, actions = read_before_restart(client)
        result = {"changed": True, "actions": actions}
        if module.check_mode:
            module.exit_json(**result)
        unit = module.params["unit"]
        run_systemctl(module, ["restart", "--", unit], EngineError,
                      "check `systemctl status %s`" % unit)
        result["waited"] = wait_ready(client, before, module.params["wait_timeout"],
                                      module.params["unlock_key"])
    except RestartRefused as err:
        module.fail_json(msg=str(err))
    except EngineError as err:
        fail(module, err)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
