# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An htpasswd line (bcrypt) for Traefik's basic auth, stable from run to run with a key."""

from __future__ import annotations

import hashlib
import hmac

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_bytes, to_text

try:
    import bcrypt
    HAS_BCRYPT = True
except ImportError:
    HAS_BCRYPT = False

# bcrypt's own base64 alphabet, for a salt of 22 characters.
BCRYPT_ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
ROUNDS = 10


def salt_for(user, key=None):
    """A bcrypt salt: random, or with a key, derived from the key and the user only.

    bcrypt keeps its salt in clear beside the hash, so the salt must tell nothing about the
    password (one derived from the password lets a holder of the hash test a guess with one
    HMAC, skipping bcrypt's cost). A keyed salt is stable from run to run, so the
    content-named secret holding the hash changes only with the password, and it differs
    per user and per cluster (the key is a secret of the cluster).
    """
    if not key:
        return bcrypt.gensalt(ROUNDS)
    digest = hmac.new(to_bytes(key), b"swarmops-htpasswd-salt:" + to_bytes(user),
                      hashlib.sha256).digest()
    chars = "".join(BCRYPT_ALPHABET[byte % 64] for byte in digest[:22])
    # The 22nd character carries only 2 bits: keep it in the set bcrypt emits unchanged.
    chars = chars[:21] + ".Oeu"[digest[21] % 4]
    return ("$2b$%02d$%s" % (ROUNDS, chars)).encode()


def htpasswd(user, password, key=None):
    """``user:bcrypt-hash`` for an htpasswd file (Traefik's basicauth usersfile); stable
    from run to run when a key (a secret of the cluster) is given."""
    if not HAS_BCRYPT:
        raise AnsibleFilterError("the htpasswd filter needs bcrypt on the controller: "
                                 "pip install bcrypt")
    if not password:
        raise AnsibleFilterError("htpasswd: the password for %s is empty; set it (and vault "
                                 "it), e.g. swarmops_core_dashboard_password" % user)
    if ":" in to_text(user) or not user:
        raise AnsibleFilterError("htpasswd: user name %r must be non-empty without ':'" % user)
    hashed = bcrypt.hashpw(to_bytes(password), salt_for(user, key))
    return "%s:%s" % (to_text(user), to_text(hashed))


class FilterModule:
    """swarmops.cluster htpasswd."""

    def filters(self):
        """The filters this plugin provides."""
        return {"htpasswd": htpasswd}
