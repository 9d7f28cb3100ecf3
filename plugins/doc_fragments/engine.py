# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options every module that talks to the node's Docker engine shares."""

from __future__ import annotations


class ModuleDocFragment:
    """The engine connection options."""

    DOCUMENTATION = r"""
options:
  docker_host:
    description:
      - The engine API socket or URL on the managed node.
    type: str
    default: unix:///var/run/docker.sock
  timeout:
    description:
      - Seconds to wait for one engine API call.
    type: int
    default: 60
requirements:
  - Python docker SDK on the managed node (Debian package C(python3-docker), installed by the
    C(swarmops.cluster.docker) role).
"""
