# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A GlusterFS volume: parse ``--xml`` answers, plan create / grow / start / set, apply.

``parse_*`` and ``plan_volume`` are pure, so unit tests feed them XML recorded on lab nodes.
Private to this collection.
"""

from __future__ import annotations

import time

from ansible_collections.swarmops.cluster.plugins.module_utils._gluster import (
    GlusterError, run_gluster)

AUTH_ALLOW = "auth.allow"


class PlanError(Exception):
    """The request cannot be planned; nothing was changed."""


def text_of(element, tag, default=""):
    """The stripped text of a child element."""
    return (element.findtext(tag) or default).strip()


def parse_brick(brick):
    """One <brick> of volume info: name, host, path, host uuid, arbiter."""
    name = text_of(brick, "name") or (brick.text or "").strip()
    host, _colon, path = name.rpartition(":")
    return {"name": name, "host": host, "path": path, "uuid": text_of(brick, "hostUuid"),
            "arbiter": text_of(brick, "isArbiter", "0") == "1"}


def parse_volume_info(root):
    """Volumes of ``gluster volume info --xml``, each as the planner and preflight use it."""
    volumes = []
    for vol in root.iter("volume"):
        if vol.find("name") is None:
            continue
        volumes.append({
            "name": text_of(vol, "name"),
            "id": text_of(vol, "id"),
            "status": text_of(vol, "statusStr"),
            "type": text_of(vol, "typeStr"),
            "replica": int(text_of(vol, "replicaCount", "1")),
            "arbiter": int(text_of(vol, "arbiterCount", "0")),
            "disperse": int(text_of(vol, "disperseCount", "0")),
            "brick_count": int(text_of(vol, "brickCount", "0")),
            "transport": {"0": "tcp", "1": "rdma", "2": "tcp,rdma"}.get(
                text_of(vol, "transport", "0"), text_of(vol, "transport")),
            "bricks": [parse_brick(b) for b in vol.iter("brick")],
            "options": {text_of(o, "name"): text_of(o, "value")
                        for o in vol.iter("option")},
        })
    return volumes


def parse_volume_status(root):
    """{brick name: {online, pid, port}} of ``gluster volume status NAME --xml``.

    Daemons (hostname "Self-heal Daemon") are keyed "Self-heal Daemon PEER-UUID".
    """
    status = {}
    for node in root.iter("node"):
        host, path = text_of(node, "hostname"), text_of(node, "path")
        key = "%s:%s" % (host, path) if path.startswith("/") else "%s %s" % (
            host, text_of(node, "peerid"))
        pid = text_of(node, "pid")
        status[key] = {"online": text_of(node, "status", "0") == "1",
                       "pid": int(pid) if pid.isdigit() and pid != "0" else None,
                       "port": text_of(node, "port") or None}
    return status


def parse_heal_info(root):
    """{brick name: {connected, pending}} of ``gluster volume heal NAME info --xml``.

    The same shape serves ``... info split-brain --xml``: pending is then the split-brain
    entries. pending is None when the brick could not be asked (disconnected).
    """
    heal = {}
    for brick in root.iter("brick"):
        count = text_of(brick, "numberOfEntries")
        heal[text_of(brick, "name")] = {
            "connected": text_of(brick, "status") == "Connected",
            "pending": int(count) if count.isdigit() else None}
    return heal


def same_host(addresses, first, second):
    """Two brick hosts are one: equal names, or names the node resolves to a common address."""
    return first == second or bool(set(addresses.get(first) or [])
                                   & set(addresses.get(second) or []))


def check_layout(desired):
    """Replica, arbiter and brick counts that make a sound volume, else PlanError."""
    bricks, replica, arbiter = desired.get("bricks") or [], desired.get("replica") or 1, \
        desired.get("arbiter") or 0
    problems = []
    if replica == 2 and not arbiter and not desired.get("allow_split_brain"):
        problems.append("replica 2 without an arbiter splits brain when the two disagree; "
                        "use replica 3, or replica 3 arbiter 1 with a third host (set "
                        "allow_split_brain=true to accept the risk)")
    if arbiter and replica != 3:
        problems.append("an arbiter goes with replica 3 (two data bricks and the arbiter), "
                        "not replica %d" % replica)
    if bricks and len(bricks) % replica:
        problems.append("%d bricks do not make whole replica sets of %d; list a multiple "
                        "of %d bricks" % (len(bricks), replica, replica))
    names = ["%s:%s" % (b["host"], b["path"]) for b in bricks]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        problems.append("bricks listed twice: %s" % ", ".join(twice))
    if problems:
        raise PlanError("%s - nothing was changed" % "; ".join(problems))


def new_bricks(current, desired, addresses):
    """The desired bricks the volume lacks; PlanError when it has bricks not desired."""
    wanted = desired.get("bricks") or []
    if not wanted:
        return []

    def matches(have, want):
        return have["path"] == want["path"] and same_host(addresses, have["host"],
                                                          want["host"])
    extra = [b["name"] for b in current["bricks"] if not any(matches(b, w) for w in wanted)]
    if extra:
        raise PlanError("volume %s has bricks %s that are not listed; this module only adds "
                        "bricks (take bricks out with gluster volume remove-brick) - nothing "
                        "was changed" % (current["name"], ", ".join(extra)))
    return [w for w in wanted if not any(matches(b, w) for b in current["bricks"])]


def plan_growth(current, desired, added):
    """The add-brick action that grows the volume to the desired layout, or None."""
    replica = desired.get("replica") or current["replica"]
    if not added:
        if replica != current["replica"] or (desired.get("arbiter") or 0) != current["arbiter"]:
            raise PlanError("volume %s is replica %d arbiter %d; replica %d arbiter %d needs "
                            "bricks added with it - nothing was changed"
                            % (current["name"], current["replica"], current["arbiter"], replica,
                               desired.get("arbiter") or 0))
        return None
    sets = max(current["brick_count"] // max(current["replica"], 1), 1)
    if current["arbiter"] or desired.get("arbiter"):
        raise PlanError("volume %s has an arbiter; an arbiter volume does not grow by single "
                        "bricks - nothing was changed" % current["name"])
    if replica < current["replica"]:
        raise PlanError("volume %s is replica %d; lowering it to %d takes remove-brick - "
                        "nothing was changed" % (current["name"], current["replica"], replica))
    need = (replica - current["replica"]) * sets if replica > current["replica"] else replica
    if (replica > current["replica"] and len(added) != need) or len(added) % need:
        raise PlanError("volume %s (replica %d, %d replica set(s)) grows to replica %d with "
                        "%s new bricks, not %d - nothing was changed"
                        % (current["name"], current["replica"], sets, replica,
                           "exactly %d" % need if replica > current["replica"]
                           else "a multiple of %d" % need, len(added)))
    return {"action": "add-brick", "bricks": ["%s:%s" % (b["host"], b["path"]) for b in added],
            "replica": replica if replica != current["replica"] else None,
            "force": bool(desired.get("force"))}


def wanted_options(desired):
    """The options the volume must have: the given ones, and auth.allow when listed."""
    options = {k: str(v) for k, v in (desired.get("options") or {}).items()}
    if desired.get("auth_allow"):
        options[AUTH_ALLOW] = ",".join(desired["auth_allow"])
    return options


def option_actions(current_options, desired):
    """set actions for the options whose value differs (auth.allow compared as a set)."""
    actions = []
    for key, value in wanted_options(desired).items():
        have = current_options.get(key)
        if key == AUTH_ALLOW and have is not None:
            if set(have.split(",")) == set(value.split(",")):
                continue
        elif have == value:
            continue
        actions.append({"action": "set", "option": key, "value": value, "before": have})
    return actions


def plan_volume(current, desired, addresses):
    """[{action, ...}] that bring the volume to the desired state (pure).

    current: the parsed volume or None; desired: the module's parameters; addresses:
    {brick host: [addresses]} as the node resolves them.
    """
    name = desired["name"]
    if desired["state"] == "absent":
        if current is None:
            return []
        if not desired.get("delete_volume"):
            raise PlanError("state=absent deletes volume %s only with delete_volume=true "
                            "(brick directories and their data stay) - nothing was changed"
                            % name)
        stop = [{"action": "stop"}] if current["status"] == "Started" else []
        return stop + [{"action": "delete"}]
    check_layout(desired)
    if current is None:
        if not desired.get("bricks"):
            raise PlanError("volume %s does not exist; list its bricks to create it - "
                            "nothing was changed" % name)
        actions = [{"action": "create", "replica": desired.get("replica") or 1,
                    "arbiter": desired.get("arbiter") or 0, "force": bool(desired.get("force")),
                    "bricks": ["%s:%s" % (b["host"], b["path"]) for b in desired["bricks"]]}]
        actions += option_actions({}, desired)
        return actions + ([{"action": "start"}] if desired["state"] == "started" else [])
    actions = []
    growth = plan_growth(current, desired, new_bricks(current, desired, addresses))
    if growth:
        actions.append(growth)
    actions += option_actions(current["options"], desired)
    if desired["state"] == "started" and current["status"] != "Started":
        actions.append({"action": "start"})
    elif desired["state"] == "stopped" and current["status"] == "Started":
        actions.append({"action": "stop"})
    return actions


def predict_volume(current, actions, name):
    """The volume after the actions (check mode's answer); None once deleted."""
    volume = dict(current or {"name": name, "id": None, "status": None, "type": None,
                              "replica": 1, "arbiter": 0, "disperse": 0, "brick_count": 0,
                              "transport": "tcp", "bricks": [], "options": {}})
    volume["bricks"], volume["options"] = list(volume["bricks"]), dict(volume["options"])
    for action in actions:
        kind = action["action"]
        if kind in ("create", "add-brick"):
            volume["bricks"] += [dict(parse_name(b), uuid=None, arbiter=False)
                                 for b in action["bricks"]]
            volume["replica"] = action.get("replica") or volume["replica"]
            volume["arbiter"] = action.get("arbiter", volume["arbiter"])
            volume["brick_count"] = len(volume["bricks"])
            volume["status"] = volume["status"] or "Created"
        elif kind == "set":
            volume["options"][action["option"]] = action["value"]
        elif kind in ("start", "stop"):
            volume["status"] = "Started" if kind == "start" else "Stopped"
        elif kind == "delete":
            return None
    return volume


def parse_name(name):
    """host and path of a brick name host:/path."""
    host, _colon, path = name.rpartition(":")
    return {"name": name, "host": host, "path": path}


def describe(volume, option_keys):
    """The diff view: status, layout, bricks and the options the module manages."""
    if volume is None:
        return {}
    return {"status": volume["status"], "replica": volume["replica"],
            "arbiter": volume["arbiter"], "bricks": [b["name"] for b in volume["bricks"]],
            "options": {k: volume["options"].get(k) for k in sorted(option_keys)}}


def command_of(name, action):
    """The gluster argv (after 'gluster --mode=script --xml') of one action."""
    kind = action["action"]
    if kind == "create":
        layout = ["replica", str(action["replica"])] if action["replica"] > 1 else []
        layout += ["arbiter", "1"] if action["arbiter"] else []
        return ["volume", "create", name] + layout + action["bricks"] + \
            (["force"] if action["force"] else [])
    if kind == "add-brick":
        layout = ["replica", str(action["replica"])] if action["replica"] else []
        return ["volume", "add-brick", name] + layout + action["bricks"] + \
            (["force"] if action["force"] else [])
    if kind == "set":
        return ["volume", "set", name, action["option"], action["value"]]
    return ["volume", kind, name]


def apply_actions(module, name, actions):
    """Run the actions in order; after a replica increase, start a full heal.

    The self-heal daemon's index only lists files changed while a brick was down: a brick
    added by a replica increase starts empty, and only a full heal copies everything to it.
    """
    for action in actions:
        run_gluster(module, command_of(name, action))
        if action["action"] == "add-brick" and action.get("replica"):
            # `heal ... full` answers in plain text even with --xml.
            run_gluster(module, ["volume", "heal", name, "full"], xml=False)


def read_volume(module, name):
    """The parsed volume, or None when glusterd has no volume of that name."""
    volumes = parse_volume_info(run_gluster(module, ["volume", "info"]))
    return next((v for v in volumes if v["name"] == name), None)


def wait_bricks_online(module, volume, timeout):
    """Wait until volume status shows every brick online; GlusterError naming the others."""
    deadline = time.time() + timeout
    while True:
        status = parse_volume_status(run_gluster(module, ["volume", "status", volume["name"]]))
        offline = [b["name"] for b in volume["bricks"]
                   if not status.get(b["name"], {}).get("online")]
        if not offline:
            return
        if time.time() >= deadline:
            raise GlusterError("bricks of volume %s not online after %ss: %s; see "
                               "/var/log/glusterfs/bricks/ on their hosts"
                               % (volume["name"], timeout, ", ".join(offline)))
        time.sleep(2)
