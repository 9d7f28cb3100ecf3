# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A reinstalled storage node takes its old place in the trusted pool.

The pool knows a node by the UUID in its ``glusterd.info``. A host reinstalled under the
same name and address starts a glusterd with a new UUID, which the pool does not know,
while the old UUID still holds the node's bricks. GlusterFS's own procedure for "a host
replaced under the same hostname" gives the new glusterd the old UUID and the pool's peer
files, and the pool then hands it the volumes' configuration. ``read_identity`` and
``plan_rejoin`` are pure over the files of ``/var/lib/glusterd``; ``apply_rejoin`` writes
them with glusterd stopped. Private to this collection.
"""

from __future__ import annotations

import os
import re
import time

from ansible_collections.swarmops.cluster.plugins.module_utils._common import (
    PlanError, replace_file, run_systemctl)
from ansible_collections.swarmops.cluster.plugins.module_utils._gluster import (
    GlusterError, run_gluster)
from ansible_collections.swarmops.cluster.plugins.module_utils._gluster_peer import (
    parse_peers)

GLUSTERD_DIR = "/var/lib/glusterd"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# glusterd's own peer-file state for a full member (GD_FRIEND_STATE_BEFRIENDED).
BEFRIENDED = 3


def parse_info(text):
    """The key=value lines of glusterd.info (or of a peer file) as a dict."""
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def read_identity(root=GLUSTERD_DIR):
    """What the node's glusterd holds: its UUID (None before glusterd first ran), the
    UUIDs of its peer files and the names of its volumes."""
    def listing(sub):
        path = os.path.join(root, sub)
        return sorted(os.listdir(path)) if os.path.isdir(path) else []
    info_path = os.path.join(root, "glusterd.info")
    info = {}
    if os.path.exists(info_path):
        with open(info_path, encoding="utf-8") as handle:
            info = parse_info(handle.read())
    return {"uuid": info.get("UUID"), "peers": listing("peers"), "volumes": listing("vols"),
            "info": info}


def check_request(desired):
    """The UUIDs and names are glusterd's kind; the node is not among its own peers."""
    bad = [u for u in [desired["uuid"]] + [p["uuid"] for p in desired["peers"]]
           if not UUID.match(u or "")]
    if bad:
        raise PlanError("not a glusterd UUID: %s - nothing was changed" % ", ".join(bad))
    if desired["uuid"] in [p["uuid"] for p in desired["peers"]]:
        raise PlanError("the node's own UUID %s is listed among its peers - nothing was "
                        "changed" % desired["uuid"])
    if not desired["peers"]:
        raise PlanError("no peer listed: a node rejoins a pool of at least one other node "
                        "- nothing was changed")
    bad = [p["hostname"] for p in desired["peers"]
           if not p["hostname"] or p["hostname"].startswith("-") or "\n" in p["hostname"]]
    if bad:
        raise PlanError("not a peer hostname: %r - nothing was changed" % bad)


def plan_rejoin(identity, desired):
    """[{action, ...}]: none when glusterd has the old UUID already; else set the UUID and
    write each peer's file, which is safe only on a glusterd that has no peer or volume of
    its own (a fresh install): anything else is refused before any change."""
    check_request(desired)
    if identity["uuid"] == desired["uuid"]:
        return []
    held = ["peer %s" % p for p in identity["peers"]] + \
        ["volume %s" % v for v in identity["volumes"]]
    if held:
        raise PlanError(
            "glusterd here (UUID %s) is not a fresh install: it has %s. Only a reinstalled "
            "node with an empty /var/lib/glusterd takes an old UUID; take the old node out "
            "with playbooks/remove_node.yml instead - nothing was changed"
            % (identity["uuid"], ", ".join(held)))
    return [{"action": "set-uuid", "uuid": desired["uuid"], "was": identity["uuid"]}] + \
        [{"action": "write-peer", "uuid": p["uuid"], "hostname": p["hostname"]}
         for p in desired["peers"]]


def info_text(info, uuid):
    """glusterd.info with the UUID replaced and every other line (operating-version) kept."""
    lines = ["UUID=%s" % uuid] + ["%s=%s" % (k, v) for k, v in info.items() if k != "UUID"]
    return "\n".join(lines) + "\n"


def peer_text(peer):
    """A peer file as glusterd writes it for a full member known by one hostname."""
    return "uuid=%s\nstate=%d\nhostname1=%s\n" % (peer["uuid"], BEFRIENDED, peer["hostname"])


def write_identity(actions, info, root=GLUSTERD_DIR):
    """Write glusterd.info and the peer files the actions name (glusterd stopped)."""
    os.makedirs(os.path.join(root, "peers"), mode=0o755, exist_ok=True)
    for action in actions:
        if action["action"] == "set-uuid":
            replace_file(os.path.join(root, "glusterd.info"), info_text(info, action["uuid"]),
                         0o600)
        elif action["action"] == "write-peer":
            replace_file(os.path.join(root, "peers", action["uuid"]), peer_text(action),
                         0o600)


def run_glusterd(module, verb):
    """systemctl VERB glusterd; GlusterError naming the unit's journal on failure."""
    run_systemctl(module, [verb, "glusterd.service"], GlusterError,
                  "see journalctl -u glusterd")


def apply_rejoin(module, actions, info, desired, root=GLUSTERD_DIR):
    """Stop glusterd, write its identity and peers, start it and wait until the pool has
    handed it the volumes; then restart it once: glusterd resolves its own bricks'
    directories when it starts, and without that a reset-brick of an emptied brick here
    is refused as "a new brick"."""
    run_glusterd(module, "stop")
    write_identity(actions, info, root)
    run_glusterd(module, "start")
    wait_rejoined(module, desired, desired["wait_timeout"])
    run_glusterd(module, "restart")


def parse_volume_list(root):
    """The volume names of ``gluster volume list --xml``."""
    return [(v.text or "").strip() for v in root.iter("volume")]


def rejoin_state(pool, volumes, desired):
    """What is still missing: peers not connected members, volumes not synced."""
    members = {p["uuid"] for p in pool if p.get("connected")
               and p.get("state_str") == "Peer in Cluster"}
    return ([p["hostname"] for p in desired["peers"] if p["uuid"] not in members],
            [v for v in desired["volumes"] if v not in volumes])


def wait_rejoined(module, desired, timeout):
    """Wait until every peer is a connected member and the listed volumes are here."""
    deadline = time.time() + timeout
    while True:
        try:
            pool = parse_peers(run_gluster(module, ["pool", "list"]))
            volumes = parse_volume_list(run_gluster(module, ["volume", "list"]))
            peers, missing = rejoin_state(pool, volumes, desired)
        except GlusterError as err:
            pool, peers, missing = [], ["(glusterd: %s)" % err.msg], []
        if not peers and not missing:
            return pool
        if time.time() >= deadline:
            raise GlusterError(
                "after %ss the pool has not taken this node back: peers not connected: %s; "
                "volumes not synced: %s. Check that glusterd runs on the peers and TCP 24007 "
                "is open, and read /var/log/glusterfs/glusterd.log here"
                % (timeout, ", ".join(peers) or "none", ", ".join(missing) or "none"))
        time.sleep(2)
