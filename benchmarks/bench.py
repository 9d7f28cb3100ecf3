"""Benchmark site.yml against a floor and a plain community.docker baseline, on the lab.

  python3 benchmarks/bench.py [--reruns 3] [--skip-5] [--keep]

One run, every lab made fresh from the cached node image:

  stage 1  lab "bench" (3 managers): our first site.yml run (split by role); lab "bench5"
           (3 managers): the baseline's first run (benchmarks/baseline/site.yml, only
           community.docker and ansible.builtin). Then N rounds, each giving both labs the
           floor (`ansible all -m ping`) and a re-run, in alternating order.
  stage 2  lab "bench5" recreated with 3 managers + 2 workers: our first run; then N rounds
           of floor and re-run on "bench" and "bench5" (--skip-5 leaves this stage out).
  stage 3  lab "benchstk" (3 managers and the lab's image registry, so the lab's stacks
           deploy): our first run; then N rounds of floor, re-run, and a deploy of one
           changed service (playbooks/deploy_stacks.yml -e stacks=app with a new
           APP_MESSAGE), timed from deploy to converged, with the time the module took to
           see convergence after the swarm's last change shown apart (--skip-stacks).
  stage 4  on "bench5" after stage 2 (--skip-lifecycle leaves it out): a fresh worker
           onboarded with `site.yml --limit` (against a full re-run: target <= 0.35), the
           same worker removed live (playbooks/remove_node.yml), and a rolling restart of
           the three managers (playbooks/upgrade.yml -e restart_only=yes --limit), each
           with the time spent waiting for the cluster shown apart.

Interleaving keeps drift in a shared machine's load out of the ratios: ours/baseline comes
from stage 1, ours-5/ours-3 from stage 2. Prints the medians with their ratio to the floor of
the same lab, the ratios against the issue's targets, task results per host of each re-run,
our run by role and our slowest re-run tasks; writes benchmarks/results/<UTC time>.json.
Exits 1 if a run fails, a first run changes nothing or a re-run changes anything. Labs are
removed afterwards unless --keep.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
sys.path.insert(0, str(ROOT / "tests" / "lab"))
sys.path.insert(0, str(BENCH / "baseline"))
import install_collections  # noqa: E402  pylint: disable=wrong-import-position
import lab  # noqa: E402  pylint: disable=wrong-import-position

OURS = ROOT / "site.yml"
STACK_DEPLOY = ROOT / "playbooks" / "deploy_stacks.yml"
BASELINE = BENCH / "baseline" / "site.yml"
TARGET_VS_BASELINE = 0.5
TARGET_5_VS_3 = 1.2
TARGET_ONBOARD_VS_RERUN = 0.35
PLAYBOOKS = ROOT / "playbooks"


class BenchError(Exception):
    """A run failed; the message carries the tail of its output."""


def tool(name):
    """An Ansible command from the Python running this script (.venv), else from PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def ansible_env(phase, out=None):
    """Environment of one ansible run in a phase: its lab, its own SSH control sockets,
    community.docker only for the baseline, and the role timer when out is given."""
    env = dict(os.environ, SWARMOPS_LAB_NAME=phase["lab"],
               ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
               ANSIBLE_SSH_CONTROL_PATH_DIR=phase["control_dir"])
    # Ours resolves collections from ansible.cfg alone; only the baseline sees its cache.
    for name in ("ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS"):
        env.pop(name, None)
    if phase.get("collections"):
        env["ANSIBLE_COLLECTIONS_PATH"] = phase["collections"]
    if out:
        env.update(SWARMOPS_BENCH_OUT=out,
                   ANSIBLE_CALLBACK_PLUGINS=str(BENCH / "callback_plugins"),
                   ANSIBLE_CALLBACKS_ENABLED="role_timer")
    return env


def run_timed(argv, env, label):
    """Run one ansible command; its wall time in seconds. BenchError when it fails."""
    start = time.monotonic()
    proc = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True,
                          check=False)
    wall = time.monotonic() - start
    if proc.returncode:
        raise BenchError(f"{label} failed (rc {proc.returncode})\n"
                         f"{proc.stdout[-4000:]}{proc.stderr[-2000:]}")
    return round(wall, 2)


