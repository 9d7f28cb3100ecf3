# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster's health, read only: the swarm's nodes and services, a GlusterFS volume, and
this node's mounts of the shared directory.

``describe_*``, ``judge_*``, ``render_*`` and ``finish_report`` are pure functions of what
the engine, glusterd and /proc answered, so unit tests feed them answers recorded on lab
nodes; ``read_*`` and ``probe_mount`` touch the host. Every judge returns problems (the
cluster is unhealthy) and warnings (it is not, but someone should look). Private to this
collection.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

from ansible_collections.swarmops.cluster.plugins.module_utils._common import read_text
from ansible_collections.swarmops.cluster.plugins.module_utils._docker_api import (
    EngineError, call, connect)
from ansible_collections.swarmops.cluster.plugins.module_utils._gluster import (
    GlusterError, run_gluster)
from ansible_collections.swarmops.cluster.plugins.module_utils._gluster_peer import (
    parse_pool_list)
from ansible_collections.swarmops.cluster.plugins.module_utils._gluster_volume import (
    int_of, parse_heal_info, parse_volume_status, read_volume, text_of)
from ansible_collections.swarmops.cluster.plugins.module_utils._mount import (
    MOUNTED_FSTYPES, mounted_at, parse_mountinfo)
from ansible_collections.swarmops.cluster.plugins.module_utils._stack_converge import (
    service_status)
from ansible_collections.swarmops.cluster.plugins.module_utils._swarm import (
    read_local, summarize_node)

# What a shared mount is once mounted: the glusterfs FUSE client, or the kernel's NFS.
SHARED_FSTYPES = tuple(sorted({fstype for names in MOUNTED_FSTYPES.values()
                               for fstype in names}))
PROBE_PREFIX = ".swarmops-health-"
# Where a problem's way forward is written down.
HEALTH_DOC = "docs/operations/health.md"
# Seconds between reads while waiting for the cluster to be healthy again.
WAIT_POLL = 2
AVAILABILITY_MEANS = {"drain": "its tasks moved away and it gets no new ones",
                      "pause": "it gets no new tasks"}
# Table cells are cut to this width; problems carry the full text.
CELL_WIDTH = 60
# The write-read probe, run as `python -c PROBE_CODE MOUNT_POINT FILE_NAME`: a process that
# touches a hung FUSE mount sleeps in the kernel where no timeout reaches it, so the module
# only ever waits for this child, and leaves it behind when it does not finish.
PROBE_CODE = r"""
import os, sys
path = os.path.join(sys.argv[1], sys.argv[2])
data = os.urandom(16).hex()
step = "write"
try:
    # Never through a link: DOCKERDIR is writable by the services, and this runs as root.
    # A probe file left by an interrupted run is a regular file and goes first.
    if os.path.islink(path):
        print("probe file %s is a symlink (%s); remove it" % (path, os.readlink(path)))
        sys.exit(1)
    if os.path.isfile(path):
        os.remove(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    step = "read back"
    with os.fdopen(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), encoding="ascii") as handle:
        back = handle.read()
    step = "remove"
    os.remove(path)
except (OSError, ValueError) as exc:
    print("probe could not %s %s: %s" % (step, path, getattr(exc, "strerror", None) or exc))
    sys.exit(1)
print("ok" if back == data else "probe read back other content than it wrote to %s" % path)
"""


def describe_node(node):
    """One swarm node as the report shows it, from the engine's /nodes entry."""
    summary = summarize_node(node)
    engine = (node.get("Description") or {}).get("Engine") or {}
    return {"hostname": summary["hostname"], "id": summary["id"], "role": summary["role"],
            "state": summary["state"], "message": (node.get("Status") or {}).get("Message"),
            "availability": summary["availability"], "reachability": summary["reachability"],
            "leader": summary["leader"], "engine_version": engine.get("EngineVersion"),
            "address": summary["addr"]}


def describe_nodes(nodes):
    """Every node, by host name."""
    return sorted((describe_node(n) for n in nodes),
                  key=lambda n: (n["hostname"] or "", n["id"]))


