"""Reading compose YAML as docker does (plugin_utils/_compose_yaml): YAML 1.2 scalars with
docker's number spellings, duplicate keys, merge keys, exact lines; checked against the
docker CLIs on this machine (docker_engines)."""

import json

import pytest
import yaml

from ansible_collections.swarmops.cluster.plugins.module_utils._docker_cli import escape_dollars
from ansible_collections.swarmops.cluster.plugins.plugin_utils import _compose, _compose_yaml

from docker_engines import config_engines, engines, missing_note

# (spelling in the file, what we read) -- docker 26.1 and 28.2 print the same for each number
# (labels: K: "value as Go formats it"); the test against them is below.
SCALARS = [
    ("yes", "yes"), ("no", "no"), ("on", "on"), ("Off", "Off"), ("y", "y"), ("N", "N"),
    ("true", True), ("True", True), ("TRUE", True), ("false", False),
    ("~", None), ("null", None), ("Null", None), ("", None),
    ("010", 8), ("0755", 493), ("09", 9), ("0o17", 15), ("0x1F", 31), ("0b101", 5),
    ("1_000", 1000), ("+1", 1), ("-0", 0), ("123456789012", 123456789012),
    ("1e3", 1000.0), ("1E3", 1000.0), ("1.5e+3", 1500.0), (".5", 0.5), ("1.0", 1.0),
    ("0.1e1", 1.0), ("1.10", 1.1), ("1e20", 1e20),
    ("12:30", "12:30"), ("2024-05-01", "2024-05-01"), ("'010'", "010"), ('"yes"', "yes"),
    ("!!str 5", "5"), ("0.0.0.0", "0.0.0.0"), ("1.2.3", "1.2.3"),
]


@pytest.mark.parametrize("spelling, expected", SCALARS)
def test_scalars_read_as_docker_reads_them(spelling, expected):
    data, _lines = _compose_yaml.load("x: %s\n" % spelling, "s.yml")
    assert data["x"] == expected
    # bool is an int, a LocatedStr a str: compare the plain kinds.
    kinds = (bool, int, float, str, type(None))
    assert next(k for k in kinds if isinstance(data["x"], k)) is \
        next(k for k in kinds if isinstance(expected, k))


def label_file(items):
    """A compose file with one service whose labels are the given spellings."""
    labels = "".join("      k%d: %s\n" % (index, spelling) for index, spelling in items)
    return 'version: "3.8"\nservices:\n  web:\n    image: a\n    labels:\n' + labels


# Booleans and null are not label values for docker ("must be a string, number or null"
# takes null, but docker then drops it); the rest go through docker itself.
AS_LABELS = [(index, spelling) for index, (spelling, value) in enumerate(SCALARS)
             if not isinstance(value, bool) and value is not None and "!!" not in spelling]


@pytest.mark.skipif(not config_engines(), reason="no docker CLI with `stack config` here")
@pytest.mark.parametrize("engine", config_engines(), ids=repr)
def test_our_reading_means_to_docker_what_the_file_means(engine):
    """docker 28 reads the file itself with YAML 1.2 rules; what the stack module pipes
    (our reading, as JSON with every $ doubled) reads back to the same labels.  docker 26.1 (and 20.10) still read YAML 1.1:
    they refuse the unquoted yes/no/on/Off/y/N outright, and take ours as the strings."""
    text = label_file(AS_LABELS)
    ours, _lines = _compose_yaml.load(text, "s.yml")
    dumped, error = engine.config(["-"], stdin=json.dumps(escape_dollars(ours)))
    assert error == ""
    yaml11_words = [(index, spelling) for index, spelling in AS_LABELS
                    if spelling in ("yes", "no", "on", "Off", "y", "N")]
    original, error = engine.config(["-"], stdin=text)
    if engine.version.startswith("28."):
        assert error == ""
        theirs = yaml.safe_load(original)["services"]["web"]["labels"]
        labels = yaml.safe_load(dumped)["services"]["web"]["labels"]
        date = "k%d" % next(index for index, spelling in AS_LABELS if spelling == "2024-05-01")
        # Ours on purpose: docker 28 turns an unquoted date into a Go time string.
        assert (labels.pop(date), theirs.pop(date)) == ("2024-05-01",
                                                        "2024-05-01 00:00:00 +0000 UTC")
        assert labels == theirs
    else:
        assert "must be a string, number or null" in error
        rest = label_file([item for item in AS_LABELS if item not in yaml11_words])
        original, error = engine.config(["-"], stdin=rest)
        labels = yaml.safe_load(dumped)["services"]["web"]["labels"]
        assert {key: value for key, value in labels.items()
                if key in yaml.safe_load(original)["services"]["web"]["labels"]} == \
            yaml.safe_load(original)["services"]["web"]["labels"]
        assert [labels["k%d" % index] for index, _s in yaml11_words] == \
            ["yes", "no", "on", "Off", "y", "N"]


