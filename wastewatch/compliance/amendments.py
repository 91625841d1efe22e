"""Amendment records: every stored average or day that a recomputation changes is logged with its old
and new value and quality, the reason and when — a result is never silently overwritten.

    emission_amendment  tags plant, profile, pollutant, period (10min|30min|1h|24h), amended_at (epoch ms)
                        time = window (or day) start
                        fields old_quality, new_quality, old_value, new_value, old_version, new_version, reason

`amended_at` is a tag so that a window amended twice keeps both records (same series and time would
merge them); one recomputation shares one `amended_at`, which keeps the series count small.
The jobs write them with the results they replace; `compliance.amendment_store` reads them back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from wastewatch.compliance.quality import QualityCode
from wastewatch.compliance.results import AverageKey, AverageRecord, DayKey, DayRecord
from wastewatch.points import FieldValue, Point

EMISSION_AMENDMENT = "emission_amendment"
VERSION_CHANGED = "calculation version changed"


@dataclass(frozen=True, slots=True)
class Amendment:
    """One changed result: which window, what it was, what it is now, why and when."""

    plant: str
    profile: str
    pollutant: str
    period: str
    start_ms: int
    old_quality: QualityCode
    new_quality: QualityCode
    old_value: float | None
    new_value: float | None
    old_version: str
    new_version: str
    reason: str
    at_ms: int

    def to_point(self) -> Point:
        fields: dict[str, FieldValue] = {
            "old_quality": self.old_quality.value, "new_quality": self.new_quality.value,
            "old_version": self.old_version, "new_version": self.new_version, "reason": self.reason,
        }
        if self.old_value is not None:
            fields["old_value"] = float(self.old_value)
        if self.new_value is not None:
            fields["new_value"] = float(self.new_value)
        tags = {
            "plant": self.plant, "profile": self.profile, "pollutant": self.pollutant,
            "period": self.period, "amended_at": str(self.at_ms),
        }
        return Point(EMISSION_AMENDMENT, tags, fields, self.start_ms)

    @classmethod
    def from_point(cls, point: Point) -> Amendment:
        f, t = point.fields, point.tags
        return cls(
            t["plant"], t["profile"], t["pollutant"], t["period"], point.time_ms,
            QualityCode(str(f["old_quality"])), QualityCode(str(f["new_quality"])),
            _float(f.get("old_value")), _float(f.get("new_value")),
            str(f.get("old_version", "")), str(f.get("new_version", "")), str(f.get("reason", "")), int(t["amended_at"]),
        )


def _float(value: FieldValue | None) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _reason(old_version: str, new_version: str, reason: str) -> str:
    return VERSION_CHANGED if old_version != new_version else reason


R = TypeVar("R", AverageRecord, DayRecord)


def _amend(
    stored: Mapping[Any, R], computed: Iterable[R], period_of: Callable[[R], str], reason: str, at_ms: int
) -> tuple[list[R], list[Amendment]]:
    to_write: list[R] = []
    amendments: list[Amendment] = []
    for new in computed:
        old = stored.get(new.key)
        if old is not None and old.same_result(new):
            continue
        to_write.append(new)
        if old is not None:
            amendments.append(Amendment(
                new.plant, new.profile, new.pollutant, period_of(new), new.start_ms, old.quality, new.quality,
                old.value, new.value, old.version, new.version, _reason(old.version, new.version, reason), at_ms,
            ))
    return to_write, amendments


def amend_averages(
    stored: Mapping[AverageKey, AverageRecord], computed: Iterable[AverageRecord], reason: str, at_ms: int
) -> tuple[list[AverageRecord], list[Amendment]]:
    """The records to write (new or changed) and an amendment for each changed one."""
    return _amend(stored, computed, lambda r: r.period, reason, at_ms)


def amend_days(
    stored: Mapping[DayKey, DayRecord], computed: Iterable[DayRecord], reason: str, at_ms: int
) -> tuple[list[DayRecord], list[Amendment]]:
    """The day records to write (new or changed) and an amendment for each changed one."""
    return _amend(stored, computed, lambda r: "24h", reason, at_ms)