def node_labels(nodes):
    """{node id: how problems name it}: the host name, with the id where a host name is
    listed twice (a node that left and joined again leaves its old entry behind, down)."""
    names = [n["hostname"] for n in nodes]
    return {n["id"]: n["hostname"] if names.count(n["hostname"]) == 1
            else "%s (%s)" % (n["hostname"], n["id"][:12]) for n in nodes}


def judge_versions(nodes, labels):
    """A warning naming each engine version and its nodes when they are not all equal:
    mixed versions are normal only while an upgrade rolls through."""
    versions = {}
    for node in nodes:
        versions.setdefault(node["engine_version"] or "unknown", []).append(labels[node["id"]])
    if len(versions) < 2:
        return []
    return ["engine versions differ: %s" % "; ".join(
        "%s on %s" % (version, ", ".join(names)) for version, names in sorted(versions.items()))]


def judge_nodes(nodes):
    """(problems, warnings) of the swarm's nodes: down nodes, unreachable managers and a
    missing leader are problems; drained or paused nodes and version skew are warnings."""
    labels = node_labels(nodes)
    problems, warnings = [], []
    for node in nodes:
        label = labels[node["id"]]
        if node["state"] != "ready":
            problems.append("node %s: %s%s" % (label, node["state"], " (%s)" % node["message"]
                                               if node["message"] else ""))
        if node["role"] == "manager" and node["reachability"] != "reachable":
            problems.append("node %s: manager %s" % (label, node["reachability"] or "unknown"))
        if node["availability"] != "active":
            warnings.append("node %s: availability %s (%s)" % (
                label, node["availability"],
                AVAILABILITY_MEANS.get(node["availability"], "not active")))
    if nodes and not any(n["leader"] for n in nodes):
        problems.append("swarm: no manager is the leader")
    return problems, warnings + judge_versions(nodes, labels)


def describe_services(services, tasks, nodes):
    """Every service's convergence (service_status), by name."""
    return sorted((service_status(s, tasks, nodes) for s in services),
                  key=lambda s: s["name"])


def service_summary(status):
    """'1/2 running (failed): ERRORS' for one service's status."""
    text = "%d/%d running" % (status["running"], status["desired"])
    if status["completed"]:
        text += ", %d completed" % status["completed"]
    text += " (%s)" % status["state"]
    return text + (": %s" % "; ".join(status["errors"]) if status["errors"] else "")


def judge_services(services):
    """A problem for each service that has not converged, with its tasks' errors."""
    return ["service %s: %s" % (s["name"], service_summary(s))
            for s in services if s["state"] != "converged"]


def swarm_access_problem(info):
    """Why the swarm cannot be read from the node that gave this /info, or None."""
    local = read_local(info)
    if local["state"] == "locked":
        return ("swarm: %s is a locked manager (autolock, after an engine restart or a "
                "reboot): unlock it with playbooks/unlock.yml" % local["hostname"])
    if local["state"] != "active":
        return "swarm: %s is not in a swarm (state %s%s); read it from a manager" % (
            local["hostname"], local["state"],
            ": %s" % local["error"] if local["error"] else "")
    if not local["is_manager"]:
        return "swarm: %s is a worker; read the swarm from a manager" % local["hostname"]
    return None


def is_leaving(names, leaving):
    """Whether any of a node's or peer's names is one of the leaving hosts'."""
    return bool(set(filter(None, names)) & set(leaving or []))


def drop_leaving(answers, pool, leaving):
    """The swarm's nodes and the pool's peers without the hosts being taken out (a dead
    node being replaced is down and disconnected until its turn comes)."""
    if answers is not None:
        answers = dict(answers, nodes=[
            n for n in answers["nodes"] if not is_leaving(
                [(n.get("Description") or {}).get("Hostname"),
                 (n.get("Status") or {}).get("Addr")], leaving)])
    if pool is not None:
        pool = [p for p in pool if not is_leaving(p["hostnames"] + [p["hostname"]], leaving)]
    return answers, pool


def assess_swarm(answers):
    """(nodes, services, problems, warnings) from a manager's nodes, services and tasks."""
    nodes = describe_nodes(answers["nodes"])
    services = describe_services(answers["services"], answers["tasks"], answers["nodes"])
    problems, warnings = judge_nodes(nodes)
    return nodes, services, problems + judge_services(services), warnings


