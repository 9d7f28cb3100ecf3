#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vault_file
short_description: Keep a secret in an ansible-vault encrypted file on the controller
version_added: 0.1.0
description:
  - Runs on the controller only (an action plugin). Encrypts O(content) with the run's own
    vault secret (C(--vault-id), C(--vault-password-file), C(--ask-vault-pass)) and writes
    it to O(path) - atomically, with O(mode) from the start - only when the file's
    decrypted content differs. The clear text is never written to disk nor returned.
  - The swarm role keeps the swarm's autolock unlock key this way; read it back with
    C(lookup('ansible.builtin.unvault', path)).
  - A file at O(path) that is not vault-encrypted is refused, not overwritten.
options:
  path:
    description: The file on the controller.
    type: path
    required: true
  content:
    description: The secret, with O(state=present). Use C(no_log) on the task.
    type: str
  state:
    description:
      - V(present) writes O(content) when it differs; V(check) only checks that the run
        has a vault secret and that an existing file decrypts with it (a preflight).
    type: str
    choices: [present, check]
    default: present
  mode:
    description: The file's mode.
    type: str
    default: "0600"
notes:
  - Supports check mode.
author:
  - swarmops.cluster contributors (@swarmops)
"""

EXAMPLES = r"""
- name: Keep the unlock key, vault-encrypted
  swarmops.cluster.vault_file:
    path: "{{ inventory_dir }}/swarm-unlock-key.vault"
    content: "{{ key }}"
  no_log: true
"""

RETURN = r"""
exists:
  description: Whether the file existed before the task.
  returned: always
  type: bool
path:
  description: The file.
  returned: always
  type: str
"""
