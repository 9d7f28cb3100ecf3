#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Everything preflight and the roles need to know about a node, in one read-only call."""

from __future__ import annotations

DOCUMENTATION = r"""
module: node_facts
short_description: Read a node's distribution, addresses, engine, swarm and docker files in one call
version_added: 0.1.0
description:
  - One read-only pass over what the roles' preflight judges and what lets a converged
    node's re-run skip work - the distribution (as M(ansible.builtin.setup) reports it), the
    addresses configured on the host, whether the Docker engine is installed, enabled,
    running and answering, the node's swarm membership, C(/etc/docker/daemon.json), the
    C(docker) group, and which of the given packages are installed.
  - Works on a bare host (no engine, no Python docker SDK) - it uses the C(docker) command
    line only when it is there.
  - Never changes anything.
options:
  packages:
    description: Packages whose installed state to report (dpkg on Debian, pacman on Arch).
    type: list
    elements: str
    default: []
  group:
    description: The group whose GID and members to report.
    type: str
    default: docker
  daemon_json:
    description: The engine's configuration file.
    type: path
    default: /etc/docker/daemon.json
  gluster:
    description:
      - Also read the GlusterFS trusted pool and volumes (C(gluster pool list) and
        C(gluster volume info), both C(--xml)) when the C(gluster) command is installed.
    type: bool
    default: false
  paths:
    description:
      - Directories to inspect - brick directories and mount points - for whether they
        exist, how many entries they hold, their GlusterFS brick volume-id, what is
        mounted exactly there, which mount holds them and which C(/etc/fstab) mount points
        above them are not mounted (a brick disk that did not mount at boot).
      - A network filesystem mounted on a path is not looked into.
    type: list
    elements: path
    default: []
  networks:
    description:
      - Also list the engine's networks (name, driver, scope, subnets, config-only and
        config-from, labels) when the engine answers. A manager sees every swarm-scope
        network.
    type: bool
    default: false
  firewall:
    description:
      - Also read the firewall table of M(swarmops.cluster.firewall) (the spec hash of its
        file and of the loaded table, its boot unit), glusterd's brick port range and the
        address this run's SSH session comes from.
    type: bool
    default: false
  swarm_nodes:
    description:
      - On a swarm manager, also read the swarm's node entries (C(docker node inspect),
        trimmed to their ID, version, spec, status, manager status and hostname), so the
        controller can judge M(swarmops.cluster.swarm_node)'s plan without calling it.
    type: bool
    default: false
  stat_paths:
    description:
      - Paths whose owner, group and mode to read even on a network mount (DOCKERDIR and
        its subdirectories), by one C(stat) bounded by a 5 s timeout.
    type: list
    elements: path
    default: []
notes:
  - Supports check mode; it never changes anything.
  - The docker CLI is asked with C(LANG=C) and C(--format) JSON output.
author:
  - swarmops.cluster contributors (@swarmops)
"""

EXAMPLES = r"""
- name: Learn what preflight needs, in one round trip per host
  swarmops.cluster.node_facts:
    packages: [docker.io, python3-docker]

- name: Refuse a node that is already in a swarm
  ansible.builtin.assert:
    that: ansible_facts.swarmops_node.engine.swarm.state | default('inactive') == 'inactive'
"""

