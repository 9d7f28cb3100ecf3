"""The VM lab: N Debian bookworm guests under QEMU, each with its own kernel, reached over SSH.

Used by the molecule scenario `vm` (`make test-vm`). Where the container lab (tests/lab)
shares the host's kernel, these guests boot their own: the engine, glusterd, iptables,
overlay and FUSE modules, fstab mounts at boot and reboots are the guest's own.
Standard library only, like lab.py, whose helpers it shares.

  vm.py image                      build (or reuse) the guest disk image
  vm.py up   [--name L] [--managers M] [--workers W] [--recreate]
  vm.py down [--name L] [--cache]
  vm.py status [--name L]

The image: debootstrap (from the host's Debian mirror) into a folder, with the kernel and
the packages the roles install baked in (software emulation makes installing them in the
guests take about 20 minutes), written into an ext4 disk image without mounting anything
(`mkfs.ext4 -d`) and converted to qcow2; the kernel and initrd are copied out of its /boot
and booted directly. It is cached under a hash of its recipe in .cache/vm/. Each guest
boots from a copy-on-write overlay of it.

The network, each guest with two NICs and nothing else:
- NAT (QEMU user networking with restrict=on): the guest reaches no host and no outside
  address; SSH comes in through a port forward on 127.0.0.1, and 10.0.2.100:3142 is
  forwarded to the lab's apt cache on the host's loopback (aptcache.py), which serves only
  the host's Debian mirror.
- cluster: a VDE switch (a user-space switch on a unix socket) linking the guests only;
  each guest has a fixed address there, which the inventory gives as swarmops_node_address.

Per-guest settings (hostname, cluster address, the lab's SSH key, the apt proxy) go on the
kernel command line, read by a boot unit in the image, the way a cloud image reads its
seed. The guest prints its SSH host key on its serial console, which the lab logs to a
file: the lab's known_hosts comes from there, so SSH checks host keys strictly.
Every process the lab starts (QEMU per guest, the switch) has its PID recorded and is
stopped by that PID only.
"""

import argparse
import hashlib
import ipaddress
import json
import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "lab"))
# pylint: disable=wrong-import-position
import aptcache  # noqa: E402
import lab  # noqa: E402
from lab import LabError, log, run  # noqa: E402

ROOT = HERE.parents[1]
STATE = lab.STATE
CACHE = Path(os.environ.get("SWARMOPS_VM_CACHE", ROOT / ".cache" / "vm"))
SUITE = lab.SUITE
USER = lab.USER
# Guests' cluster network: only on the lab's own VDE switch, never routed anywhere.
CLUSTER_SUBNET = ipaddress.ip_network(os.environ.get("SWARMOPS_VM_SUBNET", "10.214.0.0/24"))
# The guest side of the NAT: the apt cache's forwarded address inside it.
APT_FORWARD = ("10.0.2.100", 3142)
MAX_GUESTS = 5
MEMORY_MB = int(os.environ.get("SWARMOPS_VM_MEMORY", "2048"))
CPUS = int(os.environ.get("SWARMOPS_VM_CPUS", "2"))
DISK_SIZE = "12G"
BOOT_TIMEOUT = int(os.environ.get("SWARMOPS_VM_BOOT_TIMEOUT", "600"))
HOSTKEY_MARK = "swarmops-vm-hostkey:"
# Speed under software emulation: no CPU-bug mitigations (each costs emulated page-table
# switches on every syscall), a quiet console (every byte of it is emulated serial I/O).
KERNEL_ARGS = ["root=/dev/vda", "rw", "console=ttyS0", "net.ifnames=0", "quiet",
               "loglevel=3", "mitigations=off"]
BASE_PACKAGES = [
    "systemd", "systemd-sysv", "dbus", "udev", "kmod", "iproute2", "iputils-ping", "procps",
    "python3", "python3-apt", "openssh-server", "sudo", "ca-certificates", "netcat-openbsd",
    "less", "e2fsprogs", "linux-image-amd64", "busybox-static",
]
# What the docker and glusterfs roles install on Debian: baked in, so the roles find them
# present (and skip their installs) instead of spending TCG minutes on them. All but
# apparmor: the docker role's install of it is what the guests (AppArmor kernels) test.
ROLE_PACKAGES = [pkg for pkg in lab.role_packages(SUITE) if pkg != "apparmor"]
# Host commands the VM lab runs, and the Debian package of each.
HOST_COMMANDS = {"qemu-system-x86_64": "qemu-system-x86", "qemu-img": "qemu-utils",
                 "vde_switch": "vde2", "debootstrap": "debootstrap", "mkfs.ext4": "e2fsprogs",
                 "nc": "netcat-openbsd", "ssh-keygen": "openssh-client"}

