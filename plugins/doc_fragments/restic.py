# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options every module that opens a restic repository shares."""

from __future__ import annotations


class ModuleDocFragment:
    """The repository and its password."""

    DOCUMENTATION = r"""
options:
  repository:
    description: The restic repository - a path on this node, or any location restic
      takes (C(sftp:user@host:/path), C(rest:https://...), ...).
    type: str
    required: true
  password:
    description: The repository's password. Secret - it goes to restic on stdin.
    type: str
    required: true
requirements:
  - restic on the managed node (Debian package C(restic), installed by the playbooks).
"""
