"""API resources against the real InfluxDB and SQLite stores: plants, sensors, readings, averages,
batches, tonnage, uptime, compliance; CSV; the point cap; 4xx for bad requests."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.roles import Role
from api.routes.compliance import compliance_out
from api.routes.uptime import uptime_out
from api.summaries import compliance_summary, uptime
from tests.api_support import ZONE, Api, at, run_api, seed_plant_day
from wastewatch.plant import PlantCatalog
from wastewatch.points import Store

DAY = "period=2026-11-28"


@pytest.fixture
def api(store: Store, catalog: PlantCatalog, tmp_path: Path) -> Iterator[Api]:
    seed_plant_day(store)
    yield from run_api(store, catalog, tmp_path)


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_plants_and_the_sensor_catalogue_with_latest_values_and_state(api: Api) -> None:
    assert [p["id"] for p in api.get("/api/v1/plants").json()["plants"]] == ["kotim"]
    plant = api.get("/api/v1/plants/kotim").json()
    assert plant["timezone"] == "Asia/Jakarta" and {f["id"] for f in plant["facilities"]} >= {"rsud-murjani"}
    api.ctx.clock = lambda: (at(11, 59) + 20_000) / 1000  # 20 s after the newest t_secondary reading (period 10 s)
    catalogue = api.get("/api/v1/plants/kotim/sensors").json()
    assert catalogue["operating_state"]["state"] == "burning"
    assert catalogue["operating_state"]["since"] == "2026-11-28T06:00:00+07:00"
    sensors = {s["id"]: s for s in catalogue["sensors"]}
    assert sensors["t_secondary"]["value"] == 1009.0 and sensors["t_secondary"]["status"] == "valid"
    assert sensors["t_secondary"]["last_seen"] == "2026-11-28T11:59:00+07:00"
    assert sensors["t_secondary"]["reporting"] == "reporting"
    assert sensors["o2"]["status"] == "maintenance" and sensors["o2"]["reporting"] == "silent"
    assert sensors["co"]["reporting"] == "never" and sensors["co"]["value"] is None
    assert api.get("/api/v1/plants/kotim/state").json()["state"] == "burning"


def test_sensor_catalogue_as_csv(api: Api) -> None:
    response = api.get("/api/v1/plants/kotim/sensors", headers={"Accept": "text/csv"})
    assert response.headers["content-type"].startswith("text/csv")
    rows = {r["id"]: r for r in rows_of(response.text)}
    assert rows["t_secondary"]["value"] == "1009.0" and rows["co"]["reporting"] == "never"


def test_readings_raw_and_down_sampled(api: Api) -> None:
    base = "/api/v1/plants/kotim/sensors/t_secondary/readings"
    raw = api.get(base, params={"start": "2026-11-28T06:00:00+07:00", "end": "2026-11-28T06:05:00+07:00"}).json()
    assert [p["value"] for p in raw["points"]] == [1000.0, 1001.0, 1002.0, 1003.0, 1004.0]
    assert raw["points"][0] == {"time": "2026-11-28T06:00:00+07:00", "value": 1000.0, "status": "valid"}
    hourly = api.get(base, params={"period": "2026-11-28", "interval": "1h", "aggregate": "max"}).json()
    assert [p["time"][11:16] for p in hourly["points"]] == ["06:00", "07:00", "08:00", "09:00", "10:00", "11:00"]
    assert {p["value"] for p in hourly["points"]} == {1009.0}
    five = api.get(base, params={"start": "2026-11-28T06:00:00+07:00", "end": "2026-11-28T06:20:00+07:00",
                                  "interval": "5m", "aggregate": "mean", "format": "csv"})
    assert [(r["time"], r["value"]) for r in rows_of(five.text)] == [
        ("2026-11-28T06:00:00+07:00", "1002.0"), ("2026-11-28T06:05:00+07:00", "1007.0"),
        ("2026-11-28T06:10:00+07:00", "1002.0"), ("2026-11-28T06:15:00+07:00", "1007.0"),
    ]
    count = api.get(base, params={"start": "-6h", "interval": "1d", "aggregate": "count"}).json()
    assert sum(p["value"] for p in count["points"]) == 360
    maintenance = api.get("/api/v1/plants/kotim/sensors/o2/readings", params={"period": "2026-11-28", "status": "valid"}).json()
    assert maintenance["points"] == []


def test_too_many_points_is_a_422_with_a_message(api: Api) -> None:
    base = "/api/v1/plants/kotim/sensors/t_secondary/readings"
    raw = api.get(base, params={"period": "2026-11-28"})  # 360 readings, cap 500: fine
    assert raw.status_code == 200 and len(raw.json()["points"]) == 360
    api.ctx.api.max_points = 100
    too_many = api.get(base, params={"period": "2026-11-28"})
    assert too_many.status_code == 422 and "more than 100 readings" in too_many.json()["detail"]
    buckets = api.get(base, params={"period": "2026-11", "interval": "1m"})
    assert buckets.status_code == 422 and "43200 buckets of 1m" in buckets.json()["detail"]


BAD_REQUESTS: list[tuple[str, int, str]] = [
    ("/api/v1/plants/nowhere", 404, "no plant 'nowhere'"),
    ("/api/v1/plants/kotim/sensors/nothing/readings", 404, "has no sensor 'nothing'"),
    ("/api/v1/plants/Bad!Id/sensors", 422, "path parameter plant_id"),
    ("/api/v1/plants/kotim/sensors/t_primary/readings?start=yesterday", 422, "is not RFC 3339"),
    ("/api/v1/plants/kotim/sensors/t_primary/readings?interval=5y", 422, "is not a positive duration"),
    ("/api/v1/plants/kotim/sensors/t_primary/readings?aggregate=median", 422, "query parameter aggregate"),
    ("/api/v1/plants/kotim/sensors/t_primary/readings?start=-1h&end=-2h", 422, "the range is empty"),
    ("/api/v1/plants/kotim/averages?averaging=2h", 422, "query parameter averaging"),
    ("/api/v1/plants/kotim/averages?profile=no-such-profile", 404, "applies no profile"),
    ("/api/v1/plants/kotim/tonnage?period=2026-13", 422, "month must be in 1..12"),
    ("/api/v1/plants/kotim/uptime?format=xml", 422, "query parameter format"),
    ("/api/v1/plants/kotim/reports/2026-99", 422, "month must be in 1..12"),
    ("/api/v1/plants/kotim/sensors/t_primary/readings?start=-999999w", 422, "outside 1970-2200"),
    ("/api/v1/plants/kotim/sensors/t_primary/readings?end=0001-01-01T00:00:00%2B14:00", 422, "outside 1970-2200"),
    ("/api/v1/plants/kotim/averages?period=9999-Q4", 422, "outside the years 1970-2199"),
    ("/api/v1/plants/kotim/reports/0001", 422, "outside the years 1970-2199"),
    ("/api/v1/plants/kotim/reports/0001-01", 422, "outside the years 1970-2199"),
    ("/api/v1/plants/kotim/reports/0001-Q1", 422, "outside the years 1970-2199"),
    ("/api/v1/plants/kotim/reports/9999-12", 422, "outside the years 1970-2199"),
    ("/api/v1/plants/kotim/reports/2026-11-28", 422, "period must be YYYY-MM, YYYY-Qn or YYYY"),
    ("/api/v1/plants/kotim/reports/2026-11/cems", 422, "the CEMS report is quarterly"),
    ("/api/v1/plants/kotim/reports/2026-Q4/cems?format=csv", 422, "query parameter format"),
]


def test_bad_requests_are_4xx_with_a_message(api: Api) -> None:
    for path, status, message in BAD_REQUESTS:
        response = api.get(path)
        assert (response.status_code, message in response.json()["detail"]) == (status, True), (path, response.text)


def test_validated_averages_with_quality_codes(api: Api) -> None:
    halves = api.get(f"/api/v1/plants/kotim/averages?{DAY}&averaging=30min&pollutant=co").json()["averages"]
    assert len(halves) == 11
    assert halves[0]["time"] == "2026-11-28T06:00:00+07:00" and halves[0]["quality"] == "valid" and halves[0]["value"] == 20.0
    assert halves[-1]["quality"] == "maintenance" and halves[-1]["value"] is None
    tens = api.get(f"/api/v1/plants/kotim/averages?{DAY}&averaging=10min&format=csv")
    assert len(rows_of(tens.text)) == 6
    (day,) = api.get(f"/api/v1/plants/kotim/averages?{DAY}&averaging=day").json()["averages"]
    assert (day["value"], day["n_discarded"], day["v4"]) == (25.0, 1, "ok")


def test_batches_and_tonnage_per_day_facility_and_waste_code(api: Api) -> None:
    batches = api.get(f"/api/v1/plants/kotim/batches?{DAY}").json()
    assert len(batches["batches"]) == 8 and batches["total_kg"] == pytest.approx(98.76)
    tonnage = api.get(f"/api/v1/plants/kotim/tonnage?{DAY}&by=day").json()
    assert tonnage["mass_kg"] == 98.76 and tonnage["batches"] == 8
    assert [(b["key"], b["mass_kg"]) for b in tonnage["buckets"]] == [("2026-11-28", 98.76)]
    assert {s["key"]: s["mass_kg"] for s in tonnage["by_facility"]} == {"rsud-murjani": 49.38, "puskesmas-baamang": 49.38}
    assert [s["key"] for s in tonnage["by_waste_code"]] == ["A337-1"]
    facilities = rows_of(api.get(f"/api/v1/plants/kotim/tonnage?{DAY}&by=facility&format=csv").text)
    assert {r["key"] for r in facilities} == {"rsud-murjani", "puskesmas-baamang"}
    month = api.get("/api/v1/plants/kotim/tonnage?period=2026-11&by=month").json()
    assert [b["key"] for b in month["buckets"]] == ["2026-11"] and month["tonnes"] == pytest.approx(0.09876)


def test_uptime_and_compliance_are_the_summaries_figures(api: Api) -> None:
    plant = api.ctx.catalog.get("kotim")
    assert plant is not None
    start, end = at(0), at(0, day=29)
    served = api.get(f"/api/v1/plants/kotim/uptime?{DAY}").json()
    assert served == uptime_out(uptime(api.store, plant, start, end, alert_db=api.ctx.alert_db), ZONE).model_dump(mode="json")
    assert served["operating_h"] == pytest.approx(18.0) and served["period_h"] == 24.0
    downtime = api.get(f"/api/v1/plants/kotim/downtime?{DAY}&format=csv")
    assert rows_of(downtime.text)[0]["state"] == "cold"
    compliance = api.get(f"/api/v1/plants/kotim/compliance?{DAY}").json()
    assert compliance == compliance_out(compliance_summary(api.store, plant, start, end), ZONE).model_dump(mode="json")
    co = next(p for p in compliance["pollutants"] if p["profile"] == "eu-ied-annex-vi" and p["pollutant"] == "co")
    assert co["valid_averages"]["30min"] == 10 and co["exceedances"] >= 1
    assert compliance["abnormal_max_year_h"] == 60
    rows = rows_of(api.get(f"/api/v1/plants/kotim/compliance?{DAY}&format=csv").text)
    assert any(r["pollutant"] == "co" and r["rule"] == "A100" and r["exceedances"] == "1" for r in rows)


def test_store_unavailable_is_a_503(api: Api, tmp_path: Path) -> None:
    from wastewatch.store.influx import InfluxStore

    dead = InfluxStore("http://127.0.0.1:9", "nothing", timeout_s=1)
    original, api.ctx.store = api.ctx.store, dead
    try:
        response = api.get("/api/v1/plants/kotim/sensors/t_secondary/readings")
        assert response.status_code == 503 and "unavailable" in response.json()["detail"]
        assert response.headers["retry-after"] == "5"
        ready = api.client.get("/ready")
        assert ready.status_code == 503 and ready.json()["checks"]["store"].startswith("failed")
    finally:
        api.ctx.store = original
        dead.close()


def test_role_below_agency_cannot_read_readings(api: Api) -> None:
    response = api.get("/api/v1/plants/kotim/sensors/t_secondary/readings", role=Role.EVALUATOR)
    assert response.status_code == 403 and "needs agency" in response.json()["detail"]


def test_summaries_are_reused_for_the_cache_time_then_recomputed(api: Api) -> None:
    from tests.api_support import NOW_MS
    from wastewatch.records import Batch

    url = f"/api/v1/plants/kotim/tonnage?{DAY}"
    assert api.get(url).json()["batches"] == 8
    api.store.write([Batch("kotim", "late", at(20), 10.0, "rsud-murjani").to_point()])
    assert api.get(url).json()["batches"] == 8  # within WASTEWATCH_API_SUMMARY_CACHE_S (60 s)
    api.ctx.clock = lambda: NOW_MS / 1000 + 61
    assert api.get(url).json()["batches"] == 9


def test_csv_answers_and_the_report_csv_escape_formulas_alike(api: Api) -> None:
    from wastewatch.records import Batch

    code, source = "=cmd|'/C calc'!A", "@SUM(A1)"
    api.store.write([Batch("kotim", "evil", at(20), 10.0, source, code).to_point()])
    batches = rows_of(api.get(f"/api/v1/plants/kotim/batches?{DAY}&format=csv").text)
    evil = next(r for r in batches if r["batch_id"] == "evil")
    assert (evil["waste_code"], evil["source"]) == ("'" + code, "'" + source)
    report = api.get("/api/v1/plants/kotim/reports/2026-11?format=csv")
    assert report.status_code == 200
    items = {(r["section"], r["item"]) for r in rows_of(report.text)}
    assert ("tonnage_waste_code", "'" + code) in items and ("tonnage_facility", "'" + source) in items
    assert not any(cell.startswith(("=", "+", "@")) for row in rows_of(report.text) for cell in row.values())


def test_extreme_ranges_and_intervals_reach_both_stores_without_a_5xx(api: Api) -> None:
    """The hostile sweep (tests/test_api_hostile.py) runs on SQLite; the values that become store queries
    (ranges, intervals) are sent to InfluxDB too."""
    from tests.test_api_hostile import EXTREMES

    timeish = [v for v in EXTREMES if any(c.isdigit() for c in v) and len(v) < 40] + ["now", ""]
    bases = ["/api/v1/plants/kotim/sensors/t_secondary/readings", "/api/v1/plants/kotim/averages",
             "/api/v1/plants/kotim/batches", "/api/v1/plants/kotim/tonnage"]
    for base in bases:
        for name in ("start", "end", "period") + (("interval",) if "readings" in base else ()):
            for value in timeish:
                params = {name: value, **({"start": "-30d"} if name == "interval" else {})}
                response = api.get(base, params=params)
                assert response.status_code < 500, (base, params, response.status_code, response.text[:300])
