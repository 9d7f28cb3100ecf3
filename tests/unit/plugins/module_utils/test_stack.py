"""The stack module's plan on the web stack as deployed on the lab (fixtures/stack/web_*).

web.rendered.json is what the action plugin rendered from tests/lab/stacks/web;
web_deployed.json and web_objects.json are the SDK's view of the stack it deployed.
"""

import copy
import json
from pathlib import Path

import pytest

from ansible_collections.swarmops.cluster.plugins.module_utils import _stack as st
from ansible_collections.swarmops.cluster.plugins.module_utils._docker_cli import (
    escape_dollars)

STACK = Path(__file__).resolve().parents[2] / "fixtures" / "stack"


def load(name):
    return json.loads((STACK / name).read_text())


@pytest.fixture(name="current")
def fixture_current():
    rec, objects = load("web_deployed.json"), load("web_objects.json")
    return {"services": rec["services"], "networks": rec["networks"],
            "configs": objects["configs"], "secrets": objects["secrets"]}


def desired(compose=None, prune=False):
    compose = compose or load("web.rendered.json")
    objects = {kind: [{"key": key, "name": spec["name"], "data": "eA=="}
                      for key, spec in compose.get(kind, {}).items()]
               for kind in ("configs", "secrets")}
    return dict(objects, compose=compose, prune=prune)


def test_the_deployed_stack_plans_nothing(current):
    actions, diff, want, have = st.plan_stack("web", current, desired())
    assert actions == [] and diff == {"added": [], "removed": [], "changed": {}}
    assert sorted(want) == sorted(have) == ["web_status", "web_web"]


def test_an_env_change_deploys_that_service_only(current):
    compose = load("web.rendered.json")
    compose["services"]["status"]["environment"]["STATUS_NOTE"] = "note: changed"
    actions, diff, want, have = st.plan_stack("web", current, desired(compose))
    assert actions == [{"action": "deploy", "stack": "web", "added": [],
                        "changed": ["web_status"], "removed": [], "networks": []}]
    assert list(diff["changed"]["web_status"]) == ["environment"]
    view = st.before_view(want, have, diff)
    # --diff shows only the changed field: the image pinned to a digest reads as written.
    assert view["web_status"]["image"] == want["web_status"]["image"]
    assert view["web_status"]["environment"] != want["web_status"]["environment"]


def test_a_changed_config_is_created_under_its_new_name_and_the_old_one_freed(current):
    compose = load("web.rendered.json")
    compose["configs"]["site"]["name"] = "web_site-0123456789ab"
    actions, diff, _want, _have = st.plan_stack("web", current, desired(compose))
    assert actions[0] == {"action": "create", "kind": "config",
                          "name": "web_site-0123456789ab", "key": "site"}
    assert actions[1]["action"] == "deploy" and actions[1]["changed"] == ["web_web"]
    assert list(diff["changed"]["web_web"]) == ["configs"]
    # After the deploy no service uses the old name: it is removed, the secret is not.
    assert [(a["kind"], a["name"]) for a in
            st.unused_objects(current, [], desired(compose))] == [
                ("config", "web_site-a708a873d8a9")]


def test_objects_still_used_by_a_service_are_kept(current):
    compose = load("web.rendered.json")
    compose["configs"]["site"]["name"] = "web_site-0123456789ab"
    assert st.unused_objects(current, current["services"], desired(compose)) == []


def test_a_service_gone_from_the_files_is_removed_only_with_prune(current):
    compose = load("web.rendered.json")
    del compose["services"]["status"]
    actions, diff, _want, _have = st.plan_stack("web", current, desired(compose))
    assert diff["removed"] == ["web_status"] and actions == []
    actions, _diff, _want, _have = st.plan_stack("web", current, desired(compose, True))
    assert actions[0]["removed"] == ["web_status"]


def test_a_missing_stack_network_deploys():
    compose = {"version": "3.8", "services": {"a": {"image": "x"}, "b": {
        "image": "x", "networks": ["back"]}}, "networks": {
            "back": {}, "ext": {"external": True}, "named": {"name": "custom"}}}
    assert st.stack_networks("s", compose) == ["custom", "s_back", "s_default"]


def test_input_docker_refuses_is_a_stack_error(current):
    compose = copy.deepcopy(load("web.rendered.json"))
    compose["services"]["web"]["deploy"]["replicas"] = 2  # with mode: global
    with pytest.raises(st.StackError, match="stack web: "):
        st.plan_stack("web", current, desired(compose))


def test_the_swarms_last_change_includes_an_updates_completion():
    rec = load("app_job_update_paused.json")
    tasks_only = st.last_change([], rec["tasks"])
    assert tasks_only == st.epoch_seconds("2026-11-24T23:58:35.010778173Z")
    service = {"UpdateStatus": {"CompletedAt": "2026-11-24T23:58:40.5Z"}}
    assert st.last_change([service], rec["tasks"]) == pytest.approx(tasks_only + 5.49, 0.01)


def test_unconverged_services_are_described_with_their_errors():
    status = {"services": {
        "s_ok": {"state": "converged", "running": 1, "desired": 1, "errors": []},
        "s_bad": {"state": "failed", "running": 0, "desired": 2,
                  "errors": ["No such image: x:1", "e2", "e3", "e4"]}}}
    assert st.describe_unconverged("stack s", status, 3.0, 300) == (
        "stack s failed: s_bad: failed, 0/2 running (No such image: x:1; e2; e3)")
    assert "did not converge within 300s" in st.describe_unconverged("s", status, 301, 300)


def test_every_dollar_is_escaped_for_docker_stack_deploy():
    users = "admin:$2b$10$abc"
    assert escape_dollars({"a": [users, 3, {"b": "$$"}]}) == {
        "a": ["admin:$$2b$$10$$abc", 3, {"b": "$$$$"}]}


def test_environment_values_are_masked_with_a_digest_of_this_run():
    want = {"app_api": {"image": "web:1", "environment": ["MESSAGE=new", "TOKEN=s3cret"]}}
    have = {"app_api": {"image": "web:1", "environment": ["MESSAGE=old", "TOKEN=s3cret"]}}
    diff = {"added": [], "removed": [], "changed": {"app_api": {"environment": {
        "before": have["app_api"]["environment"], "after": want["app_api"]["environment"]}}}}
    shown, views = st.masked_result(diff, want, have)
    text = repr((shown, views))
    assert "s3cret" not in text and "new" not in text and "old" not in text
    before = views["before"]["services"]["app_api"]["environment"]
    after = views["after"]["services"]["app_api"]["environment"]
    assert [item.split("=")[0] for item in after] == ["MESSAGE", "TOKEN"]
    assert before[1] == after[1] and before[0] != after[0]  # equal values, equal digests
    assert shown["changed"]["app_api"]["environment"]["after"] == after
    assert views["after"]["services"]["app_api"]["image"] == "web:1"
    # Another run, another key: the digests of one run say nothing about another's.
    assert st.masked_result(diff, want, have)[1]["after"]["services"]["app_api"][
        "environment"] != after
    assert want["app_api"]["environment"] == ["MESSAGE=new", "TOKEN=s3cret"]  # not in place
