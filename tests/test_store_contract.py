"""One contract, two backends: InfluxDB (real server) and the embedded SQLite store."""

from __future__ import annotations

import pytest

from wastewatch.points import Point, StoreRejected
from wastewatch.store.influx import InfluxStore
from wastewatch.store.lineprotocol import encode_point

T0 = 1_795_000_000_000


def reading(sensor: str, t_ms: int, value: float, status: str = "valid", plant: str = "kotim") -> Point:
    return Point("reading", {"plant": plant, "sensor": sensor, "status": status}, {"value": value}, t_ms)


def test_rewriting_a_point_overwrites_instead_of_duplicating(store):
    store.write([reading("co", T0, 10.0), reading("co", T0 + 60_000, 11.0)])
    store.write([reading("co", T0, 12.0)])
    points = store.select("reading", where={"sensor": "co"})
    assert [(p.time_ms, p.fields["value"]) for p in points] == [(T0, 12.0), (T0 + 60_000, 11.0)]


def test_select_filters_by_tags_and_half_open_time_range(store):
    store.write([reading("co", T0 + i * 1000, float(i)) for i in range(10)] + [reading("o2", T0, 11.0)])
    points = store.select("reading", where={"plant": "kotim", "sensor": "co"}, start_ms=T0 + 2000, end_ms=T0 + 5000)
    assert [p.fields["value"] for p in points] == [2.0, 3.0, 4.0]
    assert points[0].tags == {"plant": "kotim", "sensor": "co", "status": "valid"}


def test_aggregate_per_bucket_and_tag_leaves_out_empty_buckets(store):
    points = [reading("co", T0 + i * 10_000, float(i)) for i in range(12)]  # two minutes, 6 per minute
    points += [reading("o2", T0 + 5 * 60_000, 9.0)]
    store.write(points)
    start = T0 - T0 % 60_000
    rows = store.aggregate(
        "reading", "value", "mean", where={"plant": "kotim"}, start_ms=start, end_ms=start + 600_000, every_s=60, group_by=["sensor"]
    )
    got = [(r.tags["sensor"], r.time_ms, r.value) for r in rows]
    first = T0 - start  # T0 is not minute-aligned; count which readings fall in which minute
    by_minute: dict[int, list[float]] = {}
    for i in range(12):
        t = T0 + i * 10_000
        by_minute.setdefault(t - t % 60_000, []).append(float(i))
    expected = [("co", m, sum(v) / len(v)) for m, v in sorted(by_minute.items())]
    t_o2 = T0 + 5 * 60_000
    expected.append(("o2", t_o2 - t_o2 % 60_000, 9.0))
    assert first >= 0
    assert got == expected


@pytest.mark.parametrize("fn,expected", [("count", 4.0), ("sum", 10.0), ("min", 1.0), ("max", 4.0), ("mean", 2.5), ("last", 4.0)])
def test_aggregate_functions_over_the_whole_range(store, fn, expected):
    store.write([reading("co", T0 + i * 1000, float(i + 1)) for i in range(4)])
    rows = store.aggregate("reading", "value", fn, where={"sensor": "co"})
    assert [r.value for r in rows] == [expected]


def test_status_is_a_tag_so_maintenance_values_are_counted_apart(store):
    store.write([reading("co", T0, 1.0), reading("co", T0 + 1000, 2.0, "maintenance"), reading("co", T0 + 2000, 3.0)])
    rows = store.aggregate("reading", "value", "count", where={"sensor": "co"}, group_by=["status"])
    assert {r.tags["status"]: r.value for r in rows} == {"maintenance": 1.0, "valid": 2.0}


def test_string_and_integer_fields_round_trip(store):
    batch = Point("batch", {"plant": "kotim", "source": "rsud-murjani"}, {"mass_kg": 64.5, "batch_id": 'B "1", x=2'}, T0)
    status = Point("device_status", {"plant": "kotim", "device": "plc"}, {"online": 1}, T0)
    store.write([batch, status])
    assert store.select("batch")[0].fields == {"mass_kg": 64.5, "batch_id": 'B "1", x=2'}
    assert store.select("device_status")[0].fields == {"online": 1}


def test_influx_rejects_a_field_type_conflict_as_bad_data(influx_store: InfluxStore):
    influx_store.write([reading("co", T0, 1.0)])
    with pytest.raises(StoreRejected):
        influx_store.write([Point("reading", {"plant": "kotim", "sensor": "co", "status": "valid"}, {"value": "x"}, T0 + 1)])


