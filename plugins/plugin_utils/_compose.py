# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render the compose files of a stack on the controller, for ``docker stack deploy -c -``.

The stack action plugin calls ``render`` (load, interpolate, check and merge every file); the
module pipes the result to ``docker stack deploy -c -`` as JSON (which is YAML) with every
``$`` doubled.  Doing this on the controller means the variables come
from Ansible, not from the environment of the docker CLI on the node, and every mistake in
every file is reported at once, with file and line, before any stack changes.

* Files are read with docker's YAML rules (``_compose_yaml``: YAML 1.2, duplicate keys refused)
  and each is checked, after interpolation, against the compose schema docker enforces, the
  merged result also against the swarm's rules (``_compose_schema``).  The unit tests put the
  same inputs to docker 20.10, 26.1 and 28.2.

Rules, and where they differ from docker's CLI (docker/cli cli/compose, 20.10 to 28.x):

* Interpolation follows the compose spec (interpolation.md): ``$VAR``, ``${VAR}``, the
  ``:-``/``-`` defaults, ``:?``/``?`` required values, ``:+``/``+`` alternatives, nested
  expressions in the operand, ``$$`` for a literal ``$``.  Docker's stack loader knows neither
  ``:+``/``+`` nor nesting, and reads ``$FOO-bar`` as ``${FOO-bar}``; we read it as ``$FOO``
  followed by ``-bar``, like the compose spec and a shell.
