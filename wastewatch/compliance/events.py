"""Abnormal-operation events at the resolution of the data: the stored half-hours over column A say
that there is an event (`regulatory.abnormal_intervals`), the plant's validated CEMS samples around
them say when it began and ended (`abnormal.measure_events`); `compliance.event_store` reads both.

The jobs keep the events they measure as a measurement, so summaries count hours without samples:

    abnormal_event   tags plant, profile; time = the event's start
                     fields end_ms (as far as measured), duration_ms, running, void

A recomputation that no longer finds an event starting at a stored time overwrites it as void.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from wastewatch.compliance.pipeline import Series, plan_series
from wastewatch.compliance.profiles import Profile
from wastewatch.compliance.timeline import Interval
from wastewatch.plant import PlantConfig
from wastewatch.points import FieldValue, Point

ABNORMAL_EVENT = "abnormal_event"
EVENT_LOOKBACK_MS = 86_400_000
"""An event measured for a range may have begun this long before it (its start is kept exactly)."""

HALF_HOUR_MS = 1_800_000
SAMPLE_PAD_MS = HALF_HOUR_MS
"""Samples are read this far around an event's half-hours: an exceedance that began earlier than that
would have put the half-hour before over column A too."""


def column_a_series(plant: PlantConfig, profile: Profile) -> list[tuple[Series, float]]:
    """The half-hour series of every pollutant with a column A limit that the plant measures, with that limit."""
    found: list[tuple[Series, float]] = []
    for s in plan_series(plant, [profile]):
        limit = profile.limit(s.pollutant, "A100")
        if s.period == "30min" and limit is not None:
            found.append((s, limit.value))
    return found


def sample_spans(runs: Sequence[Interval], now_ms: int | None) -> list[tuple[int, int]]:
    """The spans of samples to read around the half-hour runs: padded, overlapping ones joined (one read
    each), none past `now_ms`."""
    spans: list[tuple[int, int]] = []
    for run in runs:
        start, end = run.start_ms - SAMPLE_PAD_MS, (run.end_ms or run.start_ms) + SAMPLE_PAD_MS
        if now_ms is not None:
            end = min(end, now_ms)
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((start, end))
    return spans


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One stored event: [start_ms, end_ms), measured as far as `end_ms` while it runs."""

    plant: str
    profile: str
    start_ms: int
    end_ms: int
    running: bool

    def overlap_ms(self, start_ms: int, end_ms: int) -> int:
        return max(0, min(self.end_ms, end_ms) - max(self.start_ms, start_ms))

    def to_point(self, *, void: bool = False) -> Point:
        """The event as stored; `void` overwrites one a recomputation no longer finds."""
        fields: dict[str, FieldValue] = {
            "end_ms": int(self.end_ms), "duration_ms": 0 if void else int(self.end_ms - self.start_ms),
            "running": self.running and not void, "void": void,
        }
        return Point(ABNORMAL_EVENT, {"plant": self.plant, "profile": self.profile}, fields, self.start_ms)

    @classmethod
    def from_point(cls, point: Point, plant_id: str, profile_id: str) -> StoredEvent | None:
        """The stored event, or None for a void one or one without an end."""
        end = point.fields.get("end_ms")
        if point.fields.get("void") is True or isinstance(end, bool) or not isinstance(end, (int, float)):
            return None
        return cls(plant_id, profile_id, point.time_ms, int(end), point.fields.get("running") is True)
