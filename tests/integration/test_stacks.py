"""Networks and stacks of the converged cluster, and the stack module's promises.

Needs the inventory's networks (every lab has them) and, for the stacks, the lab's
registry (SWARMOPS_LAB_REGISTRY=1, as in the default scenario); without a registry the
stack tests are skipped. Every test leaves the stacks as the inventory describes them.
"""

import json
import os
import re
import subprocess
import uuid
from pathlib import Path

import pytest

from test_storage import sh

ROOT = Path(__file__).resolve().parents[2]
MOUNT = "/opt/docker"


def run_playbook(cluster, playbook, *options):
    """ansible-playbook against the inventory under test; the CompletedProcess."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0")
    # No terminal: a playbook's question gets no answer, as in CI.
    return subprocess.run(["ansible-playbook", "-i", cluster.inventory, *options,
                           str(playbook)], capture_output=True, text=True, env=env,
                          cwd=ROOT, check=False, stdin=subprocess.DEVNULL)


def deploy(cluster, *options):
    """playbooks/deploy_stacks.yml; asserts it succeeded and returns its output."""
    result = run_playbook(cluster, ROOT / "playbooks" / "deploy_stacks.yml", *options)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return result.stdout


def changed_count(output):
    """The sum of changed= over the play recap."""
    return sum(int(n) for n in re.findall(r"changed=(\d+)", output.split("PLAY RECAP")[-1]))


def services(cluster):
    """{service name: {version, image, tasks (ids of running tasks)}} from a manager."""
    manager = cluster.managers[0]
    names = sh(cluster, manager, "docker service ls --format '{{.Name}}'").split()
    result = {}
    for name in names:
        spec = cluster.docker_json(manager, "service", "inspect", name)[0]
        tasks = sh(cluster, manager, "docker service ps -q --filter desired-state=running "
                   + name).split()
        result[name] = {"version": spec["Version"]["Index"], "tasks": sorted(tasks),
                        "image": spec["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"],
                        "env": spec["Spec"]["TaskTemplate"]["ContainerSpec"].get("Env")}
    return result


@pytest.fixture(name="stacks")
def fixture_stacks(cluster):
    """The stacks' names when the lab has its registry; skip otherwise."""
    hvars = cluster.hostvars[cluster.managers[0]]
    if "swarmops_lab_registry" not in hvars:
        pytest.skip("no lab registry (SWARMOPS_LAB_REGISTRY=1): no stacks to test")
    return hvars


# Networks

def test_the_overlay_exists_with_its_subnet(cluster):
    net = cluster.docker_json(cluster.managers[0], "network", "inspect", "proxy_traefik")[0]
    assert net["Driver"] == "overlay" and net["Scope"] == "swarm" and net["Attachable"]
    assert [c["Subnet"] for c in net["IPAM"]["Config"]] == ["10.130.10.0/24"]


def test_the_macvlan_is_made_from_each_listed_nodes_config(cluster):
    swarm_net = cluster.docker_json(cluster.managers[0], "network", "inspect", "dns_macvlan")[0]
    assert swarm_net["Driver"] == "macvlan" and swarm_net["Scope"] == "swarm"
    assert swarm_net["ConfigFrom"]["Network"] == "dns_macvlan_config"
    subnet = cluster.hostvars[cluster.names[0]]["swarmops_lab_subnet"]
    for name in cluster.names:
        names = sh(cluster, name, "docker network ls --format '{{.Name}}'").split()
        if name not in ("node1", "node2"):
            assert "dns_macvlan_config" not in names, name
            continue
        config = cluster.docker_json(name, "network", "inspect", "dns_macvlan_config")[0]
        assert config["ConfigOnly"] and config["Options"]["parent"] == "eth0"
        ipam = config["IPAM"]["Config"][0]
        assert ipam["Subnet"] == subnet
        assert ipam["IPRange"] == subnet.replace("0/24", "200/29" if name == "node1"
                                                 else "208/29")


# Stacks