# Runs inside the debootstrapped root: a plain Debian VM, plus the lab's seed unit.
IMAGE_SETUP = r"""
set -eu
rm -f /etc/apt/sources.list
# xfsprogs (pulled in by glusterfs-server) and others trigger initramfs rebuilds, which take
# ~19 minutes under emulation: the initrd built here stays.
sed -i 's/^update_initramfs=.*/update_initramfs=no/' /etc/initramfs-tools/update-initramfs.conf
echo '/dev/vda / ext4 defaults,errors=remount-ro 0 1' > /etc/fstab
for unit in apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer \
            fstrim.timer man-db.timer getty@tty1.service; do
  ln -sf /dev/null /etc/systemd/system/$unit
done
mkdir -p /etc/systemd/journald.conf.d
printf '[Journal]\nStorage=volatile\nRuntimeMaxUse=32M\n' > /etc/systemd/journald.conf.d/vm.conf
useradd --create-home --shell /bin/bash {user}
echo '{user} ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/{user}
chmod 0440 /etc/sudoers.d/{user}
mkdir -p /etc/ssh/sshd_config.d
printf 'UseDNS no\nPasswordAuthentication no\n' > /etc/ssh/sshd_config.d/vm.conf
rm -f /etc/ssh/ssh_host_*
printf '[Match]\nName=eth0\n[Network]\nDHCP=ipv4\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n' \
  > /etc/systemd/network/10-nat.network
systemctl enable systemd-networkd.service swarmops-vm-seed.service ssh.service
# Only the NAT link must be up for "online": the cluster link has no carrier until the
# other guests' switch ports are.
mkdir -p /etc/systemd/system/systemd-networkd-wait-online.service.d
printf '[Service]\nExecStart=\nExecStart=/lib/systemd/systemd-networkd-wait-online --interface=eth0 --timeout=60\n' \
  > /etc/systemd/system/systemd-networkd-wait-online.service.d/vm.conf
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id /etc/hostname
apt-get clean
rm -f /var/cache/apt/*.bin
"""

# The guest's seed: per-guest settings from the kernel command line (set by `vm.py up`).
SEED_SCRIPT = r"""#!/bin/sh
# The VM lab's seed, read at every boot from the kernel command line (swarmops.*=...).
set -eu
arg() { tr ' ' '\n' < /proc/cmdline | sed -n "s|^swarmops\.$1=||p" | tail -n 1; }
name=$(arg hostname); address=$(arg address); key=$(arg key); proxy=$(arg apt_proxy)
if [ ! -e /var/lib/swarmops-vm-seeded ]; then
  # First boot: what an installer writes once; the roles may change these files later.
  echo "$name" > /etc/hostname
  printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n\n::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n' \
    "$name" > /etc/hosts
  install -d -m 0700 -o {user} -g {user} /home/{user}/.ssh
  echo "ssh-ed25519 $key swarmops-vm" > /home/{user}/.ssh/authorized_keys
  chown {user}:{user} /home/{user}/.ssh/authorized_keys
  touch /var/lib/swarmops-vm-seeded
fi
hostname "$(cat /etc/hostname)"
mkdir -p /run/systemd/network
printf '[Match]\nName=eth1\n[Network]\nAddress=%s\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n[Link]\nRequiredForOnline=no\n' \
  "$address" > /run/systemd/network/20-cluster.network
if [ -n "$proxy" ]; then
  echo "Acquire::http::Proxy \"$proxy\";" > /etc/apt/apt.conf.d/01swarmops-vm-proxy
else
  rm -f /etc/apt/apt.conf.d/01swarmops-vm-proxy
fi
ssh-keygen -A
echo "{mark} $(cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub)" > /dev/ttyS0
"""

