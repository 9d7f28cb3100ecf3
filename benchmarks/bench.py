"""Benchmark site.yml on the lab: the first run from bare nodes, split by role, and the
idempotent re-run users make every day.

  python3 benchmarks/bench.py [--managers 3] [--workers 0] [--reruns 3] [--keep]

Starts a fresh lab named "bench" (the node image is reused from cache), prints a table and
writes benchmarks/results/<UTC time>.json. The lab is removed afterwards unless --keep.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "lab"))
import lab  # noqa: E402  pylint: disable=wrong-import-position

LAB_NAME = "bench"


def timed_run(label):
    """One ansible-playbook site.yml run with the role timer; its JSON plus wall time."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        env = dict(os.environ, SWARMOPS_LAB_NAME=LAB_NAME, SWARMOPS_BENCH_OUT=out.name,
                   ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
                   ANSIBLE_CALLBACK_PLUGINS=str(ROOT / "benchmarks" / "callback_plugins"),
                   ANSIBLE_CALLBACKS_ENABLED="role_timer")
        start = time.monotonic()
        proc = subprocess.run(["ansible-playbook", "-i", str(ROOT / "inventories" / "lab"),
                               str(ROOT / "site.yml")], env=env, cwd=ROOT,
                              capture_output=True, text=True, check=False)
        wall = time.monotonic() - start
        if proc.returncode:
            sys.exit(f"{label}: site.yml failed\n{proc.stdout[-4000:]}{proc.stderr[-2000:]}")
        result = json.loads(Path(out.name).read_text())
    result["wall"] = round(wall, 2)
    return result


def print_table(first, reruns):
    """Per-role seconds of the first run and the median re-run."""
    roles = list(first["roles"])
    med = {r: statistics.median(x["roles"].get(r, 0.0) for x in reruns) for r in roles}
    print(f"{'role':<16}{'first run (s)':>15}{'re-run, median (s)':>22}")
    for role in roles:
        print(f"{role:<16}{first['roles'][role]:>15.1f}{med[role]:>22.1f}")
    print(f"{'total (wall)':<16}{first['wall']:>15.1f}"
          f"{statistics.median(x['wall'] for x in reruns):>22.1f}")
    print(f"changed: first run {first['changed']}, re-runs {[x['changed'] for x in reruns]}")
    print("slowest tasks of the last re-run:")
    for name, seconds in reruns[-1]["slowest_tasks"][:6]:
        print(f"  {seconds:6.2f} s  {name}")


def main():
    """Fresh lab, first run, re-runs, table, JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--managers", type=int, default=3)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--reruns", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="leave the bench lab running")
    args = parser.parse_args()
    # Engine and image first, so the lab-up time below is that of a cached image.
    lab.ensure_engine()
    lab.build_image()
    start = time.monotonic()
    lab.up(LAB_NAME, args.managers, args.workers, recreate=True)
    lab_up = round(time.monotonic() - start, 2)
    try:
        first = timed_run("first run")
        reruns = [timed_run(f"re-run {i + 1}") for i in range(args.reruns)]
    finally:
        if not args.keep:
            lab.down(LAB_NAME)
    print(f"lab up (cached image, {args.managers + args.workers} nodes): {lab_up:.1f} s")
    print_table(first, reruns)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    result = {"when": stamp, "managers": args.managers, "workers": args.workers,
              "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
              "lab_up": lab_up, "first_run": first, "reruns": reruns}
    path = ROOT / "benchmarks" / "results" / f"{stamp}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written: {path.relative_to(ROOT)}")
    return 0 if first["changed"] and not any(x["changed"] for x in reruns) else 1


if __name__ == "__main__":
    sys.exit(main())