def playbook_run(phase, label, playbook=None, extra=()):
    """One ansible-playbook run of the phase's playbook (or PLAYBOOK with EXTRA options):
    the role timer's JSON plus wall."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        argv = [tool("ansible-playbook"), "-i", str(ROOT / "inventories" / "lab"),
                *extra, str(playbook or phase["playbook"])]
        wall = run_timed(argv, ansible_env(phase, out.name), f"{phase['name']}: {label}")
        result = json.loads(Path(out.name).read_text())
    result["wall"] = wall
    return result


def floor_run(phase):
    """The floor: `ansible all -m ping` on the same lab, inventory and settings."""
    argv = [tool("ansible"), "all", "-i", str(ROOT / "inventories" / "lab"),
            "-m", "ansible.builtin.ping"]
    return run_timed(argv, ansible_env(phase), f"{phase['name']}: floor")


def close_control_sockets(control_dir):
    """Stop the SSH control masters this phase's runs started, then drop their folder."""
    for sock in Path(control_dir).iterdir():
        try:
            subprocess.run(["ssh", "-o", f"ControlPath={sock}", "-O", "exit", "bench-node"],
                           capture_output=True, check=False, timeout=30)
        except subprocess.TimeoutExpired:
            log(f"could not stop the SSH master of {sock}; it exits when idle")
    shutil.rmtree(control_dir, ignore_errors=True)


def start_phase(phase):
    """Fresh lab for the phase, its own control-socket folder, and its first run."""
    log(f"{phase['name']}: lab {phase['lab']} "
        f"({phase['managers']} managers, {phase['workers']} workers)")
    start = time.monotonic()
    lab.up(phase["lab"], phase["managers"], phase["workers"], recreate=True,
           registry=phase.get("registry", False))
    phase["control_dir"] = tempfile.mkdtemp(prefix="swarmops-bench-cp-")
    result = {"lab": phase["lab"], "lab_up": round(time.monotonic() - start, 2),
              "floor": [], "reruns": []}
    log(f"{phase['name']}: first run")
    result["first_run"] = playbook_run(phase, "first run")
    return result


def rounds(active, results, count, stage):
    """count rounds; in each, every active phase gets a floor and a re-run, in an order
    that alternates between rounds, so drift in the machine's load hits them alike. An
    unrecorded ping first, so every recorded run finds its SSH connections open (as the
    first re-run after a first run does)."""
    for phase in active:
        floor_run(phase)
    for i in range(count):
        order = active if i % 2 == 0 else active[::-1]
        for phase in order:
            res = results[phase["name"]]
            log(f"{phase['name']}: floor and re-run {len(res['reruns']) + 1}")
            res["floor"].append({"stage": stage, "wall": floor_run(phase)})
            run = playbook_run(phase, f"re-run {len(res['reruns']) + 1}")
            res["reruns"].append(dict(run, stage=stage))


def stack_rounds(phase, result, count):
    """count rounds of floor, unchanged re-run and a deploy of one changed service. Each
    re-run passes the message the cluster runs, so it stays unchanged."""
    result["deploys"] = []
    floor_run(phase)
    message = "hello"  # the lab inventory's APP_MESSAGE
    for i in range(count):
        log(f"{phase['name']}: floor, re-run and stack deploy {i + 1}")
        result["floor"].append({"stage": 3, "wall": floor_run(phase)})
        run = playbook_run(phase, f"re-run {i + 1}", extra=(
            "-e", f"swarmops_lab_app_message={message}"))
        result["reruns"].append(dict(run, stage=3))
        message = f"bench-{i}"
        run = playbook_run(phase, f"stack deploy {i + 1}", STACK_DEPLOY,
                           ("-e", "stacks=app", "-e", f"swarmops_lab_app_message={message}"))
        result["deploys"].append(dict(run, stage=3))


def waited(run):
    """Seconds the run's modules spent waiting for the cluster (their `waited` results)."""
    return round(sum(t.get("waited") or 0.0 for t in run.get("module_timings", [])), 2)


def lifecycle(phase, result):
    """Stage 4 on the phase's running lab: onboard one worker with --limit beside a full
    re-run, remove it live, then roll an engine restart through the three managers."""
    name = "node6"
    log(f"{phase['name']}: a full re-run, onboarding {name} with --limit, two full runs")
    # The re-run first: the lab's inventory lists a grown node at once, and a full run
    # after the grow would provision it (and the onboarding then find nothing to do).
    steps = {"rerun": playbook_run(phase, "full re-run before onboarding")}
    lab.grow(phase["lab"], "swarm_workers", [name])
    steps["onboard"] = playbook_run(phase, "onboard", extra=("--limit", name))
    # The next full run adds the new node to the others' /etc/hosts and fstab backups
    # (README: adding nodes); the one after must change nothing.
    steps["settle"] = playbook_run(phase, "full run after onboarding")
    steps["after"] = playbook_run(phase, "full re-run after onboarding")
    log(f"{phase['name']}: removing {name} (live worker)")
    steps["remove"] = playbook_run(phase, "remove worker", PLAYBOOKS / "remove_node.yml",
                                   ("-e", f"node={name}", "-e", "confirm=yes"))
    lab.forget(phase["lab"], [name])
    log(f"{phase['name']}: rolling restart of the managers")
    steps["restart"] = playbook_run(phase, "rolling restart", PLAYBOOKS / "upgrade.yml",
                                    ("-e", "confirm=yes", "-e", "restart_only=yes",
                                     "--limit", "swarm_managers"))
    for run in steps.values():
        run["waited"] = waited(run)
    result["lifecycle"] = steps


