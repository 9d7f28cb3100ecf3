"""What docker stack deploy would refuse, refused at render time with file, line and service
(plugin_utils/_compose_schema through _compose.render); each case also put to the docker
CLIs on this machine, so that our schema stays docker's (docker_engines)."""

import pytest

from ansible_collections.swarmops.cluster.plugins.plugin_utils import _compose

from docker_engines import engines

HEAD = 'version: "3.8"\nservices:\n  web:\n    image: a\n'

# (id, what follows HEAD, our problems, how docker takes the same file):
#   ("schema", words) -- every engine refuses it, its message holds the words;
#   ("swarm", None)   -- `stack config` and 20.10's loader accept it: the swarm (or docker's
#                        converter) refuses it at deploy time, after earlier stacks changed;
#   ("yaml12", words) -- docker 28 refuses it; 26.1 and 20.10 read YAML 1.1 and accept it.
CASES = [
    ("top-level typo", "servics: {}\n",
     ['s.yml:5: top level: unknown key "servics" (did you mean "services"?)'],
     ("schema", "Additional property servics is not allowed")),
    ("service typo", "    deplyo: {replicas: 1}\n",
     ['s.yml:5: service web: unknown key "deplyo" (did you mean "deploy"?)'],
     ("schema", "Additional property deplyo is not allowed")),
    ("nested typo", "    deploy: {resources: {limits: {memroy: 1g}}}\n",
     ['s.yml:5: service web: deploy.resources.limits: unknown key "memroy" '
      '(did you mean "memory"?)'], ("schema", "Additional property memroy")),
    ("unknown key, nothing close", "    colour: red\n",
     ['s.yml:5: service web: unknown key "colour"'], ("schema", "colour")),
    ("duplicate key", "    image: b\n",
     ['s.yml:5:5: mapping key "image" already defined at line 4'],
     ("yaml12", 'mapping key "image" already defined at line 4')),
    ("null where a list belongs", "    volumes:\n",
     ["s.yml:5: service web: volumes must be a list, not null"],
     ("schema", "services.web.volumes must be a list")),
    ("boolean label", "    labels: {backup: true}\n",
     ["s.yml:5: service web: labels.backup must be a string, a number or null, "
      "not a boolean"], ("schema", "labels.backup must be a string, number or null")),
    ("list in environment", "    environment: {A: [1]}\n",
     ["s.yml:5: service web: environment.A must be a string, a number or null, not a list"],
     ("schema", "environment.A must be a string, number or null")),
    ("environment entry twice", "    environment: [A=1, A=1]\n",
     ["s.yml:5: service web: environment has an entry twice"],
     ("schema", "must be unique")),
    ("bad duration", "    healthcheck: {interval: 10x}\n",
     ["s.yml:5: service web: healthcheck.interval '10x' is not a valid duration"],
     ("schema", "format 'duration'")),
    ("bad port", '    ports: ["80:80:80:80"]\n',
     ["s.yml:5: service web: ports[0] '80:80:80:80' is not a valid ports"], ("schema", "")),
    ("number as command", "    command: 5\n",
     ["s.yml:5: service web: command must be a string or a list, not a number"],
     ("schema", "services.web.command must be a string")),
    ("string constraints", "    deploy: {placement: {constraints: node.role==manager}}\n",
     ["s.yml:5: service web: deploy.placement.constraints must be a list, not a string"],
     ("schema", "constraints must be a list")),
    ("quoted replicas, half a ulimit",
     '    deploy: {replicas: "2"}\n    ulimits: {nofile: {soft: 1}}\n',
     ["s.yml:5: service web: deploy.replicas must be an integer, not a string",
      's.yml:6: service web: ulimits.nofile "hard" is a required property'],
     ("schema", "must be a integer")),
    ("yes is no boolean in YAML 1.2",
     "    networks: [front]\nnetworks:\n  front: {driver: overlay, attachable: yes}\n",
     ['s.yml:7: networks.front.attachable must be a boolean, not a string ("yes" is a '
      'string under YAML 1.2, as docker 28 reads it; write true or false)'],
     ("yaml12", "networks.front.attachable must be a boolean")),
    ("same published port twice", '    ports: ["8080:80", "8080:81"]\n',
     ["s.yml:5: service web: ports[1]: published port 8080/tcp is already published by "
      "this service"], ("swarm", None)),
    ("same published port in two services",
     '    ports: ["8080:80"]\n  api:\n    image: b\n    ports: [{target: 81, published: 8080}]\n',
     ["s.yml:8: service api: ports[0]: published port 8080/tcp is already published by "
      "service web"], ("swarm", None)),
    ("replicas with mode global", "    deploy: {mode: global, replicas: 2}\n",
     ["s.yml:5: service web: deploy.replicas: cannot be used with mode: global"],
     ("swarm", None)),
    ("undefined secret", "    secrets: [nosuch]\n",
     ["s.yml:5: service web: secrets[0]: undefined secret nosuch"], ("swarm", None)),
    ("undefined volume", '    volumes: ["data:/d", "/host:/h", "./rel:/r"]\n',
     ["s.yml:5: service web: volumes[0]: undefined volume data"], ("swarm", None)),
    ("undefined network", "    networks: [nosuch]\n",
     ["s.yml:5: service web: networks: undefined network nosuch"], ("swarm", None)),
]


