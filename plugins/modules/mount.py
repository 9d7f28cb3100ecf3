#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A GlusterFS or NFS mount: one exact fstab line, mounted, ordered right at boot."""

from __future__ import annotations

DOCUMENTATION = r"""
module: mount
short_description: One exact fstab line for a GlusterFS or NFS mount, and the mount itself
version_added: 0.1.0
description:
  - Keeps exactly one active fstab line for the mount point. The first older line for the
    same path is replaced in its place and further ones are removed; comments, blank lines,
    commented-out lines (also for this path) and other mount points stay byte for byte.
  - The line is C(SRC PATH FSTYPE OPTIONS DUMP PASSNO), fields separated by one space.
    The line is compared as text, so a line that differs only in spacing or option order
    is rewritten.
  - O(src) and O(path) with a space, tab or backslash are refused - fstab would need
    C(\040) escapes, and C(mount.glusterfs) cannot mount such a path. Existing lines and
    mounts with escapes are read correctly (and can be removed with O(state=absent)).
  - Mounts, unmounts, and checks afterwards in C(/proc/self/mountinfo) that the expected
    source is mounted. Something else mounted at the path is refused before anything
    changes.
  - When the line of a mounted path changes its source, type or a runtime option, unmounts
    and mounts again (glusterfs has no C(-o remount)). The unmount runs before fstab is
    written, so a busy mount point fails the run with fstab unchanged. Options read only
    when a mount starts or at boot (C(_netdev), C(x-systemd.*), C(backup-volfile-servers=),
    C(nofail), C(noauto)) are written for the next mount without a remount.
  - A glusterfs server, too, only hands out the volume file when the mount starts; the
    same volume mounted from another server (one that has died or left the pool) is the
    expected mount, and a new server is written to fstab without a remount.
  - For glusterfs it adds C(_netdev); for a mount from the node's own glusterd (C(localhost),
    C(127.0.0.1), C(::1) or one of the node's names or addresses)
    C(x-systemd.requires=glusterd.service), so the mount waits for glusterd at boot; and
    C(backup-volfile-servers=) from O(backup_volfile_servers). These come first, then
    O(opts) in their order; an option given twice is written once.
  - Malformed options are refused before anything changes - empty items, spaces or commas
    in an item, an empty key, one key with two values, options that contradict (C(ro) and
    C(rw), C(soft) and C(hard), ...).
  - Backs fstab up before changing it, and runs C(systemctl daemon-reload) after when
    systemd is PID 1, so the generated C(.mount) unit matches the line.
options:
  path:
    description: The mount point, an absolute path without spaces. Created with mode 0755
      when missing.
    type: path
    required: true
  src:
    description:
      - C(host:/volume) (glusterfs) or C(host:/export) (nfs, nfs4).
      - Needed for O(state=mounted) and O(state=present). With O(state=unmounted) it also
        makes the line exact; without it fstab is left as it is. Given with
        O(state=unmounted) or O(state=absent), a different source mounted at the path is
        refused rather than unmounted.
    type: str
  fstype:
    description: The filesystem type.
    type: str
    choices: [glusterfs, nfs, nfs4]
    default: glusterfs
  opts:
    description:
      - Mount options, one per item (C(vers=4.2), C(soft), C(timeo=600)); written after the
        ones the module adds. C(defaults) is written only when the field would be empty.
      - C(backup-volfile-servers=) and C(backupvolfile-server=) are refused here for
        glusterfs; use O(backup_volfile_servers).
    type: list
    elements: str
    default: [defaults]
  backup_volfile_servers:
    description:
      - Other glusterfs servers that serve the volume's layout when the source's server is
        down at mount time (written C(backup-volfile-servers=a:b), so host names or IPv4
        addresses only).
      - Listing the source's own server is refused (with a local source, any of the node's
        own names) - it adds no redundancy.
    type: list
    elements: str
    default: []
  requires_units:
    description:
      - systemd units the mount requires and starts after at boot, one
        C(x-systemd.requires=) each (Requires= plus After=).
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
      - V(mounted) - the line is there and mounted.
      - V(present) - the line only; a mounted path is not remounted.
      - V(unmounted) - not mounted; the line stays (made exact when O(src) is given).
      - V(absent) - no line for the path, not mounted.
    type: str
    choices: [mounted, present, unmounted, absent]
    default: mounted
  fstab:
    description: The fstab file.
    type: path
    default: /etc/fstab
  backup:
    description: Copy fstab to a timestamped backup next to it before changing it.
    type: bool
    default: true
  timeout:
    description: Seconds a mount or umount may take before it is killed and the run fails
      (C(mount) waits on servers that do not answer).
    type: int
    default: 60
notes:
  - Supports check mode and diff mode (a unified diff of fstab). Check mode reports exactly
    the actions a real run takes.
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

- name: Take the mount and its line away
  swarmops.cluster.mount:
    path: /mnt/media
    state: absent
"""

