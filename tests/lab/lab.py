"""The swarmops lab: N bare Debian nodes as systemd containers, reached over SSH.

Used by ``make cluster``, the molecule scenarios and the benchmark. Standard library only,
so it runs before the project's virtualenv exists.

  lab.py engine                    make sure a host Docker engine answers
  lab.py image                     build (or reuse) the node image
  lab.py up   [--name L] [--managers M] [--workers W] [--inventory FILE]
               SWARMOPS_LAB_REGISTRY=1 adds the lab's image registry (see start_registry)
               SWARMOPS_LAB_AUTOLOCK=1 turns autolock on (key in the lab's folder)
  lab.py grow [--name L] [--group swarm_workers] NAME...
  lab.py wipe [--name L] NAME...    reinstall nodes: fresh, same name, address and hostname
  lab.py down [--name L] [--engine]
  lab.py status [--name L]

SWARMOPS_LAB_SUITE picks the Debian release of the nodes: trixie (13, the default) or
bookworm (12); each suite's image is cached under its own recipe hash. SWARMOPS_LAB_BAKED=1
builds the nodes from an image with the roles' packages already installed (docker.io,
glusterfs, ...): for scenarios that do not test installation; the install path stays
tested on bare nodes.

Every object the lab makes carries the label ``swarmops.lab=<name>``; ``down`` removes only
objects with that label, and stops the host dockerd only if this lab started it.
Nodes fetch their packages through one apt cache on the host (aptcache.py).
"""

import argparse
import contextlib
import fcntl
import hashlib
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The host's package cache for the nodes; beside this file (every user of lab.py has this
# folder on sys.path).
import aptcache

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
STATE = Path(os.environ.get("SWARMOPS_LAB_STATE", ROOT / ".lab"))
LABEL = "swarmops.lab"
# Seconds a node may take to boot and answer SSH: a few on a calm machine, but with three
# scenario streams on two cores a grown node once took more than 180.
BOOT_TIMEOUT = 360
IMAGE_REPO = "swarmops-lab-node"
# The Debian releases the roles support; the lab's nodes run SUITE.
SUITES = ("trixie", "bookworm")
SUITE = os.environ.get("SWARMOPS_LAB_SUITE", "trixie")
# What the docker, glusterfs and firewall roles install on Debian (their vars and defaults;
# a unit test keeps the two equal): a baked image has them, so the roles skip the apt run.
ROLE_PACKAGES = ["docker.io", "python3-docker", "apparmor", "glusterfs-server",
                 "glusterfs-client", "nftables"]
# Debian 13's docker.io only recommends its CLI (the docker role installs it there).
SPLIT_CLI = {"trixie": ["docker-cli"]}
# Three managers grown by two workers and two managers: the onboarding test's largest lab.
MAX_NODES = 7
# Node n's engine pool is 10.(110+n).0.0/16: up to 17 it stays below the overlay pool 10.128/16.
MAX_INDEX = 17
# Host-side subnets of the lab bridges: one /24 per lab name slot, far from the
# Docker defaults (172.17-31/16) and from any LAN example of the guides.
DEFAULT_BASE_SUBNET = "10.213.0.0/16"
PACKAGES = [
    "systemd", "systemd-sysv", "dbus", "iproute2", "iputils-ping", "procps",
    "python3", "python3-apt", "openssh-server", "sudo", "ca-certificates", "kmod",
    "netcat-openbsd", "less",
]
MASKED_UNITS = [
    "systemd-udevd.service", "systemd-udevd-control.socket", "systemd-udevd-kernel.socket",
    "systemd-udev-trigger.service", "systemd-udev-settle.service",
    "getty.target", "console-getty.service", "getty@tty1.service",
    "apt-daily.timer", "apt-daily-upgrade.timer", "dpkg-db-backup.timer",
    "e2scrub_all.timer", "fstrim.timer",
    "systemd-modules-load.service", "systemd-remount-fs.service", "systemd-firstboot.service",
    "sys-kernel-debug.mount", "sys-kernel-tracing.mount", "sys-kernel-config.mount",
    "proc-sys-fs-binfmt_misc.automount",
]
# Capabilities the engine 20.10 rejects by name (lab notes); every other capability in the
# host's bounding set is granted, because --privileged fails on hosts lacking one of them.
REJECTED_CAPS = {"BPF", "PERFMON", "CHECKPOINT_RESTORE"}
CAP_NAMES = [
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID",
    "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST",
    "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO",
    "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
    "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE",
    "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
    "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
]
USER = "swarmops"
# The lab registry's login (lab-only, published in the lab inventory like the SSH user).
REGISTRY_USER, REGISTRY_PASSWORD = "lab", "swarmops-lab-registry"
REGISTRY_CONFIG = """version: 0.1
storage:
  filesystem:
    rootdirectory: /var/lib/docker-registry
  delete:
    enabled: true
http:
  addr: :5000
auth:
  htpasswd:
    realm: swarmops-lab
    path: /etc/docker/registry/htpasswd
"""
# In each lab's directory: its SSH key and the host keys its nodes made at first boot.
KEY_FILE = "id_ed25519"
KNOWN_HOSTS = "known_hosts"

