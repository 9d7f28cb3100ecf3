"""The controller-side compose renderer: loading, interpolation, casting, merging and piping,
on hand-written documents and on real stacks compared with what `docker stack config` made
of the same files (recorded in tests/unit/fixtures/compose, see its README)."""

import json
import os
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

from ansible_collections.swarmops.cluster.plugins.module_utils._docker_cli import escape_dollars
from ansible_collections.swarmops.cluster.plugins.plugin_utils import _compose, _dotenv

from docker_engines import engines

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "compose"


def read_env(path):
    """KEY=VALUE lines of an .env file (comments and blank lines skipped) as a dict."""
    pairs = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _sep, value = line.partition("=")
            pairs[key] = value
    return pairs


def render_text(text, variables=None, filename="stack.yml"):
    """Render one in-memory compose file."""
    return _compose.render([(filename, text)], variables or {})


def problems_of(call, *args):
    """The problem list of the ComposeError that call(*args) raises."""
    with pytest.raises(_compose.ComposeError) as caught:
        call(*args)
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


def expand(template, variables):
    """One template string interpolated on its own."""
    document = _compose.load_file("x-value: %s\n" % yaml.safe_dump(template).split("\n")[0],
                                  "t.yml")
    assert document["x-value"] == template
    return _compose.interpolate(document, variables, "t.yml")["x-value"]


def assert_plain(value):
    """Only plain dict/list/str/int/float/bool/None, so safe_dump and Ansible take it."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert type(key) is str  # pylint: disable=unidiomatic-typecheck
            assert_plain(item)
    elif isinstance(value, list):
        for item in value:
            assert_plain(item)
    else:
        assert type(value) in (str, int, float, bool, type(None)), type(value)


# --- load_file -----------------------------------------------------------------------------

ANCHORS = """\
x-defaults: &defaults
  restart: always
  logging: {driver: json-file}
x-deploy: &deploy
  deploy: {replicas: 2}
  restart: on-failure
services:
  one:
    <<: *defaults
    image: one
  two:
    <<: [*defaults, *deploy]
    image: two
  three:
    <<: *defaults
    restart: "no"
"""


def test_load_file_resolves_anchors_and_merge_keys():
    document = _compose.load_file(ANCHORS, "a.yml")
    services = document["services"]
    assert services["one"] == {"restart": "always", "logging": {"driver": "json-file"},
                               "image": "one"}
    # In a merge-key list the first mapping wins (YAML spec, and docker; PyYAML alone lets
    # the last win); keys written in the service win over both.
    assert services["two"]["restart"] == "always"
    assert services["two"]["deploy"] == {"replicas": 2}
    assert services["three"]["restart"] == "no"


def test_load_file_remembers_the_line_of_each_string():
    document = _compose.load_file(ANCHORS, "a.yml")
    assert document["services"]["one"]["image"].line == 10
    # A merged-in value keeps the line where the anchor wrote it.
    assert document["services"]["one"]["restart"].line == 2


def test_load_file_keeps_unquoted_dates_as_strings():
    document = _compose.load_file("labels: {released: 2024-05-01}\n", "a.yml")
    assert document["labels"]["released"] == "2024-05-01"


@pytest.mark.parametrize("text, expected", [
    ("services:\n  web:\n    image: [nginx\n", "bad.yml:4:1: expected ',' or ']'"),
    ("services:\n  web:\n    image: nginx\n   ports: 1\n", "bad.yml:4:4: expected <block end>"),
    ("services:\n  web:\n    image: nginx:1 ports: 1\n",
     "bad.yml:3:25: mapping values are not allowed here"),
    ('a: "unterminated\n', "bad.yml:2:1: found unexpected end of stream"),
    ("x: &a {b: 1}\ny: {<<: [1]}\n", "bad.yml:2:10: expected a mapping to merge"),
    ("a: *nowhere\n", "bad.yml:1:4: found undefined alias 'nowhere'"),
    # docker reads the first document and ignores the rest; we refuse the file.
    ("a: 1\n---\nb: 2\n", "bad.yml:3: a compose file holds one document"),
    ("a:\n\tb: 1\n", "bad.yml:2:1: found character '\\t' that cannot start any token"),
])
def test_load_file_names_file_line_column_and_problem(text, expected):
    problems = problems_of(_compose.load_file, text, "bad.yml")
    assert len(problems) == 1
    assert problems[0].startswith(expected), problems[0]


@pytest.mark.parametrize("text, kind", [
    ("", "an empty document"), ("- a\n- b\n", "a list"), ("just text\n", "a string"),
])
def test_load_file_wants_a_mapping_at_the_top(text, kind):
    assert problems_of(_compose.load_file, text, "top.yml") == [
        "top.yml:1: the top level must be a mapping, not %s" % kind]


# --- interpolate: expressions --------------------------------------------------------------

VARIABLES = {"SET": "value", "EMPTY": "", "OTHER": "other", "NUM": 3, "FLAG": True}


@pytest.mark.parametrize("template, expected", [
    ("$SET", "value"),
    ("${SET}", "value"),
    ("pre-${SET}-post", "pre-value-post"),
    ("$SET/$OTHER", "value/other"),
    ("${UNSET:-default}", "default"),
    ("${EMPTY:-default}", "default"),
    ("${SET:-default}", "value"),
    ("${UNSET-default}", "default"),
    ("${EMPTY-default}", ""),
    ("${UNSET:-}", ""),
    ("${SET:+alt}", "alt"),
    ("${EMPTY:+alt}", ""),
    ("${UNSET:+alt}", ""),
    ("${EMPTY+alt}", "alt"),
    ("${UNSET+alt}", ""),
    ("${SET:?never shown}", "value"),
    ("${EMPTY?set is enough}", ""),
    ("${UNSET:-${OTHER}}", "other"),
    ("${UNSET:-${UNSET2:-x}}", "x"),
    ("${UNSET:-a ${OTHER} b}", "a other b"),
    ("${SET:+[${OTHER:-y}]}", "[other]"),
    # The unused operand is not evaluated, as in a shell: no error for ${UNSET2}.
    ("${SET:-${UNSET2}}", "value"),
    ("$$SET", "$SET"),
    ("$${SET}", "${SET}"),
    ("$$$SET", "$value"),
    ("cost: 5$$", "cost: 5$"),
    # A "$" starting no expression stays literal, like compose-go (docker's stack CLI errors).
    ("a $ b", "a $ b"),
    ("5$", "5$"),
    ("$1 and $-", "$1 and $-"),
    ("}{", "}{"),
    # Compose spec: $NAME stops at the name ($SET-x is not ${SET-x}, as docker's CLI reads it).
    ("$SET-x", "value-x"),
    ("${SET}}", "value}"),
    ("${NUM}", "3"),
    ("${FLAG}", "true"),
])
def test_interpolate_expressions(template, expected):
    assert expand(template, VARIABLES) == expected


def test_interpolate_treats_none_as_unset():
    assert expand("${NONE-default}", {"NONE": None}) == "default"
    assert problems_of(_compose.interpolate, {"a": "$NONE"}, {"NONE": None}, "f.yml") == [
        "f.yml: a: variable NONE is not set"]


def test_interpolate_leaves_keys_and_non_strings_alone():
    document = _compose.load_file("labels:\n  ${KEY}: 1\n  b: true\n  c: 1.5\n  d:\n",
                                  "f.yml")
    assert _compose.interpolate(document, {}, "f.yml") == {
        "labels": {"${KEY}": 1, "b": True, "c": 1.5, "d": None}}


# --- interpolate: problems -----------------------------------------------------------------

MISSING = """\
version: "3.8"
x-defaults: &defaults
  image: ${REGISTRY}/base
