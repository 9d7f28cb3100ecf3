# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The swarm_node module's plan, judged on the controller from a manager's node list that
preflight's one read (node_facts swarm_nodes) brought back. Private to this collection."""

from __future__ import annotations

from ansible_collections.swarmops.cluster.plugins.module_utils._common import with_defaults
from ansible_collections.swarmops.cluster.plugins.module_utils._swarm_node import (
    ARGUMENT_SPEC, PlanError, plan_node, plan_stale)


def node_in_place(nodes, params):
    """Whether swarm_node, given params, would change nothing on a swarm whose nodes are
    nodes (None: not read, so not in place). A plan the module would refuse is not in
    place either: the module runs and names the fix."""
    if not nodes:
        return False
    full = with_defaults(ARGUMENT_SPEC, params)
    try:
        node, actions, _spec = plan_node(nodes, full)
        stale = plan_stale(nodes, node) if full["remove_stale"] else []
    except PlanError:
        return False
    return not actions and not stale
