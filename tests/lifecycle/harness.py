"""The lifecycle suite's tools: playbook runs, lab control, commands on nodes, the data
ledger (writer and verifier), host fingerprints, engine restart windows and the report.

Everything reaches the nodes the way the playbooks do: over SSH with the lab's own key and
known_hosts (read from the lab inventory), never through `docker exec`; the lab's containers
are only stopped, started, grown, forgotten and wiped through tests/lab/lab.py and
`docker stop/start swarmops-LAB-NODE`, as a user powers hosts off and reinstalls them.
"""

import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = ROOT / "inventories" / "lab"
PLAYBOOKS = ROOT / "playbooks"
LAB_PY = ROOT / "tests" / "lab" / "lab.py"
STATE = Path(os.environ.get("SWARMOPS_LAB_STATE", ROOT / ".lab"))
REPORT_FILE = STATE / "lifecycle-report.json"
# Where the suite's files live: on the shared volume, and inside each storage node's brick.
MOUNT_POINT = "/opt/docker"
DATA_DIR = MOUNT_POINT + "/lifecycle"
BRICK_DATA_DIR = "/srv/gluster/dockerdir/brick/lifecycle"
HOSTS_MARKER = "# BEGIN swarmops.cluster hosts"
# What any playbook would change on a node (tests/integration/test_preflight.py's
# FINGERPRINT, mirrored: that module is a test module of another suite, not importable).
FINGERPRINT = ("md5sum /etc/hosts /etc/docker/daemon.json /etc/fstab /etc/group 2>&1; "
               "gluster pool list 2>/dev/null | sort; gluster volume info 2>/dev/null; "
               "grep ' /opt/docker ' /proc/self/mountinfo | cut -d' ' -f5-; "
               "docker info --format '{{.Swarm.LocalNodeState}} {{.Swarm.NodeID}} "
               "{{.Swarm.ControlAvailable}}' 2>/dev/null; "
               "docker node inspect --format '{{.ID}} {{.Spec}}' "
               "$(docker node ls -q 2>/dev/null) 2>/dev/null | sort; "
               "docker network ls --format '{{.Name}}' 2>/dev/null | sort; "
               "docker service ls --format '{{.Name}} {{.Image}}' 2>/dev/null | sort; true")
RECAP_LINE = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+"
                        r"failed=(\d+)", re.MULTILINE)


class HarnessError(AssertionError):
    """A lab or node command failed; the text holds the command and its output."""


# --- the lab -------------------------------------------------------------------------------

