# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stack's lifecycle on a manager: read, plan, deploy, wait, clean up.

The compose file arrives rendered (interpolated and merged by the action plugin on the
controller). State is read through the SDK; the deploy itself is ``docker stack deploy``,
because converting compose into services happens in the docker client. Configs and
secrets are immutable in a swarm, so each one is created under a name derived from its
content: a changed file gets a new object, the services move to it in the same deploy,
and the old object is removed once no service uses it. Private to this collection.
"""

from __future__ import annotations

import base64
import copy
import calendar
import hashlib
import hmac
import json
import os
import time

from ansible_collections.swarmops.cluster.plugins.module_utils._docker_api import (
    EngineError, call)
from ansible_collections.swarmops.cluster.plugins.module_utils._docker_cli import (
    escape_dollars, registry_session, run_docker)
from ansible_collections.swarmops.cluster.plugins.module_utils._stack_converge import (
    stack_status)
from ansible_collections.swarmops.cluster.plugins.module_utils._stack_files import (
    FilesError, apply_files, plan_files, public)
from ansible_collections.swarmops.cluster.plugins.module_utils._stack_spec import (
    SpecError, desired_services, diff_services, running_services, unknown_network_ids)

NAMESPACE = "com.docker.stack.namespace"
# Marks configs and secrets this module created, so clean-up never touches others.
MANAGED = "org.swarmops.stack.key"
POLL_SECONDS = 0.5


class StackError(EngineError):
    """A refusal or failure the user can act on (what fail_json needs, as EngineError)."""


def namespace_filter(name):
    """The label filter every object of stack NAME carries."""
    return {"label": "%s=%s" % (NAMESPACE, name)}


def read_stack(client, name):
    """The stack's services, networks, configs and secrets, plus every network (the
    services' specs name networks by ID)."""
    flt = namespace_filter(name)
    services = call("list services", client.services, filters=flt)
    networks = call("list networks", client.networks)
    # The list leaves out swarm's own copies of the predefined networks (host): inspect
    # the IDs the services hold that it does not name.
    networks += [call("inspect network %s" % net_id, client.inspect_network, net_id)
                 for net_id in unknown_network_ids(services, networks)]
    return {
        "services": services,
        "networks": networks,
        "configs": call("list configs", client.configs, filters=flt),
        "secrets": call("list secrets", client.secrets, filters=flt),
    }


def read_progress(client, name):
    """What convergence is judged on: the stack's services, their tasks, the nodes."""
    services = call("list services", client.services, filters=namespace_filter(name))
    ids = [svc["ID"] for svc in services]
    tasks = call("list tasks", client.tasks, filters={"service": ids}) if ids else []
    return services, tasks, call("list nodes", client.nodes)


def object_names(objects):
    """{name: object} of configs or secrets as the SDK lists them."""
    return {obj["Spec"]["Name"]: obj for obj in objects}


def stack_networks(name, compose):
    """Names of the networks the stack itself creates (not external ones)."""
    nets = dict(compose.get("networks") or {})
    services = compose.get("services") or {}
    if any(not svc.get("networks") for svc in services.values() if isinstance(svc, dict)):
        nets.setdefault("default", {})
    return sorted((spec or {}).get("name") or "%s_%s" % (name, key)
                  for key, spec in nets.items() if not (spec or {}).get("external"))


def plan_objects(kind, wanted, existing):
    """Actions creating the content-named configs or secrets that do not exist yet."""
    return [{"action": "create", "kind": kind, "name": obj["name"], "key": obj["key"]}
            for obj in wanted if obj["name"] not in existing]


def plan_stack(name, current, desired):
    """(actions, service diff, wanted services, running services) taking the running
    stack to the rendered one. Pure."""
    try:
        want = desired_services(name, desired["compose"])
    except SpecError as err:
        raise StackError("stack %s: %s" % (name, err)) from err
    have = running_services(name, current["services"], current["networks"])
    diff = diff_services(want, have)
    actions = plan_objects("config", desired["configs"], object_names(current["configs"]))
    actions += plan_objects("secret", desired["secrets"], object_names(current["secrets"]))
    present = {net["Name"] for net in current["networks"]}
    missing = [net for net in stack_networks(name, desired["compose"]) if net not in present]
    removed = diff["removed"] if desired["prune"] else []
    if diff["added"] or diff["changed"] or missing or removed:
        actions.append({"action": "deploy", "stack": name, "added": diff["added"],
                        "changed": sorted(diff["changed"]), "removed": removed,
                        "networks": missing})
    return actions, diff, want, have