services:
  web:
    <<: *defaults
    environment:
      - DB_PASSWORD=${DB_PASSWORD}
      - MODE=${MODE:-prod}
    command: ["serve", "--token", "$TOKEN", "--name", "${NAME:?give the site a name}"]
  worker:
    image: worker:${TAG}
    deploy:
      replicas: ${REPLICAS?how many workers}
      labels: {owner: "${EMPTY:?owner must not be empty}"}
networks:
  front:
    driver_opts: {encrypted: "${ENCRYPT}"}
volumes:
  data:
    driver_opts: {device: ":/export/${SHARE}"}
"""


def test_interpolate_lists_every_missing_variable_with_file_line_and_service():
    problems = problems_of(_compose.interpolate, _compose.load_file(MISSING, "stack.yml"),
                           {"EMPTY": ""}, "stack.yml")
    assert problems == [
        "stack.yml:3: x-defaults.image: variable REGISTRY is not set",
        "stack.yml:3: service web: variable REGISTRY is not set",
        "stack.yml:8: service web: variable DB_PASSWORD is not set",
        "stack.yml:10: service web: variable TOKEN is not set",
        "stack.yml:10: service web: variable NAME is not set: give the site a name",
        "stack.yml:12: service worker: variable TAG is not set",
        "stack.yml:14: service worker: variable REPLICAS is not set: how many workers",
        "stack.yml:15: service worker: variable EMPTY is empty: owner must not be empty",
        "stack.yml:18: networks.front.driver_opts.encrypted: variable ENCRYPT is not set",
        "stack.yml:21: volumes.data.driver_opts.device: variable SHARE is not set",
    ]


def test_interpolate_succeeds_once_every_variable_is_given():
    variables = {"REGISTRY": "r.example.org", "DB_PASSWORD": "pw", "TOKEN": "t", "NAME": "n",
                 "TAG": "1", "REPLICAS": "2", "EMPTY": "ops", "ENCRYPT": "true",
                 "SHARE": "data"}
    result = _compose.interpolate(_compose.load_file(MISSING, "stack.yml"), variables,
                                  "stack.yml")
    assert result["services"]["web"]["image"] == "r.example.org/base"
    assert result["services"]["web"]["environment"] == ["DB_PASSWORD=pw", "MODE=prod"]
    assert result["services"]["worker"]["deploy"]["replicas"] == 2
    # driver_opts values are strings for docker: not a cast path.
    assert result["networks"]["front"]["driver_opts"]["encrypted"] == "true"
    assert_plain(result)


@pytest.mark.parametrize("template, problem", [
    ("${FOO", 'invalid interpolation "${FOO": no closing "}"'),
    ("a ${FOO:-${BAR} b", 'invalid interpolation "${FOO:-${BAR} b": no closing "}"'),
    ("${}", 'invalid interpolation "${}"'),
    ("${1ABC}", 'invalid interpolation "${1ABC}"'),
    ("${FOO:x}", 'invalid interpolation "${FOO:x}"'),
    ("${FOO BAR}", 'invalid interpolation "${FOO BAR}"'),
    ("${FOO/a/b}", 'invalid interpolation "${FOO/a/b}"'),
    ("${UNSET:-${}}", 'invalid interpolation "${}"'),
])
def test_interpolate_reports_invalid_syntax(template, problem):
    document = _compose.load_file("services:\n  web:\n    image: '%s'\n" % template, "s.yml")
    assert problems_of(_compose.interpolate, document, {"FOO": "x"}, "s.yml") == [
        "s.yml:3: service web: " + problem]


def test_interpolate_without_lines_still_names_file_and_place():
    problems = problems_of(_compose.interpolate,
                           {"services": {"web": {"ports": ["$P"]}}, "x-a": ["$Q"]}, {}, "m.yml")
    assert problems == ["m.yml: service web: variable P is not set",
                        "m.yml: x-a[0]: variable Q is not set"]


# --- interpolate: casts --------------------------------------------------------------------

CASTS = """\
services:
  web:
    image: web
    read_only: ${YES}
    tty: "${NO}"
    privileged: ${TRUE}
    stdin_open: ${OFF}
    environment:
      REPLICAS: ${N}
      ENABLED: ${TRUE}
    labels: ["count=${N}"]
    healthcheck: {retries: "${N}", disable: "${NO}"}
    ports:
      - {target: "${PORT}", published: "${N}${N}"}
    secrets: [{source: s, mode: "${MODE}"}]
    ulimits:
      nproc: ${N}
      nofile: {soft: "${N}", hard: "${N}0"}
    volumes: [{type: volume, source: v, target: /v, read_only: "${TRUE}",
               volume: {nocopy: "${YES}"}}]
    deploy:
      replicas: ${N}
      update_config: {parallelism: "${N}", max_failure_ratio: "${RATIO}"}
      restart_policy: {max_attempts: "${N}"}
      placement: {max_replicas_per_node: "${N}"}
      resources: {limits: {cpus: "${RATIO}"}}
