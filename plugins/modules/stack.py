#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Docker stack deployed from compose files, compared service by service, waited for."""

from __future__ import annotations

DOCUMENTATION = r"""
module: stack
short_description: Deploy a Docker stack from compose files, with interpolation, diff and convergence
version_added: 0.1.0
description:
  - Runs on a swarm manager (use C(delegate_to) and C(run_once) to reach one). An action
    plugin reads the compose files, the C(.env) file and the configs' and secrets' files on
    the controller (like M(ansible.builtin.template) reads C(src)), interpolates and merges
    them, and hands the rendered stack to the module.
  - Interpolation follows the compose specification (C($VAR), C(${VAR}), C(${VAR:-d}),
    C(${VAR-d}), C(${VAR:?err}), C(${VAR?err}), C(${VAR:+alt}), C(${VAR+alt}), nested
    defaults, C($$)). Unlike C(docker stack deploy), a variable without a value or default
    is an error, and the message lists every one with its file, line and service.
  - Compose files are read with docker's YAML rules (YAML 1.2, so C(yes) and C(no) stay
    strings; a key given twice is an error) and, after interpolation, checked against the
    compose schema C(docker stack deploy) enforces and the swarm's own rules (a published
    port once per stack, no C(replicas) in global mode, defined networks, volumes,
    secrets and configs). Every problem is listed at once, each with its file, line and service,
    with a "did you mean" for a misspelt key, before anything is deployed.
  - Several files merge as C(docker stack deploy -c a -c b) merges them (ports by published
    port and protocol, volumes by target, secrets and configs by source, environment and
    labels key by key, C(command) and C(entrypoint) replaced). YAML anchors and merge keys
    work.
  - Configs and secrets (top-level C(file) or C(content)) get a name derived from their
    content, so a changed file becomes a new object that the services move to in the same
    deploy; the old object is removed once nothing uses it.
  - The module reports a change only when the rendered stack differs from what runs, and
    returns the differences per service. An unchanged stack costs one read; it is not
    deployed again. A service changed by hand is reported and brought back.
  - After a deploy, and also when nothing changed, it waits until the services converged
    (replicated ones at their count, global ones on every eligible node, one-shot ones
    completed) and fails with each service's latest task errors otherwise.
extends_documentation_fragment:
  - swarmops.cluster.engine
options:
  name:
    description: The stack's name (the C(com.docker.stack.namespace) label).
    type: str
    required: true
  state:
    description:
      - V(present) deploys the stack.
      - V(absent) removes its services, networks, configs and secrets and waits until they
        are gone. Volumes are never removed.
    type: str
    choices: [present, absent]
    default: present
  files:
    description:
      - Compose files on the controller, merged in order. Relative paths are searched like
        M(ansible.builtin.template)'s C(src) (the role's or playbook's C(files/), then the
        playbook's folder).
      - Read by the action plugin.
    type: list
    elements: path
  definition:
    description:
      - Compose data inline, merged after O(files). Interpolated like the files.
      - Read by the action plugin.
    type: dict
  env_file:
    description:
      - A C(.env) file on the controller, parsed as docker compose parses it (quotes,
        C(export), multi-line values, C(${VAR:-default}) and the like, resolved against its
        earlier lines and O(variables), never the controller's environment). A line that
        does not parse is an error naming file and line. Its values are the
        interpolation's variables.
      - Read by the action plugin.
    type: path
  variables:
    description:
      - Interpolation variables; they take precedence over O(env_file). Values are turned
        into strings. The controller's process environment is not used.
      - Read by the action plugin.
    type: dict
  render_only:
    description:
      - Render on the controller and return the result (C(stack), C(compose), C(objects))
        without contacting any host; preflight uses it to refuse bad input before any
        change. Read by the action plugin.
      - Every service's environment values in the returned C(compose) are masked (the
        name and a digest keyed for this run only), but for the names in
        O(unmasked_environment).
    type: bool
    default: false
  unmasked_environment:
    description:
      - With O(render_only), environment variables whose values the returned C(compose)
        keeps (the stacks role passes the relay range variables its preflight judges).
        Read by the action plugin.
    type: list
    elements: str
    default: []
  object_key:
    description:
      - A secret of the cluster (vault it) that keys the digest naming each config and
        secret after its content (HMAC-SHA-256). Without it the digest is a plain
        SHA-256 of the content, and anyone who can list the swarm's secrets can test a
        guess of a short secret offline. Changing it renames every object once (the
        services move to the new names in one deploy).
      - Read by the action plugin.
    type: str
  compose:
    description:
      - The rendered compose data. Set by the action plugin from O(files) and
        O(definition); not to be given directly.
    type: dict
  compose_json:
    description:
      - O(compose) as one JSON string, which the action plugin sends so the environment
        values stay out of the module's logged arguments. Secret.
    type: str
  configs:
    description:
      - The stack's content-named configs (C(key), C(name), base64 C(data)). Set by the
        action plugin.
    type: list
    elements: dict
  secrets_json:
    description:
      - O(secrets) as one JSON string, as the action plugin sends it. Secret.
    type: str
  secrets:
    description:
      - The stack's content-named secrets, as O(configs). Set by the action plugin.
    type: list
    elements: dict
  prune:
    description: Remove services of the stack that are no longer in the files.
    type: bool
    default: false
  resolve_image:
    description:
      - C(docker stack deploy --resolve-image). V(always) pins each service to the
        registry's digest at deploy time; V(never) leaves image names as written.
    type: str
    choices: [always, changed, never]
    default: always
  with_registry_auth:
    description: Send this manager's registry credentials to the nodes that pull.
    type: bool
    default: false
  registry_auth:
    description:
      - Log this manager in to a registry (C(docker login), password on stdin) for a
        deploy. Implies O(with_registry_auth).
      - The login lives in a client config of its own, removed after the deploy, so no
        password stays in the manager's C(~/.docker/config.json) (the user's own config is
        copied in first, without its C(credsStore)).
    type: dict
    suboptions:
      registry:
        description: Registry host[:port].
        type: str
        required: true
      username:
        description: User name.
        type: str
        required: true
      password:
        description: Password or token.
        type: str
        required: true
  dockerdir:
    description:
      - The shared volume's directory (DOCKERDIR) under which O(dockerdir_directories) and
        O(dockerdir_files) are made, before the deploy, in this same call (every node
        sees the same tree).
    type: path
  dockerdir_directories:
    description: Directories the stack needs (C(path) relative to O(dockerdir), C(mode),
      default C(2774)); owner root, group O(dockerdir_group).
    type: list
    elements: dict
    default: []
  dockerdir_files:
    description:
      - Files the stack needs (C(path) relative to O(dockerdir), C(content), C(mode),
        default C(0640)), created when missing and then left to the service (Traefik
        writes its certificates into C(acme.json)).
    type: list
    elements: dict
    default: []
  dockerdir_group:
    description: Group of the directories and files.
    type: str
    default: docker
  wait:
    description: Wait for convergence (also when nothing changed).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for convergence or removal before failing.
    type: int
    default: 300
notes:
  - Check mode renders and compares, and deploys nothing. Diff mode shows each changed
    service's fields before and after.
  - Docker's own C(docker stack deploy) reads no C(.env) file and rejects C(${VAR:+alt}); the
    rendering here is why those work.
seealso:
  - module: swarmops.cluster.service_restart
  - module: swarmops.cluster.network
author:
  - swarmops.cluster contributors (@swarmops)
"""

