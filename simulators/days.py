"""Scenario days with known compliance outcomes: a local calendar day of the daily schedule (pre-heat
05:00, feeding 06:00-21:00) with fault windows placed on the local clock, and what the compliance
engine must conclude from it (domain.md §4: 2, 8, 11).

    calibration_heavy  three 60-min CEMS calibrations at 08:00, 11:00 and 14:00: each covers two
                       whole half-hours, so 6 are discarded (maintenance) and V4 (≤ 5) breaks
    scrubber_failure   caustic dosing fails 10:00-14:30: SO2 breaks through at 250-450 mg/Nm3 against
                       column A 200, which starts the abnormal-operation clock minutes after 10:00; past
                       3 h at 13:30 (major), past 4 h at 14:30 (HCl, soluble in plain water, stays under A)
    overcharge_day     an oversized batch in every half-hour 08:00-18:00 (20 of them): CO 250-900 for
                       2-10 min each, so far more than 5 % of the day's 10-min averages exceed 150 and
                       half-hours exceed 100: the CO 10-minute rule (V7) is breached
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from simulators.scenarios import FaultWindow

HOUR_S = 3600.0


@dataclass(frozen=True, slots=True)
class ScenarioDay:
    """A named day: its fault windows, each at a local time of the day, and the expected outcome in words."""

    name: str
    expected: str
    windows: tuple[tuple[str, time, float], ...]
    """(fault name, local start, duration s)."""

    def faults(self, day: date, zone: ZoneInfo) -> list[FaultWindow]:
        return [
            FaultWindow(name, round(datetime.combine(day, start, tzinfo=zone).timestamp() * 1000), duration_s)
            for name, start, duration_s in self.windows
        ]


def _every_half_hour(name: str, first_h: int, last_h: int) -> tuple[tuple[str, time, float], ...]:
    return tuple((name, time(h, m), 1800.0) for h in range(first_h, last_h) for m in (0, 30))


SCENARIO_DAYS: dict[str, ScenarioDay] = {
    day.name: day
    for day in (
        ScenarioDay(
            "calibration_heavy", "6 discarded half-hours: V4 broken, the day invalid",
            tuple(("cems_calibration", time(h), HOUR_S) for h in (8, 11, 14)),
        ),
        ScenarioDay(
            "scrubber_failure", "SO2 over column A from 10:00: abnormal-operation clock past 3 h at 13:30",
            (("scrubber_failure", time(10), 4.5 * HOUR_S),),
        ),
        ScenarioDay(
            "overcharge_day", "20 oversized batches: the CO 10-minute rule breached",
            _every_half_hour("overcharge", 8, 18),
        ),
    )
}


def scenario_day(name: str) -> ScenarioDay:
    if name not in SCENARIO_DAYS:
        raise ValueError(f"unknown scenario day {name!r}; known: {', '.join(SCENARIO_DAYS)}")
    return SCENARIO_DAYS[name]


