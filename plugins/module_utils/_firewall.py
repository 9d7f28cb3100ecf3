# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster's nftables table: who may reach the cluster's ports.

One table of our own (``inet swarmops``), replaced as a whole in one nft transaction.
The engine's tables (``ip filter``/``ip nat`` with DOCKER-USER and the ingress chains, or
iptables-legacy's) are never read, flushed or reordered: a packet must pass every table's
base chain on a hook, so ours only drops what it must and accepts nothing on the others'
behalf. Its rules:

- input: loopback and replies pass; the cluster's ports (swarm control, gossip, the overlay
  data plane, ESP of encrypted overlays, glusterd and the brick ports) accept only the
  cluster's members; SSH accepts only the admin sources (when any are given).
- prerouting, before the engine's DNAT: a published port listed with sources accepts only
  them. Every other published port stays open to everyone, as the engine publishes it
  (the routing mesh reaches services through the forward hook, which this table leaves
  alone).

The spec rendered is stored in the file's header, so a run that only lets new members in
(an onboarding run under --limit, for the nodes outside it) keeps the rest as it was.
Private to this collection.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import re

from ansible_collections.swarmops.cluster.plugins.module_utils._common import (
    CLI_ENV, SwarmopsError, read_text, replace_file, run_systemctl)

TABLE = "swarmops"
PATH = "/etc/swarmops/firewall.nft"
UNIT = "swarmops-firewall.service"
UNIT_DIR = "/etc/systemd/system/"
HEADER = "# swarmops-firewall-spec: "
HASH_SLOT = "0000000000000000"
# Loaded first at boot, before any network is up, as Debian's nftables.service is; the
# engine and glusterd come later and add their own tables beside it.
UNIT_TEXT = """\
# Written by swarmops.cluster (role firewall): loads the cluster's nftables table at boot.
[Unit]
Description=swarmops.cluster firewall (nftables table inet %(table)s)
DefaultDependencies=no
Wants=network-pre.target
Before=network-pre.target shutdown.target docker.service glusterd.service
Conflicts=shutdown.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=%(nft)s -f %(path)s
ExecReload=%(nft)s -f %(path)s

[Install]
WantedBy=sysinit.target
"""


class FirewallError(SwarmopsError):
    """A spec the table cannot be built from, or an nft command that failed."""


def split_family(addresses):
    """(IPv4, IPv6) element lists of addresses and CIDRs, as nft writes them: overlapping
    networks merged (nft refuses overlapping intervals in a set), a host as its address."""
    nets = [ipaddress.ip_network(str(a), strict=False) for a in addresses]
    return tuple([str(n.network_address) if n.prefixlen == n.max_prefixlen else str(n)
                  for n in ipaddress.collapse_addresses(x for x in nets if x.version == v)]
                 for v in (4, 6))


def port_list(ports):
    """nft's text for ports and ranges: [22, "49152-60999"] -> "22, 49152-60999"."""
    return ", ".join(str(p) for p in ports)


def set_block(name, kind, elements):
    """An nft named set; an interval set when it holds networks."""
    flags = " flags interval;" if any("/" in e for e in elements) else ""
    body = " elements = { %s };" % ", ".join(elements) if elements else ""
    return "\tset %s { type %s;%s%s }" % (name, kind, flags, body)


def source_rules(sets, verdict):
    """Accept the sources of a v4/v6 pair of sets, then the verdict for everyone else."""
    return ["\t\tip saddr @%s accept" % sets[0], "\t\tip6 saddr @%s accept" % sets[1],
            "\t\tcounter %s" % verdict]


def render(spec):
    """The table file for a spec: header (the spec as JSON), then one transaction that
    replaces our table and leaves every other table as it is. The table's comment is the
    hash of the rest of the file, so reading it back tells whether the kernel holds what
    this file says."""
    text = render_unhashed(normalize(spec))
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return text.replace(HASH_SLOT, digest)