* A ``$`` that is not followed by ``$``, ``{`` or a name start (``a $ b``, ``5$``, ``$1``) is
  kept literally, as compose-go does since compose-spec/compose-go#307 (and POSIX shells).
  Docker's stack loader rejects it; that is harmless here because the piped JSON doubles every ``$``.
* An unset variable without a default is an error, not an empty string (docker only warns).
  Operands are evaluated lazily, as in a shell: ``${SET:-${UNSET}}`` is fine.
* After interpolation, a string at a path docker's loader casts (``_CASTS``) becomes int,
  float or bool when interpolation changed it, exactly as docker's recursiveInterpolate
  does: ``replicas: ${N}`` ends as ``3``, but a literal ``replicas: "3"`` stays the string
  the author quoted (and the schema check refuses it, as docker's does).
  Everything else, ``environment`` included, stays a string.
* Merging follows docker/cli loader/merge.go, see ``_SERVICE_RULES`` for the exceptions.
"""

from __future__ import annotations

import functools
import re

from ansible_collections.swarmops.cluster.plugins.plugin_utils import (
    _compose_schema, _compose_yaml)

DEFAULT_VERSION = "3.8"
# docker 20.10 (the CLI on the nodes) knows compose schemas 3.0 to 3.9.
_SUPPORTED_VERSION = re.compile(r"3(\.[0-9])?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Longest first, so ":-" is not read as "-" with an operand starting with ":".
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")
_RESOURCE_SECTIONS = ("networks", "volumes", "secrets", "configs")


class ComposeError(Exception):
    """Every problem found in the compose files; str() lists them one per line."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def load_located(text, filename):
    """(data, lines) of one compose file, read with docker's YAML rules (_compose_yaml);
    lines maps each path of keys and list indexes to its line in the file."""
    try:
        return _compose_yaml.load(text, filename)
    except _compose_yaml.LoadError as exc:
        raise ComposeError(exc.problems) from exc


def load_file(text, filename):
    """Parse one compose file (anchors, aliases and merge keys allowed) into a mapping."""
    return load_located(text, filename)[0]


# --- interpolation -------------------------------------------------------------------------

def make_lookup(variables):
    """Return name -> string value, or None when the variable is unset (None counts as unset)."""
    def lookup(name):
        value = variables.get(name)
        if value is None:
            return None
        if isinstance(value, bool):
            # What YAML, compose and docker spell; str(True) would be "True".
            return "true" if value else "false"
        return str(value)
    return lookup


def expand(text, lookup, problems, offsets=None):
    """Substitute every expression in text; append a message per problem to problems, and
    to offsets (when given) where in text the expression of each problem starts."""
    out = []
    pos = 0
    while True:
        dollar = text.find("$", pos)
        if dollar < 0:
            out.append(text[pos:])
            return "".join(out)
        out.append(text[pos:dollar])
        before = len(problems)
        value, pos = _expand_dollar(text, dollar, lookup, problems)
        if offsets is not None:
            offsets.extend([dollar] * (len(problems) - before))
        out.append(value)


def _expand_dollar(text, start, lookup, problems):
    """Expand the expression starting at text[start] == "$"; return (value, next position)."""
    following = text[start + 1:start + 2]
    if following == "$":
        return "$", start + 2
    if following == "{":
        return _expand_braced(text, start, lookup, problems)
    match = _NAME.match(text, start + 1)
    if match is None:
        # Lone "$": literal, as in compose-go and POSIX shells (see the module docstring).
        return "$", start + 1
    return _apply(match.group(), None, "", lookup, problems), match.end()


def _find_close(text, start):
    """Index of the "}" closing the "${" just before start, skipping nested "${...}"."""
    depth = 1
    pos = start
    while pos < len(text):
        if text.startswith("$$", pos):
            pos += 2
            continue
        if text.startswith("${", pos):
            depth += 1
            pos += 2
            continue
        if text[pos] == "}":
            depth -= 1
            if depth == 0:
                return pos
        pos += 1
    return -1


def _expand_braced(text, start, lookup, problems):
    """Expand "${...}" at text[start]; invalid syntax is a problem, not a literal."""
    close = _find_close(text, start + 2)
    if close < 0:
        problems.append('invalid interpolation "%s": no closing "}"' % text[start:])
        return text[start:], len(text)
    body = text[start + 2:close]
    match = _NAME.match(body)
    operator = None
    if match is not None:
        operator = next((op for op in _OPERATORS if body.startswith(op, match.end())), None)
    if match is None or (operator is None and match.end() != len(body)):
        problems.append('invalid interpolation "${%s}"' % body)
        return "", close + 1
    operand = body[match.end() + len(operator or ""):]
    return _apply(match.group(), operator, operand, lookup, problems), close + 1


def _apply(name, operator, operand, lookup, problems):
    """Value of ${name<operator><operand>}; the operand is only expanded when it is used."""
    value = lookup(name)
    if operator is None:
        if value is None:
            problems.append("variable %s is not set" % name)
            return ""
        return value
    # With a colon the variable must also be non-empty to count.
    usable = value is not None and (value != "" or not operator.startswith(":"))
    kind = operator[-1]
    if kind == "-":
        return value if usable else expand(operand, lookup, problems)
    if kind == "+":
        return expand(operand, lookup, problems) if usable else ""
    if usable:
        return value
    message = expand(operand, lookup, problems)
    state = "not set" if value is None else "empty"
    problems.append("variable %s is %s%s" % (name, state, ": " + message if message else ""))
    return ""


def _cast_int(text):
    """strconv.Atoi: optional sign and digits, nothing else."""
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise ValueError("not an integer")
    return int(text)


def _cast_float(text):
    """strconv.ParseFloat for the decimal forms a compose file uses."""
    if not re.fullmatch(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?", text):
        raise ValueError("not a number")
    return float(text)


def _cast_bool(text):
    """YAML 1.1 booleans, as docker's toBoolean accepts them."""
    lowered = text.lower()
    if lowered in ("y", "yes", "true", "on"):
        return True
    if lowered in ("n", "no", "false", "off"):
        return False
    raise ValueError("not a boolean")


# docker/cli cli/compose/loader/interpolate.go interpolateTypeCastMapping: "*" is any key,
# "[]" any list item.
_SERVICE_CASTS = (
    (("configs", "[]", "mode"), _cast_int),
    (("secrets", "[]", "mode"), _cast_int),
    (("healthcheck", "retries"), _cast_int),
    (("healthcheck", "disable"), _cast_bool),
    (("deploy", "replicas"), _cast_int),
    (("deploy", "update_config", "parallelism"), _cast_int),
    (("deploy", "update_config", "max_failure_ratio"), _cast_float),
    (("deploy", "rollback_config", "parallelism"), _cast_int),
    (("deploy", "rollback_config", "max_failure_ratio"), _cast_float),
    (("deploy", "restart_policy", "max_attempts"), _cast_int),
    (("deploy", "placement", "max_replicas_per_node"), _cast_int),
    (("ports", "[]", "target"), _cast_int),
    (("ports", "[]", "published"), _cast_int),
    (("ulimits", "*"), _cast_int),
    (("ulimits", "*", "hard"), _cast_int),
    (("ulimits", "*", "soft"), _cast_int),
    (("privileged",), _cast_bool),
    (("read_only",), _cast_bool),
    (("stdin_open",), _cast_bool),
    (("tty",), _cast_bool),
    (("volumes", "[]", "read_only"), _cast_bool),
    (("volumes", "[]", "volume", "nocopy"), _cast_bool),
)
_CASTS = tuple((("services", "*") + path, cast) for path, cast in _SERVICE_CASTS) + (
    (("networks", "*", "external"), _cast_bool),
    (("networks", "*", "internal"), _cast_bool),
    (("networks", "*", "attachable"), _cast_bool),
    (("volumes", "*", "external"), _cast_bool),
    (("secrets", "*", "external"), _cast_bool),
    (("configs", "*", "external"), _cast_bool),
)


def _match_path(pattern, path):
    """Whether a path of keys (str) and list indexes (int) fits a _CASTS pattern."""
    if len(pattern) != len(path):
        return False
    for want, have in zip(pattern, path):
        if want == "[]":
            if not isinstance(have, int):
                return False
        elif isinstance(have, int) or want not in ("*", have):
            return False
    return True


def _find_cast(path):
    """The caster for this path, or None."""
    return next((cast for pattern, cast in _CASTS if _match_path(pattern, path)), None)


def _describe_path(path):
    """"service web" inside services, else the dotted key path ("volumes.data.driver")."""
    if len(path) > 1 and path[0] == "services":
        return "service %s" % path[1]
    text = ""
    for part in path:
        text += "[%d]" % part if isinstance(part, int) else ("." if text else "") + part
    return text or "top level"


class _Interpolator:
    """Walks one document, substituting strings and collecting every problem."""

    def __init__(self, variables, filename):
        self.lookup = make_lookup(variables or {})
        self.filename = filename
        self.problems = []

    def walk(self, value, path):
        """Return a plain copy of value with every string interpolated and cast."""
        if isinstance(value, dict):
            return {_make_plain_key(key): self.walk(item, path + (str(key),))
                    for key, item in value.items()}
        if isinstance(value, list):
            return [self.walk(item, path + (index,)) for index, item in enumerate(value)]
        if isinstance(value, str):
            return self.substitute(value, path)
        return value

    def substitute(self, value, path):
        """Interpolate one string, then cast it if docker casts this path."""
        messages = []
        offsets = []
        result = expand(str(value), self.lookup, messages, offsets)
        # Like docker, only what interpolation changed is cast; a quoted literal stays a string.
        cast = _find_cast(path) if result != value else None
        if cast is not None and not messages:
            try:
                result = cast(result)
            except ValueError as exc:
                # Inside a service the prefix names only the service; say which field.
                field = _describe_path(path[2:]) if path[:1] == ("services",) else path[-1]
                messages.append("%s %r: %s" % (field, result, exc))
        for index, message in enumerate(messages):
            # A cast problem has no offset: it is about the whole value.
            line = value.line_at(offsets[index]) if index < len(offsets) and \
                hasattr(value, "line_at") else getattr(value, "line", None)
            where = self.filename if line is None else "%s:%d" % (self.filename, line)
            self.problems.append("%s: %s: %s" % (where, _describe_path(path), message))
        return result


def _make_plain_key(key):
    """Mapping keys come from the locating loader too; hand back plain strings."""
    return str(key) if isinstance(key, str) else key


def interpolate(data, variables, filename):
    """Return a plain copy of data with every string value interpolated and typed paths cast.

    Raises ComposeError listing every problem of the document (unset variables, invalid
    expressions, values that cannot be cast), each as "file:line: where: problem".
    """
    interpolator = _Interpolator(variables, filename)
    result = interpolator.walk(data, ())
    if interpolator.problems:
        raise ComposeError(_drop_repeats(interpolator.problems))
    return result


def _drop_repeats(items):
    """Items without repeats, first occurrence order (works for unhashable items too)."""
    result = []
    for item in items:
        if item not in result:
            result.append(item)
    return result


# --- merging -------------------------------------------------------------------------------

def _copy_plain(value):
    """Deep copy into plain dict/list/str, so merged output never shares anchored objects."""
    if isinstance(value, dict):
        return {_make_plain_key(key): _copy_plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy_plain(item) for item in value]
    if isinstance(value, str):
        return str(value)
    return value


def _identify_port(port):
    """(published, protocol) of a short ("8080:80/udp") or long port entry, the pair the
    swarm allows once; (None, target, protocol) for a port that publishes nothing."""
    if isinstance(port, dict):
        published = port.get("published")
        target, protocol = str(port.get("target")), port.get("protocol") or "tcp"
    else:
        spec, _sep, protocol = str(port).partition("/")
        parts = spec.rsplit(":", 2)
        published = parts[-2] if len(parts) > 1 and parts[-2] else None
        target, protocol = parts[-1], protocol or "tcp"
    if published is None:
        return (None, target, protocol)
    return (str(published), protocol)


def _identify_volume(volume):
    """Target of a short ("data:/data:ro") or long volume entry."""
    if isinstance(volume, dict):
        return volume.get("target")
    parts = str(volume).split(":")
    return parts[1] if len(parts) > 1 else parts[0]


def _identify_reference(reference):
    """Source of a short ("db_password") or long secret/config reference."""
    return reference.get("source") if isinstance(reference, dict) else reference


def _merge_keyed(key_of, base, override, _path):
    """Entries of override replace base entries with the same key, in place; others append."""
    if not isinstance(base, list) or not isinstance(override, list):
        return _copy_plain(override)
    merged = {}
    for side, entries in enumerate((base, override)):
        for index, entry in enumerate(entries):
            key = key_of(entry)
            # Entries without a key (malformed) are kept, never merged.
            merged[(side, index) if key is None else key] = _copy_plain(entry)
    return list(merged.values())


def _to_pairs(value, separator):
    """A list ("K=V", or "K" for no value) or mapping as an ordered dict of key -> value."""
    if isinstance(value, dict):
        return _copy_plain(value)
    pairs = {}
    for item in value or []:
        key, found, item_value = str(item).partition(separator)
        pairs[key] = item_value if found else None
    return pairs


def _merge_keywise(separator, base, override, _path):
    """Merge list-or-mapping fields key by key; two lists stay a list, else a mapping."""
    merged = _to_pairs(base, separator)
    merged.update(_to_pairs(override, separator))
    if isinstance(base, list) and isinstance(override, list):
        return [key if value is None else "%s%s%s" % (key, separator, value)
                for key, value in merged.items()]
    return merged


def _merge_service_networks(base, override, _path):
    """Networks by name; a network's attributes override, aliases are replaced whole."""
    if isinstance(base, list) and isinstance(override, list):
        return _drop_repeats(_copy_plain(base) + _copy_plain(override))
    merged = _to_pairs(base, "\0")
    for name, config in _to_pairs(override, "\0").items():
        if isinstance(merged.get(name), dict) and isinstance(config, dict):
            merged[name] = {**merged[name], **config}
        elif config is not None or name not in merged:
            merged[name] = config
    return merged


def _merge_logging(base, override, path):
    """Same (or unnamed) driver: options merge; another driver: the override replaces all."""
    if not isinstance(base, dict) or not isinstance(override, dict):
        return _copy_plain(override)
    drivers = {base.get("driver"), override.get("driver")} - {None}
    if len(drivers) > 1:
        return _copy_plain(override)
    return _merge_mappings(base, override, path)


def _merge_by_name(base, override, _path):
    """Mapping whose entries the override replaces whole (ulimits; top-level resources)."""
    if not isinstance(base, dict) or not isinstance(override, dict):
        return _copy_plain(override)
    return {**_copy_plain(base), **_copy_plain(override)}


def _replace(_base, override, _path):
    """The override wins outright."""
    return _copy_plain(override)


# Paths inside a service that docker/cli merge.go does not merge generically.  Generic rules
# (_merge_value): mappings merge recursively, lists append (docker: mergo.WithAppendSlice, so
# cap_add, dns, dns_search, depends_on, env_file, expose, tmpfs, placement constraints ...;
# we also drop exact repeats), scalars are replaced, a null override keeps the base.
# Where we differ from docker on purpose:
# * ports: by published port and protocol, as the swarm allows each pair once.  docker
#   keys them by published port alone: it drops 443/tcp when 443/udp follows, and keeps only
#   the last of the ports that publish nothing (docker/cli#2407, #6223; checked with docker
#   26.1 and 28.2); we keep both protocols, and unpublished ports by target.
# * healthcheck.test: docker appends the two test lists into one nonsense command; we replace.
# * extra_hosts: docker appends; we merge by host name like environment.
# * merged ports/volumes/secrets/configs keep their order (docker sorts them).
_SERVICE_RULES = {
    ("command",): _replace,  # docker: ShellCommand is replaced
    ("entrypoint",): _replace,  # docker: ShellCommand is replaced
    ("healthcheck", "test"): _replace,
    ("environment",): functools.partial(_merge_keywise, "="),
    ("labels",): functools.partial(_merge_keywise, "="),
    ("deploy", "labels"): functools.partial(_merge_keywise, "="),
    ("sysctls",): functools.partial(_merge_keywise, "="),
    ("build", "args"): functools.partial(_merge_keywise, "="),
    ("extra_hosts",): functools.partial(_merge_keywise, ":"),
    ("ports",): functools.partial(_merge_keyed, _identify_port),
    ("volumes",): functools.partial(_merge_keyed, _identify_volume),
    ("secrets",): functools.partial(_merge_keyed, _identify_reference),
    ("configs",): functools.partial(_merge_keyed, _identify_reference),
    ("networks",): _merge_service_networks,
    ("logging",): _merge_logging,
    ("ulimits",): _merge_by_name,  # docker: each ulimit is replaced whole
}


def _merge_value(base, override, path):
    """Merge one service attribute (path is relative to the service)."""
    if override is None:
        return _copy_plain(base)
    rule = _SERVICE_RULES.get(path)
    if rule is not None:
        return rule(base, override, path)
    if isinstance(base, dict) and isinstance(override, dict):
        return _merge_mappings(base, override, path)
    listish = (list, str)
    if isinstance(base, listish) and isinstance(override, listish) \
            and list in (type(base), type(override)):
        # A lone string is the short form of a one-item list (dns: 8.8.8.8).
        as_list = [base] if isinstance(base, str) else base
        return _drop_repeats(_copy_plain(as_list) + _copy_plain(
            [override] if isinstance(override, str) else override))
    return _copy_plain(override)


def _merge_mappings(base, override, path):
    """Recursive mapping merge: keys of override win, through _merge_value."""
    merged = _copy_plain(base)
    for key, value in override.items():
        key = _make_plain_key(key)
        if key in merged:
            merged[key] = _merge_value(merged[key], value, path + (key,))
        else:
            merged[key] = _copy_plain(value)
    return merged


def _merge_services(base, override):
    """Services by name: a service in both files is merged, a new one is added."""
    if not isinstance(base, dict) or not isinstance(override, dict):
        return _copy_plain(base if override is None else override)
    merged = _copy_plain(base)
    for name, service in override.items():
        name = _make_plain_key(name)
        if isinstance(merged.get(name), dict) and isinstance(service, dict):
            merged[name] = _merge_mappings(merged[name], service, ())
        elif service is not None or name not in merged:
            merged[name] = _copy_plain(service)
    return merged


def merge(documents):
    """Merge interpolated documents like ``docker stack deploy -c a.yml -c b.yml``.

    Services merge per _SERVICE_RULES; top-level networks, volumes, secrets and configs merge
    by name, a later definition replacing an earlier one whole (as docker does); any other
    top-level key (version, x-*) takes the last value given.  Docker fails on differing
    versions and keeps only the first file's x-* keys; we take the last of each.
    """
    merged = {}
    for document in documents:
        for key, value in document.items():
            key = _make_plain_key(key)
            if key == "services":
                merged[key] = _merge_services(merged.get(key), value)
            elif key in _RESOURCE_SECTIONS and isinstance(merged.get(key), dict):
                merged[key] = _merge_by_name(merged[key], value or {}, ())
            elif value is not None or key not in merged:
                merged[key] = _copy_plain(value)
    return merged


# --- render ---------------------------------------------------------------------------

def _say(path, message):
    """"service web: deploy.replicas must be ..." for a problem at path."""
    inside = path[2:] if path[:1] == ("services",) and len(path) > 1 else path
    if message.startswith("unknown key") and inside:
        inside = inside[:-1]  # the message names the key itself
    subject = _describe_path(inside) if inside else ""
    if subject == "top level" or not subject:
        text = message
    else:
        # "ports must be a list", "ports[1]: published port ... twice"
        joint = " " if message.startswith(("must ", "has ", "'", '"')) else ": "
        text = subject + joint + message
    if path[:1] == ("services",) and len(path) > 1:
        return "service %s: %s" % (path[1], text)
    return text if inside else "top level: %s" % text


def _locate(path, sources):
    """(index of the file, line) of the longest prefix of path that a file defines; the
    last file wins a tie, as its value is the one merged last.  Line 0: no line known."""
    best = (-1, len(sources) - 1, 0)
    for index, (_filename, lines) in enumerate(sources):
        for size in range(len(path), -1, -1):
            line = lines.get(tuple(path[:size]))
            if line is not None:
                best = max(best, (size, index, line))
                break
    return best[1:]


def check(compose, sources, swarm=True):
    """Every problem docker's schema check (and, with swarm, the swarm) would refuse, as
    "file:line: service S: ...", in the order of files and lines; sources are
    [(filename, lines)] as load_located gives them."""
    found = _compose_schema.check_schema(compose)
    if swarm and not found:
        found = _compose_schema.check_swarm_rules(compose)
    located = sorted((_locate(path, sources), _say(path, message)) for path, message in found)
    return ["%s%s: %s" % (sources[index][0] if sources else "compose",
                          ":%d" % line if line else "", text)
            for (index, line), text in located]


def _check_version(value):
    """The version string to deploy with, and a problem if docker 20.10 would refuse it."""
    if value is None:
        return DEFAULT_VERSION, None
    # YAML reads 3.8 as a float; docker formats it back the same way ("%v").
    text = str(value).strip()
    if _SUPPORTED_VERSION.fullmatch(text):
        return text, None
    return text, "version %r: docker stack deploy (docker 20.10) needs 3.0 to 3.9" % text


def render(files, variables, definition=None):
    """Load, interpolate (same variables), check and merge [(filename, text), ...] in order,
    then the inline definition (a mapping) if given.

    Each file is checked against docker's schema on its own, as docker does, and the merged
    result against the swarm's rules.  Returns the merged compose as plain data, "version"
    first.  Raises one ComposeError holding the problems of all files.
    """
    if not files and definition is None:
        raise ComposeError(["no compose file given"])
    problems = []
    documents = []
    sources = []
    for filename, text in files:
        try:
            data, lines = load_located(text, filename)
            document = interpolate(data, variables, filename)
        except ComposeError as exc:
            problems.extend(exc.problems)
            continue
        problems.extend(check(document, [(filename, lines)], swarm=False))
        documents.append(document)
        sources.append((filename, lines))
    if definition is not None:
        try:
            documents.append(interpolate(definition, variables, "definition"))
            problems.extend(check(documents[-1], [("definition", {})], swarm=False))
            sources.append(("definition", {}))
        except ComposeError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ComposeError(problems)
    compose = merge(documents)
    version, problem = _check_version(compose.pop("version", None))
    problems = check(compose, sources) + ([problem] if problem else [])
    if problems:
        raise ComposeError(problems)
    return {"version": version, **compose}