def test_every_stack_converged(cluster, stacks):
    running = services(cluster)
    assert {"core_traefik", "core_portainer", "core_agent", "web_web", "web_status",
            "app_api", "app_job"} <= set(running)
    out = sh(cluster, cluster.managers[0],
             "docker service ls --format '{{.Name}} {{.Replicas}}'")
    for line in out.splitlines():
        name, replicas = line.split()[:2]
        have, want = replicas.split("/")
        if name != "app_job":  # one-shot: completed, none running
            assert have == want, line


def http_get(address, port, path="/"):
    """Body of an HTTP GET to a lab node (urllib: the nodes' busybox wget is broken)."""
    out = subprocess.run(["python3", "-c", "import sys, urllib.request; sys.stdout.write("
                          "urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())",
                          "http://%s:%s%s" % (address, port, path)],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_http_answers_on_the_host_mode_port_of_every_node(cluster, stacks):
    for name in cluster.names:
        assert http_get(cluster.address(name), 8081) == "served from the shared volume\n"
    for name in cluster.managers:  # the core stack's proxy (the lab's stand-in image)
        assert http_get(cluster.address(name), 80)


def test_a_file_written_on_the_shared_volume_is_served_by_every_node(cluster, stacks):
    token = uuid.uuid4().hex
    path = "%s/services/web/www/probe-%s.txt" % (MOUNT, token)
    sh(cluster, cluster.names[-1], "echo %s > %s" % (token, path))
    try:
        for name in cluster.names:
            assert http_get(cluster.address(name), 8081, "/probe-%s.txt" % token).strip() \
                == token
    finally:
        sh(cluster, cluster.names[-1], "rm -f " + path)


def test_core_stack_files_secret_and_config(cluster, stacks):
    manager = cluster.managers[0]
    acme = sh(cluster, manager, "stat -c '%a %U' {0}/private/acme.json; cat {0}/private/"
              "acme.json".format(MOUNT)).split()
    assert acme == ["600", "root", "{}"]
    secrets = sh(cluster, manager, "docker secret ls --format '{{.Name}}'").split()
    assert any(re.fullmatch(r"core_dashboard_users-[0-9a-f]{12}", s) for s in secrets), secrets
    traefik = cluster.docker_json(manager, "service", "inspect", "core_traefik")[0]["Spec"]
    labels = traefik["Labels"]
    assert labels["traefik.http.routers.dashboard.tls.certresolver"] == "letsencrypt"
    assert traefik["TaskTemplate"]["Placement"]["Constraints"] == ["node.role == manager"]
    config = traefik["TaskTemplate"]["ContainerSpec"]["Configs"][0]
    assert config["File"]["Name"] == "/etc/traefik/traefik.yml"
    assert sh(cluster, manager, "test -d %s/services/portainer/data && echo ok" % MOUNT
              ).strip() == "ok"


def test_portainer_has_its_admin_and_its_agents_answer_it_only(cluster, stacks):
    """Issue 21: no open first-admin screen, an agent secret, a closed agent network."""
    manager = cluster.managers[0]
    specs = {name: cluster.docker_json(manager, "service", "inspect", "core_" + name)[0][
        "Spec"]["TaskTemplate"]["ContainerSpec"] for name in ("portainer", "agent")}
    portainer = specs["portainer"]
    assert "--admin-password-file" in portainer["Args"], portainer["Args"]
    secret = portainer["Args"][portainer["Args"].index("--admin-password-file") + 1]
    assert secret in ["/run/secrets/" + s["File"]["Name"] for s in portainer["Secrets"]]
    for name, spec in specs.items():
        assert f"AGENT_SECRET={stacks['swarmops_core_agent_secret']}" in spec["Env"], name
    agent_net = cluster.docker_json(manager, "network", "inspect", "core_agent")[0]
    assert agent_net["Attachable"] is False


def test_check_after_one_env_change_reports_that_service_and_deploys_nothing(cluster, stacks):
    before = services(cluster)
    message = "changed-%s" % uuid.uuid4().hex[:6]
    out = deploy(cluster, "--check", "--diff", "-e", "stacks=app",
                 "-e", "swarmops_lab_app_message=" + message)
    diff_lines = [line for line in out.splitlines() if re.match(r"^[-+] ", line)]
    assert len(diff_lines) == 2, out[-3000:]
    # The variable is named, its values masked (issue 21): two different digests.
    masked = [re.fullmatch(r"[-+] (- )?MESSAGE=\(masked ([0-9a-f]{8})\)",
                           re.sub(r"\s+", " ", line).strip()) for line in diff_lines]
    assert all(masked) and masked[0].group(2) != masked[1].group(2), diff_lines
    assert message not in out and "MESSAGE=hello" not in out
    assert re.search(r"changed: \[\S+\] => \(item=app\)", out)
    assert services(cluster) == before


def test_deploy_of_one_env_change_updates_only_that_service(cluster, stacks):
    before = services(cluster)
    try:
        out = deploy(cluster, "-e", "stacks=app", "-e", "swarmops_lab_app_message=updated")
        assert changed_count(out) == 1, out[-3000:]
        after = services(cluster)
        assert "MESSAGE=updated" in after["app_api"]["env"]
        assert after["app_api"]["tasks"] != before["app_api"]["tasks"]
        for name in set(before) - {"app_api"}:
            assert after[name]["tasks"] == before[name]["tasks"], name
    finally:
        out = deploy(cluster, "-e", "stacks=app")
    assert changed_count(deploy(cluster, "-e", "stacks=app")) == 0


def test_a_service_changed_by_hand_is_reported_and_brought_back(cluster, stacks):
    registry = stacks["swarmops_lab_registry"]
    sh(cluster, cluster.managers[0], "docker service update -q --detach --with-registry-auth "
       "--image %s/lab/web:2 web_status" % registry)
    out = deploy(cluster, "-e", "stacks=web", "--diff")
    assert re.search(r"changed: \[\S+\] => \(item=web\)", out), out[-3000:]
    assert "-            image: %s/lab/web:2" % registry in out
    assert services(cluster)["web_status"]["image"].startswith("%s/lab/web:1" % registry)
    assert changed_count(deploy(cluster, "-e", "stacks=web")) == 0


def stack_task(cluster, tmp_path, args, *options):
    """Run the stack module once on the first manager (a one-task playbook)."""
    play = [{"hosts": cluster.managers[0], "gather_facts": False, "tasks": [
        {"name": "stack", "swarmops.cluster.stack": args}]}]
    path = tmp_path / "stack.yml"
    path.write_text(json.dumps(play))
    return run_playbook(cluster, path, *options)


def test_no_registry_login_stays_on_a_manager(cluster, stacks):
    """The stacks deployed with registry_auth, yet no manager's client config holds the
    registry's credentials (docker login would keep them there for good; issue 21)."""
    registry = stacks["swarmops_lab_registry"]
    for manager in cluster.managers:
        config = sh(cluster, manager, "cat /root/.docker/config.json 2>/dev/null || echo {}")
        assert registry not in (json.loads(config).get("auths") or {}), (manager, config)
        assert not sh(cluster, manager, "ls -d /tmp/swarmops-docker-config-* 2>/dev/null "
                                        "|| true").strip()


def test_a_missing_image_fails_with_the_task_error(cluster, stacks, tmp_path):
    args = {"name": "broken", "wait_timeout": 120,
            "registry_auth": {"registry": stacks["swarmops_lab_registry"], "username": "lab",
                              "password": stacks["swarmops_lab_registry_password"]},
            "definition": {"version": "3.8", "services": {"gone": {
                "image": "%s/lab/missing:1" % stacks["swarmops_lab_registry"],
                "deploy": {"endpoint_mode": "dnsrr"}}}}}
    try:
        result = stack_task(cluster, tmp_path, args)
        output = result.stdout + result.stderr
        assert result.returncode != 0, output[-3000:]
        assert "broken_gone: failed" in output and "No such image" in output, output[-3000:]
    finally:
        stack_task(cluster, tmp_path, {"name": "broken", "state": "absent"})


def test_configs_rotate_and_absent_keeps_volumes(cluster, stacks, tmp_path):
    registry = stacks["swarmops_lab_registry"]

    service = {"image": "%s/lab/web:1" % registry, "volumes": ["data:/srv/www"],
               "configs": [{"source": "note", "target": "/etc/note"}],
               "deploy": {"endpoint_mode": "dnsrr",
                          "placement": {"constraints": ["node.role == manager"]}}}

    def args(note, state="present"):
        return {"name": "keep", "state": state, "variables": {"NOTE": note},
                "registry_auth": {"registry": registry, "username": "lab",
                                  "password": stacks["swarmops_lab_registry_password"]},
                "definition": {"version": "3.8", "services": {"srv": service},
                               "volumes": {"data": {}},
                               "configs": {"note": {"content": "${NOTE}"}}}}
    manager = cluster.managers[0]

    def configs():
        return sorted(sh(cluster, manager, "docker config ls --filter "
                         "label=com.docker.stack.namespace=keep --format '{{.Name}}'").split())
    try:
        for note in ("one", "two"):
            result = stack_task(cluster, tmp_path, args(note))
            assert result.returncode == 0, result.stdout[-3000:]
            assert len(configs()) == 1, configs()
        task = sh(cluster, manager, "docker service ps -q --filter desired-state=running "
                  "keep_srv").split()[0]
        node = cluster.docker_json(manager, "inspect", task)[0]["NodeID"]
        host = next(n for n in cluster.names if
                    cluster.swarm_state(n)["NodeID"] == node)
        sh(cluster, host, "echo kept > $(docker volume inspect -f '{{.Mountpoint}}' "
           "keep_data)/kept.txt")
        result = stack_task(cluster, tmp_path, args("two", "absent"))
        assert result.returncode == 0, result.stdout[-3000:]
        assert configs() == []
        assert "keep_srv" not in sh(cluster, manager, "docker service ls --format '{{.Name}}'")
        assert sh(cluster, host, "cat $(docker volume inspect -f '{{.Mountpoint}}' "
                  "keep_data)/kept.txt").strip() == "kept"
    finally:
        stack_task(cluster, tmp_path, args("two", "absent"))
        for name in cluster.names:
            sh(cluster, name, "docker volume rm keep_data 2>/dev/null; true")


def lab_stack_args(stacks, name, files):
    """Arguments of a stack from compose files on the controller, with the lab's registry."""
    return {"name": name, "files": [str(path) for path in files], "wait_timeout": 180,
            "variables": {"REGISTRY": stacks["swarmops_lab_registry"]},
            "registry_auth": {"registry": stacks["swarmops_lab_registry"], "username": "lab",
                              "password": stacks["swarmops_lab_registry_password"]}}


BASE_PORTS = """\
version: "3.8"
services:
  srv:
    image: ${REGISTRY}/lab/web:1
    ports:
      - {target: 81, published: 18090, protocol: tcp, mode: host}
    deploy:
      endpoint_mode: dnsrr
      placement: {constraints: [node.role == manager]}
"""
# Host mode: the lab has no routing mesh.  The merge keys ports by published port and
# protocol, and docker keeps one 18090 as we do.
OVERRIDE_PORTS = """\
version: "3.8"
services:
  srv:
    ports:
      - {target: 80, published: 18090, protocol: tcp, mode: host}
"""


def test_an_override_that_changes_a_published_port_deploys_and_converges(
        cluster, stacks, tmp_path):
    """Issue 18: the base publishes 18090 to the wrong target, the override to the right
    one; the merged stack has one 18090 (two would be refused by the swarm)."""
    (tmp_path / "base.yml").write_text(BASE_PORTS)
    (tmp_path / "override.yml").write_text(OVERRIDE_PORTS)
    args = lab_stack_args(stacks, "ports", [tmp_path / "base.yml", tmp_path / "override.yml"])
    try:
        result = stack_task(cluster, tmp_path, args)
        assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
        spec = cluster.docker_json(cluster.managers[0], "service", "inspect", "ports_srv")[0]
        assert spec["Spec"]["EndpointSpec"]["Ports"] == [
            {"Protocol": "tcp", "TargetPort": 80, "PublishedPort": 18090,
             "PublishMode": "host"}]
        assert "changed=0" in stack_task(cluster, tmp_path, args).stdout
    finally:
        stack_task(cluster, tmp_path, {"name": "ports", "state": "absent"})


YES_NO_LABELS = """\
version: "3.8"
services:
  srv:
    image: ${REGISTRY}/lab/web:1
    labels: {backup: no, monitored: yes}
    environment: {FEATURE_X: yes, LEVEL: on}
    deploy:
      endpoint_mode: dnsrr
      placement: {constraints: [node.role == manager]}
      labels: {exposed: off}
"""


def test_a_stack_with_yes_no_labels_deploys_them_as_strings(cluster, stacks, tmp_path):
    """Issue 18: YAML 1.2 as docker 27+ reads it; docker 20.10 and 26.1 on the nodes would
    refuse the file itself ("labels.backup must be a string, number or null")."""
    (tmp_path / "yesno.yml").write_text(YES_NO_LABELS)
    try:
        result = stack_task(cluster, tmp_path, lab_stack_args(stacks, "yesno",
                                                              [tmp_path / "yesno.yml"]))
        assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
        spec = cluster.docker_json(cluster.managers[0], "service", "inspect", "yesno_srv")[0]
        container = spec["Spec"]["TaskTemplate"]["ContainerSpec"]
        assert {key: container["Labels"][key] for key in ("backup", "monitored")} == {
            "backup": "no", "monitored": "yes"}
        assert {"FEATURE_X=yes", "LEVEL=on"} <= set(container["Env"])
        assert spec["Spec"]["Labels"]["exposed"] == "off"
        assert_remove_stack_asks_first(cluster, "yesno")
    finally:
        stack_task(cluster, tmp_path, {"name": "yesno", "state": "absent"})


def assert_remove_stack_asks_first(cluster, name):
    """remove_stack.yml names what goes and, with no one to answer its question, stops
    with nothing changed; confirm=yes removes the stack."""
    def stack_services():
        return sh(cluster, cluster.managers[0], "docker stack services -q " + name).split()
    playbook = ROOT / "playbooks" / "remove_stack.yml"
    before = stack_services()
    asked = run_playbook(cluster, playbook, "-e", "stack=" + name)
    assert asked.returncode != 0 and "not confirmed" in asked.stdout, asked.stdout[-2000:]
    plan = next((line for line in asked.stdout.splitlines() if "Removing stack" in line), "")
    assert f"Removing stack {name}: " in plan and f"{name}_srv" in plan, asked.stdout[-2000:]
    assert before and stack_services() == before
    removed = run_playbook(cluster, playbook, "-e", "stack=" + name, "-e", "confirm=yes")
    assert removed.returncode == 0, removed.stdout[-2000:]
    assert stack_services() == []
    again = run_playbook(cluster, playbook, "-e", "stack=" + name)
    assert again.returncode == 0 and "nothing to remove" in again.stdout, again.stdout[-2000:]


def test_restart_service_replaces_the_tasks_and_waits(cluster, stacks):
    before = services(cluster)["web_status"]["tasks"]
    result = run_playbook(cluster, ROOT / "playbooks" / "restart_service.yml",
                          "-e", "services=web_status")
    assert result.returncode == 0, result.stdout[-3000:]
    after = services(cluster)["web_status"]
    assert after["tasks"] and after["tasks"] != before
    # A restart changes nothing a stack compares: the next deploy has nothing to do.
    assert changed_count(deploy(cluster, "-e", "stacks=web")) == 0


def test_restart_of_an_unknown_service_changes_nothing(cluster, stacks):
    before = services(cluster)
    result = run_playbook(cluster, ROOT / "playbooks" / "restart_service.yml",
                          "-e", "services=web_status,nope_nothing")
    assert result.returncode != 0 and "no service named nope_nothing" in result.stdout
    assert services(cluster) == before
