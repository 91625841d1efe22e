"""The edge's pure parts: register decoding against `struct`, block grouping, messages, the clock, the queue."""

from __future__ import annotations

import json
import math
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.blocks import MAX_REGISTERS, group_blocks
from edge.clock import EdgeClock
from edge.devices import PointSpec
from edge.frames import build_messages
from edge.modbus import decode_point
from edge.queue import SampleQueue
from edge.registers import decode_registers, register_bit
from edge.sources import Sample
from tests.edge_modbus import words_for

INTS = {"int16": (-(2**15), 2**15 - 1), "uint16": (0, 2**16 - 1), "int32": (-(2**31), 2**31 - 1), "uint32": (0, 2**32 - 1)}
ORDERS = st.sampled_from(["big", "little"])


def _values(kind: str) -> st.SearchStrategy[float]:
    if kind in INTS:
        lo, hi = INTS[kind]
        return st.integers(lo, hi).map(float)
    width = 32 if kind == "float32" else 64
    return st.floats(width=width, allow_nan=False, allow_infinity=False)


@st.composite
def typed_values(draw: st.DrawFn) -> tuple[str, float]:
    kind = draw(st.sampled_from(["int16", "uint16", "int32", "uint32", "float32", "float64"]))
    return kind, draw(_values(kind))


@given(typed_values(), ORDERS, ORDERS)
@settings(max_examples=500)
def test_every_type_and_order_decodes_what_struct_packed(typed: tuple[str, float], byte_order: str, word_order: str) -> None:
    kind, value = typed
    words = words_for(kind, value, byte_order, word_order)  # struct.pack in the device's layout, split into registers
    assert all(0 <= w <= 0xFFFF for w in words)
    decoded = decode_registers(words, kind, byte_order, word_order)  # type: ignore[arg-type]
    assert decoded == value


@given(typed_values(), ORDERS, ORDERS,
       st.floats(-1e3, 1e3, allow_nan=False).filter(lambda x: x != 0), st.floats(-1e4, 1e4, allow_nan=False))
def test_scale_and_offset_apply_to_the_raw_value(typed: tuple[str, float], byte_order: str, word_order: str, scale: float, offset: float) -> None:
    kind, value = typed
    point = PointSpec(sensor="t_primary", address=0, type=kind, byte_order=byte_order, word_order=word_order, scale=scale, offset=offset)  # type: ignore[arg-type]
    got = decode_point(point, words_for(kind, value, byte_order, word_order))
    assert got == float(value) * scale + offset


def test_a_known_layout_of_each_order() -> None:
    # 0x11223344 over two registers: ABCD, BADC, CDAB, DCBA (vendor manuals' names)
    assert decode_registers([0x1122, 0x3344], "uint32", "big", "big") == 0x11223344
    assert decode_registers([0x2211, 0x4433], "uint32", "little", "big") == 0x11223344
    assert decode_registers([0x3344, 0x1122], "uint32", "big", "little") == 0x11223344
    assert decode_registers([0x4433, 0x2211], "uint32", "little", "little") == 0x11223344
    assert decode_registers(list(struct.unpack(">2H", struct.pack(">f", 850.5))), "float32") == 850.5
    with pytest.raises(ValueError):
        decode_registers([1], "float32")


@given(st.integers(0, 0xFFFF), st.integers(0, 15))
def test_a_bit_of_a_register(word: int, bit: int) -> None:
    assert register_bit(word, bit) == (word >> bit) & 1
    swapped = ((word & 0xFF) << 8) | (word >> 8)
    assert register_bit(swapped, bit, "little") == (word >> bit) & 1


@given(st.lists(st.tuples(st.sampled_from(["holding", "input", "coil"]), st.integers(0, 400), st.integers(1, 4)), min_size=1, max_size=40))
def test_blocks_cover_every_range_and_read_no_gap(ranges: list[tuple[str, int, int]]) -> None:
    blocks = group_blocks(ranges)
    for kind, address, count in ranges:
        assert any(b.covers(kind, address, count) for b in blocks)
    wanted = {(k, a + i) for k, a, c in ranges for i in range(c)}
    for block in blocks:
        assert block.count <= (MAX_REGISTERS if block.kind != "coil" else 2000)
        assert all((block.kind, block.address + i) in wanted for i in range(block.count)), "a block reads an unmapped address"


def test_contiguous_registers_are_one_request() -> None:
    blocks = group_blocks([("holding", 0, 2), ("holding", 2, 2), ("holding", 4, 1), ("holding", 10, 1), ("coil", 0, 1), ("coil", 1, 1)])
    assert [(b.kind, b.address, b.count) for b in blocks] == [("coil", 0, 2), ("holding", 0, 5), ("holding", 10, 1)]