@dataclass
class Lab:
    """The lab under test and the inventory environment each step runs with.

    storage: the SWARMOPS_LAB_STORAGE list the lab inventory reads, changed by the steps
    that add or replace storage nodes. extra_vars: -e options every later playbook run
    gets (the rolling-restart step's daemon.json change, so site.yml keeps it).
    """

    name: str
    storage: list
    extra_vars: list = field(default_factory=list)
    hostvars: dict = field(default_factory=dict)
    groups: dict = field(default_factory=dict)

    def env(self, storage=None):
        """The environment of ansible and lab.py for this lab and a storage list."""
        return dict(os.environ, SWARMOPS_LAB_NAME=self.name,
                    SWARMOPS_LAB_STORAGE=",".join(self.storage if storage is None
                                                  else storage),
                    ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                    ANSIBLE_FORCE_COLOR="0")

    def refresh(self):
        """Read the lab inventory again (after grow, forget, wipe or a storage change)."""
        out = subprocess.run(["ansible-inventory", "-i", str(INVENTORY), "--list"],
                             capture_output=True, text=True, env=self.env(), check=True).stdout
        data = json.loads(out)
        self.hostvars = data["_meta"]["hostvars"]
        self.groups = {group: list(data.get(group, {}).get("hosts", []))
                       for group in ("swarm_managers", "swarm_workers", "storage")}
        return self

    @property
    def managers(self):
        """The inventory's managers."""
        return self.groups.get("swarm_managers", [])

    @property
    def nodes(self):
        """Every inventory host, managers first."""
        return self.managers + self.groups.get("swarm_workers", [])

    def address(self, node):
        """The node's address on the lab bridge."""
        return self.hostvars[node]["ansible_host"]

    def container(self, node):
        """The lab's container of a node."""
        return f"swarmops-{self.name}-{node}"

    def lab_py(self, command, *args):
        """Run a tests/lab/lab.py command on this lab; then re-read the inventory."""
        proc = subprocess.run([sys.executable, str(LAB_PY), command, f"--name={self.name}",
                               *args], capture_output=True, text=True, env=self.env(),
                              check=False, timeout=900)
        if proc.returncode:
            raise HarnessError(f"lab.py {command} {' '.join(args)}: {proc.stderr[-2000:]}")
        self.refresh()

    def grow(self, group, *names):
        """Add bare hosts to the lab and its inventory."""
        self.lab_py("grow", f"--group={group}", *names)

    def forget(self, *names):
        """Take hosts out of the lab and its inventory (their containers go)."""
        try:
            self.lab_py("forget", *names)
        except HarnessError as err:
            # lab.py forget ends by reading the host key of every node left, which fails
            # while one of them is stopped (a second lost manager waiting for its own
            # removal). By then the containers are gone and lab.json, which the inventory
            # script reads, no longer lists them; only the static hosts.yml lags.
            self.refresh()
            if "is not running" not in str(err) or set(names) & set(self.hostvars):
                raise

    def wipe(self, *names):
        """Reinstall hosts under the same names (fresh bare containers)."""
        self.lab_py("wipe", *names)

    def stop(self, *names):
        """Power hosts off (a clean systemd shutdown of their containers)."""
        docker_containers("stop", *[self.container(n) for n in names])

    def start(self, *names):
        """Power hosts on again."""
        docker_containers("start", *[self.container(n) for n in names])

    def running(self, node):
        """True when the node's container runs."""
        proc = subprocess.run(["docker", "inspect", "-f", "{{.State.Running}}",
                               self.container(node)], capture_output=True, text=True,
                              check=False)
        return proc.stdout.strip() == "true"


def docker_containers(action, *containers):
    """docker stop/start of lab containers (only the lab's own, by name)."""
    proc = subprocess.run(["docker", action, *containers], capture_output=True, text=True,
                          check=False, timeout=300)
    if proc.returncode:
        raise HarnessError(f"docker {action} {' '.join(containers)}: {proc.stderr}")


# --- commands on nodes ---------------------------------------------------------------------

def ssh_argv(lab, node, command, timeout=10):
    """ssh to a node as the inventory connects (user, key, strict known_hosts), running a
    command as root."""
    hvars = lab.hostvars[node]
    return ["ssh", "-o", "BatchMode=yes", "-o", f"ConnectTimeout={timeout}",
            *shlex.split(hvars.get("ansible_ssh_common_args", "")),
            "-i", hvars["ansible_ssh_private_key_file"],
            f"{hvars['ansible_user']}@{hvars['ansible_host']}",
            "sudo sh -c " + shlex.quote(command)]


def on_node(lab, node, command, timeout=120, stdin=None):
    """stdout of a shell command run as root on a node; raises HarnessError on failure."""
    proc = subprocess.run(ssh_argv(lab, node, command), input=stdin, capture_output=True,
                          check=False, timeout=timeout)
    if proc.returncode:
        raise HarnessError(f"{node}: `{command}` exited {proc.returncode}: "
                           f"{proc.stderr.decode(errors='replace')[-1500:]}")
    return proc.stdout.decode(errors="replace")


def wait_until(what, check, timeout=120, interval=2):
    """Poll check() until it returns a true value; return it, or fail naming `what`."""
    deadline = time.time() + timeout
    while True:
        try:
            result = check()
        except (HarnessError, subprocess.TimeoutExpired):
            result = None
        if result:
            return result
        if time.time() > deadline:
            raise HarnessError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def fingerprint(lab, nodes=None):
    """{node: what any playbook would change there} for every running node; a stopped
    node is recorded as such (nothing can change on it)."""
    result = {}
    for node in nodes or lab.nodes:
        result[node] = on_node(lab, node, FINGERPRINT) if lab.running(node) else "stopped"
    return result


# --- playbooks -----------------------------------------------------------------------------