@pytest.mark.parametrize("tail, problems, _docker", [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_render_refuses_with_every_problem_located(tail, problems, _docker):
    with pytest.raises(_compose.ComposeError) as caught:
        _compose.render([("s.yml", HEAD + tail)], {})
    assert caught.value.problems == problems


@pytest.mark.skipif(not engines(), reason="no docker CLI on this machine")
@pytest.mark.parametrize("engine", engines(), ids=repr)
@pytest.mark.parametrize("tail, docker", [(case[1], case[3]) for case in CASES],
                         ids=[case[0] for case in CASES])
def test_docker_takes_each_case_as_the_table_says(engine, tail, docker):
    kind, words = docker
    refusal = engine.refusal(["-"], stdin=HEAD + tail)
    if kind == "schema" or (kind == "yaml12" and engine.version.startswith("28.")):
        assert refusal is not None and words in refusal, refusal
    else:
        assert refusal is None, refusal


def test_render_lists_every_problem_of_every_file_at_once():
    base = HEAD + "    deplyo: {}\n    volumes:\n"
    override = "services:\n  web:\n    labels: {backup: true}\n  api:\n    imgae: b\n"
    with pytest.raises(_compose.ComposeError) as caught:
        _compose.render([("base.yml", base), ("override.yml", override)], {})
    assert caught.value.problems == [
        'base.yml:5: service web: unknown key "deplyo" (did you mean "deploy"?)',
        "base.yml:6: service web: volumes must be a list, not null",
        "override.yml:3: service web: labels.backup must be a string, a number or null, "
        "not a boolean",
        'override.yml:5: service api: unknown key "imgae" (did you mean "image"?)']


def test_swarm_rules_after_the_merge_name_the_file_that_set_the_value():
    base = HEAD + '    ports: ["8080:80"]\n  api:\n    image: b\n'
    override = 'services:\n  api:\n    ports: ["8080:81"]\n'
    with pytest.raises(_compose.ComposeError) as caught:
        _compose.render([("base.yml", base), ("override.yml", override)], {})
    assert caught.value.problems == [
        "override.yml:3: service api: ports[0]: published port 8080/tcp is already "
        "published by service web"]


def test_an_override_that_changes_a_published_port_renders():
    base = HEAD + '    ports: ["8080:80", "443:443", "443:443/udp"]\n'
    override = 'services:\n  web:\n    ports: ["8080:81"]\n'
    rendered = _compose.render([("base.yml", base), ("override.yml", override)], {})
    assert rendered["services"]["web"]["ports"] == ["8080:81", "443:443", "443:443/udp"]


def test_inline_definition_is_checked_too():
    with pytest.raises(_compose.ComposeError) as caught:
        _compose.render([], {}, {"services": {"web": {"image": "a", "deplyo": {}}}})
    assert caught.value.problems == [
        'definition: service web: unknown key "deplyo" (did you mean "deploy"?)']


def test_content_is_ours_and_accepted_for_configs_and_secrets():
    text = HEAD + "configs:\n  c: {content: 'x'}\nsecrets:\n  s: {content: 'y'}\n"
    rendered = _compose.render([("s.yml", text)], {})
    assert rendered["configs"] == {"c": {"content": "x"}}


V = 'version: "3.8"\n'
# Whole files after docker/cli's loader_test.go (written anew), each also put to docker:
# (id, file, our problems (none: accepted), words of docker 26.1/28.2's refusal or None).
LOADER_CASES = [
    ("top level a number", "1\n", ["s.yml:1: the top level must be a mapping, not a string"],
     "top-level object must be a mapping"),
    ("top level a string", '"hello"\n',
     ["s.yml:1: the top level must be a mapping, not a string"],
     "top-level object must be a mapping"),
    ("top level a list", '["hello"]\n', ["s.yml:1: the top level must be a mapping, not a list"],
     "top-level object must be a mapping"),
    ("non-string key at the top", V + "123:\n  foo: {image: busybox}\n",
     ["s.yml:2:1: non-string key 123 (quote it)"], ""),
    ("non-string environment key",
     V + "services:\n  e:\n    image: busybox\n    environment:\n      1: FOO\n",
     ["s.yml:6:7: non-string key 1 (quote it)"], ""),
    ("version 2", 'version: "2"\nservices:\n  foo: {image: busybox}\n',
     ["version '2': docker stack deploy (docker 20.10) needs 3.0 to 3.9"],
     "unsupported Compose file version: 2"),
    ("a v1 file", "foo:\n  image: busybox\n", ['s.yml:1: top level: unknown key "foo"'], "foo"),
    ("services a list", V + "services:\n  - foo: {image: busybox}\n",
     ["s.yml:2: services must be a mapping, not a list"], "services must be a mapping"),
    ("service a string", V + "services:\n  foo: busybox\n",
     ["s.yml:3: service foo: must be a mapping, not a string"],
     "services.foo must be a mapping"),
    ("network a string", V + "networks:\n  default: bridge\n",
     ["s.yml:3: networks.default must be a mapping or null, not a string"],
     "networks.default must be a mapping or null"),
    ("volume a string", V + "volumes:\n  data: local\n",
     ["s.yml:3: volumes.data must be a mapping or null, not a string"],
     "volumes.data must be a mapping or null"),
    ("image a list", V + 'services:\n  foo:\n    image: ["busybox", "latest"]\n',
     ["s.yml:4: service foo: image must be a string, not a list"],
     "services.foo.image must be a string"),
    ("unknown build key",
     V + "services:\n  foo:\n    image: busybox\n    build:\n      unsupported_prop: foo\n",
     ['s.yml:6: service foo: build: unknown key "unsupported_prop"'],
     "Additional property unsupported_prop is not allowed"),
    ("environment of numbers and null",
     V + "services:\n  foo:\n    image: busybox\n    environment:\n      FOO: \"1\"\n"
     "      BAR: 2\n      BAZ: 2.5\n      QUX:\n", [], None),
    ("environment a string",
     V + 'services:\n  foo:\n    image: busybox\n    environment: "FOO=1"\n',
     ["s.yml:5: service foo: environment must be a mapping or a list, not a string"],
     "services.foo.environment must be a mapping"),
    ("forbidden volume_driver",
     V + "services:\n  foo:\n    image: busybox\n    volume_driver: some-driver\n",
     ['s.yml:5: service foo: unknown key "volume_driver"'], "forbidden properties"),
    ("external volume with driver", V + "volumes:\n  ext:\n    external: true\n    driver: x\n",
     ["s.yml:5: volumes.ext.driver: cannot be used with external"],
     'conflicting parameters "external" and "driver"'),
    ("external volume with driver_opts",
     V + "volumes:\n  ext:\n    external: true\n    driver_opts: {beep: boop}\n",
     ["s.yml:5: volumes.ext.driver_opts: cannot be used with external"],
     'conflicting parameters "external" and "driver_opts"'),
    ("external volume with labels",
     V + "volumes:\n  ext:\n    external: true\n    labels: [beep=boop]\n",
     ["s.yml:5: volumes.ext.labels: cannot be used with external"],
     'conflicting parameters "external" and "labels"'),
    ("volume name and external name",
     V + "volumes:\n  ext:\n    name: u\n    external: {name: e}\n",
     ["s.yml:4: volumes.ext.name: external.name and name conflict; only use name"],
     "volume.external.name and volume.name conflict"),
    ("secret name and external name",
     V + "secrets:\n  ext:\n    name: u\n    external: {name: e}\n",
     ["s.yml:4: secrets.ext.name: external.name and name conflict; only use name"],
     "secret.external.name and secret.name conflict"),
    ("network name and external name",
     V + "networks:\n  ext:\n    name: u\n    external: {name: e}\n",
     ["s.yml:4: networks.ext.name: external.name and name conflict; only use name"],
     "network.external.name and network.name conflict"),
    ("external network with a driver", V + "networks:\n  ext:\n    external: true\n    driver: o\n",
     [], None),
    ("negative tmpfs size",
     V + "services:\n  foo:\n    image: nginx\n    volumes:\n      - type: tmpfs\n"
     "        target: /app\n        tmpfs: {size: -1}\n",
     ["s.yml:8: service foo: volumes[0].tmpfs.size: -1 is less than the minimum of 0"],
     "Must be greater than or equal to 0"),
    ("fractional tmpfs size",
     V + "services:\n  foo:\n    image: nginx\n    volumes:\n      - type: tmpfs\n"
     "        target: /app\n        tmpfs: {size: 0.0001}\n",
     ["s.yml:8: service foo: volumes[0].tmpfs.size must be an integer, not a number"],
     "must be a integer"),
    ("bind without source",
     V + "services:\n  foo:\n    image: nginx\n    volumes:\n      - type: bind\n"
     "        target: /app\n",
     ["s.yml:6: service foo: volumes[0]: a bind mount needs a source"],
     'field Source must not be empty'),
    ("isolation and extra_hosts mapping",
     V + "services:\n  foo:\n    image: busybox\n    isolation: invalid\n"
     '    extra_hosts: {zulu: 162.242.195.82, beta: "[fd20:f8a7:6e5b::2]"}\n', [], None),
    ("extra_hosts list", V + "services:\n  foo:\n    image: busybox\n"
     '    extra_hosts: ["zulu:162.242.195.82", "whiskey=162.242.195.83", "noaddress"]\n',
     [], None),
    ("port formats", V + "services:\n  foo:\n    image: busybox\n    ports: "
     '["80-82:8080-8082", "90-92:8090-8092/udp", "85:8500", 8600, '
     "{protocol: udp, target: 53, published: 10053}, {mode: host, target: 22, published: 10022}]\n",
     [], None),
    ("x- keys and credential_spec",
     V + "services:\n  foo:\n    image: busybox\n    x-foo: bar\n"
     '    credential_spec: {config: "0bt9"}\n',
     [], None),
]


@pytest.mark.parametrize("text, problems", [case[1:3] for case in LOADER_CASES],
                         ids=[case[0] for case in LOADER_CASES])
def test_loader_cases(text, problems):
    if not problems:
        _compose.render([("s.yml", text)], {})
        return
    with pytest.raises(_compose.ComposeError) as caught:
        _compose.render([("s.yml", text)], {})
    assert caught.value.problems == problems


@pytest.mark.skipif(not engines(), reason="no docker CLI on this machine")
@pytest.mark.parametrize("engine", engines(), ids=repr)
@pytest.mark.parametrize("text, words", [(case[1], case[3]) for case in LOADER_CASES],
                         ids=[case[0] for case in LOADER_CASES])
def test_docker_takes_each_loader_case_as_we_do(engine, text, words):
    refusal = engine.refusal(["-"], stdin=text)
    if words is None:
        assert refusal is None, refusal
    else:
        assert refusal is not None
        # docker 20.10 words some of them differently ("Non-string key", "unsupported
        # options"): it must refuse, the words are checked on the newer two.
        if engine.has_config:
            assert words in refusal, refusal