def test_line_protocol_escapes_tags_measurement_and_strings():
    point = Point("m x,y", {"a b": "c,d=e"}, {"s": 'q"\\', "i": 3, "f": 1.5, "b": True}, 7)
    assert encode_point(point) == 'm\\ x\\,y,a\\ b=c\\,d\\=e s="q\\"\\\\",i=3i,f=1.5,b=true 7'


def test_select_column_gives_one_column_per_series_with_a_tag_among_values(store):
    store.write(
        [reading("co", T0 + i * 1000, float(i)) for i in range(4)]
        + [reading("co", T0 + 4000, 99.0, "maintenance"), reading("o2", T0 + 1000, 11.5), reading("nox", T0, 150.0)]
        + [reading("co", T0, 1.0, plant="other"), reading("o2", T0 + 10_000, 12.0)]  # another plant; outside the range
        + [Point("reading", {"plant": "kotim", "sensor": "co", "status": "valid"}, {"note": "no value"}, T0 + 5000)]
    )
    columns = store.select_column(
        "reading", "value", where={"plant": "kotim"}, any_of=("sensor", ["co", "o2"]), start_ms=T0, end_ms=T0 + 10_000
    )
    got = [(dict(c.tags), c.times, c.values) for c in columns]
    assert got == [
        ({"plant": "kotim", "sensor": "co", "status": "maintenance"}, [T0 + 4000], [99.0]),
        ({"plant": "kotim", "sensor": "co", "status": "valid"}, [T0 + i * 1000 for i in range(4)], [0.0, 1.0, 2.0, 3.0]),
        ({"plant": "kotim", "sensor": "o2", "status": "valid"}, [T0 + 1000], [11.5]),
    ]
    assert store.select_column("reading", "value", any_of=("sensor", [])) == []


def test_select_column_keeps_field_types(store):
    store.write([Point("flags", {"unit": "a"}, {"on": True, "n": 3, "s": "x"}, T0), Point("flags", {"unit": "a"}, {"on": False}, T0 + 1)])
    assert [c.values for c in store.select_column("flags", "on")] == [[True, False]]
    assert [(c.times, c.values) for c in store.select_column("flags", "n")] == [([T0], [3])]
    assert [c.values for c in store.select_column("flags", "s", where={"unit": "a"})] == [["x"]]


def test_latest_gives_each_groups_newest_point_with_its_own_time(store):
    store.write([
        reading("co", T0, 1.0), reading("co", T0 + 5000, 2.0), reading("co", T0 + 9000, 3.0, "maintenance"),
        reading("o2", T0 + 2000, 11.0), reading("o2", T0 + 20_000, 12.0), reading("co", T0 + 7000, 9.0, plant="other"),
    ])
    by_sensor = store.latest("reading", "value", where={"plant": "kotim"}, start_ms=T0, end_ms=T0 + 20_000, group_by=["sensor"])
    assert [(p.tags, p.time_ms, p.fields) for p in by_sensor] == [
        ({"sensor": "co"}, T0 + 9000, {"value": 3.0}), ({"sensor": "o2"}, T0 + 2000, {"value": 11.0})]  # end excluded
    both = store.latest("reading", "value", where={"plant": "kotim", "sensor": "co"}, group_by=["sensor", "status"])
    assert [(p.tags["status"], p.time_ms, p.fields["value"]) for p in both] == [("maintenance", T0 + 9000, 3.0), ("valid", T0 + 5000, 2.0)]
    (overall,) = store.latest("reading", "value", start_ms=T0 + 1)
    assert (overall.measurement, overall.tags, overall.time_ms, overall.fields) == ("reading", {}, T0 + 20_000, {"value": 12.0})
    assert store.latest("reading", "value", where={"plant": "nowhere"}, group_by=["sensor"]) == []
    assert store.latest("reading", "value", start_ms=T0 + 30_000) == []


def test_latest_skips_points_without_the_field_and_leaves_out_missing_tags(store):
    store.write([
        Point("flags", {"unit": "a"}, {"on": True, "n": 3}, T0), Point("flags", {"unit": "a"}, {"n": 4}, T0 + 1000),
        Point("flags", {"unit": "b", "kind": "x"}, {"on": False}, T0 + 500),
    ])
    assert [(p.tags, p.time_ms, p.fields) for p in store.latest("flags", "on", group_by=["unit", "kind"])] == [
        ({"kind": "x", "unit": "b"}, T0 + 500, {"on": False}), ({"unit": "a"}, T0, {"on": True})]  # as aggregate orders
    assert [(p.time_ms, p.fields) for p in store.latest("flags", "n", group_by=["unit"])] == [(T0 + 1000, {"n": 4})]