networks:
  front: {external: "${TRUE}"}
  back: {internal: "${NO}", attachable: "${YES}"}
volumes:
  v: {external: "${NO}"}
secrets:
  s: {external: "${YES}"}
"""


def test_interpolate_casts_the_paths_docker_casts():
    variables = {"YES": "yes", "NO": "No", "TRUE": "true", "OFF": "off", "N": "3",
                 "PORT": "8080", "MODE": "0440", "RATIO": "0.25"}
    result = _compose.interpolate(_compose.load_file(CASTS, "c.yml"), variables, "c.yml")
    web = result["services"]["web"]
    assert (web["read_only"], web["tty"], web["privileged"], web["stdin_open"]) == \
        (True, False, True, False)
    assert web["healthcheck"] == {"retries": 3, "disable": False}
    assert web["ports"] == [{"target": 8080, "published": 33}]
    # strconv.Atoi, as docker: decimal, not octal.
    assert web["secrets"] == [{"source": "s", "mode": 440}]
    assert web["ulimits"] == {"nproc": 3, "nofile": {"soft": 3, "hard": 30}}
    assert web["volumes"][0]["read_only"] is True
    assert web["volumes"][0]["volume"] == {"nocopy": True}
    assert web["deploy"] == {
        "replicas": 3, "update_config": {"parallelism": 3, "max_failure_ratio": 0.25},
        "restart_policy": {"max_attempts": 3}, "placement": {"max_replicas_per_node": 3},
        # Not a cast path: docker wants cpus as a string.
        "resources": {"limits": {"cpus": "0.25"}}}
    # environment and labels stay strings whatever they look like.
    assert web["environment"] == {"REPLICAS": "3", "ENABLED": "true"}
    assert web["labels"] == ["count=3"]
    assert result["networks"] == {"front": {"external": True},
                                  "back": {"internal": False, "attachable": True}}
    assert result["volumes"] == {"v": {"external": False}}
    assert result["secrets"] == {"s": {"external": True}}


def test_interpolate_casts_only_what_interpolation_changed():
    # docker casts only a changed string: a quoted literal is the author's string, and
    # docker's schema check refuses it just the same with or without us.
    text = 'services:\n  web:\n    read_only: "yes"\n    deploy: {replicas: "3"}\n'
    result = _compose.interpolate(_compose.load_file(text, "l.yml"), {}, "l.yml")
    assert result["services"]["web"] == {"read_only": "yes", "deploy": {"replicas": "3"}}
    # An escape is a change too: "$$3" reads "$3", which is no integer.
    text = 'services:\n  web:\n    deploy: {replicas: "$$3"}\n'
    assert problems_of(_compose.interpolate, _compose.load_file(text, "l.yml"), {},
                       "l.yml") == ["l.yml:3: service web: deploy.replicas '$3': not an integer"]


def test_interpolate_lists_values_that_cannot_be_cast():
    text = ("services:\n  web:\n    deploy: {replicas: '${N}'}\n"
            "    ports: [{target: '${N}', published: 80}]\n    read_only: '${N}'\n"
            "networks:\n  front: {external: '${N}'}\n")
    problems = problems_of(_compose.interpolate, _compose.load_file(text, "c.yml"),
                           {"N": "three"}, "c.yml")
    assert problems == [
        "c.yml:3: service web: deploy.replicas 'three': not an integer",
        "c.yml:4: service web: ports[0].target 'three': not an integer",
        "c.yml:5: service web: read_only 'three': not a boolean",
        "c.yml:7: networks.front.external: external 'three': not a boolean",
    ]


# --- merge ---------------------------------------------------------------------------------

def merge_services(base, override):
    """Merge two one-service documents; return the merged service "s"."""
    return _compose.merge([{"services": {"s": base}}, {"services": {"s": override}}])[
        "services"]["s"]


def test_merge_environment_list_and_mapping_key_wise():
    merged = merge_services({"environment": ["A=1", "B=2", "C"]},
                            {"environment": {"B": "3", "D": "4"}})
    assert merged["environment"] == {"A": "1", "B": "3", "C": None, "D": "4"}


def test_merge_two_environment_lists_stays_a_list():
    merged = merge_services({"environment": ["A=1", "B=2"], "labels": ["x=1"]},
                            {"environment": ["B=3=3", "C"], "labels": {"y": "2"}})
    assert merged["environment"] == ["A=1", "B=3=3", "C"]
    assert merged["labels"] == {"x": "1", "y": "2"}


def test_merge_deploy_labels_extra_hosts_and_sysctls_key_wise():
    merged = merge_services(
        {"deploy": {"labels": ["a=1"], "replicas": 1}, "extra_hosts": ["db:10.0.0.5"],
         "sysctls": {"net.core.somaxconn": 1024}},
        {"deploy": {"labels": {"b": "2"}}, "extra_hosts": ["db:10.0.0.6", "cache:10.0.0.7"],
         "sysctls": ["net.ipv4.tcp_syncookies=0"]})
    assert merged["deploy"] == {"labels": {"a": "1", "b": "2"}, "replicas": 1}
    assert merged["extra_hosts"] == ["db:10.0.0.6", "cache:10.0.0.7"]
    assert merged["sysctls"] == {"net.core.somaxconn": 1024, "net.ipv4.tcp_syncookies": "0"}


def test_merge_ports_by_published_target_and_protocol():
    merged = merge_services(
        {"ports": ["80:80", "443:443", "443:443/udp", {"target": 9000, "published": 9000}]},
        {"ports": [{"target": 80, "published": 80, "mode": "host"}, "8443:443",
                   {"target": 9000, "published": "9000", "protocol": "tcp"}]})
    # docker's CLI keys ports by published port alone and would drop 443/tcp here
    # (docker/cli#2407, #6223); we keep both protocols.
    assert merged["ports"] == [{"target": 80, "published": 80, "mode": "host"}, "443:443",
                               "443:443/udp",
                               {"target": 9000, "published": "9000", "protocol": "tcp"},
                               "8443:443"]


def test_merge_volumes_by_target():
    merged = merge_services(
        {"volumes": ["data:/data", "/etc/ssl:/etc/ssl:ro", "/scratch"]},
        {"volumes": [{"type": "volume", "source": "data2", "target": "/data"},
                     "tmp:/scratch", "logs:/logs"]})
    assert merged["volumes"] == [{"type": "volume", "source": "data2", "target": "/data"},
                                 "/etc/ssl:/etc/ssl:ro", "tmp:/scratch", "logs:/logs"]


def test_merge_secrets_and_configs_by_source():
    merged = merge_services(
        {"secrets": ["a", {"source": "b", "target": "b.txt"}], "configs": ["c"]},
        {"secrets": [{"source": "a", "target": "a.key"}, "d"],
         "configs": [{"source": "c", "target": "/etc/c", "mode": 288}]})
    assert merged["secrets"] == [{"source": "a", "target": "a.key"},
                                 {"source": "b", "target": "b.txt"}, "d"]
    assert merged["configs"] == [{"source": "c", "target": "/etc/c", "mode": 288}]


def test_merge_replaces_scalars_command_entrypoint_and_healthcheck_test():
    merged = merge_services(
        {"image": "web:1", "command": ["serve", "--port", "80"], "entrypoint": ["/init"],
         "healthcheck": {"test": ["CMD", "true"], "retries": 3, "interval": "10s"}},
        {"image": "web:2", "command": "serve --debug", "entrypoint": "/debug-init",
         "healthcheck": {"test": ["CMD-SHELL", "curl -f localhost"], "interval": "5s"}})
    assert merged == {
        "image": "web:2", "command": "serve --debug", "entrypoint": "/debug-init",
        # docker appends the two test lists into one command; we replace it.
        "healthcheck": {"test": ["CMD-SHELL", "curl -f localhost"], "retries": 3,
                        "interval": "5s"}}


def test_merge_appends_plain_lists_without_repeats():
    merged = merge_services(
        {"dns": "10.0.0.2", "cap_add": ["NET_ADMIN"], "depends_on": ["db"],
         "deploy": {"placement": {"constraints": ["node.role == worker"]}}},
        {"dns": ["10.0.0.3"], "cap_add": ["NET_ADMIN", "SYS_PTRACE"], "depends_on": ["cache"],
         "deploy": {"placement": {"constraints": ["node.labels.zone == b"]}}})
    assert merged == {"dns": ["10.0.0.2", "10.0.0.3"], "cap_add": ["NET_ADMIN", "SYS_PTRACE"],
                      "depends_on": ["db", "cache"],
                      "deploy": {"placement": {"constraints": ["node.role == worker",
                                                               "node.labels.zone == b"]}}}


def test_merge_service_networks_by_name():
    assert merge_services({"networks": ["front"]}, {"networks": ["front", "back"]}) == {
        "networks": ["front", "back"]}
    merged = merge_services(
        {"networks": {"front": {"aliases": ["a"], "ipv4_address": "10.0.0.9"}, "mid": None}},
        {"networks": ["front", "back"]})
    assert merged["networks"] == {"front": {"aliases": ["a"], "ipv4_address": "10.0.0.9"},
                                  "mid": None, "back": None}
    merged = merge_services({"networks": {"front": {"aliases": ["a"], "priority": 1}}},
                            {"networks": {"front": {"aliases": ["b"]}}})
    assert merged["networks"] == {"front": {"aliases": ["b"], "priority": 1}}


def test_merge_logging_by_driver_and_ulimits_by_name():
    base = {"logging": {"driver": "json-file", "options": {"max-size": "1m"}},
            "ulimits": {"nofile": {"soft": 1024, "hard": 2048}, "nproc": 100}}
    merged = merge_services(base, {"logging": {"options": {"max-file": "3"}},
                                   "ulimits": {"nofile": {"soft": 4096}}})
    assert merged["logging"] == {"driver": "json-file",
                                 "options": {"max-size": "1m", "max-file": "3"}}
    assert merged["ulimits"] == {"nofile": {"soft": 4096}, "nproc": 100}
    merged = merge_services(base, {"logging": {"driver": "syslog",
                                               "options": {"tag": "web"}}})
    assert merged["logging"] == {"driver": "syslog", "options": {"tag": "web"}}


def test_merge_null_override_keeps_the_base():
    merged = merge_services({"image": "web", "volumes": ["a:/a"]},
                            {"image": None, "volumes": None})
    assert merged == {"image": "web", "volumes": ["a:/a"]}


def test_merge_top_level_sections():
    merged = _compose.merge([
        {"version": "3.7", "services": {"a": {"image": "a"}},
         "networks": {"front": {"driver": "overlay", "attachable": True}},
         "volumes": {"data": {"driver": "local", "driver_opts": {"type": "nfs"}}, "logs": None},
         "secrets": {"s1": {"external": True}}, "configs": {"c1": {"file": "./c1"}},
         "x-owner": "ops", "x-keep": 1},
        {"version": "3.8", "services": {"b": {"image": "b"}},
         "networks": {"front": {"driver": "overlay"}, "back": {}},
         "volumes": {"data": {"labels": {"backup": "yes"}}},
         "secrets": {"s2": {"external": True}}, "configs": None, "x-owner": "platform"},
    ])
    assert merged == {
        "version": "3.8", "services": {"a": {"image": "a"}, "b": {"image": "b"}},
        # A later definition of a resource replaces the earlier one whole, as in docker.
        "networks": {"front": {"driver": "overlay"}, "back": {}},
        "volumes": {"data": {"labels": {"backup": "yes"}}, "logs": None},
        "secrets": {"s1": {"external": True}, "s2": {"external": True}},
        "configs": {"c1": {"file": "./c1"}}, "x-owner": "platform", "x-keep": 1}


def test_merge_neither_mutates_nor_shares_its_inputs():
    shared = {"driver": "json-file", "options": {"max-size": "1m"}}
    base = {"services": {"a": {"logging": shared}, "b": {"logging": shared}}}
    override = {"services": {"a": {"logging": {"options": {"max-file": "2"}}}}}
    merged = _compose.merge([base, override])
    assert shared == {"driver": "json-file", "options": {"max-size": "1m"}}
    assert merged["services"]["b"]["logging"] == shared
    assert merged["services"]["b"]["logging"] is not shared
    assert merged["services"]["a"]["logging"]["options"] == {"max-size": "1m", "max-file": "2"}


# --- render and pipe -----------------------------------------------------------------------

@pytest.mark.parametrize("text, version", [
    ("services: {}\n", "3.8"),
    ("version: '3'\nservices: {}\n", "3"),
    ("version: '3.9'\nservices: {}\n", "3.9"),
    ("version: ${V}\nservices: {}\n", "3.4"),
])
def test_render_gives_a_version_docker_accepts(text, version):
    rendered = render_text(text, {"V": "3.4"})
    assert rendered["version"] == version
    assert list(rendered)[0] == "version"


@pytest.mark.parametrize("text, shown", [
    ("version: '2.4'\n", "'2.4'"), ("version: '3.10'\n", "'3.10'"), ("version: x\n", "'x'")])
def test_render_refuses_versions_docker_20_10_does_not_know(text, shown):
    assert problems_of(render_text, text) == [
        "version %s: docker stack deploy (docker 20.10) needs 3.0 to 3.9" % shown]


@pytest.mark.parametrize("text", ["version: 3.2\nservices: {}\n", "version: 3\nservices: {}\n"])
def test_render_refuses_an_unquoted_version_as_docker_does(text):
    # docker 20.10, 26.1 and 28.2 all say "version must be a string".
    assert problems_of(render_text, text) == ["stack.yml:1: version must be a string, not a number"]


def test_render_reports_the_problems_of_all_files():
    files = [("base.yml", "services:\n  web:\n    image: web:${TAG}\n"),
             ("broken.yml", "services:\n  web: [\n"),
             ("override.yml", "services:\n  web:\n    environment: [TOKEN=$TOKEN]\n"),
             ("list.yml", "- not a mapping\n"),
             ("shape.yml", "services:\n  web: nginx\nnetworks: [front]\n")]
    assert problems_of(_compose.render, files, {}) == [
        "base.yml:3: service web: variable TAG is not set",
        "broken.yml:3:1: expected the node content, but found '<stream end>' "
        "(while parsing a flow node)",
        "override.yml:3: service web: variable TOKEN is not set",
        "list.yml:1: the top level must be a mapping, not a list",
        "shape.yml:2: service web: must be a mapping, not a string",
        "shape.yml:3: networks must be a mapping, not a list",
    ]


def test_render_needs_a_file():
    assert problems_of(_compose.render, [], {}) == ["no compose file given"]


def piped(rendered):
    """What the stack module pipes to docker stack deploy: JSON (which is YAML), every $
    doubled."""
    return json.dumps(escape_dollars(rendered))


def test_what_is_piped_has_no_anchors_and_keeps_string_types():
    rendered = _compose.render([("a.yml", ANCHORS)], {})
    text = piped(rendered)
    assert "&" not in text and "*" not in text and "<<" not in text
    again = yaml.safe_load(text)
    assert again == rendered
    assert again["services"]["three"]["restart"] == "no"
    quoted = {"version": "3.8", "x-s": ["3", "true", "yes", "0x1F", "1e3", "null", "~", "0400"]}
    assert yaml.safe_load(piped(quoted)) == quoted


def test_what_is_piped_is_deterministic_and_keeps_key_order():
    rendered = render_text("version: '3.8'\nservices:\n  z: {image: z}\n  a: {image: a}\n")
    text = piped(rendered)
    assert text == piped(_compose.render([("s.yml", text)], {}))
    assert text == '{"version": "3.8", "services": {"z": {"image": "z"}, "a": {"image": "a"}}}'


def test_what_is_piped_doubles_dollars_so_docker_reads_back_the_rendered_value():
    rendered = render_text("services:\n  web:\n    command: ['sh', '-c', 'echo $$HOME ${A}$']\n",
                           {"A": "$x"})
    assert rendered["services"]["web"]["command"][2] == "echo $HOME $x$"
    text = piped(rendered)
    assert "echo $$HOME $$x$$" in text
    # docker stack deploy interpolates what it reads: that gives the rendered value back.
    assert _compose.render([("piped.yml", text)], {}) == rendered


# --- real stacks, compared with docker stack config ----------------------------------------

def normalise_list_or_dict(value, separator="="):
    """A list ("K=V") or mapping as a mapping of strings, as docker writes it."""
    if isinstance(value, dict):
        return {key: None if item is None else str(item) for key, item in value.items()}
    pairs = {}
    for item in value or []:
        key, found, item_value = item.partition(separator)
        pairs[key] = item_value if found else None
    return pairs


def normalise_port(port):
    """Long syntax with docker's defaults filled in."""
    if not isinstance(port, dict):
        spec, _sep, protocol = port.partition("/")
        published, _sep, target = spec.rpartition(":")
        port = {"target": target, "published": published or None, "protocol": protocol}
    return {"target": int(port["target"]),
            "published": None if port.get("published") is None else int(port["published"]),
            "protocol": port.get("protocol") or "tcp", "mode": port.get("mode") or "ingress"}