# Runs inside the debootstrapped root: turns a minbase into a VM-like node.
IMAGE_SETUP = r"""
set -eu
rm -f /etc/apt/sources.list
for unit in {masked}; do ln -sf /dev/null /etc/systemd/system/$unit; done
mkdir -p /etc/systemd/journald.conf.d
printf '[Journal]\nStorage=volatile\nRuntimeMaxUse=16M\n' > /etc/systemd/journald.conf.d/lab.conf
useradd --create-home --shell /bin/bash {user}
echo '{user} ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/{user}
chmod 0440 /etc/sudoers.d/{user}
mkdir -p /etc/ssh/sshd_config.d
printf 'AuthorizedKeysFile .ssh/authorized_keys /etc/ssh/lab_keys/%%u\nUseDNS no\nPasswordAuthentication no\n' \
  > /etc/ssh/sshd_config.d/lab.conf
rm -f /etc/ssh/ssh_host_*
cat > /etc/systemd/system/lab-firstboot.service <<'UNIT'
[Unit]
Description=Lab node boot: SSH host keys and a plain /etc/hosts like a VM has (kept across reboots)
Before=ssh.service
DefaultDependencies=no
After=local-fs.target
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/bin/ssh-keygen -A
ExecStart=/bin/sh -c 'cp /etc/hosts /run/hosts.lab && umount /etc/hosts || true'
ExecStart=/bin/sh -c '[ -e /var/lib/lab-hosts ] || cp /run/hosts.lab /etc/hosts; touch /var/lib/lab-hosts'
[Install]
WantedBy=multi-user.target
RequiredBy=ssh.service
UNIT
systemctl enable lab-firstboot.service ssh.service
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id
# A baked image: each node makes its own glusterd UUID at first start, as after an install.
rm -f /var/lib/glusterd/glusterd.info
apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
# An empty lists dir with a fresh mtime makes apt's cache_valid_time think the cache is
# fresh; backdate it so the first role run updates the cache, as on a real new host.
touch -d '2000-01-01' /var/lib/apt/lists
"""


# Host-wide, not per checkout: labs of several checkouts or scenarios started at once share
# the host's bridges and its /etc/hosts.
HOST_LOCK = Path(os.environ.get("SWARMOPS_LAB_LOCK",
                                Path(tempfile.gettempdir()) / "swarmops-lab.lock"))


class LabError(Exception):
    """A failure the user can act on; its text names the fix."""


def run(argv, check=True, capture=True, stdin=None, timeout=None):
    """Run argv (never a shell string) with LANG=C and return the CompletedProcess."""
    env = dict(os.environ, LANG="C", LC_ALL="C")
    proc = subprocess.run(argv, input=stdin, text=True, env=env, timeout=timeout,
                          stdout=subprocess.PIPE if capture else None,
                          stderr=subprocess.PIPE if capture else None, check=False)
    if check and proc.returncode != 0:
        raise LabError(f"command failed ({proc.returncode}): {' '.join(argv)}\n"
                       f"{(proc.stderr or '').strip()}")
    return proc


def docker(*args, **kwargs):
    """Run the docker CLI against the host engine."""
    return run(["docker", *args], **kwargs)


def log(msg):
    """Progress goes to stderr so stdout stays parseable."""
    print(f"lab: {msg}", file=sys.stderr, flush=True)


# --- host engine -------------------------------------------------------------------------

def engine_answers():
    """True when `docker info` reaches an engine."""
    try:
        return docker("info", "--format", "{{.ServerVersion}}", check=False,
                      timeout=20).returncode == 0
    except subprocess.TimeoutExpired:
        return False


# Host commands the lab runs, and the Debian package that brings each one.
HOST_COMMANDS = {"dockerd": "docker.io", "debootstrap": "debootstrap", "ip": "iproute2",
                 "ssh-keygen": "openssh-client", "tar": "tar", "chroot": "coreutils"}


def install_host_packages(commands):
    """apt-get install the Debian packages of the missing commands (root only).

    commands: {command: the Debian package that brings it}.
    """
    missing = sorted({pkg for cmd, pkg in commands.items()
                      if not (shutil.which(cmd) or shutil.which(f"/usr/sbin/{cmd}"))})
    if not missing:
        return
    if os.geteuid() != 0:
        raise LabError(f"missing host packages {', '.join(missing)}; run as root or "
                       f"`apt-get install {' '.join(missing)}`")
    log(f"installing {', '.join(missing)} from the Debian mirror")
    env_apt = ["env", "DEBIAN_FRONTEND=noninteractive"]
    run(env_apt + ["apt-get", "update", "-q"], timeout=600)
    run(env_apt + ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing],
        timeout=1200)


