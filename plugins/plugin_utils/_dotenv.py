# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read a ``.env`` file the way docker compose does, but strictly, on the controller.

python-dotenv splits the lines (quotes, ``export``, escapes in double quotes, multi-line
quoted values, `` # comments``); we do the rest, because python-dotenv forgives too much:

* a line it cannot parse (``BAD LINE=1``, an unterminated quote) is an error naming file and
  line, not a logged warning;
* ``$VAR``, ``${VAR}``, ``${VAR:-d}``, ``${VAR:?msg}``, ``${VAR:+alt}`` ... in unquoted and
  double-quoted values resolve with the stack's interpolation rules against the stack's
  ``variables`` and the earlier lines of the file, never the controller's environment
  (python-dotenv would look in ``os.environ``); a single-quoted value is literal, as in
  compose;
* a backslash before ``$`` makes it literal outside single quotes, as in compose;
* a bare ``KEY`` line has no value (compose would take it from the shell): it is skipped.
"""

from __future__ import annotations

import io
import re

try:
    from dotenv.parser import parse_stream
    HAS_DOTENV = True
except ImportError:  # the stack action plugin says what to install
    HAS_DOTENV = False

from ansible_collections.swarmops.cluster.plugins.plugin_utils import _compose

_SINGLE_QUOTED = re.compile(r"\s*(export\s+)?[^=]*=\s*'")
# compose-go's dotenv: letters, digits, "_", "." and "-" (FOO.BAR=1 is fine, lol$wut is not).
_KEY = re.compile(r"[A-Za-z0-9_.-]+")


class EnvFileError(_compose.ComposeError):
    """Every problem of one .env file, one per line of str()."""


def parse(text, filename, variables=None):
    """{KEY: value} of a .env text; variables (the stack's) win over earlier lines in
    ${...}.  Raises EnvFileError listing every problem with file and line."""
    values = {}
    problems = []
    for binding in parse_stream(io.StringIO(text)):
        where = "%s:%d" % (filename, binding.original.line)
        if binding.error:
            problems.append("%s: not a KEY=VALUE line (or a quote is not closed)" % where)
            continue
        if binding.key is not None and not _KEY.fullmatch(binding.key):
            problems.append("%s: %r is not a variable name" % (where, binding.key))
            continue
        if binding.key is None or binding.value is None:
            continue  # a comment, a blank line or a bare KEY
        value = binding.value
        if not _SINGLE_QUOTED.match(binding.original.string):
            messages = []
            lookup = _compose.make_lookup(dict(values, **(variables or {})))
            # compose: \$ is a literal "$" outside single quotes.
            value = _compose.expand(value.replace("\\$", "$$"), lookup, messages)
            problems.extend("%s: %s: %s" % (where, binding.key, message)
                            for message in messages)
        values[binding.key] = value
    if problems:
        raise EnvFileError(problems)
    return values


def read(path, variables=None):
    """parse() of a file on the controller."""
    with open(path, encoding="utf-8") as handle:
        return parse(handle.read(), path, variables)
