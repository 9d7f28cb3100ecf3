# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What preflight and the roles need to know about a node, read in one pass.

The ``parse_*`` functions are pure functions of file contents and command output, so unit
tests feed them output recorded on real nodes. Private to this collection.
"""

from __future__ import annotations

import json
import os
import socket
import stat

from ansible_collections.swarmops.cluster.plugins.module_utils._common import CLI_ENV, read_text
from ansible_collections.swarmops.cluster.plugins.module_utils._gluster import (
    GlusterError, run_gluster)
from ansible_collections.swarmops.cluster.plugins.module_utils._gluster_rejoin import (
    read_identity)
from ansible_collections.swarmops.cluster.plugins.module_utils._gluster_peer import (
    parse_pool_list)
from ansible_collections.swarmops.cluster.plugins.module_utils._gluster_volume import (
    parse_volume_info)
from ansible_collections.swarmops.cluster.plugins.module_utils._mount import (
    TIMED_OUT, fstab_path_of, is_under, mounted_at, parse_mountinfo, run_bounded)
from ansible_collections.swarmops.cluster.plugins.module_utils._network import parse_network
from ansible_collections.swarmops.cluster.plugins.module_utils._swarm import read_local


def parse_ip_addr(output):
    """Addresses configured on the host from ``ip -j addr show``; loopback left out."""
    ipv4, ipv6, interfaces = [], [], {}
    for link in json.loads(output or "[]"):
        cidrs = interfaces.setdefault(link.get("ifname"), [])
        for addr in link.get("addr_info") or []:
            if addr.get("scope") == "host":
                continue
            (ipv4 if addr.get("family") == "inet" else ipv6).append(addr["local"])
            cidrs.append("%s/%s" % (addr["local"], addr.get("prefixlen")))
    interfaces.pop("lo", None)
    return {"all_ipv4_addresses": ipv4, "all_ipv6_addresses": ipv6,
            "interfaces": interfaces}


def parse_networks(output):
    """Docker networks from ``docker network inspect``: what network preflight judges."""
    networks = []
    for net in json.loads(output or "[]"):
        ipam = (net.get("IPAM") or {}).get("Config") or []
        networks.append({
            "name": net.get("Name"), "id": net.get("Id"), "driver": net.get("Driver"),
            "scope": net.get("Scope"), "ingress": bool(net.get("Ingress")),
            "config_only": bool(net.get("ConfigOnly")),
            "config_from": (net.get("ConfigFrom") or {}).get("Network") or None,
            "subnets": [cfg["Subnet"] for cfg in ipam if cfg.get("Subnet")],
            "labels": net.get("Labels") or {},
            # The network module's own view, so preflight can judge as the module would.
            "view": parse_network(net),
        })
    return networks


def parse_group_file(text, name):
    """One group's entry in /etc/group: gid and members, or why it cannot be used."""
    entries = [line for line in text.splitlines() if line.split(":", 1)[0] == name]
    if not entries:
        return {"exists": False, "gid": None, "members": [], "error": None}
    if len(entries) > 1:
        return {"exists": True, "gid": None, "members": [],
                "error": "%d entries for group %s in /etc/group" % (len(entries), name)}
    fields = entries[0].split(":")
    if len(fields) != 4 or not fields[2].isdigit():
        return {"exists": True, "gid": None, "members": [],
                "error": "malformed /etc/group entry %r" % entries[0]}
    return {"exists": True, "gid": int(fields[2]), "error": None,
            "members": [m for m in fields[3].split(",") if m]}


def parse_group_gids(text):
    """Every group's GID in /etc/group; malformed lines are left out (parse_group_file
    judges the one group the roles manage)."""
    gids = {}
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) == 4 and fields[2].isdigit():
            gids.setdefault(fields[0], int(fields[2]))
    return gids


def parse_daemon_json(text):
    """daemon.json's options, or where it stops being JSON."""
    try:
        content = json.loads(text)
    except ValueError as exc:
        return {"content": None, "error": str(exc)}
    if not isinstance(content, dict):
        return {"content": None, "error": "not a JSON object"}
    return {"content": content, "error": None}


def parse_systemd_show(output):
    """A unit's load, active and enablement states from ``systemctl show``."""
    props = dict(line.split("=", 1) for line in output.splitlines() if "=" in line)
    return {"loaded": props.get("LoadState") == "loaded",
            "active": props.get("ActiveState") == "active",
            "enabled": props.get("UnitFileState") == "enabled"}


