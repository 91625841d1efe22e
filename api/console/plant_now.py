"""What a plant is doing now, for the console's overview: its operating state, its chamber
temperatures against the process requirements of its profiles (P.56: 800 °C primary, 1000 °C
secondary, read from the profile, never typed here), the newest valid stored averages against their
limits, its devices online or offline, its open alerts.

The queries are the API's own (`api.latest`: the newest reading per sensor and the plant state), plus
two of the same kind: the newest `device_status` per device (one `Store.latest` query) and the
averages stored in the last hours (one `select` per measurement). Nothing is cached: the page asks
every few seconds and each answer is a handful of small queries.
"""

from __future__ import annotations

from dataclasses import dataclass

from alerts.queries import AlertFilter
from alerts.store import AlertRecord, AlertStore
from api.latest import CurrentState, LatestReading, current_state, latest_readings
from api.routes.plants import SILENT_AFTER_PERIODS
from api.summaries.profiles import plant_profiles
from wastewatch.compliance.pipeline import plan_series
from wastewatch.compliance.profiles import RULE_SHARE, UNCONFIRMED, PercentileRule, ProcessRequirement, Profile
from wastewatch.compliance.quality import QualityCode
from wastewatch.compliance.results import EMISSION_AVG, EMISSION_DAY
from wastewatch.plant import PlantConfig
from wastewatch.points import Store
from wastewatch.records import DEVICE_STATUS
from wastewatch.relational import Database

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
READING_LOOKBACK_MS = DAY_MS
AVERAGE_LOOKBACK_MS = 3 * HOUR_MS  # short averages: the newest valid one of the last three hours
DAY_AVERAGE_LOOKBACK_MS = 3 * DAY_MS  # daily averages: of the last three days
DEVICE_LOOKBACK_MS = 366 * DAY_MS  # a status is published on change (retained): it may be old
OPEN_ALERTS = 50
_COMPARE = {">=": float.__ge__, ">": float.__gt__, "<=": float.__le__, "<": float.__lt__}


@dataclass(frozen=True, slots=True)
class RequirementNow:
    """One process requirement on a sensor (`t_secondary >= 1000 degC`) and the sensor's newest reading."""

    profile: str
    requirement: ProcessRequirement
    description: str
    reading: LatestReading | None
    fresh: bool
    """The reading is no older than three of the sensor's periods (the API's `reporting`)."""
    applies: bool | None
    """The requirement applies in the plant's current state; None: the state is unknown."""

    @property
    def confirmed(self) -> bool:
        return self.requirement.status not in UNCONFIRMED

    @property
    def met(self) -> bool | None:
        if self.reading is None:
            return None
        return bool(_COMPARE[self.requirement.op](self.reading.value, float(self.requirement.value)))


@dataclass(frozen=True, slots=True)
class AverageNow:
    """One emission limit and the newest valid stored average of its period."""

    profile: Profile
    pollutant: str
    period: str
    rule: PercentileRule
    limit_value: float
    unit: str
    confirmed: bool
    value: float | None
    start_ms: int | None

    @property
    def share(self) -> float:
        """The share of averages the rule requires within the limit (1 for A100, 0.97 for B97)."""
        return RULE_SHARE[self.rule]

    @property
    def exceeds(self) -> bool | None:
        """Above the limit (the compliance checks' rule: a valid value above it exceeds it); None: no value."""
        return None if self.value is None else self.value > self.limit_value


@dataclass(frozen=True, slots=True)
class DeviceNow:
    device: str
    online: bool | None
    """None: the device never published a status."""
    since_ms: int | None


@dataclass(frozen=True, slots=True)
class PlantNow:
    plant: PlantConfig
    now_ms: int
    state: CurrentState | None
    requirements: tuple[RequirementNow, ...]
    averages: tuple[AverageNow, ...]
    devices: tuple[DeviceNow, ...]
    alerts: tuple[AlertRecord, ...]


def process_requirements(plant: PlantConfig) -> list[tuple[Profile, ProcessRequirement]]:
    """The requirements of the plant's process profiles that a sensor of the plant measures (P.56's
    chamber temperatures), in the profiles' order; design constants are left out."""
    return [(profile, req) for profile in plant_profiles(plant) if profile.kind == "process_requirements"
            for req in profile.requirements if not req.design_constant and plant.sensor(req.parameter) is not None]