SEED_UNIT = """[Unit]
Description=VM lab seed: hostname, cluster address, SSH key and host keys
DefaultDependencies=no
After=local-fs.target
Before=systemd-networkd.service ssh.service network-pre.target
Wants=network-pre.target
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/swarmops-vm-seed
[Install]
WantedBy=multi-user.target
"""


# --- image --------------------------------------------------------------------------------

def image_dir():
    """The cached image's folder: a content hash of everything that shapes the image."""
    mirror, sources = lab.host_mirror()
    recipe = json.dumps([SUITE, BASE_PACKAGES, ROLE_PACKAGES, IMAGE_SETUP, SEED_SCRIPT,
                         SEED_UNIT, USER, mirror, sources, DISK_SIZE])
    return CACHE / hashlib.sha256(recipe.encode()).hexdigest()[:12]


def build_image():
    """Build the guest image (base.qcow2, vmlinuz, initrd.img) unless it is cached."""
    target = image_dir()
    if (target / "base.qcow2").exists():
        log(f"image {target.name} cached")
        return target
    lab.install_host_packages(HOST_COMMANDS)
    mirror, sources = lab.host_mirror()
    log(f"building VM image {target.name} from {SUITE} (debootstrap with the kernel, "
        "docker.io and glusterfs: ~5 min)")
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="swarmops-vm-", dir=CACHE) as tmp:
        rootfs, out = Path(tmp) / "rootfs", Path(tmp) / "image"
        out.mkdir()
        run(["debootstrap", "--variant=minbase",
             "--include=" + ",".join(BASE_PACKAGES + ROLE_PACKAGES),
             SUITE, str(rootfs), mirror], timeout=2700)
        customize_rootfs(rootfs, sources)
        copy_boot_files(rootfs, out)
        write_disk(rootfs, out / "base.qcow2")
        shutil.rmtree(rootfs)
        if target.exists():
            shutil.rmtree(target)
        out.rename(target)
    return target


def customize_rootfs(rootfs, sources):
    """Sources, the lab user, networkd, the seed unit: a plain Debian VM with a seed."""
    (rootfs / "etc/apt/sources.list.d/debian.sources").write_text(sources)
    seed = rootfs / "usr/local/sbin/swarmops-vm-seed"
    seed.write_text(SEED_SCRIPT.replace("{user}", USER).replace("{mark}", HOSTKEY_MARK))
    seed.chmod(0o755)
    (rootfs / "etc/systemd/system/swarmops-vm-seed.service").write_text(SEED_UNIT)
    run(["chroot", str(rootfs), "/bin/sh", "-c", IMAGE_SETUP.replace("{user}", USER)])


def copy_boot_files(rootfs, out):
    """The image's own kernel and initrd, booted directly by QEMU (no bootloader)."""
    kernels = sorted((rootfs / "boot").glob("vmlinuz-*"))
    if not kernels:
        raise LabError("the image has no kernel in /boot (linux-image-amd64 missing?)")
    version = kernels[-1].name[len("vmlinuz-"):]
    initrd = rootfs / "boot" / f"initrd.img-{version}"
    if not initrd.exists():
        raise LabError(f"the image has no {initrd.name}: its initramfs was not built")
    shutil.copyfile(kernels[-1], out / "vmlinuz")
    shutil.copyfile(initrd, out / "initrd.img")
    (out / "kernel-version").write_text(version + "\n")


def write_disk(rootfs, qcow2):
    """An ext4 disk image filled from the folder (no mount, no loop device), as qcow2."""
    raw = qcow2.with_suffix(".raw")
    run(["truncate", "-s", DISK_SIZE, str(raw)])
    run(["mkfs.ext4", "-q", "-F", "-L", "swarmops-root", "-d", str(rootfs), str(raw)],
        timeout=900)
    run(["qemu-img", "convert", "-O", "qcow2", str(raw), str(qcow2)], timeout=900)
    raw.unlink()


# --- guests -------------------------------------------------------------------------------

def guest_layout(name, managers, workers):
    """The guests of a lab: inventory name, hostname, group, cluster address, MAC suffix."""
    groups = ["swarm_managers"] * managers + ["swarm_workers"] * workers
    hosts = list(CLUSTER_SUBNET.hosts())
    return [{"name": f"node{i}", "hostname": f"{name}-node{i}", "group": group,
             "address": str(hosts[9 + i]), "prefix": CLUSTER_SUBNET.prefixlen, "index": i}
            for i, group in enumerate(groups, start=1)]


