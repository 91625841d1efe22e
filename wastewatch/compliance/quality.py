"""Quality codes carried by every average, and the version string of the calculation that made it."""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum

from wastewatch.compliance.profiles import Averaging

ENGINE_VERSION = "1"
"""Bump when a stage's arithmetic changes; stored with every average so an amendment can say why."""


class QualityCode(StrEnum):
    VALID = "valid"
    MAINTENANCE = "maintenance"
    MALFUNCTION = "malfunction"
    STARTUP_SHUTDOWN = "startup_shutdown"
    NO_WASTE = "no_waste"
    ABNORMAL_OPERATION = "abnormal_operation"
    INSUFFICIENT_DATA = "insufficient_data"


DISCARDED: frozenset[QualityCode] = frozenset(
    {QualityCode.MAINTENANCE, QualityCode.MALFUNCTION, QualityCode.INSUFFICIENT_DATA}
)
"""Codes that count as a discarded value toward V4/V5. Missing data during operation counts as a
CEMS failure [A]: V4's text names malfunction and maintenance only."""

IDLE: frozenset[QualityCode] = frozenset({QualityCode.STARTUP_SHUTDOWN, QualityCode.NO_WASTE})
"""Codes of windows outside effective operating time: neither valid nor discarded."""


def calculation_version(averaging: Averaging) -> str:
    """`engine version + hash of the averaging parameters`: changes whenever a result could change."""
    params = averaging.model_dump(mode="json")
    params["effective_states"] = sorted(params["effective_states"])  # a set's order varies by process
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:8]
    return f"{ENGINE_VERSION}+{digest}"