@dataclass
class PlaybookRun:
    """One ansible-playbook run: its command, exit code, output, wall time and recap."""

    playbook: str
    options: list
    rc: int
    output: str
    seconds: float
    recap: dict

    @property
    def changed(self):
        """The sum of changed= over the recap."""
        return sum(host["changed"] for host in self.recap.values())

    def tail(self, size=4000):
        """The end of the output, for assertion messages."""
        return self.output[-size:]

    def summary(self):
        """What the report keeps of the run."""
        return {"playbook": self.playbook, "options": self.options, "rc": self.rc,
                "seconds": round(self.seconds, 1), "changed": self.changed,
                "changed_by_host": {h: r["changed"] for h, r in self.recap.items()},
                "changed_tasks": changed_tasks(self.output)[:40],
                "failed_hosts": sorted(h for h, r in self.recap.items()
                                       if r["failed"] or r["unreachable"])}


def parse_recap(output):
    """{host: {ok, changed, unreachable, failed}} from the PLAY RECAP."""
    _head, _sep, recap = output.rpartition("PLAY RECAP")
    return {m.group(1): {"ok": int(m.group(2)), "changed": int(m.group(3)),
                         "unreachable": int(m.group(4)), "failed": int(m.group(5))}
            for m in RECAP_LINE.finditer(recap)}


def run_playbook(lab, playbook, *options, storage=None, timeout=1800):
    """ansible-playbook playbooks/PLAYBOOK on the lab inventory, with the lab's extra vars.

    stdin is /dev/null, as in CI: a prompt gets no answer, so a playbook that asks must be
    told -e confirm=yes or refuse.
    """
    argv = ["ansible-playbook", "-i", str(INVENTORY), *lab.extra_vars, *options,
            str(PLAYBOOKS / playbook)]
    start = time.monotonic()
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, env=lab.env(storage), cwd=ROOT, check=False,
                              timeout=timeout)
        rc, output = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as exc:
        rc, output = -1, f"timed out after {timeout}s\n{exc.stdout or ''}"
    seconds = time.monotonic() - start
    return PlaybookRun(playbook, list(options), rc, output, seconds, parse_recap(output))


def failure_message(output, lines=16):
    """The first failed task's name and its msg, as the report quotes a refusal."""
    # Not "fatal: [h]: UNREACHABLE!": a dead node's read is ignored by the day-2 playbooks;
    # nor a failure followed by "...ignoring" (site.yml's reach of a dead host).
    for found in re.finditer(r"^(fatal|failed): \[.*\]: FAILED!.*$", output, re.MULTILINE):
        result = output[found.end():].splitlines()[1:]
        end = next((i for i, line in enumerate(result) if not line.startswith(" ")),
                   len(result))
        if end < len(result) and result[end].startswith("...ignoring"):
            continue
        task = re.findall(r"^TASK \[(.*?)\]", output[:found.start()], re.MULTILINE)
        message, in_msg = [], False
        for line in result[:min(end, lines - 1)]:
            key = re.match(r" {4}(\w+):", line)
            in_msg = (key.group(1) == "msg") if key else in_msg
            if in_msg:
                message.append(line.strip())
        return task[-1:] + message
    return output.strip().splitlines()[-1:]


def changed_tasks(output):
    """[(task, host)] of every task result reported changed, in output order."""
    found, task = [], None
    for line in output.splitlines():
        if line.startswith("TASK ["):
            task = line[6:line.rfind("]")]
        elif line.startswith("changed: ["):
            found.append((task, line[10:line.index("]")]))
    return found


# --- data on the shared volume -------------------------------------------------------------

class Ledger:
    """Every file the suite wrote to the shared volume, with its sha256 (thread-safe)."""

    def __init__(self):
        self.files = {}
        self.lock = threading.Lock()

    def write(self, lab, node, name, size=64 * 1024):
        """Write one random file through a node's mount; True when it landed."""
        data = os.urandom(size)
        command = (f"mkdir -p {DATA_DIR} && cat > {DATA_DIR}/.{name}.tmp && "
                   f"mv {DATA_DIR}/.{name}.tmp {DATA_DIR}/{name}")
        try:
            on_node(lab, node, command, timeout=30, stdin=data)
        except (HarnessError, subprocess.TimeoutExpired):
            return False
        with self.lock:
            self.files[name] = hashlib.sha256(data).hexdigest()
        return True

    def write_batch(self, lab, node, prefix, count=5):
        """Write `count` files named PREFIX-I.bin through a node; all must land."""
        names = [f"{prefix}-{i}.bin" for i in range(count)]
        failed = [name for name in names if not self.write(lab, node, name)]
        if failed:
            raise HarnessError(f"writing {failed} through {node} failed")
        return names

    def expected(self):
        """A copy of {file name: sha256} of everything written so far."""
        with self.lock:
            return dict(self.files)