def parse_brick_sizes(root):
    """{brick name: (size total, size free)} in bytes, of ``volume status NAME detail
    --xml``; None for a brick whose sizes glusterd did not get (its brick is down)."""
    sizes = {}
    for node in root.iter("node"):
        path = text_of(node, "path")
        if path.startswith("/"):
            total = int_of(text_of(node, "sizeTotal"))
            free = int_of(text_of(node, "sizeFree"))
            sizes["%s:%s" % (text_of(node, "hostname"), path)] = \
                (total, free) if total and free is not None else None
    return sizes


def used_percent(size):
    """Percent of a brick's filesystem in use (one decimal), or None when not known."""
    if not size:
        return None
    total, free = size
    return round(100.0 * (total - free) / total, 1)


def describe_brick(brick, reads):
    """One brick: online (None when status could not be read), entries pending heal and
    in split-brain (None where glusterd could not ask the brick), disk use."""
    name = brick["name"]
    status = reads.get("status")
    size = (reads.get("sizes") or {}).get(name)
    heal = (reads.get("heal") or {}).get(name) or {}
    return {"name": name, "host": brick["host"], "path": brick["path"],
            "arbiter": brick["arbiter"],
            # glusterd leaves the bricks of a peer it cannot reach out of status altogether.
            "online": None if status is None else bool((status.get(name) or {}).get("online")),
            "heal_pending": heal.get("pending"), "split_brain": heal.get("split_brain"),
            "size_total": size[0] if size else None, "size_free": size[1] if size else None,
            "used_percent": used_percent(size)}


def describe_gluster(name, pool, volume, reads):
    """The gluster section: the pool's peers, the volume and its bricks, read errors.

    pool: parse_pool_list (None when not read); volume: the parsed volume info (None when
    missing); reads: status, sizes and heal of a started volume, and errors - what could
    not be read. exists is None when glusterd did not answer.
    """
    errors = list(reads.get("errors") or [])
    return {
        "volume": name,
        "exists": None if pool is None else volume is not None,
        "status": volume["status"] if volume else None,
        "type": volume["type"] if volume else None,
        "replica": volume["replica"] if volume else None,
        "arbiter": volume["arbiter"] if volume else None,
        "peers": [{"hostname": p["hostname"], "connected": p["connected"], "self": p["self"],
                   "state": p["state_str"] or None} for p in pool or []],
        "bricks": [describe_brick(b, reads) for b in volume["bricks"]] if volume else [],
        "errors": errors,
    }


def judge_disk(volume, brick, disk_warn, disk_fail):
    """(problems, warnings) of one brick's disk use against the thresholds (percent)."""
    used = brick["used_percent"]
    if used is None or used <= disk_warn:
        return [], []
    text = "volume %s: brick %s disk %.1f%% used" % (volume, brick["name"], used)
    if used > disk_fail:
        return [text + " (over %d%%)" % disk_fail], []
    return [], [text + " (over %d%%)" % disk_warn]


def judge_bricks(volume, bricks, disk_warn, disk_fail):
    """(problems, warnings) of a started volume's bricks: offline, pending heal,
    split-brain, disk use."""
    problems, warnings = [], []
    for brick in bricks:
        if brick["online"] is False:
            problems.append("volume %s: brick %s offline" % (volume, brick["name"]))
        if brick["heal_pending"]:
            problems.append("volume %s: %d entries pending heal on %s (%s#heal-pending)"
                            % (volume, brick["heal_pending"], brick["name"], HEALTH_DOC))
        if brick["split_brain"]:
            problems.append("volume %s: %d entries in split-brain on %s (%s#split-brain)"
                            % (volume, brick["split_brain"], brick["name"], HEALTH_DOC))
        found, cautions = judge_disk(volume, brick, disk_warn, disk_fail)
        problems += found
        warnings += cautions
    return problems, warnings


def judge_gluster(gluster, disk_warn, disk_fail):
    """(problems, warnings) of the gluster section: read errors, disconnected peers, a
    missing or stopped volume, then its bricks (only a started volume's)."""
    name = gluster["volume"]
    problems = ["volume %s: %s" % (name, error) for error in gluster["errors"]]
    problems += ["gluster peer %s: disconnected" % p["hostname"]
                 for p in gluster["peers"] if not p["connected"]]
    if gluster["exists"] is False:
        problems.append("volume %s: does not exist" % name)
    elif gluster["exists"] and gluster["status"] != "Started":
        problems.append("volume %s: not started (status %s)" % (name, gluster["status"]))
    elif gluster["exists"]:
        found, warnings = judge_bricks(name, gluster["bricks"], disk_warn, disk_fail)
        return problems + found, warnings
    return problems, []


