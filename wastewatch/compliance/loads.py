"""Emission loads (mass emissions): kg of each pollutant per window, hour, local day, month and year,
from the windows the pipeline judged valid. Pure: `compliance.load_store` reads and writes them.

**Basis** [A] (`Profile.loads`, one basis for both factors):

    mass flow (kg/h) = c (mg/Nm³, dry, at measured O2) × Q (Nm³/h, dry, 273.15 K, 101.3 kPa) × 1e-6

- c is the CEMS concentration as measured, converted to dry where the channel is wet, **before** the
  O2 correction and without CI subtraction: the normalised value (at 11 % O2) describes a diluted or
  concentrated gas that did not leave the stack, and the CI is a margin for judging limits, not mass.
- Q is the flow meter's value, converted to dry with the paired H2O where the profile says the meter
  reports wet (`flow_basis`; for Kotim unconfirmed [U], dry assumed: it never understates the load).
- Each concentration sample is multiplied by the flow sample of its instant (paired within half a
  reporting period, as O2 is): mass flow is the mean of the products, not the product of the means.

**Which time counts.** A window (the profile's day basis: half-hours for the EU profile) counts when
the pipeline's average carries a value (valid, or abnormal operation: the mass left the stack either
way) and enough concentration samples pair with a valid flow (the profile's `min_valid_share` of the
expected samples, as for the average itself). Its mass is its mean mass flow × its effective operating
time (V1: burning, burn-out). A window that does not count contributes nothing, and its operating time
is reported as not covered: the loads are never extrapolated over missing data. The one estimate,
`LoadTotal.estimate_kg`, scales the covered mass to all operating hours and says so in its name.

    emission_load      tags plant, profile, pollutant, period (the day basis); time = window start
                       fields state (counted|not_valid|no_flow|idle), quality, kg, kg_h, covered_ms,
                       operating_ms, n_pairs, version
    emission_load_day  tags plant, profile, pollutant; time = local midnight
                       fields kg, covered_ms, operating_ms, n_counted, n_operating, version

Every window of a day-basis series gets a point (kg 0 when it does not count), so a recomputation
that takes a window's load away overwrites the old value instead of leaving it.
"""

from __future__ import annotations

import hashlib
import json
import math
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from wastewatch.compliance.normalise import nearest_indices
from wastewatch.compliance.pipeline import Series, pair_tolerance_ms, plan_series
from wastewatch.compliance.profiles import Loads, Profile
from wastewatch.compliance.quality import QualityCode
from wastewatch.compliance.results import WITH_VALUE
from wastewatch.compliance.samples import Sample, unique_by_time
from wastewatch.compliance.timeline import OperatingTimeline
from wastewatch.compliance.windows import day_bounds_ms, local_day, period_ms
from wastewatch.plant import PlantConfig, SensorSpec
from wastewatch.points import FieldValue, Point

EMISSION_LOAD = "emission_load"
EMISSION_LOAD_DAY = "emission_load_day"
LOADS_VERSION = "1"
"""Bump when the load arithmetic changes; stored with every load."""
MG_TO_KG = 1e-6
HOUR_MS = 3_600_000
CONCENTRATION_UNIT = "mg/Nm3"
FLOW_UNIT = "Nm3/h"

LoadState = Literal["counted", "not_valid", "no_flow", "idle"]
"""counted: the window's mass is in the load; not_valid: the pipeline's average carries no value;
no_flow: too few concentration samples pair with a valid flow; idle: no effective operating time."""
Bucket = Literal["hour", "day", "month", "year"]
BUCKETS: tuple[Bucket, ...] = ("hour", "day", "month", "year")


