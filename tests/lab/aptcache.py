"""The lab's package cache: one apt-cacher-ng on the host for the nodes of every lab.

Every fresh lab node apt-installs docker.io (and later glusterfs) from the Debian mirror; with
this cache each .deb crosses the network once per machine instead of once per node and lab.
Standard library only, like lab.py, which calls in at a few points:

  setup_lab(state, lab, network, containers, sources)   after nodes boot (up, grow)
  teardown_lab(state, lab)                               on `lab.py down`
  stop_cache(state)                                      on `lab.py down --engine`

What runs on the host, each started by the lab with its PID recorded under <state>/aptcache/:

- apt-cacher-ng, bound to 127.0.0.1 only, with its own config (rewritten at each start) and
  its cache in .cache/aptcache/ (kept across labs). It serves only the Debian mirrors of the
  sources the nodes use (ForceManaged, no CONNECT, no redirects): not an open proxy.
- per lab, a relay bound to the lab bridge's gateway address (port 3142, or the next free
  one) that accepts connections from the lab's subnet only and pipes them to the cache.
  A relay per lab, rather than apt-cacher-ng bound to every gateway, because apt-cacher-ng
  binds its addresses once at start: adding a lab's gateway would mean restarting it under
  the downloads of the labs already running.

Nodes get /etc/apt/apt.conf.d/01swarmops-lab-proxy naming their gateway. When the cache
cannot be started the lab logs a warning and the nodes fetch from the mirror directly.
SWARMOPS_LAB_APTCACHE=0 turns the cache off.

  python3 tests/lab/aptcache.py stats    bytes fetched from the mirror and served to nodes
  python3 tests/lab/aptcache.py stop     stop the cache (if the lab started it and no lab uses it)
"""

import argparse
import contextlib
import fcntl
import ipaddress
import json
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CACHE_DIR = Path(os.environ.get("SWARMOPS_LAB_APTCACHE_DIR", ROOT / ".cache" / "aptcache"))
DAEMON = "apt-cacher-ng"
# The system user Debian's package creates; the daemon runs as it when the lab runs as root.
DAEMON_USER = "apt-cacher-ng"
PROXY_FILE = "/etc/apt/apt.conf.d/01swarmops-lab-proxy"
# apt-cacher-ng's usual port first; the next ones when the host already uses it (a host
# with systemd starts Debian's own apt-cacher-ng service on *:3142 when the package lands).
NODE_PORTS = range(3142, 3152)
# The daemon's own port on 127.0.0.1 (the relays connect to it).
LOCAL_PORTS = range(13142, 13242)
CACHE_CONF = """\
# Written by tests/lab/aptcache.py at each start of the lab's package cache.
CacheDir: {cache}
LogDir: {logs}
SupportDir: /usr/lib/apt-cacher-ng
SocketPath: {run}/socket
BindAddress: 127.0.0.1
Port: {port}
ForeGround: 1
UnbufferLogs: 1
VerboseLog: 1
ExThreshold: 4
# Serve only the mirrors of the nodes' sources (the Remap lines): not an open proxy.
ForceManaged: 1
RedirMax: 0
AllowUserPorts: 80
PassThroughPattern: ^$
"""


class CacheError(Exception):
    """Why the cache is not used; the lab logs it as a warning and goes direct."""


def log(msg):
    """Progress goes to stderr, like lab.py's."""
    print(f"lab: {msg}", file=sys.stderr, flush=True)


def run(argv, timeout=120):
    """Run argv with LANG=C; return stdout, raise CacheError on failure."""
    env = dict(os.environ, LANG="C", LC_ALL="C", DEBIAN_FRONTEND="noninteractive")
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout,
                          check=False)
    if proc.returncode:
        raise CacheError(f"{' '.join(argv)} failed: {proc.stderr.strip()[-300:]}")
    return proc.stdout


# --- what lab.py calls ----------------------------------------------------------------------

