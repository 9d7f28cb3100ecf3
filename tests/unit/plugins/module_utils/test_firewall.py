"""The firewall table: rendering, the read of what a node has, the plan, the preflight.

Fixtures were recorded on a Debian 13 lab node after a site.yml run: the table file the
role wrote, `nft list table inet swarmops` (nft 1.1.3) and Debian's glusterd.vol.
The rendered file was also checked by `nft -c` on Debian 12 (nft 1.0.6) and 13.
"""

from pathlib import Path

import pytest

from ansible_collections.swarmops.cluster.plugins.module_utils import _firewall as fw

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "firewall"
FILE = (FIXTURES / "firewall.nft-node1").read_text()
LISTING = (FIXTURES / "nft-list-table-trixie.txt").read_text()
SPEC = {"members": ["10.213.0.11", "10.213.0.12", "10.213.0.13", "10.213.0.14"],
        "tcp_ports": [2377, 7946, "24007-24008", "49152-60999"], "udp_ports": [7946, 4789]}


def test_the_recorded_file_renders_again_from_its_own_header():
    spec = fw.parse_header(FILE)
    assert spec is not None and "10.213.0.15" in spec["members"]
    assert fw.render(spec) == FILE


def test_the_loaded_tables_comment_is_the_files_hash():
    spec = fw.parse_header(FILE)
    assert fw.parse_loaded_hash(LISTING) == fw.spec_hash(spec) == fw.parse_loaded_hash(FILE)


def test_equal_specs_render_equal_files_whatever_their_order():
    shuffled = dict(SPEC, members=list(reversed(SPEC["members"])) + ["10.213.0.11"])
    assert fw.render(shuffled) == fw.render(SPEC)
    assert fw.spec_hash(dict(SPEC, members=SPEC["members"][:3])) != fw.spec_hash(SPEC)


def test_overlapping_sources_merge_as_nft_needs_them():
    # nft refuses a set whose interval elements overlap ("conflicting intervals").
    v4, v6 = fw.split_family(["10.0.0.0/8", "10.1.2.3", "192.0.2.7/32", "2001:db8::/32",
                              "2001:db8::1"])
    assert v4 == ["10.0.0.0/8", "192.0.2.7"] and v6 == ["2001:db8::/32"]


def test_the_table_replaces_only_itself_and_limits_only_what_it_lists():
    text = fw.render(dict(SPEC, admin_sources=["192.0.2.0/24"]))
    assert "table inet swarmops\ndelete table inet swarmops\ntable inet swarmops {" in text
    assert "flush" not in text and "policy drop" not in text
    assert "ct state established,related accept" in text
    assert "tcp dport 22 jump admin" in text
    assert "tcp dport 22" not in fw.render(SPEC)  # no admin sources: SSH from anywhere
    assert "prerouting" not in fw.render(SPEC)


def test_a_limited_published_port_is_judged_before_the_engines_dnat():
    text = fw.render(dict(SPEC, published=[{"port": 8443, "sources": ["192.0.2.0/24"]}]))
    assert "type filter hook prerouting priority -150;" in text
    assert "tcp dport 8443 jump published0" in text


@pytest.mark.parametrize("spec, client, expected", [
    ({"admin_sources": ["192.0.2.0/24"]}, "10.213.0.1", "would lock this controller out"),
    ({"admin_sources": ["10.213.0.0/24"]}, "10.213.0.1", None),
    ({"admin_sources": ["10.213.0.0/24"]}, None, None),
    ({"admin_sources": ["lan"]}, "10.213.0.1", "'lan' is not an IP address"),
    ({"tcp_ports": ["24008-24007"]}, None, "is not a port or a range"),
    ({"udp_ports": [70000]}, None, "is not a port or a range"),
    ({"published": [{"port": 80, "sources": []}]}, None, "sources is empty"),
    ({"published": [{"port": "80-90", "sources": ["10.0.0.0/8"]}]}, None, "one port per"),
    ({"published": [{"port": 53, "protocol": "sctp", "sources": ["10.0.0.0/8"]}]}, None,
     "protocol must be tcp or udp"),
    ({"published": [8080]}, None, "needs port, sources"),
])
def test_spec_problems_name_the_variable_to_fix(spec, client, expected):
    problems = fw.spec_problems(dict(SPEC, **spec), "node1", client)
    if expected is None:
        assert problems == []
    else:
        assert len(problems) >= 1 and expected in problems[0], problems
        assert "swarmops_firewall_" in problems[0]


def test_brick_ports_come_from_glusterd_vol_else_its_defaults():
    recorded = (FIXTURES / "glusterd.vol-trixie").read_text()
    assert fw.parse_brick_ports(recorded) == (49152, 60999)  # base-port is commented out
    changed = recorded.replace("#   option base-port 49152", "    option base-port 50152")
    assert fw.parse_brick_ports(changed) == (50152, 60999)
    assert fw.parse_brick_ports(None) == (49152, 60999)


def test_the_ssh_client_is_read_from_a_process_environment():
    environ = b"HOME=/home/swarmops\0SSH_CONNECTION=10.213.0.1 51234 10.213.0.11 22\0"
    assert fw.parse_ssh_client(environ) == "10.213.0.1"
    assert fw.parse_ssh_client(b"HOME=/root\0") is None


def read(**state):
    """A node's read_state() with defaults of a bare node."""
    base = {"installed": True, "text": None, "spec": None, "hash": None, "loaded": None,
            "unit_text": None, "enabled": False, "brick_ports": [49152, 60999],
            "ssh_client": "10.213.0.1"}
    base.update(state)
    return base


def test_a_bare_node_gets_the_file_the_unit_and_the_table():
    actions = [a["action"] for a in fw.plan(read(), SPEC, "unit")]
    assert actions == ["write_file", "write_unit", "enable_unit", "load"]


def test_a_node_whose_table_was_flushed_only_reloads():
    text = fw.render(SPEC)
    current = read(text=text, hash=fw.spec_hash(SPEC), unit_text="unit", enabled=True)
    assert [a["action"] for a in fw.plan(current, SPEC, "unit")] == ["load"]
    current["loaded"] = fw.spec_hash(SPEC)
    assert fw.plan(current, SPEC, "unit") == []
    summary = fw.summarize(current, "unit")
    assert fw.is_current(summary, SPEC) and not fw.is_current(summary, SPEC, "absent")


def test_absent_removes_only_what_is_there():
    assert fw.plan(read(), None, "unit") == []
    current = read(text="x", loaded="abc", unit_text="unit")
    assert [a["action"] for a in fw.plan(current, None, "unit")] == \
        ["unload", "remove_file", "remove_unit"]


def test_an_onboarding_run_changes_only_the_members_of_a_node_outside_it():
    spec = fw.parse_header(FILE)
    desired = fw.members_only(read(spec=spec), ["10.213.0.11", "10.213.0.16"])
    assert desired["members"] == ["10.213.0.11", "10.213.0.16"]
    assert {k: v for k, v in desired.items() if k != "members"} == \
        {k: v for k, v in spec.items() if k != "members"}
    assert fw.members_only(read(), ["10.213.0.11"]) is None
