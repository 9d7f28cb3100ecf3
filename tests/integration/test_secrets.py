"""No secret in any output, proven at -vvv.

site.yml, deploy_stacks.yml (in check mode with a changed environment value, so the diff
shows environments), rotate.yml and health.yml run at -vvv against the cluster (the
backup playbooks' own test checks their output for the backup password). None of the known
secrets - the core stack's passwords and agent secret, the object key, the registry
password, a stack secret's content (and its base64), the join tokens before and after the
rotation - may appear in their output, in the controller's temporary files, or in the
process list of the first manager sampled during the runs.
"""

import base64
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from test_preflight import ROOT

SECRET_FILE = ROOT / "tests" / "lab" / "stacks" / "web" / "token.txt"
SECRET_VARS = ("swarmops_core_dashboard_password", "swarmops_core_portainer_admin_password",
               "swarmops_core_agent_secret", "swarmops_stacks_object_key",
               "swarmops_lab_registry_password")


def known_secrets(cluster):
    """{what: value} of every secret the inventory and the lab give, with the join tokens."""
    hvars = cluster.hostvars[cluster.managers[0]]
    found = {name: str(hvars[name]) for name in SECRET_VARS if hvars.get(name)}
    content = SECRET_FILE.read_text().strip()
    found["stack secret"] = content
    found["stack secret (base64)"] = base64.b64encode(content.encode()).decode()
    found.update(join_tokens(cluster, "before"))
    return found


def join_tokens(cluster, when):
    """The swarm's join tokens, read on the first manager."""
    host = cluster.host(cluster.managers[0])
    return {f"{kind} token {when}": host.check_output(f"sudo docker swarm join-token -q {kind}")
            for kind in ("worker", "manager")}


def deploys_stacks(cluster):
    """Whether the inventory deploys stacks: a lab only with its registry (its stacks are
    a template the inventory listing does not render), other inventories when they list
    some."""
    hvars = cluster.hostvars[cluster.managers[0]]
    if "swarmops_lab_root" in hvars:
        return "swarmops_lab_registry" in hvars
    return bool(hvars.get("swarmops_stacks"))


def run_verbose(playbook, inventory, *options):
    """ansible-playbook -vvv; (rc, output)."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run(["ansible-playbook", "-vvv", "-i", inventory, *options,
                           str(ROOT / playbook)], capture_output=True, text=True, env=env,
                          cwd=ROOT, check=False)
    return proc.returncode, proc.stdout + proc.stderr


class ProcessSampler(threading.Thread):
    """The first manager's process arguments, sampled while the playbooks run."""

    def __init__(self, cluster):
        super().__init__(daemon=True)
        self.host, self.samples, self.done = cluster.host(cluster.managers[0]), [], False

    def run(self):
        while not self.done:
            self.samples.append(self.host.check_output("sudo ps -eo args"))
            time.sleep(0.3)


@pytest.fixture(name="verbose_runs", scope="module")
def fixture_verbose_runs(cluster):
    """The -vvv outputs, the secrets (tokens after the rotation too) and the samples."""
    secrets = known_secrets(cluster)
    started = time.time()
    sampler = ProcessSampler(cluster)
    sampler.start()
    outputs = {}
    try:
        outputs["site.yml"] = run_verbose("site.yml", cluster.inventory)
        if deploys_stacks(cluster):
            outputs["deploy_stacks.yml"] = run_verbose(
                "playbooks/deploy_stacks.yml", cluster.inventory, "--check", "--diff",
                "-e", "swarmops_lab_app_message=changed-for-the-diff")
        outputs["rotate.yml"] = run_verbose("playbooks/rotate.yml", cluster.inventory)
        outputs["health.yml"] = run_verbose("playbooks/health.yml", cluster.inventory)
    finally:
        sampler.done = True
        sampler.join()
    secrets.update(join_tokens(cluster, "after"))
    return outputs, secrets, sampler.samples, started


def test_every_run_succeeds(verbose_runs):
    outputs = verbose_runs[0]
    for playbook, (rc, output) in outputs.items():
        assert rc == 0, f"{playbook}: {output[-3000:]}"
    if "deploy_stacks.yml" in outputs:
        assert "(masked " in outputs["deploy_stacks.yml"][1], "the diff showed no environment"


def test_no_secret_in_any_output(verbose_runs):
    outputs, secrets = verbose_runs[0], verbose_runs[1]
    leaks = [(playbook, what) for playbook, (_rc, output) in outputs.items()
             for what, value in secrets.items() if value in output]
    assert not leaks, leaks


def test_no_secret_in_the_controllers_temporary_files(verbose_runs):
    secrets, started = verbose_runs[1], verbose_runs[3]
    leaks = []
    # Ansible's own temporary folder on the controller (ANSIBLE_LOCAL_TEMP's default).
    folder = Path(os.environ.get("ANSIBLE_LOCAL_TEMP", Path.home() / ".ansible" / "tmp"))
    for path in folder.rglob("*") if folder.is_dir() else []:
        try:
            if not path.is_file() or path.stat().st_mtime < started or \
                    path.stat().st_size > 1 << 20:
                continue
            text = path.read_text(errors="replace")
        except OSError:
            continue
        leaks += [(str(path), what) for what, value in secrets.items() if value in text]
    assert not leaks, leaks


def test_no_secret_in_the_managers_process_list(verbose_runs):
    secrets, samples = verbose_runs[1], verbose_runs[2]
    assert samples, "no process list was sampled"
    leaks = {what for sample in samples for what, value in secrets.items() if value in sample}
    assert not leaks, leaks
