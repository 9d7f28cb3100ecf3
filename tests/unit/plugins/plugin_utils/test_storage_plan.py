"""The storage preflight planner: layout, live-state refusals, mounts, the docker GID."""

import pytest

from ansible_collections.swarmops.cluster.plugins.plugin_utils import _storage_plan as sp

SETTINGS = {"volume": "dockerdir", "brick_dir": "/srv/gluster/dockerdir/brick",
            "arbiter_brick_dir": "/srv/gluster/dockerdir/arbiter", "mount_point": "/opt/docker",
            "replica": 0, "two_node_arbiter": False, "force": True, "arbiters": []}
BRICK = SETTINGS["brick_dir"]


def nodes(managers=3, workers=0):
    """Node dicts as cluster_nodes makes them: n1.. managers, w1.. workers."""
    result = [{"name": "n%d" % i, "address": "10.0.0.%d" % i, "manager": True, "worker": False}
              for i in range(1, managers + 1)]
    return result + [{"name": "w%d" % i, "address": "10.0.1.%d" % i, "manager": False,
                      "worker": True} for i in range(1, workers + 1)]


def volume(hosts, replica=None, arbiter=0, paths=None):
    """A parsed volume as node_facts reports it."""
    paths = paths or [BRICK] * len(hosts)
    return {"name": "dockerdir", "id": "6f1c-0a", "status": "Started", "type": "Replicate",
            "replica": replica or len(hosts), "arbiter": arbiter, "disperse": 0,
            "brick_count": len(hosts), "transport": "tcp", "options": {},
            "bricks": [{"host": h, "path": p, "name": "%s:%s" % (h, p), "uuid": None,
                        "arbiter": False} for h, p in zip(hosts, paths)]}


def probe(pool=(), volumes=(), paths=None, gids=None):
    """A swarmops_node fact with the storage parts."""
    return {"gluster": {"installed": True, "answering": True, "pool": [
        {"hostname": "localhost", "hostnames": ["localhost"], "self": True}] + [
        {"hostname": p, "hostnames": [p], "self": False} for p in pool],
        "volumes": list(volumes)},
        "paths": paths or {}, "group_gids": gids or {"root": 0, "users": 100}}


def plan(node_list, storage, probes=None, play=None, **settings):
    """storage_plan with the defaults above."""
    return sp.storage_plan(node_list, storage, probes or {}, play or storage,
                           dict(SETTINGS, **settings))


def test_three_managers_make_replica_3_on_their_addresses():
    result = plan(nodes(), ["n1", "n2", "n3"])
    assert result["problems"] == []
    assert result["replica"] == 3 and result["arbiter_count"] == 0
    assert [b["host"] for b in result["bricks"]] == ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
    assert result["auth_allow"] == ["10.0.0.1", "10.0.0.2", "10.0.0.3"]


def test_storage_nodes_mount_localhost_backed_by_the_others_workers_the_first():
    result = plan(nodes(3, 1), ["n1", "n2", "n3"], play=["n1", "n2", "n3", "w1"])
    assert result["mounts"]["n2"] == {"src": "localhost:/dockerdir",
                                      "backup_volfile_servers": ["10.0.0.1", "10.0.0.3"]}
    assert result["mounts"]["w1"] == {"src": "10.0.0.1:/dockerdir",
                                      "backup_volfile_servers": ["10.0.0.2", "10.0.0.3"]}


@pytest.mark.parametrize("storage, arbiters, two_node, fragment", [
    (["n1"], [], False, "1 storage node(s) (n1)"),
    (["n1", "n2"], [], False, "replica 2 without an arbiter splits brain"),
    (["n1", "n2", "n3"], ["n2", "n3"], False, "2 arbiters"),
    (["n1", "n2", "n3"], ["n1"], True, "exactly two data nodes"),
    (["n1", "n2", "w9"], [], False, "w9 is in the storage group but not in the swarm"),
])
def test_layouts_that_split_brain_or_cannot_be_built_are_refused(storage, arbiters, two_node,
                                                                 fragment):
    result = plan(nodes(3), storage, arbiters=arbiters, two_node_arbiter=two_node)
    assert any(fragment in p for p in result["problems"]), result["problems"]


