"""Run the molecule scenarios of `make test` in parallel streams, within a deadline.

  python tests/molecule_streams.py default lifecycle+workers bookworm+first-manager

Each argument is a stream: its scenarios run one after another (`molecule test -s NAME`);
the streams run at the same time, each scenario on a lab of its own (the labs pick their
bridges under a host lock). Most of a scenario's time is spent waiting on engines, glusterd
and the swarm rather than on the CPU, so two streams on a 2-core machine take little more
than the longer one alone.

Before any stream starts, the node images the scenarios name (SWARMOPS_LAB_SUITE and
SWARMOPS_LAB_BAKED in their molecule.yml) are built one at a time, so two streams never
debootstrap the same image at once.

Each scenario's output goes to .lab/logs/<scenario>.log; progress lines go to stdout as
scenarios end, and at the end the tail of every log (the whole log of a failed one) and a
table of times. SWARMOPS_TEST_DEADLINE (epoch seconds, set by `make test`) stops every
stream at that time: the scenarios' processes are stopped by their process groups (which
this script started), their labs destroyed, and the run fails naming what was still running.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
LOGS = ROOT / ".lab" / "logs"
BIN = Path(sys.executable).parent
# Logs are files read by people and CI: no terminal colours.
PLAIN_ENV = dict(os.environ, NO_COLOR="1", PY_COLORS="0", ANSIBLE_NOCOLOR="1")
TAIL_LINES = 40
FAILED_LINES = 400


def scenario_env(name):
    """The provisioner env of a scenario's molecule.yml (the lab's suite, baked, ...)."""
    config = yaml.safe_load((ROOT / "molecule" / name / "molecule.yml").read_text())
    return {key: str(value) for key, value in
            ((config.get("provisioner") or {}).get("env") or {}).items()
            if key.startswith("SWARMOPS_LAB_")}


def build_images(scenarios):
    """Build (or find cached) every node image the scenarios use, one at a time."""
    seen = set()
    for name in scenarios:
        env = scenario_env(name)
        key = (env.get("SWARMOPS_LAB_SUITE", ""), env.get("SWARMOPS_LAB_BAKED", ""))
        if key in seen:
            continue
        seen.add(key)
        subprocess.run([sys.executable, str(ROOT / "tests" / "lab" / "lab.py"), "image"],
                       env=dict(os.environ, **env), check=True, stdout=subprocess.DEVNULL)


class Stream(threading.Thread):
    """One stream: its scenarios in order, stopping at the first failure."""

    def __init__(self, scenarios, deadline):
        super().__init__(daemon=True)
        self.scenarios, self.deadline = scenarios, deadline
        self.results = []  # (scenario, "passed" | "FAILED" | "STOPPED" | "not run", seconds)
        self.proc = None
        self.stopped = threading.Event()

    def run(self):
        for name in self.scenarios:
            if self.stopped.is_set() or (self.results and self.results[-1][1] != "passed"):
                self.results.append((name, "not run", 0))
                continue
            start = time.time()
            status = self.run_scenario(name)
            self.results.append((name, status, round(time.time() - start)))
            print(f"molecule: {name} {status} after {round(time.time() - start)}s",
                  flush=True)

    def run_scenario(self, name):
        """molecule test -s name, its output in the scenario's log; destroy on failure."""
        log = LOGS / f"{name}.log"
        with open(log, "w", encoding="utf-8") as out:
            self.proc = subprocess.Popen([str(BIN / "molecule"), "test", "-s", name],
                                         cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                         env=PLAIN_ENV, start_new_session=True)
            rc = self.proc.wait()
            if rc == 0:
                return "passed"
            subprocess.run([str(BIN / "molecule"), "destroy", "-s", name], cwd=ROOT,
                           stdout=out, stderr=subprocess.STDOUT, env=PLAIN_ENV, check=False)
        return "STOPPED" if self.stopped.is_set() else "FAILED"

    def stop(self):
        """Stop the running scenario: its whole process group, which run_scenario started."""
        self.stopped.set()
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)


def wait_for(streams, deadline):
    """Wait for every stream; at the deadline stop them all. True when none was stopped."""
    while any(s.is_alive() for s in streams):
        if deadline and time.time() > deadline:
            print("molecule: the run reached SWARMOPS_TEST_DEADLINE (make test stops at 75 "
                  "minutes, before CI's 90): stopping every scenario", flush=True)
            for stream in streams:
                stream.stop()
            for stream in streams:
                stream.join()
            return False
        time.sleep(2)
    return True


def report(streams):
    """Every log's tail (a failed one's last FAILED_LINES), then a table; True if all passed."""
    results = [r for s in streams for r in s.results]
    for name, status, _secs in results:
        log = LOGS / f"{name}.log"
        if status == "not run" or not log.exists():
            continue
        lines = log.read_text(errors="replace").splitlines()
        keep = TAIL_LINES if status == "passed" else FAILED_LINES
        print(f"\n===== molecule {name}: {status}; last {min(keep, len(lines))} lines of "
              f"{log.relative_to(ROOT)} =====")
        print("\n".join(lines[-keep:]))
    print("\nmolecule: scenario times")
    for name, status, secs in results:
        print(f"  {name}: {status} {secs}s")
    return all(status == "passed" for _name, status, _secs in results)


def main(argv):
    """Build the images, run the streams, report; exit 1 unless every scenario passed."""
    streams_spec = [arg.split("+") for arg in argv if arg.strip()]
    if not streams_spec:
        print("usage: molecule_streams.py SCENARIO[+SCENARIO...] ...", file=sys.stderr)
        return 2
    LOGS.mkdir(parents=True, exist_ok=True)
    deadline = float(os.environ.get("SWARMOPS_TEST_DEADLINE") or 0)
    build_images([name for stream in streams_spec for name in stream])
    streams = [Stream(spec, deadline) for spec in streams_spec]
    for stream in streams:
        stream.start()
    in_time = wait_for(streams, deadline)
    passed = report(streams)
    return 0 if passed and in_time else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
