#!/usr/bin/env python3
"""Inventory script of the lab: the hosts of the running lab named by SWARMOPS_LAB_NAME.

`ansible-playbook -i inventories/lab site.yml` reads this beside the lab's group_vars and
host_vars. With no lab up it lists no hosts. Start one with `make cluster` or
`python3 tests/lab/lab.py up`.
"""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "lab"))
import lab  # noqa: E402  pylint: disable=wrong-import-position


def main(argv):
    """--list prints every group and host; --host prints {} (hostvars come in _meta)."""
    if "--host" in argv:
        print("{}")
        return 0
    print(json.dumps(lab.script_inventory(os.environ.get("SWARMOPS_LAB_NAME", "lab"))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