def test_two_data_nodes_and_an_arbiter_make_replica_3_arbiter_1():
    result = plan(nodes(1, 2), ["n1", "w1", "w2"], arbiters=["w2"])
    assert result["problems"] == []
    assert (result["replica"], result["arbiter_count"]) == (3, 1)
    assert result["bricks"][-1] == {"host": "10.0.1.2", "path": SETTINGS["arbiter_brick_dir"]}


def test_the_two_host_workaround_puts_the_arbiter_on_the_first_data_node_and_warns():
    result = plan(nodes(1, 1), ["n1", "w1"], two_node_arbiter=True)
    assert result["problems"] == []
    assert result["bricks"][2] == {"host": "10.0.0.1", "path": SETTINGS["arbiter_brick_dir"]}
    assert result["force"] is True and "n1 is down" in result["warnings"][0]


@pytest.mark.parametrize("brick_dir, mount", [
    ("/opt/docker/brick", "/opt/docker"), ("/srv/b", "/srv"), ("/opt/docker", "/opt/docker")])
def test_a_brick_under_the_mount_point_or_around_it_is_refused(brick_dir, mount):
    result = plan(nodes(), ["n1", "n2", "n3"], brick_dir=brick_dir, mount_point=mount)
    assert any("overlap" in p for p in result["problems"])


def test_malformed_mount_options_are_refused():
    result = plan(nodes(), ["n1", "n2", "n3"], mount_options=["rw,noatime"])
    assert any("'rw,noatime' is malformed" in p for p in result["problems"])


def test_growing_keeps_the_volume_brick_order_and_raises_the_replica():
    live = volume(["10.0.0.2", "10.0.0.1", "10.0.0.3"])
    probes = {"n1": probe(["10.0.0.2", "10.0.0.3"], [live])}
    result = plan(nodes(5), ["n1", "n2", "n3", "n4", "n5"], probes, play=["n4", "n5"])
    assert result["problems"] == []
    assert [b["host"] for b in result["bricks"]] == [
        "10.0.0.2", "10.0.0.1", "10.0.0.3", "10.0.0.4", "10.0.0.5"]
    assert result["replica"] == 5 and result["probe_from"] == "n1"


def test_a_node_in_a_pool_with_strangers_is_refused():
    probes = {"n2": probe(["10.9.9.9"])}
    result = plan(nodes(), ["n1", "n2", "n3"], probes)
    assert any("n2 is in a trusted pool with 10.9.9.9" in p for p in result["problems"])


def test_storage_nodes_in_two_pools_are_refused():
    probes = {"n1": probe(["10.0.0.2"]), "n2": probe(["10.0.0.1"]), "n3": probe(["10.0.0.4"]),
              "n4": probe(["10.0.0.3"])}
    result = plan(nodes(4), ["n1", "n2", "n3", "n4"], probes)
    assert any("2 separate trusted pools" in p for p in result["problems"])


def test_a_pool_of_our_own_nodes_is_accepted():
    probes = {"n1": probe(["10.0.0.2"]), "n2": probe(["10.0.0.1"])}
    assert plan(nodes(), ["n1", "n2", "n3"], probes)["problems"] == []


@pytest.mark.parametrize("live, fragment", [
    (volume(["10.0.0.1", "10.0.0.9", "10.0.0.3"]), "10.0.0.9:/srv/gluster/dockerdir/brick"),
    (volume(["10.0.0.1", "10.0.0.2", "10.0.0.3"], replica=3, arbiter=1), "arbiter 1"),
    (volume(["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.1", "10.0.0.2", "10.0.0.3"],
            replica=3, paths=[BRICK] * 3 + ["/b2"] * 3), "not storage nodes' bricks"),
])
def test_a_volume_of_the_same_name_that_growing_cannot_reach_is_refused(live, fragment):
    result = plan(nodes(), ["n1", "n2", "n3"], {"n1": probe(volumes=[live])})
    assert any(fragment in p for p in result["problems"]), result["problems"]