def ensure_engine():
    """Make sure a host engine answers, starting dockerd ourselves if none runs."""
    # Everything the lab runs, in one apt-get: a fresh Debian machine has none of it.
    install_host_packages(HOST_COMMANDS)
    if engine_answers():
        return
    STATE.mkdir(parents=True, exist_ok=True)
    log("starting dockerd")
    with open(STATE / "dockerd.log", "ab") as out:
        proc = subprocess.Popen(["dockerd"], stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    (STATE / "dockerd.pid").write_text(str(proc.pid))
    for _attempt in range(120):
        if engine_answers():
            return
        if proc.poll() is not None:
            break
        time.sleep(0.5)
    raise LabError(f"dockerd did not answer; see {STATE / 'dockerd.log'}")


def stop_own_engine():
    """Stop the host dockerd only if this lab started it (by its recorded PID)."""
    pidfile = STATE / "dockerd.pid"
    if not pidfile.exists():
        return
    pid = int(pidfile.read_text())
    try:
        if "dockerd" in Path(f"/proc/{pid}/cmdline").read_text():
            os.kill(pid, 15)
            for _attempt in range(60):
                if not Path(f"/proc/{pid}").exists():
                    break
                time.sleep(0.5)
    except (FileNotFoundError, ProcessLookupError):
        pass
    pidfile.unlink()


# --- node image ---------------------------------------------------------------------------

def host_mirror(suite=None):
    """Return (mirror URI, sources file text for suite, default SUITE) from the host's apt
    sources.

    The host may run another release than the nodes: its sources are the template (the
    same mirrors, hence the same apt cache), with its own codename replaced by SUITE.
    """
    suite = suite or SUITE
    if suite not in SUITES:
        raise LabError(f"Debian suite {suite!r} (SWARMOPS_LAB_SUITE): the lab builds "
                       f"{' or '.join(SUITES)}")
    src = Path("/etc/apt/sources.list.d/debian.sources")
    if src.exists():
        text = retarget_sources(src.read_text(), host_codename(), suite)
        for line in text.splitlines():
            if line.startswith("URIs:"):
                return line.split()[1], text
    mirror = os.environ.get("SWARMOPS_LAB_MIRROR", "http://deb.debian.org/debian")
    text = (f"Types: deb\nURIs: {mirror}\nSuites: {suite} {suite}-updates\n"
            "Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n")
    return mirror, text


def host_codename():
    """The host's Debian codename (VERSION_CODENAME in /etc/os-release), or None."""
    for line in Path("/etc/os-release").read_text().splitlines():
        if line.startswith("VERSION_CODENAME="):
            return line.split("=", 1)[1].strip().strip('"') or None
    return None


def retarget_sources(text, codename, suite):
    """The deb822 sources text with every Suites: entry of the host's codename moved to suite
    (bookworm-updates -> trixie-updates, bookworm-security -> trixie-security)."""
    if not codename or codename == suite:
        return text
    out = []
    for line in text.splitlines():
        if line.startswith("Suites:"):
            line = "Suites: " + " ".join(
                suite + word[len(codename):] if word.split("-")[0] == codename else word
                for word in line.split()[1:])
        out.append(line)
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")


def baked():
    """Whether the lab's image has the roles' packages (SWARMOPS_LAB_BAKED=1)."""
    return os.environ.get("SWARMOPS_LAB_BAKED") == "1"


def role_packages(suite):
    """What the docker and glusterfs roles install on a storage node of suite."""
    return ROLE_PACKAGES + SPLIT_CLI.get(suite, [])


def image_packages(suite):
    """What debootstrap installs: the node's base, plus the roles' packages when baked."""
    return PACKAGES + (role_packages(suite) if baked() else [])


def image_tag(suite):
    """The image tag: a content hash of everything that shapes the image."""
    mirror, sources = host_mirror(suite)
    recipe = json.dumps([suite, image_packages(suite), MASKED_UNITS, IMAGE_SETUP, USER, mirror,
                         sources])
    kind = "baked" if baked() else "bare"
    return f"{IMAGE_REPO}:{suite}-{kind}-{hashlib.sha256(recipe.encode()).hexdigest()[:12]}"


def build_image(suite=None):
    """Build the node image of suite (default SUITE) with debootstrap + docker import,
    unless it is cached; returns its tag."""
    suite = suite or SUITE
    tag = image_tag(suite)
    if docker("image", "inspect", tag, check=False).returncode == 0:
        log(f"image {tag} cached")
        return tag
    install_host_packages(HOST_COMMANDS)
    mirror, sources = host_mirror(suite)
    log(f"building {tag} from {suite} (debootstrap, ~2 min; baked ~3 min)")
    with tempfile.TemporaryDirectory(prefix="swarmops-lab-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        run(["debootstrap", "--variant=minbase", "--include=" + ",".join(image_packages(suite)),
             suite, str(rootfs), mirror], timeout=1800)
        (rootfs / "etc/apt/sources.list.d/debian.sources").write_text(sources)
        script = IMAGE_SETUP.format(masked=" ".join(MASKED_UNITS), user=USER)
        run(["chroot", str(rootfs), "/bin/sh", "-c", script])
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        import_rootfs(tar, tag)
    return tag


def import_rootfs(tar, tag):
    """Feed a running tar's stdout to `docker import`."""
    imp = subprocess.run(["docker", "import", "--change", 'CMD ["/sbin/init"]',
                          "--change", f"LABEL {LABEL}.image=1", "-", tag],
                         stdin=tar.stdout, capture_output=True, text=True, check=False)
    tar.wait()
    if imp.returncode or tar.returncode:
        raise LabError(f"docker import failed: {imp.stderr.strip()}")


# --- network and nodes --------------------------------------------------------------------

def lab_dir(name):
    """Where a lab keeps its key, known_hosts, inventory and recorded layout."""
    return STATE / name


def used_networks():
    """Subnets of every existing engine network and of the host's own routes."""
    nets = []
    ids = docker("network", "ls", "-q").stdout.split()
    if ids:
        for net in json.loads(docker("network", "inspect", *ids).stdout):
            for cfg in (net.get("IPAM") or {}).get("Config") or []:
                if cfg.get("Subnet"):
                    nets.append(ipaddress.ip_network(cfg["Subnet"], strict=False))
    for route in json.loads(run(["ip", "-j", "-4", "route"]).stdout or "[]"):
        if route.get("dst") not in (None, "default"):
            nets.append(ipaddress.ip_network(route["dst"], strict=False))
    return nets


