# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A GlusterFS volume: parse ``--xml`` answers, plan create / grow / start / set, apply.

``parse_*``, ``plan_volume`` and ``predict_volume`` are pure, so unit tests feed them XML
recorded on lab nodes. Private to this collection.
"""

from __future__ import annotations

import re
import time

from ansible_collections.swarmops.cluster.plugins.module_utils._common import PlanError
from ansible_collections.swarmops.cluster.plugins.module_utils._gluster import (
    GlusterError, run_gluster)

AUTH_ALLOW = "auth.allow"
# glusterd's own rule for volume names; the CLI parses words, so nothing else reaches argv.
VOLUME_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")
OPTION_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
TRANSPORTS = {"0": "tcp", "1": "rdma", "2": "tcp,rdma"}


# Seconds a full heal may be refused after a brick change (its heal daemon starting).
HEAL_START_TIMEOUT = 60


def text_of(element, tag, default=""):
    """The stripped text of a child element."""
    return (element.findtext(tag) or default).strip()


def int_of(text):
    """A count glusterd wrote, or None where it wrote '-' / 'N/A' (not known)."""
    return int(text) if text.isdigit() else None


def parse_brick(brick):
    """One <brick> of volume info: name, host, path, host uuid, arbiter."""
    name = text_of(brick, "name") or (brick.text or "").strip()
    host, path = split_brick(name)
    return {"name": name, "host": host, "path": path, "uuid": text_of(brick, "hostUuid"),
            "arbiter": text_of(brick, "isArbiter", "0") == "1"}


def split_brick(name):
    """host and path of a brick name host:/path (the path is what follows the last colon)."""
    host, path = name.rsplit(":", 1) if ":" in name else ("", name)
    return host, path


def parse_volume(vol):
    """One <volume> of volume info, as the planner and preflight use it."""
    return {
        "name": text_of(vol, "name"),
        "id": text_of(vol, "id"),
        "status": text_of(vol, "statusStr"),
        "type": text_of(vol, "typeStr"),
        "replica": int(text_of(vol, "replicaCount", "1")),
        "arbiter": int(text_of(vol, "arbiterCount", "0")),
        "disperse": int(text_of(vol, "disperseCount", "0")),
        "brick_count": int(text_of(vol, "brickCount", "0")),
        "transport": TRANSPORTS.get(text_of(vol, "transport", "0"), text_of(vol, "transport")),
        "bricks": [parse_brick(b) for b in vol.iter("brick")],
        "options": {text_of(o, "name"): text_of(o, "value") for o in vol.iter("option")},
    }


def parse_volume_info(root):
    """Volumes of ``gluster volume info [NAME] --xml``; [] when the pool has none."""
    return [parse_volume(v) for v in root.iter("volume") if v.find("name") is not None]


def parse_volume_status(root):
    """{brick name: {online, pid, port}} of ``gluster volume status NAME [detail] --xml``.

    Daemons (hostname "Self-heal Daemon") have no brick path; they are keyed
    "Self-heal Daemon PEER-UUID". pid and port are None where the process is not running.
    """
    status = {}
    for node in root.iter("node"):
        host, path = text_of(node, "hostname"), text_of(node, "path")
        key = "%s:%s" % (host, path) if path.startswith("/") else "%s %s" % (
            host, text_of(node, "peerid"))
        pid = int_of(text_of(node, "pid"))
        status[key] = {"online": text_of(node, "status", "0") == "1",
                       "pid": pid or None, "port": int_of(text_of(node, "port")) or None}
    return status


def heal_counts(root):
    """{brick name: (connected, entries)} of one ``volume heal NAME info ... --xml`` answer."""
    return {text_of(b, "name"): (text_of(b, "status") == "Connected",
                                 int_of(text_of(b, "numberOfEntries")))
            for b in root.iter("brick")}


def parse_heal_info(root, split_brain_root=None):
    """{brick name: {connected, pending, split_brain}} of ``gluster volume heal NAME info``.

    ``info split-brain`` answers in the same shape, so it is passed separately: its entry
    count becomes split_brain (None when not asked). A count is None when the brick could
    not be asked (glusterd writes '-' for a disconnected brick).
    """
    split = heal_counts(split_brain_root) if split_brain_root is not None else {}
    return {name: {"connected": connected, "pending": pending,
                   "split_brain": split.get(name, (None, None))[1]}
            for name, (connected, pending) in heal_counts(root).items()}


def brick_name(brick):
    """host:/path of a brick dict."""
    return "%s:%s" % (brick["host"], brick["path"])


def check_words(desired):
    """Names and values the gluster CLI would read as other words, else PlanError."""
    problems = []
    if not VOLUME_NAME.match(desired["name"]):
        problems.append("volume name %r: use letters, digits, '_' and '-' only, not first"
                        % desired["name"])
    for brick in desired.get("bricks") or []:
        if not brick["host"] or re.search(r"\s", brick["host"] + brick["path"]) or \
                not brick["path"].startswith("/") or ":" in brick["path"]:
            problems.append("brick %r: give a host and an absolute path without spaces or ':'"
                            % brick_name(brick))
    for key, value in wanted_options(desired).items():
        if not OPTION_NAME.match(key) or not value:
            problems.append("option %r=%r: give a gluster option name and a non-empty value "
                            "(gluster volume reset clears an option)" % (key, value))
    if any(not a or re.search(r"[\s,]", a) for a in desired.get("auth_allow") or []):
        problems.append("auth_allow %r: one address or pattern per item, no spaces or commas"
                        % desired["auth_allow"])
    if problems:
        raise PlanError("%s - nothing was changed" % "; ".join(problems))


def check_layout(desired):
    """Replica, arbiter and brick counts that make a sound volume, else PlanError."""
    bricks, replica = desired.get("bricks") or [], desired.get("replica") or 1
    arbiter = desired.get("arbiter") or 0
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
    names = [brick_name(b) for b in bricks]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        problems.append("bricks listed twice: %s" % ", ".join(twice))
    if problems:
        raise PlanError("%s - nothing was changed" % "; ".join(problems))


def same_host(addresses, first, second):
    """Two brick hosts are one: equal names, or names the node resolves to a common address."""
    return first == second or bool(set(addresses.get(first) or [])
                                   & set(addresses.get(second) or []))


def new_bricks(current, desired, addresses):
    """The listed bricks the volume lacks (PlanError when it has bricks not listed, or
    when a new brick is listed before an existing one: add-brick appends)."""
    wanted = desired["bricks"]

    def matches(have, want):
        """The volume's brick is the listed one: same path, same host."""
        return have["path"] == want["path"] and same_host(addresses, have["host"],
                                                          want["host"])
    extra = [b["name"] for b in current["bricks"] if not any(matches(b, w) for w in wanted)]
    if extra:
        raise PlanError("volume %s has bricks %s that are not listed; this module only adds "
                        "bricks (take bricks out with the remove_node playbook; a listed "
                        "host matches when this node resolves it to the brick's address) - "
                        "nothing was changed" % (current["name"], ", ".join(extra)))
    known = [any(matches(b, w) for b in current["bricks"]) for w in wanted]
    if False in known and True in known[known.index(False):]:
        raise PlanError("volume %s: new brick %s is listed before existing ones; list the "
                        "volume's bricks first and new ones after them - nothing was changed"
                        % (current["name"], brick_name(wanted[known.index(False)])))
    return [w for w, old in zip(wanted, known) if not old]