def unused_objects(current, services, desired):
    """Configs and secrets this module made for the stack that no service uses any more
    and the rendered stack does not name: safe to remove after a deploy."""
    used = set()
    for svc in services:
        container = svc["Spec"].get("TaskTemplate", {}).get("ContainerSpec", {})
        used.update(ref.get("ConfigName") for ref in container.get("Configs") or [])
        used.update(ref.get("SecretName") for ref in container.get("Secrets") or [])
    used.update(obj["name"] for obj in desired["configs"] + desired["secrets"])
    result = []
    for kind in ("config", "secret"):
        for obj in current[kind + "s"]:
            spec = obj["Spec"]
            if MANAGED in (spec.get("Labels") or {}) and spec["Name"] not in used:
                result.append({"action": "remove", "kind": kind, "name": spec["Name"],
                               "id": obj["ID"]})
    return result


def create_objects(client, name, actions, desired):
    """Create the configs and secrets the plan names, labelled as the stack's own."""
    data = {(kind, obj["name"]): obj for kind in ("config", "secret")
            for obj in desired[kind + "s"]}
    for act in actions:
        if act["action"] != "create":
            continue
        obj = data[(act["kind"], act["name"])]
        labels = {NAMESPACE: name, MANAGED: obj["key"]}
        create = client.create_config if act["kind"] == "config" else client.create_secret
        call("create %s %s" % (act["kind"], act["name"]), create, act["name"],
             base64.b64decode(obj["data"]), labels=labels)


def deploy(module, name, compose, options):
    """``docker stack deploy`` with the rendered compose on stdin (JSON is YAML)."""
    args = ["stack", "deploy", "--compose-file", "-",
            "--resolve-image", options["resolve_image"]]
    if options["prune"]:
        args.append("--prune")
    if options["with_registry_auth"]:
        args.append("--with-registry-auth")
    run_docker(module, args + ["--", name], stdin=json.dumps(escape_dollars(compose)),
               config_dir=options.get("config_dir"))


def restore_images(module, client, name, desired, params):
    """Bring back images changed by hand that the deploy left alone.

    Without --resolve-image always, docker stack deploy keeps a service's running image
    when the file's image equals the one it deployed last (its com.docker.stack.image
    label), so a ``docker service update --image`` by hand survives the deploy.
    """
    _actions, diff, _want, _have = plan_stack(name, read_stack(client, name), desired)
    for svc, fields in sorted(diff["changed"].items()):
        if "image" not in fields:
            continue
        image = desired["compose"]["services"][svc[len(name) + 1:]]["image"]
        args = ["service", "update", "--detach", "--image", image]
        if params["with_registry_auth"] or params["registry_auth"]:
            args.append("--with-registry-auth")
        run_docker(module, args + ["--", svc], config_dir=params.get("config_dir"))


def wait_converged(client, name, timeout):
    """Poll until every service of stack NAME converged; (status, seconds waited)."""
    return wait_for(lambda: read_progress(client, name), "stack %s" % name, timeout)


def wait_for(read, label, timeout):
    """Poll read() -> (services, tasks, nodes) until all converged; (status, waited).

    Raises StackError on timeout or when a service fails, with each service's latest
    task errors ("No such image", "no suitable node", ...).
    """
    start = time.monotonic()
    while True:
        services, tasks, nodes = read()
        status = stack_status(services, tasks, nodes)
        waited = round(time.monotonic() - start, 2)
        failed = [st for st in status["services"].values() if st["state"] == "failed"]
        if status["converged"] and not failed:
            last = last_change(services, tasks)
            status["lag"] = round(time.time() - last, 2) if last else None
            return status, waited
        if failed or waited > timeout:
            raise StackError(describe_unconverged(label, status, waited, timeout),
                             services=status["services"], waited=waited)
        time.sleep(POLL_SECONDS)


def last_change(services, tasks):
    """Epoch seconds of the swarm's newest status change (a task's state, an update's
    completion, which comes a monitor period after its last task started): when the swarm
    itself converged, so the time the module took to notice can be told apart."""
    stamps = [(task.get("Status") or {}).get("Timestamp") for task in tasks]
    stamps += [(svc.get("UpdateStatus") or {}).get("CompletedAt") for svc in services]
    seconds = [epoch_seconds(stamp) for stamp in stamps if stamp]
    return max(seconds) if seconds else None


def epoch_seconds(stamp):
    """RFC 3339 with nanoseconds (the engine's timestamps) as epoch seconds."""
    base, _dot, frac = stamp.rstrip("Z").partition(".")
    return calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) + \
        float("0." + (frac or "0")[:6])