def normalise_volume(volume):
    """Long syntax for "source:target[:ro]"; a relative bind source by its file name (docker
    makes it absolute where it ran)."""
    if isinstance(volume, dict):
        long = dict(volume)
    else:
        parts = volume.split(":")
        long = {"type": "bind" if parts[0].startswith(("/", ".")) else "volume",
                "source": parts[0], "target": parts[1]}
        if parts[2:] == ["ro"]:
            long["read_only"] = True
    if long["type"] == "bind" and (long["source"].startswith("./")
                                   or "/fixtures/compose/" in long["source"]):
        long["source"] = os.path.basename(long["source"])
    return long


def normalise_service(service, env_file_variables):
    """docker's canonical form of a service; env_file read the way docker reads it."""
    service = dict(service)
    environment = normalise_list_or_dict(service.get("environment"))
    if "env_file" in service:
        service["env_file"] = [service["env_file"]] if isinstance(service["env_file"], str) \
            else service["env_file"]
        environment = dict(env_file_variables, **environment)
    for key, value in (("environment", environment),
                       ("labels", normalise_list_or_dict(service.get("labels")))):
        if value:
            service[key] = value
    if "labels" in service.get("deploy", {}):
        service["deploy"] = dict(service["deploy"],
                                 labels=normalise_list_or_dict(service["deploy"]["labels"]))
    for key in ("command", "entrypoint", "dns"):
        if isinstance(service.get(key), str):
            service[key] = shlex.split(service[key]) if key != "dns" else [service[key]]
    sorters = {"ports": (normalise_port, lambda p: (p["published"], p["target"])),
               "volumes": (normalise_volume, lambda v: v["target"]),
               "secrets": (lambda s: s if isinstance(s, dict) else {"source": s},
                           lambda s: s["source"])}
    sorters["configs"] = sorters["secrets"]
    for key, (to_canonical, sort_key) in sorters.items():
        if service.get(key):
            service[key] = sorted((to_canonical(item) for item in service[key]), key=sort_key)
    if isinstance(service.get("networks"), list):
        service["networks"] = dict.fromkeys(service["networks"])
    return service


