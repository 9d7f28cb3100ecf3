"""The htpasswd filter: a bcrypt line whose salt tells nothing about the password."""

import hashlib
import hmac

import bcrypt
import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.swarmops.cluster.plugins.filter.htpasswd import (
    BCRYPT_ALPHABET, htpasswd)

KEY = "lab-object-key-0123456789"


def salt_of(line):
    """The 22 salt characters of a $2b$ line."""
    return line.split(":", 1)[1][7:29]


def test_the_line_verifies_with_bcrypt():
    line = htpasswd("admin", "correct horse", KEY)
    user, hashed = line.split(":", 1)
    assert user == "admin" and hashed.startswith("$2b$10$")
    assert bcrypt.checkpw(b"correct horse", hashed.encode())
    assert not bcrypt.checkpw(b"wrong horse", hashed.encode())


def test_a_keyed_line_is_stable_and_its_salt_ignores_the_password():
    assert htpasswd("admin", "pw-one", KEY) == htpasswd("admin", "pw-one", KEY)
    assert salt_of(htpasswd("admin", "pw-one", KEY)) == salt_of(htpasswd("admin", "pw-two", KEY))
    assert salt_of(htpasswd("admin", "pw-one", KEY)) != salt_of(htpasswd("ops", "pw-one", KEY))
    assert salt_of(htpasswd("admin", "pw-one", KEY)) != \
        salt_of(htpasswd("admin", "pw-one", KEY + "x"))


def test_the_salt_gives_no_cheap_test_of_a_guess():
    # The old salt was an HMAC keyed with the password: one HMAC per guess told a match
    # without bcrypt. Nothing computed from the password alone may give the salt now.
    password = "pw-one"
    salt = salt_of(htpasswd("admin", password, KEY))
    for prefix in (b"swarmops-htpasswd:", b"swarmops-htpasswd-salt:"):
        digest = hmac.new(password.encode(), prefix + b"admin", hashlib.sha256).digest()
        guess = "".join(BCRYPT_ALPHABET[b % 64] for b in digest[:21])
        assert not salt.startswith(guess)


def test_without_a_key_the_salt_is_random():
    assert htpasswd("admin", "pw-one") != htpasswd("admin", "pw-one")


@pytest.mark.parametrize("user, password", [("admin", ""), ("", "pw"), ("a:b", "pw")])
def test_bad_input_is_refused(user, password):
    with pytest.raises(AnsibleFilterError):
        htpasswd(user, password, KEY)
