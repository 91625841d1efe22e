"""A Modbus TCP or RTU device as a `Source`: its register map read in contiguous blocks, then decoded.

Each device has a client of its own (pymodbus's asyncio clients), so a slow or dead device waits
on nothing but its own socket or serial line. pymodbus's own retries and reconnects are off: the
poller retries, and after any failure the connection is closed and opened afresh on the next
attempt (a late answer on a serial line would otherwise be taken for the next request's).
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException

from edge.blocks import BIT_KINDS, Block, group_blocks
from edge.devices import PointSpec, RtuDevice, StatusSpec, TcpDevice
from edge.registers import decode_registers, register_bit, scaled
from edge.sources import Readout, SampleStatus, SourceError


def quiet_pymodbus(log_level: str) -> None:
    """pymodbus logs every timeout and refused connection itself (ERROR, WARNING); the edge reports a
    device's errors once, in its own words. Its logs come back at DEBUG."""
    if log_level != "DEBUG":
        logging.getLogger("pymodbus").setLevel(logging.CRITICAL)


_READ = {"holding": "read_holding_registers", "input": "read_input_registers", "coil": "read_coils", "discrete": "read_discrete_inputs"}
_RANK = {"maintenance": 1, "malfunction": 2}


def decode_point(point: PointSpec, words: list[int]) -> float:
    """A point's engineering value from the registers (or the one bit) it reads."""
    if point.kind in BIT_KINDS:
        raw: float = float(words[0])
    elif point.bit is not None:
        raw = float(register_bit(words[0], point.bit, point.byte_order))
    else:
        raw = decode_registers(words, point.register_type, point.byte_order, point.word_order)
    return scaled(raw, point.scale, point.offset)


def status_of(spec: StatusSpec, words: list[int]) -> SampleStatus | None:
    """What a status register or bit says now (None: valid)."""
    if spec.kind in BIT_KINDS:
        return spec.when_set if words[0] else None
    if spec.bit is not None:
        return spec.when_set if register_bit(words[0], spec.bit, spec.byte_order) else None
    return (spec.values or {}).get(words[0])


class ModbusSource:
    """One Modbus device of the device file."""

    def __init__(self, spec: TcpDevice | RtuDevice) -> None:
        self.spec = spec
        self.blocks: list[Block] = group_blocks(
            [(p.kind, p.address, p.count) for p in spec.points] + [(s.kind, s.address, s.count) for s in spec.status]
        )
        self._client: AsyncModbusTcpClient | AsyncModbusSerialClient | None = None
        self.nonfinite = 0  # decoded NaN or ±Infinity: left out of the sample (JSON cannot carry them)

    @property
    def device(self) -> str:
        return self.spec.id

    @property
    def period_s(self) -> float:
        return self.spec.period_s

    @property
    def timeout_s(self) -> float:
        return self.spec.timeout_s

    @property
    def retries(self) -> int:
        return self.spec.retries

    def describe(self) -> str:
        return f"{self.spec.protocol} {self.spec.address}"

    def _new_client(self) -> AsyncModbusTcpClient | AsyncModbusSerialClient:
        spec = self.spec
        if isinstance(spec, TcpDevice):
            return AsyncModbusTcpClient(spec.host, port=spec.port, timeout=spec.timeout_s, retries=0, reconnect_delay=0)
        return AsyncModbusSerialClient(
            spec.serial_port, baudrate=spec.baud, parity=spec.parity, stopbits=spec.stop_bits, bytesize=8,
            timeout=spec.timeout_s, retries=0, reconnect_delay=0,
        )

    async def connect(self) -> None:
        if self._client is not None and self._client.connected:
            return
        await self.close()
        client = self._new_client()
        try:
            async with asyncio.timeout(self.spec.timeout_s + 1):
                ok = await client.connect()
        except (TimeoutError, OSError, ModbusException) as exc:
            client.close()
            raise SourceError(f"cannot connect to {self.describe()}: {type(exc).__name__} {exc}"[:300]) from None
        if not ok:
            client.close()
            raise SourceError(f"cannot connect to {self.describe()}")
        self._client = client

    async def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    async def read_blocks(self) -> dict[Block, list[int]]:
        """Every block's registers (bits as 0/1)."""
        await self.connect()
        client = self._client
        assert client is not None
        out: dict[Block, list[int]] = {}
        try:
            for block in self.blocks:
                call: Any = getattr(client, _READ[block.kind])
                async with asyncio.timeout(self.spec.timeout_s + 1):  # pymodbus's own timeout should come first
                    response = await call(block.address, count=block.count, device_id=self.spec.unit_id)
                if response.isError():
                    code = getattr(response, "exception_code", "?")
                    raise SourceError(f"exception code {code} reading {block.count} {block.kind} from {block.address}")
                if block.kind in BIT_KINDS:
                    words = [int(b) for b in response.bits[: block.count]]
                else:
                    words = list(response.registers)
                if len(words) < block.count:
                    raise SourceError(f"short answer: {len(words)} of {block.count} {block.kind} from {block.address}")
                out[block] = words
        except SourceError:
            await self.close()
            raise
        except TimeoutError:
            await self.close()
            raise SourceError(f"no answer within {self.spec.timeout_s} s from {self.describe()}") from None
        except ModbusIOException as exc:  # pymodbus's own timeout: no answer
            await self.close()
            text = str(exc).replace("\n", " ")
            raise SourceError(f"no answer within {self.spec.timeout_s} s from {self.describe()} ({text})"[:300]) from None
        except ConnectionException as exc:
            await self.close()
            raise SourceError(f"connection lost to {self.describe()}: {exc}"[:300]) from None
        except (ModbusException, OSError, ConnectionError) as exc:
            await self.close()
            text = str(exc).replace("\n", " ")
            raise SourceError(f"{type(exc).__name__}: {text}"[:300]) from None
        return out

    def _words(self, blocks: dict[Block, list[int]], kind: str, address: int, count: int) -> list[int]:
        for block, words in blocks.items():
            if block.covers(kind, address, count):
                start = address - block.address
                return words[start : start + count]
        raise AssertionError(f"no block covers {kind} {address}+{count}")  # group_blocks covers every range

    def decode(self, blocks: dict[Block, list[int]]) -> Readout:
        values: dict[str, float] = {}
        for point in self.spec.points:
            value = decode_point(point, self._words(blocks, point.kind, point.address, point.count))
            if math.isfinite(value):
                values[point.sensor] = value
            else:
                self.nonfinite += 1
        status: dict[str, SampleStatus] = {}
        for spec in self.spec.status:
            said = status_of(spec, self._words(blocks, spec.kind, spec.address, 1))
            if said is None:
                continue
            for sensor in self.spec.covered(spec):
                if sensor in values and _RANK[said] > _RANK.get(status.get(sensor, ""), 0):
                    status[sensor] = said
        return Readout(values, status)

    async def read(self) -> Readout:
        return self.decode(await self.read_blocks())
