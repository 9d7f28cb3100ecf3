# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rule for node label values, shared by the swarm_node module and the preflight filter.

Standard library only: the controller-side filter imports it without the docker SDK.
Private to this collection.
"""

from __future__ import annotations


def label_value_problems(labels):
    """One message per label whose value is not a string (YAML turns 8080 or true into one)."""
    return ["label %s=%r is a %s; label values are strings: quote it in YAML"
            % (key, value, type(value).__name__)
            for key, value in (labels or {}).items() if not isinstance(value, str)]