# What setting up the cache can raise; each caller warns and goes on without it.
CACHE_ERRORS = (CacheError, OSError, ValueError, LookupError, subprocess.SubprocessError)


def wanted():
    """False when SWARMOPS_LAB_APTCACHE=0 turns the cache off."""
    return os.environ.get("SWARMOPS_LAB_APTCACHE", "1") != "0"


def ensure_cache_for(state, sources):
    """The cache serving the http mirrors of these apt sources; its port on 127.0.0.1.
    Call it holding locked(state). The VM lab's guests use it through a port forward."""
    mirrors = http_mirrors(sources)
    if not mirrors:
        raise CacheError("the nodes' apt sources name no http mirror")
    return ensure_cache(state, mirrors)


def setup_lab(state, lab, network, containers, sources):
    """Point a lab's new nodes at the host cache; on any failure warn and leave them direct.

    state: the lab state dir; network: the lab's bridge network; containers: the nodes to
    configure; sources: the apt sources text the nodes have. Returns True when they use it.
    """
    if not wanted():
        return False
    try:
        with locked(state):
            backend = ensure_cache_for(state, sources)
            gateway, port = ensure_relay(state, lab, network, backend)
        for container in containers:
            write_proxy_file(container, gateway, port)
    except CACHE_ERRORS as err:
        # The cache only saves downloads: a lab without it still works, as before.
        log(f"warning: no package cache ({err}); nodes fetch from the mirror directly")
        return False
    log(f"nodes of {lab} fetch packages through the cache at {gateway}:{port}")
    return True


def teardown_lab(state, lab):
    """Stop the lab's relay (by its recorded PID); the cache keeps serving other labs."""
    stop_recorded(relay_pidfile(state, lab), "aptcache.py")
    with contextlib.suppress(FileNotFoundError):
        (cache_state(state) / f"relay-{lab}.log").unlink()


def stop_cache(state):
    """Stop apt-cacher-ng if the lab started it and no running lab's relay still uses it.

    Labs of other users may share the machine: stopping the cache under their apt runs
    would fail them. Relays whose lab network is gone are stopped as leftovers.
    """
    users = []
    for pidfile in sorted(cache_state(state).glob("relay-*.pid")):
        lab = pidfile.name[len("relay-"):-len(".pid")]
        if relay_in_use(pidfile, lab):
            users.append(lab)
        else:
            teardown_lab(state, lab)
    if users:
        log(f"package cache left running: labs {', '.join(users)} use it")
        return
    if stop_recorded(cache_state(state) / f"{DAEMON}.pid", DAEMON):
        log("package cache stopped")


# --- processes and state --------------------------------------------------------------------

def cache_state(state):
    """Where the cache keeps its config, logs and PIDs (beside dockerd.pid)."""
    return Path(state) / "aptcache"


def relay_pidfile(state, lab):
    """The recorded PID of a lab's relay."""
    return cache_state(state) / f"relay-{lab}.pid"


