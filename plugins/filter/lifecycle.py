# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plans of the day-2 playbooks from one read of the cluster (node_facts on every host that
answers, swarm_info on a manager that stays)."""

from __future__ import annotations

from ansible_collections.swarmops.cluster.plugins.plugin_utils._backup_report import (
    drill_report as report_drill)
from ansible_collections.swarmops.cluster.plugins.plugin_utils._cluster_plan import (
    probes_from_hostvars)
from ansible_collections.swarmops.cluster.plugins.plugin_utils._lifecycle import (
    backup_plan as plan_backup, dead_node_problems as judge_dead_nodes, removal_plan as plan_removal, removal_targets,
    replacement_plan as plan_replacement)


def surviving_host(candidates, probes, leaving, wanted):
    """The first candidate not in `leaving` whose read shows `wanted`, else None."""
    return next((h for h in candidates if h not in leaving and probes.get(h)
                 and wanted(probes[h])), None)


def is_manager(probe):
    """The read shows an engine active in a swarm as a manager."""
    swarm = (probe.get("engine") or {}).get("swarm") or {}
    return swarm.get("state") == "active" and bool(swarm.get("is_manager"))


def answers_gluster(probe):
    """The read shows a glusterd that answered."""
    return bool((probe.get("gluster") or {}).get("answering"))


def lifecycle_hosts(node, groups, hostvars, storage_group="storage"):
    """{manager, reader, storage, leaving}: the hosts that stay and answered, which the
    playbook asks; `node` is one name, a comma-separated list or a list (leaving)."""
    leaving = removal_targets(node)
    probes = probes_from_hostvars(hostvars, list(hostvars))
    storage = groups.get(storage_group) or groups.get("swarm_managers") or []
    manager = surviving_host(groups.get("swarm_managers") or [], probes, leaving, is_manager)
    # With no other manager, the swarm is read on a leaving node: the plan then refuses
    # removing the last manager by name.
    reader = manager or surviving_host(leaving, probes, (), is_manager)
    return {"manager": manager, "reader": reader, "leaving": leaving,
            "storage": surviving_host(storage, probes, leaving, answers_gluster)}


def node_read(hostvars, node, storage_host, swarm_read):
    """The read a plan needs of `node` and of the cluster around it (see removal_plan)."""
    probe = probes_from_hostvars(hostvars, [node]).get(node) if node in hostvars else None
    engine = (probe or {}).get("engine") or {}
    swarm = engine.get("swarm") or {}
    storage_probe = (probes_from_hostvars(hostvars, [storage_host]).get(storage_host)
                     or {}) if storage_host else {}
    gluster = storage_probe.get("gluster") or {}
    read = (swarm_read or {}).get("swarm") or {}
    return probe, {
        "answered": probe is not None,
        "alive": bool(engine.get("answering")),
        "node_id": swarm.get("node_id"),
        "hostname": swarm.get("hostname"),
        "swarm_state": swarm.get("state"),
        "swarm_nodes": read.get("nodes") if read.get("is_manager") else None,
        "volumes": gluster.get("volumes") or [],
        "pool": gluster.get("pool") if gluster else None,
    }


def replacement_plan(nodes, old, new, hostvars, swarm_read, storage_host, storage):
    """module_utils._lifecycle.replacement_plan from the run's reads (see removal_plan);
    storage: {volume, brick_dir, arbiter_brick_dir, group}, and the storage group's hosts
    as storage_hosts."""
    cluster = node_read(hostvars, old, storage_host, swarm_read)[1]
    cluster["new"] = node_read(hostvars, new, storage_host, swarm_read)[1]
    return plan_replacement(old, new, nodes, cluster, storage)


def own_read(hostvars, node, mount_point):
    """What the node's own read says of it: alive, node_id, hostname, mounted."""
    probe, read = node_read(hostvars, node, None, None)
    mount = ((probe or {}).get("paths") or {}).get(mount_point) or {}
    return {"alive": read["alive"], "node_id": read["node_id"],
            "hostname": read["hostname"], "mounted": bool(mount.get("mount"))}


def removal_plan(nodes, node, hostvars, swarm_read, storage_host, storage,
                 allow_split_brain=False):
    """module_utils._lifecycle.removal_plan from the run's reads.

    nodes: cluster_nodes of the inventory; node: one name, a comma-separated list or a
    list; swarm_read: the registered swarm_info result of a manager that stays (None or
    skipped when there is none); storage_host: the storage node that stays and answered
    (None when none did); storage: {volume, mount_point} as the glusterfs role names them.
    """
    mount_point = storage["mount_point"]
    cluster = node_read(hostvars, "", storage_host, swarm_read)[1]
    cluster["reads"] = {name: own_read(hostvars, name, mount_point)
                        for name in removal_targets(node) if name in hostvars}
    plan = plan_removal(node, nodes, cluster, {"allow_split_brain": allow_split_brain,
                                               "volume": storage["volume"]})
    return dict(plan, mount_point=mount_point)


def dead_node_problems(nodes, hostvars, hosts, storage, inventory_sources=(),
                       register="_swarmops_docker_reached"):
    """Hosts of the run that preflight could not reach (wait_for_connection, registered as
    `register`, failed), each with the playbook that gets the cluster going without it
    (see _lifecycle)."""
    dead = {}
    for name in hosts:
        result = (hostvars.get(name) or {}).get(register) or {}
        if result.get("failed") or result.get("unreachable"):
            dead[name] = " ".join(str(result.get("msg") or "unreachable").split())
    data = [n for n in storage
            if not (hostvars.get(n) or {}).get("swarmops_glusterfs_arbiter")]
    probes = probes_from_hostvars(hostvars, [n["name"] for n in nodes])
    return judge_dead_nodes(dead, nodes, probes, data,
                            inventory_sources[0] if inventory_sources else "INVENTORY")


def backup_plan(nodes, swarm_read, answering, wanted=None, repository=""):
    """module_utils._lifecycle.backup_plan from swarm_info's registered result on a
    manager."""
    swarm = None if (swarm_read or {}).get("failed") else (swarm_read or {}).get("swarm")
    return plan_backup(swarm, nodes, list(answering), wanted, repository)


def drill_report(results):
    """plugin_utils._backup_report.drill_report of restic_restore's registered results."""
    return report_drill(list(results))


class FilterModule:
    """swarmops.cluster day-2 plans."""

    def filters(self):
        """The filters this plugin provides."""
        return {"lifecycle_hosts": lifecycle_hosts, "removal_plan": removal_plan,
                "replacement_plan": replacement_plan, "dead_node_problems": dead_node_problems,
                "backup_plan": backup_plan, "drill_report": drill_report}
