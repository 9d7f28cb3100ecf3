"""Compose services vs /services entries recorded on a 20.10 lab swarm (fixtures/stack)."""

import copy
import json
from pathlib import Path

import pytest
import yaml

from ansible_collections.swarmops.cluster.plugins.module_utils import _stack_spec as ss

STACK = Path(__file__).resolve().parents[2] / "fixtures" / "stack"


def compose(name):
    return yaml.safe_load((STACK / f"{name}.compose.yml").read_text())


def recorded(name):
    return json.loads((STACK / f"{name}.json").read_text())


def running(stack, name):
    rec = recorded(name)
    return ss.running_services(stack, rec["services"],
                               rec["networks"] + rec.get("inspected_networks", []))


@pytest.mark.parametrize("stack, compose_name, recording", [
    ("app", "app", "app_deployed"),
    ("app", "app_v2", "app_updating"),
    ("app", "app_v2", "app_updated"),
    ("jobs", "jobs", "jobs_deployed"),
    ("probe", "probe", "probe_deployed"),
])
def test_deployed_compose_shows_no_difference(stack, compose_name, recording):
    diff = ss.diff_services(ss.desired_services(stack, compose(compose_name)),
                            running(stack, recording))
    assert diff == {"added": [], "removed": [], "changed": {}}


def test_changed_env_var_is_exactly_that_service_and_field():
    desired_compose = compose("app_v2")
    desired_compose["services"]["web"]["environment"][0] = "B=4"
    diff = ss.diff_services(ss.desired_services("app", desired_compose),
                            running("app", "app_updated"))
    assert diff["changed"] == {"app_web": {"environment": {
        "before": ["A=1", "B=3", "EMPTY=", "EQ=x=y"],
        "after": ["A=1", "B=4", "EMPTY=", "EQ=x=y"]}}}


def test_first_revision_against_the_update_shows_both_env_changes():
    diff = ss.diff_services(ss.desired_services("app", compose("app")),
                            running("app", "app_updated"))
    assert sorted(diff["changed"]) == ["app_api", "app_web"]
    assert all(list(fields) == ["environment"] for fields in diff["changed"].values())
    # A key without value is stored bare by the engine (recorded: "BARE").
    assert diff["changed"]["app_api"]["environment"]["before"][0] == "BARE"


@pytest.mark.parametrize("recording", ["app_drift", "app_node_down"])
def test_hand_made_drift_shows_image_and_log_driver(recording):
    # app_node_down was recorded after the drift, with node2 drained and node3 down.
    diff = ss.diff_services(ss.desired_services("app", compose("app_v2")),
                            running("app", recording))
    assert diff["changed"] == {
        "app_api": {"image": {"before": "local/bb:2", "after": "local/bb:1"}},
        "app_dnsrr": {"logging": {"before": {"driver": "json-file",
                                             "options": {"max-size": "1m"}},
                                  "after": None}}}


def test_added_and_removed_services():
    desired_compose = compose("app_v2")
    desired_compose["services"]["extra"] = {"image": "local/bb:1"}
    del desired_compose["services"]["dnsrr"]
    diff = ss.diff_services(ss.desired_services("app", desired_compose),
                            running("app", "app_updated"))
    assert diff == {"added": ["app_extra"], "removed": ["app_dnsrr"], "changed": {}}


def test_running_services_skips_other_stacks():
    rec = recorded("app_updated")
    other = copy.deepcopy(rec["services"][0])
    other["Spec"]["Labels"]["com.docker.stack.namespace"] = "other"
    other["Spec"]["Name"] = "other_x"
    assert sorted(ss.running_services("app", rec["services"] + [other], rec["networks"])) == [
        "app_api", "app_dnsrr", "app_web"]


