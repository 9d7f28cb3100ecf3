"""Each role's meta/argument_specs.yml agrees with its defaults/main.yml, option by option.

ansible validates a role's variables against argument_specs, while the values actually used
come from defaults/main.yml: when the two drift apart, ansible-doc documents one default and
the role runs with another, or an option escapes validation.
"""

from pathlib import Path

import pytest
import yaml

ROLES_DIR = Path(__file__).resolve().parents[2] / "roles"
ROLES = sorted(path.name for path in ROLES_DIR.iterdir() if path.is_dir())
SPECS = Path("meta", "argument_specs.yml")
DEFAULTS = Path("defaults", "main.yml")


def load_yaml(path):
    """Load one YAML file; an absent or empty file is an empty mapping."""
    if not path.is_file():
        return {}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def load_entry_points(role_dir):
    """Map each argument_specs entry point of the role to its options (name -> spec)."""
    specs = load_yaml(role_dir / SPECS).get("argument_specs") or {}
    return {entry: (spec or {}).get("options") or {} for entry, spec in specs.items()}


def canonicalize(value):
    """Serialize a YAML value so that values of different types never compare equal.

    Plain == holds for 1 == true and 1 == 1.0, which YAML (and ansible) tell apart.
    """
    return yaml.safe_dump(value, sort_keys=True)


def find_name_problems(role_dir):
    """List the options that are in defaults/main.yml or in an entry point, but not both."""
    role = role_dir.name
    defaults = load_yaml(role_dir / DEFAULTS)
    entry_points = load_entry_points(role_dir)
    problems = []
    if defaults and not entry_points:
        problems.append(f"role {role!r}: {DEFAULTS} sets {sorted(defaults)} but {SPECS} "
                        "has no entry point")
    for entry, options in entry_points.items():
        where = f"role {role!r}, entry point {entry!r}, option"
        problems += [f"{where} {name!r}: in {DEFAULTS} but missing from {SPECS}"
                     for name in sorted(defaults.keys() - options.keys())]
        problems += [f"{where} {name!r}: in {SPECS} but missing from {DEFAULTS}"
                     for name in sorted(options.keys() - defaults.keys())]
    return problems


def find_default_problems(role_dir):
    """List the options whose spec default differs from (or lacks) the value in defaults."""
    role = role_dir.name
    defaults = load_yaml(role_dir / DEFAULTS)
    problems = []
    for entry, options in load_entry_points(role_dir).items():
        for name in sorted(options.keys() & defaults.keys()):
            where = f"role {role!r}, entry point {entry!r}, option {name!r}"
            spec = options[name] or {}
            if "default" not in spec:
                problems.append(f"{where}: no default in {SPECS}; {DEFAULTS} has "
                                f"{defaults[name]!r}")
            elif canonicalize(spec["default"]) != canonicalize(defaults[name]):
                problems.append(f"{where}: default {spec['default']!r} in {SPECS} but "
                                f"{defaults[name]!r} in {DEFAULTS}")
    return problems


def find_entry_point_divergence(role_dir):
    """List the options that differ between the role's entry points and its main one.

    The entry points (main, preflight) are meant to share one set of options, so a check
    that passes at one entry point passes at every other.
    """
    role = role_dir.name
    entry_points = load_entry_points(role_dir)
    if not entry_points:
        return []
    reference = "main" if "main" in entry_points else sorted(entry_points)[0]
    expected = entry_points[reference]
    problems = []
    for entry, options in entry_points.items():
        where = f"role {role!r}, entry point {entry!r}, option"
        problems += [f"{where} {name!r}: in entry point {reference!r} but not here"
                     for name in sorted(expected.keys() - options.keys())]
        problems += [f"{where} {name!r}: not in entry point {reference!r}"
                     for name in sorted(options.keys() - expected.keys())]
        problems += [f"{where} {name!r}: spec differs from entry point {reference!r}"
                     for name in sorted(options.keys() & expected.keys())
                     if canonicalize(options[name]) != canonicalize(expected[name])]
    return problems


def test_roles_are_discovered():
    """An empty ROLES would turn every parametrized test below into a silent skip."""
    assert ROLES, f"no role directories under {ROLES_DIR}"


@pytest.mark.parametrize("role", ROLES)
def test_spec_options_are_the_defaults(role):
    """Every entry point documents exactly the variables defaults/main.yml sets."""
    problems = find_name_problems(ROLES_DIR / role)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", ROLES)
def test_spec_defaults_are_the_defaults(role):
    """Every option's documented default is the value defaults/main.yml sets."""
    problems = find_default_problems(ROLES_DIR / role)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", ROLES)
def test_entry_points_share_options(role):
    """Every entry point of a role has the same options as its main entry point."""
    problems = find_entry_point_divergence(ROLES_DIR / role)
    assert not problems, "\n".join(problems)


def write_role(role_dir, defaults, specs):
    """Write a role with the given defaults/main.yml and argument_specs into role_dir."""
    for relative, content in ((DEFAULTS, defaults), (SPECS, {"argument_specs": specs})):
        (role_dir / relative).parent.mkdir(parents=True, exist_ok=True)
        (role_dir / relative).write_text(yaml.safe_dump(content), encoding="utf-8")


def test_checks_name_every_drift(tmp_path):
    """The checks above report each kind of drift by role, entry point and option."""
    role_dir = tmp_path / "drifted"
    write_role(role_dir,
               defaults={"kept": 1, "undocumented": "x", "changed": "{{ a }}", "typed": 1},
               specs={"main": {"options": {"kept": {"default": 1}, "unset": {"default": []},
                                           "changed": {"default": "{{ b }}"},
                                           "typed": {"default": True}}},
                      "preflight": {"options": {"kept": {"default": 1}}}})

    names = find_name_problems(role_dir)
    assert ("role 'drifted', entry point 'main', option 'undocumented': in defaults/main.yml "
            "but missing from meta/argument_specs.yml") in names
    assert ("role 'drifted', entry point 'main', option 'unset': in meta/argument_specs.yml "
            "but missing from defaults/main.yml") in names
    assert not any("'kept'" in problem for problem in names)

    defaults = find_default_problems(role_dir)
    assert [problem.split(":")[0] for problem in defaults] == [
        "role 'drifted', entry point 'main', option 'changed'",
        "role 'drifted', entry point 'main', option 'typed'"]

    divergence = find_entry_point_divergence(role_dir)
    assert ("role 'drifted', entry point 'preflight', option 'changed': in entry point "
            "'main' but not here") in divergence
    assert not any("'kept'" in problem for problem in divergence)