def plant_now(store: Store, db: Database, plant: PlantConfig, now_ms: int) -> PlantNow:
    state = current_state(store, plant.id, now_ms)
    readings = latest_readings(store, plant.id, now_ms - READING_LOOKBACK_MS, now_ms)
    return PlantNow(plant, now_ms, state, tuple(_requirements(plant, readings, state, now_ms)),
                    tuple(latest_averages(store, plant, now_ms)), tuple(devices_now(store, plant, now_ms)),
                    tuple(open_alerts(db, plant.id)))


def _requirements(plant: PlantConfig, readings: dict[str, LatestReading], state: CurrentState | None,
                  now_ms: int) -> list[RequirementNow]:
    out = []
    for profile, req in process_requirements(plant):
        spec = plant.sensor(req.parameter)
        assert spec is not None  # process_requirements keeps only the plant's sensors
        reading = readings.get(req.parameter)
        fresh = reading is not None and now_ms - reading.time_ms <= SILENT_AFTER_PERIODS * spec.period_s * 1000
        applies = None if state is None else (req.states is None or state.state in req.states)
        out.append(RequirementNow(profile.id, req, spec.description, reading, fresh, applies))
    return out


def latest_averages(store: Store, plant: PlantConfig, now_ms: int) -> list[AverageNow]:
    """Every limit of the plant's emission-limit profiles on a pollutant it measures (but periodic
    samples) with the newest valid stored average of its period: short averages of the last three
    hours, daily ones of the last three days."""
    newest: dict[tuple[str, str, str], tuple[int, float]] = {}
    short = store.select(EMISSION_AVG, where={"plant": plant.id}, start_ms=now_ms - AVERAGE_LOOKBACK_MS, end_ms=now_ms + 1)
    daily = store.select(EMISSION_DAY, where={"plant": plant.id}, start_ms=now_ms - DAY_AVERAGE_LOOKBACK_MS, end_ms=now_ms + 1)
    for point in [*short, *daily]:
        value = point.fields.get("value")
        if point.fields.get("quality") != QualityCode.VALID.value or not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        period = point.tags.get("period", "24h") if point.measurement == EMISSION_AVG else "24h"
        key = (point.tags.get("profile", ""), point.tags.get("pollutant", ""), period)
        if key not in newest or point.time_ms >= newest[key][0]:
            newest[key] = (point.time_ms, float(value))
    out = []
    selected = [p for p in plant_profiles(plant) if p.kind == "emission_limits"]
    measured = {(s.profile.id, s.pollutant) for s in plan_series(plant, selected)}  # the plant's CEMS channels
    for profile in selected:
        for lim in profile.limits:
            if lim.avg_period == "sampling" or (profile.id, lim.pollutant) not in measured:
                continue
            found = newest.get((profile.id, lim.pollutant, lim.avg_period))
            out.append(AverageNow(profile, lim.pollutant, lim.avg_period, lim.rule, lim.value, lim.unit,
                                  lim.confirmed and profile.status not in UNCONFIRMED,
                                  found[1] if found else None, found[0] if found else None))
    return out


def devices_now(store: Store, plant: PlantConfig, now_ms: int) -> list[DeviceNow]:
    """Each of the plant's devices with the newest status it published (online or offline), if any."""
    points = store.latest(DEVICE_STATUS, "online", where={"plant": plant.id}, start_ms=now_ms - DEVICE_LOOKBACK_MS,
                          end_ms=now_ms + 1, group_by=("device",))
    seen = {p.tags.get("device", ""): p for p in points}
    out = []
    for device in [*plant.devices, *sorted(set(seen) - set(plant.devices))]:
        point = seen.get(device)
        online = point.fields.get("online") if point is not None else None
        out.append(DeviceNow(device, None if online is None else bool(online), point.time_ms if point is not None else None))
    return out


def open_alerts(db: Database, plant_id: str) -> list[AlertRecord]:
    """The plant's active alerts, unacknowledged first, critical first, newest first."""
    found = AlertStore(db).find(AlertFilter(plant=plant_id, active=True, limit=OPEN_ALERTS))
    return sorted(found, key=lambda a: (a.acknowledged, a.severity != "critical", -a.raised_at_ms))
