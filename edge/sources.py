"""What a field source is, for the poller: the one interface Modbus (and, later, OPC UA) devices plug into.

A source reads one device. The poller (`edge.poller.samples`) calls `connect()` once, then `read()`
every `period_s`, each attempt bounded by `timeout_s` and retried `retries` times, and stamps each
readout with the edge's clock. What comes out is a stream of `Sample`s:

    Sample(device="cems", ts_ms=1764840000123, values={"co": 12.5, "o2": 10.9},
           status={"co": "maintenance"})          # sensors absent from `status` are valid

A source never stamps time and never publishes: it only says what the device holds now, or raises
`SourceError` (timeout, exception code, connection lost) with a one-line reason. To add a protocol,
write a class with the attributes and the three coroutines of `Source` and build it in
`edge.service.build_sources` from its device-file entry.

A *push* source (OPC UA's data-change subscriptions) has a fourth coroutine, `run(sink)`: the service
runs it instead of polling, and it tells the sink (`edge.poller.pushed`'s, which stamps and queues)
each change and when it is subscribed or lost. Its `read()` still reads once, for the check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from wastewatch.errors import WastewatchError

SampleStatus = Literal["maintenance", "malfunction"]


class SourceError(WastewatchError):
    """A field device could not be read: timeout, an exception code, a lost connection; one line says which."""


@dataclass(frozen=True, slots=True)
class Readout:
    """What a device holds now: engineering values by sensor, and the sensors not valid (EN 17255)."""

    values: dict[str, float]
    status: dict[str, SampleStatus] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Sample:
    """One stamped readout of one device: the unit the queue stores and the forwarder publishes."""

    device: str
    ts_ms: int
    values: dict[str, float]
    status: dict[str, SampleStatus] = field(default_factory=dict)


class Source(Protocol):
    """One field device, as the poller drives it."""

    @property
    def device(self) -> str:
        """The device id (the plant file's, and the status topic's)."""
        ...

    @property
    def period_s(self) -> float: ...

    @property
    def timeout_s(self) -> float: ...

    @property
    def retries(self) -> int: ...

    def describe(self) -> str:
        """Where the device is, for logs and `wastewatch edge check` (host:port unit 1)."""
        ...

    async def connect(self) -> None:
        """Open the connection (raise `SourceError` when it cannot be opened)."""
        ...

    async def read(self) -> Readout:
        """Read every mapped value once (raise `SourceError`); reconnects itself when needed."""
        ...

    async def close(self) -> None: ...


class PushSink(Protocol):
    """What a push source reports to (the poller's, in `edge.poller.pushed`)."""

    def subscribed(self, latency_s: float) -> None:
        """Connected and subscribed (again): the device is online."""
        ...

    def changed(self, readout: Readout) -> None:
        """Values that changed together (the sink stamps them with the edge's clock)."""
        ...

    def lost(self, error: str, latency_s: float) -> None:
        """The connection could not be made or was lost (one line why): the device is offline."""
        ...


@runtime_checkable
class PushSource(Source, Protocol):
    """A source the device pushes changes from: `run` until cancelled, reconnecting itself."""

    async def run(self, sink: PushSink) -> None: ...
