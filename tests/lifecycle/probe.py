"""An HTTP probe of a service on every node, and what its answers say about a rolling
restart.

Probe asks each node's URL once a second from a thread of its own (a node that hangs does
not delay the others) and records per request: time, node, ok or the error. analyse() puts
the failures beside each node's engine restart windows (harness.engine_windows): failures
on a node while its own engine restarts are expected (its containers stop); a failure on a
node whose engine was not restarting means the rolling restart disturbed a node it was not
working on, which is what it must never do.

  python3 tests/lifecycle/probe.py --seconds 30 http://10.213.77.11:8081/ ...
prints the samples' summary (for a manual look at a running lab).
"""

import argparse
import json
import threading
import time
import urllib.error
import urllib.request

# A run of failures on a node belongs to the node's own restart when it overlaps the engine's
# down time or comes within this many seconds of it (one probe interval and some jitter):
# upgrade.yml drains a node before stopping its engine, and the node's tasks start again
# only after the engine is back, so such a run is one unbroken outage around the restart.
# Kept short: a node's failures long after its own restart (say, while the next node
# restarts) are exactly what the probe is for.
RESTART_GAP = 3.0
# How long one request may take before it counts as failed. An answer that comes in 2 to 5
# seconds is slow, not lost (a load balancer or a browser waits far longer); a request the
# mesh sends into a black hole still fails. At 2 s a CI run at load 27 counted 4 timeouts
# on nodes whose engines had not yet been touched, a minute before the first restart.
REQUEST_TIMEOUT = 5.0


def ask(url, timeout=REQUEST_TIMEOUT):
    """(ok, error) of one GET: ok means status 200 and a body."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return bool(answer.status == 200 and answer.read()), None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return False, str(getattr(exc, "reason", None) or exc)


class Probe:
    """GET each target once per interval in background threads, between start() and
    stop(); samples: [{t, node, ok, error, ms}]."""

    def __init__(self, targets, interval=1.0, timeout=REQUEST_TIMEOUT):
        self.targets = dict(targets)
        self.interval, self.timeout = interval, timeout
        self.samples = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.loop, args=(node, url), daemon=True)
                        for node, url in self.targets.items()]

    def loop(self, node, url):
        """Ask one node every interval until stopped."""
        while not self.stopping.is_set():
            started = time.time()
            ok, error = ask(url, self.timeout)
            with self.lock:
                self.samples.append({"t": started, "node": node, "ok": ok, "error": error,
                                     "ms": round((time.time() - started) * 1000)})
            self.stopping.wait(max(0.0, self.interval - (time.time() - started)))

    def start(self):
        """Start asking."""
        for thread in self.threads:
            thread.start()
        return self

    def stop(self):
        """Stop asking and return the samples, in time order."""
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=self.timeout + 5)
        with self.lock:
            return sorted(self.samples, key=lambda s: s["t"])

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def failure_runs(samples):
    """{node: [(first, last)]}: the times of each node's runs of consecutive failures."""
    runs, current = {}, {}
    for sample in samples:
        node = sample["node"]
        if sample["ok"]:
            current.pop(node, None)
        elif node in current:
            runs[node][-1] = (current[node], sample["t"])
        else:
            current[node] = sample["t"]
            runs.setdefault(node, []).append((sample["t"], sample["t"]))
    return runs


def restart_windows(engine, runs, end):
    """Each node's restart windows: its engine's down time [stopped, started], widened by
    its own runs of failures that overlap it or come within RESTART_GAP of it (the drain
    before, the tasks starting after). An engine that did not come back is down until
    `end`."""
    windows = {}
    for node, down in engine.items():
        for stopped, started in down:
            start, finish = stopped, started or end
            for first, last in runs.get(node, []):
                if first <= finish + RESTART_GAP and last >= start - RESTART_GAP:
                    start, finish = min(start, first), max(finish, last)
            windows.setdefault(node, []).append((start, finish))
    return windows


def inside(windows, node, moment):
    """True when `moment` falls in one of the node's windows."""
    return any(start <= moment <= finish for start, finish in windows.get(node, []))


def analyse(samples, engine, end=None):
    """The probe's numbers beside the engine windows ({node: [(stopped, started)]}).

    failed_outside_engine_down: failures on a node whose own engine was up (its tasks
    still starting after the restart included); failed_outside_restart (goal 0): the same
    without that tail (or upgrade.yml's drain) of the node's own restart;
    failed_on_others_while_restarting (goal 0): failures on a node while another node's
    engine was down; max_nodes_failing_at_once: in any one second (goal 1).
    Times in per_node are seconds since the first request.
    """
    end = end or (samples[-1]["t"] if samples else time.time())
    origin = samples[0]["t"] if samples else end
    windows = restart_windows(engine, failure_runs(samples), end)
    strict = {node: [(s, e or end) for s, e in down] for node, down in engine.items()}
    failed = [s for s in samples if not s["ok"]]
    outside = [s for s in failed if not inside(windows, s["node"], s["t"])]
    others = [s for s in failed
              if any(inside(strict, node, s["t"]) for node in strict if node != s["node"])]
    return {"total": len(samples), "failed": len(failed),
            "failed_outside_engine_down": sum(1 for s in failed
                                              if not inside(strict, s["node"], s["t"])),
            "failed_outside_restart": len(outside),
            "failed_on_others_while_restarting": len(others),
            "max_nodes_failing_at_once": max_failing(failed),
            "outside_samples": [dict(s, t=round(s["t"] - origin, 1)) for s in outside[:20]],
            "others_samples": [dict(s, t=round(s["t"] - origin, 1)) for s in others[:20]],
            "per_node": per_node(samples, strict, windows, origin)}


def max_failing(failed):
    """The most nodes that failed a request within the same second."""
    seconds = {}
    for sample in failed:
        seconds.setdefault(int(sample["t"]), set()).add(sample["node"])
    return max((len(nodes) for nodes in seconds.values()), default=0)


def per_node(samples, strict, windows, origin):
    """Each node's requests, failures and windows (seconds since `origin`)."""
    def since(pairs):
        return [[round(a - origin, 1), round(b - origin, 1)] for a, b in pairs]
    result = {}
    for node in sorted({s["node"] for s in samples}):
        mine = [s for s in samples if s["node"] == node]
        result[node] = {
            "requests": len(mine), "failed": sum(1 for s in mine if not s["ok"]),
            "engine_down": since(strict.get(node, [])),
            "engine_down_seconds": round(sum(b - a for a, b in strict.get(node, [])), 1),
            "restart_windows": since(windows.get(node, [])),
        }
    return result


def main(argv=None):
    """Probe the URLs for a while and print the summary as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("urls", nargs="+")
    args = parser.parse_args(argv)
    probe = Probe({url: url for url in args.urls}).start()
    time.sleep(args.seconds)
    print(json.dumps(analyse(probe.stop(), {}), indent=2))


if __name__ == "__main__":
    main()
