# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""swarmops.cluster.vault_file: a secret kept on the controller, ansible-vault encrypted.

Encrypted and decrypted in memory with the run's own vault secrets (--vault-id,
--vault-password-file, --ask-vault-pass, as Ansible already takes them): the clear text
never touches the disk and is never returned.
"""

from __future__ import annotations

import os
import tempfile

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.parsing.vault import VaultLib, is_encrypted, match_encrypt_secret
from ansible.plugins.action import ActionBase

NO_SECRET = ("%s: no vault password in this run to encrypt it with; give one as for any "
             "vaulted variable (--vault-id, --vault-password-file or --ask-vault-pass)")


class ActionModule(ActionBase):
    """Check, write or compare a vault-encrypted file on the controller."""

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("path", "content", "state", "mode"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        path, state = args.get("path"), args.get("state", "present")
        if not path or state not in ("present", "check"):
            raise AnsibleActionFail("vault_file: no path given (for the swarm's unlock key: set "
                                    "swarmops_swarm_unlock_key_file), or a state other than "
                                    "present or check")
        vault = self.vault(path)
        current = self.read(vault, path)
        result.update(changed=False, path=path, exists=current is not None)
        if state == "check":
            return result
        if args.get("content") in (None, ""):
            raise AnsibleActionFail("vault_file: %s: content is empty" % path)
        content = to_bytes(args["content"])
        if current == content:
            return result
        result["changed"] = True
        if not self._task.check_mode:
            write(path, vault, content, int(str(args.get("mode", "0600")), 8))
        return result

    def vault(self, path):
        """The loader's vault, which holds the run's secrets; refused without one."""
        vault = getattr(self._loader, "_vault", None)
        if vault is None or not vault.secrets:
            raise AnsibleActionFail(NO_SECRET % path)
        return vault

    @staticmethod
    def read(vault, path):
        """The decrypted content of path, or None when it does not exist."""
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except FileNotFoundError:
            return None
        if not is_encrypted(data):
            raise AnsibleActionFail("%s exists and is not vault-encrypted; move it away, it "
                                    "must never hold the secret in clear" % path)
        try:
            return vault.decrypt(data)
        except AnsibleError as err:
            raise AnsibleActionFail("%s: %s; give the vault password that encrypted it"
                                    % (path, to_text(err))) from err


def write(path, vault, content, mode):
    """Encrypt with the run's encrypt secret and replace path atomically (a temporary file
    beside it, created with mode, then a rename)."""
    try:
        vault_id, secret = match_encrypt_secret(vault.secrets)
    except AnsibleError as err:
        raise AnsibleActionFail(NO_SECRET % path) from err
    data = VaultLib().encrypt(content, secret, vault_id=vault_id)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, mode=0o700, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=folder, prefix=".vault_file-")
    try:
        os.fchmod(handle, mode)
        os.write(handle, data)
        os.fsync(handle)
    finally:
        os.close(handle)
    os.rename(temp, path)