def render_unhashed(spec):
    """render()'s text with HASH_SLOT where the hash goes."""
    members = split_family(spec["members"])
    admin = split_family(spec["admin_sources"])
    lines = ["\tcomment \"swarmops.cluster %s\"" % HASH_SLOT]
    lines += [set_block("members4", "ipv4_addr", members[0]),
              set_block("members6", "ipv6_addr", members[1]),
              set_block("admin4", "ipv4_addr", admin[0]),
              set_block("admin6", "ipv6_addr", admin[1])]
    lines += input_chain(spec)
    lines += ["\tchain cluster {"] + source_rules(("members4", "members6"), "drop") + ["\t}"]
    lines += ["\tchain admin {"] + source_rules(("admin4", "admin6"), "drop") + ["\t}"]
    lines += published_chains(spec)
    return "\n".join([
        "# Written by swarmops.cluster (role firewall): do not edit, a run replaces it.",
        HEADER + json.dumps(spec, sort_keys=True),
        # Creating the table first makes the delete valid on a host without it yet.
        "table inet %s" % TABLE, "delete table inet %s" % TABLE,
        "table inet %s {" % TABLE] + lines + ["}", ""])


def input_chain(spec):
    """The input base chain: what is cluster-only, what is admin-only."""
    rules = ["\tchain input {",
             "\t\ttype filter hook input priority filter; policy accept;",
             "\t\tiif \"lo\" accept",
             "\t\tct state established,related accept"]
    if spec["tcp_ports"]:
        rules.append("\t\ttcp dport { %s } jump cluster" % port_list(spec["tcp_ports"]))
    if spec["udp_ports"]:
        rules.append("\t\tudp dport { %s } jump cluster" % port_list(spec["udp_ports"]))
    if spec["esp"]:
        rules.append("\t\tmeta l4proto esp jump cluster")
    if spec["admin_sources"]:
        rules.append("\t\ttcp dport %d jump admin" % spec["ssh_port"])
    return rules + ["\t}"]


def published_chains(spec):
    """A prerouting chain ahead of the engine's DNAT (-100) for published ports that only
    some sources may reach, with one set pair per port."""
    if not spec["published"]:
        return []
    lines, rules = [], []
    for index, entry in enumerate(spec["published"]):
        v4, v6 = split_family(entry["sources"])
        names = ("published%d_4" % index, "published%d_6" % index)
        lines += [set_block(names[0], "ipv4_addr", v4), set_block(names[1], "ipv6_addr", v6)]
        rules.append("\t\t%s dport %d jump published%d"
                     % (entry["protocol"], entry["port"], index))
        lines += ["\tchain published%d {" % index] + source_rules(names, "drop") + ["\t}"]
    return lines + ["\tchain prerouting {",
                    "\t\ttype filter hook prerouting priority -150; policy accept;",
                    "\t\tct state established,related accept"] + rules + ["\t}"]


def normalize(spec):
    """The spec with every key, in a canonical form: equal specs render equal files."""
    spec = dict(spec)
    published = [{"port": int(e["port"]), "protocol": e.get("protocol", "tcp"),
                  "sources": sorted(set(str(s) for s in e["sources"]))}
                 for e in spec.get("published") or []]
    return {"members": sorted(set(str(m) for m in spec.get("members") or [])),
            "admin_sources": sorted(set(str(s) for s in spec.get("admin_sources") or [])),
            "ssh_port": int(spec.get("ssh_port") or 22),
            "tcp_ports": [str(p) for p in spec.get("tcp_ports") or []],
            "udp_ports": [str(p) for p in spec.get("udp_ports") or []],
            "esp": bool(spec.get("esp", True)),
            "published": sorted(published, key=lambda e: (e["protocol"], e["port"]))}


def spec_hash(spec):
    """The hash render() puts in the table's comment: a read of the loaded table compares
    it, without parsing nft's listing."""
    return parse_loaded_hash(render(spec))


def parse_header(text):
    """The spec a table file was rendered from, or None (no file, or not ours)."""
    for line in (text or "").splitlines():
        if line.startswith(HEADER):
            try:
                return normalize(json.loads(line[len(HEADER):]))
            except (ValueError, KeyError, TypeError):
                return None
    return None


def parse_loaded_hash(listing):
    """The spec hash in the comment of our loaded table (`nft list table`), or None."""
    match = re.search(r'comment "swarmops\.cluster ([0-9a-f]+)"', listing or "")
    return match.group(1) if match else None


def parse_brick_ports(text):
    """(base, max) of glusterd's brick ports from glusterd.vol; glusterd's defaults when
    the file does not set them (or does not exist: a node without storage)."""
    ports = {"base-port": 49152, "max-port": 60999}
    for line in (text or "").splitlines():
        words = line.split()
        if len(words) == 3 and words[0] == "option" and words[1] in ports:
            ports[words[1]] = int(words[2])
    return ports["base-port"], ports["max-port"]