RETURN = r"""
ansible_facts:
  description: Facts set on the host.
  returned: always
  type: dict
  contains:
    os_family:
      description: As M(ansible.builtin.setup) reports it; so are C(distribution),
        C(distribution_release), C(distribution_version), C(distribution_major_version).
      type: str
    all_ipv4_addresses:
      description: IPv4 addresses configured on the host (loopback left out).
      type: list
    all_ipv6_addresses:
      description: IPv6 addresses configured on the host (loopback left out).
      type: list
    swarmops_node:
      description: The node's state.
      type: dict
      contains:
        hostname:
          description: The host's name.
          type: str
        fqdn:
          description: The host's fully qualified name as its resolver gives it.
          type: str
        addresses:
          description: Every address configured on the host (IPv4 and IPv6, no loopback).
          type: list
        hosts_file:
          description: C(/etc/hosts) - C(text), C(uid), C(gid), C(mode); null when missing.
            The hosts role judges its block from it on the controller.
          type: dict
        interfaces:
          description: Each interface (loopback left out) and its addresses with prefix
            length (C(10.0.0.5/24)); macvlan parents and host networks are judged on it.
          type: dict
        networks:
          description: With O(networks), the engine's networks (C(name), C(id), C(driver),
            C(scope), C(ingress), C(config_only), C(config_from), C(subnets), C(labels));
            null otherwise.
          type: list
        firewall:
          description: With O(firewall), C(installed) (nft), C(hash) (of the table file),
            C(loaded) (the loaded table's hash), C(file), C(unit), C(unit_ok), C(enabled),
            C(brick_ports) ([base, max]) and C(ssh_client); null otherwise.
          type: dict
        engine:
          description: C(installed), C(answering), C(error), C(version), C(service)
            (C(loaded), C(active), C(enabled)), C(swarm) (state, node_id, node_addr,
            is_manager, cluster_id, manager_addrs, error, hostname; null when the engine
            does not answer) and, with O(swarm_nodes), C(swarm_nodes) (the swarm's node
            entries on a manager, null elsewhere).
          type: dict
        daemon_json:
          description: C(exists), C(content) (parsed), C(error) (why it is not JSON),
            C(mode), C(owner_root).
          type: dict
        group:
          description: C(name), C(exists), C(gid), C(members), C(error) (an unusable entry).
          type: dict
        group_gids:
          description: Every group in C(/etc/group) and its GID.
          type: dict
        packages:
          description: C(installed) and C(missing) lists.
          type: dict
        gluster:
          description: C(installed), C(answering), C(error), C(pool) (peers - uuid,
            hostname, hostnames, connected, state, state_str, self) and C(volumes) (name,
            id, status, type, replica, arbiter, bricks, options); null unless O(gluster).
          type: dict
        paths:
          description: Per path of O(paths) - C(exists), C(entries), C(volume_id) (hex),
            C(kind) (C(dir), C(missing) or C(other)), C(mount) (C(source), C(fstype) of
            what is mounted exactly there, or null),
            C(filesystem) (the mount point of the mount holding the path, or that would hold
            it when missing; C(/) is the root filesystem) and C(unmounted) (mount points of
            C(/etc/fstab) at or above the path that are not mounted) and C(fstab_lines) (the
            active C(/etc/fstab) lines of exactly that mount point, as they are - the
            glusterfs role judges its mount from them with the mount module's planner).
          type: dict
        stats:
          description: Per path of O(stat_paths) - C(kind) (as stat names it, C(directory)),
            C(uid), C(gid), C(mode) (octal, four digits), or null when missing; the whole
            is null when stat did not answer within its timeout.
          type: dict
"""

import socket

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.facts.system.distribution import DistributionFactCollector
from ansible_collections.swarmops.cluster.plugins.module_utils._common import read_text
from ansible_collections.swarmops.cluster.plugins.module_utils._firewall import (
    read_state, summarize, unit_text)
from ansible_collections.swarmops.cluster.plugins.module_utils._node_facts import (
    parse_group_file, parse_group_gids, parse_ip_addr, read_daemon_json, read_engine,
    read_file_state, read_gluster, read_networks, read_packages, read_paths, read_stats,
    read_swarm_nodes, run_cli)

ARGUMENT_SPEC = {
    "packages": {"type": "list", "elements": "str", "default": []},
    "group": {"type": "str", "default": "docker"},
    "daemon_json": {"type": "path", "default": "/etc/docker/daemon.json"},
    "gluster": {"type": "bool", "default": False},
    "paths": {"type": "list", "elements": "path", "default": []},
    "networks": {"type": "bool", "default": False},
    "firewall": {"type": "bool", "default": False},
    "swarm_nodes": {"type": "bool", "default": False},
    "stat_paths": {"type": "list", "elements": "path", "default": []},
}


def main():
    """Read everything once and report it as facts; never change anything."""
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    facts = DistributionFactCollector().collect(module=module)
    rc, out, err = run_cli(module, ["ip", "-j", "addr", "show"])
    if rc != 0:
        module.fail_json(msg="cannot list the host's addresses: %s; install iproute2" % err,
                         cmd="ip -j addr show", rc=rc, stderr=err)
    facts.update(parse_ip_addr(out))
    group_file = read_file_state("/etc/group") or {"text": ""}
    group = dict(parse_group_file(group_file["text"], params["group"]), name=params["group"])
    fstab = read_text("/etc/fstab")
    engine = read_engine(module)
    if params["swarm_nodes"]:
        engine["swarm_nodes"] = read_swarm_nodes(module, engine["swarm"])
    facts["swarmops_node"] = {
        "hostname": socket.gethostname(),
        "fqdn": socket.getfqdn(),
        "hosts_file": read_file_state("/etc/hosts"),
        "addresses": facts["all_ipv4_addresses"] + facts["all_ipv6_addresses"],
        "engine": engine,
        "daemon_json": dict(read_daemon_json(params["daemon_json"]),
                            path=params["daemon_json"]),
        "group": group,
        "group_gids": parse_group_gids(group_file["text"]),
        "packages": read_packages(module, params["packages"]),
        "gluster": read_gluster(module) if params["gluster"] else None,
        "paths": read_paths(params["paths"], fstab),
        "stats": read_stats(module, params["stat_paths"]),
        "interfaces": facts.pop("interfaces"),
        "networks": read_networks(module) if params["networks"] else None,
        "firewall": (summarize(read_state(module), unit_text(module))
                     if params["firewall"] else None),
    }
    module.exit_json(changed=False, ansible_facts=facts)


if __name__ == "__main__":
    main()