def normalise_resource(name, resource):
    """Top-level network/volume/secret/config as docker writes it."""
    resource = dict(resource or {})
    external = resource.get("external")
    if isinstance(external, dict):
        resource.update(external=True, name=external["name"])
    if resource.get("external") and resource.get("name", name) == name:
        resource.pop("name", None)
    if "file" in resource:
        # docker makes the path absolute where it ran.
        resource["file"] = os.path.basename(resource["file"])
    return resource


def normalise(compose, env_file_variables=None):
    """Both renderings in one canonical form, to compare meaning rather than spelling."""
    compose = dict(compose)
    compose["services"] = {name: normalise_service(service, env_file_variables or {})
                           for name, service in compose["services"].items()}
    for section in ("networks", "volumes", "secrets", "configs"):
        if section in compose:
            compose[section] = {name: normalise_resource(name, resource)
                                for name, resource in compose[section].items()}
    return compose


def render_fixture(directory, names, env_name):
    """Render fixture files with the variables of their env file."""
    variables = read_env(FIXTURES / directory / env_name)
    files = [(name, (FIXTURES / directory / name).read_text()) for name in names]
    return _compose.render(files, variables), variables


def recorded_docker_output(directory):
    """What `docker stack config` printed for the same input (see the fixture README)."""
    return yaml.safe_load((FIXTURES / directory / "docker-stack-config.yml").read_text())


