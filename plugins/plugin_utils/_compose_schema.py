# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The compose file format that ``docker stack deploy`` accepts, as a JSON schema.

No maintained package ships the schema docker's stack loader enforces (docker/cli's
``config_schema_v3.*.json``; the compose-spec schema is another, looser format), so this is
our own, written from the compose file v3 reference (versions 3.0 to 3.9; the action plugin
deploys with 3.8 at least) and checked rule by rule against ``docker stack config`` of docker
20.10, 26.1 and 28.2 (tests/unit/plugins/plugin_utils/test_compose_schema.py).  One
addition of ours: configs and secrets may give ``content`` (the action plugin turns it into
an external, content-named object before anything reaches docker).
"""

from __future__ import annotations

import difflib
import functools
import re

try:
    from jsonschema import Draft7Validator, FormatChecker
    HAS_JSONSCHEMA = True
except ImportError:  # check_schema says what to install
    HAS_JSONSCHEMA = False

_X = {"^x-": {}}


def _obj(properties, **extra):
    """A mapping with these keys only (and x-* extensions)."""
    return dict(type="object", properties=properties, patternProperties=_X,
                additionalProperties=False, **extra)


_STRING = {"type": "string"}
_BOOL = {"type": "boolean"}
_INT = {"type": "integer"}
_NUMBER = {"type": "number"}
_STRINGS = {"type": "array", "items": _STRING}
_UNIQUE_STRINGS = {"type": "array", "items": _STRING, "uniqueItems": True}
_STRING_OR_LIST = {"oneOf": [_STRING, _UNIQUE_STRINGS]}
_LIST_OR_DICT = {"oneOf": [
    {"type": "object", "additionalProperties": False,
     "patternProperties": {".+": {"type": ["string", "number", "null"]}}},
    _UNIQUE_STRINGS]}
_LABELS = _LIST_OR_DICT
_DURATION = {"type": "string", "format": "duration"}
_EXTERNAL = {"oneOf": [_BOOL, _obj({"name": _STRING})]}
_DRIVER_OPTS = {"type": "object", "additionalProperties": {"type": ["string", "number"]}}
_RESOURCE = _obj({"cpus": {"type": ["string", "number"]}, "memory": _STRING,
                  "generic_resources": {"type": "array", "items": _obj({
                      "discrete_resource_spec": _obj({"kind": _STRING, "value": _NUMBER})})}})
_UPDATE = _obj({"parallelism": _INT, "delay": _DURATION, "failure_action": _STRING,
                "monitor": _DURATION, "max_failure_ratio": _NUMBER,
                "order": {"enum": ["start-first", "stop-first"]}})
_DEPLOY = _obj({
    "mode": _STRING, "endpoint_mode": _STRING, "replicas": _INT, "labels": _LABELS,
    "rollback_config": _UPDATE, "update_config": _UPDATE,
    "resources": _obj({"limits": _RESOURCE, "reservations": _RESOURCE}),
    "restart_policy": _obj({"condition": _STRING, "delay": _DURATION,
                            "max_attempts": _INT, "window": _DURATION}),
    "placement": _obj({"constraints": _STRINGS,
                       "preferences": {"type": "array", "items": _obj({"spread": _STRING})},
                       "max_replicas_per_node": _INT})})
_REFERENCE = {"oneOf": [_STRING, _obj({"source": _STRING, "target": _STRING, "uid": _STRING,
                                       "gid": _STRING, "mode": _NUMBER})]}
_PORT = {"oneOf": [_NUMBER, {"type": "string", "format": "ports"},
                   _obj({"mode": _STRING, "target": _INT, "published": _INT,
                         "protocol": _STRING})]}
_VOLUME = {"oneOf": [_STRING, _obj({
    "type": _STRING, "source": _STRING, "target": _STRING, "read_only": _BOOL,
    "consistency": _STRING, "bind": _obj({"propagation": _STRING}),
    "volume": _obj({"nocopy": _BOOL}), "tmpfs": _obj({"size": {"type": "integer",
                                                               "minimum": 0}})},
    required=["type"])]}
_SERVICE_NETWORKS = {"oneOf": [_UNIQUE_STRINGS, {
    "type": "object", "patternProperties": {"^[a-zA-Z0-9._-]+$": {"oneOf": [
        _obj({"aliases": _UNIQUE_STRINGS, "ipv4_address": _STRING,
              "ipv6_address": _STRING}), {"type": "null"}]}},
    "additionalProperties": False}]}
_SERVICE = _obj({
    "build": {"oneOf": [_STRING, _obj({
        "context": _STRING, "dockerfile": _STRING, "args": _LIST_OR_DICT, "labels": _LABELS,
        "cache_from": _STRINGS, "network": _STRING, "target": _STRING,
        "shm_size": {"type": ["integer", "string"]}, "extra_hosts": _LIST_OR_DICT})]},
    "cap_add": _UNIQUE_STRINGS, "cap_drop": _UNIQUE_STRINGS, "cgroup_parent": _STRING,
    "command": {"oneOf": [_STRING, _STRINGS]},
    "configs": {"type": "array", "items": _REFERENCE},
    "container_name": _STRING,
    "credential_spec": _obj({"config": _STRING, "file": _STRING, "registry": _STRING}),
    "depends_on": _UNIQUE_STRINGS, "deploy": _DEPLOY, "devices": _UNIQUE_STRINGS,
    "dns": _STRING_OR_LIST, "dns_search": _STRING_OR_LIST, "domainname": _STRING,
    "entrypoint": {"oneOf": [_STRING, _STRINGS]}, "env_file": _STRING_OR_LIST,
    "environment": _LIST_OR_DICT,
    "expose": {"type": "array", "items": {"type": ["string", "number"], "format": "expose"},
               "uniqueItems": True},
    "external_links": _UNIQUE_STRINGS, "extra_hosts": _LIST_OR_DICT,
    "healthcheck": _obj({"disable": _BOOL, "interval": _DURATION, "retries": _NUMBER,
                         "test": {"oneOf": [_STRING, _STRINGS]}, "timeout": _DURATION,
                         "start_period": _DURATION}),
    "hostname": _STRING, "image": _STRING, "init": _BOOL, "ipc": _STRING,
    "isolation": _STRING, "labels": _LABELS, "links": _UNIQUE_STRINGS,
    "logging": _obj({"driver": _STRING, "options": {
        "type": "object",
        "patternProperties": {"^.+$": {"type": ["string", "number", "null"]}}}}),
    "mac_address": _STRING, "network_mode": _STRING, "networks": _SERVICE_NETWORKS,
    "pid": {"type": ["string", "null"]},
    "ports": {"type": "array", "items": _PORT, "uniqueItems": True},
    "privileged": _BOOL, "read_only": _BOOL, "restart": _STRING,
    "security_opt": _UNIQUE_STRINGS, "shm_size": {"type": ["number", "string"]},
    "secrets": {"type": "array", "items": _REFERENCE}, "sysctls": _LIST_OR_DICT,
    "stdin_open": _BOOL, "stop_grace_period": _DURATION, "stop_signal": _STRING,
    "storage_opt": {"type": "object"}, "tmpfs": _STRING_OR_LIST, "tty": _BOOL,
    "ulimits": {"type": "object", "patternProperties": {"^[a-z]+$": {"oneOf": [
        _INT, _obj({"hard": _INT, "soft": _INT}, required=["soft", "hard"])]}}},
    "user": _STRING, "userns_mode": _STRING,
    "volumes": {"type": "array", "items": _VOLUME, "uniqueItems": True},
    "working_dir": _STRING})
_NETWORK = {"type": ["object", "null"], "properties": {
    "name": _STRING, "driver": _STRING, "driver_opts": _DRIVER_OPTS,
    "ipam": _obj({"driver": _STRING, "config": {"type": "array", "items": _obj({
        "subnet": _STRING})}}),
    "external": _EXTERNAL, "internal": _BOOL, "attachable": _BOOL, "labels": _LABELS},
    "patternProperties": _X, "additionalProperties": False}
_VOLUME_DEFINITION = {"type": ["object", "null"], "properties": {
    "name": _STRING, "driver": _STRING, "driver_opts": _DRIVER_OPTS, "external": _EXTERNAL,
    "labels": _LABELS}, "patternProperties": _X, "additionalProperties": False}
_FILE_OBJECT = {"name": _STRING, "file": _STRING, "external": _EXTERNAL, "labels": _LABELS,
                "template_driver": _STRING, "content": _STRING}
_SECRET = _obj(dict(_FILE_OBJECT, driver=_STRING, driver_opts=_DRIVER_OPTS))
_CONFIG = _obj(_FILE_OBJECT)


def _named(definition):
    """A mapping of names (docker's pattern) to definitions."""
    return {"type": "object", "patternProperties": {"^[a-zA-Z0-9._-]+$": definition},
            "additionalProperties": False}


SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {"version": _STRING, "services": _named(_SERVICE),
                   "networks": _named(_NETWORK), "volumes": _named(_VOLUME_DEFINITION),
                   "secrets": _named(_SECRET), "configs": _named(_CONFIG)},
    "patternProperties": _X, "additionalProperties": False,
}