def parse_engine_info(rc, stdout, stderr):
    """The engine's swarm state from ``docker info --format '{{json .}}'``."""
    info = None
    if rc == 0:
        try:
            info = json.loads(stdout)
        except ValueError:
            info = None
    if not info or info.get("ServerErrors") or not info.get("ID"):
        errors = (info or {}).get("ServerErrors") or [stderr.strip() or stdout.strip()]
        return {"answering": False, "error": "; ".join(errors), "version": None,
                "swarm": None}
    swarm = read_local(info)
    # The manager list the node knows: workers use it to tell which swarm they are in.
    swarm["manager_addrs"] = swarm.pop("remote_managers")
    return {"answering": True, "error": None, "version": info.get("ServerVersion"),
            "swarm": swarm}


def parse_package_query(output, packages):
    """Which of the packages dpkg reports installed (``${Package} ${db:Status-Status}``)."""
    installed = {line.split()[0] for line in output.splitlines()
                 if line.endswith(" installed")}
    return {"installed": [p for p in packages if p in installed],
            "missing": [p for p in packages if p not in installed]}


def read_file_state(path):
    """A file's text, owner, group and mode; None when it does not exist."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return {"text": text, "uid": st.st_uid, "gid": st.st_gid,
            "mode": "%04o" % stat.S_IMODE(st.st_mode)}


def read_daemon_json(path):
    """daemon.json as the docker role compares it: parsed options, owner, mode."""
    state = read_file_state(path)
    if state is None:
        return {"exists": False, "content": None, "error": None, "mode": None,
                "owner_root": None}
    result = parse_daemon_json(state["text"])
    result.update(exists=True, mode=state["mode"],
                  owner_root=state["uid"] == 0 and state["gid"] == 0)
    return result


def run_cli(module, argv):
    """(rc, stdout, stderr) of a read-only command; (None, '', why) when it is missing."""
    binary = module.get_bin_path(argv[0])
    if binary is None:
        return None, "", "%s is not installed" % argv[0]
    return module.run_command([binary] + argv[1:], environ_update=CLI_ENV)


def own_names(module):
    """The host's names and configured addresses (loopback left out)."""
    _rc, out, _err = run_cli(module, ["ip", "-j", "addr", "show"])
    addrs = parse_ip_addr(out or "[]")
    return [socket.gethostname(), socket.getfqdn()] + addrs["all_ipv4_addresses"] + \
        addrs["all_ipv6_addresses"]


def read_engine(module):
    """Whether the engine is installed, enabled, running and answering, and its swarm."""
    rc, out, err = run_cli(module, ["docker", "info", "--format", "{{json .}}"])
    engine = {"installed": rc is not None}
    engine.update(parse_engine_info(rc, out, err) if rc is not None else
                  {"answering": False, "error": err, "version": None, "swarm": None})
    rc, out, _err = run_cli(module, ["systemctl", "show", "docker.service",
                                     "--property=LoadState,ActiveState,UnitFileState"])
    engine["service"] = parse_systemd_show(out) if rc == 0 else None
    return engine


def read_networks(module):
    """The engine's networks (a manager sees every swarm-scope one); [] when the engine
    does not answer, as on a host not yet provisioned."""
    rc, out, _err = run_cli(module, ["docker", "network", "ls", "--quiet", "--no-trunc"])
    if rc != 0 or not out.split():
        return []
    rc, out, _err = run_cli(module, ["docker", "network", "inspect", "--"] + out.split())
    return parse_networks(out) if rc == 0 else []


def trim_node(node):
    """A /nodes entry with what the swarm_node planner reads (its TLS certificates and
    platform details left out)."""
    return {"ID": node["ID"], "Version": node.get("Version"), "Spec": node.get("Spec") or {},
            "Status": node.get("Status") or {}, "ManagerStatus": node.get("ManagerStatus"),
            "Description": {"Hostname": (node.get("Description") or {}).get("Hostname")}}


def read_swarm_nodes(module, swarm):
    """The swarm's node entries as this manager sees them; None on any other node, or
    when the engine does not list them (the roles then ask the module itself)."""
    if not swarm or swarm.get("state") != "active" or not swarm.get("is_manager"):
        return None
    rc, out, _err = run_cli(module, ["docker", "node", "ls", "--quiet"])
    if rc != 0 or not out.split():
        return None
    rc, out, _err = run_cli(module, ["docker", "node", "inspect", "--"] + out.split())
    try:
        return [trim_node(node) for node in json.loads(out)] if rc == 0 else None
    except (ValueError, KeyError, TypeError):
        return None


STAT_FORMAT = "%F|%u|%g|%a|%n"


