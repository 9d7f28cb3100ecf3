"""Local storage: which services bind-mount DOCKERDIR without being pinned to a node.

On the canonical compose docker's own CLI renders (the recorded `docker stack config`
fixtures) and on services shaped after the seed guide's stacks (Traefik's config bound
from $DOCKERDIR/config/traefik, placed on managers).
"""

from pathlib import Path

import pytest
import yaml

from ansible_collections.swarmops.cluster.plugins.plugin_utils._stack_placement import (
    unpinned_bind_mounts)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "compose"


def recorded(name):
    return yaml.safe_load((FIXTURES / name / "docker-stack-config.yml").read_text())


def service(binds, mode=None, constraints=None):
    deploy = {}
    if mode:
        deploy["mode"] = mode
    if constraints is not None:
        deploy["placement"] = {"constraints": constraints}
    return {"image": "x", "deploy": deploy,
            "volumes": [{"type": "bind", "source": s, "target": "/t%d" % i}
                        for i, s in enumerate(binds)]}


def test_recorded_stacks_bind_nothing_under_dockerdir():
    for name in ("traefik", "haiku", "mailu", "overrides", "merge"):
        assert unpinned_bind_mounts(name, recorded(name), "/opt/docker") == [], name


def test_a_recorded_service_placed_by_role_only_is_named():
    # Haiku's traefik binds the engine socket and is placed on managers, which are several.
    warnings = unpinned_bind_mounts("haiku", recorded("haiku"), "/var/run")
    assert len(warnings) == 1 and "service traefik" in warnings[0]
    assert "/var/run/docker.sock" in warnings[0] and "node.hostname" in warnings[0]


def test_a_recorded_service_pinned_by_a_node_label_is_not_named():
    # Traefik's swarm guide: node.labels.traefik-public.certificates == true.
    assert unpinned_bind_mounts("traefik", recorded("traefik"), "/var/run") == []


@pytest.mark.parametrize("svc, named", [
    (service(["/opt/docker/config/traefik/traefik.yml"],
             constraints=["node.role == manager"]), True),
    (service(["/opt/docker/config/traefik/traefik.yml"]), True),
    (service(["/opt/docker"]), True),
    (service(["/opt/docker/config"], constraints=["node.hostname == node1"]), False),
    (service(["/opt/docker/config"], constraints=["node.id==2ivku8v2gvtg4"]), False),
    (service(["/opt/docker/config"], constraints=["node.labels.db == true"]), False),
    # A label that must NOT be there pins nothing.
    (service(["/opt/docker/config"], constraints=["node.labels.db != true"]), True),
    (service(["/opt/docker/config"], mode="global"), False),
    (service(["/opt/dockerdir/x", "/var/run/docker.sock"]), False),
])
def test_binds_under_dockerdir_need_a_pinned_placement(svc, named):
    warnings = unpinned_bind_mounts("s", {"services": {"app": svc}}, "/opt/docker")
    assert bool(warnings) is named, warnings


def test_named_volumes_and_tmpfs_are_not_binds():
    svc = {"image": "x", "volumes": [{"type": "volume", "source": "data", "target": "/d"},
                                     {"type": "tmpfs", "target": "/opt/docker/t"}]}
    assert unpinned_bind_mounts("s", {"services": {"app": svc}}, "/opt/docker") == []
