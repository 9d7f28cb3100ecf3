"""Stands in for get-pip.py when ansible-test bootstraps pip into a sanity venv.

ansible-test downloads get-pip.py from a host outside the package registries this
project may use. This does the same job from what is here: the interpreter's own
ensurepip, then `pip install` of the packages ansible-test asks for, from PyPI.
ansible-test runs pip with a filtered environment (no PIP_CERT), so the venv gets a
pip.conf naming the system CA bundle, which every later install in it reads.
`make sanity` copies this file to ~/.ansible/test/cache/get_pip_<version>.py.
"""

import os
import subprocess
import sys

# get-pip.py options that pip install does not take.
GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}
CA_BUNDLES = [os.environ.get("SSL_CERT_FILE", ""), "/etc/ssl/certs/ca-certificates.crt",
              "/etc/pki/tls/certs/ca-bundle.crt"]


def write_venv_pip_conf():
    """Point this venv's pip at the system CA bundle, if there is one."""
    bundle = next((path for path in CA_BUNDLES if path and os.path.exists(path)), None)
    if bundle and sys.prefix != sys.base_prefix:
        with open(os.path.join(sys.prefix, "pip.conf"), "w", encoding="utf-8") as conf:
            conf.write(f"[global]\ncert = {bundle}\n")


write_venv_pip_conf()
# ensurepip in-process would set PIP_CONFIG_FILE=/dev/null for the pip call below too.
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"], stdout=subprocess.DEVNULL)
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "--quiet"]
                         + [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]))