def describe_mount(path, mounts, host, probe=None):
    """What is mounted on path (mountinfo entries), labelled with the host."""
    mount = mounted_at(mounts, path)
    return {"host": host, "path": path, "mounted": mount is not None,
            "fstype": mount["fstype"] if mount else None,
            "source": mount["source"] if mount else None, "probe": probe}


def judge_mounts(mounts):
    """A problem for each mount point that has nothing mounted, something other than a
    GlusterFS or NFS mount, or a failed probe; each names the host."""
    problems = []
    for mount in mounts:
        where = "mount %s on %s" % (mount["path"], mount["host"])
        if not mount["mounted"]:
            problems.append("%s: not mounted" % where)
            continue
        if mount["fstype"] not in SHARED_FSTYPES:
            problems.append("%s: %s from %s is not a GlusterFS or NFS mount"
                            % (where, mount["fstype"], mount["source"]))
        if mount["probe"] not in (None, "ok"):
            problems.append("%s: %s" % (where, mount["probe"]))
    return problems


def verdict(problems):
    """The table's last line."""
    if not problems:
        return "healthy"
    return "UNHEALTHY: %d problem%s" % (len(problems), "" if len(problems) == 1 else "s")


def cell(value):
    """A table cell: '-' for unknown, yes/no for booleans, long text cut."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    return text if len(text) <= CELL_WIDTH else text[:CELL_WIDTH - 3] + "..."


def render_columns(headers, rows):
    """Lines of a fixed-width table, indented: each column as wide as its widest cell."""
    cells = [list(headers)] + [[cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()
            for row in cells]


def render_nodes(nodes):
    """The NODES section."""
    if nodes is None:
        return ["NODES", "  not read"]
    rows = [(n["hostname"], n["role"], n["state"], n["availability"],
             "leader" if n["leader"] else n["reachability"], n["engine_version"],
             n["address"]) for n in nodes]
    return ["NODES"] + render_columns(
        ("HOSTNAME", "ROLE", "STATE", "AVAILABILITY", "MANAGER", "ENGINE", "ADDRESS"), rows)


def render_services(services):
    """The SERVICES section: the first error of each service that has not converged
    (problems have them all; a converged service's are of tasks it replaced since)."""
    if services is None:
        return ["SERVICES", "  not read"]
    rows = [(s["name"], s["mode"], "%d/%d" % (s["running"], s["desired"]), s["completed"],
             s["state"], s["errors"][0] if s["errors"] and s["state"] != "converged" else "")
            for s in services]
    return ["SERVICES"] + render_columns(
        ("NAME", "MODE", "RUNNING", "COMPLETED", "STATE", "ERROR"), rows)


def render_gluster(gluster):
    """The GLUSTER section: the volume, its peers, its bricks."""
    if gluster is None:
        return ["GLUSTER", "  not read"]
    lines = ["GLUSTER", "  volume %s: %s" % (gluster["volume"], (
        "not read" if gluster["exists"] is None else "missing" if not gluster["exists"]
        else "%s, %s, replica %s%s" % (gluster["status"], gluster["type"], gluster["replica"],
                                       " arbiter %s" % gluster["arbiter"]
                                       if gluster["arbiter"] else "")))]
    lines += render_columns(("PEER", "CONNECTED", "STATE"), [
        (p["hostname"] + (" (this node)" if p["self"] else ""), p["connected"], p["state"])
        for p in gluster["peers"]])
    lines += render_columns(("BRICK", "ONLINE", "HEAL PENDING", "SPLIT-BRAIN", "DISK USED"), [
        (b["name"] + (" (arbiter)" if b["arbiter"] else ""), b["online"], b["heal_pending"],
         b["split_brain"], None if b["used_percent"] is None else "%.1f%%" % b["used_percent"])
        for b in gluster["bricks"]])
    return lines


def render_mounts(mounts):
    """The MOUNTS section."""
    rows = [(m["host"], m["path"], m["mounted"], m["fstype"], m["source"], m["probe"])
            for m in mounts]
    return ["MOUNTS"] + (render_columns(
        ("HOST", "PATH", "MOUNTED", "FSTYPE", "SOURCE", "PROBE"), rows) if rows
        else ["  none checked"])


def render_table(report):
    """The report as fixed-width text: NODES, SERVICES, GLUSTER, MOUNTS, the problems and
    warnings, and the verdict as the last line."""
    health = report["health"]
    # Local storage (swarmops_storage local) has no volume and no shared mount to show.
    storage = ["STORAGE", "  local: DOCKERDIR on each node's own disk"] \
        if health.get("storage") == "local" else \
        render_gluster(health["gluster"]) + [""] + render_mounts(health["mounts"])
    lines = render_nodes(health["nodes"]) + [""] + render_services(health["services"]) + \
        [""] + storage
    if health.get("backup"):
        lines += ["", "BACKUP", "  " + health["backup"]["line"]]
    for title, items in (("PROBLEMS", report["problems"]), ("WARNINGS", report["warnings"])):
        if items:
            lines += ["", title] + ["  - %s" % item for item in items]
    return "\n".join(lines + ["", verdict(report["problems"])])


def finish_report(health, problems, warnings):
    """{health, problems, warnings, healthy, table}."""
    report = {"health": health, "problems": list(problems), "warnings": list(warnings),
              "healthy": not problems}
    report["table"] = render_table(report)
    return report


def check_params(params):
    """Why the options cannot make a report, or []."""
    problems = []
    if not 0 <= params["disk_warn"] <= params["disk_fail"] <= 100:
        problems.append("disk_warn (%d) and disk_fail (%d) must be percentages with "
                        "disk_warn <= disk_fail" % (params["disk_warn"], params["disk_fail"]))
    if params["probe_timeout"] < 1:
        problems.append("probe_timeout must be 1 second or more, not %d"
                        % params["probe_timeout"])
    return problems


class FindingModule:
    """Stands in for the module in connect: an engine that does not answer (or a missing
    SDK) is a finding of the report, so fail_json raises instead of ending the module."""

    def __init__(self, module):
        """Only the parameters connect reads."""
        self.params = module.params

    @staticmethod
    def fail_json(msg, **details):
        """Raise what connect would fail with."""
        details.pop("exception", None)
        raise EngineError(msg, **details)


def read_swarm(module):
    """(answers, problem): the engine's nodes, services and tasks on this node, or None and
    why the swarm cannot be read here (engine down, not a manager, no leader)."""
    try:
        client = connect(FindingModule(module))
        info = call("info", client.info)
        problem = swarm_access_problem(info)
        if problem:
            return None, problem
        return {"nodes": call("list nodes", client.nodes),
                "services": call("list services", client.services),
                "tasks": call("list tasks", client.tasks)}, None
    except EngineError as err:
        return None, "swarm: cannot be read on %s: %s" % (socket.gethostname(), err.msg)


def read_lock(module):
    """[problem] when this node is a locked manager (autolock): the swarm's node list shows
    it only as unreachable. An engine that does not answer is the other reads' to report."""
    try:
        info = call("info", connect(FindingModule(module)).info)
    except EngineError:
        return []
    if (info.get("Swarm") or {}).get("LocalNodeState") != "locked":
        return []
    return [swarm_access_problem(info)]


def read_volume_state(module, volume):
    """{status, sizes, heal, errors} of a started volume. heal is read only where there is
    something to heal (replicated or dispersed volumes: glusterd refuses it otherwise)."""
    name, reads = volume["name"], {"errors": []}
    try:
        root = run_gluster(module, ["volume", "status", name, "detail"])
        reads["status"], reads["sizes"] = parse_volume_status(root), parse_brick_sizes(root)
    except GlusterError as err:
        reads["errors"].append("gluster %s" % err.msg)
    if volume["replica"] > 1 or volume["disperse"]:
        try:
            reads["heal"] = parse_heal_info(
                run_gluster(module, ["volume", "heal", name, "info"]),
                run_gluster(module, ["volume", "heal", name, "info", "split-brain"]))
        except GlusterError as err:
            reads["errors"].append("gluster %s" % err.msg)
    return reads


def read_gluster(module, name, leaving=None):
    """The gluster section of volume NAME through this node's glusterd. A stopped volume
    is not asked for status or heal (glusterd refuses both)."""
    try:
        pool = drop_leaving(None, parse_pool_list(run_gluster(module, ["pool", "list"])),
                            leaving)[1]
        volume = read_volume(module, name)
    except GlusterError as err:
        return describe_gluster(name, None, None, {"errors": ["gluster %s" % err.msg]})
    reads = {}
    if volume is not None and volume["status"] == "Started":
        reads = read_volume_state(module, volume)
    return describe_gluster(name, pool, volume, reads)


def probe_mount(path, name, timeout):
    """'ok', or why writing, reading back and removing path/name failed or did not finish
    within timeout seconds. The child gets no descriptor of ours (a hung child would keep
    the connection's output open) and its own session."""
    try:
        # Not a with-block: leaving the block would wait for a child that may never end.
        child = subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable or "python3", "-c", PROBE_CODE, path, name],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True)
    except OSError as exc:
        return "probe could not start: %s" % exc
    try:
        out = child.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        # KILL is queued even for a process asleep on the mount; nobody waits for it.
        child.kill()
        child.stdout.close()
        return "probe did not finish in %d s" % timeout
    text = out.decode("utf-8", "replace").strip()
    return text or "probe exited %d and said nothing" % child.returncode