def pick_subnet():
    """An explicit /24 for the lab bridge: SWARMOPS_LAB_SUBNET, or the first free one."""
    wanted = os.environ.get("SWARMOPS_LAB_SUBNET")
    used = used_networks()
    candidates = ([ipaddress.ip_network(wanted)] if wanted else
                  ipaddress.ip_network(DEFAULT_BASE_SUBNET).subnets(new_prefix=24))
    for net in candidates:
        if not any(net.overlaps(other) for other in used):
            return net
    raise LabError("no free lab subnet; set SWARMOPS_LAB_SUBNET to an unused /24")


@contextlib.contextmanager
def host_locked():
    """Serialize what labs change on the host (picking and creating a bridge subnet, the
    controller's /etc/hosts): scenarios may bring up labs at the same time."""
    with open(HOST_LOCK, "a", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def capability_args():
    """--cap-add for every capability in our bounding set the engine accepts."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapBnd:"):
            mask = int(line.split()[1], 16)
    caps = [name for bit, name in enumerate(CAP_NAMES)
            if mask >> bit & 1 and name not in REJECTED_CAPS]
    return [arg for cap in caps for arg in ("--cap-add", cap)]


def node_layout(name, managers, workers, subnet):
    """The nodes of a lab: inventory name, container, hostname, address, group, ranges."""
    groups = ["swarm_managers"] * managers + ["swarm_workers"] * workers
    return [node_entry(name, i, f"node{i}", group, subnet)
            for i, group in enumerate(groups, start=1)]


def node_entry(lab, index, inventory_name, group, subnet):
    """One node's layout; index picks its address and engine ranges."""
    return {
        "name": inventory_name,
        "container": f"swarmops-{lab}-{inventory_name}",
        # Deliberately not the inventory name: roles must map inventory -> node.
        "hostname": f"{lab}-{inventory_name}",
        "address": str(list(subnet.hosts())[10 + index - 1]),
        "group": group,
        # Per-node engine ranges that overlap neither the bridge nor each other.
        "bip": f"10.{100 + index}.0.1/24",
        "pool": f"10.{110 + index}.0.0/16",
    }


def start_node(name, node, network, image, keys):
    """docker run one node as a systemd system container (flags from the lab notes)."""
    docker("run", "-d", "--name", node["container"], "--hostname", node["hostname"],
           "--label", f"{LABEL}={name}", "--network", network, "--ip", node["address"],
           *capability_args(),
           "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
           # /proc/sys writable, as on a VM: engine 26 (Debian 13) sets IPv6 sysctls in each
           # overlay's namespace and fails every task on a read-only /proc/sys ("failed to
           # disable IPv6 on container's interface br0"). CLI-only (the API rejects it).
           "--security-opt", "systempaths=unconfined",
           "--cgroupns=host", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
           "--device", "/dev/fuse", "-v", "/var/lib/docker",
           "--tmpfs", "/run", "--tmpfs", "/run/lock", "--tmpfs", "/tmp",
           "--stop-signal", "SIGRTMIN+3", "--stop-timeout", "30",
           "-v", f"{keys}:/etc/ssh/lab_keys:ro", image)


def registry_entry(lab, subnet):
    """The registry's container and address: the lab's first address below the nodes'."""
    return {"container": f"swarmops-{lab}-registry", "hostname": f"{lab}-registry",
            "address": str(list(subnet.hosts())[9])}


def registry_address(subnet):
    """host:port of the lab's registry, as image names and daemon.json spell it."""
    return f"{list(subnet.hosts())[9]}:5000"


def start_registry(name, network, image, keys, subnet):
    """The lab's image registry: a container beside the nodes (not in the inventory).

    No registry on the internet is reachable here, yet stacks should pull images the way
    real clusters do. Debian's docker-registry package serves them on port 5000, and
    workload_image.py builds the lab images from busybox-static inside the container and
    pushes them over its loopback. Nodes trust it as an insecure registry (inventory
    group_vars: swarmops_lab_registry).
    """
    entry = registry_entry(name, subnet)
    start_node(name, entry, network, image, keys)
    wait_for_node(entry, time.time() + BOOT_TIMEOUT)
    aptcache.setup_lab(STATE, name, network, [entry["container"]], host_mirror()[1])
    docker("exec", entry["container"], "sh", "-c",
           "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -qq -y "
           "--no-install-recommends docker-registry busybox-static apache2-utils >/dev/null",
           timeout=600)
    # Debian's config names a folder as its htpasswd file; ours asks for a login, so the
    # stack module's registry login and --with-registry-auth are exercised for real.
    docker("exec", "-i", entry["container"], "sh", "-c",
           "cat > /etc/docker/registry/config.yml && htpasswd -Bbc "
           f"/etc/docker/registry/htpasswd {REGISTRY_USER} {REGISTRY_PASSWORD} && "
           "systemctl restart docker-registry", stdin=REGISTRY_CONFIG)
    docker("cp", str(HERE / "workload_image.py"), f"{entry['container']}:/root/")
    pushed = docker("exec", "-e", f"REGISTRY_AUTH={REGISTRY_USER}:{REGISTRY_PASSWORD}",
                    entry["container"], "python3", "/root/workload_image.py").stdout
    log(f"registry {registry_address(subnet)}: {' '.join(pushed.split()[1::2])}")


def wait_for_node(node, deadline):
    """Wait until systemd finished booting and sshd accepts TCP on the node's address; on
    timeout, say where the boot stood (its state and the jobs it still waits for)."""
    state = ""
    while time.time() < deadline:
        state = docker("exec", node["container"], "systemctl", "is-system-running",
                       check=False).stdout.strip()
        if state in ("running", "degraded") and aptcache.port_open(node["address"], 22):
            return
        time.sleep(0.5)
    jobs = docker("exec", node["container"], "systemctl", "list-jobs", "--no-pager",
                  check=False).stdout.strip()
    # systemd not answering may be a container that exited: its status and last words.
    status = docker("inspect", "--format", "{{.State.Status}} (exit {{.State.ExitCode}})",
                    node["container"], check=False).stdout.strip()
    logs = docker("logs", "--tail", "15", node["container"], check=False)
    raise LabError(f"{node['container']} did not boot with SSH in time (container: "
                   f"{status or 'gone'}; systemd: {state or 'no answer'}; ssh port open: "
                   f"{aptcache.port_open(node['address'], 22)}; jobs: {jobs[-800:]}; "
                   f"last log lines: {(logs.stdout + logs.stderr)[-1200:]})")


def make_key(ldir):
    """A per-lab SSH key; returns the folder of public keys the nodes authorize (mounted)."""
    key = ldir / KEY_FILE
    if not key.exists():
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"swarmops-{ldir.name}",
             "-f", str(key)])
    keys = ldir / "lab_keys"
    keys.mkdir(mode=0o755, exist_ok=True)
    shutil.copyfile(f"{key}.pub", keys / USER)
    os.chmod(keys / USER, 0o644)
    return keys