def describe_unconverged(name, status, waited, timeout):
    """One line per service that is not converged, with its latest task errors."""
    lines = []
    for svc, st in sorted(status["services"].items()):
        if st["state"] == "converged":
            continue
        errors = "; ".join(st["errors"][:3]) or "no task error reported"
        lines.append("%s: %s, %s/%s running (%s)" % (svc, st["state"], st["running"],
                                                     st["desired"], errors))
    why = "failed" if waited <= timeout else "did not converge within %ss" % timeout
    return "%s %s: %s" % (name, why, " | ".join(lines))


def wait_removed(client, name, timeout):
    """After ``docker stack rm``: wait until the stack's services and networks are gone
    (removing networks lags behind the services)."""
    deadline = time.monotonic() + timeout
    while True:
        left = read_stack(client, name)
        nets = [n["Name"] for n in left["networks"]
                if (n.get("Labels") or {}).get(NAMESPACE) == name]
        if not left["services"] and not nets:
            return
        if time.monotonic() > deadline:
            raise StackError("stack %s: still present after %ss: services %s, networks %s"
                             % (name, timeout, [s["Spec"]["Name"] for s in left["services"]],
                                nets))
        time.sleep(POLL_SECONDS)


def remove_objects(client, actions):
    """Remove configs and secrets no service uses; a race with a new user is reported."""
    for act in actions:
        remove = client.remove_config if act["kind"] == "config" else client.remove_secret
        call("remove %s %s" % (act["kind"], act["name"]), remove, act["id"])


def before_view(want, have, diff):
    """The running services as the diff shows them: fields that compare equal take the
    files' spelling (an image pinned to its digest equals the image named), so --diff
    shows exactly the fields that change."""
    view = {}
    for svc, fields in have.items():
        changed = diff["changed"].get(svc, {})
        view[svc] = {field: value if field in changed or svc not in want
                     else want[svc].get(field, value) for field, value in fields.items()}
    return view


def mask_value(item, key):
    """KEY=VALUE as KEY=(masked DIGEST): the digest is keyed with a key of this run only,
    so equal values show equal digests within one result and nothing can be guessed from
    them offline."""
    name, sep, value = item.partition("=")
    if not sep:
        return item
    digest = hmac.new(key, value.encode("utf-8", "surrogateescape"), hashlib.sha256)
    return "%s=(masked %s)" % (name, digest.hexdigest()[:8])


def mask_environment(services, key):
    """The services' views with every environment value masked (their names stay): a
    service's environment holds passwords and tokens, and the result and --diff print it."""
    masked = {}
    for svc, fields in services.items():
        fields = dict(fields)
        env = fields.get("environment")
        if isinstance(env, list):
            fields["environment"] = [mask_value(item, key) for item in env]
        elif isinstance(env, dict):  # a changed field: {before, after}
            fields["environment"] = {side: [mask_value(item, key) for item in (items or [])]
                                     for side, items in env.items()}
        masked[svc] = fields
    return masked


def masked_result(diff, want, have):
    """The services' diff and the before/after views, environment values masked."""
    key = os.urandom(16)
    shown = dict(diff, changed=mask_environment(diff["changed"], key))
    return shown, {"before": {"services": mask_environment(before_view(want, have, diff), key)},
                   "after": {"services": mask_environment(want, key)}}


def desired_from(params):
    """The rendered stack as the action plugin handed it over: compose and secrets as one
    no_log JSON string each (compose_json, secrets_json), so the environment's values and
    the secrets' data stay out of the module's logged arguments at -vvv without every
    string inside them (service names, images) being masked all over the result, as in a
    no_log dict. Decoded here, never put back into the module's parameters."""
    def decoded(key):
        return json.loads(params[key + "_json"]) if params.get(key + "_json") \
            else params.get(key)
    return {"compose": decoded("compose"), "configs": params["configs"] or [],
            "secrets": decoded("secrets") or [], "prune": params["prune"]}