# --- checking ------------------------------------------------------------------------------

_DURATION_TEXT = re.compile(r"[-+]?(((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+|0)")
# [ip:][published[-range]:]target[-range][/protocol]; an IPv6 address in brackets.
_PORTS_TEXT = re.compile(r"((([0-9]{1,3}\.){3}[0-9]{1,3}:|\[[0-9A-Fa-f:]+\]:)?"
                         r"(\d+(-\d+)?)?:)?\d+(-\d+)?(/[a-z]+)?")
_EXPOSE_TEXT = re.compile(r"\d+(-\d+)?(/[a-z]+)?")
_KINDS = {"object": "a mapping", "array": "a list", "string": "a string",
          "number": "a number", "integer": "an integer", "boolean": "a boolean",
          "null": "null"}


def _formats():
    """docker's own formats: Go durations, port specs, exposed ports."""
    checker = FormatChecker(())  # pylint: disable=possibly-used-before-assignment
    for name, pattern in (("duration", _DURATION_TEXT), ("ports", _PORTS_TEXT),
                          ("expose", _EXPOSE_TEXT)):
        checker.checks(name)(functools.partial(_matches, pattern))
    return checker


def _matches(pattern, value):
    """Whether a string (or number: a port) is written as the format wants."""
    return not isinstance(value, str) or pattern.fullmatch(value) is not None


