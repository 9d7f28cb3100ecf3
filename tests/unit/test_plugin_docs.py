"""Every filter the collection provides is documented beside its plugin, as ansible-doc reads it,
and every plugin's version_added names a release.

ansible-test sanity does not validate filter documentation (a filter plugin file may provide
several filters), so this test does: each filter has plugins/filter/<name>.yml with
DOCUMENTATION, EXAMPLES and RETURN; its options are the function's parameters (the first is
_input). version_added is a release in changelogs/changelog.yaml or galaxy.yml's version (the
coming release): antsibull-changelog lists a plugin as new in the release it names.
"""

import ast
import importlib
import inspect
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
FILTER_DIR = ROOT / "plugins" / "filter"
PACKAGE = "ansible_collections.swarmops.cluster.plugins.filter."


def provided_filters():
    """(filter name, function) for every filter of every filter plugin file."""
    found = []
    for path in sorted(FILTER_DIR.glob("*.py")):
        plugin = importlib.import_module(PACKAGE + path.stem)
        found += sorted(plugin.FilterModule().filters().items())
    return found


FILTERS = provided_filters()
FILTER_NAMES = [name for name, function in FILTERS]


def load_yaml(path):
    """One YAML file of the checkout."""
    return yaml.safe_load((ROOT / path).read_text(encoding="utf-8"))


def known_versions():
    """The released versions and the coming one."""
    releases = load_yaml("changelogs/changelog.yaml").get("releases") or {}
    return {str(v) for v in releases} | {str(load_yaml("galaxy.yml")["version"])}


def module_documentation(path):
    """A module's DOCUMENTATION, read without importing it (no SDK needed)."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "DOCUMENTATION":
            return yaml.safe_load(node.value.value)
    raise AssertionError(f"{path.name}: no DOCUMENTATION")


MODULES = sorted((ROOT / "plugins" / "modules").glob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[p.stem for p in MODULES])
def test_module_version_added(path):
    """Each module says in which release it came."""
    assert str(module_documentation(path)["version_added"]) in known_versions()


def test_filters_found():
    """The discovery above sees the plugins (else every test below would pass vacuously)."""
    assert "cluster_nodes" in FILTER_NAMES and "htpasswd" in FILTER_NAMES
    assert len(FILTER_NAMES) == len(set(FILTER_NAMES))


def test_no_doc_without_filter():
    """A documentation file names a filter that exists (none left behind by a rename)."""
    assert sorted(p.stem for p in FILTER_DIR.glob("*.yml") if p.stem not in FILTER_NAMES) == []


@pytest.mark.parametrize("name, function", FILTERS, ids=FILTER_NAMES)
def test_filter_documented(name, function):
    """DOCUMENTATION, EXAMPLES and RETURN, with the function's parameters as options."""
    path = FILTER_DIR / f"{name}.yml"
    assert path.is_file(), f"{name}: no {path.relative_to(ROOT)}"
    docs = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc = docs["DOCUMENTATION"]
    assert doc["name"] == name
    assert str(doc["version_added"]) in known_versions()
    assert doc["short_description"] and doc["description"]
    assert "swarmops.cluster." + name in docs["EXAMPLES"]
    assert docs["RETURN"]["_value"]["description"]
    parameters = list(inspect.signature(function).parameters)
    assert sorted(doc["options"]) == sorted(["_input"] + parameters[1:])
    positional = [p.strip() for p in str(doc.get("positional") or "").split(",") if p.strip()]
    assert positional == parameters[1:len(positional) + 1]
