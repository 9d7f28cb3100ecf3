"""A stack's directories and files under DOCKERDIR, planned and made on a real tree."""

import grp
import os
import stat

import pytest

from ansible_collections.swarmops.cluster.plugins.module_utils import _stack_files as sf

GROUP = grp.getgrgid(os.getgid()).gr_name
DIRS = [{"path": "logs/traefik", "mode": "2770"}, {"path": "services/web/www"}]
FILES = [{"path": "private/acme.json", "content": "{}\n", "mode": "0600"}]


def test_a_new_tree_is_planned_then_made_then_left_alone(tmp_path):
    (tmp_path / "private").mkdir()
    actions = sf.plan_files(str(tmp_path), DIRS, FILES, GROUP)
    assert [(a["action"], os.path.relpath(a["path"], tmp_path), a["mode"]) for a in actions] \
        == [("mkdir", "logs/traefik", "2770"), ("mkdir", "services/web/www", "2774"),
            ("write", "private/acme.json", "0600")]
    if os.geteuid() != 0:
        pytest.skip("making the tree sets owner root: needs root")
    sf.apply_files(actions, GROUP)
    acme = tmp_path / "private" / "acme.json"
    assert acme.read_text() == "{}\n" and stat.S_IMODE(acme.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "logs" / "traefik").stat().st_mode) == 0o2770
    assert sf.plan_files(str(tmp_path), DIRS, FILES, GROUP) == []
    acme.write_text('{"certificates": 1}')  # the service's own writes are kept
    assert sf.plan_files(str(tmp_path), DIRS, FILES, GROUP) == []


def test_a_directory_with_another_mode_is_fixed(tmp_path):
    (tmp_path / "services" / "web" / "www").mkdir(parents=True, mode=0o755)
    (tmp_path / "logs" / "traefik").mkdir(parents=True)
    os.chmod(tmp_path / "logs" / "traefik", 0o2770)
    os.chmod(tmp_path / "services" / "web" / "www", 0o755)
    actions = sf.plan_files(str(tmp_path), DIRS, [], GROUP)
    assert [(a["action"], a["mode"]) for a in actions] == [("chmod", "2774")]


@pytest.mark.parametrize("rel", ["/etc", "../outside", "a/../../b", ""])
def test_paths_outside_dockerdir_are_refused(tmp_path, rel):
    with pytest.raises(sf.FilesError, match="relative path under"):
        sf.plan_files(str(tmp_path), [{"path": rel}], [], GROUP)


def test_a_file_where_a_directory_belongs_is_refused(tmp_path):
    (tmp_path / "logs").write_text("x")
    with pytest.raises(sf.FilesError, match="is not a directory"):
        sf.plan_files(str(tmp_path), [{"path": "logs"}], [], GROUP)


def test_an_unknown_group_is_refused(tmp_path):
    with pytest.raises(sf.FilesError, match="group no-such-group does not exist"):
        sf.plan_files(str(tmp_path), DIRS, [], "no-such-group")


def test_file_contents_stay_out_of_the_result():
    assert sf.public([{"action": "write", "path": "/x", "mode": "0600", "content": "s"}]) \
        == [{"action": "write", "path": "/x", "mode": "0600"}]


def test_a_symlink_on_the_way_is_refused_before_anything_is_made(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "dockerdir"
    root.mkdir()
    (root / "logs").symlink_to(outside)
    with pytest.raises(sf.FilesError, match="logs is a symlink"):
        sf.plan_files(str(root), DIRS, [], GROUP)
    (root / "private").symlink_to(outside)
    with pytest.raises(sf.FilesError, match="private is a symlink"):
        sf.plan_files(str(root), [], FILES, GROUP)
    assert list(outside.iterdir()) == []


def test_a_symlink_swapped_in_after_the_plan_is_not_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "acme.json").write_text("theirs")
    root = tmp_path / "dockerdir"
    (root / "private").mkdir(parents=True)
    (root / "logs").mkdir()
    actions = sf.plan_files(str(root), [{"path": "logs", "mode": "2770"}], FILES, GROUP)
    (root / "private" / "acme.json").symlink_to(outside / "acme.json")
    (root / "logs").rmdir()
    (root / "logs").symlink_to(outside)
    for action in actions:
        with pytest.raises(OSError):
            sf.apply_files([action], GROUP)
    assert (outside / "acme.json").read_text() == "theirs"
    assert stat.S_IMODE(outside.stat().st_mode) != 0o2770