def parse_ssh_client(environ):
    """The client address of an SSH session from a process environment (NUL-separated)."""
    for item in (environ or b"").split(b"\0"):
        if item.startswith((b"SSH_CONNECTION=", b"SSH_CLIENT=")):
            words = item.split(b"=", 1)[1].split()
            if words:
                return words[0].decode("ascii", "replace")
    return None


def run_nft(module, args, data=None):
    """(rc, stdout, stderr) of nft with args; the one runner of the nft CLI."""
    nft = module.get_bin_path("nft")
    if nft is None:
        raise FirewallError("nft is not installed: install the nftables package (the "
                            "firewall role does)")
    return module.run_command([nft] + args, data=data, environ_update=CLI_ENV,
                              binary_data=data is None)


def read_ssh_client(pid=None):
    """The address this run's SSH session came from: the nearest ancestor process whose
    environment has SSH_CONNECTION (sudo drops it from the module's own)."""
    pid = pid or os.getpid()
    for _hop in range(32):
        try:
            with open("/proc/%d/environ" % pid, "rb") as handle:
                found = parse_ssh_client(handle.read())
            if found:
                return found
            with open("/proc/%d/status" % pid, encoding="ascii", errors="replace") as handle:
                pid = int(re.search(r"^PPid:\s+(\d+)", handle.read(), re.M).group(1))
        except (OSError, AttributeError, ValueError):
            return None
        if pid <= 1:
            return None
    return None


def read_state(module, path=PATH, unit=UNIT):
    """What the firewall is on this node: nft installed, the table file, the spec hash of
    the loaded table, the unit file and whether it is enabled, glusterd's brick ports and
    the SSH client's address."""
    installed = module.get_bin_path("nft") is not None
    loaded = None
    if installed:
        rc, out, _err = run_nft(module, ["list", "table", "inet", TABLE])
        loaded = parse_loaded_hash(out) if rc == 0 else None
    text = read_text(path, None)
    spec = parse_header(text)
    rc, out, _err = module.run_command(["systemctl", "is-enabled", "--", unit],
                                       environ_update=CLI_ENV)
    return {"installed": installed, "text": text, "spec": spec,
            "hash": parse_loaded_hash(text), "loaded": loaded,
            "unit_text": read_text(UNIT_DIR + unit, None),
            "enabled": out.strip() == "enabled",
            "brick_ports": list(parse_brick_ports(read_text("/etc/glusterfs/glusterd.vol", None))),
            "ssh_client": read_ssh_client()}


def plan(current, desired, unit_text):
    """The actions that bring the node from current (read_state) to desired (a spec, or
    None for no table): write the file, install and enable the unit, load the table."""
    if desired is None:
        return ([{"action": "unload"}] if current["loaded"] else []) + \
            ([{"action": "remove_file"}] if current["text"] is not None else []) + \
            ([{"action": "remove_unit"}] if current["unit_text"] is not None else [])
    text = render(desired)
    digest = parse_loaded_hash(text)
    actions = []
    if current["text"] != text:
        actions.append({"action": "write_file", "hash": digest})
    if current["unit_text"] != unit_text:
        actions.append({"action": "write_unit"})
    if not current["enabled"]:
        actions.append({"action": "enable_unit"})
    if current["loaded"] != digest:
        actions.append({"action": "load", "hash": digest})
    return actions


def members_only(current, members):
    """The spec an onboarding run gives a node outside its --limit: its own, with the
    cluster's members as the inventory now lists them; None where it has no table of ours
    (nothing is closed there, so nothing needs opening)."""
    if current["spec"] is None:
        return None
    return dict(current["spec"], members=members)


def check_nft(module, rc, out, err, what):
    """Raise FirewallError naming what failed when nft did not succeed."""
    if rc != 0:
        raise FirewallError("%s failed (rc %d): %s" % (what, rc, (err or out).strip()))


