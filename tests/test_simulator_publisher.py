"""The publisher's check that a run will not stamp readings too far ahead of the ingest's clock, and
the demo's catch-up run through the real broker."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from simulators.model import PlantModel
from simulators.publisher import MAX_FUTURE_S, PublishProgress, _warn_future, lead_over_wall_clock_s, run_simulator
from tests.servers import MosquittoServer
from wastewatch.plant import PlantCatalog
from wastewatch.settings import BrokerSettings

NOW_S = 1_750_000_000.0
DAY_S = 86_400.0


def test_an_accelerated_day_started_a_day_ago_never_passes_the_wall_clock() -> None:
    # 87864 simulated s at speed 60 take 1464.4 wall s, so the run ends 0.4 s behind the clock.
    lead_s = lead_over_wall_clock_s(round((NOW_S - DAY_S) * 1000), 87_864.0, 60.0, NOW_S)
    assert lead_s == pytest.approx(-0.4)


def test_an_accelerated_run_started_now_ends_ahead_by_what_the_speed_gains() -> None:
    lead_s = lead_over_wall_clock_s(round(NOW_S * 1000), 3600.0, 60.0, NOW_S)
    assert lead_s == pytest.approx(3600.0 - 60.0)


def test_a_realtime_run_keeps_the_lead_it_starts_with() -> None:
    assert lead_over_wall_clock_s(round((NOW_S - 60) * 1000), DAY_S, 1.0, NOW_S) == pytest.approx(-60.0)
    assert lead_over_wall_clock_s(round((NOW_S + 600) * 1000), DAY_S, 1.0, NOW_S) == pytest.approx(600.0)


def test_a_slowed_run_is_furthest_ahead_at_its_start() -> None:
    lead_s = lead_over_wall_clock_s(round((NOW_S + 600) * 1000), 3600.0, 0.5, NOW_S)
    assert lead_s == pytest.approx(600.0)


def test_a_backfill_is_ahead_by_how_far_its_end_lies_past_now() -> None:
    assert lead_over_wall_clock_s(round((NOW_S - DAY_S) * 1000), DAY_S, None, NOW_S) == pytest.approx(0.0)
    assert lead_over_wall_clock_s(round((NOW_S - 3600) * 1000), DAY_S, None, NOW_S) == pytest.approx(DAY_S - 3600)


def test_an_open_ended_run_is_judged_by_its_start() -> None:
    assert lead_over_wall_clock_s(round((NOW_S - 10) * 1000), None, 60.0, NOW_S) == pytest.approx(-10.0)


def test_the_warning_names_the_lead_only_when_it_exceeds_the_ingest_limit(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="simulators.publisher")
    now_ms = round(time.time() * 1000)
    _warn_future(now_ms - round(DAY_S * 1000), 87_864.0, 60.0)
    assert not caplog.records
    _warn_future(now_ms, MAX_FUTURE_S + 3600.0, None)
    assert len(caplog.records) == 1
    assert "ahead of the wall clock" in caplog.records[0].getMessage()


def test_a_catch_up_run_carries_a_model_on_and_never_passes_the_wall_clock(mosquitto: MosquittoServer, catalog: PlantCatalog) -> None:
    """The demo's one run: a model another run left off is carried on from where it stands, faster
    than real time until its clock meets the wall clock, and never ahead of it."""
    plant = catalog.get("kotim")
    assert plant is not None
    begun_ms = round(time.time() * 1000)
    model = PlantModel(plant, 1, begun_ms - 600_000)
    model.step(begun_ms - 300_000)  # another run published the first five minutes
    stop = threading.Event()

    def caught_up(progress: PublishProgress) -> None:
        if progress.sim_ms >= begun_ms:
            stop.set()

    broker = BrokerSettings(url=mosquitto.url).address
    assert broker is not None
    summary = run_simulator(
        broker, plant, seed=1, start_ms=0, mode="accelerated", speed=600.0, model=model, catch_up=True,
        stop_event=stop, on_progress=caught_up, client_id="catch-up-test",
    )
    ended_ms = round(time.time() * 1000)
    assert summary.sim_start_ms == begun_ms - 300_000  # where the model stood, not the start_ms passed
    assert begun_ms <= summary.sim_end_ms <= ended_ms
    assert summary.rejected == 0