@dataclass(frozen=True, slots=True)
class LoadSeries:
    """One pollutant whose load a profile computes: its day-basis series and the plant's flow meter."""

    series: Series
    flow: SensorSpec
    h2o: SensorSpec | None
    settings: Loads

    @property
    def profile(self) -> Profile:
        return self.series.profile

    @property
    def pollutant(self) -> str:
        return self.series.pollutant

    @property
    def version(self) -> str:
        return load_version(self.profile)

    @property
    def sensor_ids(self) -> list[str]:
        """The channels the load is computed from: the concentration, the flow and (when a factor is wet) H2O."""
        extra = [self.h2o.id] if self.h2o is not None and self.needs_h2o else []
        return [self.series.sensor.id, self.flow.id, *extra]

    @property
    def needs_h2o(self) -> bool:
        return self.settings.flow_basis == "wet" or self.series.sensor.basis == "wet"


def load_version(profile: Profile) -> str:
    """`loads version + hash of the settings a load depends on` (loads basis and averaging rules)."""
    averaging = profile.averaging.model_dump(mode="json")
    averaging["effective_states"] = sorted(averaging["effective_states"])  # a set's order varies by process
    params = {"loads": profile.loads.model_dump(mode="json") if profile.loads else None, "averaging": averaging}
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:8]
    return f"{LOADS_VERSION}+{digest}"


def flow_sensor(plant: PlantConfig) -> SensorSpec | None:
    """The plant's flue-gas flow meter: the CEMS flow channel in Nm³/h (None: no loads can be computed)."""
    return next((s for s in plant.sensors if s.cems and s.quantity == "flow" and s.unit == FLOW_UNIT), None)


def plan_loads(plant: PlantConfig, profiles: Iterable[Profile]) -> list[LoadSeries]:
    """The loads the plant's profiles compute: every day-basis series in mg/Nm³ of a profile with
    `loads`, when the plant has a flow meter in Nm³/h."""
    flow = flow_sensor(plant)
    if flow is None:
        return []
    h2o = next((s for s in plant.sensors if s.cems and s.quantity == "moisture"), None)
    with_loads = [p for p in profiles if p.loads is not None]
    return [
        LoadSeries(s, flow, h2o, s.profile.loads)
        for s in plan_series(plant, with_loads)
        if s.day_basis and s.sensor.unit == CONCENTRATION_UNIT and s.profile.loads is not None
    ]


def mass_flow_kg_h(concentration_mg_nm3: float, flow_nm3_h: float) -> float:
    """kg/h from mg/Nm³ × Nm³/h on the same (dry) basis: 50 mg/Nm³ × 12,000 Nm³/h = 0.6 kg/h."""
    return concentration_mg_nm3 * flow_nm3_h * MG_TO_KG


def dry_flow(flow_wet_nm3_h: float, h2o_pct: float) -> float:
    """Q_dry = Q_wet × (100 − H2O %) / 100 (the volume without its water vapour)."""
    if not 0.0 <= h2o_pct < 100.0:
        raise ValueError(f"H2O {h2o_pct} % is outside [0, 100)")
    return flow_wet_nm3_h * (100.0 - h2o_pct) / 100.0


@dataclass(frozen=True, slots=True)
class WindowQuality:
    """What the pipeline said of one window: its start and quality (a stored or just computed average)."""

    start_ms: int
    quality: QualityCode


@dataclass(frozen=True, slots=True)
class WindowLoad:
    """One window's load."""

    plant: str
    profile: str
    pollutant: str
    period: str
    start_ms: int
    state: LoadState
    quality: QualityCode
    kg: float
    kg_h: float | None
    covered_ms: int
    operating_ms: int
    n_pairs: int
    version: str

    def to_point(self) -> Point:
        fields: dict[str, FieldValue] = {
            "state": self.state, "quality": self.quality.value, "kg": float(self.kg), "kg_h": float(self.kg_h or 0.0),
            "covered_ms": self.covered_ms, "operating_ms": self.operating_ms, "n_pairs": self.n_pairs, "version": self.version,
        }
        tags = {"plant": self.plant, "profile": self.profile, "pollutant": self.pollutant, "period": self.period}
        return Point(EMISSION_LOAD, tags, fields, self.start_ms)

    @classmethod
    def from_point(cls, point: Point) -> WindowLoad:
        f, t = point.fields, point.tags
        state = str(f.get("state", "idle"))
        counted = state == "counted"
        return cls(
            t["plant"], t["profile"], t["pollutant"], t.get("period", ""), point.time_ms,
            state if state in ("counted", "not_valid", "no_flow", "idle") else "idle",  # type: ignore[arg-type]
            QualityCode(str(f.get("quality", QualityCode.NO_WASTE.value))),
            _number(f.get("kg")) if counted else 0.0, _number(f.get("kg_h")) if counted else None,
            int(_number(f.get("covered_ms"))) if counted else 0, int(_number(f.get("operating_ms"))),
            int(_number(f.get("n_pairs"))), str(f.get("version", "")),
        )