@contextlib.contextmanager
def locked(state):
    """One lab at a time starts the cache: two daemons must never share the cache dir."""
    cache_state(state).mkdir(parents=True, exist_ok=True)
    with open(cache_state(state) / "lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def recorded_pid(pidfile, marker):
    """The PID in pidfile if that process still runs and its command line has marker."""
    try:
        pid = int(pidfile.read_text().split()[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except (OSError, ValueError, IndexError):
        return None
    # A recycled PID belongs to someone else: never signal it.
    return pid if marker in cmdline else None


def stop_recorded(pidfile, marker):
    """SIGTERM the recorded process (only ours, checked by marker); True if one was stopped."""
    pid = recorded_pid(pidfile, marker)
    if pid:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 15)
        for _attempt in range(40):
            if not Path(f"/proc/{pid}").exists():
                break
            time.sleep(0.25)
    with contextlib.suppress(FileNotFoundError):
        pidfile.unlink()
    return pid is not None


def network_exists(network):
    """True when the engine has this network (False too when no engine answers)."""
    try:
        return subprocess.run(["docker", "network", "inspect", network], capture_output=True,
                              timeout=20, check=False).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def relay_in_use(pidfile, lab):
    """True when the lab's relay runs and its lab network still exists."""
    try:
        network = relay_record(pidfile).get("network", f"swarmops-{lab}")
    except (OSError, ValueError, KeyError):
        return False
    return bool(recorded_pid(pidfile, "aptcache.py")) and network_exists(network)


def relay_record(pidfile):
    """What a relay's pid file records: pid, gateway, port, backend port and network."""
    fields = pidfile.read_text().split()
    record = dict(zip(["pid", "gateway", "port", "backend", "network"], fields))
    for key in ("pid", "port", "backend"):
        record[key] = int(record[key])
    return record


def port_open(address, port):
    """True when a TCP connect succeeds."""
    try:
        with socket.create_connection((address, port), timeout=1):
            return True
    except OSError:
        return False


# --- the cache daemon -----------------------------------------------------------------------

def http_mirrors(sources):
    """The http URIs of apt sources text (deb822 or one-line); https ones apt fetches direct."""
    uris = []
    for line in sources.splitlines():
        words = line.split()
        if words[:1] == ["URIs:"]:
            uris += words[1:]
        elif words[:1] in (["deb"], ["deb-src"]):
            uris += [w for w in words[1:] if "://" in w][:1]
    return sorted({u.rstrip("/") for u in uris if u.startswith("http://")})


def remap_lines(mirrors):
    """One Remap per mirror URI: requests for it are cached and fetched from it, no other.

    The repository name (the cache's folder) comes from the URI, so it stays the same
    whatever other mirrors the host lists.
    """
    lines = []
    for uri in mirrors:
        where = uri[len("http://"):]
        lines.append(f"Remap-{re.sub('[^A-Za-z0-9]+', '_', where)}: {where} ; {uri}\n")
    return "".join(lines)


def install_daemon():
    """The apt-cacher-ng binary, apt-installed from the host's mirror if missing (root only)."""
    binary = shutil.which(DAEMON) or shutil.which(f"/usr/sbin/{DAEMON}")
    if binary:
        return binary
    if os.geteuid() != 0:
        raise CacheError(f"{DAEMON} is not installed; run as root or `apt-get install {DAEMON}`")
    log(f"installing {DAEMON} from the Debian mirror")
    # An update only when the package lists do not know it yet (a fresh machine).
    policy = run(["apt-cache", "policy", DAEMON])
    if "Candidate:" not in policy or "Candidate: (none)" in policy:
        run(["apt-get", "update", "-q"], timeout=600)
    run(["apt-get", "install", "-y", "-q", "--no-install-recommends", DAEMON], timeout=600)
    binary = shutil.which(DAEMON) or shutil.which(f"/usr/sbin/{DAEMON}")
    if not binary:
        raise CacheError(f"{DAEMON} installed but not found")
    return binary


def free_local_port(first=None):
    """A free TCP port on 127.0.0.1 for the daemon (nodes reach it only through a relay).

    Not an ephemeral port: apt-cacher-ng 3.7 fails to bind any port above 32767 ("Error
    resolving address for binding"); and not its unix socket, on which 3.7 answers nothing.
    """
    for port in ([first] if first else []) + list(LOCAL_PORTS):
        with socket.socket() as probe:
            # As the daemon binds: a port whose last connections linger in TIME_WAIT is free.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise CacheError(f"ports {LOCAL_PORTS.start}-{LOCAL_PORTS.stop - 1} on 127.0.0.1 are taken")


def daemon_user(paths):
    """Popen user/group kwargs: the package's system user when we are root and it can reach
    every path (a network-facing daemon need not run as root); else {} (run as ourselves)."""
    if os.geteuid() != 0:
        return {}
    try:
        entry = pwd.getpwnam(DAEMON_USER)
    except KeyError:
        return {}
    for path in paths:
        for parent in Path(path).resolve().parents:
            if not parent.stat().st_mode & stat.S_IXOTH:
                return {}
    for path in paths:
        for folder, _dirs, files in os.walk(path):
            for item in (folder, *(os.path.join(folder, f) for f in files)):
                # Files left by a run as root; lchown: the cache keeps symlinks.
                with contextlib.suppress(FileNotFoundError):
                    if os.lstat(item).st_uid != entry.pw_uid:
                        os.lchown(item, entry.pw_uid, entry.pw_gid)
    return {"user": entry.pw_uid, "group": entry.pw_gid}


def ensure_cache(state, mirrors):
    """Make sure our apt-cacher-ng answers on 127.0.0.1; return its port."""
    cstate = cache_state(state)
    pidfile, portfile = cstate / f"{DAEMON}.pid", cstate / f"{DAEMON}.port"
    if recorded_pid(pidfile, DAEMON) and portfile.exists():
        port = int(portfile.read_text())
        if port_open("127.0.0.1", port):
            return port
        stop_recorded(pidfile, DAEMON)
    binary = install_daemon()
    # The port of the last run first: relays of running labs still point there.
    port = free_local_port(int(portfile.read_text()) if portfile.exists() else None)
    dirs = {"conf": cstate / "conf", "logs": cstate / "logs", "run": cstate / "run"}
    for path in (*dirs.values(), CACHE_DIR):
        path.mkdir(parents=True, exist_ok=True)
    (dirs["conf"] / "acng.conf").write_text(
        CACHE_CONF.format(cache=CACHE_DIR, port=port, **dirs) + remap_lines(mirrors))
    owner = daemon_user([CACHE_DIR, *dirs.values()])
    log(f"starting {DAEMON} (cache {CACHE_DIR})")
    with open(cstate / f"{DAEMON}.out", "ab") as out:
        proc = subprocess.Popen([binary, "-c", str(dirs["conf"])], stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                **owner)
    pidfile.write_text(str(proc.pid))
    portfile.write_text(str(port))
    for _attempt in range(40):
        if port_open("127.0.0.1", port):
            return port
        if proc.poll() is not None:
            break
        time.sleep(0.25)
    stop_recorded(pidfile, DAEMON)
    raise CacheError(f"{DAEMON} did not answer; see {cstate / (DAEMON + '.out')}")


# --- the per-lab relay ------------------------------------------------------------------------

def bridge_gateway(network):
    """(gateway address, subnet) of a lab network: the host's own address on its bridge."""
    out = run(["docker", "network", "inspect", network, "--format", "{{json .IPAM.Config}}"])
    cfg = json.loads(out)[0]
    subnet = ipaddress.ip_network(cfg["Subnet"])
    if cfg.get("Gateway"):
        return cfg["Gateway"], subnet
    # Engines that pick the gateway themselves do not report it: find it on the host.
    for link in json.loads(run(["ip", "-j", "-4", "addr", "show"]) or "[]"):
        for addr in link.get("addr_info", []):
            if ipaddress.ip_address(addr["local"]) in subnet:
                return addr["local"], subnet
    raise CacheError(f"no host address on the bridge of {network}")


def bind_node_port(gateway):
    """A listening socket on the gateway at the first free port of NODE_PORTS."""
    for port in NODE_PORTS:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((gateway, port))
        except OSError:
            sock.close()
            continue
        sock.listen(64)
        return sock, port
    raise CacheError(f"ports {NODE_PORTS.start}-{NODE_PORTS.stop - 1} on {gateway} are taken")


def ensure_relay(state, lab, network, backend):
    """Make sure the lab's relay runs on its gateway; return (gateway, port) for nodes."""
    gateway, subnet = bridge_gateway(network)
    pidfile = relay_pidfile(state, lab)
    if recorded_pid(pidfile, "aptcache.py"):
        was = relay_record(pidfile)
        if (was["gateway"], was["backend"]) == (gateway, backend) and \
                port_open(gateway, was["port"]):
            return gateway, was["port"]
        stop_recorded(pidfile, "aptcache.py")
    # Bound here, so a taken port shows at once; the relay inherits the listening socket.
    sock, port = bind_node_port(gateway)
    with sock, open(cache_state(state) / f"relay-{lab}.log", "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "relay", f"--lab={lab}",
             f"--fd={sock.fileno()}", f"--subnet={subnet}", f"--backend={backend}"],
            pass_fds=[sock.fileno()], stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True)
    pidfile.write_text(f"{proc.pid} {gateway} {port} {backend} {network}\n")
    return gateway, port


def write_proxy_file(container, gateway, port):
    """The node's apt proxy: the cache through its own lab's gateway (https stays direct)."""
    text = (f"// Written by tests/lab/lab.py: apt fetches through the lab's package cache.\n"
            f'Acquire::http::Proxy "http://{gateway}:{port}";\n'
            'Acquire::https::Proxy "DIRECT";\n')
    proc = subprocess.run(["docker", "exec", "-i", container, "sh", "-c",
                           f"cat > {PROXY_FILE}.tmp && mv {PROXY_FILE}.tmp {PROXY_FILE}"],
                          input=text, capture_output=True, text=True, timeout=60, check=False)
    if proc.returncode:
        raise CacheError(f"writing {PROXY_FILE} in {container}: {proc.stderr.strip()}")


def relay(listener, subnet, backend):
    """Accept connections from the lab's subnet only and pipe each to the cache."""
    while True:
        try:
            conn, peer = listener.accept()
        except OSError:
            # Out of file descriptors, say: the nodes retry; the relay must not die.
            time.sleep(0.5)
            continue
        if ipaddress.ip_address(peer[0]) not in subnet:
            # Another bridge's node, or anything else routed here: not this lab's client.
            conn.close()
            continue
        threading.Thread(target=pipe_pair, args=(conn, backend), daemon=True).start()


def pipe_pair(client, backend):
    """Copy bytes both ways between a node's connection and the cache until both end."""
    try:
        upstream = socket.create_connection(("127.0.0.1", backend), timeout=10)
    except OSError:
        client.close()
        return
    upstream.settimeout(None)
    back = threading.Thread(target=pump, args=(upstream, client), daemon=True)
    back.start()
    pump(client, upstream)
    back.join()
    client.close()
    upstream.close()


def pump(src, dst):
    """Copy src to dst; at src's end (or an error) end both directions so the peer pump ends."""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)
    except OSError:
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


