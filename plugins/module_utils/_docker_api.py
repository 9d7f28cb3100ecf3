# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One way to reach the node's Docker engine: the docker SDK's low-level API client.

Private to this collection; its interface may change without notice.
"""

from __future__ import annotations

import traceback

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.swarmops.cluster.plugins.module_utils._common import SwarmopsError

try:
    import docker
    from docker.errors import APIError, DockerException
    HAS_DOCKER = True
    DOCKER_IMPORT_ERROR = None
except ImportError:
    HAS_DOCKER = False
    DOCKER_IMPORT_ERROR = traceback.format_exc()

    class DockerException(Exception):  # type: ignore[no-redef]
        """Stands in when the SDK is missing, so except clauses still parse."""

    class APIError(DockerException):  # type: ignore[no-redef]
        """Stands in when the SDK is missing."""


ENGINE_ARGUMENT_SPEC = {
    "docker_host": {"type": "str", "default": "unix:///var/run/docker.sock"},
    "timeout": {"type": "int", "default": 60},
}


class EngineError(SwarmopsError):
    """An engine call failed; carries what fail_json needs to name the fix."""


def connect(module):
    """An APIClient for the module's docker_host, or fail naming the missing piece."""
    if not HAS_DOCKER:
        module.fail_json(msg=missing_required_lib("docker (Debian: python3-docker)"),
                         exception=DOCKER_IMPORT_ERROR)
    try:
        client = docker.APIClient(base_url=module.params["docker_host"], version="auto",
                                  timeout=module.params["timeout"])
        client.ping()
    except DockerException as exc:
        module.fail_json(msg="cannot reach the Docker engine at %s: %s. Is dockerd running "
                             "(systemctl status docker) and is this task run with become?"
                         % (module.params["docker_host"], exc))
    return client


def call(what, func, *args, **kwargs):
    """Run one API call; turn SDK errors into EngineError naming the call."""
    try:
        return func(*args, **kwargs)
    except APIError as exc:
        raise EngineError("%s failed: %s" % (what, exc.explanation or exc),
                          api_call=what, status_code=exc.status_code) from exc
    except DockerException as exc:
        raise EngineError("%s failed: %s" % (what, exc), api_call=what) from exc


def fail(module, err, **result):
    """fail_json with the EngineError's message and details."""
    result.update(err.details)
    module.fail_json(msg=err.msg, **result)
