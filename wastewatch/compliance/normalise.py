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
    paired = pair_channels(concentration, o2, h2o, pair_tolerance_ms=pair_tolerance_ms, with_h2o="wet" in (bases.concentration, bases.o2))
    return correct_paired(paired, reference=reference, bases=bases)


@dataclass(frozen=True, slots=True)
class PairedChannel:
    """A concentration channel's samples (one per instant, in time order), each with the index of its
    O2 and H2O partner (-1: none within the tolerance); one pairing serves every reference O2."""

    samples: list[Sample]
    o2: list[Sample]
    o2_at: list[int]
    h2o: list[Sample]
    h2o_at: list[int] | None
    """None when paired without H2O (every channel dry)."""


def pair_channels(
    concentration: Iterable[Sample], o2: Iterable[Sample], h2o: Iterable[Sample] = (), *, pair_tolerance_ms: int, with_h2o: bool
) -> PairedChannel:
    samples = unique_by_time(concentration)
    times = [s.time_ms for s in samples]
    o2_series = unique_by_time(o2)
    o2_at = nearest_indices(times, [s.time_ms for s in o2_series], pair_tolerance_ms)
    if not with_h2o:
        return PairedChannel(samples, o2_series, o2_at, [], None)
    h2o_series = unique_by_time(h2o)
    return PairedChannel(samples, o2_series, o2_at, h2o_series, nearest_indices(times, [s.time_ms for s in h2o_series], pair_tolerance_ms))


def correct_paired(paired: PairedChannel, *, reference: Reference, bases: ChannelBases = ChannelBases()) -> list[Sample]:
    """`correct_series` of an already paired channel (paired with H2O when a channel is wet)."""
    if "wet" not in (bases.concentration, bases.o2):
        return _correct_dry(paired.samples, paired.o2, paired.o2_at, reference)
    if paired.h2o_at is None:
        raise ValueError("a wet channel is corrected with H2O: pair it with_h2o")
    h2o_series, o2_series = paired.h2o, paired.o2
    return [
        _correct_one(s, o2_series[i] if i >= 0 else None, h2o_series[j] if j >= 0 else None, reference, bases)
        for s, i, j in zip(paired.samples, paired.o2_at, paired.h2o_at)
    ]


def _correct_dry(samples: Sequence[Sample], o2_series: Sequence[Sample], o2_at: Sequence[int], reference: Reference) -> list[Sample]:
    """`_correct_one` for dry channels, inlined: it runs for every sample of a year's recomputation.
    Same arithmetic in the same order as `normalise_o2`, so the values are bit for bit the same."""
    guard, ref_pct = reference.o2_guard_pct, reference.o2_pct
    only_above = reference.o2_correction == "only_above_reference"
    out: list[Sample] = []
    append = out.append
    for sample, i in zip(samples, o2_at):
        if sample.status != "valid":
            append(sample)
        elif i < 0:
            append(Sample(sample.time_ms, sample.value, "invalid_o2"))
        else:
            o2 = o2_series[i]
            o2_pct = o2.value
            if o2.status != "valid":
                append(Sample(sample.time_ms, sample.value, worst_status(sample.status, o2.status)))
            elif not 0.0 <= o2_pct < guard:
                # dry O2 outside the guard (a cold plant's 20.9 %): rejected without raising, it is most samples at night
                append(Sample(sample.time_ms, sample.value, "invalid_o2"))
            elif only_above and o2_pct <= ref_pct:
                append(sample)
            else:
                append(Sample(sample.time_ms, (21.0 - ref_pct) / (21.0 - o2_pct) * sample.value, "valid"))
    return out


def _correct_one(sample: Sample, o2: Sample | None, h2o: Sample | None, reference: Reference, bases: ChannelBases) -> Sample:
    """One concentration sample with its paired O2 and H2O (None: no partner within the tolerance)."""
    if sample.status != "valid":
        return sample
    if o2 is None:
        return Sample(sample.time_ms, sample.value, "invalid_o2")
    if h2o is None:
        return Sample(sample.time_ms, sample.value, "invalid_h2o")
    if o2.status != "valid" or h2o.status != "valid":
        return Sample(sample.time_ms, sample.value, worst_status(sample.status, o2.status, h2o.status))
    try:
        conc = to_dry(sample.value, h2o.value) if bases.concentration == "wet" else sample.value
        o2_dry = to_dry(o2.value, h2o.value) if bases.o2 == "wet" else o2.value
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


def nearest_indices(times: Sequence[int], partner_times: Sequence[int], tolerance_ms: int) -> list[int]:
    """For each of the ascending `times`, the index of the nearest of the ascending `partner_times`
    within the tolerance (earlier wins a tie), or -1: `nearest` for a whole series in one merge walk."""
    found: list[int] = []
    j, n = 0, len(partner_times)
    for t in times:
        while j < n and partner_times[j] < t:
            j += 1  # j is bisect_left(partner_times, t): the times ascend, so it only moves forward
        best = j - 1 if j > 0 and t - partner_times[j - 1] <= tolerance_ms else -1
        if j < n and partner_times[j] - t <= tolerance_ms and (best < 0 or partner_times[j] - t < t - partner_times[best]):
            best = j
        found.append(best)
    return found


def nearest(series: Sequence[Sample], time_ms: int, tolerance_ms: int) -> Sample | None:
    """The sample of a time-ordered series closest to `time_ms` within the tolerance (earlier wins a tie)."""
    i = bisect_left(series, time_ms, key=_time_of)
    before = series[i - 1] if i > 0 else None
    after = series[i] if i < len(series) else None
    best = None
    if before is not None and time_ms - before.time_ms <= tolerance_ms:
        best = before
    if after is not None and after.time_ms - time_ms <= tolerance_ms and (
        best is None or after.time_ms - time_ms < time_ms - best.time_ms
    ):
        best = after
    return best


def _time_of(sample: Sample) -> int:
    return sample.time_ms