# --- command line ---------------------------------------------------------------------------

def stats(state):
    """Bytes apt-cacher-ng fetched from the mirror (I) and served to nodes (O), from its log."""
    totals = {"fetched_from_mirror": 0, "served_to_nodes": 0, "files_served": 0}
    logfile = cache_state(state) / "logs" / "apt-cacher.log"
    lines = logfile.read_text(errors="replace").splitlines() if logfile.exists() else []
    for line in lines:
        fields = line.split("|")
        if len(fields) >= 3 and fields[2].isdigit():
            if fields[1] == "I":
                totals["fetched_from_mirror"] += int(fields[2])
            elif fields[1] == "O":
                totals["served_to_nodes"] += int(fields[2])
                totals["files_served"] += 1
    return totals


def main(argv=None):
    """relay (run by the lab), stats, stop."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cmd", choices=["relay", "stats", "stop"])
    parser.add_argument("--state", default=os.environ.get("SWARMOPS_LAB_STATE",
                                                          str(ROOT / ".lab")))
    parser.add_argument("--lab")
    parser.add_argument("--fd", type=int)
    parser.add_argument("--subnet")
    parser.add_argument("--backend", type=int)
    args = parser.parse_args(argv)
    if args.cmd == "relay":
        with socket.socket(fileno=args.fd) as listener:
            relay(listener, ipaddress.ip_network(args.subnet), args.backend)
    elif args.cmd == "stats":
        print(json.dumps(stats(args.state), indent=2))
    else:
        stop_cache(args.state)
    return 0


if __name__ == "__main__":
    sys.exit(main())