@dataclass(frozen=True, slots=True)
class DayLoad:
    """One local day's load: the sum of its windows."""

    plant: str
    profile: str
    pollutant: str
    day: date
    start_ms: int
    kg: float
    covered_ms: int
    operating_ms: int
    n_counted: int
    n_operating: int
    version: str

    def to_point(self) -> Point:
        fields: dict[str, FieldValue] = {
            "kg": float(self.kg), "covered_ms": self.covered_ms, "operating_ms": self.operating_ms,
            "n_counted": self.n_counted, "n_operating": self.n_operating, "version": self.version,
        }
        return Point(EMISSION_LOAD_DAY, {"plant": self.plant, "profile": self.profile, "pollutant": self.pollutant}, fields,
                     self.start_ms)

    @classmethod
    def from_point(cls, point: Point, zone: ZoneInfo) -> DayLoad:
        f, t = point.fields, point.tags
        return cls(
            t["plant"], t["profile"], t["pollutant"], local_day(point.time_ms, zone), point.time_ms, _number(f.get("kg")),
            int(_number(f.get("covered_ms"))), int(_number(f.get("operating_ms"))), int(_number(f.get("n_counted"))),
            int(_number(f.get("n_operating"))), str(f.get("version", "")),
        )


def window_loads(
    plant_id: str,
    load: LoadSeries,
    samples: Mapping[str, Sequence[Sample]],
    timeline: OperatingTimeline,
    windows: Iterable[WindowQuality],
) -> list[WindowLoad]:
    """The load of each window of `load`'s series from the samples of its channels (by sensor id) and
    the pipeline's quality of each window."""
    series, profile = load.series, load.profile
    sensor = series.sensor
    length = period_ms(series.period)
    effective = profile.averaging.effective_states
    times, products = _products(load, samples)
    version = load.version
    found: list[WindowLoad] = []
    for window in sorted(windows, key=lambda w: w.start_ms):
        start, end = window.start_ms, window.start_ms + length
        operating = timeline.effective_ms(start, end, effective)

        def make(state: LoadState, kg: float = 0.0, kg_h: float | None = None, n: int = 0,
                 w: WindowQuality = window, op: int = operating) -> WindowLoad:
            covered = op if state == "counted" else 0
            return WindowLoad(plant_id, profile.id, series.pollutant, series.period, w.start_ms, state, w.quality, kg, kg_h,
                              covered, op, n, version)

        if operating == 0:
            found.append(make("idle"))
            continue
        if window.quality not in WITH_VALUE:
            found.append(make("not_valid"))
            continue
        lo, hi = bisect_left(times, start), bisect_left(times, end)
        if operating == end - start:
            inside = [p for p in products[lo:hi] if p is not None]
        else:
            state_at = timeline.state_at
            inside = [p for t, p in zip(times[lo:hi], products[lo:hi]) if p is not None and state_at(t) in effective]
        expected = max(1, math.ceil(operating / (sensor.period_s * 1000)))
        if not inside or len(inside) / expected < profile.averaging.min_valid_share:
            found.append(make("no_flow", n=len(inside)))
            continue
        rate = math.fsum(inside) / len(inside) * MG_TO_KG  # mean of c × Q in mg/h → kg/h
        found.append(make("counted", rate * operating / HOUR_MS, rate, len(inside)))
    return found


