"""The stack action plugin's controller side: .env files, env_file, content-named objects."""

import base64
import hashlib

import pytest

from ansible_collections.swarmops.cluster.plugins.action import stack as action

ENV = '''# comment
export SITE_NAME="swarmops lab"
QUOTED='single $NOT_EXPANDED'
MULTI="line one
line two"
BASE=/opt
DERIVED=${BASE}/docker
BARE
'''


def test_env_file_parsed_by_python_dotenv(tmp_path):
    path = tmp_path / ".env"
    path.write_text(ENV)
    values = action.read_env_file(str(path))
    assert values == {"SITE_NAME": "swarmops lab", "QUOTED": "single $NOT_EXPANDED",
                      "MULTI": "line one\nline two", "BASE": "/opt",
                      "DERIVED": "/opt/docker"}  # BARE has no value: left out


def test_service_env_files_fold_into_environment(tmp_path):
    (tmp_path / "web.env").write_text("A=from-file\nB=from-file\n")
    compose = {"services": {"web": {"env_file": "web.env", "environment": ["B=explicit"]},
                            "db": {"image": "x"}}}
    action.inline_env_files(compose, str(tmp_path))
    assert compose["services"]["web"] == {"environment": {"A": "from-file", "B": "explicit"}}
    assert compose["services"]["db"] == {"image": "x"}


def test_configs_and_secrets_are_named_after_their_content(tmp_path):
    (tmp_path / "site.conf").write_bytes(b"site = lab\n")
    compose = {"configs": {"site": {"file": "site.conf"}, "ext": {"external": True}},
               "secrets": {"token": {"content": "s3cret", "name": "shared_token"}}}
    configs = action.content_named("web", compose, "configs", str(tmp_path))
    secrets = action.content_named("web", compose, "secrets", str(tmp_path))
    digest = hashlib.sha256(b"site = lab\n").hexdigest()[:12]
    assert compose["configs"]["site"] == {"external": True, "name": "web_site-" + digest}
    assert compose["configs"]["ext"] == {"external": True}
    assert configs == [{"key": "site", "name": "web_site-" + digest,
                        "data": base64.b64encode(b"site = lab\n").decode()}]
    assert secrets[0]["name"] == "shared_token-" + hashlib.sha256(b"s3cret").hexdigest()[:12]


def test_a_long_name_is_cut_to_dockers_limit(tmp_path):
    compose = {"configs": {"k": {"content": "x", "name": "n" * 80}}}
    name = action.content_named("s", compose, "configs", str(tmp_path))[0]["name"]
    assert len(name) == 64 and name.endswith("-" + hashlib.sha256(b"x").hexdigest()[:12])


def test_an_object_without_a_source_is_refused(tmp_path):
    with pytest.raises(action.AnsibleActionFail, match="needs file, content or external"):
        action.content_named("s", {"secrets": {"k": {}}}, "secrets", str(tmp_path))


@pytest.mark.parametrize("version, expected", [
    ("3.2", "3.8"), ("3.9", "3.9"), ("3", "3.8"), (None, "3.8"), ("3.8", "3.8")])
def test_the_version_is_raised_to_what_named_external_objects_need(version, expected):
    assert action.at_least(version, action.MIN_VERSION) == expected


class Vaulted:
    """What read_file uses of the action plugin: Ansible's own loader, given a vault
    secret as ansible-playbook --vault-password-file gives it."""

    def __init__(self, password):
        # pylint: disable=import-outside-toplevel
        from ansible.parsing.dataloader import DataLoader
        from ansible.parsing.vault import VaultSecret
        self._loader = DataLoader()
        self._loader.set_vault_secrets([("default", VaultSecret(password))])

    @staticmethod
    def encrypt(path, text, password):
        """Write text to path ansible-vault encrypted."""
        # pylint: disable=import-outside-toplevel
        from ansible.parsing.vault import VaultLib, VaultSecret
        vault = VaultLib([("default", VaultSecret(password))])
        path.write_bytes(vault.encrypt(text.encode()))


