"""Unit tests import the collection as ansible_collections.swarmops.cluster from the checkout."""

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "collections"))
FIXTURES = Path(__file__).with_name("fixtures")


@pytest.fixture(name="recorded")
def fixture_recorded():
    """Load a recorded engine response ({info, nodes}) captured from the lab."""
    def load(name):
        return json.loads((FIXTURES / f"{name}.json").read_text())
    return load
