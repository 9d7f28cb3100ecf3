#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: firewall
short_description: The cluster's own nftables table - cluster ports for cluster members only
version_added: 0.1.0
description:
  - Keeps one nftables table, C(inet swarmops), in C(/etc/swarmops/firewall.nft), loaded
    now and at boot by C(swarmops-firewall.service). The table's input chain lets the
    cluster's members (and only them) reach the cluster's ports, and SSH only from the
    admin sources when any are given. Everything else passes this table untouched.
  - Tables of others (the engine's, iptables' or the host's own) are never read, flushed
    or reordered. Published service ports reach services through the forward hook, which
    this table leaves to the engine; a published port listed in the C(published) key of O(spec) is
    limited to its sources in a prerouting chain ahead of the engine's DNAT.
  - The new file is checked with C(nft -c) before it replaces the old one and is loaded in
    one transaction. Nothing is written or loaded when the file, the unit and the loaded
    table's spec hash already match.
options:
  spec:
    description:
      - The table's content. Keys - C(members) (addresses), C(admin_sources) (addresses or
        networks; empty for anywhere), C(ssh_port), C(tcp_ports) and C(udp_ports) (ports or
        C(LOW-HIGH) ranges that only members may reach), C(esp) (ESP of encrypted overlays
        for members only), C(published) (C(port), C(protocol), C(sources)).
      - With O(members_only), only C(members) is read.
    type: dict
  members_only:
    description:
      - Keep the node's table as it is but for its members (the onboarding run of new
        nodes under C(--limit) lets them in on the nodes outside the limit this way). A
        node without a table of ours is left alone.
    type: bool
    default: false
  state:
    description: C(absent) removes the table, its file and its unit.
    type: str
    choices: [present, absent]
    default: present
author:
  - swarmops.cluster contributors (@swarmops)
"""

EXAMPLES = r"""
- name: Only the cluster's nodes reach its ports
  swarmops.cluster.firewall:
    spec:
      members: [192.0.2.11, 192.0.2.12, 192.0.2.13]
      tcp_ports: [2377, 7946, 24007-24008, 49152-60999]
      udp_ports: [7946, 4789]
"""

RETURN = r"""
actions:
  description: What was done (in check mode, would be done) - write_file, write_unit,
    enable_unit, load, unload, remove_unit, remove_file.
  returned: always
  type: list
  elements: dict
hash:
  description: The spec hash the loaded table carries as its comment.
  returned: when state is present
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.cluster.plugins.module_utils._firewall import (
    FirewallError, apply, members_only, plan, read_state, render, spec_hash, unit_text)

ARGUMENT_SPEC = {
    "spec": {"type": "dict"},
    "members_only": {"type": "bool", "default": False},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
}


def main():
    """Read the node's table, plan, apply unless in check mode."""
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
                           required_if=[("state", "present", ["spec"])])
    params = module.params
    try:
        current = read_state(module)
        desired = params["spec"] if params["state"] == "present" else None
        if params["members_only"]:
            desired = members_only(current, params["spec"].get("members") or [])
        skip = params["members_only"] and desired is None
        actions = [] if skip else plan(current, desired, unit_text(module))
        if actions and not module.check_mode:
            apply(module, actions, desired)
    except FirewallError as err:
        module.fail_json(msg=str(err))
    result = {"changed": bool(actions), "actions": actions,
              "diff": {"before": current["text"] or "",
                       "after": render(desired) if desired else ""}}
    if desired:
        result["hash"] = spec_hash(desired)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
