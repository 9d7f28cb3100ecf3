# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of swarmops.cluster.stack: read, interpolate and merge the compose files.

Compose files, the ``.env`` file and the files of configs and secrets live next to the
playbook, like a template's ``src``, and may be ansible-vault encrypted (read through
Ansible's loader, as copy and template read theirs); the module runs on a manager and gets
the rendered stack, with each config and secret named after its content.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.plugins.action import ActionBase

from ansible_collections.swarmops.cluster.plugins.module_utils._stack import mask_value
from ansible_collections.swarmops.cluster.plugins.plugin_utils._compose import (
    ComposeError, render)

from ansible_collections.swarmops.cluster.plugins.plugin_utils import _dotenv

# Options only this plugin reads; the module gets the rendered result instead.
CONTROLLER_OPTIONS = ("files", "definition", "env_file", "variables", "render_only",
                      "object_key", "unmasked_environment")
# Content-named configs and secrets are external objects with a name: compose 3.5+.
MIN_VERSION = (3, 8)
# docker's limit for config and secret names.
MAX_NAME = 64


class ActionModule(ActionBase):
    """Render on the controller, then run the module on the (delegated) manager."""

    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        """Render the stack (state=present) and hand it to the module."""
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        rendered_args = {key: value for key, value in args.items()
                         if key not in CONTROLLER_OPTIONS}
        try:
            if args.get("state", "present") == "present":
                rendered_args.update(self.render_stack(args))
        except (ComposeError, AnsibleError, OSError) as err:
            raise AnsibleActionFail(to_text(err)) from err
        if args.get("render_only"):
            # Preflight: the stack rendered on the controller, nothing sent to any host.
            result.update(changed=False, stack=args.get("name"),
                          compose=masked_compose(rendered_args.get("compose") or {},
                                                 args.get("unmasked_environment") or []),
                          objects=[obj["name"] for obj in rendered_args.get("configs", [])])
            return result
        # One no_log string each: see the module's decode_json_params.
        for key in ("compose", "secrets"):
            if key in rendered_args:
                rendered_args[key + "_json"] = json.dumps(rendered_args.pop(key))
        result.update(self._execute_module(module_name="swarmops.cluster.stack",
                                           module_args=rendered_args, task_vars=task_vars))
        return result

    def find(self, path):
        """A controller file, searched like template's src."""
        return self._find_needle("files", path)

    def read_file(self, path):
        """A controller file's bytes, decrypted when it is vault-encrypted (the loader
        holds the run's vault secrets; a decrypted copy lives only while it is read)."""
        try:
            real = self._loader.get_real_file(path, decrypt=True)
        except AnsibleError as err:
            raise AnsibleActionFail("%s: %s; give the vault password that encrypted it "
                                    "(--vault-id, --vault-password-file or --ask-vault-pass)"
                                    % (path, to_text(err))) from err
        try:
            with open(real, "rb") as handle:
                return handle.read()
        finally:
            self._loader.cleanup_tmp_file(real)

    def read_variables(self, args):
        """The .env file's values under the task's variables, all as strings; the .env
        file's own ${...} see the task's variables and its earlier lines only."""
        given = {key: to_text(value) if not isinstance(value, bool) else str(value).lower()
                 for key, value in (args.get("variables") or {}).items()}
        values = {}
        if args.get("env_file"):
            values.update(read_env_file(self.find(args["env_file"]), given, self.read_file))
        values.update(given)
        return values

    def render_stack(self, args):
        """compose, configs and secrets for the module, from files + definition."""
        files = [self.find(path) for path in args.get("files") or []]
        if not files and not args.get("definition"):
            raise AnsibleActionFail("stack %s: give files or definition (state=present)"
                                    % args.get("name"))
        variables = self.read_variables(args)
        sources = [(path, to_text(self.read_file(path), errors="surrogate_or_strict"))
                   for path in files]
        compose = render(sources, variables, args.get("definition"))
        base = os.path.dirname(files[0]) if files else self._loader.get_basedir()
        compose["version"] = at_least(compose.get("version"), MIN_VERSION)
        inline_env_files(compose, base, variables, self.read_file)
        object_key = args.get("object_key")
        configs = content_named(args["name"], compose, "configs", base, self.read_file,
                                object_key)
        secrets = content_named(args["name"], compose, "secrets", base, self.read_file,
                                object_key)
        return {"compose": compose, "configs": configs, "secrets": secrets}