def record_host_keys(ldir, nodes):
    """known_hosts from the keys each node generated at first boot: strict checking works,
    whether the inventory names a node by address or by its DNS name."""
    lines = []
    for node in nodes:
        pub = docker("exec", node["container"], "cat",
                     "/etc/ssh/ssh_host_ed25519_key.pub").stdout.split()
        lines.append(f"{node['address']},{dns_name(ldir.name, node)} {pub[0]} {pub[1]}")
    (ldir / KNOWN_HOSTS).write_text("\n".join(lines) + "\n")


def dns_name(lab, node):
    """The name the controller resolves for a node (.test is reserved: never a real host)."""
    return f"{node['name']}.{lab}.swarmops.test"


def write_controller_hosts(lab, nodes):
    """The lab's block in the controller's /etc/hosts, so inventories may use DNS names.

    Rewritten in place: /etc/hosts may be a bind mount that a rename would fail on.
    Lines outside the lab's own markers are kept as they are.
    """
    with host_locked():
        rewrite_hosts_block(lab, nodes)


def rewrite_hosts_block(lab, nodes):
    """The lab's block in the controller's /etc/hosts (call holding host_locked)."""
    begin, end = f"# BEGIN swarmops lab {lab}", f"# END swarmops lab {lab}"
    path = Path(os.environ.get("SWARMOPS_LAB_HOSTS_FILE", "/etc/hosts"))
    lines, inside = [], False
    for line in path.read_text().splitlines():
        if line in (begin, end):
            inside = line == begin
            continue
        if not inside:
            lines.append(line)
    if nodes:
        lines += [begin] + [f"{n['address']} {dns_name(lab, n)}" for n in nodes] + [end]
    with open(path, "r+", encoding="utf-8") as hosts:
        hosts.write("\n".join(lines) + "\n")
        hosts.truncate()


def inventory_tree(ldir, nodes):
    """The lab's inventory as a YAML-inventory tree, shaped like one for real VMs.

    With SWARMOPS_LAB_NAMES=1, ansible_host is each node's DNS name (resolved through the
    controller's /etc/hosts), as in inventories of real hosts. SWARMOPS_LAB_STORAGE adds
    the storage group, or (SWARMOPS_LAB_STORAGE=local) sets swarmops_storage: local.
    """
    by_name = os.environ.get("SWARMOPS_LAB_NAMES") == "1"
    tree = {"all": {"vars": dict(connection_vars(ldir),
                                 swarmops_lab_subnet=str(subnet_of(ldir))),
                    "children": {}}}
    if lab_layout(ldir).get("registry"):
        tree["all"]["vars"].update(swarmops_lab_registry=registry_address(subnet_of(ldir)),
                                   swarmops_lab_registry_user=REGISTRY_USER,
                                   swarmops_lab_registry_password=REGISTRY_PASSWORD)
    if os.environ.get("SWARMOPS_LAB_AUTOLOCK") == "1":
        # Autolock, its key vault-encrypted in the lab's folder with the lab's test vault
        # password (tests/lab/vault-pass, given as ANSIBLE_VAULT_PASSWORD_FILE).
        tree["all"]["vars"].update(swarmops_swarm_autolock=True,
                                   swarmops_swarm_unlock_key_file=str(ldir / "unlock.vault"))
    for group in ("swarm_managers", "swarm_workers"):
        tree["all"]["children"][group] = {"hosts": {
            n["name"]: {"ansible_host": dns_name(ldir.name, n) if by_name else n["address"],
                        "swarmops_lab_bip": n["bip"],
                        "swarmops_lab_pool": n["pool"]}
            for n in nodes if n["group"] == group}}
    spec = os.environ.get("SWARMOPS_LAB_STORAGE", "")
    if spec == "local":
        tree["all"]["vars"]["swarmops_storage"] = "local"
        spec = ""
    storage = {name: hvars for name, hvars in storage_group(spec).items()
               if name in {n["name"] for n in nodes}}
    if storage:
        tree["all"]["children"]["storage"] = {"hosts": storage}
    return tree