def test_running_web_normalized_from_the_recording():
    web = running("app", "app_deployed")["app_web"]
    assert web["networks"] == [
        {"name": "app_backplane", "aliases": ["web"]},
        {"name": "app_front", "aliases": ["web", "web-front", "www"]}]
    assert web["secrets"] == [
        {"source": "app_api_key_4d5e6f", "target": "/run/secrets/api_key", "uid": "0",
         "gid": "0", "mode": 0o444},
        {"source": "app_db_pass", "target": "/run/secrets/dbpw", "uid": "1000",
         "gid": "1000", "mode": 0o400}]
    assert web["configs"][1] == {"source": "app_site_conf_1a2b3c", "target": "/site_conf",
                                 "uid": "0", "gid": "0", "mode": 0o444}
    assert web["resources"] == {"limits": {"cpus": 500000000, "memory": 64 * 2 ** 20},
                                "reservations": {"cpus": 10000000, "memory": 8 * 2 ** 20}}
    assert web["rollback_config"] == {"parallelism": 0, "delay": 0,
                                      "failure_action": "pause", "monitor": 0,
                                      "max_failure_ratio": 0.0, "order": "stop-first"}
    assert web["cap_add"] == ["CAP_NET_ADMIN"] and web["stop_grace_period"] == 90 * 10 ** 9
    assert "com.docker.stack.image" not in web["labels"]


def test_predefined_host_network_needs_an_inspect():
    rec = recorded("probe_deployed")
    ids = ss.unknown_network_ids(rec["services"], rec["networks"])
    assert ids == [rec["inspected_networks"][0]["Id"]]
    logs = ss.running_services("probe", rec["services"], rec["networks"])["probe_logs"]
    assert ids[0] in [n["name"] for n in logs["networks"]]
    assert running("probe", "probe_deployed")["probe_logs"]["networks"][1] == {
        "name": "host", "aliases": []}


@pytest.mark.parametrize("digest_side, desired_image, equal", [
    ("running", "local/bb:1", True),
    ("running", "local/bb", False),
    ("both", "local/bb:1@sha256:" + "a" * 64, True),
    ("both", "local/bb:1@sha256:" + "b" * 64, False),
    ("both", "local/bb@sha256:" + "a" * 64, True),
])
def test_digest_pinned_by_the_engine_is_ignored(digest_side, desired_image, equal):
    rec = recorded("app_updated")
    for service in rec["services"]:
        spec = service["Spec"]["TaskTemplate"]["ContainerSpec"]
        if digest_side in ("running", "both"):
            spec["Image"] += "@sha256:" + "a" * 64
    desired_compose = compose("app_v2")
    desired_compose["services"]["web"]["image"] = desired_image
    diff = ss.diff_services(ss.desired_services("app", desired_compose),
                            ss.running_services("app", rec["services"], rec["networks"]))
    assert ("app_web" not in diff["changed"]) is equal
    assert sorted(diff["changed"]) in ([], ["app_web"])


@pytest.mark.parametrize("image, stored", [
    ("nginx", "nginx:latest"),
    ("docker.io/library/nginx", "nginx:latest"),
    ("index.docker.io/library/nginx:1.25", "nginx:1.25"),
    ("docker.io/grafana/grafana", "grafana/grafana:latest"),
    ("registry.lab:5000/team/app", "registry.lab:5000/team/app:latest"),
    ("registry.lab:5000/app:2", "registry.lab:5000/app:2"),
    ("nginx@sha256:" + "c" * 64, "nginx@sha256:" + "c" * 64),
])
def test_image_as_the_engine_stores_it(image, stored):
    assert ss.normalize_image(image) == stored
    assert ss.images_match(image, stored)


@pytest.mark.parametrize("text, nanos", [
    ("10s", 10 * 10 ** 9), ("1m30s", 90 * 10 ** 9), ("500ms", 5 * 10 ** 8),
    ("1.5h", 5400 * 10 ** 9), ("2us", 2000), ("0", 0), (5, 5 * 10 ** 9), (None, None),
])
def test_parse_duration(text, nanos):
    assert ss.parse_duration(text) == nanos


@pytest.mark.parametrize("text, size", [
    ("512M", 512 * 2 ** 20), ("8m", 8 * 2 ** 20), ("1.5G", 1610612736), ("1k", 1024),
    ("64MiB", 64 * 2 ** 20), ("100b", 100), (2048, 2048), (None, 0),
])
def test_parse_bytes(text, size):
    assert ss.parse_bytes(text) == size


