# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The firewall role's controller-side judgements, from preflight's one read."""

from __future__ import annotations

from ansible_collections.swarmops.cluster.plugins.module_utils._firewall import (
    is_current, spec_problems)


def firewall_current(summary, spec, state="present"):
    """Whether the node's table already is what spec and state make."""
    return is_current(summary, spec, state)


def firewall_problems(spec, host, ssh_client=None):
    """Why a host's firewall spec would break the cluster or lock the controller out."""
    return spec_problems(spec, host, ssh_client)


class FilterModule:
    """swarmops.cluster's firewall filters."""

    def filters(self):
        """The filters by name."""
        return {"firewall_current": firewall_current, "firewall_problems": firewall_problems}