def test_a_smaller_replica_than_the_volume_has_is_refused():
    live = volume(["10.0.0.1", "10.0.0.2", "10.0.0.3"])
    result = plan(nodes(), ["n1", "n2", "n3"], {"n1": probe(volumes=[live])}, replica=1)
    assert any("add-brick cannot reach" in p for p in result["problems"])


@pytest.mark.parametrize("state, fragment", [
    ({"exists": True, "entries": 4, "volume_id": None}, "holds 4 entries but is no brick"),
    ({"exists": True, "entries": 2, "volume_id": "aa11"}, "brick of another volume"),
])
def test_a_brick_directory_with_other_data_is_refused(state, fragment):
    probes = {"n2": probe(paths={BRICK: state})}
    result = plan(nodes(), ["n1", "n2", "n3"], probes)
    assert any(p.startswith("n2: ") and fragment in p for p in result["problems"])


def test_a_brick_of_this_volume_is_accepted():
    live = volume(["10.0.0.1", "10.0.0.2", "10.0.0.3"])
    state = {"exists": True, "entries": 3, "volume_id": "6f1c0a"}
    probes = {n: probe(volumes=[live], paths={BRICK: state}) for n in ("n1", "n2", "n3")}
    assert plan(nodes(), ["n1", "n2", "n3"], probes)["problems"] == []


@pytest.mark.parametrize("state, fragment", [
    ({"exists": True, "entries": 0, "mount": {"source": "/dev/sdb1", "fstype": "ext4"}},
     "already has /dev/sdb1 (ext4) mounted"),
    ({"exists": True, "entries": 0,
      "mount": {"source": "localhost:/other", "fstype": "fuse.glusterfs"}}, "localhost:/other"),
    ({"exists": True, "entries": 7, "mount": None}, "holds 7 entries that the volume's mount"),
])
def test_something_else_on_the_mount_point_is_refused(state, fragment):
    probes = {"n3": probe(paths={"/opt/docker": state})}
    result = plan(nodes(), ["n1", "n2", "n3"], probes)
    assert any(p.startswith("n3: ") and fragment in p for p in result["problems"])


def test_our_volume_mounted_on_the_mount_point_is_accepted():
    state = {"exists": True, "entries": 0,
             "mount": {"source": "localhost:/dockerdir", "fstype": "fuse.glusterfs"}}
    assert plan(nodes(), ["n1", "n2", "n3"], {"n1": probe(paths={"/opt/docker": state})}
                )["problems"] == []


# gid_plan


def test_the_first_managers_docker_gid_is_every_nodes():
    probes = {"n1": probe(gids={"docker": 998}), "n2": probe(gids={"docker": 1234}),
              "n3": probe()}
    result = sp.gid_plan(nodes(), probes, ["n1", "n2", "n3"])
    assert (result["gid"], result["problems"]) == (998, [])


def test_a_bare_first_manager_takes_the_highest_system_gid_free_everywhere():
    probes = {"n1": probe(), "n2": probe(gids={"docker": 1234, "a": 999}),
              "n3": probe(gids={"b": 998})}
    assert sp.gid_plan(nodes(), probes, ["n1", "n2", "n3"])["gid"] == 997


def test_a_gid_held_by_another_group_is_refused_unless_moving_is_allowed():
    probes = {"n1": probe(gids={"docker": 998}), "n2": probe(gids={"render": 998}),
              "n3": probe()}
    refused = sp.gid_plan(nodes(), probes, ["n1", "n2", "n3"])
    assert "n2: GID 998" in refused["problems"][0] and "render" in refused["problems"][0]
    moved = sp.gid_plan(nodes(), probes, ["n1", "n2", "n3"], allow_move=True)
    assert (moved["problems"], moved["moves"]) == ([], {"n2": "render"})


def test_an_explicit_gid_wins_and_an_unread_first_manager_needs_one():
    probes = {"n1": None, "n2": probe(), "n3": probe()}
    assert "could not be read" in sp.gid_plan(nodes(), probes, ["n2"])["problems"][0]
    assert sp.gid_plan(nodes(), probes, ["n2"], explicit=2001)["gid"] == 2001