def connection_vars(ldir):
    """The all-group vars of every lab inventory (containers and VMs): the lab's SSH user,
    key and known_hosts (strict checking), sudo, Python, and the checkout (the lab's test
    stacks live in it)."""
    return {
        "ansible_user": USER,
        "ansible_become": True,
        "ansible_ssh_private_key_file": str(ldir / KEY_FILE),
        "ansible_ssh_common_args": (f"-o UserKnownHostsFile={ldir / KNOWN_HOSTS} "
                                    "-o StrictHostKeyChecking=yes"),
        "ansible_python_interpreter": "/usr/bin/python3",
        "swarmops_lab_root": str(ROOT),
    }


def lab_layout(ldir):
    """The lab's recorded layout (lab.json)."""
    return json.loads((ldir / "lab.json").read_text())


def subnet_of(ldir):
    """The lab's bridge subnet, as recorded in lab.json."""
    return ipaddress.ip_network(lab_layout(ldir)["subnet"])


def storage_group(spec):
    """The storage group's hosts from SWARMOPS_LAB_STORAGE ("node1,node2,node3:arbiter").

    Unset: no storage group, and the glusterfs role puts bricks on the managers.
    """
    hosts = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _sep, mark = item.partition(":")
        hosts[name] = {"swarmops_glusterfs_arbiter": True} if mark == "arbiter" else {}
    return hosts


def script_inventory(name):
    """The lab's inventory in the form of an inventory script's --list ({} when down)."""
    layout_file = lab_dir(name) / "lab.json"
    if not layout_file.exists():
        return {"_meta": {"hostvars": {}}}
    return script_from_tree(inventory_tree(lab_dir(name),
                                           json.loads(layout_file.read_text())["nodes"]))


def script_from_tree(tree):
    """An inventory script's --list from a YAML-inventory tree ({"all": {vars, children}})."""
    out = {"_meta": {"hostvars": {}}}
    out["all"] = {"vars": tree["all"]["vars"], "children": list(tree["all"]["children"])}
    for group, members in tree["all"]["children"].items():
        out[group] = {"hosts": list(members["hosts"])}
        for host, hvars in members["hosts"].items():
            out["_meta"]["hostvars"].setdefault(host, {}).update(hvars)
    return out


def write_inventory(ldir, nodes):
    """Write the lab's static inventory: hosts.yml beside the lab's group and host vars."""
    return write_inventory_files(ldir, inventory_tree(ldir, nodes), "lab", "tests/lab/lab.py")


def write_inventory_files(ldir, tree, committed, writer):
    """ldir/inventory: hosts.yml from the tree beside links to the committed group_vars and
    host_vars of inventories/<committed>; returns the folder."""
    inv = ldir / "inventory"
    inv.mkdir(exist_ok=True)
    for part in ("group_vars", "host_vars"):
        link = inv / part
        if not link.is_symlink():
            link.symlink_to(ROOT / "inventories" / committed / part)
    # JSON is YAML: one generator serves this file and the inventory script.
    (inv / "hosts.yml").write_text(f"# Written by {writer} up; removed by {Path(writer).name} down.\n"
                                   + json.dumps(tree, indent=2) + "\n")
    return inv


def lab_containers(name, running_only=False):
    """Names of the containers carrying this lab's label."""
    args = ["ps", "--filter", f"label={LABEL}={name}", "--format", "{{.Names}}"]
    return docker(*(args if running_only else args[:1] + ["-a"] + args[1:])).stdout.split()


def registry_wanted(registry=None):
    """Whether a lab gets the registry: the argument, else SWARMOPS_LAB_REGISTRY=1."""
    return os.environ.get("SWARMOPS_LAB_REGISTRY") == "1" if registry is None else registry


def running_as_recorded(name, managers, workers, registry=False):
    """True when the lab has the recorded layout and every node of it runs."""
    layout_file = lab_dir(name) / "lab.json"
    if not layout_file.exists():
        return False
    layout = json.loads(layout_file.read_text())
    running = set(lab_containers(name, running_only=True))
    wanted = {n["container"] for n in layout["nodes"]}
    if layout.get("registry"):
        wanted.add(registry_entry(name, ipaddress.ip_network(layout["subnet"]))["container"])
    return (layout["managers"], layout["workers"], bool(layout.get("registry"))) == \
        (managers, workers, registry) and running == wanted


def start_lab(name, managers, workers, registry=False):
    """Network, nodes, host keys and inventory of a new lab; returns the inventory dir."""
    image = build_image()
    ldir = lab_dir(name)
    ldir.mkdir(parents=True, exist_ok=True)
    keys = make_key(ldir)
    network = f"swarmops-{name}"
    with host_locked():
        subnet = pick_subnet()
        docker("network", "create", "--driver", "bridge", "--subnet", str(subnet),
               "--label", f"{LABEL}={name}", network)
    nodes = node_layout(name, managers, workers, subnet)
    (ldir / "lab.json").write_text(json.dumps({"managers": managers, "workers": workers,
                                               "subnet": str(subnet), "network": network,
                                               "image": image, "nodes": nodes}, indent=2))
    for node in nodes:
        start_node(name, node, network, image, keys)
    deadline = time.time() + BOOT_TIMEOUT
    for node in nodes:
        wait_for_node(node, deadline)
    # Before anything installs on the nodes; warns and leaves them direct if it cannot.
    aptcache.setup_lab(STATE, name, network, [n["container"] for n in nodes], host_mirror()[1])
    if registry:
        start_registry(name, network, image, keys, subnet)
        layout = lab_layout(ldir)
        (ldir / "lab.json").write_text(json.dumps(dict(layout, registry=True), indent=2))
    record_host_keys(ldir, nodes)
    write_controller_hosts(name, nodes)
    log(f"lab {name} up: {len(nodes)} nodes on {subnet}")
    return write_inventory(ldir, nodes)