EXAMPLES = r"""
- name: Deploy the proxy stack from two files and an .env file
  swarmops.cluster.stack:
    name: proxy
    files:
      - stacks/proxy/compose.yml
      - stacks/proxy/compose.prod.yml
    env_file: stacks/proxy/.env
    variables:
      DOMAIN: example.org
    prune: true
  run_once: true
  delegate_to: "{{ groups['swarm_managers'][0] }}"

- name: Remove a stack (volumes stay)
  swarmops.cluster.stack:
    name: proxy
    state: absent
  run_once: true
  delegate_to: "{{ groups['swarm_managers'][0] }}"
"""

RETURN = r"""
actions:
  description: What was done (or, in check mode, would be done), in order.
  returned: always
  type: list
  elements: dict
services:
  description: >-
    Per-service comparison of the files with what runs: C(added), C(removed) and
    C(changed) (service -> field -> before/after). Environment values are masked here and
    in the diff (C(KEY=(masked DIGEST)), the digest keyed per run: equal within one
    result, unguessable offline).
  returned: state=present
  type: dict
status:
  description: Each service's convergence (desired, running, state, latest task errors).
  returned: when waited
  type: dict
timings:
  description: >-
    Seconds spent deploying, waiting for convergence, and between the swarm's last task
    change and the moment the module saw convergence.
  returned: state=present
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.cluster.plugins.module_utils._docker_api import (
    ENGINE_ARGUMENT_SPEC, EngineError, connect, fail)
from ansible_collections.swarmops.cluster.plugins.module_utils._stack import (
    ensure_absent, ensure_present)

ARGUMENT_SPEC = dict(
    ENGINE_ARGUMENT_SPEC,
    name={"type": "str", "required": True},
    state={"type": "str", "choices": ["present", "absent"], "default": "present"},
    files={"type": "list", "elements": "path"},
    definition={"type": "dict"},
    env_file={"type": "path"},
    variables={"type": "dict"},
    render_only={"type": "bool", "default": False},
    unmasked_environment={"type": "list", "elements": "str", "default": []},
    object_key={"type": "str", "no_log": True},
    compose={"type": "dict"},
    compose_json={"type": "str", "no_log": True},
    configs={"type": "list", "elements": "dict"},
    secrets={"type": "list", "elements": "dict", "no_log": True},
    secrets_json={"type": "str", "no_log": True},
    prune={"type": "bool", "default": False},
    resolve_image={"type": "str", "choices": ["always", "changed", "never"],
                   "default": "always"},
    with_registry_auth={"type": "bool", "default": False},
    registry_auth={"type": "dict", "options": {
        "registry": {"type": "str", "required": True},
        "username": {"type": "str", "required": True},
        "password": {"type": "str", "required": True, "no_log": True}}},
    dockerdir={"type": "path"},
    dockerdir_directories={"type": "list", "elements": "dict", "default": []},
    dockerdir_files={"type": "list", "elements": "dict", "default": []},
    dockerdir_group={"type": "str", "default": "docker"},
    wait={"type": "bool", "default": True},
    wait_timeout={"type": "int", "default": 300},
)


def main():
    """Read, plan, apply unless check mode, wait, report."""
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
                           required_if=[("state", "present", ("compose", "compose_json"),
                                         True)])

    client = connect(module)
    try:
        if module.params["state"] == "absent":
            result = ensure_absent(module, client)
        else:
            result = ensure_present(module, client)
    except EngineError as err:  # a StackError too: its message and details alike
        fail(module, err)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
