"""The lab's node images: per-suite sources, and baked packages equal to what the roles install."""

import re
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1].parent
sys.path.insert(0, str(ROOT / "tests" / "lab"))
import lab  # noqa: E402  pylint: disable=wrong-import-position

# The host's sources on the machines this project runs on (Debian 12, deb822).
HOST_SOURCES = """Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""


def role_vars(role):
    return yaml.safe_load((ROOT / "roles" / role / "vars" / "main.yml").read_text())


def test_sources_move_every_suite_of_the_host_release():
    text = lab.retarget_sources(HOST_SOURCES, "bookworm", "trixie")
    suites = re.findall(r"^Suites: (.*)$", text, re.M)
    assert suites == ["trixie trixie-updates", "trixie-security"]
    assert text.count("URIs:") == 2 and text.endswith("\n")
    assert lab.retarget_sources(HOST_SOURCES, "bookworm", "bookworm") == HOST_SOURCES
    # A host of another release is the template all the same.
    back = lab.retarget_sources(text, "trixie", "bookworm")
    assert back == HOST_SOURCES


@pytest.mark.parametrize("suite, release, split", [("bookworm", "12", False),
                                                   ("trixie", "13", True)])
def test_baked_packages_are_what_the_roles_install(suite, release, split):
    docker = role_vars("docker")
    gluster = role_vars("glusterfs")["_swarmops_glusterfs_package_sets"]["Debian"]["server"]
    firewall = yaml.safe_load((ROOT / "roles" / "firewall" / "defaults" / "main.yml")
                              .read_text())["swarmops_firewall_packages"]
    wanted = list(docker["_swarmops_docker_package_sets"]["Debian"]["debian"]) + gluster \
        + firewall
    # The role's own test of a release: a major version it matches has the CLI inside.
    pattern = re.search(r"is not match\('([^']+)'\)", docker["_swarmops_docker_split_cli"])
    assert bool(re.match(pattern.group(1), release)) is not split
    if split:
        wanted.append(docker["_swarmops_docker_split_cli_package"])
    assert sorted(lab.role_packages(suite)) == sorted(wanted)


def test_testing_and_unstable_count_as_split():
    pattern = re.search(r"is not match\('([^']+)'\)",
                        role_vars("docker")["_swarmops_docker_split_cli"]).group(1)
    assert not re.match(pattern, "n/a") and not re.match(pattern, "14")


def test_unknown_suite_is_refused():
    with pytest.raises(lab.LabError, match="bookworm"):
        lab.host_mirror("buster")
