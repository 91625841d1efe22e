"""Confidence-interval subtraction (V2): validated = max(0, measured − CI_pct × daily ELV)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from wastewatch.compliance.averaging import Average
from wastewatch.compliance.profiles import Profile


def subtract_ci(measured: float, ci_value: float) -> float:
    """The validated value. CI_pct × daily ELV is the common reading [U]; the floor at 0 is [A]."""
    return max(0.0, measured - ci_value)


def validate_averages(averages: Iterable[Average], pollutant: str, profile: Profile) -> list[Average]:
    """Averages with the profile's CI subtracted from every value; windows without a value pass through."""
    ci_value = profile.ci_value(pollutant)
    return [
        avg if avg.value is None or ci_value == 0.0 else replace(avg, value=subtract_ci(avg.value, ci_value), ci_subtracted=ci_value)
        for avg in averages
    ]