def up(name, managers, workers, recreate=False, registry=None):
    """Bring up a lab of managers + workers nodes (reusing a running one) and its inventory;
    with registry (default: SWARMOPS_LAB_REGISTRY=1) the lab's image registry too."""
    if not 1 <= managers + workers <= MAX_NODES or managers < 0 or workers < 0:
        raise LabError(f"a lab has 1 to {MAX_NODES} nodes")
    registry = registry_wanted(registry)
    ensure_engine()
    if not recreate and running_as_recorded(name, managers, workers, registry):
        log(f"lab {name} already up")
        return lab_dir(name) / "inventory"
    down(name)
    return start_lab(name, managers, workers, registry)


def grow(name, group, names, suite=None):
    """Add bare nodes to a running lab, as a user adds hosts to an inventory; with suite,
    nodes of that Debian release instead of the lab's own (a mixed cluster)."""
    ldir = lab_dir(name)
    layout_file = ldir / "lab.json"
    if not layout_file.exists():
        raise LabError(f"lab {name} is not up; start it with `lab.py up --name {name}`")
    layout = json.loads(layout_file.read_text())
    taken = {n["name"] for n in layout["nodes"]}
    if taken & set(names) or len(taken) + len(names) > MAX_NODES:
        raise LabError(f"lab {name} has {sorted(taken)}; names must be new and the lab "
                       f"at most {MAX_NODES} nodes")
    subnet = ipaddress.ip_network(layout["subnet"])
    # After forget, indexes have gaps: a new node never takes a removed one's address (the
    # swarm and the pool may still hold it).
    last = max([node_index(n) for n in layout["nodes"]] + [layout.get("last_index", 0)])
    if last + len(names) > MAX_INDEX:
        raise LabError(f"lab {name} has used node indexes up to {last}; its engine ranges "
                       f"end at {MAX_INDEX}: start a new lab")
    new = [node_entry(name, last + i, node_name, group, subnet)
           for i, node_name in enumerate(names, start=1)]
    image = build_image(suite) if suite else layout["image"]
    try:
        for node in new:
            start_node(name, node, layout["network"], image, ldir / "lab_keys")
        deadline = time.time() + BOOT_TIMEOUT
        for node in new:
            wait_for_node(node, deadline)
    except LabError:
        # Not in the layout yet: left running they would hold the addresses the next grow
        # gives out ("Address already in use").
        docker("rm", "-f", "-v", *[n["container"] for n in new], check=False)
        raise
    aptcache.setup_lab(STATE, name, layout["network"], [n["container"] for n in new],
                       host_mirror()[1])
    layout["nodes"] += new
    layout["last_index"] = max(node_index(n) for n in layout["nodes"])
    key = "managers" if group == "swarm_managers" else "workers"
    layout[key] += len(new)
    layout_file.write_text(json.dumps(layout, indent=2))
    # Only the new nodes' keys: another node of the lab may be stopped.
    replace_host_keys(ldir, new)
    write_controller_hosts(name, layout["nodes"])
    log(f"lab {name} grew by {', '.join(names)} ({group})")
    return write_inventory(ldir, layout["nodes"])


def node_index(node):
    """The index node_entry gave a node, read back from its address."""
    return int(node["address"].rsplit(".", 1)[1]) - 10


def named_nodes(name, names):
    """(lab folder, layout, the layout's nodes of those names) of a running lab."""
    ldir = lab_dir(name)
    layout_file = ldir / "lab.json"
    if not layout_file.exists():
        raise LabError(f"lab {name} is not up")
    layout = json.loads(layout_file.read_text())
    nodes = [n for n in layout["nodes"] if n["name"] in names]
    if len(nodes) != len(set(names)):
        raise LabError(f"lab {name} has {sorted(n['name'] for n in layout['nodes'])}")
    return ldir, layout, nodes


def forget(name, names):
    """Remove nodes from a running lab and its inventory, as a user retires hosts: their
    containers go (a dead host does not come back) and they leave the inventory."""
    ldir, layout, gone = named_nodes(name, names)
    layout_file = ldir / "lab.json"
    docker("rm", "-f", "-v", *[n["container"] for n in gone])
    layout["last_index"] = max([node_index(n) for n in layout["nodes"]]
                               + [layout.get("last_index", 0)])
    layout["nodes"] = [n for n in layout["nodes"] if n["name"] not in names]
    for node in gone:
        layout["managers" if node["group"] == "swarm_managers" else "workers"] -= 1
    layout_file.write_text(json.dumps(layout, indent=2))
    drop_host_keys(ldir, gone)
    write_controller_hosts(name, layout["nodes"])
    log(f"lab {name} forgot {', '.join(names)}")
    return write_inventory(ldir, layout["nodes"])


