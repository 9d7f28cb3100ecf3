#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A GlusterFS or NFS mount: one exact fstab line, mounted, ordered right at boot."""

from __future__ import annotations

DOCUMENTATION = r"""
module: mount
short_description: One exact fstab line for a GlusterFS or NFS mount, and the mount itself
version_added: 0.2.0
description:
  - Keeps exactly one active fstab line for the mount point - an older line for the same
    path is replaced in its place, duplicates are removed; comments, blank lines,
    commented-out lines and other mount points stay byte for byte.
  - Mounts, unmounts, and checks that what is mounted at the path is the expected source.
    Something else mounted there is refused before anything changes.
  - When a line change alters the live mount (source, type or a runtime option), unmounts
    and mounts again - glusterfs has no C(-o remount). Options read only at mount time or
    boot (C(_netdev), C(x-systemd.*), C(backup-volfile-servers=)) are written for the
    next mount without a remount.
  - For glusterfs it adds C(_netdev); for a mount from the node's own glusterd (C(localhost)
    or one of its names or addresses) C(x-systemd.requires=glusterd.service), so the mount
    waits for glusterd at boot; and C(backup-volfile-servers=) from
    O(backup_volfile_servers).
  - Backs fstab up before changing it, and reloads systemd after, so the generated
    C(.mount) unit matches the line.
options:
  path:
    description: The mount point.
    type: path
    required: true
  src:
    description: C(host:/volume) (glusterfs) or C(host:/export) (nfs, nfs4). Needed unless
      O(state=unmounted) or O(state=absent).
    type: str
  fstype:
    description: The filesystem type.
    type: str
    choices: [glusterfs, nfs, nfs4]
    default: glusterfs
  opts:
    description: Mount options, one per item (C(vers=4.2), C(soft), C(timeo=600)); written
      after the ones the module adds.
    type: list
    elements: str
    default: [defaults]
  backup_volfile_servers:
    description: Other glusterfs servers that serve the volume's layout when the
      source's host is down at mount time; never the source's own host.
    type: list
    elements: str
    default: []
  requires_units:
    description:
      - systemd units the mount requires and starts after at boot (C(x-systemd.requires=)).
      - Unset - C(glusterd.service) for a glusterfs mount from the node's own glusterd,
        none otherwise. C([]) adds none.
    type: list
    elements: str
  dump:
    description: fstab's dump field.
    type: int
    default: 0
  passno:
    description: fstab's fsck pass field.
    type: int
    default: 0
  state:
    description:
      - V(mounted) - the line is there and mounted; V(present) - the line only;
        V(unmounted) - the line stays, not mounted; V(absent) - no line, not mounted.
    type: str
    choices: [mounted, present, unmounted, absent]
    default: mounted
  fstab:
    description: The fstab file.
    type: path
    default: /etc/fstab
  backup:
    description: Copy fstab to a timestamped backup before changing it.
    type: bool
    default: true
  timeout:
    description: Seconds a mount or umount may take before it is given up.
    type: int
    default: 60
notes:
  - Supports check mode and diff mode (a unified diff of fstab).
author:
  - swarmops.cluster contributors (@swarmops)
"""

EXAMPLES = r"""
- name: The shared volume from the node's own glusterd, the other storage nodes as backups
  swarmops.cluster.mount:
    path: /opt/docker
    src: localhost:/dockerdir
    fstype: glusterfs
    backup_volfile_servers: [10.0.0.12, 10.0.0.13]

- name: NFS-backed storage
  swarmops.cluster.mount:
    path: /mnt/media
    src: nas.example.org:/export/media
    fstype: nfs4
    opts: [vers=4.2, soft, timeo=600, retrans=2]
"""

RETURN = r"""
actions:
  description: What was done (or would be, in check mode), in order.
  returned: always
  type: list
  elements: dict
  sample: [{"action": "fstab", "line": "localhost:/dockerdir /opt/docker glusterfs ..."},
           {"action": "mount", "path": "/opt/docker"}]
line:
  description: The fstab line of the mount point; null when O(state=absent).
  returned: always
  type: str
mounted:
  description: C(source) and C(fstype) of what is mounted at the path afterwards; null if
    nothing.
  returned: always
  type: dict
backup_file:
  description: The fstab backup made before the change.
  returned: when fstab changed and O(backup=true)
  type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.swarmops.cluster.plugins.module_utils._mount import (
    PlanError, apply_mount_actions, plan_mount, read_mount, read_text, render_line,
    write_fstab)
from ansible_collections.swarmops.cluster.plugins.module_utils._node_facts import own_names

ARGUMENT_SPEC = {
    "path": {"type": "path", "required": True},
    "src": {"type": "str"},
    "fstype": {"type": "str", "choices": ["glusterfs", "nfs", "nfs4"], "default": "glusterfs"},
    "opts": {"type": "list", "elements": "str", "default": ["defaults"]},
    "backup_volfile_servers": {"type": "list", "elements": "str", "default": []},
    "requires_units": {"type": "list", "elements": "str"},
    "dump": {"type": "int", "default": 0},
    "passno": {"type": "int", "default": 0, "no_log": False},
    "state": {"type": "str", "default": "mounted",
              "choices": ["mounted", "present", "unmounted", "absent"]},
    "fstab": {"type": "path", "default": "/etc/fstab"},
    "backup": {"type": "bool", "default": True},
    "timeout": {"type": "int", "default": 60},
}


def main():
    """Read fstab and the mount, plan, apply unless check mode, report."""
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
                           required_if=[("state", "mounted", ("src",)),
                                        ("state", "present", ("src",))])
    params = module.params
    params["path"] = params["path"].rstrip("/") or "/"
    own = own_names(module)
    before = read_text(params["fstab"])
    mount = read_mount(params["path"])
    try:
        actions, after = plan_mount(params, before, mount, own)
    except PlanError as err:
        module.fail_json(msg=str(err), actions=[])
    result = {"changed": bool(actions), "actions": actions,
              "line": render_line(params, own) if params["state"] != "absent" else None,
              "diff": {"before": before, "after": after, "before_header": params["fstab"],
                       "after_header": params["fstab"]}}
    if actions and not module.check_mode:
        if after != before:
            if params["backup"] and before:
                result["backup_file"] = module.backup_local(params["fstab"])
            write_fstab(module, params["fstab"], after)
        mount = apply_mount_actions(module, params, actions)
    result["mounted"] = {"source": mount["source"], "fstype": mount["fstype"]} \
        if mount and not (module.check_mode and params["state"] in ("unmounted", "absent")) \
        else None
    module.exit_json(**result)


if __name__ == "__main__":
    main()
