"""Where code lives: node-side logic in module_utils travels to the nodes with the modules
and must never need controller-only code, and the controller's planners stay off the nodes."""

import re
from pathlib import Path

import pytest

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
IMPORT = re.compile(r"plugins\.(module_utils|plugin_utils)(?:\.| import )(\w+)")


def imports_of(path):
    """[(folder, name)] of the collection's own util modules a file imports."""
    return IMPORT.findall(path.read_text())


@pytest.mark.parametrize("path", sorted((PLUGINS / "module_utils").glob("*.py")),
                         ids=lambda p: p.name)
def test_node_side_code_never_imports_controller_only_code(path):
    assert [name for folder, name in imports_of(path) if folder == "plugin_utils"] == []


@pytest.mark.parametrize("path", sorted((PLUGINS / "modules").glob("*.py")),
                         ids=lambda p: p.name)
def test_modules_import_only_node_side_code(path):
    assert [name for folder, name in imports_of(path) if folder == "plugin_utils"] == []


def test_every_module_util_is_used_by_a_module_or_another_module_util():
    """A module_utils file only filters import belongs in plugin_utils."""
    node = {p.stem for p in (PLUGINS / "module_utils").glob("_*.py")}
    used = {name for folder in ("modules", "module_utils")
            for path in (PLUGINS / folder).glob("*.py")
            for kind, name in imports_of(path) if kind == "module_utils"}
    assert sorted(node - used) == []


def test_site_yml_validates_every_role_it_imports():
    """site.yml checks the roles' settings in one task (the entry points it imports are not
    validated by ansible): every role it imports must be in that task's list."""
    site = (PLUGINS.parent / "playbooks" / "site.yml").read_text()
    task = site.split("- name: Check every role's settings against its argument spec")[1]
    task = task.split("- name:")[0]
    imported = set(re.findall(r"name: swarmops\.cluster\.(\w+)", site))
    listed = set(re.findall(r"'(\w+)'", task.split("| map(")[0]))
    assert imported and imported == listed