def ensure_present(module, client):
    """Plan; unless check mode deploy, wait and clean up; the module's result."""
    params, name = module.params, module.params["name"]
    desired = desired_from(params)
    try:
        file_actions = plan_files(params["dockerdir"], params["dockerdir_directories"],
                                  params["dockerdir_files"], params["dockerdir_group"]) \
            if params["dockerdir"] else []
    except FilesError as err:
        raise StackError("stack %s: %s" % (name, err)) from err
    current = read_stack(client, name)
    actions, diff, want, have = plan_stack(name, current, desired)
    actions = public(file_actions) + actions
    kept = [svc for svc in current["services"] if svc["Spec"]["Name"] in diff["removed"]
            and not desired["prune"]]
    shown, views = masked_result(diff, want, have)
    result = {"actions": actions, "services": shown, "timings": {}, "diff": views}
    if module.check_mode:
        result["actions"] += unused_objects(current, kept, desired)
        result["changed"] = bool(result["actions"])
        return result
    apply_files(file_actions, params["dockerdir_group"])
    started = time.monotonic()
    deployed = any(act["action"] == "deploy" for act in actions)
    create_objects(client, name, actions, desired)
    if deployed:
        # Logged in for the deploy only (a config of its own), so --with-registry-auth has
        # credentials to hand to the nodes and none stay on the manager.
        with registry_session(module, params["registry_auth"]) as config_dir:
            options = dict(params, config_dir=config_dir,
                           with_registry_auth=params["with_registry_auth"]
                           or bool(params["registry_auth"]))
            deploy(module, name, desired["compose"], options)
            restore_images(module, client, name, desired, options)
    result["timings"]["deploy"] = round(time.monotonic() - started, 2)
    if params["wait"]:
        status, waited = wait_converged(client, name, params["wait_timeout"])
        result["status"] = status["services"]
        result["timings"]["wait"] = waited
        if deployed:
            # How long after the swarm's last task change the module saw convergence.
            result["timings"]["seen_after_last_task"] = status["lag"]
    after = read_stack(client, name)
    cleanup = unused_objects(after, after["services"], desired)
    remove_objects(client, cleanup)
    result["actions"] = actions + cleanup
    result["changed"] = bool(result["actions"])
    return result


def ensure_absent(module, client):
    """Remove the stack (``docker stack rm``) and wait until it is gone; volumes stay."""
    name = module.params["name"]
    current = read_stack(client, name)
    nets = [n["Name"] for n in current["networks"]
            if (n.get("Labels") or {}).get(NAMESPACE) == name]
    leftovers = [svc["Spec"]["Name"] for svc in current["services"]] + nets + \
        [obj["Spec"]["Name"] for obj in current["configs"] + current["secrets"]]
    actions = [{"action": "remove", "stack": name, "objects": sorted(leftovers)}] \
        if leftovers else []
    if actions and not module.check_mode:
        run_docker(module, ["stack", "rm", "--", name])
        wait_removed(client, name, module.params["wait_timeout"])
        remove_objects(client, unused_objects(read_stack(client, name), [],
                                              {"configs": [], "secrets": []}))
    return {"changed": bool(actions), "actions": actions,
            "diff": {"before": {"objects": sorted(leftovers)}, "after": {"objects": []}}}


def find_services(client, names):
    """The services named (full names, e.g. ``proxy_traefik``), or StackError naming the
    unknown ones and the services there are."""
    services = call("list services", client.services)
    by_name = {svc["Spec"]["Name"]: svc for svc in services}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise StackError("no service named %s; services: %s"
                         % (", ".join(unknown), ", ".join(sorted(by_name)) or "none"))
    return [by_name[name] for name in names]


def force_update(client, service):
    """``docker service update --force``: the service's own spec with a new ForceUpdate
    counter, so every task is replaced and nothing else changes.

    Sent as the engine's raw spec: the SDK's update_service(fetch_current_spec=True)
    reads the spec with the engine's defaults inserted (restart policy, update and
    rollback config, grace period) and writes them back, which a stack's next compare
    would see as a change. The registry credentials the service holds are kept by the
    engine when the request brings none.
    """
    spec = copy.deepcopy(service["Spec"])
    template = spec.setdefault("TaskTemplate", {})
    template["ForceUpdate"] = int(template.get("ForceUpdate") or 0) + 1

    def post():
        # pylint: disable-next=protected-access
        url = client._url("/services/{0}/update", service["ID"])
        # pylint: disable-next=protected-access
        response = client._post_json(url, data=spec,
                                     params={"version": service["Version"]["Index"]})
        return client._result(response, json=True)  # pylint: disable=protected-access
    call("force-update service %s" % spec["Name"], post)


def wait_services(client, names, timeout):
    """Wait until the named services converged, as wait_converged does for a stack."""
    def read():
        services = [svc for svc in call("list services", client.services)
                    if svc["Spec"]["Name"] in names]
        tasks = call("list tasks", client.tasks,
                     filters={"service": [svc["ID"] for svc in services]})
        return services, tasks, call("list nodes", client.nodes)
    return wait_for(read, ", ".join(names), timeout)
