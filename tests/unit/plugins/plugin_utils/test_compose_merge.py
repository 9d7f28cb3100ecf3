"""Merging `-c base.yml -c override.yml` as docker stack deploy does.  The cases follow
docker/cli's loader/merge_test.go (logging, ports, secrets, configs, ulimits, service
networks, a whole service, top-level networks), written anew as compose files, plus the
issue's own; each is also merged by the docker CLIs on this machine and compared."""

import pytest
import yaml

from ansible_collections.swarmops.cluster.plugins.plugin_utils import _compose

from docker_engines import config_engines
from test_compose import normalise

LOG = "logging: {driver: json-file, options: {frequency: '2000', timeout: '23'}}"
# (id, base service, override service, merged service as we render it, docker differs?)
CASES = [
    ("logging same driver", LOG,
     "logging: {options: {timeout: '360', pretty-print: 'on'}}",
     {"logging": {"driver": "json-file", "options": {
         "frequency": "2000", "timeout": "360", "pretty-print": "on"}}}, None),
    ("logging other driver", LOG,
     "logging: {driver: syslog, options: {timeout: '360', pretty-print: 'on'}}",
     {"logging": {"driver": "syslog", "options": {"timeout": "360", "pretty-print": "on"}}},
     None),
    ("logging no base driver", "logging: {options: {frequency: '2000', timeout: '23'}}",
     "logging: {driver: json-file, options: {timeout: '360', pretty-print: 'on'}}",
     {"logging": {"options": {"frequency": "2000", "timeout": "360", "pretty-print": "on"},
                  "driver": "json-file"}}, None),
    ("logging no driver", "logging: {options: {frequency: '2000', timeout: '23'}}",
     "logging: {options: {timeout: '360', pretty-print: 'on'}}",
     {"logging": {"options": {"frequency": "2000", "timeout": "360", "pretty-print": "on"}}},
     None),
    ("logging no override options", LOG, "logging: {driver: syslog}",
     {"logging": {"driver": "syslog"}}, None),
    ("logging no base", "image: x", "logging: {driver: json-file, options: {frequency: '2000'}}",
     {"image": "x", "logging": {"driver": "json-file", "options": {"frequency": "2000"}}},
     None),
    ("ports no override", "ports: [{target: 80, published: 8080}]", "image: x",
     {"ports": [{"target": 80, "published": 8080}], "image": "x"}, None),
    ("ports other published", "ports: [{target: 80, published: 8080}]",
     "ports: [{target: 80, published: 8081}]",
     {"ports": [{"target": 80, "published": 8080}, {"target": 80, "published": 8081}]}, None),
    ("ports same published", "ports: [{target: 80, published: 8080}]",
     "ports: [{target: 81, published: 8080}]",
     {"ports": [{"target": 81, "published": 8080}]}, None),
    ("ports short syntax, the issue's case", 'ports: ["8080:80"]', 'ports: ["8080:81"]',
     {"ports": ["8080:81"]}, None),
    ("ports same published, other protocol", 'ports: ["443:443", "53:53"]',
     'ports: ["443:443/udp", "53:53/udp"]',
     {"ports": ["443:443", "53:53", "443:443/udp", "53:53/udp"]},
     "docker keys ports by published port alone and keeps only the udp ones"),
    ("ports that publish nothing", 'ports: ["7000"]', 'ports: ["7001"]',
     {"ports": ["7000", "7001"]}, "docker keeps only the last unpublished port"),
    ("secrets no override", "secrets: [my_secret]", "image: x",
     {"secrets": ["my_secret"], "image": "x"}, None),
    ("secrets other source", "secrets: [foo_secret]", "secrets: [bar_secret]",
     {"secrets": ["foo_secret", "bar_secret"]}, None),
    ("secrets same source", "secrets: [foo_secret, {source: bar_secret, target: waw_secret}]",
     "secrets: [{source: bar_secret, target: bof_secret}, "
     "{source: baz_secret, target: waw_secret}]",
     {"secrets": ["foo_secret", {"source": "bar_secret", "target": "bof_secret"},
                  {"source": "baz_secret", "target": "waw_secret"}]}, None),
    ("configs no override", "configs: [my_config]", "image: x",
     {"configs": ["my_config"], "image": "x"}, None),
    ("configs other source", "configs: [foo_config]", "configs: [bar_config]",
     {"configs": ["foo_config", "bar_config"]}, None),
    ("configs same source", "configs: [foo_config, {source: bar_config, target: /waw}]",
     "configs: [{source: bar_config, target: /bof}, {source: baz_config, target: /waw}]",
     {"configs": ["foo_config", {"source": "bar_config", "target": "/bof"},
                  {"source": "baz_config", "target": "/waw"}]}, None),
    ("ulimits no override", "ulimits: {nproc: 65535}", "image: x",
     {"ulimits": {"nproc": 65535}, "image": "x"}, None),
    ("ulimits simple", "ulimits: {nproc: 65535}", "ulimits: {nproc: 44444}",
     {"ulimits": {"nproc": 44444}}, None),
    ("ulimits other notation",
     "ulimits: {nofile: {soft: 11111, hard: 99999}, nproc: 44444}",
     "ulimits: {nofile: 55555, nproc: {soft: 22222, hard: 33333}}",
     {"ulimits": {"nofile": 55555, "nproc": {"soft": 22222, "hard": 33333}}}, None),
    ("networks no override", "networks: [net1, net2]", "image: x",
     {"networks": ["net1", "net2"], "image": "x"}, None),
    ("networks simple", "networks: [net1, net2]", "networks: [net1, net3]",
     {"networks": ["net1", "net2", "net3"]}, None),
    ("networks aliases", "networks: {net1: {aliases: [alias1]}, net2: }",
     "networks: {net1: {aliases: [alias2, alias3]}, net3: {}}",
     {"networks": {"net1": {"aliases": ["alias2", "alias3"]}, "net2": None, "net3": {}}},
     None),
    ("network addresses", "networks: {net1: {aliases: ['100'], ipv4_address: 10.0.0.1}, "
     "net2: {aliases: ['200']}}",
     "networks: {net1: {aliases: ['110'], ipv4_address: 10.0.1.1}, net3: {aliases: ['310']}}",
     {"networks": {"net1": {"aliases": ["110"], "ipv4_address": "10.0.1.1"},
                   "net2": {"aliases": ["200"]}, "net3": {"aliases": ["310"]}}}, None),
    ("whole service",
     "image: foo\n    ports: [{target: 80, published: 8080}, {target: 90, published: 9090}]"
     "\n    labels: [foo=bar]\n    cap_add: [NET_ADMIN]",
     "image: baz\n    ports: [{target: 81, published: 8080}]\n    labels: {foo: baz}"
     "\n    cap_add: [SYS_ADMIN]",
     {"image": "baz", "ports": [{"target": 81, "published": 8080},
                                {"target": 90, "published": 9090}],
      "labels": {"foo": "baz"}, "cap_add": ["NET_ADMIN", "SYS_ADMIN"]}, None),
    ("environment and command", "environment: [A=1, B=2]\n    command: [serve, --a]",
     "environment: {B: '3', C: '4'}\n    command: serve --b",
     {"environment": {"A": "1", "B": "3", "C": "4"}, "command": "serve --b"}, None),
    ("volumes by target", 'volumes: ["data:/data", "/etc/ssl:/etc/ssl:ro"]',
     'volumes: [{type: volume, source: data2, target: /data}]',
     {"volumes": [{"type": "volume", "source": "data2", "target": "/data"},
                  "/etc/ssl:/etc/ssl:ro"]}, None),
    ("healthcheck test", "healthcheck: {test: [CMD, a], retries: 3}",
     "healthcheck: {test: [CMD, b]}", {"healthcheck": {"test": ["CMD", "b"], "retries": 3}},
     "docker appends the two test commands into one: [CMD, a, CMD, b]"),
    ("extra_hosts by host", 'extra_hosts: ["db:10.0.0.5"]', 'extra_hosts: ["db:10.0.0.6"]',
     {"extra_hosts": ["db:10.0.0.6"]}, "docker keeps both db lines"),
]

