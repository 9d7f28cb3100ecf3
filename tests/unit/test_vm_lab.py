"""The VM lab's pure parts: the guests' seed, QEMU's network options, the console's host key,
the inventory, and the image archive the guests load (tests/vm/vm.py,
tests/lab/workload_image.py). The guests themselves run in the molecule scenario `vm`."""

import hashlib
import ipaddress
import json
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "vm"))
sys.path.insert(0, str(ROOT / "tests" / "lab"))
import vm  # noqa: E402  pylint: disable=wrong-import-position
import workload_image  # noqa: E402  pylint: disable=wrong-import-position

FIXTURES = Path(__file__).with_name("fixtures") / "vm"
# The key a guest of the scenario printed on its first boot (the recorded console log).
RECORDED_KEY = ["ssh-ed25519",
                "AAAAC3NzaC1lZDI1NTE5AAAAIAY81WghV7xM79diWOexMt0d0tmDPSq3H2ivEYYoO74j"]


def guest(tmp_path, index=1, group="swarm_managers"):
    """One guest of guest_layout with the paths start_lab adds."""
    managers, workers = (3, 0) if group == "swarm_managers" else (0, index)
    entry = vm.guest_layout("t", managers, workers)[index - 1]
    entry.update(ssh_port=40000 + index, disk=str(tmp_path / "d.qcow2"),
                 console=str(tmp_path / f"node{index}.console.log"),
                 monitor=str(tmp_path / "m"), pidfile=str(tmp_path / "p"))
    return entry


def test_the_host_key_comes_from_the_recorded_console(tmp_path):
    node = guest(tmp_path)
    Path(node["console"]).write_bytes((FIXTURES / "console-first-boot.log").read_bytes())
    assert vm.console_host_key(node) == RECORDED_KEY


def test_after_a_reboot_the_last_printed_key_counts(tmp_path):
    node = guest(tmp_path)
    first = (FIXTURES / "console-first-boot.log").read_text()
    later = first.replace(RECORDED_KEY[1], "AAAAC3NzaC1lZDI1NTE5AAAAInew")
    Path(node["console"]).write_text(first + "\r\n[  OK  ] Reached target reboot\r\n" + later)
    assert vm.console_host_key(node) == [RECORDED_KEY[0], "AAAAC3NzaC1lZDI1NTE5AAAAInew"]


def test_no_key_before_the_guest_prints_one(tmp_path):
    node = guest(tmp_path)
    assert vm.console_host_key(node) is None
    Path(node["console"]).write_text("[    0.000000] Linux version 6.1.0\r\nswarmops-vm-hostkey:")
    assert vm.console_host_key(node) is None


def test_guests_get_distinct_addresses_on_the_cluster_subnet():
    guests = vm.guest_layout("lab1", 3, 2)
    addresses = [ipaddress.ip_address(g["address"]) for g in guests]
    assert len(set(addresses)) == 5
    assert all(a in vm.CLUSTER_SUBNET for a in addresses)
    assert [g["group"] for g in guests] == ["swarm_managers"] * 3 + ["swarm_workers"] * 2
    # Not the inventory name: the roles must map inventory names to nodes.
    assert guests[0]["hostname"] == "lab1-node1" != guests[0]["name"]


def test_the_seed_is_one_word_per_setting():
    node = vm.guest_layout("lab1", 1, 0)[0]
    line = vm.kernel_command_line(node, RECORDED_KEY[1], "http://10.0.2.100:3142")
    words = line.split()
    assert f"swarmops.hostname={node['hostname']}" in words
    assert f"swarmops.address={node['address']}/24" in words
    assert f"swarmops.key={RECORDED_KEY[1]}" in words
    assert "swarmops.apt_proxy=http://10.0.2.100:3142" in words
    assert "root=/dev/vda" in words
    assert not any(w.startswith("swarmops.apt_proxy") for w in
                   vm.kernel_command_line(node, RECORDED_KEY[1], "").split())


def netdevs(argv):
    """The -netdev values of a QEMU command line."""
    return [argv[i + 1] for i, word in enumerate(argv) if word == "-netdev"]


def test_the_nat_reaches_only_loopback_forwards(tmp_path):
    node = guest(tmp_path)
    argv = vm.qemu_argv(tmp_path, tmp_path, node, "root=/dev/vda", 13142)
    nat, cluster = netdevs(argv)
    options = nat.split(",")
    assert options[0] == "user" and "restrict=on" in options
    assert "hostfwd=tcp:127.0.0.1:40001-:22" in options
    assert "guestfwd=tcp:10.0.2.100:3142-cmd:nc 127.0.0.1 13142" in options
    assert cluster.startswith("vde,") and f"sock={tmp_path / 'switch'}" in cluster
    # No tap, bridge or socket netdev: nothing of the guest reaches the host's networks.
    assert not any(n.split(",")[0] in ("tap", "bridge", "socket", "dgram", "stream")
                   for n in netdevs(argv))


def test_without_the_cache_the_guest_has_no_package_forward(tmp_path):
    argv = vm.qemu_argv(tmp_path, tmp_path, guest(tmp_path), "root=/dev/vda", None)
    assert "guestfwd" not in netdevs(argv)[0]


def test_the_inventory_reaches_guests_through_their_forwards(tmp_path):
    nodes = [guest(tmp_path, 1), guest(tmp_path, 2), guest(tmp_path, 1, "swarm_workers")]
    nodes[2]["name"], nodes[2]["ssh_port"] = "node4", 40004
    tree = vm.inventory_tree(tmp_path, nodes)["all"]
    managers = tree["children"]["swarm_managers"]["hosts"]
    assert managers["node1"] == {"ansible_host": "127.0.0.1", "ansible_port": 40001,
                                 "swarmops_node_address": nodes[0]["address"]}
    assert list(tree["children"]["swarm_workers"]["hosts"]) == ["node4"]
    assert "StrictHostKeyChecking=yes" in tree["vars"]["ansible_ssh_common_args"]


def test_the_image_archive_is_what_docker_load_reads(tmp_path):
    layer = b"a layer tar of the lab image"
    path = tmp_path / "web.tar"
    workload_image.save_archive(str(path), layer)
    with tarfile.open(path) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        assert sorted(tag for entry in manifest for tag in entry["RepoTags"]) == \
            sorted(workload_image.IMAGES)
        for entry in manifest:
            assert tar.extractfile(entry["Layers"][0]).read() == layer
            config = json.load(tar.extractfile(entry["Config"]))
            assert config["rootfs"]["diff_ids"] == ["sha256:" + hashlib.sha256(layer).hexdigest()]
            assert entry["Config"] == hashlib.sha256(
                tar.extractfile(entry["Config"]).read()).hexdigest() + ".json"
