"""Install community.docker and ansible.posix for the benchmark's baseline, without Galaxy.

  python3 benchmarks/baseline/install_collections.py      # prints the collections path

The baseline (benchmarks/baseline/site.yml) is built from community.docker, ansible.posix
(its fstab mount) and ansible.builtin only. Neither collection is part of ansible-core, and
Galaxy may be out of reach, so they come from PyPI: the `ansible` community package bundles
every collection. Its wheel is downloaded once (`pip download --no-deps`) into
.cache/bench/, checked against a pinned SHA-256, and only those two collections are
extracted into .cache/bench/collections/. A no-op when they are already there.

community.docker declares community.library_inventory_filtering_v1 as a dependency, but only
its inventory plugins import it; the modules the baseline uses do not, so it is left out.

Standard library only; pip runs as `<python> -m pip` (the project's .venv if this Python
has no pip).
"""

import hashlib
import importlib.util
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "bench"
COLLECTIONS = CACHE / "collections"
# `ansible` 12.x pins ansible-core 2.19 (requirements-dev.txt); 12.3.0 bundles
# community.docker 4.8.5.
ANSIBLE_VERSION = "12.3.0"
WHEEL = f"ansible-{ANSIBLE_VERSION}-py3-none-any.whl"
WHEEL_SHA256 = "cd156f82fa87f7a899212b0efa9f7ca3a24d609212de9f78428a572eb01e5414"
PREFIXES = ("ansible_collections/community/docker/", "ansible_collections/ansible/posix/")
NAMES = {".".join(p.split("/")[1:3]) for p in PREFIXES}
MARKER = COLLECTIONS / ".installed"


def pip_python():
    """A Python that has pip: this one, or the project's .venv."""
    if importlib.util.find_spec("pip"):
        return sys.executable
    venv = ROOT / ".venv" / "bin" / "python"
    if venv.exists():
        return str(venv)
    sys.exit("install_collections: no pip here; run `make venv` first")


def sha256(path):
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download():
    """The pinned ansible wheel in .cache/bench/, downloaded once and hash-checked."""
    wheel = CACHE / WHEEL
    if not wheel.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        print(f"install_collections: downloading ansible=={ANSIBLE_VERSION} (~55 MB)",
              file=sys.stderr, flush=True)
        subprocess.run([pip_python(), "-m", "pip", "download", "-q", "--no-deps",
                        "--only-binary", ":all:", "-d", str(CACHE),
                        f"ansible=={ANSIBLE_VERSION}"], check=True)
    if sha256(wheel) != WHEEL_SHA256:
        wheel.unlink()
        sys.exit(f"install_collections: {WHEEL} does not match its pinned SHA-256; removed")
    return wheel


def extract(wheel):
    """Extract only the wanted collections into a fresh directory, then swap it in."""
    staging = CACHE / "collections.new"
    shutil.rmtree(staging, ignore_errors=True)
    with zipfile.ZipFile(wheel) as archive:
        members = [m for m in archive.namelist() if m.startswith(PREFIXES)]
        if any(".." in Path(m).parts for m in members):
            sys.exit(f"install_collections: unsafe member path in {WHEEL}")
        archive.extractall(staging, members)
    versions = {}
    for prefix in PREFIXES:
        manifest = json.loads((staging / prefix / "MANIFEST.json").read_text())
        info = manifest["collection_info"]
        versions[f"{info['namespace']}.{info['name']}"] = info["version"]
    (staging / MARKER.name).write_text(json.dumps({"ansible": ANSIBLE_VERSION,
                                                   "collections": versions}) + "\n")
    shutil.rmtree(COLLECTIONS, ignore_errors=True)
    staging.rename(COLLECTIONS)
    return versions


def installed():
    """The installed collection versions if they come from the pinned ansible, else None."""
    try:
        recorded = json.loads(MARKER.read_text())
    except (FileNotFoundError, ValueError):
        return None
    if recorded.get("ansible") != ANSIBLE_VERSION or set(recorded["collections"]) != NAMES:
        return None
    return recorded["collections"]


def ensure():
    """Install when missing; returns (collections path, {collection: version})."""
    versions = installed()
    if versions is None:
        versions = extract(download())
        print(f"install_collections: {versions} into {COLLECTIONS.relative_to(ROOT)}",
              file=sys.stderr, flush=True)
    return COLLECTIONS, versions


def main():
    """Install if needed and print the path for ANSIBLE_COLLECTIONS_PATH."""
    path, _versions = ensure()
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
