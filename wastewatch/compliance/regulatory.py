"""Regulatory findings: what a job's results mean for the agency (domain.md §8.5). After each
half-hour job: half-hour column A (and the Indonesian hourly limits), the CO 10-minute rule over the
trailing 24 h, V4 at risk, the abnormal-operation clock; after each day job: daily averages and the
quarter's data availability. Each finding is holding (raise, or keep, its alert) or not (clear it).

Pure judgments on stored results; `alerts.regulatory` turns findings into alert events.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from wastewatch.compliance.abnormal import reached
from wastewatch.compliance.profiles import UNCONFIRMED, Limit, PercentileRule, Profile, StatusTag
from wastewatch.compliance.quality import DISCARDED, IDLE, QualityCode
from wastewatch.compliance.results import AverageRecord, DayRecord
from wastewatch.compliance.timeline import Interval
from wastewatch.compliance.validity import QuarterAvailability
from wastewatch.compliance.windows import PERIOD_MINUTES, day_bounds_ms, quarter_days, quarter_of

Check = Literal[
    "half_hour_a", "hourly_limit", "daily_average", "co_10min_rule", "v4_at_risk", "quarter_availability",
    "abnormal_3h", "abnormal_4h",
]
Severity = Literal["critical", "major", "minor", "warning"]
SEVERITY: Mapping[Check, Severity] = {
    "half_hour_a": "major", "hourly_limit": "major", "daily_average": "major", "co_10min_rule": "major",
    "v4_at_risk": "warning", "quarter_availability": "warning", "abnormal_3h": "major", "abnormal_4h": "critical",
}
WHAT: Mapping[Check, str] = {
    "half_hour_a": "half-hour average above column A",
    "hourly_limit": "hourly average above the limit",
    "daily_average": "daily average above the limit",
    "co_10min_rule": "CO 10-minute rule breached",
    "v4_at_risk": "V4 at risk: discarded half-hours today",
    "quarter_availability": "quarterly data availability projected under the minimum",
    "abnormal_3h": "abnormal operation past the warning time",
    "abnormal_4h": "abnormal operation past the 4 h cap",
}
WINDOW_RULES: Mapping[str, tuple[PercentileRule, Check]] = {"30min": ("A100", "half_hour_a"), "1h": ("H100", "hourly_limit")}
HOUR_MS = 3_600_000
CO_WINDOW_H = 24.0


@dataclass(frozen=True, slots=True)
class Finding:
    """One judged regulatory condition of one plant, profile and subject (a pollutant, or a profile-wide name)."""

    check: Check
    plant: str
    profile: str
    subject: str
    holding: bool
    since_ms: int
    """Start of the judged period (a window, a day, or the abnormal event)."""
    judged_at_ms: int
    """End of the judged period: when the finding is true."""
    value: float | None
    limit: float | None
    unit: str
    period: str
    source: str
    status: StatusTag
    detail: str = ""

    @property
    def severity(self) -> Severity:
        return SEVERITY[self.check]

    @property
    def confirmed(self) -> bool:
        return self.status not in UNCONFIRMED

    @property
    def rule_id(self) -> str:
        return f"regulatory_{self.check}"

    @property
    def alert_subject(self) -> str:
        return f"{self.profile}:{self.subject}"

    @property
    def message(self) -> str:
        """Value, limit, unit, period, source and whether the limit is confirmed, in one line."""
        state = WHAT[self.check] if self.holding else f"back within: {WHAT[self.check]}"
        limit = "" if self.limit is None else f" (limit {_num(self.limit)} {self.unit})".replace(" )", ")")
        confirmed = "limit confirmed" if self.confirmed else "limit UNCONFIRMED"
        extra = f"; {self.detail}" if self.detail else ""
        return (
            f"{self.subject} {state}: {_num(self.value)} {self.unit}{limit}, {self.period}, profile {self.profile}; "
            f"source {self.source}; [{self.status}] {confirmed}{extra}"
        ).replace("  ", " ")


def _num(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.2f}".rstrip("0").rstrip(".") if abs(value) < 100 else f"{value:.0f}"


def _local(ms: int, zone: ZoneInfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return datetime.fromtimestamp(ms / 1000, tz=zone).strftime(fmt)


def window_text(start_ms: int, period: str, zone: ZoneInfo) -> str:
    end_ms = start_ms + PERIOD_MINUTES[period] * 60_000  # type: ignore[index]
    return f"{period} average {_local(start_ms, zone)}-{_local(end_ms, zone, '%H:%M %Z')}"


def _usable(record: AverageRecord) -> bool:
    return record.quality == QualityCode.VALID and record.value is not None


# -- after a half-hour job -------------------------------------------------------------------------


def judge_windows(profile: Profile, records: Iterable[AverageRecord], zone: ZoneInfo) -> list[Finding]:
    """Half-hour column A (A100) and hourly (H100) limits on the newest usable window of each series."""
    latest: dict[tuple[str, str], AverageRecord] = {}
    for r in records:
        if r.profile == profile.id and _usable(r) and r.start_ms >= latest.get((r.pollutant, r.period), r).start_ms:
            latest[(r.pollutant, r.period)] = r
    findings: list[Finding] = []
    for (pollutant, period), r in sorted(latest.items()):
        if period not in WINDOW_RULES:
            continue
        rule, check = WINDOW_RULES[period]
        limit = profile.limit(pollutant, rule)
        if limit is not None:
            findings.append(_limit_finding(check, r, limit, window_text(r.start_ms, period, zone)))
    return findings


def _limit_finding(check: Check, r: AverageRecord, limit: Limit, period: str) -> Finding:
    end_ms = r.start_ms + PERIOD_MINUTES[r.period] * 60_000  # type: ignore[index]
    value = r.value if r.value is not None else math.nan
    return Finding(
        check, r.plant, r.profile, r.pollutant, value > limit.value, r.start_ms, end_ms, r.value, limit.value, limit.unit,
        period, limit.source, limit.status,
    )


def judge_co_rule(
    profile: Profile, plant: str, tens: Sequence[AverageRecord], halves: Sequence[AverageRecord], end_ms: int,
    zone: ZoneInfo, pollutant: str = "co", window_h: float = CO_WINDOW_H,
) -> Finding | None:
    """V7's short-term test over the `window_h` before `end_ms`: breached when fewer than 95 % of the
    usable 10-min averages are within the 10-min limit AND a usable half-hour is above column A."""
    ten, col_a = profile.limit(pollutant, "CO95"), profile.limit(pollutant, "A100")
    if ten is None or col_a is None:
        return None
    start_ms = end_ms - round(window_h * HOUR_MS)
    ten_values = [t.value for t in tens if _usable(t) and t.value is not None and start_ms <= t.start_ms < end_ms]
    half_values = [h.value for h in halves if _usable(h) and h.value is not None and start_ms <= h.start_ms < end_ms]
    if not ten_values and not half_values:
        return None
    share = sum(1 for v in ten_values if v <= ten.value) / len(ten_values) if ten_values else None
    over = sum(1 for v in half_values if v > col_a.value)
    breached = over > 0 and (share is None or share < ten.required_share)
    detail = (
        f"{over} half-hour(s) above {_num(col_a.value)} {col_a.unit}; "
        f"{len(ten_values)} usable 10-min averages, required {ten.required_share:.0%} within {_num(ten.value)} {ten.unit}"
    )
    return Finding(
        "co_10min_rule", plant, profile.id, pollutant, breached, start_ms, end_ms,
        None if share is None else round(share * 100, 2), ten.required_share * 100, "%",
        f"10-min averages within {_num(ten.value)} {ten.unit} in the {window_h:g} h to {_local(end_ms, zone, '%Y-%m-%d %H:%M %Z')}",
        ten.source, ten.status, detail,
    )


def judge_v4(
    profile: Profile, plant: str, today: Sequence[AverageRecord], day_start_ms: int, end_ms: int, zone: ZoneInfo
) -> Finding | None:
    """V4 at risk: the pollutant with the most discarded half-hours today has `max − 1` or more."""
    max_discarded = profile.averaging.max_discarded_half_hours_per_day
    counts: dict[str, int] = {}
    for r in today:
        if r.profile == profile.id and r.period == "30min" and day_start_ms <= r.start_ms < end_ms:
            counts[r.pollutant] = counts.get(r.pollutant, 0) + (r.quality in DISCARDED)
    if not counts:
        return None
    worst = max(counts.values())
    names = ", ".join(f"{p} {n}" for p, n in sorted(counts.items()) if n == worst)
    return Finding(
        "v4_at_risk", plant, profile.id, "v4", worst >= max_discarded - 1, day_start_ms, end_ms, float(worst),
        float(max_discarded), "half-hours", f"discarded half-hours on {_local(day_start_ms, zone, '%Y-%m-%d')} so far",
        "IED Annex VI Part 8 1.2 (V4) S16", "C", f"most discarded: {names}; more than {max_discarded} makes the day invalid",
    )


def abnormal_intervals(profile: Profile, half_hours: Iterable[AverageRecord]) -> list[Interval]:
    """[A] Abnormal operation as the stored averages show it: runs of consecutive half-hours in which
    any pollutant's value is above its column A limit, each run one event [start of the first, end of
    the last). The samples then say when each began and ended (`compliance.event_store.read_abnormal_events`).

    Read from stored values only: the averages are not recoded abnormal_operation by this (that
    would need the operator's declaration of a failure, IED Art. 46(6)), so V6 still counts them.
    """
    half_ms = PERIOD_MINUTES["30min"] * 60_000
    over: set[int] = set()
    for r in half_hours:
        limit = profile.limit(r.pollutant, "A100")
        carries = r.quality in (QualityCode.VALID, QualityCode.ABNORMAL_OPERATION)
        if r.profile == profile.id and r.period == "30min" and limit and carries and r.value is not None and r.value > limit.value:
            over.add(r.start_ms)
    intervals: list[Interval] = []
    for start in sorted(over):
        if intervals and intervals[-1].end_ms == start:
            intervals[-1] = Interval(intervals[-1].start_ms, start + half_ms)
        else:
            intervals.append(Interval(start, start + half_ms))
    return intervals


def judge_abnormal_clock(profile: Profile, plant: str, events: Iterable[Interval], now_ms: int, zone: ZoneInfo) -> list[Finding]:
    """The event running at `now_ms` (end None, see `abnormal.measure_events`) against the notice and
    the cap, each holding from the moment the event has lasted it; without a running event both are
    not holding (a finished event clears its alerts)."""
    rules = profile.abnormal_operation
    if rules is None:
        return []
    caps: tuple[tuple[Check, float, str, StatusTag], ...] = (
        ("abnormal_3h", rules.warn_event_h, rules.warn_event_h_source, rules.warn_event_h_status),
        ("abnormal_4h", rules.max_event_h, rules.source, rules.status),
    )
    running = next((e for e in events if e.end_ms is None and e.start_ms <= now_ms), None)
    ran_ms = 0 if running is None else now_ms - running.start_ms
    since = now_ms if running is None else running.start_ms
    period = "no event running" if running is None else f"event since {_local(since, zone, '%Y-%m-%d %H:%M %Z')}"
    findings: list[Finding] = []
    for check, cap, source, status in caps:
        holding = running is not None and reached(ran_ms, cap)
        at = f"{_num(cap)} h reached at {_local(since + round(cap * HOUR_MS), zone, '%H:%M %Z')}; " if holding else ""
        findings.append(Finding(
            check, plant, profile.id, "abnormal_operation", holding, since, now_ms, round(ran_ms / HOUR_MS, 2), cap, "h", period,
            source, status, f"{at}year cap {_num(rules.max_year_h)} h; dust cap {_num(rules.dust_cap_mg_nm3)} mg/Nm3",
        ))
    return findings


# -- after a day job ---------------------------------------------------------------------------------


def judge_days(profile: Profile, days: Iterable[DayRecord], zone: ZoneInfo) -> list[Finding]:
    """Daily averages against the D100 daily limits (CO's D97 day is a V7 share, judged over the year)."""
    findings: list[Finding] = []
    for d in sorted(days, key=lambda r: (r.pollutant, r.start_ms)):
        limit = profile.limit(d.pollutant, "D100")
        if d.profile != profile.id or limit is None or not d.valid or d.value is None:
            continue
        end_ms = d.start_ms + 86_400_000
        findings.append(Finding(
            "daily_average", d.plant, profile.id, d.pollutant, d.value > limit.value, d.start_ms, end_ms, d.value, limit.value,
            limit.unit, f"daily average {d.day.isoformat()} ({d.n_valid} valid, {d.n_discarded} discarded {d.basis} values)",
            limit.source, limit.status,
        ))
    return findings


def judge_quarter(profile: Profile, plant: str, days: Sequence[DayRecord], through: date, zone: ZoneInfo) -> Finding | None:
    """The quarter holding `through`: even if every remaining calendar day operated and were valid,
    would the share of valid operating days stay under the minimum? (the worst pollutant decides)."""
    rules = profile.data_availability
    if rules is None:
        return None
    year, quarter = quarter_of(through)
    remaining = sum(1 for d in quarter_days(year, quarter) if d > through)
    worst: tuple[float, str, QuarterAvailability] | None = None
    by_pollutant: dict[str, list[DayRecord]] = {}
    for d in days:
        if d.profile == profile.id and quarter_of(d.day) == (year, quarter) and d.day <= through:
            by_pollutant.setdefault(d.pollutant, []).append(d)
    for pollutant, records in sorted(by_pollutant.items()):
        operating = sum(1 for r in records if r.quality not in IDLE)
        valid = sum(1 for r in records if r.quality not in IDLE and r.valid)
        q = QuarterAvailability(year, quarter, valid, operating, rules.min_valid_day_share)
        best = q.best_case_share(remaining)
        if best is not None and (worst is None or best < worst[0]):
            worst = (best, pollutant, q)
    if worst is None:
        return None
    best, pollutant, q = worst
    start_ms = day_bounds_ms(date(year, 3 * quarter - 2, 1), zone)[0]
    end_ms = day_bounds_ms(through, zone)[1]
    return Finding(
        "quarter_availability", plant, profile.id, "quarter", best < rules.min_valid_day_share, start_ms, end_ms,
        round(best * 100, 2), rules.min_valid_day_share * 100, "%", f"best case for {year} Q{quarter} after {through.isoformat()}",
        rules.source, rules.status,
        f"{pollutant}: {q.valid_days} valid of {q.operating_days} operating days so far, {remaining} calendar days left",
    )
