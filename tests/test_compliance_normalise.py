"""Wet→dry and O2 normalisation (domain.md §2.3), worked by hand."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wastewatch.compliance.normalise import ChannelBases, CorrectionRejected, correct_series, nearest, normalise_o2, to_dry
from wastewatch.compliance.profiles import Reference
from wastewatch.compliance.samples import Sample, unique_by_time, worst_status

REF_11 = Reference(o2_pct=11, o2_status="C-pred", o2_source="test")
REF_11_ONLY_ABOVE = Reference(o2_pct=11, o2_status="C-pred", o2_source="test", o2_correction="only_above_reference")


def test_co_at_14_percent_o2_normalised_to_11_percent() -> None:
    # 40 × (21 − 11) / (21 − 14) = 40 × 10 / 7 = 57.142857… mg/Nm3 at 11 % O2 (domain.md §2.3 example)
    assert normalise_o2(40.0, 14.0, 11.0) == pytest.approx(57.142857, rel=1e-6)


def test_below_reference_o2_raises_the_value_unless_only_above_applies() -> None:
    # 40 × (21 − 11) / (21 − 9) = 40 × 10 / 12 = 33.333… (correcting down at 9 % O2)
    assert normalise_o2(40.0, 9.0, 11.0) == pytest.approx(33.333333, rel=1e-6)
    # "only when O_M > O_S": at 9 % <= 11 % the value stays as measured, 40
    assert normalise_o2(40.0, 9.0, 11.0, only_above_reference=True) == 40.0
    # and at 14 % > 11 % it is still corrected: 57.14
    assert normalise_o2(40.0, 14.0, 11.0, only_above_reference=True) == pytest.approx(57.142857, rel=1e-6)


def test_o2_at_or_above_guard_is_invalid() -> None:
    # 21 − 20.5 = 0.5 would multiply by 20: rejected as INVALID_O2 instead
    with pytest.raises(CorrectionRejected) as caught:
        normalise_o2(10.0, 20.5, 11.0)
    assert caught.value.status == "invalid_o2"
    assert normalise_o2(10.0, 20.4, 11.0) == pytest.approx(10.0 * 10 / 0.6)  # just under the guard: 166.67


def test_wet_to_dry() -> None:
    # 80 mg/Nm3 wet at 20 % H2O → 80 × 100 / (100 − 20) = 80 × 1.25 = 100 mg/Nm3 dry
    assert to_dry(80.0, 20.0) == pytest.approx(100.0)
    with pytest.raises(CorrectionRejected):
        to_dry(80.0, 100.0)


def test_series_wet_concentration_and_wet_o2() -> None:
    # CO 32 wet, O2 11.2 wet, H2O 20 %:
    #   CO dry = 32 × 100/80 = 40;  O2 dry = 11.2 × 100/80 = 14
    #   at 11 %: 40 × 10 / 7 = 57.142857
    out = correct_series(
        [Sample(0, 32.0)], [Sample(0, 11.2)], [Sample(0, 20.0)], reference=REF_11, bases=ChannelBases("wet", "wet")
    )
    assert out == [Sample(0, pytest.approx(57.142857, rel=1e-6), "valid")]  # type: ignore[arg-type]


def test_series_passes_on_flags_and_missing_partners() -> None:
    conc = [Sample(0, 40.0), Sample(60_000, 40.0, "maintenance"), Sample(120_000, 40.0), Sample(180_000, 40.0)]
    o2 = [Sample(0, 14.0), Sample(60_000, 14.0), Sample(120_000, 14.0, "malfunction"), Sample(170_000, 20.8)]
    out = correct_series(conc, o2, reference=REF_11, pair_tolerance_ms=10_000)
    assert [s.status for s in out] == ["valid", "maintenance", "malfunction", "invalid_o2"]
    # a missing O2 partner (none within tolerance) also gives invalid_o2
    assert correct_series([Sample(0, 40.0)], [Sample(30_000, 14.0)], reference=REF_11, pair_tolerance_ms=10_000)[0].status == "invalid_o2"


def test_wet_concentration_without_moisture_is_invalid_h2o() -> None:
    out = correct_series([Sample(0, 32.0)], [Sample(0, 14.0)], reference=REF_11, bases=ChannelBases("wet", "dry"))
    assert out[0].status == "invalid_h2o"


def test_only_above_reference_from_the_profile() -> None:
    out = correct_series([Sample(0, 40.0), Sample(60_000, 40.0)], [Sample(0, 9.0), Sample(60_000, 14.0)], reference=REF_11_ONLY_ABOVE)
    assert [s.value for s in out] == [40.0, pytest.approx(57.142857, rel=1e-6)]


# --- property: the series path equals correcting each sample on its own ----------------------------

STATUSES = ["valid", "valid", "valid", "valid", "maintenance", "malfunction"]


def channel(values: st.SearchStrategy[float]) -> st.SearchStrategy[list[Sample]]:
    """Samples on a 10-s grid over 20 minutes, some instants twice (the store's duplicates)."""
    return st.lists(
        st.builds(Sample, time_ms=st.integers(0, 120).map(lambda i: i * 10_000), value=values, status=st.sampled_from(STATUSES)),
        max_size=80,
    )


def one_by_one(conc: list[Sample], o2: list[Sample], h2o: list[Sample], reference: Reference, bases: ChannelBases, tol: int) -> list[Sample]:
    """§2.3 applied to each concentration sample alone: pair by `nearest`, then `to_dry` and `normalise_o2`."""
    o2s, h2os = unique_by_time(o2), unique_by_time(h2o)
    wet = "wet" in (bases.concentration, bases.o2)
    out = []
    for s in unique_by_time(conc):
        o, h = nearest(o2s, s.time_ms, tol), nearest(h2os, s.time_ms, tol) if wet else None
        if s.status != "valid":
            out.append(s)
        elif o is None or (wet and h is None):
            out.append(Sample(s.time_ms, s.value, "invalid_o2" if o is None else "invalid_h2o"))
        elif o.status != "valid" or (h is not None and h.status != "valid"):
            out.append(Sample(s.time_ms, s.value, worst_status(s.status, o.status, *([h.status] if h else []))))
        else:
            try:
                c = to_dry(s.value, h.value) if h is not None and bases.concentration == "wet" else s.value
                o_dry = to_dry(o.value, h.value) if h is not None and bases.o2 == "wet" else o.value
                only_above = reference.o2_correction == "only_above_reference"
                value = normalise_o2(c, o_dry, reference.o2_pct, only_above_reference=only_above, guard_pct=reference.o2_guard_pct)
                out.append(Sample(s.time_ms, value, "valid"))
            except CorrectionRejected as exc:
                out.append(Sample(s.time_ms, s.value, exc.status))
    return out


@settings(max_examples=200, deadline=None)
@given(
    conc=channel(st.floats(0, 5000, allow_nan=False)),
    o2=channel(st.floats(0, 22, allow_nan=False)),
    h2o=channel(st.floats(0, 101, allow_nan=False)),
    reference=st.sampled_from([REF_11, REF_11_ONLY_ABOVE]),
    bases=st.sampled_from([ChannelBases("dry", "dry"), ChannelBases("wet", "dry"), ChannelBases("dry", "wet"), ChannelBases("wet", "wet")]),
    tol=st.sampled_from([0, 5_000, 30_000]),
)
def test_the_series_correction_equals_correcting_each_sample_alone(
    conc: list[Sample], o2: list[Sample], h2o: list[Sample], reference: Reference, bases: ChannelBases, tol: int
) -> None:
    # exactly equal, not approximately: the merge walk and the inlined dry path keep the arithmetic
    assert correct_series(conc, o2, h2o, reference=reference, bases=bases, pair_tolerance_ms=tol) == one_by_one(
        conc, o2, h2o, reference, bases, tol
    )
