# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stack's services as comparable dicts: from the compose file, from the engine, and the diff.

``desired_services`` converts a compose file the way ``docker stack deploy`` (CLI 20.10)
does; ``running_services`` reads the engine's /services entries back into the same shape;
``diff_services`` compares the two. Both sides fill in the defaults the engine fills in, so
that only what a deploy would change shows up. Pure functions, stdlib only.
Private to this collection.
"""

from __future__ import annotations

import re
import shlex
from fractions import Fraction

from ansible_collections.swarmops.cluster.plugins.module_utils._common import SwarmopsError

NAMESPACE_LABEL = "com.docker.stack.namespace"
# The CLI records the compose image string here; the image itself is compared instead.
IMAGE_LABEL = "com.docker.stack.image"

_DURATION_UNITS = {"ns": 1, "us": 10 ** 3, "\u00b5s": 10 ** 3, "\u03bcs": 10 ** 3,
                   "ms": 10 ** 6, "s": 10 ** 9, "m": 60 * 10 ** 9, "h": 3600 * 10 ** 9}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")
_BYTES = re.compile(r"^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$")
_CONSTRAINT = re.compile(r"\s*(==|!=)\s*")
# Network modes for which the CLI adds no default alias (container.NetworkMode.IsUserDefined).
_BUILTIN_NETWORKS = ("default", "bridge", "host", "none")


class SpecError(SwarmopsError, ValueError):
    """A compose value docker would refuse to convert."""


def scope(stack, name):
    """The swarm name of a stack object (docker's Namespace.Scope)."""
    return "%s_%s" % (stack, name)


def parse_duration(value, field="duration"):
    """A Go duration ("1m30s", "500ms") in nanoseconds; None stays None.

    compose v3 wants strings; a bare number is read as seconds (compose-spec's rule).
    """
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(Fraction(str(value)) * 10 ** 9)
    text = str(value).strip()
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-")
    if body == "0":
        return 0
    total, pos = Fraction(0), 0
    for match in _DURATION_PART.finditer(body):
        if match.start() != pos:
            break
        total += Fraction(match.group(1)) * _DURATION_UNITS[match.group(2)]
        pos = match.end()
    if not body or pos != len(body):
        raise SpecError("%s: invalid duration %r" % (field, value))
    return sign * int(total)


def parse_bytes(value, field="size"):
    """A size ("512M", "1.5g", 1024) in bytes, binary multiples (docker's RAMInBytes)."""
    if value is None:
        return 0
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _BYTES.match(str(value).strip())
    if not match:
        raise SpecError("%s: invalid size %r" % (field, value))
    power = " kmgtp".index((match.group(2) or " ").lower())
    return int(Fraction(match.group(1)) * 1024 ** power)


def parse_cpus(value, field="cpus"):
    """A CPU count ("0.5") in NanoCPUs; docker refuses what is not a whole nanoCPU."""
    if value in (None, ""):
        return 0
    try:
        nano = Fraction(str(value)) * 10 ** 9
    except ValueError:
        raise SpecError("%s: invalid cpus %r" % (field, value)) from None
    if nano.denominator != 1:
        raise SpecError("%s: cpus %r is finer than one nanoCPU" % (field, value))
    return int(nano)


def stringify(value):
    """A YAML scalar as the compose loader turns it into a string."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def split_image(image):
    """(familiar name, tag, digest) of an image reference; tag/digest may be ''.

    The engine stores familiar names with a tag ("docker.io/library/busybox" is kept as
    "busybox:latest"), and a deploy that resolved the image appends "@sha256:...".
    """
    name, _at, digest = str(image).partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    tag = ""
    if colon > slash:
        name, tag = name[:colon], name[colon + 1:]
    parts = name.split("/")
    if len(parts) > 1 and parts[0] in ("docker.io", "index.docker.io"):
        parts = parts[1:]
    if len(parts) == 2 and parts[0] == "library":
        parts = parts[1:]
    return "/".join(parts), tag, digest


def normalize_image(image):
    """The image as the engine stores it: familiar name, ':latest' when untagged."""
    if not image:
        return ""
    name, tag, digest = split_image(image)
    if not tag and not digest:
        tag = "latest"
    return name + (":" + tag if tag else "") + ("@" + digest if digest else "")


def images_match(desired, running):
    """Same image, ignoring the digest the engine pinned unless the compose file pins one."""
    d_name, d_tag, d_digest = split_image(desired or "")
    r_name, r_tag, r_digest = split_image(running or "")
    if d_name != r_name:
        return False
    if d_digest:
        return d_digest == r_digest and (not d_tag or d_tag == r_tag)
    return (d_tag or "latest") == (r_tag or "latest")


def normalize_args(value):
    """command/entrypoint as a list: a string is split like a shell would."""
    if value is None:
        return None
    if isinstance(value, str):
        return shlex.split(value)
    return [stringify(item) for item in value]


def key_values(value, sep="="):
    """A compose list ("K=V", bare "K") or mapping as an ordered {key: value or None}."""
    if not value:
        return {}
    if isinstance(value, dict):
        return {str(k): (None if v is None else stringify(v)) for k, v in value.items()}
    result = {}
    for item in value:
        key, found, val = str(item).partition(sep)
        # Later entries win, as in the compose loader's map.
        result[key] = val if found else None
    return result


def normalize_env(value):
    """Sorted "K=V"; a key without value stays bare, as the engine stores it.

    The CLI takes a bare key's value from its own environment; the stack module runs
    the CLI with a clean one, so the engine gets (and keeps) the bare "K".
    """
    items = key_values(value)
    return sorted(k if v is None else "%s=%s" % (k, v) for k, v in items.items())


def stack_labels(stack, value):
    """Labels plus the stack namespace label docker adds to services and containers."""
    labels = {k: (v or "") for k, v in key_values(value).items()}
    labels[NAMESPACE_LABEL] = stack
    return labels


def port_entry(target, published, protocol, mode):
    """One published port in the comparable shape."""
    return {"target": int(target), "published": int(published or 0),
            "protocol": (protocol or "tcp").lower(), "mode": mode or "ingress"}


def port_range(text):
    """"8000" or "8000-8010" as a list of ints."""
    first, _dash, last = str(text).partition("-")
    return list(range(int(first), int(last or first) + 1))


def parse_short_port(spec):
    """"[ip:][published:]target[/proto]" with ranges; the host IP is dropped, as the CLI
    does (swarm always listens on all addresses)."""
    text, _slash, protocol = str(spec).partition("/")
    parts = text.rsplit(":", 2)
    targets = port_range(parts[-1])
    published = port_range(parts[-2]) if len(parts) > 1 and parts[-2] else []
    if published and len(published) != len(targets):
        raise SpecError("ports: ranges of different length in %r" % spec)
    return [port_entry(target, published[i] if published else 0, protocol, "ingress")
            for i, target in enumerate(targets)]


def compose_ports(ports):
    """Short and long port syntax as a sorted list (the CLI sorts them too)."""
    result = []
    for port in ports or []:
        if isinstance(port, dict):
            result.append(port_entry(port["target"], port.get("published"),
                                     port.get("protocol"), port.get("mode")))
        else:
            result.extend(parse_short_port(port))
    return sorted(result, key=sort_key)


def sort_key(entry):
    """A total order on comparable dicts."""
    return sorted((k, str(v)) for k, v in entry.items())


def mount_entry(kind, source, target, read_only, **options):
    """One mount in the comparable shape; options default to what the engine omits."""
    entry = {"type": kind, "source": source or "", "target": target,
             "read_only": bool(read_only)}
    if kind == "volume":
        entry.update(nocopy=bool(options.get("nocopy")), driver=options.get("driver") or "",
                     driver_opts=options.get("driver_opts") or {},
                     labels=options.get("labels") or {})
    elif kind == "bind":
        entry["propagation"] = options.get("propagation") or ""
    elif kind == "tmpfs":
        entry.update(size=options.get("size") or 0, mode=options.get("mode") or 0)
    return entry


def parse_short_volume(spec):
    """"[source:]target[:opts]" as a long-syntax dict, as the compose loader reads it."""
    parts = str(spec).split(":")
    if len(parts) == 1:
        return {"type": "volume", "target": parts[0]}
    long = {"source": parts[0], "target": parts[1]}
    long["type"] = "bind" if parts[0][:1] in ("/", ".", "~") else "volume"
    for option in (parts[2].split(",") if len(parts) > 2 else []):
        if option == "ro":
            long["read_only"] = True
        elif option == "nocopy":
            long["volume"] = {"nocopy": True}
        elif option in ("shared", "rshared", "slave", "rslave", "private", "rprivate"):
            long["bind"] = {"propagation": option}
    return long


def named_volume(stack, long, top_volumes):
    """A stack volume mount: swarm name, and the options only non-external ones carry."""
    key = long["source"]
    if key not in top_volumes:
        raise SpecError("undefined volume %r" % key)
    top = top_volumes.get(key) or {}
    external = external_name(top)
    nocopy = (long.get("volume") or {}).get("nocopy")
    if external is not None:
        return mount_entry("volume", external or key, long["target"], long.get("read_only"),
                           nocopy=nocopy)
    return mount_entry("volume", top.get("name") or scope(stack, key), long["target"],
                       long.get("read_only"), nocopy=nocopy, driver=top.get("driver"),
                       driver_opts=key_values(top.get("driver_opts")),
                       labels=stack_labels(stack, top.get("labels")))


def external_name(top):
    """None unless the top-level object is external; then its name ('' for the key).

    compose 3 also has the older form ``external: {name: x}``.
    """
    external = top.get("external")
    if isinstance(external, dict):
        return external.get("name") or top.get("name") or ""
    return (top.get("name") or "") if external else None


def compose_mount(stack, volume, top_volumes):
    """One service volume (short or long syntax) as a comparable mount."""
    long = volume if isinstance(volume, dict) else parse_short_volume(volume)
    kind = long.get("type") or "volume"
    if kind == "volume" and long.get("source"):
        return named_volume(stack, long, top_volumes)
    if kind == "tmpfs":
        tmpfs = long.get("tmpfs") or {}
        return mount_entry("tmpfs", "", long["target"], long.get("read_only"),
                           size=parse_bytes(tmpfs.get("size"), "tmpfs.size"),
                           mode=tmpfs.get("mode"))
    return mount_entry(kind, long.get("source"), long["target"], long.get("read_only"),
                       propagation=(long.get("bind") or {}).get("propagation"))


def compose_mounts(stack, volumes, top_volumes):
    """Service volumes as mounts sorted by target (a target is unique per container)."""
    mounts = [compose_mount(stack, v, top_volumes or {}) for v in volumes or []]
    return sorted(mounts, key=lambda m: m["target"])


def network_name(stack, key, top_networks):
    """The swarm network a service network key attaches to."""
    if key != "default" and key not in top_networks:
        raise SpecError("undefined network %r" % key)
    top = top_networks.get(key) or {}
    external = external_name(top)
    if external is not None:
        return external or key
    return top.get("name") or scope(stack, key)


def compose_networks(stack, service_name, networks, top_networks):
    """Attached networks by name with aliases; the CLI adds the service name as an alias
    on every user-defined network, and attaches <stack>_default when none is listed."""
    if not networks:
        networks = {"default": None}
    if not isinstance(networks, dict):
        networks = {key: None for key in networks}
    result = []
    for key, conf in networks.items():
        name = network_name(stack, key, top_networks or {})
        aliases = set((conf or {}).get("aliases") or [])
        if name not in _BUILTIN_NETWORKS and not name.startswith("container:"):
            aliases.add(service_name)
        result.append({"name": name, "aliases": sorted(aliases)})
    return sorted(result, key=lambda n: n["name"])


def file_target(kind, target):
    """Where a config/secret lands: relative targets are under / or /run/secrets/."""
    if target.startswith("/"):
        return target
    return ("/run/secrets/" if kind == "secret" else "/") + target


def file_reference(entry):
    """One reference in the comparable shape."""
    return {"source": entry["source"], "target": entry["target"],
            "uid": entry.get("uid") or "0", "gid": entry.get("gid") or "0",
            "mode": 0o444 if entry.get("mode") is None else entry["mode"]}


def compose_files(stack, kind, refs, top_objects):
    """Service configs/secrets: swarm name (the top-level ``name`` wins), target, owner, mode."""
    result = []
    for ref in refs or []:
        long = dict(ref) if isinstance(ref, dict) else {"source": ref}
        key = long["source"]
        if key not in (top_objects or {}):
            raise SpecError("undefined %s %r" % (kind, key))
        top = top_objects[key] or {}
        external = external_name(top)
        name = (external or key) if external is not None else (
            top.get("name") or scope(stack, key))
        mode = long.get("mode")
        result.append(file_reference({
            "source": name, "target": file_target(kind, str(long.get("target") or key)),
            "uid": stringify(long.get("uid")), "gid": stringify(long.get("gid")),
            "mode": int(mode, 8) if isinstance(mode, str) else mode}))
    return sorted(result, key=lambda f: (f["source"], f["target"]))


def normalize_constraints(constraints):
    """Constraints as a sorted set, spacing around the operator ignored (swarm's parser
    ignores it too)."""
    return sorted({_CONSTRAINT.sub(r" \1 ", str(c).strip()) for c in constraints or []})


def compose_placement(placement):
    """deploy.placement in the comparable shape."""
    placement = placement or {}
    return {"constraints": normalize_constraints(placement.get("constraints")),
            "preferences": [p.get("spread", "") for p in placement.get("preferences") or []],
            "max_replicas_per_node": int(placement.get("max_replicas_per_node") or 0)}


def compose_resources(resources):
    """deploy.resources: cpus in NanoCPUs, memory in bytes, 0 where unset."""
    result = {}
    for part in ("limits", "reservations"):
        conf = (resources or {}).get(part) or {}
        result[part] = {"cpus": parse_cpus(conf.get("cpus"), part + ".cpus"),
                        "memory": parse_bytes(conf.get("memory"), part + ".memory")}
    return result


def update_entry(conf):
    """An update/rollback config with the defaults the CLI and the engine fill in.

    conf uses the compose keys, durations already in nanoseconds.
    """
    parallelism = conf.get("parallelism")
    return {"parallelism": 1 if parallelism is None else int(parallelism),
            "delay": conf.get("delay") or 0,
            "failure_action": conf.get("failure_action") or "pause",
            "monitor": conf.get("monitor") or 0,
            "max_failure_ratio": float(conf.get("max_failure_ratio") or 0),
            "order": conf.get("order") or "stop-first"}


def compose_update_config(conf, field):
    """deploy.update_config / rollback_config; None when absent (the engine stores none)."""
    if conf is None:
        return None
    return update_entry(dict(conf, delay=parse_duration(conf.get("delay"), field + ".delay"),
                             monitor=parse_duration(conf.get("monitor"), field + ".monitor")))


def restart_entry(condition, delay=None, max_attempts=None, window=None):
    """A restart policy; delay and window stay None when unset (the engine omits them)."""
    return {"condition": condition or "any", "delay": delay,
            "max_attempts": int(max_attempts or 0), "window": window}


def compose_restart_policy(policy, restart):
    """deploy.restart_policy, else the legacy ``restart:`` key (CLI 20.10 reads both)."""
    if policy is not None:
        return restart_entry(policy.get("condition"),
                             parse_duration(policy.get("delay"), "restart_policy.delay"),
                             policy.get("max_attempts"),
                             parse_duration(policy.get("window"), "restart_policy.window"))
    name, _colon, count = str(restart or "").partition(":")
    if name in ("", "no"):
        return None
    if name in ("always", "unless-stopped"):
        return restart_entry("any", max_attempts=count or 0)
    if name == "on-failure":
        return restart_entry("on-failure", max_attempts=count or 0)
    raise SpecError("restart: unknown policy %r" % restart)


def health_entry(test, interval=0, timeout=0, start_period=0, retries=0):
    """A healthcheck with zero for what is unset."""
    return {"test": list(test or []), "interval": interval or 0, "timeout": timeout or 0,
            "start_period": start_period or 0, "retries": int(retries or 0)}


def compose_healthcheck(health):
    """healthcheck: a string test runs in a shell; disable is the test ["NONE"]."""
    if health is None:
        return None
    if health.get("disable"):
        return health_entry(["NONE"])
    test = health.get("test")
    if isinstance(test, str):
        test = ["CMD-SHELL", test]
    return health_entry(test, parse_duration(health.get("interval"), "healthcheck.interval"),
                        parse_duration(health.get("timeout"), "healthcheck.timeout"),
                        parse_duration(health.get("start_period"), "healthcheck.start_period"),
                        health.get("retries"))


def normalize_caps(caps):
    """Capabilities as the CLI sends them: upper case, CAP_ prefixed, sorted, unique."""
    result = set()
    for cap in caps or []:
        cap = str(cap).upper()
        result.add(cap if cap == "ALL" or cap.startswith("CAP_") else "CAP_" + cap)
    return sorted(result)


def compose_hosts(extra_hosts):
    """extra_hosts ("host:ip" list or mapping) as the engine's "ip host" lines, in order."""
    if isinstance(extra_hosts, dict):
        return ["%s %s" % (ip, host) for host, ip in extra_hosts.items()]
    hosts = []
    for item in extra_hosts or []:
        host, found, ip_addr = str(item).partition(":")
        if found:
            hosts.append("%s %s" % (ip_addr, host))
    return hosts


def as_list(value):
    """A string-or-list compose value (dns, dns_search) as a list."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def compose_mode(deploy):
    """(mode, replicas): replicated defaults to 1 replica; global has no count."""
    mode = deploy.get("mode") or "replicated"
    if mode == "global":
        if deploy.get("replicas") is not None:
            raise SpecError("replicas can only be used with replicated mode")
        return mode, None
    if mode != "replicated":
        raise SpecError("unsupported deploy mode %r" % mode)
    replicas = deploy.get("replicas")
    return mode, 1 if replicas is None else int(replicas)


def compose_container(stack, svc, compose):
    """The ContainerSpec part of one compose service."""
    return {
        "image": normalize_image(svc.get("image")),
        "entrypoint": normalize_args(svc.get("entrypoint")),
        "command": normalize_args(svc.get("command")),
        "environment": normalize_env(svc.get("environment")),
        "container_labels": stack_labels(stack, svc.get("labels")),
        "mounts": compose_mounts(stack, svc.get("volumes"), compose.get("volumes")),
        "configs": compose_files(stack, "config", svc.get("configs"), compose.get("configs")),
        "secrets": compose_files(stack, "secret", svc.get("secrets"), compose.get("secrets")),
        "healthcheck": compose_healthcheck(svc.get("healthcheck")),
        "hostname": svc.get("hostname") or "",
        "user": stringify(svc.get("user")),
        "working_dir": svc.get("working_dir") or "",
        "stop_grace_period": parse_duration(svc.get("stop_grace_period"),
                                            "stop_grace_period"),
        "stop_signal": svc.get("stop_signal") or "",
        "dns": as_list(svc.get("dns")),
        "dns_search": as_list(svc.get("dns_search")),
        "extra_hosts": compose_hosts(svc.get("extra_hosts")),
        "cap_add": normalize_caps(svc.get("cap_add")),
        "cap_drop": normalize_caps(svc.get("cap_drop")),
        "tty": bool(svc.get("tty")),
        "stdin_open": bool(svc.get("stdin_open")),
        "read_only": bool(svc.get("read_only")),
        "init": svc.get("init"),
        "logging": compose_logging(svc.get("logging")),
    }


def compose_logging(logging):
    """logging: driver and options; None when absent (the engine keeps its default)."""
    if not logging:
        return None
    return {"driver": logging.get("driver") or "",
            "options": key_values(logging.get("options"))}


def compose_service(stack, name, svc, compose):
    """One compose service in the comparable shape."""
    svc = svc or {}
    deploy = svc.get("deploy") or {}
    mode, replicas = compose_mode(deploy)
    spec = compose_container(stack, svc, compose)
    spec.update({
        "labels": stack_labels(stack, deploy.get("labels")),
        "mode": mode,
        "replicas": replicas,
        "endpoint_mode": (deploy.get("endpoint_mode") or "vip").lower(),
        "ports": compose_ports(svc.get("ports")),
        "networks": compose_networks(stack, name, svc.get("networks"),
                                     compose.get("networks")),
        "placement": compose_placement(deploy.get("placement")),
        "resources": compose_resources(deploy.get("resources")),
        "update_config": compose_update_config(deploy.get("update_config"), "update_config"),
        "rollback_config": compose_update_config(deploy.get("rollback_config"),
                                                 "rollback_config"),
        "restart_policy": compose_restart_policy(deploy.get("restart_policy"),
                                                 svc.get("restart")),
    })
    return spec


def desired_services(stack, compose):
    """{"<stack>_<service>": comparable spec} for every service of a compose file.

    compose is the interpolated, merged file as yaml.safe_load returns it. Raises
    SpecError for what docker stack deploy would refuse (undefined volume, bad size).
    """
    services = (compose or {}).get("services") or {}
    return {scope(stack, name): compose_service(stack, name, svc, compose)
            for name, svc in services.items()}


def running_mount(mount):
    """One engine Mount in the comparable shape."""
    volume = mount.get("VolumeOptions") or {}
    driver = volume.get("DriverConfig") or {}
    tmpfs = mount.get("TmpfsOptions") or {}
    return mount_entry(mount.get("Type") or "volume", mount.get("Source"), mount["Target"],
                       mount.get("ReadOnly"), nocopy=volume.get("NoCopy"),
                       driver=driver.get("Name"), driver_opts=driver.get("Options"),
                       labels=volume.get("Labels"),
                       propagation=(mount.get("BindOptions") or {}).get("Propagation"),
                       size=tmpfs.get("SizeBytes"), mode=tmpfs.get("Mode"))


def running_networks(spec, names):
    """Attachments by network name: the engine stores IDs, names maps them back."""
    attachments = spec["TaskTemplate"].get("Networks") or spec.get("Networks") or []
    result = [{"name": names.get(a["Target"], a["Target"]),
               "aliases": sorted(set(a.get("Aliases") or []))} for a in attachments]
    return sorted(result, key=lambda n: n["name"])


def running_files(refs, name_key):
    """Engine ConfigReferences/SecretReferences; runtime-only ones (no File) are skipped."""
    result = []
    for ref in refs or []:
        target = ref.get("File")
        if not target:
            continue
        kind = "secret" if name_key == "SecretName" else "config"
        result.append(file_reference({
            "source": ref[name_key], "target": file_target(kind, target.get("Name") or ""),
            "uid": target.get("UID"), "gid": target.get("GID"), "mode": target.get("Mode")}))
    return sorted(result, key=lambda f: (f["source"], f["target"]))


def running_healthcheck(health):
    """The engine's HealthConfig in the comparable shape."""
    if health is None:
        return None
    return health_entry(health.get("Test"), health.get("Interval"), health.get("Timeout"),
                        health.get("StartPeriod"), health.get("Retries"))


def running_container(container):
    """The ContainerSpec part of an engine service spec."""
    dns = container.get("DNSConfig") or {}
    return {
        "image": container.get("Image") or "",
        "entrypoint": container.get("Command"),
        "command": container.get("Args"),
        "environment": sorted(container.get("Env") or []),
        "container_labels": dict(container.get("Labels") or {}),
        "mounts": sorted((running_mount(m) for m in container.get("Mounts") or []),
                         key=lambda m: m["target"]),
        "configs": running_files(container.get("Configs"), "ConfigName"),
        "secrets": running_files(container.get("Secrets"), "SecretName"),
        "healthcheck": running_healthcheck(container.get("Healthcheck")),
        "hostname": container.get("Hostname") or "",
        "user": container.get("User") or "",
        "working_dir": container.get("Dir") or "",
        "stop_grace_period": container.get("StopGracePeriod"),
        "stop_signal": container.get("StopSignal") or "",
        "dns": list(dns.get("Nameservers") or []),
        "dns_search": list(dns.get("Search") or []),
        "extra_hosts": list(container.get("Hosts") or []),
        "cap_add": sorted(container.get("CapabilityAdd") or []),
        "cap_drop": sorted(container.get("CapabilityDrop") or []),
        "tty": bool(container.get("TTY")),
        "stdin_open": bool(container.get("OpenStdin")),
        "read_only": bool(container.get("ReadOnly")),
        "init": container.get("Init"),
    }


def running_update_config(conf):
    """The engine's UpdateConfig/RollbackConfig in the comparable shape."""
    if conf is None:
        return None
    # The engine always shows Parallelism; were it missing, 0 is what it would mean.
    return update_entry({"parallelism": conf.get("Parallelism", 0), "delay": conf.get("Delay"),
                         "failure_action": conf.get("FailureAction"),
                         "monitor": conf.get("Monitor"),
                         "max_failure_ratio": conf.get("MaxFailureRatio"),
                         "order": conf.get("Order")})


def running_restart_policy(policy):
    """The engine's RestartPolicy in the comparable shape."""
    if policy is None:
        return None
    return restart_entry(policy.get("Condition"), policy.get("Delay"),
                         policy.get("MaxAttempts"), policy.get("Window"))


def running_resources(resources):
    """The engine's Resources in the comparable shape."""
    result = {}
    for part, key in (("limits", "Limits"), ("reservations", "Reservations")):
        conf = (resources or {}).get(key) or {}
        result[part] = {"cpus": conf.get("NanoCPUs") or 0, "memory": conf.get("MemoryBytes") or 0}
    return result


def running_logging(driver):
    """The task template's LogDriver in the comparable shape."""
    if not driver:
        return None
    return {"driver": driver.get("Name") or "", "options": dict(driver.get("Options") or {})}


def running_mode(spec):
    """(mode, replicas) of an engine service spec."""
    mode = spec.get("Mode") or {}
    if "Global" in mode:
        return "global", None
    if "Replicated" in mode:
        return "replicated", int((mode["Replicated"] or {}).get("Replicas") or 0)
    # Jobs cannot come from a 3.x compose file; show the mode so the diff says so.
    return (sorted(mode) or ["unknown"])[0].lower(), None


def running_service(service, names):
    """One engine service (a /services entry) in the comparable shape."""
    spec = service["Spec"]
    task = spec.get("TaskTemplate") or {}
    labels = dict(spec.get("Labels") or {})
    labels.pop(IMAGE_LABEL, None)
    mode, replicas = running_mode(spec)
    endpoint = spec.get("EndpointSpec") or {}
    placement = task.get("Placement") or {}
    result = running_container(task.get("ContainerSpec") or {})
    result.update({
        "logging": running_logging(task.get("LogDriver")),
        "labels": labels,
        "mode": mode,
        "replicas": replicas,
        "endpoint_mode": endpoint.get("Mode") or "vip",
        "ports": sorted((port_entry(p["TargetPort"], p.get("PublishedPort"), p.get("Protocol"),
                                    p.get("PublishMode")) for p in endpoint.get("Ports") or []),
                        key=sort_key),
        "networks": running_networks(spec, names),
        "placement": {
            "constraints": normalize_constraints(placement.get("Constraints")),
            "preferences": [(p.get("Spread") or {}).get("SpreadDescriptor", "")
                            for p in placement.get("Preferences") or []],
            "max_replicas_per_node": int(placement.get("MaxReplicas") or 0)},
        "resources": running_resources(task.get("Resources")),
        "update_config": running_update_config(spec.get("UpdateConfig")),
        "rollback_config": running_update_config(spec.get("RollbackConfig")),
        "restart_policy": running_restart_policy(task.get("RestartPolicy")),
    })
    return result


def unknown_network_ids(services, networks):
    """Network IDs the services attach to that the /networks list does not name.

    A manager's /networks omits swarm's own copies of the predefined networks (a service
    on "host" holds an ID that only GET /networks/<id> resolves); the caller inspects
    these and appends the answers to the list it passes to running_services.
    """
    known = {net.get("Id") or net.get("ID") for net in networks or []}
    wanted = set()
    for service in services or []:
        spec = service.get("Spec") or {}
        for attachment in ((spec.get("TaskTemplate") or {}).get("Networks")
                           or spec.get("Networks") or []):
            wanted.add(attachment["Target"])
    return sorted(wanted - known)


def running_services(stack, services, networks):
    """{"<stack>_<service>": comparable spec} for the stack's services on the engine.

    services are /services entries (SDK APIClient.services()); entries of other stacks
    are skipped. networks is the /networks list, to name the network IDs a spec holds.
    """
    names = {}
    for net in networks or []:
        names[net.get("Id") or net.get("ID")] = net.get("Name")
    result = {}
    for service in services or []:
        spec = service.get("Spec") or {}
        if (spec.get("Labels") or {}).get(NAMESPACE_LABEL) != stack:
            continue
        result[spec["Name"]] = running_service(service, names)
    return result


def diff_fields(desired, running):
    """{field: {"before": running, "after": desired}} for the fields that differ."""
    changes = {}
    for field in sorted(set(desired) | set(running)):
        after, before = desired.get(field), running.get(field)
        same = images_match(after, before) if field == "image" else after == before
        if not same:
            changes[field] = {"before": before, "after": after}
    return changes


def diff_services(desired, running):
    """What a deploy would change: services added, removed, and changed field by field.

    docker stack deploy does not remove services missing from the file (without
    --prune); "removed" lists them so the caller can decide.
    """
    changed = {}
    for name in sorted(set(desired) & set(running)):
        fields = diff_fields(desired[name], running[name])
        if fields:
            changed[name] = fields
    return {"added": sorted(set(desired) - set(running)),
            "removed": sorted(set(running) - set(desired)),
            "changed": changed}