def _kind_of(value):
    """What a value is, in the words of the messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    for kind, types in (("a mapping", dict), ("a list", list), ("a string", str)):
        if isinstance(value, types):
            return kind
    return "a number"


def _types_of(schema):
    """The kinds a (sub)schema allows, for "must be a string or a list"."""
    if "oneOf" in schema:
        return [kind for sub in schema["oneOf"] for kind in _types_of(sub)]
    wanted = schema.get("type", [])
    return [_KINDS[kind] for kind in ([wanted] if isinstance(wanted, str) else wanted)]


def _say_either(kinds):
    """"a string or a list" from ["a string", "a list"], repeats dropped."""
    kinds = list(dict.fromkeys(kinds))
    return " or ".join([", ".join(kinds[:-1]), kinds[-1]] if len(kinds) > 1 else kinds)


def _unknown_keys(error):
    """[(key, "did you mean" suggestion or None)] for an additionalProperties error."""
    known = list(error.schema.get("properties", {}))
    patterns = list(error.schema.get("patternProperties", {}))
    unknown = [key for key in error.instance if key not in known
               and not any(re.search(pattern, key) for pattern in patterns)]
    return [(key, next(iter(difflib.get_close_matches(key, known, 1, 0.75)), None))
            for key in unknown]


# YAML 1.1 booleans: docker 20.10 and 26.1 read them as true/false, docker 28 and this
# loader (YAML 1.2) as strings; a file meant for the older loaders needs true/false.
YAML11_BOOLEANS = {"y", "yes", "n", "no", "on", "off"}


def _yaml11_hint(error):
    """A hint for a boolean field given a YAML 1.1 boolean word, else ""."""
    if _KINDS["boolean"] in _types_of(error.schema) and isinstance(error.instance, str) \
            and error.instance.lower() in YAML11_BOOLEANS:
        return (' ("%s" is a string under YAML 1.2, as docker 28 reads it; write true or '
                'false)' % error.instance)
    return ""


def _describe(error):
    """[(path, message)] for one schema error (one per unknown key, whose path ends with
    that key: its line is the one to show)."""
    path = tuple(error.absolute_path)
    if error.validator == "additionalProperties":
        return [(path + (key,), 'unknown key "%s"%s' % (
            key, ' (did you mean "%s"?)' % close if close else ""))
            for key, close in _unknown_keys(error)]
    if error.validator == "oneOf" and error.context:
        # The branch the value was meant for is the one that failed on more than its type.
        meant = [sub for sub in error.context if len(sub.absolute_path) > len(path)
                 or sub.validator not in ("type", "oneOf")]
        if meant:
            return _describe(max(meant, key=lambda sub: len(sub.absolute_path)))
        return [(path, "must be %s, not %s" % (_say_either(_types_of(error.schema)),
                                               _kind_of(error.instance)))]
    if error.validator == "type":
        return [(path, "must be %s, not %s%s" % (_say_either(_types_of(error.schema)),
                                                 _kind_of(error.instance),
                                                 _yaml11_hint(error)))]
    if error.validator == "format":
        return [(path, "%r is not a valid %s" % (error.instance, error.validator_value))]
    if error.validator == "uniqueItems":
        return [(path, "has an entry twice")]
    if error.validator == "required":
        return [(path, error.message.replace("'", '"'))]
    return [(path, error.message)]


def check_schema(compose):
    """[(path, message)] for everything in compose that docker's schema check refuses."""
    if not HAS_JSONSCHEMA:
        return [((), "checking compose files needs jsonschema on the controller: "
                     "pip install jsonschema")]
    validator = Draft7Validator(SCHEMA, format_checker=_formats())
    found = []
    for error in sorted(validator.iter_errors(compose), key=lambda e: list(map(str, e.path))):
        found.extend(_describe(error))
    return found


