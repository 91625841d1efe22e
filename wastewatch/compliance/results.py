"""Computed averages and days as stored measurements, so the API and Grafana read them directly.

    emission_avg   tags plant, profile, pollutant, period (10min|30min|1h); time = window start
                   fields quality, value, raw_value, ci_subtracted, n_valid, n_flagged, n_expected, version
    emission_day   tags plant, profile, pollutant; time = local midnight
                   fields quality, valid, value, basis, n_valid, n_discarded, version (and v4 on a half-hour basis)

Quality is a string *field*, not a tag: a recomputed window keeps its series and time, so rewriting it
replaces the same point instead of adding a second one beside it. Stores merge fields on rewrite, so a
`value` once written stays when a window loses it: `value` and `raw_value` mean something only when
the quality carries a value (valid, abnormal operation), and readers here ignore them otherwise.
Grafana panels filter on `WHERE "quality" = 'valid'` for the same reason.

`compliance.result_store` reads and writes them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from wastewatch.compliance.daily import v4_status
from wastewatch.compliance.quality import QualityCode
from wastewatch.points import FieldValue, Point

EMISSION_AVG = "emission_avg"
EMISSION_DAY = "emission_day"
WITH_VALUE: frozenset[QualityCode] = frozenset({QualityCode.VALID, QualityCode.ABNORMAL_OPERATION})
RESULT_TOLERANCE = 1e-9
"""Relative difference under which two values are the same result (a store round trip is exact; this is margin)."""

AverageKey = tuple[str, str, str, int]
"""(profile, pollutant, period, window start ms)."""
DayKey = tuple[str, str, int]
"""(profile, pollutant, day start ms)."""


def same_value(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=RESULT_TOLERANCE, abs_tol=RESULT_TOLERANCE)


@dataclass(frozen=True, slots=True)
class AverageRecord:
    """One stored short average."""

    plant: str
    profile: str
    pollutant: str
    period: str
    start_ms: int
    quality: QualityCode
    value: float | None
    raw_value: float | None
    ci_subtracted: float
    n_valid: int
    n_flagged: int
    n_expected: int
    version: str

    @property
    def key(self) -> AverageKey:
        return (self.profile, self.pollutant, self.period, self.start_ms)

    def same_result(self, other: AverageRecord) -> bool:
        """Equal quality, values, counts and version: nothing to amend."""
        return (
            (self.quality, self.n_valid, self.n_flagged, self.n_expected, self.version)
            == (other.quality, other.n_valid, other.n_flagged, other.n_expected, other.version)
            and same_value(self.value, other.value)
            and same_value(self.raw_value, other.raw_value)
            and same_value(self.ci_subtracted, other.ci_subtracted)
        )

    def to_point(self) -> Point:
        fields: dict[str, FieldValue] = {
            "quality": self.quality.value, "ci_subtracted": float(self.ci_subtracted),
            "n_valid": self.n_valid, "n_flagged": self.n_flagged, "n_expected": self.n_expected, "version": self.version,
        }
        if self.value is not None:
            fields["value"] = float(self.value)
        if self.raw_value is not None:
            fields["raw_value"] = float(self.raw_value)
        tags = {"plant": self.plant, "profile": self.profile, "pollutant": self.pollutant, "period": self.period}
        return Point(EMISSION_AVG, tags, fields, self.start_ms)

    @classmethod
    def from_point(cls, point: Point) -> AverageRecord:
        f, t = point.fields, point.tags
        quality = QualityCode(str(f["quality"]))
        carries = quality in WITH_VALUE
        return cls(
            t["plant"], t["profile"], t["pollutant"], t["period"], point.time_ms, quality,
            _float(f.get("value")) if carries else None, _float(f.get("raw_value")) if carries else None,
            _float(f.get("ci_subtracted")) or 0.0, _int(f.get("n_valid")), _int(f.get("n_flagged")),
            _int(f.get("n_expected")), str(f.get("version", "")),
        )


@dataclass(frozen=True, slots=True)
class DayRecord:
    """One stored daily average with the counts its validity was judged on."""

    plant: str
    profile: str
    pollutant: str
    day: date
    start_ms: int
    basis: str
    quality: QualityCode
    value: float | None
    n_valid: int
    n_discarded: int
    version: str

    @property
    def key(self) -> DayKey:
        return (self.profile, self.pollutant, self.start_ms)

    @property
    def valid(self) -> bool:
        return self.quality == QualityCode.VALID and self.value is not None

    def same_result(self, other: DayRecord) -> bool:
        return (self.quality, self.n_valid, self.n_discarded, self.version, self.basis) == (
            other.quality, other.n_valid, other.n_discarded, other.version, other.basis
        ) and same_value(self.value, other.value)

    def to_point(self) -> Point:
        fields: dict[str, FieldValue] = {
            "quality": self.quality.value, "valid": self.valid, "basis": self.basis,
            "n_valid": self.n_valid, "n_discarded": self.n_discarded, "version": self.version,
        }
        if self.value is not None:
            fields["value"] = float(self.value)
        if self.basis == "30min":
            fields["v4"] = v4_status(self.n_discarded)
        return Point(EMISSION_DAY, {"plant": self.plant, "profile": self.profile, "pollutant": self.pollutant}, fields, self.start_ms)

    @classmethod
    def from_point(cls, point: Point, zone: ZoneInfo) -> DayRecord:
        f, t = point.fields, point.tags
        quality = QualityCode(str(f["quality"]))
        day = datetime.fromtimestamp(point.time_ms / 1000, tz=zone).date()
        return cls(
            t["plant"], t["profile"], t["pollutant"], day, point.time_ms, str(f.get("basis", "")), quality,
            _float(f.get("value")) if quality == QualityCode.VALID else None,
            _int(f.get("n_valid")), _int(f.get("n_discarded")), str(f.get("version", "")),
        )


def _float(value: FieldValue | None) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _int(value: FieldValue | None) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0