def parse_stats(output, paths):
    """{path: {kind, uid, gid, mode} or None when missing} from stat's STAT_FORMAT lines."""
    found = {}
    for line in output.splitlines():
        fields = line.split("|", 4)
        if len(fields) == 5 and fields[4] in paths:
            found[fields[4]] = {"kind": fields[0], "uid": int(fields[1]),
                                "gid": int(fields[2]), "mode": fields[3].zfill(4)}
    return {path: found.get(path) for path in paths}


def read_stats(module, paths, timeout=5):
    """Owner, group and mode of paths that may lie on a network mount, by a stat bounded
    with a timeout (a hung server would hang the read); None when stat did not answer in
    time or could not run. A missing path is None in the result."""
    if not paths:
        return {}
    ran = run_bounded(module, ["stat", "--format", STAT_FORMAT, "--"] + list(paths), timeout)
    if ran["rc"] in TIMED_OUT or (ran["rc"] != 0 and not ran["stdout"]):
        return None
    return parse_stats(ran["stdout"], paths)


def read_packages(module, packages):
    """Installed and missing packages, asked of dpkg (Debian) or pacman (Arch)."""
    if not packages:
        return {"installed": [], "missing": []}
    if module.get_bin_path("dpkg-query"):
        _rc, out, _err = run_cli(module, ["dpkg-query", "--show", "--showformat",
                                          "${Package} ${db:Status-Status}\n", "--"]
                                 + list(packages))
        return parse_package_query(out, packages)
    installed = [p for p in packages if run_cli(module, ["pacman", "-Q", "--", p])[0] == 0]
    return {"installed": installed, "missing": [p for p in packages if p not in installed]}


def read_gluster(module):
    """The trusted pool and the volumes as this node's glusterd reports them."""
    state = {"installed": module.get_bin_path("gluster") is not None, "answering": False,
             "error": None, "pool": [], "volumes": []}
    if not state["installed"]:
        return state
    try:
        state["pool"] = parse_pool_list(run_gluster(module, ["pool", "list"]))
        state["volumes"] = parse_volume_info(run_gluster(module, ["volume", "info"]))
    except GlusterError as err:
        state["error"] = err.msg
        # glusterd installed but not running: a host reinstalled with the packages already
        # on it (Debian installs glusterd disabled) has no peer and no volume on disk.
        identity = read_identity()
        state["fresh"] = not identity["peers"] and not identity["volumes"]
        return state
    state["answering"] = True
    return state


def placement(path, mounts, fstab_text):
    """Which filesystem a path is (or, missing, would be) on, and the fstab mount points
    above it that are not mounted.

    filesystem: the mount point of the innermost mount holding the path ("/" is the root
    filesystem, where glusterd refuses a brick without force). unmounted: a disk meant to
    hold the path whose fstab line did not mount (at boot, say); a directory made there
    now would land on the filesystem below and fill it.
    """
    mounted = {m["mount_point"] for m in mounts}
    holders = [p for p in mounted if p.startswith("/") and is_under(path, p)]
    lines = fstab_text.splitlines(True)
    listed = [fstab_path_of(line) for line in lines]
    # The path's own active lines, as they are (only these: other lines may hold a CIFS
    # password, and facts are printed at -v).
    return {"filesystem": max(holders, key=len) if holders else None,
            "unmounted": sorted({p for p in listed if p and p.startswith("/")
                                 and is_under(path, p) and p not in mounted}),
            "fstab_lines": [line for line, at in zip(lines, listed) if at == path]}


def read_paths(paths, fstab):
    """What preflight judges of brick directories and mount points, path by path."""
    mounts = parse_mountinfo(read_text("/proc/self/mountinfo"))
    return {path: dict(read_path(path, mounted_at(mounts, path)),
                       **placement(path, mounts, fstab)) for path in paths}


def read_path(path, mount):
    """Whether a directory exists, how many entries it holds, its brick volume-id, its mount.

    A network filesystem mounted there is not looked into: a hung server would hang the
    read, and its entries are the volume's, not data the mount would hide.
    """
    state = {"exists": os.path.isdir(path), "entries": 0, "volume_id": None,
             "mount": {"source": mount["source"], "fstype": mount["fstype"]} if mount else None}
    # As the mount module tells them: a directory, nothing, or something else (a file, a
    # dangling link) where a mount point should be.
    state["kind"] = "dir" if state["exists"] else \
        ("other" if os.path.lexists(path) else "missing")
    if not state["exists"] or (mount and mount["fstype"].startswith(("fuse", "nfs"))):
        return state
    state["entries"] = len(os.listdir(path))
    try:
        state["volume_id"] = os.getxattr(path, "trusted.glusterfs.volume-id").hex()
    except OSError:
        pass  # no such xattr (or no xattr support): not a brick
    return state
