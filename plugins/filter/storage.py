# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight plans of the shared storage and the docker GID, from the run's node facts."""

from __future__ import annotations

from ansible_collections.swarmops.cluster.plugins.plugin_utils._cluster_plan import (
    probes_from_hostvars as probes_of)
from ansible_collections.swarmops.cluster.plugins.plugin_utils._storage_plan import (
    gid_plan, local_storage_problems as local_problems, storage_plan as plan_storage)


def docker_gid_plan(nodes, hostvars, play_hosts, explicit=0, allow_move=False):
    """The docker group's GID for every node (see module_utils._storage_plan.gid_plan)."""
    probes = probes_of(hostvars, [n["name"] for n in nodes])
    return gid_plan(nodes, probes, list(play_hosts), explicit, allow_move)


def storage_plan(nodes, hostvars, play_hosts, storage, settings):
    """The GlusterFS plan (see module_utils._storage_plan.storage_plan).

    storage: the storage nodes' inventory names; a host is the arbiter when its
    swarmops_glusterfs_arbiter is true.
    """
    settings = dict(settings, arbiters=[n for n in storage if n in hostvars and hostvars[n].get(
        "swarmops_glusterfs_arbiter")])
    probes = probes_of(hostvars, [n["name"] for n in nodes])
    return plan_storage(nodes, list(storage), probes, list(play_hosts), settings)


def local_storage_problems(nodes, hostvars, mount_point):
    """Nodes still mounting the GlusterFS volume while swarmops_storage is local."""
    names = [n["name"] for n in nodes]
    return local_problems(names, probes_of(hostvars, names), mount_point)


class FilterModule:
    """swarmops.cluster storage plans."""

    def filters(self):
        """The filters this plugin provides."""
        return {"docker_gid_plan": docker_gid_plan, "storage_plan": storage_plan,
                "local_storage_problems": local_storage_problems}
