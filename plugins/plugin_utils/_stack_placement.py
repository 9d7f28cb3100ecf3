# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a rendered stack's services may run, judged against local storage.

With ``swarmops_storage: local`` every node has a DOCKERDIR of its own: a service that
bind-mounts a path under it sees that node's copy, so the swarm must not be free to start
it on another node. Pure functions of the canonical compose (``docker stack config``'s
long forms), on the controller. Private to this collection.
"""

from __future__ import annotations

import re

from ansible_collections.swarmops.cluster.plugins.module_utils._mount import is_under

# A constraint that names one node, or a label the user put on chosen nodes.
PINNING = re.compile(r"^\s*node\.(hostname|id|labels\.[^=!]+)\s*==")


def is_pinned(deploy):
    """Whether a service's placement ties it to chosen nodes (a global service runs on
    every node with each node's own copy, which is what it asks for)."""
    if (deploy.get("mode") or "replicated") != "replicated":
        return True
    constraints = (deploy.get("placement") or {}).get("constraints") or []
    return any(PINNING.match(str(c)) for c in constraints)


def unpinned_bind_mounts(stack, compose, root):
    """One warning per service that bind-mounts a path under root without a pinning
    placement constraint."""
    warnings = []
    for name, service in sorted((compose.get("services") or {}).items()):
        if is_pinned(service.get("deploy") or {}):
            continue
        sources = [v.get("source") or "" for v in service.get("volumes") or []
                   if isinstance(v, dict) and v.get("type") == "bind"]
        local = [s for s in sources if is_under(s, root)]
        if local:
            warnings.append("stack %s, service %s bind-mounts %s from DOCKERDIR, which "
                            "swarmops_storage local keeps on each node's own disk, and the "
                            "swarm may start it on any node: pin it (deploy.placement."
                            "constraints: [node.hostname == NODE]) or use shared storage"
                            % (stack, name, ", ".join(local)))
    return warnings