def wipe(name, names):
    """Reinstall nodes, as a user reinstalls a host under the same inventory name: each
    node's container and its disks (/var/lib/docker) go, and a fresh bare node starts from
    the lab image with the same container name, address, hostname and authorized key. Like
    a reinstalled host it makes a new SSH host key, which the lab's known_hosts records."""
    ldir, layout, nodes = named_nodes(name, names)
    for node in nodes:
        docker("rm", "-f", "-v", node["container"])
        start_node(name, node, layout["network"], layout["image"], ldir / "lab_keys")
    deadline = time.time() + BOOT_TIMEOUT
    for node in nodes:
        wait_for_node(node, deadline)
    aptcache.setup_lab(STATE, name, layout["network"], [n["container"] for n in nodes],
                       host_mirror()[1])
    replace_host_keys(ldir, nodes)
    log(f"lab {name} wiped {', '.join(names)}")
    return write_inventory(ldir, layout["nodes"])


def drop_host_keys(ldir, nodes):
    """Remove the known_hosts lines of nodes that left the lab; the others stay as they are
    (reading them again would fail on a stopped node)."""
    gone = {node["address"] for node in nodes}
    path = ldir / KNOWN_HOSTS
    kept = [line for line in path.read_text().splitlines() if line.split(",", 1)[0] not in gone]
    path.write_text("\n".join(kept) + "\n")


def replace_host_keys(ldir, nodes):
    """Record the host keys of new or reinstalled nodes in place of any older lines for
    their addresses; the other lines stay, so this works while another node is stopped."""
    drop_host_keys(ldir, nodes)
    lines = (ldir / KNOWN_HOSTS).read_text().splitlines()
    for node in nodes:
        pub = docker("exec", node["container"], "cat",
                     "/etc/ssh/ssh_host_ed25519_key.pub").stdout.split()
        lines.append(f"{node['address']},{dns_name(ldir.name, node)} {pub[0]} {pub[1]}")
    (ldir / KNOWN_HOSTS).write_text("\n".join(lines) + "\n")


def down(name, engine=False):
    """Remove this lab's containers (with their anonymous volumes), network and state."""
    if engine_answers():
        containers = lab_containers(name)
        if containers:
            docker("rm", "-f", "-v", *containers)
        nets = docker("network", "ls", "-q", "--filter", f"label={LABEL}={name}").stdout.split()
        if nets:
            docker("network", "rm", *nets)
    ldir = lab_dir(name)
    if ldir.exists():
        shutil.rmtree(ldir)
    write_controller_hosts(name, [])
    aptcache.teardown_lab(STATE, name)
    if engine:
        aptcache.stop_cache(STATE)
        stop_own_engine()


def status(name):
    """The recorded layout with each node's container state."""
    layout_file = lab_dir(name) / "lab.json"
    if not layout_file.exists():
        return {"name": name, "up": False}
    layout = json.loads(layout_file.read_text())
    running = set(lab_containers(name, running_only=True))
    for node in layout["nodes"]:
        node["running"] = node["container"] in running
    layout.update(name=name, up=all(n["running"] for n in layout["nodes"]),
                  inventory=str(lab_dir(name) / "inventory"))
    return layout


def parse_args(argv):
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("engine", help="make sure a host Docker engine answers")
    sub.add_parser("image", help="build or reuse the node image; prints its tag")
    p_up = sub.add_parser("up", help="start a lab and write its inventory")
    p_up.add_argument("--managers", type=int, default=3)
    p_up.add_argument("--workers", type=int, default=0)
    p_up.add_argument("--recreate", action="store_true", help="start from fresh nodes")
    p_down = sub.add_parser("down", help="remove what the lab created")
    p_down.add_argument("--engine", action="store_true",
                        help="also stop the host dockerd if the lab started it")
    p_grow = sub.add_parser("grow", help="add bare nodes to a running lab")
    p_grow.add_argument("--group", choices=["swarm_managers", "swarm_workers"],
                        default="swarm_workers")
    p_grow.add_argument("--suite", choices=SUITES,
                        help="Debian release of the new nodes (default: the lab's)")
    p_grow.add_argument("names", nargs="+", help="inventory names of the new nodes")
    p_forget = sub.add_parser("forget",
                              help="remove nodes from a running lab and its inventory")
    p_forget.add_argument("names", nargs="+", help="inventory names of the nodes")
    p_wipe = sub.add_parser("wipe", help="reinstall nodes: fresh bare nodes under the same "
                                         "name, address and hostname")
    p_wipe.add_argument("names", nargs="+", help="inventory names of the nodes")
    sub.add_parser("status", help="print the lab's layout as JSON")
    for p in (p_up, p_down, p_grow, p_forget, p_wipe, sub.choices["status"]):
        p.add_argument("--name", default=os.environ.get("SWARMOPS_LAB_NAME", "lab"))
    return parser.parse_args(argv)


def main(argv=None):
    """Dispatch a lab command; LabError becomes a one-line message and exit 1."""
    args = parse_args(argv)
    try:
        if args.cmd == "engine":
            ensure_engine()
        elif args.cmd == "image":
            ensure_engine()
            print(build_image())
        elif args.cmd == "grow":
            print(grow(args.name, args.group, args.names, args.suite))
        elif args.cmd == "forget":
            print(forget(args.name, args.names))
        elif args.cmd == "wipe":
            print(wipe(args.name, args.names))
        elif args.cmd == "up":
            print(up(args.name, args.managers, args.workers, args.recreate))
        elif args.cmd == "down":
            down(args.name, args.engine)
        else:
            print(json.dumps(status(args.name), indent=2))
    except LabError as err:
        print(f"lab: error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
