#!/usr/bin/env python3
"""Inventory script of the VM lab: the guests of the running VM lab named by
SWARMOPS_LAB_NAME (default vm), beside the committed group_vars.

Start one with `python3 tests/vm/vm.py up`; the molecule scenario `vm` (make test-vm) does.
With no VM lab up it lists no hosts.
"""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "vm"))
import vm  # noqa: E402  pylint: disable=wrong-import-position


def main(argv):
    """--list prints every group and host; --host prints {} (hostvars come in _meta)."""
    if "--host" in argv:
        print("{}")
        return 0
    print(json.dumps(vm.script_inventory(os.environ.get("SWARMOPS_LAB_NAME", "vm"))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
