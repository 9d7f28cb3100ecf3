"""The built collection artifact holds the collection and none of the checkout's clutter.

The checkout doubles as a workspace (caches, lab state with SSH keys, venvs, benchmark
results), and galaxy.yml's build_ignore is all that keeps that out of the tarball. So this
plants such clutter in the checkout, builds, lists the tarball, then installs it and uses it
the way a user would, from outside the checkout.
"""

import os
import re
import subprocess
import sys
import tarfile
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The ansible tools of the venv running the tests, not whichever ones PATH finds first.
BIN = Path(sys.executable).parent
TIMEOUT = 60

# Clutter planted in the checkout before the build; each entry must be dropped from it.
PLANTED = (
    ".pytest_cache/v/cache/lastfailed",
    "tests/unit/.pytest_cache/CACHEDIR.TAG",
    ".ruff_cache/CACHEDIR.TAG",
    "plugins/.mypy_cache/CACHEDIR.TAG",
    "plugins/modules/__pycache__/artifact_test.cpython-311.pyc",
    "roles/swarm/artifact_test.pyc",
    "molecule/default/.molecule/state.yml",
    "molecule/default/.ansible/tmp/state.yml",
    ".ansible/tmp/state.yml",
    ".cache/artifact_test",
    ".lab/artifact_test.log",
    ".venv-artifact-test/pyvenv.cfg",
    "build/artifact_test/x.yml",
    "benchmarks/results/artifact_test.json",
    "tests/output/junit/artifact_test.xml",
    "tests/artifact_test.tar.gz",
)
# Path parts that mark a cache, tool state, lab state or a venv wherever they occur.
FORBIDDEN_PARTS = frozenset({
    ".pytest_cache", ".ruff_cache", ".mypy_cache", "__pycache__", ".cache", ".ansible",
    ".molecule", ".tox", ".lab", ".git",
})
# Glob patterns (fnmatch on the member's path) for the rest of what must stay out.
FORBIDDEN_GLOBS = (
    ".venv*", "*/.venv*", "*.pyc", "*.tar.gz", "build", "build/*", "collections",
    "collections/*", "tests/output", "tests/output/*", "benchmarks/results/*.json",
)
# What a user of the collection needs: without these the tarball is not the collection.
REQUIRED = (
    "MANIFEST.json", "FILES.json", "meta/runtime.yml", "playbooks/site.yml",
    "plugins/modules/swarm.py", "roles/swarm/meta/argument_specs.yml",
    "roles/swarm/defaults/main.yml",
)


def plant(root, relative):
    """Create root/relative and its missing folders; return what was created, deepest first.

    Anything that already existed is left out of the list, so cleaning up removes only what
    this test made, never a real cache, lab or venv.
    """
    path = root / relative
    created = [parent for parent in path.parents if not parent.exists()]
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text("planted by tests/unit/test_artifact.py\n", encoding="utf-8")
        created.insert(0, path)
    return created


def remove_planted(created):
    """Remove the planted files and folders, deepest first, keeping anything added since."""
    for path in created:
        if path.is_dir() and not path.is_symlink():
            try:
                path.rmdir()
            except OSError:
                # Something else (a concurrent pytest, a tool) wrote into it meanwhile.
                pass
        else:
            path.unlink(missing_ok=True)


def run(command, cwd, env):
    """Run one ansible command and return the completed process (output as text)."""
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)


def make_isolated_env(workdir, collections):
    """Environment that sees only the installed collection and no checkout configuration."""
    config = workdir / "ansible.cfg"
    config.write_text("", encoding="utf-8")
    # Drop ANSIBLE_* from the caller (the Makefile exports ANSIBLE_CONFIG to the checkout's).
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env.update({
        "ANSIBLE_CONFIG": str(config),
        "ANSIBLE_HOME": str(workdir / "ansible-home"),
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "ANSIBLE_NOCOLOR": "1",
    })
    return env


def describe(process):
    """Say what a failed command printed, for the assertion message."""
    return f"rc {process.returncode}\nstdout:\n{process.stdout}\nstderr:\n{process.stderr}"


