"""Build the lab's workload images and push them to the registry beside this script.

Runs inside the lab's registry container (Debian bookworm with busybox-static and the
docker-registry package installed) as ``python3 workload_image.py [REGISTRY]``: there is no
registry on the internet to pull from, and no Dockerfile build needs one either. Each image
is one layer: the static busybox, its applet links, and ``/bin/serve``, an entrypoint that
runs busybox's HTTP server and ignores its arguments, so a stack written for another image
(the core stack's Traefik or Portainer) runs with it as a stand-in.

Standard library only. REGISTRY_AUTH=user:password logs in with basic auth. The image layout is the registry's schema 2 (one gzip layer, a
config blob, a manifest), pushed with monolithic blob uploads.

``python3 workload_image.py --archive FILE`` writes the same images as one archive for
``docker load`` instead (the VM lab's guests, which have no registry; tests/vm).
"""

import base64
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile
import time
import urllib.error
import urllib.request

REGISTRY = "http://127.0.0.1:5000"
# name:tag -> what differs between them (a label), so tests can change a service's image.
IMAGES = {"lab/web:1": "1", "lab/web:2": "2"}
SERVE = """#!/bin/sh
# The lab's stand-in server: serve DOCROOT (default /srv/www) on PORT (default 80).
# Arguments are ignored: stacks written for other images run with this one as well.
[ "${LAB_JOB:-}" = 1 ] && { echo "lab job done"; exit 0; }
# As PID 1 httpd would ignore SIGTERM and every stop would wait out the grace period.
/bin/busybox httpd -f -v -p "${PORT:-80}" -h "${DOCROOT:-/srv/www}" &
trap 'kill $!; exit 0' TERM INT
wait
"""
APPLETS = ["sh", "ls", "cat", "echo", "sleep", "httpd", "nc", "id", "mkdir", "touch", "true"]


def add_file(tar, name, data, mode=0o644):
    """Add one regular file owned by root."""
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, 0
    tar.addfile(info, io.BytesIO(data))


def add_entry(tar, name, kind, target=""):
    """Add a directory or symlink owned by root."""
    info = tarfile.TarInfo(name)
    info.type, info.mtime = kind, 0
    info.mode = 0o1777 if name == "tmp" else 0o755
    info.linkname = target
    tar.addfile(info)


def layer_tar():
    """The image's only layer, uncompressed, with fixed mtimes so its digest is stable."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for folder in ("bin", "etc", "srv", "srv/www", "tmp"):
            add_entry(tar, folder, tarfile.DIRTYPE)
        with open("/bin/busybox", "rb") as binary:
            add_file(tar, "bin/busybox", binary.read(), 0o755)
        for applet in APPLETS:
            add_entry(tar, f"bin/{applet}", tarfile.SYMTYPE, "busybox")
        add_file(tar, "bin/serve", SERVE.encode(), 0o755)
        add_file(tar, "etc/passwd", b"root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n")
        add_file(tar, "etc/group", b"root:x:0:\nnogroup:x:65534:\n")
        add_file(tar, "srv/www/index.html", b"swarmops lab web\n")
    return buf.getvalue()


def image_config(diff_id, variant):
    """The image config blob: entrypoint, environment, a label naming the variant."""
    return json.dumps({
        "architecture": "amd64", "os": "linux",
        "created": "2026-01-01T00:00:00Z",
        "config": {"Entrypoint": ["/bin/serve"], "Env": ["PATH=/bin"],
                   "ExposedPorts": {"80/tcp": {}},
                   "Labels": {"org.swarmops.lab.variant": variant}},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": "2026-01-01T00:00:00Z", "created_by": "workload_image.py"}],
    }, sort_keys=True).encode()


def request(method, url, data=None, headers=None):
    """One registry request; returns the response (raises on HTTP errors)."""
    headers = dict(headers or {})
    if os.environ.get("REGISTRY_AUTH"):
        # user:password, as the lab configured the registry's htpasswd.
        token = base64.b64encode(os.environ["REGISTRY_AUTH"].encode()).decode()
        headers["Authorization"] = "Basic " + token
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    return urllib.request.urlopen(req, timeout=60)  # noqa: S310 (the lab's own registry)


def push_blob(registry, repo, blob):
    """Upload a blob unless the registry has it; returns its digest."""
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    try:
        request("HEAD", f"{registry}/v2/{repo}/blobs/{digest}")
        return digest
    except urllib.error.HTTPError:
        pass
    location = request("POST", f"{registry}/v2/{repo}/blobs/uploads/").headers["Location"]
    if location.startswith("/"):
        location = registry + location
    sep = "&" if "?" in location else "?"
    request("PUT", f"{location}{sep}digest={digest}", data=blob,
            headers={"Content-Type": "application/octet-stream"})
    return digest


def push_image(registry, name, variant, layer):
    """Push one name:tag built on the shared layer."""
    repo, tag = name.rsplit(":", 1)
    compressed = gzip.compress(layer, mtime=0)
    layer_digest = push_blob(registry, repo, compressed)
    config = image_config("sha256:" + hashlib.sha256(layer).hexdigest(), variant)
    config_digest = push_blob(registry, repo, config)
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                   "size": len(config), "digest": config_digest},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": len(compressed), "digest": layer_digest}],
    }).encode()
    request("PUT", f"{registry}/v2/{repo}/manifests/{tag}", data=manifest,
            headers={"Content-Type": "application/vnd.docker.distribution.manifest.v2+json"})


def wait_for_registry(registry, seconds=60):
    """The packaged registry starts in the background: wait until /v2/ answers."""
    deadline = time.time() + seconds
    while True:
        try:
            request("GET", f"{registry}/v2/")
            return
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.5)


def save_archive(path, layer):
    """Every lab image in docker save's layout (manifest.json, configs, one layer.tar), for
    `docker load` on a host that has no registry to pull from."""
    layer_dir = hashlib.sha256(layer).hexdigest()
    manifest = []
    with tarfile.open(path, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        add_entry(tar, layer_dir, tarfile.DIRTYPE)
        add_file(tar, f"{layer_dir}/layer.tar", layer)
        for name, variant in IMAGES.items():
            config = image_config("sha256:" + layer_dir, variant)
            config_name = hashlib.sha256(config).hexdigest() + ".json"
            add_file(tar, config_name, config)
            manifest.append({"Config": config_name, "RepoTags": [name],
                             "Layers": [f"{layer_dir}/layer.tar"]})
        add_file(tar, "manifest.json", json.dumps(manifest).encode())
    print(f"saved {' '.join(IMAGES)} to {path}")


def main(argv):
    """Push every lab image (or save them, with --archive FILE); print what was done."""
    layer = layer_tar()
    if len(argv) > 2 and argv[1] == "--archive":
        save_archive(argv[2], layer)
        return
    registry = argv[1] if len(argv) > 1 else REGISTRY
    wait_for_registry(registry)
    for name, variant in IMAGES.items():
        push_image(registry, name, variant, layer)
        print(f"pushed {name}")


if __name__ == "__main__":
    main(sys.argv)