def test_haiku_stack_renders_like_docker():
    rendered, _env = render_fixture("haiku", ["stack.yml"], "stack.env")
    assert_plain(rendered)
    assert normalise(rendered) == normalise(recorded_docker_output("haiku"))


def test_haiku_stack_anchors_resolve_into_independent_services():
    rendered, _env = render_fixture("haiku", ["stack.yml"], "stack.env")
    services = rendered["services"]
    assert services["userguide"]["deploy"] == {
        "replicas": 3, "restart_policy": {"condition": "on-failure", "max_attempts": 3}}
    # x-deploy is no cast path: its replicas stay the string docker also leaves there.
    assert rendered["x-deploy"]["deploy"]["replicas"] == "3"
    assert services["discourse"]["deploy"]["labels"]["traefik.enable"] == "true"
    assert services["discourse"]["secrets"][0]["mode"] == 0o400
    assert services["traefik"]["logging"] == services["discourse"]["logging"]
    assert services["traefik"]["logging"] is not services["discourse"]["logging"]
    assert "&" not in piped(rendered)


def test_haiku_stack_without_variables_lists_every_gap():
    text = (FIXTURES / "haiku" / "stack.yml").read_text()
    assert problems_of(_compose.render, [("stack.yml", text)], {}) == [
        "stack.yml:35: service traefik: variable ACME_EMAIL is not set",
        "stack.yml:58: service userguide: variable USERGUIDE_TAG is not set",
        "stack.yml:60: service userguide: variable DOMAIN is not set",
        "stack.yml:67: service userguide: variable DOMAIN is not set",
        "stack.yml:71: service discourse: variable DISCOURSE_VERSION is not set",
        "stack.yml:73: service discourse: variable DOMAIN is not set",
        "stack.yml:82: service discourse: variable DISCOURSE_REPLICAS is not set",
        "stack.yml:85: service discourse: variable DOMAIN is not set",
    ]