def test_engines_compared_are_the_three_debian_and_upstream_clis():
    if missing_note():
        pytest.skip("docker CLIs absent here: %s (make oracles fetches 26.1)" % missing_note())
    found = [".".join(engine.version.split(".")[:2]) for engine in engines()]
    assert {"20.10", "26.1", "28.2"} <= set(found)
    assert all(engine.has_config == (engine.version.split(".")[0] != "20")
               for engine in engines())


@pytest.mark.parametrize("text, problem", [
    ("services:\n  web:\n    image: a\n    image: b\n",
     's.yml:4:5: mapping key "image" already defined at line 3'),
    ("a: 1\nb: 2\na: 3\n", 's.yml:3:1: mapping key "a" already defined at line 1'),
    ("x:\n  1: a\n", "s.yml:2:3: non-string key 1 (quote it)"),
    ("x:\n  true: a\n", "s.yml:2:3: non-string key true (quote it)"),
    ("x:\n  [a]: 1\n", "s.yml:2:3: a mapping key must be a string, not a sequence"),
    ("x: &a [1]\ny:\n  <<: *a\n", "s.yml:1:8: expected a mapping to merge, found a scalar"),
    ("y:\n  <<: 1\n", "s.yml:2:7: expected a mapping to merge, found a scalar"),
])
def test_load_refuses_what_docker_refuses_with_file_and_line(text, problem):
    with pytest.raises(_compose_yaml.LoadError) as caught:
        _compose_yaml.load(text, "s.yml")
    assert caught.value.problems == [problem]


def test_load_lists_every_duplicate_at_once():
    text = "services:\n  web:\n    image: a\n    image: b\n  web:\n    ports: []\n"
    with pytest.raises(_compose_yaml.LoadError) as caught:
        _compose_yaml.load(text, "s.yml")
    assert caught.value.problems == [
        's.yml:4:5: mapping key "image" already defined at line 3',
        's.yml:5:3: mapping key "web" already defined at line 2']


MERGED = """\
x-a: &a {restart: always, image: a, labels: {from: a}}
x-b: &b {image: b, user: b}
services:
  web:
    <<: [*a, *b]
    image: own
"""


def test_merge_keys_own_wins_then_earlier_source_and_lines_follow():
    data, lines = _compose_yaml.load(MERGED, "m.yml")
    assert data["services"]["web"] == {"restart": "always", "labels": {"from": "a"},
                                       "user": "b", "image": "own"}
    assert lines[("services", "web", "image")] == 6
    # A merged-in value is located where the anchor wrote it.
    assert lines[("services", "web", "user")] == 2
    assert data["services"]["web"]["image"].line == 6


def test_duplicate_key_after_a_merge_key_is_not_a_duplicate():
    data, _lines = _compose_yaml.load("x: &x {a: 1}\ny:\n  <<: *x\n  a: 2\n", "m.yml")
    assert data["y"] == {"a": 2}


BLOCK = """\
services:
  web:
    image: a
    command:
      - sh
      - -c
      - |
        echo start
        echo $FIRST

        echo ${SECOND:?say it}
    entrypoint: >
      folded $THIRD
      text
"""


def test_interpolation_problems_inside_a_literal_block_name_their_own_line():
    data, _lines = _compose_yaml.load(BLOCK, "b.yml")
    with pytest.raises(_compose.ComposeError) as caught:
        _compose.interpolate(data, {}, "b.yml")
    assert caught.value.problems == [
        "b.yml:9: service web: variable FIRST is not set",
        "b.yml:11: service web: variable SECOND is not set: say it",
        # A folded block joins its lines: its own first line is the best we can say.
        "b.yml:12: service web: variable THIRD is not set"]
