# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one runner for the ``docker`` CLI, for what the engine API does not offer.

State is read through the SDK (_docker_api); the CLI is used only where the work lives in
the client: ``docker stack deploy`` converts a compose file into services, networks and
configs on the client side, and ``docker login`` keeps registry credentials in the
client's config. Every call is an argv list under ``LANG=C``; compose files and passwords
go on stdin, never argv. Private to this collection.
"""

from __future__ import annotations

from ansible_collections.swarmops.cluster.plugins.module_utils._docker_api import EngineError

DOCKER_ENV = {"LANG": "C", "LC_ALL": "C"}


def run_docker(module, args, stdin=None):
    """Run ``docker ARGS`` (stdin as text); stdout, or EngineError naming the command."""
    binary = module.get_bin_path("docker")
    if binary is None:
        raise EngineError("the docker CLI is not installed on this host; install docker.io "
                          "(the swarmops.cluster.docker role does)")
    argv = [binary] + list(args)
    rc, out, err = module.run_command(argv, data=stdin, binary_data=False,
                                      environ_update=DOCKER_ENV)
    if rc != 0:
        raise EngineError("docker %s failed: %s" % (" ".join(args[:2]), (err or out).strip()),
                          cmd=argv, rc=rc, stdout=out, stderr=err)
    return out


def escape_dollars(value):
    """The rendered stack with every ``$`` doubled in string values: docker stack deploy
    interpolates its input again, and our rendering already resolved every variable (a
    bcrypt hash in a label must reach the service as written)."""
    if isinstance(value, dict):
        return {key: escape_dollars(item) for key, item in value.items()}
    if isinstance(value, list):
        return [escape_dollars(item) for item in value]
    if isinstance(value, str):
        return value.replace("$", "$$")
    return value