def read_checksums(lab, node, directory):
    """{file name: sha256} of the *.bin files in a directory of a node."""
    out = on_node(lab, node, f"cd {directory} && find . -maxdepth 1 -name '*.bin' "
                  "-exec sha256sum {} +", timeout=300)
    sums = {}
    for line in out.splitlines():
        digest, _sep, path = line.partition("  ")
        sums[path.rsplit("/", 1)[-1]] = digest
    return sums


def verify(lab, ledger, nodes, directory=DATA_DIR):
    """{node: {checked, lost, corrupt, unknown}}: every file written so far, read back on
    each node (lost: missing there; corrupt: other content; unknown: not in the ledger)."""
    expected = ledger.expected()
    result = {}
    for node in nodes:
        have = read_checksums(lab, node, directory)
        result[node] = {
            "checked": len(expected),
            "lost": sorted(set(expected) - set(have)),
            "corrupt": sorted(n for n in expected if n in have and have[n] != expected[n]),
            "unknown": sorted(set(have) - set(expected)),
        }
    return result


def data_problems(results):
    """The verifier's losses and corruptions, one line per node that has any."""
    return [f"{node}: {len(r['lost'])} lost {r['lost'][:5]}, {len(r['corrupt'])} corrupt "
            f"{r['corrupt'][:5]}" for node, r in results.items() if r["lost"] or r["corrupt"]]


class Writer:
    """Writes one file per second through a node in a background thread while a step's
    playbook runs (a `with` block), and counts what landed and what failed."""

    def __init__(self, lab, ledger, node, prefix):
        self.lab, self.ledger, self.node, self.prefix = lab, ledger, node, prefix
        self.files = {"written": [], "failed": []}
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def loop(self):
        """Write until told to stop; a slow write is followed at once by the next."""
        index = 0
        while not self.stopping.is_set():
            started = time.monotonic()
            name = f"{self.prefix}-{index}.bin"
            landed = self.ledger.write(self.lab, self.node, name)
            self.files["written" if landed else "failed"].append(name)
            index += 1
            self.stopping.wait(max(0.0, 1.0 - (time.monotonic() - started)))

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.thread.join(timeout=60)

    @property
    def failed(self):
        """The files whose write failed."""
        return self.files["failed"]

    def summary(self):
        """What the report keeps of the writer."""
        return {"node": self.node, "files": f"{self.prefix}-*.bin",
                "written": len(self.files["written"]), "failed": len(self.failed),
                "failed_files": self.failed[:10]}


# --- engine restarts -------------------------------------------------------------------------

STOPPING = re.compile(r"^Stopping (docker\.service|Docker Application)")
STARTED = re.compile(r"^Started (docker\.service|Docker Application)")


def engine_windows(lab, node, since):
    """[(stopped, started)] epoch seconds of the node's engine restarts since `since`, from
    its journal (started is None while the engine has not come back)."""
    out = on_node(lab, node, f"journalctl -u docker.service --since @{int(since)} -o json "
                  "--output-fields=MESSAGE --no-pager")
    windows, stopping = [], None
    for line in out.splitlines():
        entry = json.loads(line)
        message = entry.get("MESSAGE")
        if not isinstance(message, str):
            continue
        stamp = int(entry["__REALTIME_TIMESTAMP"]) / 1e6
        if STOPPING.match(message) and stopping is None:
            stopping = stamp
        elif STARTED.match(message) and stopping is not None:
            windows.append((stopping, stamp))
            stopping = None
    if stopping is not None:
        windows.append((stopping, None))
    return windows