@pytest.mark.parametrize("bad, parser", [
    ("10x", ss.parse_duration), ("s", ss.parse_duration), ("12 parsecs", ss.parse_bytes),
    ("0.0000000001", ss.parse_cpus), ("lots", ss.parse_cpus),
])
def test_bad_values_raise(bad, parser):
    with pytest.raises(ss.SpecError):
        parser(bad)


def test_parse_cpus():
    assert ss.parse_cpus("0.5") == 500000000
    assert ss.parse_cpus(2) == 2 * 10 ** 9


def test_short_ports_with_ranges_ip_and_protocol():
    ports = ss.compose_ports(["80", "127.0.0.1:8081:81", "9000-9001:9100-9101",
                              "9053:53/udp"])
    assert [(p["published"], p["target"], p["protocol"]) for p in ports] == [
        (0, 80, "tcp"), (8081, 81, "tcp"), (9000, 9100, "tcp"), (9001, 9101, "tcp"),
        (9053, 53, "udp")]


def test_short_volume_syntax():
    assert ss.parse_short_volume("/anon") == {"type": "volume", "target": "/anon"}
    assert ss.parse_short_volume("./d:/d:ro") == {"type": "bind", "source": "./d",
                                                  "target": "/d", "read_only": True}
    assert ss.parse_short_volume("v:/v:nocopy")["volume"] == {"nocopy": True}


def test_names_of_networks_volumes_configs():
    top = {"ext": {"external": True}, "named": {"name": "real"},
           "legacy": {"external": {"name": "old"}}, "plain": {}}
    keys = ("ext", "named", "legacy", "plain", "default")
    assert [ss.network_name("s", k, top) for k in keys] == [
        "ext", "real", "old", "s_plain", "s_default"]
    files = ss.compose_files("s", "config", ["plain", {"source": "named", "target": "/x",
                                                       "mode": "0600"}], top)
    assert [(f["source"], f["target"], f["mode"]) for f in files] == [
        ("real", "/x", 0o600), ("s_plain", "/plain", 0o444)]


def test_undefined_references_and_bad_modes_raise():
    with pytest.raises(ss.SpecError, match="undefined volume"):
        ss.desired_services("s", {"services": {"a": {"image": "x", "volumes": ["v:/v"]}}})
    with pytest.raises(ss.SpecError, match="undefined network"):
        ss.desired_services("s", {"services": {"a": {"image": "x", "networks": ["n"]}}})
    with pytest.raises(ss.SpecError, match="replicas"):
        ss.desired_services("s", {"services": {"a": {
            "image": "x", "deploy": {"mode": "global", "replicas": 2}}}})


def test_defaults_of_a_bare_service():
    spec = ss.desired_services("s", {"services": {"a": {"image": "x"}}})["s_a"]
    assert spec["replicas"] == 1 and spec["endpoint_mode"] == "vip"
    assert spec["networks"] == [{"name": "s_default", "aliases": ["a"]}]
    assert spec["labels"] == spec["container_labels"] == {"com.docker.stack.namespace": "s"}
    assert spec["restart_policy"] is None and spec["update_config"] is None


@pytest.mark.parametrize("restart, policy", [
    ("no", None), ("always", {"condition": "any", "delay": None, "max_attempts": 0,
                              "window": None}),
    ("on-failure:3", {"condition": "on-failure", "delay": None, "max_attempts": 3,
                      "window": None}),
])
def test_legacy_restart_key(restart, policy):
    assert ss.compose_restart_policy(None, restart) == policy


def test_env_mapping_and_list_forms_agree():
    assert ss.normalize_env({"B": 2, "A": True, "C": None, "D": 1.0}) == [
        "A=true", "B=2", "C", "D=1"]
    assert ss.normalize_env(["B=2", "A=true", "C", "B=3"]) == ["A=true", "B=3", "C"]


def test_caps_hosts_and_constraints_normalized():
    assert ss.normalize_caps(["net_admin", "CAP_SYS_ADMIN", "ALL"]) == [
        "ALL", "CAP_NET_ADMIN", "CAP_SYS_ADMIN"]
    assert ss.compose_hosts({"db": "10.0.0.5"}) == ["10.0.0.5 db"]
    assert ss.compose_hosts(["v6:::1"]) == ["::1 v6"]
    assert ss.normalize_constraints(["node.role==manager", "node.role == manager"]) == [
        "node.role == manager"]
