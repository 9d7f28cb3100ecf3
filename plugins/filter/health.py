# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One health report of the cluster from the cluster_health results of its hosts."""

from __future__ import annotations

from ansible_collections.swarmops.cluster.plugins.module_utils._health import finish_report
from ansible_collections.swarmops.cluster.plugins.plugin_utils._backup_report import (
    judge_backup)


def host_problem(host, result):
    """Why a host gave no report (no result, unreachable, failed, skipped), or None."""
    if not result:
        return "host %s: no result (it failed or was unreachable earlier in the run)" % host
    why = str(result.get("msg") or "").strip()
    if result.get("unreachable"):
        return "host %s: unreachable%s" % (host, ": %s" % why if why else "")
    if result.get("failed"):
        return "host %s: the health check failed%s" % (host, ": %s" % why if why else "")
    if result.get("skipped") or "health" not in result:
        return "host %s: the health check did not run" % host
    return None


def missed_section(host, manager, storage):
    """What the report lacks because the chosen host gave none, and how to get it."""
    missed = [what for what, chosen in (("the swarm", manager), ("the volume", storage))
              if host == chosen]
    if not missed:
        return ""
    return "; %s not read (leave %s out with --limit '!%s' to read from another node)" % (
        " and ".join(missed), host, host)


def registered_results(hostvars, hosts, register):
    """{host: its result registered as register, or None} for each of hosts. Jinja cannot
    ask hostvars for a variable a host may lack: a host that failed earlier in the run has
    none."""
    results = {}
    for host in hosts:
        found = hostvars.get(host) if host in hostvars else None
        results[host] = found.get(register) if found is not None and register in found \
            else None
    return results


def health_report(results, manager=None, storage=None, hosts=None, register=None,
                  shared=True, backup=False, backup_max_age=None):
    """{health, problems, warnings, healthy, table} of the whole cluster.

    results: {inventory host: its registered cluster_health result} for every host of the
    play (None for a host that has none) - or, with register, hostvars, from which the
    results registered under that name are taken for hosts (all of hostvars' hosts when
    not given). manager: the host that read the swarm; storage: the host that read the
    volume (None: no such host in the play, a problem, unless shared is false: the
    cluster keeps DOCKERDIR on each node's disk). Nodes and services come from the
    manager's report, gluster from the storage node's, mounts and problems from every
    host's, in the order of results. backup: the cluster is backed up (playbooks/
    backup.yml): the newest of the hosts' backup records is judged, against backup_max_age
    hours when given.
    """
    if register:
        results = registered_results(results, list(results) if hosts is None else hosts,
                                     register)
    health = {"nodes": None, "services": None, "gluster": None, "mounts": []}
    problems, warnings, records = [], [], []
    for host, result in (results or {}).items():
        problem = host_problem(host, result)
        if problem:
            problems.append(problem + missed_section(host, manager, storage))
            continue
        section = result["health"] or {}
        problems += result.get("problems") or []
        warnings += result.get("health_warnings") or []
        health["mounts"] += section.get("mounts") or []
        records += [section["backup_record"]] if section.get("backup_record") else []
        if host == manager:
            health["nodes"], health["services"] = section.get("nodes"), section.get("services")
        if host == storage:
            health["gluster"] = section.get("gluster")
    if not manager:
        problems.append("swarm: no manager among the hosts of the play; it was not read")
    if not shared:
        health["storage"] = "local"
    elif not storage:
        problems.append("volume: no storage node among the hosts of the play; it was not read")
    if backup:
        health["backup"], found, cautions = judge_backup(
            records, float(backup_max_age) if backup_max_age else None)
        problems += found
        warnings += cautions
    return finish_report(health, problems, warnings)


class FilterModule:
    """swarmops.cluster health report."""

    def filters(self):
        """The filters this plugin provides."""
        return {"health_report": health_report}
