# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one runner for the ``gluster`` CLI, and the envelope of its ``--xml`` answers.

Every call is an argv list run with ``--mode=script`` (no y/n prompts: ``volume stop`` and
``peer detach`` ask otherwise) and ``--xml``, under ``LANG=C``. The gluster CLI has no
``--`` end-of-options marker (it parses words, not options), so operands are checked by
the planners before they reach argv. Private to this collection.
"""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET

from ansible_collections.swarmops.cluster.plugins.module_utils._common import (
    CLI_ENV, SwarmopsError)


class GlusterError(SwarmopsError):
    """A gluster call failed; carries what fail_json needs to name the fix."""


def parse_cli_output(text):
    """The <cliOutput> element of an --xml answer, or GlusterError with glusterd's words.

    glusterd reports failure in the envelope (opRet != 0, opErrstr) while the process may
    still exit 0, so the envelope is what decides.
    """
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise GlusterError("gluster answered with something that is not XML (%s)" % exc,
                           stdout=text) from exc
    if root.tag != "cliOutput":
        raise GlusterError("gluster answered <%s>, not <cliOutput>" % root.tag, stdout=text)
    op_ret = (root.findtext("opRet") or "0").strip()
    if op_ret != "0":
        raise GlusterError((root.findtext("opErrstr") or "").strip()
                           or "gluster returned opRet %s" % op_ret,
                           op_ret=int(op_ret), op_errno=int(root.findtext("opErrno") or 0),
                           stdout=text)
    return root


def run_gluster(module, args, xml=True):
    """Run ``gluster --mode=script [--xml] ARGS``; the parsed <cliOutput> (or stdout).

    Raises GlusterError naming the command, rc and glusterd's message: the caller turns it
    into fail_json through ``fail``.
    """
    binary = module.get_bin_path("gluster")
    if binary is None:
        raise GlusterError("the gluster CLI is not installed on this host; install "
                           "glusterfs-server (the swarmops.cluster.glusterfs role does)")
    argv = [binary, "--mode=script"] + (["--xml"] if xml else []) + list(args)
    rc, out, err = module.run_command(argv, environ_update=CLI_ENV)
    if not xml:
        if rc != 0:
            raise GlusterError("%s failed: %s" % (" ".join(argv[1:]), (err or out).strip()),
                               cmd=argv, rc=rc, stdout=out, stderr=err)
        return out
    if not out.strip():
        raise GlusterError("%s failed: %s" % (" ".join(argv[1:]),
                                              (err or "no output").strip()
                                              + _hint_for(err)),
                           cmd=argv, rc=rc, stdout=out, stderr=err)
    try:
        return parse_cli_output(out)
    except GlusterError as exc:
        exc.details.update(cmd=argv, rc=rc, stderr=err)
        exc.msg = "%s failed: %s" % (" ".join(argv[1:]), exc.msg)
        raise GlusterError(exc.msg, **exc.details) from exc


def _hint_for(stderr):
    """The usual cause of an empty answer: glusterd is not running."""
    if "Connection failed" in (stderr or ""):
        return " (glusterd is not answering; start it: systemctl start glusterd)"
    return ""


def resolve_names(names):
    """{name: [addresses]} as the node resolves them (an address resolves to itself);
    unresolvable names map to []. Peers and bricks match by address through it."""
    result = {}
    for name in set(names):
        try:
            result[name] = sorted({a[4][0] for a in socket.getaddrinfo(name, None)})
        except (socket.gaierror, UnicodeError, OSError):
            result[name] = []
    return result


def fail(module, err, **result):
    """fail_json with the GlusterError's message and details."""
    result.update(err.details)
    module.fail_json(msg=err.msg, **result)
