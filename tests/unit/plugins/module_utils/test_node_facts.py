"""node_facts' parsers, fed command output recorded on lab nodes (fixtures/node_facts)."""

import json
from pathlib import Path

import pytest

from ansible_collections.swarmops.cluster.plugins.module_utils import _node_facts as nf
from ansible_collections.swarmops.cluster.plugins.module_utils._mount import parse_mountinfo

RECORDED = Path(__file__).resolve().parents[2] / "fixtures" / "node_facts"
PACKAGES = ["docker.io", "python3-docker", "docker-ce", "nope"]


def recorded(name):
    """The text of one recorded output."""
    return (RECORDED / name).read_text()


def api_info(name):
    """A recorded engine /info (fixtures/NAME.json) as `docker info --format json` prints it."""
    return json.dumps(json.loads((RECORDED.parent / f"{name}.json").read_text())["info"])


# ip -j addr show

def test_ip_addr_leaves_out_loopback():
    facts = nf.parse_ip_addr(recorded("ip_addr_node1.json"))
    assert facts["all_ipv4_addresses"] == ["10.101.0.1", "10.213.0.11", "10.111.0.1"]
    assert facts["all_ipv6_addresses"] == []
    assert "lo" not in facts["interfaces"]


def test_ip_addr_names_each_interface_with_its_networks():
    # A macvlan parent must exist on its node and new subnets must not overlap these.
    interfaces = nf.parse_ip_addr(recorded("ip_addr_node1.json"))["interfaces"]
    assert "10.213.0.11/24" in interfaces["eth0"]
    assert sorted(cidr for cidrs in interfaces.values() for cidr in cidrs) == sorted(
        ["10.101.0.1/24", "10.213.0.11/24", "10.111.0.1/24"])


def test_ip_addr_of_a_bare_host():
    assert nf.parse_ip_addr(recorded("bare_ip_addr.json"))["all_ipv4_addresses"] == [
        "172.17.0.2"]


def test_ip_addr_sorts_families():
    links = [{"addr_info": [{"family": "inet6", "local": "::1", "scope": "host"},
                            {"family": "inet6", "local": "fd00::11", "scope": "global"},
                            {"family": "inet6", "local": "fe80::1", "scope": "link"},
                            {"family": "inet", "local": "10.0.0.1", "scope": "global"}]},
             {"ifname": "dummy0"}]
    facts = nf.parse_ip_addr(json.dumps(links))
    assert (facts["all_ipv4_addresses"], facts["all_ipv6_addresses"]) == (
        ["10.0.0.1"], ["fd00::11", "fe80::1"])


def test_networks_from_inspect():
    # Recorded on a lab manager whose swarm took its ingress from the default address pool.
    nets = {n["name"]: n for n in nf.parse_networks(recorded("network_inspect_manager.json"))}
    assert nets["ingress"]["ingress"] and nets["ingress"]["scope"] == "swarm"
    assert nets["ingress"]["subnets"] == ["10.128.0.0/24"]
    assert nets["docker_gwbridge"]["subnets"] == ["10.111.0.0/24"]
    assert not nets["bridge"]["ingress"] and nets["bridge"]["config_from"] is None


def test_networks_of_a_bare_host():
    assert nf.parse_networks("") == []


# /etc/group

def test_group_with_members():
    assert nf.parse_group_file(recorded("etc_group.txt"), "docker") == {
        "exists": True, "gid": 103, "members": ["swarmops"], "error": None}


def test_group_without_members():
    group = nf.parse_group_file(recorded("etc_group.txt"), "sudo")
    assert (group["gid"], group["members"]) == (27, [])


def test_group_missing_on_a_bare_host():
    assert nf.parse_group_file(recorded("bare_etc_group.txt"), "docker") == {
        "exists": False, "gid": None, "members": [], "error": None}


def test_group_listed_twice():
    text = recorded("etc_group.txt") + "docker:x:999:\n"
    group = nf.parse_group_file(text, "docker")
    assert group["exists"] and group["gid"] is None
    assert "2 entries for group docker" in group["error"]


@pytest.mark.parametrize("line", ["docker:x:103", "docker:x:abc:swarmops",
                                  "docker:x:103:a:b"])