def print_lifecycle(res):
    """Stage 4: onboarding against a full re-run, removal and rolling restart with waits."""
    steps = res["lifecycle"]
    onboard, rerun = steps["onboard"], steps["rerun"]
    print("\nday-2 (lab bench5: 3 managers + 2 workers)")
    installs = sum(seconds for task, seconds in onboard.get("slowest_tasks", [])
                   if "Install" in task and "(apt)" in task)
    print(f"  onboard one worker (--limit): {onboard['wall']:.2f} s (package installs "
          f"{installs:.2f} s), hosts in the recap: {', '.join(onboard['hosts'])}, hosts "
          f"contacted: {', '.join(onboard.get('contacted', []))}; full re-run before it "
          f"{rerun['wall']:.2f} s; the "
          f"next full run {steps['settle']['wall']:.2f} s (changed "
          f"{steps['settle']['changed']}: /etc/hosts), the one after changed "
          f"{steps['after']['changed']}")
    for key, text in (("remove", "remove a live worker"),
                      ("restart", "rolling restart of 3 managers")):
        run = steps[key]
        print(f"  {text}: {run['wall']:.2f} s, of which waiting for the cluster "
              f"{run['waited']:.2f} s")


def stop_phase(phase, keep):
    """Close the phase's SSH masters; remove its lab unless kept."""
    if phase.get("control_dir"):
        close_control_sockets(phase.pop("control_dir"))
    if not keep:
        lab.down(phase["lab"])


def phases(collections):
    """ours on 3 managers, the baseline on 3 fresh managers, ours on 3 managers + 2 workers."""
    return (
        {"name": "ours-3", "lab": "bench", "managers": 3, "workers": 0, "playbook": OURS},
        # The baseline needs bare nodes of its own; "bench5" holds them until ours-5.
        {"name": "baseline-3", "lab": "bench5", "managers": 3, "workers": 0,
         "playbook": BASELINE, "collections": str(collections)},
        {"name": "ours-5", "lab": "bench5", "managers": 3, "workers": 2, "playbook": OURS},
        {"name": "ours-stacks", "lab": "benchstk", "managers": 3, "workers": 0,
         "playbook": OURS, "registry": True},
    )


def log(msg):
    """Progress on stderr; the table goes to stdout."""
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def median_wall(items, stage=None):
    """Median wall time of runs or floors, of one stage or of all."""
    return statistics.median(x["wall"] for x in items if stage in (None, x["stage"]))


def host_results(run):
    """Task results per host of one run, as "node1 10, node2 9"."""
    return ", ".join(f"{h} {c['results']}" for h, c in run["hosts"].items())


LABELS = {"ours-3": "ours (site.yml), 3 nodes", "baseline-3": "baseline, 3 nodes",
          "ours-5": "ours (site.yml), 5 nodes"}
# The table's rows: (phase, stage), in the order the ratios pair them.
ROWS = (("baseline-3", 1), ("ours-3", 1), ("ours-3", 2), ("ours-5", 2))


def print_summary(results):
    """One row per phase and stage: first run, median re-run, the same lab's floor."""
    print(f"\n{'what':<32}{'first run':>10}{'re-run':>9}{'range':>12}{'floor':>8}"
          f"{'x floor':>9}   task results per host (each re-run)")
    print(f"{'':<32}{'s':>10}{'median s':>9}{'s':>12}{'med. s':>8}")
    shown = set()
    for name, stage in ROWS:
        runs = [r for r in results.get(name, {}).get("reruns", []) if r["stage"] == stage]
        if not runs:
            continue
        res = results[name]
        rerun, floor = median_wall(runs), median_wall(res["floor"], stage)
        first = "-" if name in shown else f"{res['first_run']['wall']:.1f}"
        shown.add(name)
        label = LABELS[name] + (", stage 2" if name == "ours-3" and stage == 2 else "")
        spread = f"{min(r['wall'] for r in runs):.2f}-{max(r['wall'] for r in runs):.2f}"
        counts = " | ".join(sorted({host_results(r) for r in runs}))
        print(f"{label:<32}{first:>10}{rerun:>9.2f}{spread:>12}{floor:>8.2f}"
              f"{rerun / floor:>9.2f}   {counts}")
    print("floor: `ansible all -m ping` on the same lab, inventory and ansible.cfg. Stage 1"
          " interleaves ours-3\nwith the baseline, stage 2 ours-3 with ours-5. Each ratio"
          " below is the median of its per-round\nratios (the two runs of a round are"
          " adjacent in time), so it can differ a little from the\nratio of the medians.\n")
    print_ratios(results)