def test_merged_files_render_like_docker():
    rendered, _env = render_fixture("merge", ["base.yml", "override.yml"], "vars.env")
    assert normalise(rendered) == normalise(recorded_docker_output("merge"))
    web = rendered["services"]["web"]
    assert web["image"] == "registry.example.org/web:2.3.1-debug"
    assert web["command"] == "gunicorn app:wsgi --reload"
    assert web["environment"] == {"LOG_LEVEL": "debug", "DATABASE_URL": "postgres://db/web",
                                  "FEATURE_X": None, "DEBUG": "1"}
    assert web["deploy"]["replicas"] == 2 and web["healthcheck"]["retries"] == 5


MAILU_EMPTY_VOLUMES_LINE = 168


def mailu_fixed():
    """The seed's Mailu file without the empty ``volumes:`` of fetchmail (as recorded)."""
    lines = (FIXTURES / "mailu" / "docker-compose.yml").read_text().splitlines(True)
    assert lines[MAILU_EMPTY_VOLUMES_LINE - 1] == "    volumes:\n"
    assert lines[MAILU_EMPTY_VOLUMES_LINE - 4] == "    image: mailu/fetchmail:$VERSION\n"
    del lines[MAILU_EMPTY_VOLUMES_LINE - 1]
    return "".join(lines)


def test_mailu_stack_as_published_is_refused_naming_the_empty_volumes():
    # docker: "services.fetchmail.volumes must be a list", at deploy time; we say it first.
    with pytest.raises(_compose.ComposeError) as caught:
        render_fixture("mailu", ["docker-compose.yml"], ".env")
    assert caught.value.problems == [
        "docker-compose.yml:168: service fetchmail: volumes must be a list, not null"]


def test_mailu_stack_renders_like_docker_once_fixed():
    """Ours on purpose, and so normalised away: env_file is read on the controller and
    folded into environment (docker reads it where the CLI runs; the values agree), and an
    .env value's quotes are stripped (docker keeps them in env_file values; this .env has
    none)."""
    variables = read_env(FIXTURES / "mailu" / ".env")
    rendered = _compose.render([("docker-compose.yml", mailu_fixed())], variables)
    assert rendered["version"] == "3.2"
    assert rendered["services"]["front"]["image"] == "mailu/nginx:1.7"
    assert rendered["networks"] == {"default": {"external": {"name": "mailu_default"}}}
    assert normalise(rendered, variables) == normalise(recorded_docker_output("mailu"))


def test_mailu_stack_needs_its_version_variable():
    text = (FIXTURES / "mailu" / "docker-compose.yml").read_text()
    problems = problems_of(_compose.render, [("docker-compose.yml", text)], {})
    assert len(problems) == 9
    assert problems[0] == "docker-compose.yml:6: service front: variable VERSION is not set"
    assert all("variable VERSION is not set" in problem for problem in problems)


