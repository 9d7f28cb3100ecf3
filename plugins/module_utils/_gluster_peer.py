# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The GlusterFS trusted pool: parse ``--xml`` answers, plan probes and detaches, apply.

``parse_*`` and ``plan_peers`` are pure, so unit tests feed them XML recorded on lab nodes.
Private to this collection.
"""

from __future__ import annotations

import time

from ansible_collections.swarmops.cluster.plugins.module_utils._common import PlanError
from ansible_collections.swarmops.cluster.plugins.module_utils._gluster import (
    GlusterError, run_gluster)

IN_CLUSTER = "Peer in Cluster"


def parse_peers(root):
    """Peers of ``gluster pool list --xml`` or ``gluster peer status --xml``.

    Each: uuid, hostname, hostnames (every name glusterd knows it by), connected, state,
    state_str, self (the pool list's entry for the node that answered).
    """
    peers = []
    for peer in root.iter("peer"):
        hostname = (peer.findtext("hostname") or "").strip()
        names = [h.text.strip() for h in peer.findall("hostnames/hostname") if h.text]
        peers.append({
            "uuid": (peer.findtext("uuid") or "").strip(),
            "hostname": hostname,
            "hostnames": names or [hostname],
            "connected": (peer.findtext("connected") or "0").strip() == "1",
            "state": int(peer.findtext("state") or 0),
            "state_str": (peer.findtext("stateStr") or "").strip(),
            "self": hostname == "localhost",
        })
    return peers


parse_pool_list = parse_peers
parse_peer_status = parse_peers


def brick_host_uuids(root):
    """{peer uuid: [volume:brick, ...]} of every brick in ``gluster volume info --xml``."""
    holders = {}
    for volume in root.iter("volume"):
        name = (volume.findtext("name") or "").strip()
        for brick in volume.iter("brick"):
            uuid = (brick.findtext("hostUuid") or "").strip()
            holders.setdefault(uuid, []).append(
                "%s %s" % (name, (brick.findtext("name") or "").strip()))
    return holders


def find_peer(pool, name, addresses):
    """The pool entry that is `name`: one of its hostnames is the name, or an address of it.

    addresses: {name or hostname: [addresses it resolves to on the node]}.
    """
    wanted = {name} | set(addresses.get(name) or [])
    for peer in pool:
        if peer["self"]:
            continue
        for hostname in peer["hostnames"]:
            if hostname in wanted or wanted & set(addresses.get(hostname) or []):
                return peer
    return None


def is_self(name, addresses, own):
    """The listed name is the node running the module (its name, address or loopback)."""
    return name in own or bool(set(addresses.get(name) or []) & set(own))


def check_names(peers, addresses, pool):
    """Names glusterd can probe: not empty, not an option, resolvable on the node."""
    bad = [repr(n) for n in peers if not n or n.startswith("-")]
    unresolved = [n for n in peers if n and not n.startswith("-") and not addresses.get(n)
                  and not any(n in p["hostnames"] for p in pool)]
    problems = (["%s cannot be peer names" % ", ".join(bad)] if bad else []) + \
        (["%s do(es) not resolve on this node; use an address, or a name in DNS or its "
          "/etc/hosts" % ", ".join(unresolved)] if unresolved else [])
    if problems:
        raise PlanError("%s - nothing was changed" % "; ".join(problems))


def plan_peers(pool, peers, state, addresses, own, bricks=None):
    """[{action, peer}] that bring the listed peers into (or out of) the pool.

    own: the node's names and addresses; bricks: brick_host_uuids of the volumes (absent).
    A host listed twice (by name and by address) gets one action.
    """
    check_names(peers, addresses, pool)
    actions, planned = [], set()
    for name in peers:
        here = {name} | set(addresses.get(name) or [])
        if is_self(name, addresses, own) or here & planned:
            continue
        peer = find_peer(pool, name, addresses)
        if state == "present" and peer is None:
            actions.append({"action": "probe", "peer": name})
            planned |= here
        elif state == "absent" and peer is not None and peer["uuid"] not in planned:
            # glusterd detaches a disconnected peer only with force ("One of the peers is
            # probably down"); a dead node's peer is one.
            actions.append({"action": "detach", "peer": name, "uuid": peer["uuid"],
                            "force": not peer["connected"]})
            planned |= here | {peer["uuid"]}
    held = ["%s holds bricks %s" % (a["peer"], ", ".join((bricks or {})[a["uuid"]]))
            for a in actions if a["action"] == "detach" and (bricks or {}).get(a["uuid"])]
    if held:
        raise PlanError("%s; take those bricks out of their volumes first (gluster volume "
                        "remove-brick, or replace-brick onto another node) - nothing was "
                        "changed" % "; ".join(held))
    return actions


def predict_pool(pool, actions):
    """The pool's hostnames after the actions (what check mode reports)."""
    detached = {a["uuid"] for a in actions if a["action"] == "detach"}
    names = [p["hostname"] for p in pool if not p["self"] and p["uuid"] not in detached]
    return sorted(names + [a["peer"] for a in actions if a["action"] == "probe"])


def apply_actions(module, actions):
    """Probe or detach, one peer at a time, in order."""
    for action in actions:
        run_gluster(module, ["peer", action["action"], action["peer"]]
                    + (["force"] if action.get("force") else []))


def wait_connected(module, peers, addresses, timeout):
    """Wait until every listed peer is 'Peer in Cluster' and connected; the final pool."""
    deadline = time.time() + timeout
    while True:
        pool = parse_peers(run_gluster(module, ["pool", "list"]))
        states = {name: find_peer(pool, name, addresses) for name in peers}
        waiting = {n: p for n, p in states.items() if p is None
                   or not (p["connected"] and p["state_str"] == IN_CLUSTER)}
        if not waiting:
            return pool
        if time.time() >= deadline:
            raise GlusterError(
                "peers not in the pool and connected after %ss: %s; check that glusterd "
                "runs on them and that TCP 24007 and the brick ports are open between the "
                "nodes" % (timeout, ", ".join(
                    "%s (%s)" % (n, "missing" if p is None else "%s, %s" % (
                        p["state_str"], "connected" if p["connected"] else "disconnected"))
                    for n, p in sorted(waiting.items()))))
        time.sleep(2)