TOP = ("networks: {net1: {}, net2: {}, net3: {}}\nvolumes: {data: {}, data2: {}}\n"
       "secrets: {my_secret: {file: ./s}, foo_secret: {file: ./s}, bar_secret: {file: ./s}, "
       "baz_secret: {file: ./s}}\nconfigs: {my_config: {file: ./s}, foo_config: {file: ./s}, "
       "bar_config: {file: ./s}, baz_config: {file: ./s}}\n")


def files_of(base, override):
    """Two compose files with one service foo each, and every resource they refer to."""
    return [("base.yml", 'version: "3.8"\nservices:\n  foo:\n    %s\n%s' % (base, TOP)),
            ("override.yml", 'version: "3.8"\nservices:\n  foo:\n    %s\n' % override)]


@pytest.mark.parametrize("base, override, merged", [case[1:4] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_merge_service(base, override, merged):
    assert _compose.render(files_of(base, override), {})["services"]["foo"] == merged


def test_top_level_network_replaced_whole_by_a_later_file():
    base = ('version: "3.8"\nservices: {foo: {image: baz}}\nnetworks:\n  hostnet:\n'
            '    driver: overlay\n    ipam: {driver: default, config: [{subnet: 10.0.0.0/20}]}\n')
    override = 'version: "3.8"\nnetworks:\n  hostnet: {external: {name: host}}\n'
    rendered = _compose.render([("b.yml", base), ("o.yml", override)], {})
    assert rendered["networks"] == {"hostnet": {"external": {"name": "host"}}}


def all_cases_as_two_files():
    """Every case as service c<index> of one base and one override file (one docker call)."""
    base = 'version: "3.8"\nservices:\n' + "".join(
        "  c%d:\n    %s\n" % (index, case[1]) for index, case in enumerate(CASES)) + TOP
    override = 'version: "3.8"\nservices:\n' + "".join(
        "  c%d:\n    %s\n" % (index, case[2]) for index, case in enumerate(CASES))
    return [("base.yml", base), ("override.yml", override)]


@pytest.fixture(name="docker_merged", scope="module")
def fixture_docker_merged(tmp_path_factory):
    """engine -> docker's merge of all cases, normalised; made once per engine."""
    results = {}
    directory = tmp_path_factory.mktemp("merge")
    for name, text in all_cases_as_two_files():
        (directory / name).write_text(text)
    (directory / "s").write_text("s\n")

    def merged(engine):
        if engine.version not in results:
            out, error = engine.config(["base.yml", "override.yml"], cwd=directory)
            assert error == ""
            results[engine.version] = normalise(yaml.safe_load(out))["services"]
        return results[engine.version]
    return merged


@pytest.mark.skipif(not config_engines(), reason="no docker CLI with `stack config` here")
@pytest.mark.parametrize("engine", config_engines(), ids=repr)
@pytest.mark.parametrize("index", range(len(CASES)), ids=[case[0] for case in CASES])
def test_docker_merges_the_same(engine, index, docker_merged):
    theirs = docker_merged(engine)["c%d" % index]
    # Ours one case at a time: together the cases publish 8080 in several services, which
    # the swarm (and so our render) refuses; `docker stack config` does not look.
    ours = normalise(_compose.render(files_of(*CASES[index][1:3]), {}))["services"]["foo"]
    differs = CASES[index][4]
    if differs:
        assert ours != theirs, differs
    else:
        assert ours == theirs