def layout_error(current, replica, arbiter, detail):
    """PlanError naming the layout found, the one wanted, and why add-brick cannot get there."""
    return PlanError("volume %s is replica %d arbiter %d with %d bricks; wanted replica %d "
                     "arbiter %d: %s - nothing was changed"
                     % (current["name"], current["replica"], current["arbiter"],
                        current["brick_count"], replica, arbiter, detail))


def growth_need(current, replica, arbiter, added):
    """How many new bricks the change from current to (replica, arbiter) takes, or
    PlanError. A raise adds (new - old) bricks to every replica set; an equal count adds
    whole replica sets."""
    sets = max(current["brick_count"] // max(current["replica"], 1), 1)
    if current["disperse"]:
        raise layout_error(current, replica, arbiter, "this module does not grow a dispersed "
                           "volume; use gluster volume add-brick by hand")
    if replica < current["replica"]:
        raise layout_error(current, replica, arbiter, "lowering the replica count takes "
                           "remove-brick (the remove_node playbook)")
    if current["arbiter"] and not arbiter:
        raise layout_error(current, replica, arbiter, "an arbiter volume stays one; set "
                           "arbiter: 1")
    # 2 -> 3 with arbiter: 1 adds an arbiter to each set (gluster's conversion of
    # replica 2 to arbiter); no other change makes a volume an arbiter volume.
    if arbiter and not current["arbiter"] and (current["replica"], replica) != (2, 3):
        raise layout_error(current, replica, arbiter, "an arbiter is added only to a "
                           "replica 2 volume (to make it replica 3 arbiter 1)")
    if replica == current["replica"]:
        if len(added) % replica:
            raise layout_error(current, replica, arbiter, "adding replica sets takes a "
                               "multiple of %d new bricks, not %d" % (replica, len(added)))
        return len(added)
    # Raising replica: each set gets (new - old) bricks.
    return (replica - current["replica"]) * sets


def plan_growth(current, desired, added):
    """The add-brick action that grows the volume to the desired layout, or None."""
    replica = desired.get("replica") or current["replica"]
    arbiter = desired.get("arbiter") or 0
    if not added:
        if (replica, arbiter) != (current["replica"], current["arbiter"]):
            raise layout_error(current, replica, arbiter, "a new layout needs bricks added "
                               "with it, listed after the existing ones")
        return None
    need = growth_need(current, replica, arbiter, added)
    if len(added) != need:
        raise layout_error(current, replica, arbiter, "that takes exactly %d new bricks (%d per "
                           "replica set), not %d" % (need, replica - current["replica"],
                                                     len(added)))
    action = {"action": "add-brick", "bricks": [brick_name(b) for b in added],
              "replica": replica if replica != current["replica"] else None,
              "force": bool(desired.get("force"))}
    if arbiter and not current["arbiter"]:
        action["arbiter"] = 1
    return action


def option_value(value):
    """An option value as gluster stores it: YAML booleans become on / off."""
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def wanted_options(desired):
    """The options the volume must have: the given ones, and auth.allow when listed."""
    options = {str(k): option_value(v) for k, v in (desired.get("options") or {}).items()}
    if desired.get("auth_allow"):
        options[AUTH_ALLOW] = ",".join(desired["auth_allow"])
    return options


def option_actions(current_options, desired):
    """set actions for the options whose value differs (auth.allow compared as a set, so
    the order the addresses are listed in does not flap)."""
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


def plan_absent(current, desired):
    """stop + delete, only with delete_volume (brick directories and data stay)."""
    if current is None:
        return []
    if not desired.get("delete_volume"):
        raise PlanError("state=absent deletes volume %s only with delete_volume=true (brick "
                        "directories and their data stay) - nothing was changed"
                        % desired["name"])
    return ([{"action": "stop"}] if current["status"] == "Started" else []) + \
        [{"action": "delete"}]


def plan_create(desired):
    """create, the options, then start (state started)."""
    if not desired.get("bricks"):
        raise PlanError("volume %s does not exist; list its bricks to create it - nothing "
                        "was changed" % desired["name"])
    actions = [{"action": "create", "replica": desired.get("replica") or 1,
                "arbiter": desired.get("arbiter") or 0, "force": bool(desired.get("force")),
                "bricks": [brick_name(b) for b in desired["bricks"]]}]
    actions += option_actions({}, desired)
    return actions + ([{"action": "start"}] if desired["state"] == "started" else [])


def removed_per_set(current, desired, addresses):
    """{replica set index: [brick]} of the listed bricks the volume still has."""
    per_set = {}
    for index, brick in enumerate(current["bricks"]):
        if any(brick["path"] == want["path"] and same_host(addresses, brick["host"],
                                                           want["host"])
               for want in desired["remove_bricks"]):
            per_set.setdefault(index // current["replica"], []).append(brick)
    return per_set


def removal_problems(current, per_set, allow_split_brain):
    """Why taking the same number of bricks out of every set would leave a broken or
    fragile volume."""
    sets = current["brick_count"] // current["replica"]
    taken = {len(b) for b in per_set.values()}
    problems = []
    if len(per_set) != sets or len(taken) != 1:
        problems.append("lowering the replica count takes the same number of bricks out of "
                        "every replica set (%d sets of %d); removing whole sets (distribute) "
                        "is not done here" % (sets, current["replica"]))
    count = max(taken or {1})
    after = current["replica"] - count
    removed = [b for bricks in per_set.values() for b in bricks]
    if after < 1:
        problems.append("every brick of a replica set would go: the set's files with them")
    if current["arbiter"] and not all(b["arbiter"] for b in removed):
        problems.append("a data brick of an arbiter volume is replaced, not removed "
                        "(playbooks/replace_node.yml)")
    if 1 <= after <= 2 and not allow_split_brain:
        problems.append("replica %d%s -> %d without an arbiter is split-brain-prone (or one "
                        "copy of every file); name a replacement (playbooks/replace_node.yml)"
                        " or set allow_split_brain=true to accept the risk"
                        % (current["replica"], " arbiter 1" if current["arbiter"] else "",
                           after))
    return problems


def plan_removal(current, desired, addresses):
    """The remove-brick action that takes the listed bricks out, or [] when none is left.

    Only the replica-lowering form: as many bricks of every replica set, with force (the other
    bricks of each set hold the files, so nothing migrates). The brick directories and
    their data stay on their hosts.
    """
    if current is None:
        return []
    per_set = removed_per_set(current, desired, addresses)
    if not per_set:
        return []
    problems = removal_problems(current, per_set, desired.get("allow_split_brain"))
    if problems:
        raise PlanError("volume %s: cannot remove %s: %s - nothing was changed"
                        % (current["name"], ", ".join(b["name"] for s in per_set.values()
                                                      for b in s), "; ".join(problems)))
    count = len(next(iter(per_set.values())))
    bricks = [b for index in sorted(per_set) for b in per_set[index]]
    action = {"action": "remove-brick", "replica": current["replica"] - count, "force": True,
              "bricks": [b["name"] for b in bricks]}
    named = [pool_brick_name(b, current.get("pool")) for b in bricks]
    if named != action["bricks"]:
        action["bricks_as"] = named  # as the pool knows their nodes (pool_brick_name)
    return [action]


def pool_brick_name(brick, pool):
    """How to name a volume's brick in a command so that every peer finds it.

    Each peer maps a brick's host to one of its own peer entries: by a name it knows the
    peer by, else by resolving both. A peer probed in after the brick's node died (its
    replacement) knows that node only by the names the probing node passed on, which are
    the names that node learned when it was probed from the dead one: the name its
    address resolved to there (its /etc/hosts), not the brick's address, and the new peer
    cannot resolve it ("brick ... does not exist in volume"). Named by the running node's
    own name for the peer (pool: its ``pool list``), the brick is matched by name on the
    peers it told and by resolution on the others, then by its UUID and path.
    """
    peer = next((p for p in pool or [] if not p["self"] and p["uuid"] == brick.get("uuid")),
                None)
    if peer is None or brick["host"] in peer["hostnames"]:
        return brick["name"]
    return "%s:%s" % (peer["hostname"], brick["path"])


def plan_replacements(current, desired, addresses):
    """replace-brick actions for the pairs whose old brick the volume still has; the old
    brick named as the pool knows its node (pool_brick_name, current["pool"]).

    A pair whose new brick is in the volume and old one is not was done already (a re-run
    changes nothing); a new brick already in the volume beside the old one, or neither in
    it, is a PlanError: the pair names the wrong bricks.
    """
    if current is None:
        raise PlanError("volume %s does not exist; there is no brick to replace - nothing "
                        "was changed" % desired["name"])

    def held(brick):
        """The volume's name of the brick, or None."""
        return next((b["name"] for b in current["bricks"] if b["path"] == brick["path"]
                     and same_host(addresses, b["host"], brick["host"])), None)
    actions, problems = [], []
    for pair in desired["replace_bricks"]:
        old, new = held(pair["old"]), held(pair["new"])
        if old and not new:
            brick = next(b for b in current["bricks"] if b["name"] == old)
            actions.append({"action": "replace-brick", "old": old,
                            "new": brick_name(pair["new"])})
            named = pool_brick_name(brick, current.get("pool"))
            if named != old:
                actions[-1]["old_as"] = named
        elif not new or old:
            problems.append("%s -> %s: the volume holds %s" % (
                brick_name(pair["old"]), brick_name(pair["new"]),
                "both" if old else "neither"))
    if problems:
        raise PlanError("volume %s: cannot replace bricks: %s - nothing was changed"
                        % (current["name"], "; ".join(problems)))
    return actions


def plan_resets(current, desired, addresses):
    """reset-brick actions for the listed bricks the volume holds and volume status shows
    offline (current["offline"]): a brick directory that lost its data and its volume-id
    (a reinstalled host, a new disk) goes back in its place, empty, and glusterd marks it
    for self-heal. A brick that is online is never reset; one the volume does not hold is
    a PlanError."""
    actions, unknown = [], []
    for brick in desired.get("reset_bricks") or []:
        held = next((b["name"] for b in current["bricks"] if b["path"] == brick["path"]
                     and same_host(addresses, b["host"], brick["host"])), None)
        if held is None:
            unknown.append(brick_name(brick))
        elif held in current.get("offline", ()):
            actions.append({"action": "reset-brick", "brick": held})
    if unknown:
        raise PlanError("volume %s holds no brick %s to reset - nothing was changed"
                        % (current["name"], ", ".join(unknown)))
    return actions


def plan_volume(current, desired, addresses):
    """[{action, ...}] that bring the volume to the desired state (pure).

    current: the parsed volume or None; desired: the module's parameters; addresses:
    {brick host: [addresses]} as the node resolves them. Every refusal is a PlanError
    raised before any action is returned.
    """
    check_words(desired)
    if desired["state"] == "absent":
        return plan_absent(current, desired)
    check_layout(desired)
    if current is None:
        return plan_create(desired)
    actions = plan_removal(current, desired, addresses) if desired.get("remove_bricks") else []
    actions += plan_resets(current, desired, addresses)
    if desired.get("replace_bricks"):
        actions += plan_replacements(current, desired, addresses)
    # Without a brick list the layout is left alone: options and state only.
    if desired.get("bricks"):
        growth = plan_growth(current, desired, new_bricks(current, desired, addresses))
        actions += [growth] if growth else []
    actions += option_actions(current["options"], desired)
    if desired["state"] == "started" and current["status"] != "Started":
        actions.append({"action": "start"})
    elif desired["state"] == "stopped" and current["status"] == "Started":
        actions.append({"action": "stop"})
    return actions


def grown_bricks(volume, action):
    """The brick list after add-brick, in the order volume info then shows it: a raised
    replica puts each set's new bricks after that set; new sets go at the end."""
    # Copies: the caller's current volume must stay as read.
    old = [dict(b) for b in volume["bricks"]]
    added = [dict(zip(("host", "path"), split_brick(n)), name=n, uuid=None, arbiter=False)
             for n in action["bricks"]]
    replica = action.get("replica") or volume["replica"]
    if replica == volume["replica"]:
        merged = old + added
    else:
        per, sets = replica - volume["replica"], len(added) // (replica - volume["replica"])
        merged = []
        for index in range(sets):
            merged += old[index * volume["replica"]:(index + 1) * volume["replica"]]
            merged += added[index * per:(index + 1) * per]
    for index, brick in enumerate(merged):
        brick["arbiter"] = bool(volume["arbiter"]) and index % replica == replica - 1
    return merged, replica


def layout_type(volume):
    """Gluster's typeStr for a replicated or plain distribute layout."""
    sets = volume["brick_count"] // volume["replica"]
    if volume["replica"] == 1:
        return "Distribute"
    return "Replicate" if sets == 1 else "Distributed-Replicate"


def predict_volume(current, actions, name):
    """The volume after the actions (check mode's answer); None once deleted."""
    volume = dict(current or {"name": name, "id": None, "status": None, "type": None,
                              "replica": 1, "arbiter": 0, "disperse": 0, "brick_count": 0,
                              "transport": "tcp", "bricks": [], "options": {}})
    volume["bricks"], volume["options"] = list(volume["bricks"]), dict(volume["options"])
    for action in actions:
        kind = action["action"]
        if kind in ("create", "add-brick"):
            volume["arbiter"] = action.get("arbiter") or volume["arbiter"]
            if kind == "create":
                volume["replica"], volume["status"] = action["replica"], "Created"
            volume["bricks"], volume["replica"] = grown_bricks(volume, action)
            volume["brick_count"] = len(volume["bricks"])
            volume["type"] = layout_type(volume)
        elif kind == "remove-brick":
            volume["bricks"] = [b for b in volume["bricks"] if b["name"] not in action["bricks"]]
            volume["replica"], volume["arbiter"] = action["replica"], 0
            volume["brick_count"] = len(volume["bricks"])
            volume["type"] = layout_type(volume)
        elif kind == "replace-brick":
            volume["bricks"] = [dict(b, name=action["new"], host=split_brick(action["new"])[0],
                                     path=split_brick(action["new"])[1], uuid=None)
                                if b["name"] == action["old"] else b for b in volume["bricks"]]
        elif kind == "set":
            volume["options"][action["option"]] = action["value"]
        elif kind in ("start", "stop"):
            volume["status"] = "Started" if kind == "start" else "Stopped"
        elif kind == "delete":
            return None
    return volume


def describe(volume, option_keys):
    """The diff view: status, layout, bricks and the options the module manages."""
    if volume is None:
        return {}
    return {"status": volume["status"], "replica": volume["replica"],
            "arbiter": volume["arbiter"], "bricks": [b["name"] for b in volume["bricks"]],
            "options": {k: volume["options"].get(k) for k in sorted(option_keys)}}


def commands_of(name, action):
    """The gluster argvs of one action: a reset-brick stops the brick, then commits it
    back (``commit force``: its directory is new to glusterd)."""
    if action["action"] == "reset-brick":
        brick = action["brick"]
        return [["volume", "reset-brick", name, brick, "start"],
                ["volume", "reset-brick", name, brick, brick, "commit", "force"]]
    return [command_of(name, action)]


def command_of(name, action):
    """The gluster argv (after 'gluster --mode=script --xml') of one action."""
    kind = action["action"]
    if kind == "replace-brick":
        return ["volume", kind, name, action.get("old_as") or action["old"], action["new"],
                "commit", "force"]
    if kind == "remove-brick":
        return ["volume", kind, name, "replica", str(action["replica"])] + \
            (action.get("bricks_as") or action["bricks"]) + ["force"]
    if kind in ("create", "add-brick"):
        layout = ["replica", str(action["replica"])] if (action["replica"] or 1) > 1 else []
        layout += ["arbiter", "1"] if layout and action.get("arbiter") else []
        return ["volume", kind, name] + layout + action["bricks"] + \
            (["force"] if action["force"] else [])
    if kind == "set":
        return ["volume", "set", name, action["option"], action["value"]]
    return ["volume", kind, name]


def run_when_peers_settle(module, argv, timeout=HEAL_START_TIMEOUT):
    """A create or add-brick, again while a peer's staging says another peer is "not
    connected": a pool's handshakes spread from the node that probed, so right after the
    probes the node running this sees every peer connected while another one does not yet
    (found on GlusterFS 11: "Staging failed on node2. Error: Host node3 not connected").
    Staging fails before anything is committed, so the call is safe to make again."""
    deadline = time.time() + timeout
    while True:
        try:
            return run_gluster(module, argv)
        except GlusterError as err:
            if "not connected" not in err.msg or time.time() >= deadline:
                raise
            time.sleep(2)


def start_full_heal(module, name, timeout=HEAL_START_TIMEOUT):
    """``gluster volume heal NAME full``, again until it takes: right after a replace-brick
    the new brick's self-heal daemon is not up yet ("Commit failed on <new host>")."""
    deadline = time.time() + timeout
    while True:
        try:
            # `heal ... full` answers in plain text even with --xml.
            return run_gluster(module, ["volume", "heal", name, "full"], xml=False)
        except GlusterError:
            if time.time() >= deadline:
                raise
            time.sleep(2)


def apply_actions(module, name, actions, wait_timeout=HEAL_START_TIMEOUT):
    """Run the actions in order; the list of those done rides on a GlusterError.

    After a brick arrives empty - a replica raise (or an arbiter added to replica 2), a
    replace-brick, a reset-brick - a full heal: the self-heal daemon's index lists only
    files changed while a brick was down, so the new brick would otherwise get only what is
    written from now on, and an entry whose heal failed while the brick came up would wait
    for the daemon's next crawl (ten minutes).
    Adding replica sets needs no heal (new files land there; old ones stay, see
    ``gluster volume rebalance``).
    """
    done = []
    try:
        for action in actions:
            for argv in commands_of(name, action):
                if action["action"] in ("create", "add-brick"):
                    run_when_peers_settle(module, argv)
                else:
                    run_gluster(module, argv)
            done.append(action)
            if action["action"] in ("replace-brick", "reset-brick") or (
                    action["action"] == "add-brick" and action.get("replica")):
                heal_onto(module, name, started_bricks(None, [action]), wait_timeout)
    except GlusterError as err:
        err.details["done"] = done
        raise
    return done


def heal_onto(module, name, bricks, timeout):
    """A full heal once the bricks an action put in place are online: a heal started while
    a brick is still coming up skips it (GlusterFS's own reset-brick test waits for the
    brick, then heals)."""
    wait_bricks_online(module, read_volume(module, name), timeout, bricks)
    start_full_heal(module, name)


def read_volume(module, name):
    """The parsed volume, or None when glusterd has no volume of that name."""
    volumes = parse_volume_info(run_gluster(module, ["volume", "info"]))
    return next((v for v in volumes if v["name"] == name), None)


def offline_bricks(module, volume):
    """The volume's bricks that volume status does not show online (all, if it fails:
    right after a start glusterd may still hold the volume's lock)."""
    try:
        status = parse_volume_status(run_gluster(module, ["volume", "status", volume["name"]]))
    except GlusterError:
        status = {}
    return [b["name"] for b in volume["bricks"] if not status.get(b["name"], {}).get("online")]


def started_bricks(volume, done):
    """The bricks the actions done should have brought online: all of them after a create
    or a start, else only those added, put in place or reset (others may be down for good,
    the reason for a replace)."""
    if any(a["action"] in ("create", "start") for a in done):
        return [b["name"] for b in volume["bricks"]]
    return [name for a in done for name in a.get("bricks") or [a.get("new") or a.get("brick")]
            if a["action"] in ("add-brick", "replace-brick", "reset-brick")]


def wait_bricks_online(module, volume, timeout, names=None):
    """Wait until volume status shows the named bricks (default: all) online; GlusterError
    naming the others."""
    deadline = time.time() + timeout
    while True:
        offline = [n for n in offline_bricks(module, volume) if names is None or n in names]
        if not offline:
            return
        if time.time() >= deadline:
            raise GlusterError("bricks of volume %s not online after %ss: %s; check that "
                               "glusterd runs on those hosts and read "
                               "/var/log/glusterfs/bricks/ there, then re-run"
                               % (volume["name"], timeout, ", ".join(offline)))
        time.sleep(2)
