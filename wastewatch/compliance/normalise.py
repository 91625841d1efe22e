"""Wet→dry conversion and O2 normalisation (domain.md §2.3), per value and per paired series.

Each raw value is corrected before averaging (§2.3 rule 4, [A]); concentrations and O2 are paired
with the O2 and H2O samples of the same instant (within `pair_tolerance_ms`).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from wastewatch.compliance.profiles import Reference
from wastewatch.compliance.samples import Sample, SampleStatus, unique_by_time, worst_status

Basis = Literal["dry", "wet"]


class CorrectionRejected(ValueError):
    """The value cannot be corrected; `status` says why (invalid_o2 or invalid_h2o)."""

    def __init__(self, status: SampleStatus, message: str) -> None:
        super().__init__(message)
        self.status: SampleStatus = status


def to_dry(value_wet: float, h2o_pct: float) -> float:
    """C_dry = C_wet × 100 / (100 − H2O %) [C] S28; the same form converts O2."""
    if not 0.0 <= h2o_pct < 100.0:
        raise CorrectionRejected("invalid_h2o", f"H2O {h2o_pct} % is outside [0, 100)")
    return value_wet * 100.0 / (100.0 - h2o_pct)


def normalise_o2(
    measured: float, o2_measured_pct: float, o2_reference_pct: float, *, only_above_reference: bool = False, guard_pct: float = 20.5
) -> float:
    """E_S = (21 − O_S) / (21 − O_M) × E_M, on dry values (IED Annex VI Part 7).

    With `only_above_reference` a value measured at O_M <= O_S is left as measured (§2.3 rule 2).
    O_M >= `guard_pct` is rejected as INVALID_O2 (§2.3 rule 3, [A]).
    """
    if o2_measured_pct >= guard_pct or o2_measured_pct < 0.0:
        raise CorrectionRejected("invalid_o2", f"O2 {o2_measured_pct} % is outside [0, {guard_pct})")
    if only_above_reference and o2_measured_pct <= o2_reference_pct:
        return measured
    return (21.0 - o2_reference_pct) / (21.0 - o2_measured_pct) * measured


@dataclass(frozen=True, slots=True)
class ChannelBases:
    """The gas basis each channel is measured on (from the plant's sensor catalogue)."""

    concentration: Basis = "dry"
    o2: Basis = "dry"


def correct_series(
    concentration: Iterable[Sample],
    o2: Iterable[Sample],
    h2o: Iterable[Sample] = (),
    *,
    reference: Reference,
    bases: ChannelBases = ChannelBases(),
    pair_tolerance_ms: int = 0,
) -> list[Sample]:
    """Dry, O2-normalised samples, one per concentration sample, in time order.

    A flagged concentration keeps its status; a missing or flagged O2 (or H2O, when a channel is
    wet) passes its status on (a missing partner gives invalid_o2 / invalid_h2o).
    """
    o2_series = unique_by_time(o2)
    h2o_series = unique_by_time(h2o)
    need_h2o = "wet" in (bases.concentration, bases.o2)
    o2_times = [s.time_ms for s in o2_series]
    h2o_times = [s.time_ms for s in h2o_series]
    return [
        _correct_one(s, o2_series, o2_times, h2o_series, h2o_times, need_h2o, reference, bases, pair_tolerance_ms)
        for s in unique_by_time(concentration)
    ]


def _correct_one(
    sample: Sample,
    o2_series: Sequence[Sample],
    o2_times: Sequence[int],
    h2o_series: Sequence[Sample],
    h2o_times: Sequence[int],
    need_h2o: bool,
    reference: Reference,
    bases: ChannelBases,
    tolerance_ms: int,
) -> Sample:
    if sample.status != "valid":
        return sample
    o2 = _nearest(o2_series, o2_times, sample.time_ms, tolerance_ms)
    if o2 is None:
        return Sample(sample.time_ms, sample.value, "invalid_o2")
    h2o = _nearest(h2o_series, h2o_times, sample.time_ms, tolerance_ms) if need_h2o else None
    if need_h2o and h2o is None:
        return Sample(sample.time_ms, sample.value, "invalid_h2o")
    if o2.status != "valid" or (h2o is not None and h2o.status != "valid"):
        partners = [o2.status] + ([h2o.status] if h2o is not None else [])
        return Sample(sample.time_ms, sample.value, worst_status(sample.status, *partners))
    if h2o is None and not 0.0 <= o2.value < reference.o2_guard_pct:
        # dry O2 outside the guard (a cold plant's 20.9 %): rejected without raising, it is most samples at night
        return Sample(sample.time_ms, sample.value, "invalid_o2")
    try:
        conc = to_dry(sample.value, h2o.value) if bases.concentration == "wet" and h2o is not None else sample.value
        o2_dry = to_dry(o2.value, h2o.value) if bases.o2 == "wet" and h2o is not None else o2.value
        value = normalise_o2(
            conc,
            o2_dry,
            reference.o2_pct,
            only_above_reference=reference.o2_correction == "only_above_reference",
            guard_pct=reference.o2_guard_pct,
        )
    except CorrectionRejected as exc:
        return Sample(sample.time_ms, sample.value, exc.status)
    return Sample(sample.time_ms, value, "valid")


def _nearest(series: Sequence[Sample], times: Sequence[int], time_ms: int, tolerance_ms: int) -> Sample | None:
    """`nearest` with the series' times precomputed (bisect on plain ints, once per concentration sample)."""
    i = bisect_left(times, time_ms)
    best = None
    if i > 0 and time_ms - times[i - 1] <= tolerance_ms:
        best = series[i - 1]
    if i < len(times) and times[i] - time_ms <= tolerance_ms:
        if best is None or times[i] - time_ms < time_ms - best.time_ms:
            best = series[i]
    return best


def nearest(series: Sequence[Sample], time_ms: int, tolerance_ms: int) -> Sample | None:
    """The sample of a time-ordered series closest to `time_ms` within the tolerance (earlier wins a tie)."""
    i = bisect_left(series, time_ms, key=_time_of)
    before = series[i - 1] if i > 0 else None
    after = series[i] if i < len(series) else None
    best = None
    if before is not None and time_ms - before.time_ms <= tolerance_ms:
        best = before
    if after is not None and after.time_ms - time_ms <= tolerance_ms:
        if best is None or after.time_ms - time_ms < time_ms - best.time_ms:
            best = after
    return best


def _time_of(sample: Sample) -> int:
    return sample.time_ms
