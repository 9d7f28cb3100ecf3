"""Reading .env files strictly (plugin_utils/_dotenv).  The parsing cases follow compose-go's
dotenv tests (godotenv_test.go TestParsing/TestExpanding/TestLinesToIgnore and
godotenv_var_expansion_test.go), written anew; where we differ on purpose the case says so."""

import pytest

from ansible_collections.swarmops.cluster.plugins.plugin_utils import _dotenv


def parse_one(text, variables=None):
    """The values of a .env text."""
    return _dotenv.parse(text, ".env", variables)


def problems(text, variables=None):
    """The problems of a .env text."""
    with pytest.raises(_dotenv.EnvFileError) as caught:
        _dotenv.parse(text, ".env", variables)
    return caught.value.problems


@pytest.mark.parametrize("line, key, value", [
    ("FOO=bar", "FOO", "bar"),
    ("FOO =bar", "FOO", "bar"),
    ("FOO= bar", "FOO", "bar"),
    ('FOO="bar"', "FOO", "bar"),
    ("FOO='bar'", "FOO", "bar"),
    ('FOO="escaped\\"bar"', "FOO", 'escaped"bar'),
    ("FOO=\"'d'\"", "FOO", "'d'"),
    ("OPTION_A=1:B", "OPTION_A", "1:B"),
    ("export OPTION_A=2", "OPTION_A", "2"),
    ("export OPTION_B='\\n'", "OPTION_B", "\\n"),
    ("export exportFoo=2", "exportFoo", "2"),
    ("exportFOO=2", "exportFOO", "2"),
    ("export_FOO =2", "export_FOO", "2"),
    ("export.FOO= 2", "export.FOO", "2"),
    ("export\tOPTION_A=2", "OPTION_A", "2"),
    ("  export OPTION_A=2", "OPTION_A", "2"),
    ("\texport OPTION_A=2", "OPTION_A", "2"),
    ('FOO="bar\\nbaz"', "FOO", "bar\nbaz"),
    ("FOO.BAR=foobar", "FOO.BAR", "foobar"),
    ("FOO=foobar=", "FOO", "foobar="),
    ("FOO=bar ", "FOO", "bar"),
    ("FOO=bar # this is foo", "FOO", "bar"),
    ('FOO="bar#baz" # comment', "FOO", "bar#baz"),
    ("FOO='bar#baz' # comment", "FOO", "bar#baz"),
    ('FOO="bar#baz#bang" # comment', "FOO", "bar#baz#bang"),
    ('FOO="ba#r"', "FOO", "ba#r"),
    ("FOO='ba#r'", "FOO", "ba#r"),
    (" KEY =value", "KEY", "value"),
    ("   KEY=value", "KEY", "value"),
    ("\tKEY=value", "KEY", "value"),
    ('TEST_URLS="stratum+tcp://a:3333\nstratum+tcp://b:443"', "TEST_URLS",
     "stratum+tcp://a:3333\nstratum+tcp://b:443"),
    ("OPTION_A=postgres://localhost:5432/database?sslmode=disable", "OPTION_A",
     "postgres://localhost:5432/database?sslmode=disable"),
])
def test_parses_lines_as_compose_does(line, key, value):
    assert parse_one(line) == {key: value}


@pytest.mark.parametrize("text", ["\n", "\r\n", "\t\t ", "# Comment", "\t # comment", "BARE"])
def test_lines_without_a_value_give_nothing(text):
    assert parse_one(text) == {}