def apply(module, actions, desired, path=PATH, unit=UNIT):
    """Carry out plan()'s actions. The new file is checked by nft (`nft -c`) before it
    replaces the old one, and loaded in one transaction: a bad table never half-applies."""
    kinds = {a["action"] for a in actions}
    if "write_file" in kinds:
        text = render(desired)
        rc, out, err = run_nft(module, ["-c", "-f", "-"], data=text)
        check_nft(module, rc, out, err, "checking the new table (nft -c)")
        replace_file(path, text)
    if "write_unit" in kinds:
        replace_file(UNIT_DIR + unit, unit_text(module, path))
        run_systemctl(module, ["daemon-reload"], FirewallError)
    if "enable_unit" in kinds:
        run_systemctl(module, ["enable", "--", unit], FirewallError)
    if "load" in kinds:
        rc, out, err = run_nft(module, ["-f", path])
        check_nft(module, rc, out, err, "loading %s" % path)
    if "unload" in kinds:
        rc, out, err = run_nft(module, ["delete", "table", "inet", TABLE])
        check_nft(module, rc, out, err, "deleting table inet %s" % TABLE)
    if "remove_unit" in kinds:
        run_systemctl(module, ["disable", "--", unit], FirewallError)
        os.unlink(UNIT_DIR + unit)
        run_systemctl(module, ["daemon-reload"], FirewallError)
    if "remove_file" in kinds:
        os.unlink(path)


def unit_text(module, path=PATH):
    """The boot unit's text for this node's nft binary."""
    return UNIT_TEXT % {"table": TABLE, "nft": module.get_bin_path("nft") or "/usr/sbin/nft",
                        "path": path}


def port_problems(ports, name):
    """Why entries of a port list are not ports or ranges nft takes."""
    problems = []
    for port in ports:
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", str(port))
        low, high = (int(match.group(1)), int(match.group(2) or match.group(1))) \
            if match else (0, 0)
        if not match or not 1 <= low <= high <= 65535:
            problems.append("%s: %r is not a port or a range LOW-HIGH of ports 1-65535"
                            % (name, port))
    return problems


def source_problems(sources, name):
    """Why entries of a source list are not addresses or networks."""
    problems = []
    for source in sources:
        try:
            ipaddress.ip_network(str(source), strict=False)
        except ValueError:
            problems.append("%s: %r is not an IP address or network (CIDR)" % (name, source))
    return problems


def spec_problems(spec, host, ssh_client):
    """Why a host's spec would break the cluster or lock the controller out, each naming
    the variable to fix; [] when it is sound."""
    problems = source_problems(spec.get("admin_sources") or [], "swarmops_firewall_admin_sources")
    # The role builds the port lists from these (the brick ports from glusterd.vol).
    problems += port_problems(spec.get("tcp_ports") or [],
                              "swarmops_firewall_swarm_port or swarmops_firewall_glusterd_ports")
    problems += port_problems(spec.get("udp_ports") or [], "swarmops_firewall_data_path_port")
    if not problems and spec.get("admin_sources") and ssh_client and not any(
            ipaddress.ip_address(ssh_client) in ipaddress.ip_network(str(s), strict=False)
            for s in spec["admin_sources"]):
        problems.append(
            "%s: swarmops_firewall_admin_sources would lock this controller out: its SSH "
            "comes from %s, which none of %s holds; add it (or its network)"
            % (host, ssh_client, ", ".join(map(str, spec["admin_sources"]))))
    for entry in spec.get("published") or []:
        problems += published_problems(entry)
    return problems


def published_problems(entry):
    """Why a swarmops_firewall_published entry cannot be built."""
    name = "swarmops_firewall_published"
    if not isinstance(entry, dict) or "port" not in entry:
        return ["%s: %r needs port, sources and optionally protocol" % (name, entry)]
    problems = port_problems([entry["port"]], name)
    if "-" in str(entry["port"]):
        problems.append("%s: port %s: one port per entry" % (name, entry["port"]))
    if entry.get("protocol", "tcp") not in ("tcp", "udp"):
        problems.append("%s: port %s: protocol must be tcp or udp" % (name, entry["port"]))
    if not entry.get("sources"):
        problems.append("%s: port %s: sources is empty; an open port needs no entry"
                        % (name, entry["port"]))
    return problems + source_problems(entry.get("sources") or [], name)


def summarize(state, expected_unit):
    """node_facts' view of read_state(): hashes and flags, no file contents."""
    return {"installed": state["installed"], "hash": state["hash"], "loaded": state["loaded"],
            "file": state["text"] is not None, "unit": state["unit_text"] is not None,
            "unit_ok": state["unit_text"] == expected_unit, "enabled": state["enabled"],
            "brick_ports": state["brick_ports"], "ssh_client": state["ssh_client"]}


def is_current(summary, spec, state="present"):
    """Whether a node (summarize()) already has what spec and state make: then the role
    makes no call to it."""
    if state == "absent":
        return not (summary["loaded"] or summary["file"] or summary["unit"])
    digest = spec_hash(spec)
    return (summary["hash"] == digest and summary["loaded"] == digest
            and summary["unit_ok"] and summary["enabled"])