def test_under_limit_an_outside_storage_node_not_in_the_volume_waits_for_its_run():
    live = volume(["10.0.0.1", "10.0.0.2", "10.0.0.3"])
    probes = {"n1": probe(["10.0.0.2", "10.0.0.3"], [live])}
    result = plan(nodes(5), ["n1", "n2", "n3", "n4", "n5"], probes, play=["n4"])
    assert [b["host"] for b in result["bricks"]][-1] == "10.0.0.4" and result["replica"] == 4
    assert "n5: in the storage group but outside this run" in result["warnings"][0]


def converged_probes(auth=True):
    """Three storage nodes as preflight reads them on a converged cluster."""
    live = volume(["10.0.0.1", "10.0.0.2", "10.0.0.3"])
    if auth:
        live["options"]["auth.allow"] = "10.0.0.3,10.0.0.1,10.0.0.2"
    pool = probe(["10.0.0.2", "10.0.0.3"], [live])
    for peer in pool["gluster"]["pool"]:
        peer.update(connected=True, state_str="Peer in Cluster")
    return {"n1": pool, "n2": probe(volumes=[live]), "n3": probe(volumes=[live])}


def test_a_converged_pool_and_volume_skip_their_calls():
    result = plan(nodes(), ["n1", "n2", "n3"], converged_probes())
    assert (result["peers_ready"], result["volume_ready"]) == (True, True)


def test_a_missing_option_or_peer_leaves_the_step_to_the_module():
    result = plan(nodes(), ["n1", "n2", "n3"], converged_probes(auth=False))
    assert (result["peers_ready"], result["volume_ready"]) == (True, False)
    probes = converged_probes()
    probes["n1"]["gluster"]["pool"][-1]["connected"] = False
    assert plan(nodes(), ["n1", "n2", "n3"], probes)["peers_ready"] is False


def test_a_bare_cluster_has_nothing_ready():
    result = plan(nodes(), ["n1", "n2", "n3"])
    assert (result["peers_ready"], result["volume_ready"]) == (False, False)


def test_a_peer_known_by_a_reverse_dns_name_is_ours_by_its_uuid():
    # Seen on the lab after a replace-brick: node4 knew node1 only as the name the bridge's
    # DNS gives its address; node1's own pool entry carries the same UUID.
    n1 = probe(["10.0.0.2"])
    n1["gluster"]["pool"].append({"hostname": "localhost", "hostnames": ["localhost"],
                                  "self": True, "uuid": "dc490eaf"})
    n2 = probe()
    n2["gluster"]["pool"].append({"hostname": "lab-node1.lab", "hostnames": ["lab-node1.lab"],
                                  "self": False, "uuid": "dc490eaf"})
    assert plan(nodes(), ["n1", "n2", "n3"], {"n1": n1, "n2": n2})["problems"] == []
    del n1["gluster"]["pool"][-1]
    assert "n2 is in a trusted pool with lab-node1.lab" in \
        plan(nodes(), ["n1", "n2", "n3"], {"n1": n1, "n2": n2})["problems"][0]


UUIDS = {"10.0.0.1": "11111111-aaaa-4bbb-8ccc-000000000001",
         "10.0.0.2": "11111111-aaaa-4bbb-8ccc-000000000002",
         "10.0.0.3": "11111111-aaaa-4bbb-8ccc-000000000003"}


def with_uuids(node_probe, own):
    """The probe's pool entries with the UUIDs of UUIDS (own: this node's address)."""
    for peer in node_probe["gluster"]["pool"]:
        peer["uuid"] = UUIDS[own if peer["self"] else peer["hostname"]]
    return node_probe


def reinstalled(n3, brick_state, **settings):
    """n1 and n2 kept the volume, n3 answers as read (its brick directory as given)."""
    live = volume(["10.0.0.1", "10.0.0.2", "10.0.0.3"])
    kept = {BRICK: {"exists": True, "entries": 3, "volume_id": "6f1c0a", "mount": None}}
    n1 = with_uuids(probe(["10.0.0.2", "10.0.0.3"], [live], paths=kept), "10.0.0.1")
    n2 = with_uuids(probe(["10.0.0.1", "10.0.0.3"], [live], paths=kept), "10.0.0.2")
    n3["paths"] = {BRICK: brick_state} if brick_state is not None else {}
    return plan(nodes(), ["n1", "n2", "n3"], {"n1": n1, "n2": n2, "n3": n3}, **settings)