def free_port():
    """A free TCP port on 127.0.0.1 for a guest's SSH forward."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_switch(ldir):
    """The lab's VDE switch (its own process, PID recorded): the guests' cluster link."""
    sock, pidfile = ldir / "switch", ldir / "switch.pid"
    run(["vde_switch", "--sock", str(sock), "--daemon", "--pidfile", str(pidfile),
         "--dirmode", "0700"])
    for _attempt in range(40):
        if (sock / "ctl").exists():
            return sock
        time.sleep(0.25)
    raise LabError(f"vde_switch did not create {sock}/ctl")


def kernel_command_line(guest, key_blob, apt_proxy):
    """The guest's kernel arguments: the image's own plus its seed (see SEED_SCRIPT)."""
    seed = [f"swarmops.hostname={guest['hostname']}",
            f"swarmops.address={guest['address']}/{guest['prefix']}",
            f"swarmops.key={key_blob}"]
    if apt_proxy:
        seed.append(f"swarmops.apt_proxy={apt_proxy}")
    return " ".join(KERNEL_ARGS + seed)


def qemu_argv(ldir, image, guest, append, cache_port):
    """QEMU's command line for one guest: TCG, direct kernel boot, two NICs, serial log."""
    mac = f"52:54:00:5a:{guest['index']:02x}"
    nat = (f"user,id=nat,net=10.0.2.0/24,restrict=on,"
           f"hostfwd=tcp:127.0.0.1:{guest['ssh_port']}-:22")
    if cache_port:
        # A command per connection: a chardev target would carry one connection only.
        nat += (f",guestfwd=tcp:{APT_FORWARD[0]}:{APT_FORWARD[1]}"
                f"-cmd:nc 127.0.0.1 {cache_port}")
    return ["qemu-system-x86_64", "-name", guest["hostname"], "-machine", "q35,accel=tcg",
            "-cpu", "max", "-smp", str(CPUS), "-m", str(MEMORY_MB),
            "-nodefaults", "-display", "none", "-no-user-config",
            "-kernel", str(image / "vmlinuz"), "-initrd", str(image / "initrd.img"),
            "-append", append,
            "-drive", f"file={guest['disk']},if=virtio,format=qcow2,cache=unsafe,discard=unmap",
            "-netdev", nat, "-device", f"virtio-net-pci,netdev=nat,mac={mac}:01",
            "-netdev", f"vde,id=cluster,sock={ldir / 'switch'}",
            "-device", f"virtio-net-pci,netdev=cluster,mac={mac}:02",
            "-device", "virtio-rng-pci",
            "-serial", f"file:{guest['console']}",
            "-monitor", f"unix:{guest['monitor']},server,nowait",
            "-pidfile", str(guest["pidfile"]), "-daemonize"]


def start_guest(ldir, image, guest, key_blob, cache_port):
    """Create the guest's overlay disk and start QEMU (daemonized, PID recorded)."""
    run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2",
         "-b", str(image / "base.qcow2"), str(guest["disk"])])
    proxy = f"http://{APT_FORWARD[0]}:{APT_FORWARD[1]}" if cache_port else ""
    append = kernel_command_line(guest, key_blob, proxy)
    run(qemu_argv(ldir, image, guest, append, cache_port), timeout=60)


