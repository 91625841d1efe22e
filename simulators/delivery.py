"""When each message goes out: the data-quality faults on the way to the broker.

`duplicates` sends some messages twice, `out_of_order` delays some by up to `max_delay_s` so they
arrive shuffled, and `network_outage` holds everything back until the link returns, then back-fills
it (telemetry frames as JSON arrays of up to `chunk` frames on the telemetry topic).
Messages leave in order of `at_ms`, ties in the order they were submitted.
"""

from __future__ import annotations

import heapq
from dataclasses import replace
from random import Random

from simulators.messages import Message, backfill_payload
from simulators.scenarios import FaultWindow

_COPY_DELAY_MAX_MS = 2000


class Delivery:
    """A time-ordered outbox with the data-quality faults applied on entry."""

    def __init__(self, faults: list[FaultWindow], rng: Random) -> None:
        self._rng = rng
        self._duplicates = [f for f in faults if f.name == "duplicates"]
        self._shuffles = [f for f in faults if f.name == "out_of_order"]
        self._outages = [f for f in faults if f.name == "network_outage"]
        self._held: dict[int, list[Message]] = {i: [] for i in range(len(self._outages))}
        self._flushed: set[int] = set()
        self._queue: list[tuple[int, int, Message]] = []
        self._seq = 0

    def submit(self, message: Message) -> None:
        """Queue a message generated at its `at_ms`; it may come out later, twice, or both."""
        if message.valid and message.kind != "status":
            message = self._maybe_delay(message)
            copy = self._maybe_copy(message)
            self._place(message)
            if copy is not None:
                self._place(copy)
        else:
            self._place(message)

    def release(self, until_ms: int) -> list[Message]:
        """Messages due at or before `until_ms`, in publish order; every message stamped at or
        before `until_ms` must have been submitted."""
        for index, outage in enumerate(self._outages):
            if index not in self._flushed and outage.end_ms <= until_ms:
                self._flush(index)
        out: list[Message] = []
        queue = self._queue
        while queue and queue[0][0] <= until_ms:
            out.append(heapq.heappop(queue)[2])
        return out

    def drain(self) -> list[Message]:
        """Everything still queued or held, as if every outage had ended now."""
        for index in range(len(self._outages)):
            if index not in self._flushed:
                self._flush(index)
        return [heapq.heappop(self._queue)[2] for _ in range(len(self._queue))]

    def _maybe_delay(self, message: Message) -> Message:
        for window in self._shuffles:
            if window.contains(message.at_ms) and self._rng.random() < window.number("probability"):
                delay_ms = round(self._rng.uniform(0.0, window.number("max_delay_s")) * 1000)
                return replace(message, at_ms=message.at_ms + delay_ms)
        return message

    def _maybe_copy(self, message: Message) -> Message | None:
        for window in self._duplicates:
            if window.contains(message.at_ms) and self._rng.random() < window.number("probability"):
                return replace(message, at_ms=message.at_ms + self._rng.randint(0, _COPY_DELAY_MAX_MS), copy=True)
        return None

    def _place(self, message: Message) -> None:
        for index, outage in enumerate(self._outages):
            if index not in self._flushed and outage.contains(message.at_ms):
                self._held[index].append(message)
                return
        self._push(message)

    def _push(self, message: Message) -> None:
        heapq.heappush(self._queue, (message.at_ms, self._seq, message))
        self._seq += 1

    def _flush(self, index: int) -> None:
        """Back-fill what an outage held: telemetry in array chunks, everything else one by one."""
        self._flushed.add(index)
        outage = self._outages[index]
        chunk_size = max(1, int(outage.number("chunk")))
        held = sorted(self._held.pop(index), key=lambda m: m.at_ms)
        frames: list[Message] = []
        for message in held:
            if message.kind == "telemetry" and message.valid:
                frames.append(message)
                if len(frames) >= chunk_size:
                    self._push(_as_array(frames, outage.end_ms))
                    frames = []
            else:
                self._push(replace(message, at_ms=outage.end_ms))
        if frames:
            self._push(_as_array(frames, outage.end_ms))


def _as_array(frames: list[Message], at_ms: int) -> Message:
    first = frames[0]
    records = tuple(rec for frame in frames for rec in frame.records)
    return replace(first, payload=backfill_payload([f.payload for f in frames]), at_ms=at_ms, records=records, copy=False)
