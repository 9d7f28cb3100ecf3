"""The docker CLIs on this machine, as oracles for the compose renderer's tests.

`docker stack config` renders a compose file locally, without a daemon (docker 21+).
Debian 12's CLI (20.10) has no `stack config`; its `stack deploy` still loads and checks
the files before it looks for a daemon, so with a socket that does not exist it says either
what is wrong with the files or "Cannot connect to the Docker daemon": accepted.

Engines looked for: `docker` on PATH, /usr/bin/docker (Debian's docker.io) and the CLIs
that `make oracles` unpacks into .cache/docker-cli-*/ (Debian 13's 26.1).
"""

import functools
import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
NO_DAEMON = "unix:///nonexistent.sock"
DAEMON_MISSING = "Cannot connect to the Docker daemon"


class Engine:
    """One docker CLI binary and what it can tell."""

    def __init__(self, path, version):
        self.path = path
        self.version = version
        self.has_config = int(version.split(".")[0]) >= 21

    def __repr__(self):
        return "docker-%s" % self.version

    def run(self, args, stdin=None, variables=None, cwd=None):
        """(rc, stdout, stderr) of the CLI with only PATH and variables in its environment."""
        environment = dict(variables or {}, PATH=os.environ["PATH"], DOCKER_HOST=NO_DAEMON,
                           HOME=str(ROOT / ".cache"))
        result = subprocess.run([self.path] + args, input=stdin, capture_output=True,
                                text=True, check=False, cwd=cwd, env=environment)
        return result.returncode, result.stdout, result.stderr

    def config(self, files, stdin=None, variables=None, cwd=None):
        """(rendered text or None, error) of `docker stack config -c F ...`."""
        args = ["stack", "config"] + [arg for name in files for arg in ("-c", name)]
        rc, out, err = self.run(args, stdin, variables, cwd)
        return (out, "") if rc == 0 else (None, err.strip())

    def refusal(self, files, stdin=None, variables=None, cwd=None):
        """None when the engine accepts the files, else its message (any engine)."""
        if self.has_config:
            return self.config(files, stdin, variables, cwd)[1] or None
        args = ["stack", "deploy", "--orchestrator", "swarm"] + \
            [arg for name in files for arg in ("-c", name)] + ["oracle"]
        _rc, out, err = self.run(args, stdin, variables, cwd)
        message = (err or out).strip()
        return None if DAEMON_MISSING in message else message


def _version(path):
    """The client version of a docker binary, or None if it does not run."""
    try:
        result = subprocess.run([path, "version", "--format", "{{.Client.Version}}"],
                                capture_output=True, text=True, check=False, timeout=20,
                                env={"PATH": os.environ["PATH"], "DOCKER_HOST": NO_DAEMON})
    except OSError:
        return None
    version = result.stdout.strip().split("+")[0]
    return version or None


@functools.lru_cache(maxsize=None)
def engines():
    """Every distinct docker CLI found, oldest first."""
    candidates = [shutil.which("docker"), "/usr/bin/docker", "/usr/local/bin/docker"]
    unpacked = (ROOT / ".cache").glob("docker-cli-*/usr/bin/docker")
    candidates += sorted(str(path) for path in unpacked)
    found = {}
    for path in filter(None, candidates):
        version = _version(path) if os.access(path, os.X_OK) else None
        if version and version not in found:
            found[version] = Engine(path, version)
    return sorted(found.values(), key=lambda engine: [int(part) for part in
                                                      engine.version.split(".")[:2]])


def config_engines():
    """Engines that have `docker stack config`."""
    return [engine for engine in engines() if engine.has_config]


WANTED = ("20.10", "26.1", "28.2")


def missing_note():
    """Which of the engines the tests are meant for are absent, for skip reasons."""
    have = {".".join(engine.version.split(".")[:2]) for engine in engines()}
    return ", ".join(version for version in WANTED if version not in have)
