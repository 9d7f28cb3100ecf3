"""The docker CLI runner's registry session: a login that leaves nothing on the manager."""

import json
import os
import stat

import pytest

from ansible_collections.swarmops.cluster.plugins.module_utils import _docker_cli as cli
from ansible_collections.swarmops.cluster.plugins.module_utils._docker_api import EngineError

AUTH = {"registry": "registry.lab:5000", "username": "lab", "password": "s3cret-pw"}


class Module:
    """What run_docker uses of AnsibleModule; records each call and what the config
    directory held at that moment (the login writes its credentials there)."""

    def __init__(self, rc=0):
        self.calls, self.rc = [], rc

    @staticmethod
    def get_bin_path(name):
        return "/usr/bin/" + name

    def run_command(self, argv, data=None, binary_data=False, environ_update=None):
        config_dir = environ_update.get("DOCKER_CONFIG")
        held = sorted(os.listdir(config_dir)) if config_dir else None
        self.calls.append({"argv": argv, "data": data, "env": dict(environ_update),
                           "held": held})
        return self.rc, "", "denied" if self.rc else ""


def test_without_auth_there_is_no_session():
    module = Module()
    with cli.registry_session(module, None) as config_dir:
        assert config_dir is None
    assert module.calls == []


def test_the_login_goes_to_a_private_directory_that_is_gone_afterwards(tmp_path):
    module = Module()
    with cli.registry_session(module, AUTH, str(tmp_path / "none.json")) as config_dir:
        assert stat.S_IMODE(os.stat(config_dir).st_mode) == 0o700
        cli.run_docker(module, ["stack", "deploy", "--", "web"], config_dir=config_dir)
    login, deploy = module.calls
    assert login["argv"][1:] == ["login", "--username", "lab", "--password-stdin", "--",
                                 "registry.lab:5000"]
    assert login["data"] == "s3cret-pw" and "s3cret-pw" not in " ".join(login["argv"])
    assert login["env"]["DOCKER_CONFIG"] == deploy["env"]["DOCKER_CONFIG"] == config_dir
    assert login["env"]["LANG"] == "C"
    assert not os.path.exists(config_dir)


def test_the_users_config_comes_along_without_its_credential_store(tmp_path):
    home = tmp_path / "config.json"
    home.write_text(json.dumps({"auths": {"other.example": {"auth": "eDp5"}},
                                "credsStore": "pass", "credHelpers": {"gcr.io": "gcr"}}))
    module = Module()
    with cli.registry_session(module, AUTH, str(home)) as config_dir:
        copied = json.loads((tmp_path / config_dir / "config.json").read_text())
    assert copied == {"auths": {"other.example": {"auth": "eDp5"}},
                      "credHelpers": {"gcr.io": "gcr"}}
    assert module.calls[0]["held"] == ["config.json"]
    assert "credsStore" in json.loads(home.read_text())  # the user's own file is untouched


@pytest.mark.parametrize("text", ["{not json", "[]"])
def test_an_invalid_user_config_is_left_out(tmp_path, text):
    home = tmp_path / "config.json"
    home.write_text(text)
    module = Module()
    with cli.registry_session(module, AUTH, str(home)):
        pass
    assert module.calls[0]["held"] == []


def test_a_failed_login_removes_the_directory_too(tmp_path):
    module = Module(rc=1)
    with pytest.raises(EngineError, match="docker login --username failed: denied"):
        with cli.registry_session(module, AUTH, str(tmp_path / "none.json")):
            pass
    assert not os.path.exists(module.calls[0]["env"]["DOCKER_CONFIG"])
