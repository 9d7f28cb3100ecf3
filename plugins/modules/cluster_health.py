#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Judge the cluster's health from one node: swarm, GlusterFS volume, mounts."""

from __future__ import annotations

DOCUMENTATION = r"""
module: cluster_health
short_description: Report the health of the swarm, its GlusterFS volume and the shared mounts
version_added: 0.1.0
description:
  - One read-only pass over what this node is asked to judge, and a verdict - the swarm's
    nodes and services (on a manager), a GlusterFS volume through this node's C(glusterd),
    and the shared mounts on this node, each checked with a write-read probe.
  - Swarm nodes - a node that is not ready, a manager that is not reachable, or no leader
    are problems; a drained or paused node and engines of different versions are warnings.
  - Services - every service whose tasks have not converged (as M(swarmops.cluster.stack)
    judges it - desired against running, failing slots, stuck updates) is a problem, with its
    tasks' latest errors.
  - GlusterFS - a disconnected peer, a missing or stopped volume, a brick offline, entries
    pending heal or in split-brain, and a brick filesystem fuller than O(disk_fail) percent
    are problems; fuller than O(disk_warn) percent is a warning.
  - Mounts - nothing mounted, something other than a GlusterFS (C(fuse.glusterfs)) or NFS
    mount, or a failed probe is a problem.
  - What cannot be read (an engine or C(glusterd) that does not answer, a worker asked for
    the swarm) is a problem, not a failure - the module fails only on bad options.
  - The C(swarmops.cluster.health_report) filter merges the results of several hosts into
    one report (C(playbooks/health.yml) does).
extends_documentation_fragment:
  - swarmops.cluster.engine
options:
  swarm:
    description:
      - Read the swarm's nodes and services from this node's engine. This node must be a
        manager; on a worker, or outside a swarm, that is reported as a problem.
    type: bool
    default: true
  volume:
    description:
      - A GlusterFS volume to judge, read through this node's C(glusterd) (C(pool list),
        C(volume info), C(volume status VOLUME detail), C(volume heal VOLUME info) and
        C(info split-brain)).
      - Not given - no volume is read.
    type: str
  mounts:
    description:
      - Mount points on this node that must have the shared volume mounted (GlusterFS or
        NFS).
    type: list
    elements: path
    default: []
  probe:
    description:
      - Probe each mounted mount point - write a small file of random content named
        C(.swarmops-health-HOSTNAME) in it, read it back, compare, remove it.
      - The probe runs in a child process, so a hung FUSE mount cannot hang the module; it
        runs in check mode too and leaves nothing behind.
    type: bool
    default: true
  probe_timeout:
    description:
      - Seconds each probe may take. A probe that did not finish is reported as a problem
        and its process left to end by itself (a process stuck on a hung mount cannot be
        waited for).
    type: int
    default: 10
  disk_warn:
    description: Percent of a brick's filesystem in use above which it is a warning.
    type: int
    default: 85
  disk_fail:
    description: Percent of a brick's filesystem in use above which it is a problem.
    type: int
    default: 95
  leaving:
    description:
      - Hosts (swarm hostname, address, or the name the pool knows) being taken out of the
        cluster. Their swarm entries and pool peers are not judged. C(replace_node.yml)
        waits for the heal while the dead node it replaces is still listed.
    type: list
    elements: str
    default: []
  wait_timeout:
    description:
      - Read again (every 2 seconds) until what this node reads is healthy, up to this many
        seconds; then report as it is. C(0) reads once. The day-2 playbooks wait with it
        between nodes (services converged again, heal at 0 pending).
    type: int
    default: 0
  host:
    description:
      - How the report names this node in the mount entries and their problems (the
        playbook passes the inventory name).
      - Not given - the node's host name.
    type: str
  backup_record:
    description:
      - The file in which C(playbooks/backup.yml) records its last run on the node it ran
        on. Read as it is (a missing file is no record) and returned as C(health.backup_record);
        the C(swarmops.cluster.health_report) filter judges the newest record of all nodes
        (a failed last run, or a last success older than C(swarmops_backup_max_age)).
      - Not given - no backup record is read.
    type: path
notes:
  - Supports check mode; it never changes anything (C(changed) is always false).
  - Gluster is asked with C(LANG=C) and C(--xml); the engine through the Python docker SDK,
    which is needed only with O(swarm).
author:
  - swarmops.cluster contributors (@swarmops)
"""

EXAMPLES = r"""
- name: Judge the whole swarm and the shared volume from the first manager
  swarmops.cluster.cluster_health:
    volume: dockerdir
    mounts: [/opt/docker]
  register: health
  become: true

- name: Show the report
  ansible.builtin.debug:
    msg: "{{ health.table.splitlines() }}"

- name: Only check the mount on a worker, without the probe
  swarmops.cluster.cluster_health:
    swarm: false
    mounts: [/opt/docker]
    probe: false
  become: true
"""

