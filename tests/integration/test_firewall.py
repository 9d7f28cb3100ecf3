"""The firewall role's table: who reaches the cluster's ports, seen from both sides.

The controller is on the nodes' network but not in the inventory: it is the non-member.
A TCP connection from it to a cluster port must time out (the table drops it; without the
table the port answers or refuses at once), while the same port answers a member. UDP has
no answer to wait for: the table's drop counter shows the datagrams it dropped. Published
service ports stay open to the controller (tests/integration/test_stacks.py reaches them).
"""

import re
import socket
from concurrent.futures import ThreadPoolExecutor

import pytest

TIMEOUT = 3.0
GOSSIP, GLUSTERD = 7946, 24007


@pytest.fixture(name="firewalled", scope="module")
def fixture_firewalled(cluster):
    """The cluster's nodes when the inventory keeps the firewall on (the default)."""
    hvars = cluster.hostvars[cluster.names[0]]
    if not hvars.get("swarmops_firewall_enabled", True) or \
            hvars.get("swarmops_firewall_state", "present") != "present":
        pytest.skip("the inventory turns the firewall off")
    return cluster.names


def tcp_outcome(address, port):
    """What a TCP connect from here saw: connected, refused or timeout."""
    try:
        with socket.create_connection((address, port), timeout=TIMEOUT):
            return "connected"
    except ConnectionRefusedError:
        return "refused"
    except (socket.timeout, TimeoutError):
        return "timeout"


def listening(cluster, name):
    """The TCP ports the node listens on beyond loopback."""
    out = cluster.host(name).check_output("sudo ss -ltnH")
    ports = set()
    for line in out.splitlines():
        local = line.split()[3]
        if not local.startswith(("127.", "[::1]")):
            ports.add(int(local.rsplit(":", 1)[1]))
    return ports


def cluster_ports(cluster, name):
    """The cluster's TCP ports this node listens on: swarm control (managers), gossip,
    glusterd and its bricks (storage nodes)."""
    ports = listening(cluster, name)
    wanted = {2377, GOSSIP, GLUSTERD} | {p for p in ports if 49152 <= p <= 60999}
    return sorted(ports & wanted)


def test_a_non_member_times_out_on_every_cluster_port(cluster, firewalled):
    targets = [(name, port) for name in firewalled for port in cluster_ports(cluster, name)]
    assert any(port == GLUSTERD for _n, port in targets), targets
    with ThreadPoolExecutor(max_workers=16) as pool:
        seen = dict(zip(targets, pool.map(lambda t: tcp_outcome(cluster.address(t[0]), t[1]),
                                          targets)))
    assert set(seen.values()) == {"timeout"}, seen


def test_a_member_reaches_every_cluster_port(cluster, firewalled):
    """From each node, every other node's cluster ports connect."""
    for source in firewalled:
        targets = " ".join("%s:%d" % (cluster.address(n), p) for n in firewalled
                           if n != source for p in cluster_ports(cluster, n))
        out = cluster.host(source).check_output(
            "python3 -c 'import socket, sys\n"
            "for t in sys.argv[1:]:\n"
            "    a, p = t.rsplit(\":\", 1)\n"
            "    socket.create_connection((a, int(p)), timeout=%s).close()\n"
            "print(\"ok\")' %s" % (TIMEOUT, targets))
        assert out.strip() == "ok", source


def drop_count(cluster, name):
    """Packets the table's cluster chain dropped on a node so far."""
    out = cluster.host(name).check_output("sudo nft list chain inet swarmops cluster")
    return int(re.search(r"counter packets (\d+)", out).group(1))


def test_a_non_members_overlay_and_gossip_datagrams_are_dropped(cluster, firewalled):
    name = firewalled[0]
    before = drop_count(cluster, name)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for port in (4789, GOSSIP):
            sock.sendto(b"not a member", (cluster.address(name), port))
    assert drop_count(cluster, name) >= before + 2


def test_the_table_loads_at_boot_and_leaves_the_engines_chains(cluster, firewalled):
    for name in firewalled:
        host = cluster.host(name)
        assert host.service("swarmops-firewall").is_enabled, name
        # The engine's own chain (iptables-nft or legacy) is there, untouched by ours.
        assert host.run("sudo iptables -S DOCKER-USER").rc == 0, name