def ssh_banner(port):
    """True when an SSH server (not only the NAT's forward) answers on the port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            conn.settimeout(5)
            return conn.recv(64).startswith(b"SSH-")
    except OSError:
        return False


def console_host_key(guest):
    """The last host key the guest printed on its serial console, or None."""
    try:
        text = Path(guest["console"]).read_text(errors="replace")
    except FileNotFoundError:
        return None
    keys = [line.split(HOSTKEY_MARK, 1)[1].split()[:2] for line in text.splitlines()
            if HOSTKEY_MARK in line]
    return keys[-1] if keys and len(keys[-1]) == 2 else None


def wait_for_guests(guests, deadline):
    """Wait until every guest printed its host key and its sshd answers."""
    pending = list(guests)
    while pending and time.time() < deadline:
        pending = [g for g in pending
                   if not (console_host_key(g) and ssh_banner(g["ssh_port"]))]
        if pending:
            for guest in pending:
                if not qemu_running(guest):
                    raise LabError(f"{guest['hostname']}: QEMU exited; see {guest['console']}")
            time.sleep(2)
    if pending:
        names = ", ".join(g["hostname"] for g in pending)
        raise LabError(f"{names} did not boot with SSH in {BOOT_TIMEOUT} s; see the console "
                       f"logs in {Path(pending[0]['console']).parent}")


def qemu_running(guest):
    """The recorded QEMU PID if that process still runs as this guest's QEMU, else None."""
    try:
        pid = int(Path(guest["pidfile"]).read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None
    return pid if b"qemu-system" in cmdline and guest["hostname"].encode() in cmdline else None


def write_known_hosts(ldir, guests):
    """known_hosts from the keys the guests printed on their consoles ([127.0.0.1]:port)."""
    lines = []
    for guest in guests:
        kind, blob = console_host_key(guest)
        lines.append(f"[127.0.0.1]:{guest['ssh_port']} {kind} {blob}")
    (ldir / lab.KNOWN_HOSTS).write_text("\n".join(lines) + "\n")


def inventory_tree(ldir, guests):
    """The VM lab's inventory: SSH through the loopback forwards, the roles on the cluster
    addresses (swarmops_node_address), as with hosts behind NAT or a jump host."""
    tree = {"all": {"vars": dict(lab.connection_vars(ldir),
                                 swarmops_vm_subnet=str(CLUSTER_SUBNET)),
                    "children": {}}}
    for group in ("swarm_managers", "swarm_workers"):
        tree["all"]["children"][group] = {"hosts": {
            g["name"]: {"ansible_host": "127.0.0.1", "ansible_port": g["ssh_port"],
                        "swarmops_node_address": g["address"]}
            for g in guests if g["group"] == group}}
    return tree


def script_inventory(name):
    """The VM lab's inventory as an inventory script's --list ({} of hosts when down)."""
    guests = recorded_guests(name)
    if not guests:
        return {"_meta": {"hostvars": {}}}
    return lab.script_from_tree(inventory_tree(lab.lab_dir(name), guests))


def write_inventory(ldir, guests):
    """hosts.yml beside links to inventories/vm's group_vars and host_vars; returns the
    folder."""
    return lab.write_inventory_files(ldir, inventory_tree(ldir, guests), "vm",
                                     "tests/vm/vm.py")


def apt_cache_port():
    """The host apt cache's loopback port for the guests, or None (they then have no
    package source: their packages are baked in; SWARMOPS_LAB_APTCACHE=0 turns it off)."""
    if not aptcache.wanted():
        return None
    try:
        with aptcache.locked(STATE):
            return aptcache.ensure_cache_for(STATE, lab.host_mirror()[1])
    except aptcache.CACHE_ERRORS as err:
        log(f"warning: no package cache for the guests ({err}); they install nothing new")
        return None


def start_lab(name, managers, workers):
    """Switch, guests, host keys and inventory of a new VM lab; returns the inventory dir."""
    image = build_image()
    ldir = lab.lab_dir(name)
    ldir.mkdir(parents=True, exist_ok=True)
    lab.make_key(ldir)
    key_blob = Path(f"{ldir / lab.KEY_FILE}.pub").read_text().split()[1]
    cache_port = apt_cache_port()
    guests = guest_layout(name, managers, workers)
    for guest in guests:
        guest.update(ssh_port=free_port(), disk=str(ldir / f"{guest['name']}.qcow2"),
                     console=str(ldir / f"{guest['name']}.console.log"),
                     monitor=str(ldir / f"{guest['name']}.monitor"),
                     pidfile=str(ldir / f"{guest['name']}.pid"))
    (ldir / "vm.json").write_text(json.dumps(
        {"kind": "vm", "managers": managers, "workers": workers, "image": str(image),
         "subnet": str(CLUSTER_SUBNET), "guests": guests}, indent=2))
    started = time.time()
    start_switch(ldir)
    for guest in guests:
        start_guest(ldir, image, guest, key_blob, cache_port)
    wait_for_guests(guests, time.time() + BOOT_TIMEOUT)
    write_known_hosts(ldir, guests)
    log(f"VM lab {name} up: {len(guests)} guests booted in {time.time() - started:.0f} s")
    return write_inventory(ldir, guests)


def recorded_guests(name):
    """The guests of a lab's vm.json ([] when none is recorded)."""
    layout_file = lab.lab_dir(name) / "vm.json"
    if not layout_file.exists():
        return []
    return json.loads(layout_file.read_text())["guests"]


def up(name, managers, workers, recreate=False):
    """Start a VM lab (reusing a running one of the same shape) and write its inventory."""
    if not 1 <= managers + workers <= MAX_GUESTS or managers < 0 or workers < 0:
        raise LabError(f"a VM lab has 1 to {MAX_GUESTS} guests")
    lab.install_host_packages(HOST_COMMANDS)
    guests = recorded_guests(name)
    shape = [g["group"] for g in guests]
    wanted = ["swarm_managers"] * managers + ["swarm_workers"] * workers
    if not recreate and guests and shape == wanted and all(map(qemu_running, guests)):
        log(f"VM lab {name} already up")
        return lab.lab_dir(name) / "inventory"
    down(name)
    return start_lab(name, managers, workers)


def stop_pid(pid, marker, timeout=30):
    """SIGTERM a process we started (checked by its command line), then wait for it."""
    try:
        if marker not in Path(f"/proc/{pid}/cmdline").read_bytes():
            return
        os.kill(pid, 15)
    except (FileNotFoundError, ProcessLookupError):
        return
    for _attempt in range(timeout * 4):
        if not Path(f"/proc/{pid}").exists():
            return
        time.sleep(0.25)
    os.kill(pid, 9)


def down(name, cache=False):
    """Stop the lab's guests and switch (by recorded PID) and remove its folder."""
    ldir = lab.lab_dir(name)
    for guest in recorded_guests(name):
        pid = qemu_running(guest)
        if pid:
            stop_pid(pid, b"qemu-system")
    pidfile = ldir / "switch.pid"
    if pidfile.exists():
        stop_pid(int(pidfile.read_text()), b"vde_switch")
    if ldir.exists():
        shutil.rmtree(ldir)
    # The guests use the cache without a relay, so stop_cache (which looks for container
    # labs' relays) must first be told that no other VM lab still runs.
    if cache and not any(status(other.name)["up"] for other in STATE.glob("*")
                         if (other / "vm.json").exists()):
        aptcache.stop_cache(STATE)


def status(name):
    """The recorded layout with each guest's QEMU state."""
    guests = recorded_guests(name)
    for guest in guests:
        guest["running"] = bool(qemu_running(guest))
    return {"name": name, "up": bool(guests) and all(g["running"] for g in guests),
            "inventory": str(lab.lab_dir(name) / "inventory"), "guests": guests}


def parse_args(argv):
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("image", help="build or reuse the guest image; prints its folder")
    p_up = sub.add_parser("up", help="boot a VM lab and write its inventory")
    p_up.add_argument("--managers", type=int, default=3)
    p_up.add_argument("--workers", type=int, default=0)
    p_up.add_argument("--recreate", action="store_true", help="start from fresh guests")
    p_down = sub.add_parser("down", help="stop the guests and remove what the lab made")
    p_down.add_argument("--cache", action="store_true",
                        help="also stop the apt cache if a lab started it and no lab uses it")
    sub.add_parser("status", help="print the lab's layout as JSON")
    for p in (p_up, p_down, sub.choices["status"]):
        p.add_argument("--name", default=os.environ.get("SWARMOPS_LAB_NAME", "vm"))
    return parser.parse_args(argv)


def main(argv=None):
    """Dispatch a VM lab command; LabError becomes a one-line message and exit 1."""
    args = parse_args(argv)
    try:
        if args.cmd == "image":
            print(build_image())
        elif args.cmd == "up":
            print(up(args.name, args.managers, args.workers, args.recreate))
        elif args.cmd == "down":
            down(args.name, args.cache)
        else:
            print(json.dumps(status(args.name), indent=2))
    except LabError as err:
        print(f"vm: error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