RETURN = r"""
health:
  description: What was read, by section.
  returned: always
  type: dict
  contains:
    nodes:
      description: Every swarm node (C(hostname), C(id), C(role), C(state), C(message),
        C(availability), C(reachability), C(leader), C(engine_version), C(address)); null
        when the swarm was not read.
      type: list
      elements: dict
    services:
      description: Every service's convergence (C(name), C(mode), C(desired), C(running),
        C(completed), C(state) - converged, pending or failed - and C(errors), its tasks'
        latest errors); null when the swarm was not read.
      type: list
      elements: dict
    gluster:
      description: With O(volume) - C(volume), C(exists) (null when glusterd did not
        answer), C(status), C(type), C(replica), C(arbiter), C(peers) (C(hostname),
        C(connected), C(self), C(state)), C(bricks) (C(name), C(host), C(path), C(arbiter),
        C(online), C(heal_pending), C(split_brain) - null where glusterd could not ask the
        brick - C(size_total), C(size_free) in bytes, C(used_percent)) and C(errors) (what
        could not be read); null otherwise.
      type: dict
    mounts:
      description: Per mount point of O(mounts) - C(host), C(path), C(mounted), C(fstype),
        C(source) and C(probe) (C(ok), why it failed, or null when not probed).
      type: list
      elements: dict
    backup_record:
      description: With O(backup_record), the node's record - C(last_run) (C(time),
        C(result) C(ok) or C(failed), C(error), C(snapshots)) and C(last_ok) (C(time),
        C(snapshots)) - and C(host); C(error) alone when the file does not parse; null
        where no backup ran on this node.
      type: dict
  sample:
    nodes:
      - hostname: node1
        id: 2uykvhcc4vyfkbpgdwfjvckq8
        role: manager
        state: ready
        message: null
        availability: active
        reachability: reachable
        leader: true
        engine_version: 20.10.24+dfsg1
        address: 10.213.0.11
    services:
      - {name: web_web, mode: global, desired: 5, running: 5, completed: 0,
         state: converged, errors: []}
    gluster: null
    mounts:
      - {host: node1, path: /opt/docker, mounted: true, fstype: fuse.glusterfs,
         source: "localhost:/dockerdir", probe: ok}
problems:
  description: What makes the cluster unhealthy; each names what is wrong and where.
  returned: always
  type: list
  elements: str
  sample:
    - "node node3: down (heartbeat failure)"
    - "service web_web: 1/2 running (failed): No such image: example/web:2"
    - "volume dockerdir: brick 10.213.0.13:/srv/gluster/dockerdir/brick offline"
    - "mount /opt/docker on node4: not mounted"
health_warnings:
  description:
    - What does not make the cluster unhealthy but deserves a look (drained nodes, engine
      version skew, bricks filling up).
    - Not called C(warnings) - Ansible takes a module's C(warnings) for its own display and
      drops it from the result.
  returned: always
  type: list
  elements: str
  sample: ["node node2: availability drain (its tasks moved away and it gets no new ones)"]
waited:
  description: Seconds spent reading again until healthy (0 when healthy at once).
  returned: always
  type: float
healthy:
  description: No problems.
  returned: always
  type: bool
table:
  description:
    - The report as fixed-width text - sections NODES, SERVICES, GLUSTER and MOUNTS, the
      problems and warnings, and as the last line C(healthy) or
      C(UNHEALTHY) followed by the number of problems.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.cluster.plugins.module_utils._docker_api import (
    ENGINE_ARGUMENT_SPEC)
from ansible_collections.swarmops.cluster.plugins.module_utils._health import (
    check_params, wait_healthy)

ARGUMENT_SPEC = dict(
    ENGINE_ARGUMENT_SPEC,
    swarm={"type": "bool", "default": True},
    volume={"type": "str"},
    mounts={"type": "list", "elements": "path", "default": []},
    probe={"type": "bool", "default": True},
    probe_timeout={"type": "int", "default": 10},
    disk_warn={"type": "int", "default": 85},
    disk_fail={"type": "int", "default": 95},
    host={"type": "str"},
    wait_timeout={"type": "int", "default": 0},
    leaving={"type": "list", "elements": "str", "default": []},
    backup_record={"type": "path"},
)


def main():
    """Read what the options ask for, judge it, report; never change anything."""
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    problems = check_params(module.params)
    if problems:
        module.fail_json(msg="; ".join(problems))
    report, waited = wait_healthy(module, module.params["wait_timeout"])
    module.exit_json(changed=False, health=report["health"], problems=report["problems"],
                     health_warnings=report["warnings"], healthy=report["healthy"],
                     table=report["table"], waited=waited)


if __name__ == "__main__":
    main()
