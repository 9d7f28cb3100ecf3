# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read a compose file the way docker's stack loader reads it, with a line for every value.

ruamel.yaml parses (YAML 1.2: ``yes``/``no``/``on``/``off`` stay strings, as in docker 27+,
whose loader uses a YAML 1.2 library); the nodes it composes are turned into data here, so
that every rule is docker's and every value has its line:

* integers as docker's YAML library reads them: ``0o17``, ``0x1F``, ``0b101``, ``1_000`` and
  also ``010`` (octal, 8) like docker, where plain YAML 1.2 would say 10;
* a key written twice in one mapping is an error naming both lines, as docker's
  ``mapping key "image" already defined at line 3``;
* merge keys (``<<: *a``, ``<<: [*a, *b]``): keys written in the mapping win, and in a list
  the earlier mapping wins (YAML spec, docker);
* unquoted dates stay strings (docker would print a Go time; nobody means that);
* only string keys, like docker (``non-string key``).
"""

from __future__ import annotations

import re

try:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode
    HAS_RUAMEL = True
except ImportError:  # the stack action plugin says what to install
    HAS_RUAMEL = False
    YAML = MarkedYAMLError = YAMLError = MappingNode = ScalarNode = SequenceNode = None

_TAG = "tag:yaml.org,2002:"
_OCTAL = re.compile(r"[-+]?0[0-7]+")


class LoadError(Exception):
    """Problems found while reading one file, each "file:line[:column]: problem"."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class LocatedStr(str):
    """A string scalar that remembers its line; ``literal`` for a ``|`` block, whose text
    starts on the line after the indicator, one source line per text line."""

    line = None
    literal = False

    def line_at(self, offset):
        """Source line of the character at offset (exact inside ``|`` blocks)."""
        if self.line is None or not self.literal:
            return self.line
        return self.line + 1 + self.count("\n", 0, offset)


def _to_int(text):
    """An integer as docker's YAML library (go-yaml v3) reads it."""
    digits = text.replace("_", "")
    sign = -1 if digits.startswith("-") else 1
    digits = digits.lstrip("+-")
    for prefix, base in (("0o", 8), ("0x", 16), ("0b", 2)):
        if digits.lower().startswith(prefix):
            return sign * int(digits[2:], base)
    if _OCTAL.fullmatch(digits):
        return sign * int(digits, 8)
    return sign * int(digits, 10)


def _to_float(text):
    """A float, with YAML's spellings of infinity and not-a-number."""
    lowered = text.replace("_", "").lower()
    special = {".inf": "inf", "+.inf": "inf", "-.inf": "-inf", ".nan": "nan"}
    return float(special.get(lowered, lowered))


