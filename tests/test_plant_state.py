"""The plant operating-state machine (domain.md §8.4): pure steps through synthetic signals."""

from __future__ import annotations

from alerts.plant_state import (
    OperatingState,
    PlantSignals,
    PlantState,
    PlantStateConfig,
    PlantStateTransition,
    next_state,
    observe_signal,
    seed_state,
    settle,
)
from wastewatch.records import Batch, Reading

T0 = 1_764_280_800_000  # 2025-11-28 05:00 Asia/Jakarta
CONFIG = PlantStateConfig(hold_s=900, cold_below_c=250, burnout_after_s=1800)
S = OperatingState


def at(seconds: float) -> int:
    return T0 + round(seconds * 1000)


class Plant:
    """Feeds readings and batches through the signals and the state machine, keeping transitions."""

    def __init__(self, config: PlantStateConfig = CONFIG) -> None:
        self.config = config
        self.state = PlantState(plant="kotim", operating=S.COLD, since_ms=T0)
        self.signals = PlantSignals()
        self.transitions: list[PlantStateTransition] = []

    def read(self, seconds: float, **values: float) -> OperatingState:
        for sensor, value in values.items():
            self.signals = observe_signal(self.signals, Reading("kotim", sensor, at(seconds), value), at(seconds), self.config)
        return self._settle(seconds)

    def feed(self, seconds: float) -> OperatingState:
        batch = Batch("kotim", f"b-{seconds}", at(seconds), 65.0, "rsud-murjani")
        self.signals = observe_signal(self.signals, batch, at(seconds), self.config)
        return self._settle(seconds)

    def tick(self, seconds: float) -> OperatingState:
        return self._settle(seconds)

    def _settle(self, seconds: float) -> OperatingState:
        self.state, transitions = settle(self.state, self.signals, at(seconds), self.config)
        self.transitions.extend(transitions)
        return self.state.operating


def cold_plant() -> Plant:
    plant = Plant()
    plant.read(0, t_primary=40, t_secondary=40, burner_primary=0, burner_secondary=0, id_fan=0)
    return plant


def test_state_machine_walks_a_whole_day() -> None:
    plant = cold_plant()
    assert plant.state.operating == S.COLD
    assert plant.read(10, burner_primary=1, burner_secondary=1, id_fan=1) == S.PREHEAT
    assert plant.read(1800, t_primary=820, t_secondary=1005) == S.PREHEAT  # the hold starts here
    assert plant.read(1800 + 899, t_primary=830, t_secondary=1010) == S.PREHEAT
    assert plant.read(1800 + 900, t_primary=830, t_secondary=1012) == S.READY
    assert plant.feed(2760) == S.BURNING
    assert plant.feed(2760 + 900) == S.BURNING
    assert plant.tick(2760 + 900 + 1799) == S.BURNING
    assert plant.tick(2760 + 900 + 1800) == S.BURNOUT
    assert plant.read(2760 + 900 + 3599, burner_primary=0, burner_secondary=0) == S.BURNOUT  # still burning out
    assert plant.tick(2760 + 900 + 3600) == S.SHUTDOWN  # the burn-out time since the last batch is over
    assert plant.read(9300, t_secondary=995) == S.SHUTDOWN
    assert plant.read(20000, t_primary=240, t_secondary=260) == S.SHUTDOWN
    assert plant.read(20600, t_secondary=245) == S.COLD
    walk = [(t.from_state, t.to_state) for t in plant.transitions]
    assert walk == [
        (S.COLD, S.PREHEAT), (S.PREHEAT, S.READY), (S.READY, S.BURNING),
        (S.BURNING, S.BURNOUT), (S.BURNOUT, S.SHUTDOWN), (S.SHUTDOWN, S.COLD),
    ]
    assert plant.transitions[1].at_ms == at(2700)
    assert "900 s" in plant.transitions[1].reason