@pytest.mark.parametrize("text, expected", [
    ("FOO=test\nBAR=$FOO", {"FOO": "test", "BAR": "test"}),
    ("FOO=test\nBAR=${FOO}bar", {"FOO": "test", "BAR": "testbar"}),
    ('FOO=test\nBAR="quote $FOO"', {"FOO": "test", "BAR": "quote test"}),
    ("BAR='quote $FOO'", {"BAR": "quote $FOO"}),
    ('FOO="foo\\$BAR"', {"FOO": "foo$BAR"}),
    ('FOO="foo\\${BAR}"', {"FOO": "foo${BAR}"}),
    ('FOO=test\nBAR="foo\\${FOO} ${FOO}"', {"FOO": "test", "BAR": "foo${FOO} test"}),
    ("RESULT=${UNSET_VAR:-Default Value}", {"RESULT": "Default Value"}),
    ("EMPTY_VAR=\nRESULT=${EMPTY_VAR:-Default Value}",
     {"EMPTY_VAR": "", "RESULT": "Default Value"}),
    ("TEST_VAR=Test Value\nRESULT=${TEST_VAR:-Default Value}",
     {"TEST_VAR": "Test Value", "RESULT": "Test Value"}),
    ("RESULT=${UNSET_VAR-Default Value}", {"RESULT": "Default Value"}),
    ("EMPTY_VAR=\nRESULT=${EMPTY_VAR-Default Value}", {"EMPTY_VAR": "", "RESULT": ""}),
    ("TEST_VAR=Test Value\nRESULT=${TEST_VAR:?Default Value}",
     {"TEST_VAR": "Test Value", "RESULT": "Test Value"}),
    ("EMPTY_VAR=\nRESULT=${EMPTY_VAR?Test error}", {"EMPTY_VAR": "", "RESULT": ""}),
    ("A=1\nB=${A:+set}\nC=${NOPE:+set}", {"A": "1", "B": "set", "C": ""}),
    ("A=1\nB=${NOPE:-${A}}", {"A": "1", "B": "1"}),
    ("A=cost $$5", {"A": "cost $5"}),
])
def test_expands_against_earlier_lines(text, expected):
    assert parse_one(text) == expected


def test_the_stacks_variables_win_over_earlier_lines_and_the_controller_env_is_not_read(
        monkeypatch):
    monkeypatch.setenv("HOME", "/root")
    monkeypatch.setenv("FROM_SHELL", "leak")
    assert parse_one("A=file\nB=$A\nC=${HOME:-none}", {"A": "task"}) == {
        "A": "file", "B": "task", "C": "none"}
    assert problems("X=$FROM_SHELL\n") == [".env:1: X: variable FROM_SHELL is not set"]


def test_every_problem_is_listed_with_its_line():
    text = ("GOOD=1\nBAD LINE=1\nREF=${NOPE:?must be set}\nX=$OTHER\nEMPTY=\n"
            "E=${EMPTY:?needs a value}\nlol$wut\nQ=\"unterminated\nZ=1\n")
    assert problems(text) == [
        ".env:2: not a KEY=VALUE line (or a quote is not closed)",
        ".env:3: REF: variable NOPE is not set: must be set",
        ".env:4: X: variable OTHER is not set",
        ".env:6: E: variable EMPTY is empty: needs a value",
        ".env:7: 'lol$wut' is not a variable name",
        ".env:8: not a KEY=VALUE line (or a quote is not closed)"]


def test_an_empty_value_is_empty_and_a_default_replaces_it():
    assert parse_one("EMPTY=\nD=${EMPTY:-d}\nU=${EMPTY-u}") == {"EMPTY": "", "D": "d", "U": ""}


@pytest.mark.parametrize("text, why", [
    # compose-go reads `OPTION_A: 1` (YAML style); python-dotenv does not, and neither do we.
    ("OPTION_A: 1", "yaml style"),
    # compose-go keeps an unterminated quote as part of the value; we refuse the line.
    ('KEY="value', "unterminated"),
    ('KEY="', "lone quote"),
    # compose-go takes an empty key; we refuse it.
    ('="value"', "no key"),
])
def test_lines_compose_forgives_are_errors_here(text, why):
    assert problems(text) == [".env:1: not a KEY=VALUE line (or a quote is not closed)"], why