def ratios(results):
    """The issue's ratios, each the median of per-round ratios within one stage (the two
    runs of a round are adjacent in time): {name: (value, target or None)}."""
    def ratio(num, den, stage, key="reruns"):
        pairs = zip(*([x["wall"] for x in results[name][key] if x["stage"] == stage]
                      for name in (num, den)))
        return statistics.median(a / b for a, b in pairs)
    found = {}
    if "baseline-3" in results:
        found["ours / baseline re-run"] = (ratio("ours-3", "baseline-3", 1), TARGET_VS_BASELINE)
    if "ours-5" in results:
        found["ours 5 nodes / 3 nodes re-run"] = (ratio("ours-5", "ours-3", 2), TARGET_5_VS_3)
        found["floor 5 nodes / 3 nodes"] = (ratio("ours-5", "ours-3", 2, "floor"), None)
    steps = results.get("ours-5", {}).get("lifecycle")
    if steps:
        found["onboard 1 node / full re-run"] = (
            steps["onboard"]["wall"] / steps["rerun"]["wall"], TARGET_ONBOARD_VS_RERUN)
    return found


def print_ratios(results):
    """The ratios with their targets."""
    for text, (value, target) in ratios(results).items():
        verdict = "" if target is None else \
            f"   target <= {target} ({'meets' if value <= target else 'MISSES'})"
        print(f"{text:<34}{value:>6.2f}{verdict}")


def module_timing(run, key):
    """The stack module's timing KEY in one run (the changed stack's), or 0."""
    return sum(t["timings"].get(key) or 0.0 for t in run.get("module_timings", [])
               if t["changed"])


def print_stacks(res):
    """Stage 3: the stacks' share of a run, and one changed service from deploy to converged."""
    first, reruns, deploys = res["first_run"], res["reruns"], res["deploys"]
    floor = median_wall(res["floor"])
    print("\nstacks (lab benchstk: 3 managers, the lab registry; stacks core, web, app)")
    print(f"  first run {first['wall']:.1f} s: networks {first['roles'].get('networks', 0):.1f}"
          f" s, stacks {first['roles'].get('stacks', 0):.1f} s (3 stacks deployed in order, "
          f"each converged)")
    print(f"  re-run median {median_wall(reruns):.2f} s (floor {floor:.2f} s): networks "
          f"{statistics.median(r['roles'].get('networks', 0) for r in reruns):.2f} s, stacks "
          f"{statistics.median(r['roles'].get('stacks', 0) for r in reruns):.2f} s "
          f"(one module call per stack, no deploy)")
    waits = [module_timing(d, "wait") for d in deploys]
    lags = [module_timing(d, "seen_after_last_task") for d in deploys]
    print(f"  one changed service (app_api, 2 replicas): playbook median "
          f"{median_wall(deploys):.2f} s; in the module: docker stack deploy "
          f"{statistics.median(module_timing(d, 'deploy') for d in deploys):.2f} s, deploy "
          f"to converged {statistics.median(waits):.2f} s (range {min(waits):.2f}-"
          f"{max(waits):.2f}), of which after the swarm's last change "
          f"{statistics.median(lags):.2f} s (range {min(lags):.2f}-{max(lags):.2f})")


def print_roles(res):
    """Our first run and median re-run split by role."""
    first, reruns = res["first_run"], res["reruns"]
    print(f"\n{'ours-3 by role':<16}{'first run s':>12}{'re-run median s':>17}")
    for role in first["roles"]:
        med = statistics.median(x["roles"].get(role, 0.0) for x in reruns)
        print(f"{role:<16}{first['roles'][role]:>12.1f}{med:>17.2f}")


def print_slowest(title, runs, count):
    """The slowest tasks over runs, by their median seconds (from task start to next)."""
    tasks = {}
    for run in runs:
        for name, seconds in run["slowest_tasks"]:
            tasks.setdefault(name, []).append(seconds)
    slowest = sorted(tasks.items(), key=lambda kv: -statistics.median(kv[1]))[:count]
    print(f"\nslowest tasks of {title} (median s):")
    for name, seconds in slowest:
        print(f"  {statistics.median(seconds):6.2f}  {name}")