class _Builder:
    """Turns composed nodes into plain data plus {path: line}; collects every problem."""

    def __init__(self, filename):
        self.filename = filename
        self.lines = {}
        self.problems = []

    def problem(self, node, message):
        """Record "file:line:column: message" for a node."""
        self.problems.append("%s:%d:%d: %s" % (self.filename, node.start_mark.line + 1,
                                               node.start_mark.column + 1, message))

    def build(self, node, path):
        """Data for node at path (a tuple of keys and list indexes)."""
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, MappingNode):
            return self.build_mapping(node, path)
        if isinstance(node, SequenceNode):
            return [self.build(item, path + (index,)) for index, item in enumerate(node.value)]
        return self.build_scalar(node)

    def build_scalar(self, node):
        """A scalar by its resolved tag, with docker's number spellings."""
        tag = node.tag[len(_TAG):] if node.tag.startswith(_TAG) else "str"
        try:
            if tag == "int":
                return _to_int(node.value)
            if tag == "float":
                return _to_float(node.value)
        except ValueError:
            pass  # an odd spelling the resolver let through: keep the text
        if tag == "bool":
            return node.value.lower() == "true"
        if tag == "null":
            return None
        located = LocatedStr(node.value)
        located.line = node.start_mark.line + 1
        located.literal = node.style == "|"
        return located

    def build_mapping(self, node, path):
        """Own keys (duplicates refused) win over what merge keys bring, earliest first.
        Merged keys come first in the result, as if written before the own ones."""
        own = []
        key_lines = {}
        merged = []
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                merged.extend(self.merge_sources(value_node))
                continue
            key = self.build_key(key_node)
            if key is None:
                continue
            if key in key_lines:
                self.problem(key_node, 'mapping key "%s" already defined at line %d'
                             % (key, key_lines[key]))
                continue
            key_lines[key] = key_node.start_mark.line + 1
            own.append((key, value_node))
        result = {}
        for source in merged:
            for key_node, value_node in self.merged_pairs(source):
                key = self.build_key(key_node)
                if key is not None and key not in result:
                    result[key] = None if key in key_lines else \
                        self.build(value_node, path + (key,))
        for key, value_node in own:
            self.lines[path + (key,)] = key_lines[key]
            result[key] = self.build(value_node, path + (key,))
        return result

    def merge_sources(self, value_node):
        """The mappings a merge key names, or a problem."""
        sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
        for source in sources:
            if not isinstance(source, MappingNode):
                self.problem(source, "expected a mapping to merge, found a %s"
                             % type(source).__name__.replace("Node", "").lower())
        return [source for source in sources if isinstance(source, MappingNode)]

    def merged_pairs(self, node):
        """The (key, value) pairs a merged mapping brings, highest priority first: its own
        pairs, then those of the mappings it merges in turn."""
        own = [(key, value) for key, value in node.value if key.tag != _TAG + "merge"]
        nested = [pair for key, value in node.value if key.tag == _TAG + "merge"
                  for source in self.merge_sources(value)
                  for pair in self.merged_pairs(source)]
        return own + nested

    def build_key(self, key_node):
        """A mapping key: a string, as docker requires, else a problem and None."""
        if not isinstance(key_node, ScalarNode):
            self.problem(key_node, "a mapping key must be a string, not a %s"
                         % type(key_node).__name__.replace("Node", "").lower())
            return None
        key = self.build_scalar(key_node)
        if not isinstance(key, str):
            self.problem(key_node, "non-string key %s (quote it)" % key_node.value)
            return None
        return str(key)


def load(text, filename):
    """(data, lines) of one compose file; lines maps a path of keys/indexes to its line.

    Raises LoadError with every problem of the file.
    """
    if not HAS_RUAMEL:
        raise LoadError(["reading compose files needs ruamel.yaml on the controller: "
                         "pip install ruamel.yaml"])
    yaml = YAML(typ="rt", pure=True)
    try:
        nodes = list(yaml.compose_all(text))
    except MarkedYAMLError as exc:
        raise LoadError([_describe(exc, filename)]) from exc
    except YAMLError as exc:
        raise LoadError(["%s: %s" % (filename, exc)]) from exc
    if len(nodes) > 1:
        raise LoadError(["%s:%d: a compose file holds one document, found another here"
                         % (filename, nodes[1].start_mark.line + 1)])
    if not nodes or not isinstance(nodes[0], MappingNode):
        kind = "an empty document" if not nodes or nodes[0].tag == _TAG + "null" else \
            "a list" if isinstance(nodes[0], SequenceNode) else "a string"
        raise LoadError(["%s:1: the top level must be a mapping, not %s" % (filename, kind)])
    builder = _Builder(filename)
    data = builder.build(nodes[0], ())
    if builder.problems:
        # In the order of the file (a mapping's keys are checked before its values).
        raise LoadError(sorted(builder.problems, key=lambda problem: [
            int(part) for part in problem[len(filename) + 1:].split(":")[:2]]))
    return data, builder.lines


def _describe(exc, filename):
    """file:line:column: problem (context) for a YAML error, 1-based like editors."""
    mark = exc.problem_mark or exc.context_mark
    where = filename if mark is None else "%s:%d:%d" % (filename, mark.line + 1, mark.column + 1)
    problem = exc.problem or "invalid YAML"
    if exc.context:
        problem = "%s (%s)" % (problem, exc.context)
    return "%s: %s" % (where, problem)