def _products(load: LoadSeries, samples: Mapping[str, Sequence[Sample]]) -> tuple[list[int], list[float | None]]:
    """Each concentration sample's time and c_dry × Q_dry in mg/h (None: the sample or its partners are not valid)."""
    sensor = load.series.sensor
    conc = unique_by_time(samples.get(sensor.id, ()))
    times = [s.time_ms for s in conc]
    tolerance = pair_tolerance_ms(sensor)
    flow = unique_by_time(samples.get(load.flow.id, ()))
    flow_at = nearest_indices(times, [s.time_ms for s in flow], tolerance)
    h2o: list[Sample] = []
    h2o_at: list[int] = [-1] * len(times)
    if load.needs_h2o and load.h2o is not None:
        h2o = unique_by_time(samples.get(load.h2o.id, ()))
        h2o_at = nearest_indices(times, [s.time_ms for s in h2o], tolerance)
    wet_conc, wet_flow = sensor.basis == "wet", load.settings.flow_basis == "wet"
    products: list[float | None] = []
    for c, i, j in zip(conc, flow_at, h2o_at):
        q = flow[i] if i >= 0 else None
        if c.status != "valid" or q is None or q.status != "valid":
            products.append(None)
            continue
        c_value, q_value = c.value, q.value
        if wet_conc or wet_flow:
            w = h2o[j] if j >= 0 else None
            if w is None or w.status != "valid" or not 0.0 <= w.value < 100.0:
                products.append(None)
                continue
            if wet_conc:
                c_value = c_value * 100.0 / (100.0 - w.value)
            if wet_flow:
                q_value = dry_flow(q_value, w.value)
        product = c_value * q_value
        # a non-finite or negative product is no mass (the ingest's plausible ranges keep both out already)
        products.append(product if math.isfinite(product) and product >= 0.0 else None)
    return times, products


def day_loads(windows: Iterable[WindowLoad], zone: ZoneInfo) -> list[DayLoad]:
    """Each local day's load, summed from its windows (one per profile, pollutant and day)."""
    grouped: dict[tuple[str, str, str, date], list[WindowLoad]] = defaultdict(list)
    for w in windows:
        grouped[(w.plant, w.profile, w.pollutant, local_day(w.start_ms, zone))].append(w)
    days: list[DayLoad] = []
    for (plant, profile, pollutant, day), parts in sorted(grouped.items()):
        counted = [w for w in parts if w.state == "counted"]
        days.append(DayLoad(
            plant, profile, pollutant, day, day_bounds_ms(day, zone)[0], math.fsum(w.kg for w in counted),
            sum(w.covered_ms for w in counted), sum(w.operating_ms for w in parts), len(counted),
            sum(1 for w in parts if w.operating_ms > 0), parts[0].version,
        ))
    return days


@dataclass(frozen=True, slots=True)
class CalendarBucket:
    """One hour, local day, month or year, clipped to the range asked for."""

    key: str
    start_ms: int
    end_ms: int

    @property
    def hours(self) -> float:
        return (self.end_ms - self.start_ms) / HOUR_MS


def calendar_buckets(by: Bucket, start_ms: int, end_ms: int, zone: ZoneInfo) -> list[CalendarBucket]:
    """The local hours, days, months or years that [start_ms, end_ms) touches, each clipped to it."""
    found: list[CalendarBucket] = []
    key, begin, after = _floor(by, start_ms, zone)
    while begin < end_ms:
        found.append(CalendarBucket(key, max(begin, start_ms), min(after, end_ms)))
        key, begin, following = _floor(by, after, zone)
        begin, after = after, max(following, after + 1)  # each bucket starts where the last ended
    return found


