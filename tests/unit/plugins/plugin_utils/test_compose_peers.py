"""The substitution cases of the peers' own suites, written anew as tables: compose-go's
template/template_test.go and docker/cli's cli/compose/template/template_test.go and
cli/compose/interpolation/interpolation_test.go.  Their mapping: FOO=first, BAR empty.
A case whose result is ours on purpose says why (the peers' answer in the comment)."""

import pytest

from ansible_collections.swarmops.cluster.plugins.plugin_utils import _compose

PEERS = {"FOO": "first", "BAR": ""}


def substitute(template, variables=None):
    """(result, problems) of one template."""
    problems = []
    result = _compose.expand(template, _compose.make_lookup(
        PEERS if variables is None else variables), problems)
    return result, problems


# Both suites (docker/cli's template_test.go is compose-go's without the nesting cases).
SHARED = [
    ("$${foo}", "${foo}"),
    ("foo", "foo"),
    ("This ${BAR} var", "This  var"),
    ("This $FOO var", "This first var"),
    ("This ${FOO} var", "This first var"),
    ("ok ${missing:-def}", "ok def"),
    ("ok ${missing-def}", "ok def"),
    ("ok ${BAR:-def}", "ok def"),
    ("ok ${FOO:-def}", "ok first"),
    ("ok ${BAR-def}", "ok "),
    ("ok ${BAR:-/non:-alphanumeric}", "ok /non:-alphanumeric"),
    ("ok ${FOO:?err}", "ok first"),
    ("ok ${FOO?err}", "ok first"),
    ("ok ${BAR?err}", "ok "),
    ("ok ${FOO}", "ok first"),
    ("ok ${BAR}", "ok "),
]
# compose-go only: nesting, precedence of the first operator, $NAME ends at the name.
COMPOSE_GO = [
    ("$FOO-bar", "first-bar"),
    ("ok ${UNSET_VAR-$FOO}", "ok first"),
    ("ok ${UNSET_VAR-${FOO}}", "ok first"),
    ("ok ${UNSET_VAR-${FOO} ${FOO}}", "ok first first"),
    ("ok ${BAR:-$FOO}", "ok first"),
    ("ok ${BAR:-${FOO}}", "ok first"),
    ("ok ${BAR:-${FOO} ${FOO}}", "ok first first"),
    ("${UNSET_VAR-myerror?msg}", "myerror?msg"),
    ("${FOO?bar-baz}", "first"),
    ("${BAR:-default_value_for_empty_var}", "default_value_for_empty_var"),
    ("${UNSET_VAR-default_value_for_unset_var}", "default_value_for_unset_var"),
    # getSubstitutionFunctionForTemplate: the first operator after the name decides.
    ("${VARNAME-va:-lu:?e}", "va:-lu:?e"),
    ("${VARNAME-va+lu?e}", "va+lu?e"),
    ("${VARNAME-va?lu+e}", "va?lu+e"),
    ("${VARNAME:-value}", "value"),
    ("${FOO:+va:?lu:-e}", "va:?lu:-e"),
    ("${FOO+va:+lue}", "va:+lue"),
    ("${FOO+va?lu-e}", "va?lu-e"),
    ("${FOO+va-lu?e}", "va-lu?e"),
]


@pytest.mark.parametrize("template, expected", SHARED + COMPOSE_GO)
def test_peer_substitutions(template, expected):
    assert substitute(template) == (expected, [])