def overlapping_managers(windows, managers):
    """Pairs of managers whose engines were down at the same time."""
    pairs = []
    for i, first in enumerate(managers):
        for second in managers[i + 1:]:
            for a_start, a_end in windows.get(first, []):
                for b_start, b_end in windows.get(second, []):
                    if a_start < (b_end or float("inf")) and b_start < (a_end or float("inf")):
                        pairs.append((first, second))
    return pairs


# --- the report ------------------------------------------------------------------------------

class Report:
    """Numbers of every step (playbook wall times, re-run changes, writer, checksums,
    probe), kept in .lab/lifecycle-report.json, rewritten after each record."""

    def __init__(self, lab_name, path=REPORT_FILE, resume=False):
        self.path = path
        self.data = {"lab": lab_name, "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                     "steps": {}}
        if resume and path.exists():
            # Resuming on the same lab: the earlier steps' numbers stay in the report.
            self.data = json.loads(path.read_text())

    def step(self, name):
        """The dict of one step's numbers (steps keep the order they ran in)."""
        return self.data["steps"].setdefault(name, {"playbooks": []})

    def playbook(self, step, run):
        """Record a playbook run of a step; returns the run."""
        self.step(step)["playbooks"].append(run.summary())
        self.save()
        return run

    def add_writer(self, step, summary):
        """Record a writer's numbers; the step's totals add up every writer it ran."""
        entry = self.step(step)
        entry.setdefault("writers", []).append(summary)
        entry["writer"] = {key: sum(w[key] for w in entry["writers"])
                           for key in ("written", "failed")}
        self.save()

    def put(self, step, key, value):
        """Record one number or structure of a step."""
        self.step(step)[key] = value
        self.save()

    def save(self):
        """Write the report file."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.data, indent=2, default=str) + "\n")

    def summary_lines(self):
        """A table of the steps, for the end of the test output."""
        lines = [f"{'step':<30} {'rerun':>5} {'writer':>7} {'data':>14} {'probe':>14}  "
                 "playbooks (wall s, rc)"]
        for name, step in self.data["steps"].items():
            runs = ", ".join(f"{p['playbook'].removesuffix('.yml')} {p['seconds']:.0f}s "
                             f"rc={p['rc']}" for p in step["playbooks"])
            probe = ratio(step.get("probe"), "total", "failed", "failed_outside_restart",
                          "failed_on_others_while_restarting")
            lines.append(f"{name:<30} {step.get('rerun_changed', '-')!s:>5} "
                         f"{ratio(step.get('writer'), 'written', 'failed'):>7} "
                         f"{step.get('data_summary', '-'):>14} {probe:>14}  {runs}")
        lines += ["rerun: changed= of the site.yml re-run after the step; writer: files "
                  "written/failed while the step's playbook ran; data: files x (m)ounts + "
                  "(b)ricks read back, lost+corrupt; probe: requests/failed/failed outside "
                  "the node's own restart/failed while another node's engine was down "
                  "(goals 0, 0)",
                  f"every number: {self.path}"]
        return lines

    def detail_lines(self):
        """Per step: the refusal quoted, the probe per node, the re-run's changes."""
        lines = []
        for name, step in self.data["steps"].items():
            for line in step.get("refusal", [])[:6]:
                lines.append(f"{name}: {line}")
            for node, numbers in (step.get("probe") or {}).get("per_node", {}).items():
                lines.append(f"{name}: {node} {numbers['requests']} requests, "
                             f"{numbers['failed']} failed; engine down "
                             f"{numbers['engine_down']} ({numbers['engine_down_seconds']} s), "
                             f"restart {numbers['restart_windows']} (s since the first)")
        return lines


def ratio(numbers, *keys):
    """'a/b/c' of some numbers of a dict, or '-' when there is none."""
    return "/".join(str(numbers.get(k, "?")) for k in keys) if numbers else "-"


# --- steps -----------------------------------------------------------------------------------

class LabIntact(AssertionError):
    """A step failed in a way that leaves the lab as the next step expects it (the hooks in
    conftest.py then let the next steps run)."""


class MissingPlaybook(LabIntact):
    """The playbook a step tests does not exist (yet); raised before the step changes
    anything."""


class Disruption(LabIntact):
    """The step's playbook did its work, but the probe measured more disruption than the
    goal allows."""


@dataclass
class Suite:
    """What every step does: run playbooks and record them, refuse bad input unchanged,
    re-run site.yml, judge health and read every file back."""

    lab: Lab
    ledger: Ledger
    report: Report
    # The node the files go through: the first manager, which every step keeps.
    writer_node: str = "node1"

    @staticmethod
    def require(*playbooks):
        """Fail the step, before it changes anything, when a playbook does not exist."""
        missing = [p for p in playbooks if not (PLAYBOOKS / p).exists()]
        if missing:
            raise MissingPlaybook(f"playbooks/{', '.join(missing)} does not exist (yet): "
                                  "this step cannot run")

    def playbook(self, step, playbook, *options, storage=None):
        """Run and record a playbook of a step; returns the run."""
        return self.report.playbook(step, run_playbook(self.lab, playbook, *options,
                                                       storage=storage))

    def apply(self, step, playbook, *options, storage=None, writer=True):
        """Run a step's playbook (with the background writer) and assert it succeeded."""
        self.require(playbook)
        if not writer:
            result = self.playbook(step, playbook, *options, storage=storage)
        else:
            prefix = f"{step}-during-{playbook.removesuffix('.yml')}"
            with Writer(self.lab, self.ledger, self.writer_node, prefix) as files:
                result = self.playbook(step, playbook, *options, storage=storage)
            self.report.add_writer(step, files.summary())
            assert not files.failed, f"writes through {self.writer_node} failed: {files.failed}"
        assert result.rc == 0, result.tail()
        return result

    def refused(self, step, playbook, *options, expect, storage=None):
        """The playbook refuses before any change, saying `expect`: rc != 0, nothing
        changed on any host (the recap and every running node's fingerprint). The
        refusal's message is recorded."""
        self.require(playbook)
        before = fingerprint(self.lab)
        result = self.playbook(step, playbook, *options, storage=storage)
        message = failure_message(result.output)
        self.report.put(step, "refusal", message)
        print(f"{step}: {playbook} {' '.join(options)} -> rc={result.rc}", *message, sep="\n  ")
        assert fingerprint(self.lab) == before, "a refused run changed a host"
        # The lab is unchanged from here on: a wrong message fails only this step.
        if result.rc == 0 or "PLAY RECAP" not in result.output or result.changed:
            raise LabIntact(f"not refused before any change: {result.summary()}\n"
                            f"{result.tail()}")
        if expect not in " ".join(result.output.split()):
            raise LabIntact(f"refused, but not with {expect!r}: {message}")
        return result

    def rerun_unchanged(self, step):
        """site.yml after the step: it succeeds and changes nothing on any host."""
        result = self.playbook(step, "site.yml")
        self.report.put(step, "rerun_changed", result.changed)
        assert result.rc == 0, result.tail()
        assert result.changed == 0, changed_tasks(result.output)

    def settled(self, step, bricks=False):
        """What every step that leaves the cluster whole must show after it: site.yml
        re-runs with changed=0, health passes, new files go in and every file reads back."""
        self.rerun_unchanged(step)
        self.healthy(step)
        self.write_files(step, "after")
        self.check_data(step, bricks=bricks)

    def healthy(self, step, settle=0):
        """health.yml passes (it fails on an unhealthy cluster). settle: seconds the
        cluster may take to get there (a reset brick heals in the background: a few
        entries stay pending for a moment after every file reads back)."""
        self.require("health.yml")
        deadline = time.monotonic() + settle
        while True:
            result = self.playbook(step, "health.yml")
            if result.rc == 0 or time.monotonic() > deadline:
                break
            time.sleep(5)
        assert result.rc == 0, result.tail() + self.heal_info()

    def heal_info(self):
        """The volume's entries pending heal, as the first running storage node lists
        them: what a failed health check needs beside the counts."""
        storage = [n for n in self.lab.groups["storage"] or self.lab.managers
                   if self.lab.running(n)]
        if not storage:
            return ""
        try:
            return "\n" + on_node(self.lab, storage[0],
                                  "gluster volume heal dockerdir info", timeout=60)
        except (HarnessError, subprocess.TimeoutExpired) as err:
            # A diagnosis must not hide the failure it explains.
            return "\n(heal info: %s)" % err

    def write_files(self, step, phase):
        """A batch of files through the writer node (the step's before or after)."""
        self.ledger.write_batch(self.lab, self.writer_node, f"{step}-{phase}")

    def check_data(self, step, nodes=None, bricks=False):
        """Every file written so far reads back unchanged through the mount of every node
        (and, with bricks, inside the brick of every storage node: each holds a copy)."""
        results = {"mount": verify(self.lab, self.ledger, nodes or self.lab.nodes)}
        if bricks:
            results["bricks"], results["bricks_complete_after_s"] = self.wait_for_bricks()
        self.record_data(step, results)
        problems = data_problems(results["mount"]) + data_problems(results.get("bricks", {}))
        assert not problems, problems

    def wait_for_bricks(self, timeout=180):
        """(the bricks' verifier results, seconds until they held every file): self-heal
        copies files onto a new or reset brick in the background, so it gets some time."""
        # Without a storage group the managers hold the bricks.
        storage = self.lab.groups["storage"] or self.lab.managers
        started = time.monotonic()
        while True:
            results = verify(self.lab, self.ledger, storage, BRICK_DATA_DIR)
            waited = round(time.monotonic() - started, 1)
            if not data_problems(results) or waited > timeout:
                return results, waited
            time.sleep(5)

    def record_data(self, step, results):
        """Record the verifier's counts (and a one-line summary) of a step. results:
        {"mount": {node: ...}, "bricks": {node: ...}} (either part may be missing)."""
        parts = {part: results[part] for part in ("mount", "bricks") if part in results}
        counted = {part: {node: {key: value if key == "checked" else len(value)
                                 for key, value in numbers.items()}
                          for node, numbers in nodes.items()}
                   for part, nodes in parts.items()}
        counted.update((k, v) for k, v in results.items() if k not in parts)
        checked = max((r["checked"] for nodes in parts.values() for r in nodes.values()),
                      default=0)
        bad = sum(len(r["lost"]) + len(r["corrupt"])
                  for nodes in parts.values() for r in nodes.values())
        where = "+".join(f"{len(nodes)}{part[0]}" for part, nodes in parts.items())
        self.report.put(step, "data", counted)
        self.report.put(step, "data_summary", f"{checked}x{where} {bad}")
        places = " and ".join(f"{len(nodes)} {part if part == 'bricks' else 'mounts'}"
                              for part, nodes in parts.items())
        waited = (f" (bricks complete after {results['bricks_complete_after_s']} s)"
                  if "bricks_complete_after_s" in results else "")
        print(f"{step}: {checked} files read back in {places}{waited}: {bad} lost or corrupt")


# --- the swarm as a manager sees it, and the lab's layout ------------------------------------

def check_layout(lab, wanted, scenario):
    """Fail unless the lab has the (managers, workers, storage) a suite starts from (not
    when resuming: the earlier steps changed it)."""
    if os.environ.get("SWARMOPS_LIFECYCLE_FROM"):
        return
    layout = (lab.managers, lab.groups["swarm_workers"], lab.groups["storage"])
    if layout != tuple(wanted):
        raise HarnessError(f"lab {lab.name} has managers, workers, storage {layout}; the "
                           f"suite starts from {tuple(wanted)} ({scenario}), converged")


def swarm_nodes(suite, manager="node1"):
    """{hostname: (status, manager status)} of the swarm's nodes, read on a manager."""
    out = on_node(suite.lab, manager, "docker node ls --format "
                  "'{{.Hostname}} {{json .ManagerStatus}} {{.Status}}'")
    nodes = {}
    for line in out.splitlines():
        name, manager_status, status = line.split(" ", 2)
        nodes[name] = (status, json.loads(manager_status) or "")
    return nodes


def hostname(suite, node):
    """The swarm's hostname of an inventory node (the lab's: LAB-NODE)."""
    return f"{suite.lab.name}-{node}"


def wait_down(suite, node, manager="node1"):
    """Wait until the swarm (read on a manager) sees a stopped node as down, as it sees a
    host that died."""
    wait_until(f"the swarm to see {node} down", lambda: swarm_nodes(suite, manager).get(
        hostname(suite, node), ("",))[0] == "Down", timeout=120)
