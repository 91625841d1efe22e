"""The plant simulator: a deterministic model of the Kotim incinerator and its faults, and a publisher.

`PlantModel` / `generate_messages` are pure (simulated time in, MQTT messages out); `run_simulator`
puts them on a broker; `simulators.cli` wires both into `wastewatch simulate`.
"""

from simulators.messages import Message, MessageKind
from simulators.model import Generated, PlantModel, generate_messages, iter_messages
from simulators.plant_state import Phase
from simulators.scenarios import FAULT_NAMES, INVALID_REASONS, FaultWindow, parse_duration_s, parse_fault_spec
from simulators.schedule import BatchPlan, ContinuousSchedule, DailySchedule, OperatingSchedule, schedule_named
from simulators.tally import Tally

__all__ = [
    "FAULT_NAMES",
    "INVALID_REASONS",
    "BatchPlan",
    "ContinuousSchedule",
    "DailySchedule",
    "FaultWindow",
    "Generated",
    "Message",
    "MessageKind",
    "OperatingSchedule",
    "Phase",
    "PlantModel",
    "Tally",
    "generate_messages",
    "iter_messages",
    "parse_duration_s",
    "parse_fault_spec",
    "schedule_named",
]