EMPTY = {"exists": False, "entries": 0, "volume_id": None, "mount": None,
         "filesystem": "/", "unmounted": []}
# /srv/gluster is the brick disk's fstab line; the disk did not mount at boot.
UNMOUNTED = dict(EMPTY, unmounted=["/srv/gluster"])


def in_pool_n3():
    """n3 as its glusterd answers when only its brick directory is gone."""
    live = volume(["10.0.0.1", "10.0.0.2", "10.0.0.3"])
    return with_uuids(probe(["10.0.0.1", "10.0.0.2"], [live]), "10.0.0.3")


@pytest.mark.parametrize("force", [True, False])
def test_a_brick_whose_disk_did_not_mount_is_refused_not_reset(force):
    found = reinstalled(in_pool_n3(), UNMOUNTED, force=force)
    assert found["reset_bricks"] == []
    assert found["problems"] == [
        "n3: the brick directory %s lies under /srv/gluster, which /etc/fstab lists but is "
        "not mounted (its disk did not mount?); mount it (mount /srv/gluster; journalctl -b "
        "says why it failed at boot) and run again - nothing was changed" % BRICK]


def test_a_new_brick_whose_disk_did_not_mount_is_refused_too():
    n3 = probe(paths={BRICK: UNMOUNTED})
    found = plan(nodes(), ["n1", "n2", "n3"], {"n1": probe(), "n2": probe(), "n3": n3})
    assert [p.split(",")[0] for p in found["problems"]] == [
        "n3: the brick directory %s lies under /srv/gluster" % BRICK]


@pytest.mark.parametrize("state, word", [(EMPTY, "missing"),
                                         (dict(EMPTY, exists=True), "empty")])
def test_an_emptied_brick_on_the_root_filesystem_is_reset_only_with_force(state, word):
    refused = reinstalled(in_pool_n3(), state, force=False)
    assert refused["reset_bricks"] == [] and refused["problems"] == [
        "n3: the brick %s of volume dockerdir is %s on the root filesystem; mount the disk "
        "that held it (and add it to /etc/fstab), or set swarmops_glusterfs_force: true to "
        "rebuild the brick on the root filesystem - nothing was changed" % (BRICK, word)]
    forced = reinstalled(in_pool_n3(), state, force=True)
    assert forced["problems"] == [] and forced["reset_bricks"] == [
        {"host": "10.0.0.3", "path": BRICK}]


def test_an_emptied_brick_on_its_own_disk_is_reset_without_force():
    # A new disk mounted where the old one was: the directory is made there and reset.
    for state in (dict(EMPTY, filesystem="/srv/gluster"),
                  dict(EMPTY, exists=True, filesystem="/srv/gluster")):
        found = reinstalled(in_pool_n3(), state, force=False)
        assert found["problems"] == [] and found["reset_bricks"] == [
            {"host": "10.0.0.3", "path": BRICK}]


def test_a_reinstalled_storage_node_rejoins_under_its_old_uuid_and_its_brick_is_reset():
    # node3 wiped and reinstalled: no glusterd (or a new one knowing no volume) while the
    # volume still holds its brick under the old peer.
    bare = {"gluster": {"installed": False, "answering": False, "pool": [], "volumes": []},
            "group_gids": {"root": 0}}
    # Reinstalled with the packages already on it: glusterd installed, never started.
    stopped = {"gluster": {"installed": True, "answering": False, "fresh": True,
                           "error": "Connection failed. Please check if gluster daemon is "
                                    "operational.", "pool": [], "volumes": []},
               "group_gids": {"root": 0}}
    for n3 in (bare, probe(), stopped):
        found = reinstalled(n3, EMPTY)
        assert found["problems"] == []
        assert found["rejoin"] == {"n3": {"uuid": UUIDS["10.0.0.3"], "peers": [
            {"uuid": UUIDS["10.0.0.1"], "hostname": "10.0.0.1"},
            {"uuid": UUIDS["10.0.0.2"], "hostname": "10.0.0.2"}]}}
        assert found["reset_bricks"] == [{"host": "10.0.0.3", "path": BRICK}]
        assert found["volume_ready"] is False


