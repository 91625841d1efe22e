"""The two store options the summaries need, on both backends: field conditions and bucket offsets."""

from __future__ import annotations

from wastewatch.points import FieldCondition, Point, Store

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
T0 = 1_798_761_600_000  # 2027-01-01T00:00:00Z, a whole UTC day


def test_field_conditions_filter_what_is_aggregated(store: Store) -> None:
    points = [
        Point("emission_avg", {"plant": "p", "pollutant": "co"}, {"quality": q, "value": v}, T0 + i * 1_800_000)
        for i, (q, v) in enumerate([("valid", 10.0), ("valid", 40.0), ("maintenance", 90.0), ("valid", 31.0)])
    ]
    store.write(points)
    valid = [FieldCondition("quality", "=", "valid")]
    over = valid + [FieldCondition("value", ">", 30.0)]
    rows = store.aggregate("emission_avg", "value", "count", where={"plant": "p"}, field_where=valid)
    assert [r.value for r in rows] == [3.0]  # the maintenance half-hour is left out
    rows = store.aggregate("emission_avg", "value", "count", where={"plant": "p"}, field_where=over)
    assert [r.value for r in rows] == [2.0]  # 40 and 31; the 90 is not valid


def test_buckets_shift_by_the_offset_to_local_midnight(store: Store) -> None:
    # UTC+7: local midnight is 17:00 UTC. Points at 16:30 and 17:30 UTC fall in different local days.
    store.write([
        Point("batch", {"plant": "p"}, {"mass_kg": 1.5}, T0 + 16 * HOUR_MS + 1_800_000),
        Point("batch", {"plant": "p"}, {"mass_kg": 2.5}, T0 + 17 * HOUR_MS + 1_800_000),
    ])
    rows = store.aggregate(
        "batch", "mass_kg", "sum", where={"plant": "p"}, start_ms=T0 - DAY_MS, end_ms=T0 + 2 * DAY_MS,
        every_s=86_400, offset_s=-7 * 3600,
    )
    # buckets start at 17:00 UTC: the day before T0's (T0 - 7 h) and T0 + 17 h
    assert [(r.time_ms, r.value) for r in rows] == [(T0 - 7 * HOUR_MS, 1.5), (T0 + 17 * HOUR_MS, 2.5)]