def test_frames_carry_valid_values_and_flagged_ones_go_to_their_sensor_topic() -> None:
    samples = [
        Sample("cems", 1000, {"co": 10.0, "o2": 11.0}),
        Sample("cems", 2000, {"co": 12.0, "o2": 11.5}, {"co": "maintenance"}),
    ]
    messages = build_messages("kotim", samples, max_frames=500)
    by_topic = {m.topic: json.loads(m.payload) for m in messages}
    assert by_topic["plants/kotim/telemetry"] == [{"ts": 1000, "values": {"co": 10.0, "o2": 11.0}}, {"ts": 2000, "values": {"o2": 11.5}}]
    assert by_topic["plants/kotim/sensors/co"] == {"ts": 2000, "value": 12.0, "status": "maintenance"}
    single = build_messages("kotim", samples[:1])
    assert json.loads(single[0].payload) == {"ts": 1000, "values": {"co": 10.0, "o2": 11.0}}  # live: one frame, not an array


@given(st.integers(1, 50), st.integers(300, 5000))
def test_backfill_messages_stay_within_their_frame_and_byte_bounds(max_frames: int, max_bytes: int) -> None:
    samples = [Sample("plc", 1000 + i, {f"t{j}": 800.0 + i + j / 7 for j in range(5)}) for i in range(120)]
    messages = build_messages("kotim", samples, max_frames=max_frames, max_bytes=max_bytes)
    frames = []
    for m in messages:
        body = json.loads(m.payload)
        items = body if isinstance(body, list) else [body]
        assert len(items) <= max_frames and len(items) == m.frames
        assert len(m.payload) <= max_bytes or len(items) == 1
        frames += items
    assert [f["ts"] for f in frames] == [1000 + i for i in range(120)]


class FakeTime:
    """A wall clock and a monotonic clock the test moves (the clock's inputs, not a mock of the edge)."""

    def __init__(self) -> None:
        self.wall = 1_800_000_000.0
        self.mono = 1000.0

    def tick(self, s: float) -> None:
        self.wall += s
        self.mono += s


def test_a_backwards_jump_holds_the_last_timestamp_and_is_counted() -> None:
    t = FakeTime()
    clock = EdgeClock(60, wall=lambda: t.wall, monotonic=lambda: t.mono)
    stamps = []
    for _ in range(5):
        stamps.append(clock.stamp())
        t.tick(1.0)
    t.wall -= 3.0  # set back 3 s
    for _ in range(6):
        stamps.append(clock.stamp())
        t.tick(1.0)
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps), "out of order or a repeated timestamp"
    assert clock.state.backward_jumps == 1
    assert clock.state.held >= 2  # the stamps while the wall clock was behind
    assert not clock.state.holding  # caught up again
    assert stamps[-1] == int(t.wall * 1000 - 1000)


def test_a_forward_jump_beyond_the_limit_is_counted_and_followed() -> None:
    t = FakeTime()
    clock = EdgeClock(60, wall=lambda: t.wall, monotonic=lambda: t.mono)
    first = clock.stamp()
    t.tick(1.0)
    t.wall += 30  # within the limit: not a jump
    clock.stamp()
    assert clock.state.forward_jumps == 0
    t.tick(1.0)
    t.wall += 3600
    jumped = clock.stamp()
    assert clock.state.forward_jumps == 1 and clock.state.backward_jumps == 0
    assert jumped - first == (2 + 30 + 3600) * 1000


def test_concurrent_stamps_are_distinct_but_not_held() -> None:
    t = FakeTime()
    clock = EdgeClock(60, wall=lambda: t.wall, monotonic=lambda: t.mono)
    stamps = [clock.stamp() for _ in range(10)]  # ten devices answering in the same millisecond
    assert len(set(stamps)) == 10 and clock.state.held == 0 and clock.state.backward_jumps == 0


def test_the_queue_refuses_when_full_keeps_the_oldest_and_survives_reopening(tmp_path) -> None:
    path = tmp_path / "q.sqlite3"
    queue = SampleQueue(path, max_rows=100)
    accepted = queue.append([Sample("plc", i, {"t_primary": float(i)}) for i in range(1, 131)])
    assert accepted == 100 and queue.refused == 30 and queue.depth == 100
    oldest = queue.oldest(5)
    assert [s.ts_ms for _, s in oldest] == [1, 2, 3, 4, 5]
    queue.delete_through(oldest[-1][0])
    assert queue.depth == 95
    queue.close()
    again = SampleQueue(path, max_rows=100)
    assert again.depth == 95 and again.refused == 30 and again.newest_ts() == 100
    assert [s.ts_ms for _, s in again.oldest(1)] == [6]
    assert math.isclose(again.fill, 0.95)
    again.close()


def test_the_queue_warns_at_50_80_95_percent(tmp_path, caplog) -> None:
    queue = SampleQueue(tmp_path / "q.sqlite3", max_rows=100)
    with caplog.at_level("WARNING", logger="edge.queue"):
        for i in range(100):
            queue.append([Sample("plc", i + 1, {"t_primary": 1.0})])
    warnings = [r.getMessage() for r in caplog.records if "full" in r.getMessage()]
    assert [w.split(" %")[0].split()[-1] for w in warnings] == ["50", "80", "95"]
    queue.close()