def read_mounts(paths, host, probe_timeout=None):
    """The mount section for paths on this node, from /proc/self/mountinfo (which never
    touches the mounts); a mounted path is probed when probe_timeout is given."""
    mounts = parse_mountinfo(read_text("/proc/self/mountinfo"))
    entries = []
    for path in paths:
        entry = describe_mount(path.rstrip("/") or "/", mounts, host)
        if probe_timeout and entry["mounted"]:
            entry["probe"] = probe_mount(entry["path"], PROBE_PREFIX + socket.gethostname(),
                                         probe_timeout)
        entries.append(entry)
    return entries


def read_backup_record(path, host):
    """What playbooks/backup.yml recorded on this node of its last run, with the host
    added; None where it never ran here. A record that does not parse says so: the
    judgment on the controller then names it instead of missing it."""
    text = read_text(path, missing=None)
    if text is None:
        return None
    try:
        record = json.loads(text)
    except ValueError as err:
        return {"host": host, "error": "%s does not parse: %s" % (path, err)}
    return dict(record, host=host) if isinstance(record, dict) else \
        {"host": host, "error": "%s holds no record" % path}


def read_health(module):
    """The report of what the options ask this node to read: the swarm (on a manager), a
    volume (through its glusterd), its mounts."""
    params = module.params
    health = {"nodes": None, "services": None, "gluster": None, "mounts": []}
    problems, warnings = [], []
    if params["swarm"]:
        answers, problem = read_swarm(module)
        answers = drop_leaving(answers, None, params["leaving"])[0]
        if answers is None:
            problems.append(problem)
        else:
            health["nodes"], health["services"], found, cautions = assess_swarm(answers)
            problems += found
            warnings += cautions
    else:
        problems += read_lock(module)
    if params["volume"]:
        health["gluster"] = read_gluster(module, params["volume"], params["leaving"])
        found, cautions = judge_gluster(health["gluster"], params["disk_warn"],
                                        params["disk_fail"])
        problems += found
        warnings += cautions
    host = params["host"] or socket.gethostname()
    health["mounts"] = read_mounts(params["mounts"], host,
                                   params["probe_timeout"] if params["probe"] else None)
    problems += judge_mounts(health["mounts"])
    if params.get("backup_record"):
        # Judged where every node's record is at hand: health_report, on the controller.
        health["backup_record"] = read_backup_record(params["backup_record"], host)
    return finish_report(health, problems, warnings)


def wait_healthy(module, timeout):
    """(report, seconds waited): read_health again until healthy or timeout seconds passed.

    Between the nodes of a rolling change the cluster is judged by what this node reads:
    a node back, services converged, heal drained.
    """
    start = time.time()
    while True:
        report = read_health(module)
        waited = round(time.time() - start, 2)
        if report["healthy"] or waited >= timeout:
            return report, waited
        time.sleep(WAIT_POLL)