@pytest.mark.parametrize("template, problem", [
    ("not ok ${UNSET_VAR:?Mandatory Variable Unset}",
     "variable UNSET_VAR is not set: Mandatory Variable Unset"),
    ("not ok ${BAR:?Mandatory Variable Empty}", "variable BAR is empty: Mandatory Variable Empty"),
    ("not ok ${UNSET_VAR:?}", "variable UNSET_VAR is not set"),
    ("not ok ${UNSET_VAR?Mandatory Variable Unset}",
     "variable UNSET_VAR is not set: Mandatory Variable Unset"),
    ("not ok ${UNSET_VAR?}", "variable UNSET_VAR is not set"),
    ("not ok ${UNSET_VAR:?Mandatory Variable ${FOO}}",
     "variable UNSET_VAR is not set: Mandatory Variable first"),
    ("not ok ${UNSET_VAR?Mandatory Variable ${FOO}}",
     "variable UNSET_VAR is not set: Mandatory Variable first"),
    ("${UNSET_VAR?bar-baz}", "variable UNSET_VAR is not set: bar-baz"),
    ("${VARNAME:?val?ue}", "variable VARNAME is not set: val?ue"),
    ("${VARNAME?val:?ue}", "variable VARNAME is not set: val:?ue"),
    ("${VARNAME?va-lu+e:?e}", "variable VARNAME is not set: va-lu+e:?e"),
    ("${VARNAME?va+lu-e:?e}", "variable VARNAME is not set: va+lu-e:?e"),
    # Ours on purpose: the peers give "" for an unset variable without default (docker
    # warns); a deploy with a silently empty value is what the stack module refuses.
    ("This ${missing} var", "variable missing is not set"),
    ("ok ${NOTHERE}", "variable NOTHERE is not set"),
])
def test_peer_required_and_missing_variables(template, problem):
    assert substitute(template)[1] == [problem]


@pytest.mark.parametrize("template", ["${", "${}", "${ }", "${ foo}", "${foo }", "${foo!}"])
def test_peer_invalid_templates(template):
    problems = substitute(template)[1]
    assert len(problems) == 1 and problems[0].startswith("invalid interpolation")


def test_a_lone_dollar_before_a_brace_is_literal():
    # Ours on purpose: both peer suites call "$}" invalid; compose-go since
    # compose-spec/compose-go#307 and POSIX shells keep a "$" that starts no name.
    assert substitute("$}") == ("$}", [])


def test_interpolation_walks_every_string_of_a_service():
    document = {"services": {"servicea": {
        "image": "example:${USER}", "volumes": ["$FOO:/target"],
        "logging": {"driver": "${FOO}", "options": {"user": "$USER"}}}}}
    result = _compose.interpolate(document, {"USER": "jenny", "FOO": "bar"}, "s.yml")
    assert result["services"]["servicea"] == {
        "image": "example:jenny", "volumes": ["bar:/target"],
        "logging": {"driver": "bar", "options": {"user": "jenny"}}}


def test_interpolation_names_the_invalid_value():
    with pytest.raises(_compose.ComposeError) as caught:
        _compose.interpolate({"services": {"servicea": {"image": "${"}}}, {}, "s.yml")
    assert caught.value.problems == [
        's.yml: service servicea: invalid interpolation "${": no closing "}"']


def test_interpolation_never_reads_the_process_environment(monkeypatch):
    # docker/cli TestInterpolateWithDefaults reads FOO from the environment; ours on purpose
    # does not: variables come from the inventory, the .env and `variables` only.
    monkeypatch.setenv("FOO", "BARZ")
    with pytest.raises(_compose.ComposeError):
        _compose.interpolate({"networks": {"foo": {"name": "thing_${FOO}"}}}, {}, "s.yml")


def test_interpolation_casts_a_changed_replicas():
    result = _compose.interpolate({"services": {"foo": {"deploy": {"replicas": "$count"}}}},
                                  {"count": "5"}, "s.yml")
    assert result["services"]["foo"]["deploy"]["replicas"] == 5


@pytest.mark.parametrize("pattern, path, matches", [
    (("one", "two"), ("one", "two", "three"), False),
    (("one", "two", "three"), ("one", "two"), False),
    (("one", "two", "three"), ("one", "three", "two"), False),
    (("*", "two", "three"), ("one", "three", "two"), False),
    (("one", "*", "three"), ("one", "two", "three"), True),
    (("one", "two", "three"), ("one", "two", "three"), True),
])
def test_cast_paths_match_as_dockers_do(pattern, path, matches):
    # pylint: disable=protected-access
    assert _compose._match_path(pattern, path) is matches