def test_group_malformed_line(line):
    group = nf.parse_group_file(recorded("bare_etc_group.txt") + line + "\n", "docker")
    assert group["gid"] is None
    assert "malformed /etc/group entry" in group["error"] and line in group["error"]


def test_group_name_is_matched_whole():
    assert not nf.parse_group_file("dockerroot:x:5:\n", "docker")["exists"]


# daemon.json

def test_daemon_json_recorded():
    parsed = nf.parse_daemon_json(recorded("daemon.json"))
    assert parsed["error"] is None
    assert parsed["content"]["default-address-pools"] == [{"base": "10.111.0.0/16",
                                                           "size": 24}]
    assert parsed["content"]["log-opts"]["max-file"] == "3"


def test_daemon_json_not_json_says_where():
    parsed = nf.parse_daemon_json('{"bip": "10.101.0.1/24",}\n')
    assert parsed["content"] is None
    assert "line 1 column 25" in parsed["error"]


def test_daemon_json_list_is_not_an_object():
    assert nf.parse_daemon_json('[{"bip": "10.101.0.1/24"}]') == {
        "content": None, "error": "not a JSON object"}


# systemctl show

def test_systemd_running_unit():
    assert nf.parse_systemd_show(recorded("systemctl_show_docker.txt")) == {
        "loaded": True, "active": True, "enabled": True}


def test_systemd_stopped_unit():
    assert nf.parse_systemd_show(recorded("systemctl_show_docker_stopped.txt")) == {
        "loaded": True, "active": False, "enabled": True}


def test_systemd_missing_unit():
    assert nf.parse_systemd_show(recorded("bare_systemctl_show_docker.txt")) == {
        "loaded": False, "active": False, "enabled": False}


# docker info

def test_engine_manager():
    engine = nf.parse_engine_info(0, recorded("docker_info_manager.json"), "")
    assert (engine["answering"], engine["error"], engine["version"]) == (
        True, None, "20.10.24+dfsg1")
    swarm = engine["swarm"]
    assert (swarm["state"], swarm["is_manager"], swarm["node_addr"]) == (
        "active", True, "10.213.0.11")
    assert swarm["cluster_id"] == "xhbo4agleqohhz2l8d36ppuja"
    assert swarm["manager_addrs"] == ["10.213.0.11:2377", "10.213.0.12:2377",
                                      "10.213.0.13:2377"]
    assert "remote_managers" not in swarm


def test_engine_not_in_a_swarm():
    swarm = nf.parse_engine_info(0, recorded("docker_info_inactive.json"), "")["swarm"]
    assert (swarm["state"], swarm["node_id"], swarm["manager_addrs"]) == (
        "inactive", None, [])


def test_engine_worker_knows_its_managers_not_the_cluster_id():
    swarm = nf.parse_engine_info(0, api_info("worker_active"), "")["swarm"]
    assert (swarm["is_manager"], swarm["cluster_id"]) == (False, None)
    assert swarm["manager_addrs"] == ["10.213.0.11:2377", "10.213.0.12:2377"]


def test_engine_locked_swarm():
    swarm = nf.parse_engine_info(0, recorded("docker_info_locked.json"), "")["swarm"]
    assert swarm["state"] == "locked"
    assert "docker swarm unlock" in swarm["error"]


def test_engine_stopped_answers_rc0_with_server_errors():
    engine = nf.parse_engine_info(0, recorded("docker_info_stopped.json"), "")
    assert (engine["answering"], engine["swarm"], engine["version"]) == (False, None, None)
    assert engine["error"].startswith("Cannot connect to the Docker daemon at unix://")


def test_engine_failing_cli_reports_stderr():
    engine = nf.parse_engine_info(1, "", "error during connect: boom\n")
    assert (engine["answering"], engine["error"]) == (False, "error during connect: boom")


def test_engine_non_json_output_is_not_answering():
    engine = nf.parse_engine_info(0, "template: :1: bad\n", "")
    assert (engine["answering"], engine["error"]) == (False, "template: :1: bad")


# dpkg-query

def test_packages_recorded_in_the_order_asked():
    assert nf.parse_package_query(recorded("dpkg_query.txt"), PACKAGES) == {
        "installed": ["docker.io", "python3-docker"], "missing": ["docker-ce", "nope"]}


