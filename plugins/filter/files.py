# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Judgements of files read by node_facts, on the controller."""

from __future__ import annotations

from ansible_collections.swarmops.cluster.plugins.plugin_utils._files import (
    block_in_place, dirs_in_place, mount_in_place)


def managed_block_in_place(state, marker, block, mode="0644"):
    """Whether ansible.builtin.blockinfile would leave the file as it is."""
    return block_in_place(state, marker, block, mode)


def mount_in_place_filter(path_state, node, params):
    """Whether the mount module would leave a mount point as node_facts read it."""
    own = [node.get("hostname"), node.get("fqdn")] + list(node.get("addresses") or [])
    return mount_in_place(path_state, [name for name in own if name], params)


def directories_in_place(stats, base, entries, gid):
    """Whether ansible.builtin.file would leave the directories as node_facts read them."""
    return dirs_in_place(stats, base, entries, gid)


class FilterModule:
    """swarmops.cluster's file filters."""

    def filters(self):
        """The filters by name."""
        return {"managed_block_in_place": managed_block_in_place,
                "mount_in_place": mount_in_place_filter,
                "directories_in_place": directories_in_place}