def test_a_dip_below_the_minimum_restarts_the_hold() -> None:
    plant = cold_plant()
    plant.read(10, burner_primary=1, burner_secondary=1, t_primary=850)
    plant.read(1000, t_secondary=1003)
    plant.read(1500, t_secondary=998)  # broken: the 15 minutes start again at the next reading
    plant.read(1510, t_secondary=1004)
    assert plant.read(1000 + 900, t_secondary=1004) == S.PREHEAT
    assert plant.read(1510 + 899, t_secondary=1004) == S.PREHEAT
    assert plant.read(1510 + 900, t_secondary=1004) == S.READY


def test_ready_waits_for_the_primary_chamber_when_configured() -> None:
    plant = cold_plant()
    plant.read(10, burner_primary=1, burner_secondary=1, t_primary=700, t_secondary=1010)
    assert plant.read(2000, t_primary=700) == S.PREHEAT
    assert plant.read(2010, t_primary=801) == S.READY

    relaxed = Plant(CONFIG.model_copy(update={"ready_requires_primary": False}))
    relaxed.read(0, burner_primary=1, t_primary=700, t_secondary=1010)
    assert relaxed.read(900, t_primary=700) == S.READY


def test_ready_falls_back_to_preheat_and_burners_off_abandon_the_start() -> None:
    plant = cold_plant()
    plant.read(10, burner_primary=1, burner_secondary=1, t_primary=850, t_secondary=1010)
    assert plant.read(910, t_secondary=1010) == S.READY
    assert plant.read(1000, t_secondary=990) == S.PREHEAT
    assert plant.read(1100, burner_primary=0, burner_secondary=0) == S.SHUTDOWN
    assert plant.read(1200, burner_secondary=1) == S.PREHEAT


def test_a_batch_into_a_cold_plant_means_waste_is_present() -> None:
    plant = cold_plant()
    assert plant.feed(60) == S.BURNING
    assert plant.transitions[-1].reason == "batch fed"


def test_next_state_is_one_step_and_none_when_nothing_changes() -> None:
    state = PlantState(plant="kotim", operating=S.COLD, since_ms=T0)
    assert next_state(state, PlantSignals(), at(10), CONFIG) is None
    signals = PlantSignals(burner_primary_on=True)
    transition = next_state(state, signals, at(10), CONFIG)
    assert transition is not None and transition.to_state == S.PREHEAT
    assert transition.apply(state) == PlantState(plant="kotim", operating=S.PREHEAT, since_ms=at(10))


def test_invalid_samples_and_unknown_sensors_leave_the_signals_alone() -> None:
    signals = PlantSignals()
    maintenance = Reading("kotim", "t_secondary", at(0), 1200.0, "maintenance")
    assert observe_signal(signals, maintenance, at(0), CONFIG) == signals
    assert observe_signal(signals, Reading("kotim", "co", at(0), 12.0), at(0), CONFIG) == signals


def test_plant_state_and_signals_survive_json() -> None:
    plant = cold_plant()
    plant.read(10, burner_primary=1, t_secondary=1010, t_primary=850)
    for model in (plant.state, plant.signals):
        assert type(model).model_validate_json(model.model_dump_json()) == model


# --- issue 17: burn-out time, data timestamps, seeding mid-operation ----------------------------

def burning_plant() -> Plant:
    plant = cold_plant()
    plant.read(10, burner_primary=1, burner_secondary=1, t_primary=850, t_secondary=1010)
    assert plant.read(910, t_secondary=1010) == S.READY
    assert plant.feed(1000) == S.BURNING
    return plant


def test_both_burners_tripping_with_waste_present_is_not_a_shut_down() -> None:
    """Finding 2: the state follows the burn-out time since the last batch, not the burner bits."""
    plant = burning_plant()
    plant.read(1600, burner_primary=0, burner_secondary=0)  # both trip 10 min after the batch
    assert plant.tick(1000 + 1800) == S.BURNOUT  # no batch for 1800 s
    assert plant.read(2900, t_secondary=950, t_primary=760) == S.BURNOUT  # waste still burning out
    assert plant.read(1000 + 3599, t_secondary=930) == S.BURNOUT
    assert plant.read(3700, burner_primary=1, burner_secondary=1) == S.BURNOUT  # relit: not a start-up
    assert plant.read(4300, t_secondary=1010, t_primary=850) == S.BURNOUT
    assert plant.feed(4400) == S.BURNING
    assert S.SHUTDOWN not in [t.to_state for t in plant.transitions]
    assert S.PREHEAT not in [t.to_state for t in plant.transitions[1:]]