def test_a_stopped_glusterd_with_a_pool_on_disk_is_no_reinstall():
    # glusterd stopped (or crashed) on a node that still has its peers and volumes: site.yml
    # starts it again; it must not take an old UUID.
    stopped = {"gluster": {"installed": True, "answering": False, "fresh": False,
                           "error": "Connection failed.", "pool": [], "volumes": []},
               "group_gids": {"root": 0}}
    assert reinstalled(stopped, EMPTY)["rejoin"] == {}


def test_a_reinstalled_node_whose_brick_disk_survived_rejoins_without_a_reset():
    found = reinstalled(probe(), {"exists": True, "entries": 4, "volume_id": "6f1c0a",
                                  "mount": None})
    assert list(found["rejoin"]) == ["n3"] and found["reset_bricks"] == []


def test_an_emptied_brick_of_a_node_in_the_pool_is_reset_without_a_rejoin():
    live = volume(["10.0.0.1", "10.0.0.2", "10.0.0.3"])
    found = reinstalled(with_uuids(probe(["10.0.0.1", "10.0.0.2"], [live]), "10.0.0.3"),
                        EMPTY)
    assert found["rejoin"] == {} and found["reset_bricks"] == [
        {"host": "10.0.0.3", "path": BRICK}]
    unread = reinstalled(with_uuids(probe(["10.0.0.1", "10.0.0.2"], [live]), "10.0.0.3"),
                         None)
    assert unread["reset_bricks"] == []


def test_a_reinstalled_node_the_pool_does_not_know_is_refused():
    live = volume(["10.0.0.1", "10.0.0.2", "10.0.0.3"])
    n1 = with_uuids(probe(["10.0.0.2"], [live]), "10.0.0.1")
    found = plan(nodes(), ["n1", "n2", "n3"], {"n1": n1, "n2": n1, "n3": probe()})
    assert any(p.startswith("n3 looks reinstalled (the volume holds its brick, its glusterd "
                            "is new) but n1 does not know its old UUID") for p in found["problems"])


# local_storage_problems: swarmops_storage local on a cluster whose DOCKERDIR is the volume

# The fstab line the glusterfs role writes on a storage node (as read by node_facts).
GLUSTER_LINE = ("localhost:/dockerdir /opt/docker glusterfs _netdev,x-systemd.requires="
                "glusterd.service,backup-volfile-servers=10.0.0.2:10.0.0.3 0 0")


@pytest.mark.parametrize("state, refused", [
    ({"exists": True, "entries": 0, "fstab_lines": [GLUSTER_LINE],
      "mount": {"source": "localhost:/dockerdir", "fstype": "fuse.glusterfs"}}, True),
    # Unmounted at read time, still in fstab: the next boot mounts the volume again.
    ({"exists": True, "entries": 0, "fstab_lines": [GLUSTER_LINE], "mount": None}, True),
    ({"exists": True, "entries": 4, "fstab_lines": [], "mount": None}, False),
    # The user's own disk for a local DOCKERDIR.
    ({"exists": True, "entries": 4, "mount": {"source": "/dev/sdb1", "fstype": "ext4"},
      "fstab_lines": ["UUID=0a1b /opt/docker ext4 defaults 0 2"]}, False),
    ({"exists": False, "entries": 0, "fstab_lines": [], "mount": None}, False),
])
def test_local_storage_is_refused_where_dockerdir_is_the_volume(state, refused):
    probes = {"n1": probe(paths={"/opt/docker": state}), "n2": None}
    problems = sp.local_storage_problems(["n1", "n2"], probes, "/opt/docker")
    assert bool(problems) is refused
    if refused:
        assert problems[0].startswith("n1: /opt/docker is the GlusterFS volume's mount")
        assert "docs/user-guide/storage.md" in problems[0]