def problems(results):
    """What makes the run a failure: a first run that changed nothing, a re-run that did."""
    found = []
    for name, res in results.items():
        if not res["first_run"]["changed"]:
            found.append(f"{name}: the first run on fresh nodes changed nothing")
        for i, run in enumerate(res["reruns"], 1):
            if run["changed"]:
                found.append(f"{name}: re-run {i} changed {run['changed']}")
        for key in ("rerun", "after"):
            if res.get("lifecycle") and res["lifecycle"][key]["changed"]:
                found.append(f"{name}: the lifecycle stage's {key} changed "
                             f"{res['lifecycle'][key]['changed']}")
        for i, run in enumerate(res.get("deploys", []), 1):
            if run["changed"] != 1:
                found.append(f"{name}: stack deploy {i} changed {run['changed']}, not 1")
    return found


def write_json(args, results, versions, load_before):
    """benchmarks/results/<UTC time>.json with every measurement."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    summary = {f"{name} stage {stage}": {"rerun_median": median_wall(res["reruns"], stage),
                                         "floor_median": median_wall(res["floor"], stage)}
               for name, res in results.items() for stage in (1, 2)
               if any(r["stage"] == stage for r in res["reruns"])}
    out = {"when": stamp, "reruns": args.reruns,
           "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                       "load_avg_before": load_before, "load_avg_after": os.getloadavg()},
           "baseline": {"ansible": install_collections.ANSIBLE_VERSION, **versions},
           "summary": summary,
           "ratios": {k: {"value": round(v, 3), "target": t}
                      for k, (v, t) in ratios(results).items()},
           "phases": results}
    path = BENCH / "results" / f"{stamp}.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"\nwritten: {path.relative_to(ROOT)}")


def measure(args, collections):
    """Stage 1: ours-3 beside the baseline; stage 2: ours-3 beside ours-5. Each ratio the
    issue sets comes from re-runs interleaved in one stage."""
    ours3, base3, ours5, stacks = phases(collections)
    results = {}
    try:
        for phase in (ours3, base3):
            results[phase["name"]] = start_phase(phase)
        rounds([ours3, base3], results, args.reruns, stage=1)
        stop_phase(base3, keep=args.keep)
        if not args.skip_5:
            results["ours-5"] = start_phase(ours5)
            rounds([ours3, ours5], results, args.reruns, stage=2)
            if not args.skip_lifecycle:
                lifecycle(ours5, results["ours-5"])
            stop_phase(ours5, keep=args.keep)
        if not args.skip_stacks:
            results["ours-stacks"] = start_phase(stacks)
            stack_rounds(stacks, results["ours-stacks"], args.reruns)
    finally:
        for phase in (ours3, base3, ours5, stacks):
            stop_phase(phase, args.keep)
    return results


def main():
    """Engine, image and baseline collections first; then the phases, table and JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reruns", type=int, default=3, help="re-runs (and floors) per lab")
    parser.add_argument("--skip-5", action="store_true", help="leave out the 5-node lab")
    parser.add_argument("--skip-stacks", action="store_true",
                        help="leave out the stacks lab (stage 3)")
    parser.add_argument("--skip-lifecycle", action="store_true",
                        help="leave out the day-2 timings (stage 4)")
    parser.add_argument("--keep", action="store_true",
                        help="leave the labs running (bench: ours on 3 nodes; bench5: ours on "
                             "5 nodes, or the baseline with --skip-5)")
    args = parser.parse_args()
    if args.reruns < 1:
        parser.error("--reruns must be at least 1")
    # Outside the timings: the host engine, the cached node image, community.docker.
    lab.ensure_engine()
    lab.build_image()
    collections, versions = install_collections.ensure()
    load_before = os.getloadavg()
    try:
        results = measure(args, collections)
    except (BenchError, lab.LabError) as err:
        print(f"bench: error: {err}", file=sys.stderr)
        return 1
    print_summary(results)
    print_roles(results["ours-3"])
    print_slowest("our re-run, 3 nodes", results["ours-3"]["reruns"], 8)
    print_slowest("the baseline's re-run", results["baseline-3"]["reruns"], 5)
    if "ours-stacks" in results:
        print_stacks(results["ours-stacks"])
    if "lifecycle" in results.get("ours-5", {}):
        print_lifecycle(results["ours-5"])
    print(f"\nload average (1, 5, 15 min): {load_before} before, {os.getloadavg()} after;"
          f" {os.cpu_count()} CPUs")
    write_json(args, results, versions, load_before)
    found = problems(results)
    for problem in found:
        print(f"bench: FAIL: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
