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

import contextlib
import json
import os
import shutil
import tempfile

from ansible_collections.swarmops.cluster.plugins.module_utils._common import CLI_ENV
from ansible_collections.swarmops.cluster.plugins.module_utils._docker_api import EngineError


def run_docker(module, args, stdin=None, config_dir=None):
    """Run ``docker ARGS`` (stdin as text), with the client config in config_dir when given;
    stdout, or EngineError naming the command."""
    binary = module.get_bin_path("docker")
    if binary is None:
        raise EngineError("the docker CLI is not installed on this host; install docker.io "
                          "(the swarmops.cluster.docker role does)")
    argv = [binary] + list(args)
    env = dict(CLI_ENV, DOCKER_CONFIG=config_dir) if config_dir else CLI_ENV
    rc, out, err = module.run_command(argv, data=stdin, binary_data=False,
                                      environ_update=env)
    if rc != 0:
        raise EngineError("docker %s failed: %s" % (" ".join(args[:2]), (err or out).strip()),
                          cmd=argv, rc=rc, stdout=out, stderr=err)
    return out


@contextlib.contextmanager
def registry_session(module, auth, home_config=None):
    """A client config directory logged in to auth's registry for the commands run inside,
    removed afterwards: ``docker login`` would otherwise leave the password (base64 only)
    in the manager's ~/.docker/config.json for good. The user's own config is copied in
    first, so logins made by hand for other registries still count. None without auth."""
    if not auth:
        yield None
        return
    config_dir = tempfile.mkdtemp(prefix="swarmops-docker-config-")
    try:
        copy_client_config(home_config or os.path.expanduser("~/.docker/config.json"),
                           os.path.join(config_dir, "config.json"))
        run_docker(module, ["login", "--username", auth["username"], "--password-stdin",
                            "--", auth["registry"]], stdin=auth["password"],
                   config_dir=config_dir)
        yield config_dir
    finally:
        shutil.rmtree(config_dir, ignore_errors=True)


def copy_client_config(source, target):
    """The user's client config without its credsStore: a login stored in a credential
    helper would outlive the session. An unreadable or invalid config is left out."""
    try:
        with open(source, encoding="utf-8") as handle:
            config = json.load(handle)
    except (OSError, ValueError):
        return
    if isinstance(config, dict):
        config.pop("credsStore", None)
        with open(target, "w", encoding="utf-8") as handle:
            json.dump(config, handle)


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