def shell_env(directory, env_name):
    """The variables of an .env file as `set -a; . ./.env` gives them to docker (the shell
    is the oracle for .env files it can read: quotes, export, ${...})."""
    result = subprocess.run(["sh", "-c", 'set -a; . ./"$1"; env -0', "sh", env_name],
                            cwd=FIXTURES / directory, capture_output=True, text=True,
                            check=True, env={"PATH": os.environ["PATH"]})
    pairs = dict(item.split("=", 1) for item in result.stdout.split("\0") if "=" in item)
    return {key: value for key, value in pairs.items() if key not in ("PATH", "PWD", "SHLVL", "_")}


# (directory, files, env file, how docker gets the variables: exported "plain" lines, or
# the "shell" sourcing the file -- Mailu's has a ";" that a shell would split on)
STACKS = [
    ("haiku", ["stack.yml"], "stack.env", "plain"),
    ("merge", ["base.yml", "override.yml"], "vars.env", "plain"),
    ("mailu", ["docker-compose.yml"], ".env", "plain"),
    ("traefik", ["stack.yml"], ".env", "shell"),
    ("overrides", ["stack.yml", "stack.prod.yml"], ".env", "shell"),
]


def render_stack(directory, names, env_name):
    """Our rendering of a fixture stack, its .env read as the action plugin reads it."""
    if directory == "mailu":
        return _compose.render([("docker-compose.yml", mailu_fixed())],
                               read_env(FIXTURES / "mailu" / ".env"))
    variables = _dotenv.read(str(FIXTURES / directory / env_name))
    files = [(name, (FIXTURES / directory / name).read_text()) for name in names]
    return _compose.render(files, variables)


def test_our_env_files_read_as_the_shell_reads_them():
    for directory in ("traefik", "overrides"):
        assert _dotenv.read(str(FIXTURES / directory / ".env")) == shell_env(directory, ".env")


def test_traefik_stack_renders_like_docker():
    """Labels full of backticks, a bcrypt hash from .env whose "$" stay as they are, and
    "$$" for a literal "${PREFIX}"."""
    rendered = render_stack("traefik", ["stack.yml"], ".env")
    labels = rendered["services"]["whoami"]["deploy"]["labels"]
    assert labels["traefik.http.routers.whoami.rule"] == "Host(`whoami.apps.example.org`)"
    assert labels["traefik.http.middlewares.strip.stripprefix.prefixes"] == "/${PREFIX},/static"
    assert rendered["services"]["traefik"]["deploy"]["labels"][7].endswith(
        "users=admin:$2y$05$Xr1Wfq3HcgZ0xjJZ9xg1EuQHk3I4f0d9Wc5m8m4yq0B5d5v0n7qQm")
    assert normalise(rendered) == normalise(recorded_docker_output("traefik"))


def test_override_stack_renders_like_docker():
    """The override moves published port 8080 to another target and merges environment
    list with mapping, secrets by source, volumes by target, deploy key by key."""
    rendered = render_stack("overrides", ["stack.yml", "stack.prod.yml"], ".env")
    app = rendered["services"]["app"]
    assert app["ports"] == ["8080:81", "8443:443"]
    assert app["secrets"][0] == {"source": "db_password", "target": "db_password",
                                 "mode": 0o400}
    assert rendered["services"]["redis"]["command"] == ["redis-server", "--appendonly", "yes"]
    assert normalise(rendered) == normalise(recorded_docker_output("overrides"))


def docker_variables(directory, env_name, how):
    """The variables docker gets for a fixture, read without our parser."""
    if how == "shell":
        return shell_env(directory, env_name)
    return read_env(FIXTURES / directory / env_name)


@pytest.mark.skipif(not engines(), reason="no docker CLI on this machine")
@pytest.mark.parametrize("engine", engines(), ids=repr)
@pytest.mark.parametrize("directory, names, env_name, how", STACKS,
                         ids=[stack[0] for stack in STACKS])
def test_each_engine_reads_our_dump_as_it_reads_the_originals(engine, directory, names,
                                                              env_name, how, tmp_path):
    """What the stack module pipes to `docker stack deploy -c -` (JSON, every "$" doubled;
    read with an empty environment) means what docker makes of the original files with the
    .env exported; both equal the recording.  docker 20.10 has no `stack config`: it must
    accept both."""
    dumped = json.dumps(escape_dollars(render_stack(directory, names, env_name)))
    originals = names
    if directory == "mailu":
        (tmp_path / "docker-compose.yml").write_text(mailu_fixed())
        (tmp_path / ".env").write_text((FIXTURES / "mailu" / ".env").read_text())
        cwd = tmp_path
    else:
        cwd = FIXTURES / directory
    variables = docker_variables(directory, env_name, how)
    if not engine.has_config:
        assert engine.refusal(originals, variables=variables, cwd=cwd) is None
        assert engine.refusal(["-"], stdin=dumped, cwd=cwd) is None
        return
    expected = normalise(recorded_docker_output(directory))
    theirs, error = engine.config(originals, variables=variables, cwd=cwd)
    assert error == ""
    assert normalise(yaml.safe_load(theirs)) == expected
    ours, error = engine.config(["-"], stdin=dumped, cwd=cwd)
    assert error == ""
    assert normalise(yaml.safe_load(ours)) == expected