RETURN = r"""
actions:
  description:
    - What was done (or would be, in check mode), in the order it runs. C(action) is one of
      C(umount), C(remount), C(fstab), C(mkdir), C(mount).
  returned: always
  type: list
  elements: dict
  sample: [{"action": "fstab", "fstab": "/etc/fstab",
            "line": "localhost:/gv /opt/docker glusterfs _netdev 0 0"},
           {"action": "mkdir", "path": "/opt/docker", "mode": "0755"},
           {"action": "mount", "path": "/opt/docker", "src": "localhost:/gv"}]
line:
  description: The fstab line of the mount point; null with O(state=absent), or
    O(state=unmounted) without O(src).
  returned: always
  type: str
  sample: "localhost:/gv /opt/docker glusterfs _netdev,x-systemd.requires=glusterd.service 0 0"
mounted:
  description: C(source) and C(fstype) (as mountinfo names it, C(fuse.glusterfs) for
    glusterfs) of what is mounted at the path afterwards; null if nothing.
  returned: always
  type: dict
  sample: {"source": "localhost:/gv", "fstype": "fuse.glusterfs"}
backup_file:
  description: The fstab backup made before the change.
  returned: when fstab changed and O(backup=true)
  type: str
  sample: /etc/fstab.12345.2024-05-01@10:00:00~
diff:
  description: fstab before and after, with its path as the headers.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.cluster.plugins.module_utils._mount import (
    ARGUMENT_SPEC, PlanError, apply_actions, plan_mount, predicted_mount, read_mount,
    read_path_kind, read_text, render_line)
from ansible_collections.swarmops.cluster.plugins.module_utils._node_facts import own_names


def read_current(module, params):
    """fstab, the mount at the path, whether the path exists, and this node's names (only
    a glusterfs mount asks whether its server is local)."""
    return {"fstab": read_text(params["fstab"]), "mount": read_mount(params["path"]),
            "path_kind": read_path_kind(params["path"]),
            "own": own_names(module) if params["fstype"] == "glusterfs" else []}


def main():
    """Read fstab and the mount, plan, apply unless check mode, report."""
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
                           required_if=[("state", "mounted", ("src",)),
                                        ("state", "present", ("src",))])
    params = module.params
    params["path"] = params["path"].rstrip("/") or "/"
    current = read_current(module, params)
    try:
        actions, after = plan_mount(current, params)
    except PlanError as err:
        module.fail_json(msg=str(err), actions=[])
    result = {"changed": bool(actions), "actions": actions,
              "line": render_line(params, current["own"]),
              "mounted": predicted_mount(params, current["mount"]),
              "diff": {"before": current["fstab"], "after": after,
                       "before_header": params["fstab"], "after_header": params["fstab"]}}
    if actions and not module.check_mode:
        result.update(apply_actions(module, params, actions, after))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