def test_a_plant_shuts_down_once_its_burn_out_time_has_passed_and_the_burners_are_off() -> None:
    config = PlantStateConfig(burnout_after_s=1800, burnout_duration_s=3600)
    plant = Plant(config)
    plant.read(0, t_primary=850, t_secondary=1040, burner_primary=1, burner_secondary=1)
    plant.feed(100)
    assert plant.tick(100 + 1800) == S.BURNOUT
    assert plant.read(100 + 3600, burner_primary=0, burner_secondary=0) == S.SHUTDOWN  # still hot: no waste left
    assert plant.transitions[-1].reason.startswith("burn-out")


def test_the_start_up_hold_is_judged_on_the_readings_own_timestamps() -> None:
    """Finding 6: READY exactly 900 s of data time after the first hot reading, however late it arrived."""
    plant = cold_plant()
    plant.read(10, burner_primary=1, burner_secondary=1, t_primary=850)
    first = Reading("kotim", "t_secondary", at(1800), 1005.0)
    plant.signals = observe_signal(plant.signals, first, at(1830), CONFIG)  # handled 30 s after its time
    assert plant.tick(1830) == S.PREHEAT
    later = Reading("kotim", "t_secondary", at(2699), 1010.0)
    plant.signals = observe_signal(plant.signals, later, at(2760), CONFIG)  # the clock ran on meanwhile
    assert plant.tick(2760) == S.PREHEAT  # 899 s of data
    last = Reading("kotim", "t_secondary", at(2700), 1010.0)
    plant.signals = observe_signal(plant.signals, last, at(2700), CONFIG)
    assert plant.tick(2700) == S.READY


def seeded(**values: float) -> PlantState | None:
    signals = PlantSignals()
    for sensor, value in values.items():
        signals = observe_signal(signals, Reading("kotim", sensor, at(0), value), at(0), CONFIG)
    transition = seed_state("kotim", signals, at(0), at(0), CONFIG)
    return None if transition is None else transition.as_state()


def test_a_plant_is_seeded_from_its_signals_when_the_worker_starts_watching() -> None:
    """Finding 1: a hot chamber with a burner on is already running, its start-up hold done."""
    frame = {"t_primary": 860.0, "t_secondary": 1040.0, "burner_primary": 0.0, "burner_secondary": 1.0}
    state = seeded(**frame)
    assert state is not None and state.operating == S.BURNING and state.seeded
    assert seeded(**{**frame, "t_primary": 700.0}).operating == S.PREHEAT  # type: ignore[union-attr]  # still heating
    assert seeded(**{**frame, "t_secondary": 900.0}).operating == S.PREHEAT  # type: ignore[union-attr]
    assert seeded(**{**frame, "burner_secondary": 0.0}).operating == S.SHUTDOWN  # type: ignore[union-attr]  # hot, burners off
    cold = {"t_primary": 40.0, "t_secondary": 40.0, "burner_primary": 0.0, "burner_secondary": 0.0}
    assert seeded(**cold).operating == S.COLD  # type: ignore[union-attr]
    assert seeded(t_secondary=1040.0) is None  # not enough known yet


def test_a_batch_seen_while_seeding_means_waste_is_present_and_missing_signals_wait_only_so_long() -> None:
    signals = observe_signal(PlantSignals(), Batch("kotim", "b-1", at(5), 65.0, "rsud-murjani"), at(5), CONFIG)
    transition = seed_state("kotim", signals, at(5), at(0), CONFIG)
    assert transition is not None and transition.to_state == S.BURNING
    partial = observe_signal(PlantSignals(), Reading("kotim", "t_secondary", at(0), 40.0), at(0), CONFIG)
    assert seed_state("kotim", partial, at(CONFIG.seed_wait_s - 1), at(0), CONFIG) is None
    late = seed_state("kotim", partial, at(CONFIG.seed_wait_s), at(0), CONFIG)
    assert late is not None and late.to_state == S.COLD