def test_packages_none_known_on_a_bare_host():
    # dpkg-query names unknown packages on stderr only (and exits 1); stdout is empty.
    assert "no packages found matching nope" in recorded("bare_dpkg_query.stderr.txt")
    assert nf.parse_package_query(recorded("bare_dpkg_query.txt"), PACKAGES) == {
        "installed": [], "missing": PACKAGES}


def test_packages_half_installed_is_missing():
    query = "docker.io half-installed\npython3-docker config-files\n"
    assert nf.parse_package_query(query, ["docker.io", "python3-docker"])["installed"] == []


# brick directories: which filesystem holds them, and a disk that did not mount

BRICK = "/srv/gluster/dockerdir/brick"


def placement(mountinfo, path=BRICK, fstab="fstab_brick_disk.txt"):
    """Where path lies on a lab node, by its recorded mountinfo and fstab."""
    return nf.placement(path, parse_mountinfo(recorded(mountinfo)), recorded(fstab))


def test_a_brick_on_its_mounted_disk():
    assert placement("mountinfo_brick_disk_mounted.txt") == {
        "filesystem": "/srv/gluster", "unmounted": [], "fstab_lines": []}


def test_a_brick_whose_disk_did_not_mount_would_land_on_the_root_filesystem():
    assert placement("mountinfo_brick_disk_unmounted.txt") == {
        "filesystem": "/", "unmounted": ["/srv/gluster"], "fstab_lines": []}


def test_a_path_beside_the_disk_is_not_under_it():
    # /srv/glusterfs is no child of /srv/gluster, and /opt/docker is mounted.
    assert placement("mountinfo_brick_disk_unmounted.txt", "/srv/glusterfs/brick") == {
        "filesystem": "/", "unmounted": [], "fstab_lines": []}
    assert placement("mountinfo_brick_disk_unmounted.txt", "/opt/docker")["unmounted"] == []


def test_only_the_mount_points_own_fstab_lines_come_back():
    """The mount point's active line, byte for byte; no other line (another mount's line
    may hold a password, and facts are printed at -v)."""
    lines = placement("mountinfo_brick_disk_mounted.txt", "/opt/docker")["fstab_lines"]
    assert lines == ["10.213.0.11:/dockerdir /opt/docker glusterfs "
                     "_netdev,backup-volfile-servers=10.213.0.12:10.213.0.13 0 0\n"]
    assert placement("mountinfo_brick_disk_mounted.txt", "/srv/gluster")["fstab_lines"] == [
        "tmpfs /srv/gluster tmpfs size=16m 0 0\n"]


STAT_PATHS = ["/opt/docker", "/opt/docker/config", "/opt/docker/private", "/opt/docker/logs",
              "/etc/hostname"]


def test_stat_output_gives_owner_group_and_four_digit_mode_and_none_for_missing():
    stats = nf.parse_stats(recorded("stat_dockerdir.txt"), STAT_PATHS)
    assert stats["/opt/docker/private"] == {"kind": "directory", "uid": 0, "gid": 990,
                                            "mode": "2770"}
    assert stats["/etc/hostname"]["mode"] == "0644"
    assert stats["/opt/docker/logs"] is None


class StatModule:
    """Runs nothing: answers a stat as the lab's nodes did, or as timeout(1) does."""

    def __init__(self, rc, out):
        self.rc, self.out, self.argv = rc, out, None

    def get_bin_path(self, name, required=False):
        return "/usr/bin/" + name

    def run_command(self, argv, environ_update=None):
        self.argv = argv
        return self.rc, self.out, ""


def test_a_stat_bounded_by_a_timeout_and_one_that_timed_out_gives_no_answer():
    module = StatModule(1, recorded("stat_dockerdir.txt"))
    assert nf.read_stats(module, STAT_PATHS)["/opt/docker"]["mode"] == "2774"
    assert module.argv[:3] == ["/usr/bin/timeout", "--kill-after=10", "5"]
    assert module.argv[-len(STAT_PATHS) - 1] == "--"
    assert nf.read_stats(StatModule(124, ""), STAT_PATHS) is None
    assert nf.read_stats(StatModule(1, ""), STAT_PATHS) is None