# --- what the swarm refuses beyond the schema ----------------------------------------------

def _published_ports(service):
    """[(index, "published/protocol")] of a service's ports that publish one."""
    found = []
    for index, port in enumerate(service.get("ports") or []):
        if isinstance(port, dict):
            if port.get("published") is not None:
                found.append((index, "%s/%s" % (port["published"],
                                                port.get("protocol") or "tcp")))
            continue
        spec, _sep, protocol = str(port).partition("/")
        parts = spec.rsplit(":", 2)
        if len(parts) > 1 and parts[-2]:
            found.append((index, "%s/%s" % (parts[-2], protocol or "tcp")))
    return found


def _check_ports(services):
    """A published port/protocol once per stack: the swarm's ingress refuses it twice."""
    found = []
    seen = {}
    for name, service in services.items():
        for index, published in _published_ports(service):
            first = seen.setdefault(published, (name, index))
            if first != (name, index):
                where = "this service" if first[0] == name else "service %s" % first[0]
                found.append((("services", name, "ports", index),
                              "published port %s is already published by %s"
                              % (published, where)))
    return found


def _check_mode(name, service):
    """replicas only in replicated mode (docker: convert.go, convertDeployMode)."""
    deploy = service.get("deploy") or {}
    if deploy.get("mode") == "global" and deploy.get("replicas") is not None:
        return [(("services", name, "deploy", "replicas"),
                 "cannot be used with mode: global")]
    return []


def _check_references(compose, name, service):
    """Networks, secrets, configs and named volumes a service uses must be defined."""
    found = []
    networks = service.get("networks") or []
    for network in networks:
        if network != "default" and network not in (compose.get("networks") or {}):
            found.append((("services", name, "networks"), "undefined network %s" % network))
    for kind in ("secrets", "configs"):
        for index, reference in enumerate(service.get(kind) or []):
            source = reference.get("source") if isinstance(reference, dict) else reference
            if source not in (compose.get(kind) or {}):
                found.append((("services", name, kind, index),
                              "undefined %s %s" % (kind[:-1], source)))
    for index, volume in enumerate(service.get("volumes") or []):
        source = _volume_name(volume)
        if source and source not in (compose.get("volumes") or {}):
            found.append((("services", name, "volumes", index), "undefined volume %s" % source))
    return found


def _volume_name(volume):
    """The named volume a service volume uses, or None for binds, tmpfs and anonymous ones."""
    if isinstance(volume, dict):
        return volume.get("source") if volume.get("type") == "volume" else None
    parts = str(volume).split(":")
    if len(parts) < 2 or parts[0].startswith(("/", ".", "~")):
        return None
    return parts[0]


def _check_resources(compose):
    """What docker's loader refuses in top-level definitions (loader.go: external volumes
    take no driver, driver_opts or labels; name and external.name conflict)."""
    found = []
    for section in ("volumes", "networks", "secrets", "configs"):
        for name, definition in (compose.get(section) or {}).items():
            definition = definition or {}
            external = definition.get("external")
            if isinstance(external, dict) and "name" in external and "name" in definition:
                found.append(((section, name, "name"), "external.name and name conflict; "
                              "only use name"))
            if section != "volumes" or not external:
                continue
            found.extend(((section, name, key), "cannot be used with external")
                         for key in ("driver", "driver_opts", "labels") if key in definition)
    return found


def _check_mounts(name, service):
    """A bind mount needs a source (docker: "field Source must not be empty")."""
    return [(("services", name, "volumes", index), "a bind mount needs a source")
            for index, volume in enumerate(service.get("volumes") or [])
            if isinstance(volume, dict) and volume.get("type") == "bind"
            and not volume.get("source")]


def check_swarm_rules(compose):
    """[(path, message)] for what passes the schema but docker's loader and converter or
    the swarm refuse.  Run only on a compose that passed check_schema."""
    services = compose.get("services") or {}
    found = _check_ports(services) + _check_resources(compose)
    for name, service in services.items():
        found.extend(_check_mode(name, service))
        found.extend(_check_mounts(name, service))
        found.extend(_check_references(compose, name, service))
    return found