def masked_compose(compose, unmasked):
    """The rendered compose with each service's environment values masked but the names in
    unmasked: the result is printed at -v, and environments hold passwords and tokens."""
    key = os.urandom(16)
    services = {}
    for name, service in (compose.get("services") or {}).items():
        service = dict(service or {})
        env = service.get("environment")
        if isinstance(env, dict):
            service["environment"] = {k: v if k in unmasked or v is None else
                                      mask_value("%s=%s" % (k, v), key).partition("=")[2]
                                      for k, v in env.items()}
        elif isinstance(env, list):
            service["environment"] = [item if item.partition("=")[0] in unmasked else
                                      mask_value(item, key) for item in env]
        services[name] = service
    return dict(compose, services=services)


def at_least(version, minimum):
    """The compose file version, raised to MINIMUM (3.x versions only add keys)."""
    try:
        parts = tuple(int(part) for part in str(version).split("."))
    except ValueError:
        parts = ()
    return ".".join(str(part) for part in max(parts, minimum))


def read_plain(path):
    """A file's bytes, as they are on disk (the action plugin reads through its loader)."""
    with open(path, "rb") as handle:
        return handle.read()


def read_env_file(path, variables=None, read=read_plain):
    """A .env file's values, read strictly (plugin_utils/_dotenv: quotes, export,
    multi-line; a line that does not parse is an error naming file and line)."""
    if not _dotenv.HAS_DOTENV:
        raise AnsibleActionFail("env_file needs python-dotenv on the controller: "
                                "pip install python-dotenv")
    return _dotenv.parse(to_text(read(path), errors="surrogate_or_strict"), path, variables)


def inline_env_files(compose, base, variables=None, read=read_plain):
    """Service ``env_file`` entries read here and folded into ``environment`` (the files
    are on the controller; the explicit environment wins, as in compose)."""
    for svc in (compose.get("services") or {}).values():
        paths = svc.pop("env_file", None)
        if not paths:
            continue
        merged = {}
        for path in [paths] if isinstance(paths, str) else paths:
            merged.update(read_env_file(os.path.join(base, path), variables, read))
        env = svc.get("environment") or {}
        if isinstance(env, list):
            env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
        merged.update(env)
        svc["environment"] = merged


def content_digest(data, key=None):
    """12 hex digits naming an object after its content: SHA-256, keyed (HMAC) with the
    cluster's object key when there is one, so that `docker secret ls` gives no way to test
    a guessed secret offline."""
    if key:
        return hmac.new(to_bytes(key), data, hashlib.sha256).hexdigest()[:12]
    return hashlib.sha256(data).hexdigest()[:12]


def content_named(stack, compose, kind, base, read=read_plain, object_key=None):
    """Replace each file- or content-backed config/secret by an external one named after
    its content; returns [{key, name, data}] for the module to create."""
    objects = []
    for key, spec in sorted((compose.get(kind) or {}).items()):
        spec = spec or {}
        if spec.get("external"):
            continue
        if "file" in spec:
            data = read(os.path.join(base, spec["file"]))
        elif "content" in spec:
            data = to_bytes(spec["content"])
        else:
            raise AnsibleActionFail("stack %s: %s.%s needs file, content or external"
                                    % (stack, kind, key))
        digest = content_digest(data, object_key)
        prefix = spec.get("name") or "%s_%s" % (stack, key)
        name = "%s-%s" % (prefix[:MAX_NAME - 13], digest)
        compose[kind][key] = {"external": True, "name": name}
        objects.append({"key": key, "name": name,
                        "data": to_text(base64.b64encode(data))})
    return objects