def test_vault_encrypted_env_compose_and_secret_files_are_read_decrypted(tmp_path):
    password = b"lab-vault-password"
    Vaulted.encrypt(tmp_path / ".env", "DB_PASSWORD=s3cret\nUSER=app\n", password)
    Vaulted.encrypt(tmp_path / "db.txt", "s3cret-file", password)
    (tmp_path / "plain.env").write_text("PLAIN=1\n")
    plugin = Vaulted(password)

    def read(path):
        return action.ActionModule.read_file(plugin, path)
    assert (tmp_path / ".env").read_bytes().startswith(b"$ANSIBLE_VAULT;")
    assert action.read_env_file(str(tmp_path / ".env"), None, read) == {
        "DB_PASSWORD": "s3cret", "USER": "app"}
    assert action.read_env_file(str(tmp_path / "plain.env"), None, read) == {"PLAIN": "1"}
    compose = {"secrets": {"db": {"file": "db.txt"}}}
    (secret,) = action.content_named("s", compose, "secrets", str(tmp_path), read)
    assert base64.b64decode(secret["data"]) == b"s3cret-file"
    # No decrypted copy is left behind on the controller.
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env", "db.txt", "plain.env"]


def test_a_vaulted_file_without_the_vault_password_is_an_error_naming_it(tmp_path):
    Vaulted.encrypt(tmp_path / ".env", "A=1\n", b"right")
    plugin = Vaulted(b"wrong")
    with pytest.raises(action.AnsibleActionFail, match=r"\.env: Decryption failed.*vault"):
        action.read_env_file(str(tmp_path / ".env"), None,
                             lambda path: action.ActionModule.read_file(plugin, path))


def test_with_an_object_key_names_are_keyed_digests(tmp_path):
    import hmac  # pylint: disable=import-outside-toplevel
    compose = {"secrets": {"token": {"content": "s3cret"}}}
    (keyed,) = action.content_named("shared", compose, "secrets", str(tmp_path),
                                    object_key="cluster-key")
    expected = hmac.new(b"cluster-key", b"s3cret", hashlib.sha256).hexdigest()[:12]
    assert keyed["name"] == "shared_token-" + expected
    # The plain digest of a guess does not match it; another key gives another name.
    assert hashlib.sha256(b"s3cret").hexdigest()[:12] not in keyed["name"]
    other = action.content_named("shared", {"secrets": {"token": {"content": "s3cret"}}},
                                 "secrets", str(tmp_path), object_key="other-key")[0]["name"]
    assert other != keyed["name"]


def test_render_only_masks_environment_values_but_the_relay_ranges():
    # Mailu's seed keeps RELAYNETS beside passwords in one service's environment.
    compose = {"version": "3.8", "services": {
        "smtp": {"image": "mailu/postfix", "environment": {
            "RELAYNETS": "192.168.203.0/24", "SECRET_KEY": "ChangeMeChangeMe", "EMPTY": None}},
        "admin": {"image": "mailu/admin", "environment": [
            "SECRET_KEY=ChangeMeChangeMe", "RELAYNETS=10.0.0.0/8", "FLAG"]}}}
    shown = action.masked_compose(compose, ["RELAYNETS"])
    smtp, admin = shown["services"]["smtp"]["environment"], shown["services"]["admin"]["environment"]
    assert smtp["RELAYNETS"] == "192.168.203.0/24" and smtp["EMPTY"] is None
    assert smtp["SECRET_KEY"].startswith("(masked ") and "ChangeMe" not in str(shown)
    assert admin[1] == "RELAYNETS=10.0.0.0/8" and admin[2] == "FLAG"
    # Equal values show equal digests within one result; the input is left as it was.
    assert admin[0] == "SECRET_KEY=" + smtp["SECRET_KEY"]
    assert compose["services"]["smtp"]["environment"]["SECRET_KEY"] == "ChangeMeChangeMe"