def _floor(by: Bucket, time_ms: int, zone: ZoneInfo) -> tuple[str, int, int]:
    """(key, start, end) of the bucket holding `time_ms`."""
    local = datetime.fromtimestamp(time_ms / 1000, tz=zone)
    if by == "hour":
        begin = int(local.replace(minute=0, second=0, microsecond=0).timestamp() * 1000)
        begin = begin if begin <= time_ms else time_ms - time_ms % HOUR_MS
        return datetime.fromtimestamp(begin / 1000, tz=zone).isoformat(timespec="minutes"), begin, begin + HOUR_MS
    day = local.date()
    if by == "day":
        first, after = day, day + timedelta(days=1)
        key = first.isoformat()
    elif by == "month":
        first = day.replace(day=1)
        after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        key = f"{first.year:04d}-{first.month:02d}"
    else:
        first, after = date(day.year, 1, 1), date(day.year + 1, 1, 1)
        key = f"{first.year:04d}"
    return key, day_bounds_ms(first, zone)[0], day_bounds_ms(after, zone)[0]


@dataclass(frozen=True, slots=True)
class LoadTotal:
    """One pollutant's load over one bucket, with its coverage.

    `kg` is measured mass only; `covered_h` the effective operating hours of the windows that counted,
    `operating_h` all effective operating hours, `period_h` the hours of the bucket (clipped to the
    range). `estimate_kg` is an **estimate, not a measurement**: the mean mass flow of the covered hours
    over every operating hour (None without covered hours)."""

    profile: str
    pollutant: str
    key: str
    start_ms: int
    end_ms: int
    kg: float
    covered_h: float
    operating_h: float
    period_h: float

    @property
    def tonnes(self) -> float:
        return self.kg / 1000

    @property
    def coverage(self) -> float | None:
        """Hours covered ÷ hours in the period."""
        return self.covered_h / self.period_h if self.period_h > 0 else None

    @property
    def operating_coverage(self) -> float | None:
        """Hours covered ÷ effective operating hours."""
        return self.covered_h / self.operating_h if self.operating_h > 0 else None

    @property
    def kg_h(self) -> float | None:
        """The mean mass flow while covered."""
        return self.kg / self.covered_h if self.covered_h > 0 else None

    @property
    def estimate_kg(self) -> float | None:
        return self.kg * self.operating_h / self.covered_h if self.covered_h > 0 else None


@dataclass(frozen=True, slots=True)
class LoadPart:
    """A stored window or day load reduced to what a total adds up."""

    profile: str
    pollutant: str
    start_ms: int
    kg: float
    covered_ms: int
    operating_ms: int

    @classmethod
    def of(cls, load: WindowLoad | DayLoad) -> LoadPart:
        return cls(load.profile, load.pollutant, load.start_ms, load.kg, load.covered_ms, load.operating_ms)


def totals(parts: Iterable[LoadPart], buckets: Sequence[CalendarBucket], keys: Iterable[tuple[str, str]]) -> list[LoadTotal]:
    """Each (profile, pollutant) of `keys` over each bucket: a part belongs to the bucket its start is in;
    a bucket without parts is a zero load with zero hours covered (nothing invented)."""
    starts = [b.start_ms for b in buckets]
    summed: dict[tuple[str, str, int], list[LoadPart]] = defaultdict(list)
    for part in parts:
        i = bisect_left(starts, part.start_ms + 1) - 1
        if i >= 0 and part.start_ms < buckets[i].end_ms:
            summed[(part.profile, part.pollutant, i)].append(part)
    found: list[LoadTotal] = []
    for profile, pollutant in keys:
        for i, b in enumerate(buckets):
            inside = summed.get((profile, pollutant, i), [])
            found.append(LoadTotal(
                profile, pollutant, b.key, b.start_ms, b.end_ms, math.fsum(p.kg for p in inside),
                sum(p.covered_ms for p in inside) / HOUR_MS, sum(p.operating_ms for p in inside) / HOUR_MS, b.hours,
            ))
    return found


def _number(value: FieldValue | None) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0