def find_forbidden(names):
    """Return the tarball member names that are caches, state, venvs or build leftovers."""
    return sorted(name for name in names
                  if FORBIDDEN_PARTS.intersection(PurePosixPath(name).parts)
                  or any(fnmatch(name, pattern) for pattern in FORBIDDEN_GLOBS))


@pytest.fixture(name="workdir", scope="module")
def fixture_workdir(tmp_path_factory):
    """A folder outside the checkout: the cwd of every command, so ./ansible.cfg is unused."""
    workdir = tmp_path_factory.mktemp("artifact")
    assert ROOT not in workdir.parents
    return workdir


@pytest.fixture(name="env", scope="module")
def fixture_env(workdir):
    """The isolated environment the tests run ansible in."""
    return make_isolated_env(workdir, workdir / "collections")


@pytest.fixture(name="tarball", scope="module")
def fixture_tarball(workdir, env):
    """Build the collection from the checkout, with clutter planted in it, into workdir."""
    created = []
    try:
        for relative in PLANTED:
            created += plant(ROOT, relative)
        build = run([str(BIN / "ansible-galaxy"), "collection", "build", str(ROOT),
                     "--output-path", str(workdir / "dist")], workdir, env)
    finally:
        remove_planted(created)
    assert build.returncode == 0, describe(build)
    tarballs = list((workdir / "dist").glob("swarmops-cluster-*.tar.gz"))
    assert len(tarballs) == 1, tarballs
    return tarballs[0]


@pytest.fixture(name="installed", scope="module")
def fixture_installed(tarball, workdir, env):
    """Install the tarball into workdir/collections, offline; return the collection folder."""
    install = run([str(BIN / "ansible-galaxy"), "collection", "install", str(tarball),
                   "--no-deps", "-p", str(workdir / "collections")], workdir, env)
    assert install.returncode == 0, describe(install)
    collection = workdir / "collections" / "ansible_collections" / "swarmops" / "cluster"
    assert (collection / "MANIFEST.json").is_file(), describe(install)
    return collection


def test_forbidden_patterns_catch_the_planted_clutter():
    """Every planted path counts as forbidden, so the tarball check below can fail."""
    assert find_forbidden(PLANTED) == sorted(PLANTED)
    assert not find_forbidden(REQUIRED)


def test_artifact_leaves_out_caches_state_and_venvs(tarball):
    """No member of the tarball is a cache, tool or lab state, a venv or a build output."""
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    assert not find_forbidden(names), "\n".join(find_forbidden(names))


def test_artifact_holds_the_collection(tarball):
    """The tarball still has the modules, roles, playbook and metadata."""
    with tarfile.open(tarball) as archive:
        names = set(archive.getnames())
    assert not set(REQUIRED) - names, sorted(set(REQUIRED) - names)


def test_installed_module_is_documented(installed, workdir, env):
    """ansible-doc finds and renders the module from the installed collection."""
    doc = run([str(BIN / "ansible-doc"), "swarmops.cluster.swarm"], workdir, env)
    assert doc.returncode == 0, describe(doc)
    assert "swarmops.cluster.swarm" in doc.stdout, describe(doc)
    assert str(installed / "plugins" / "modules" / "swarm.py") in doc.stdout, describe(doc)


def test_installed_role_is_documented(installed, workdir, env):
    """ansible-doc renders the role's entry points from the installed collection."""
    doc = run([str(BIN / "ansible-doc"), "-t", "role", "swarmops.cluster.swarm"], workdir, env)
    assert doc.returncode == 0, describe(doc)
    assert str(installed) in doc.stdout, describe(doc)
    # Without color ansible-doc marks the entry point's name bold as *main*.
    entry_points = re.findall(r"^ENTRY POINT: \W*(\w+)", doc.stdout, re.MULTILINE)
    assert "main" in entry_points, describe(doc)
    assert "swarmops_swarm_port" in doc.stdout, describe(doc)


def test_installed_site_playbook_parses(installed, workdir, env):
    """The site playbook, addressed by its collection name, passes --syntax-check."""
    check = run([str(BIN / "ansible-playbook"), "--syntax-check", "-i", "localhost,",
                 "swarmops.cluster.site"], workdir, env)
    assert check.returncode == 0, describe(check)
    assert str(installed / "playbooks" / "site.yml") in check.stdout, describe(check)
