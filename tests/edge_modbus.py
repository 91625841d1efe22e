"""Real Modbus devices for the edge's tests and benchmark: pymodbus's own servers (TCP, and RTU on a
serial line), whose registers the test changes while the edge polls, and misbehaving ones.

`ModbusDevice` holds the four tables; the server answers every read from them (pymodbus's simulator
`action` hook copies them in before it answers). `mode` makes it misbehave: `timeout` (answers
after `delay_s`, later than any edge timeout), `exception` (exception code 4, device failure).
`DroppingServer` accepts a connection, reads the request and closes it without an answer.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
from dataclasses import dataclass, field
from typing import Literal

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice
from pymodbus.simulator.simutils import SimUtils

from wastewatch.runtime import free_port

SIZE = 256  # registers and bits per table


def words_for(kind: str, value: float, byte_order: str = "big", word_order: str = "big") -> list[int]:
    """A value's registers as a device lays them out, packed with `struct` (independent of edge.registers)."""
    fmt = {"int16": "h", "uint16": "H", "int32": "i", "uint32": "I", "float32": "f", "float64": "d"}[kind]
    packed = struct.pack((">" if word_order == "big" else "<") + fmt, int(value) if fmt in "hHiI" else value)
    pairs = [packed[i : i + 2] for i in range(0, len(packed), 2)]
    if (word_order == "big") != (byte_order == "big"):
        pairs = [p[::-1] for p in pairs]
    return [int.from_bytes(p, "big") for p in pairs]


@dataclass
class ModbusDevice:
    holding: list[int] = field(default_factory=lambda: [0] * SIZE)
    input: list[int] = field(default_factory=lambda: [0] * SIZE)
    coils: list[bool] = field(default_factory=lambda: [False] * SIZE)
    discrete: list[bool] = field(default_factory=lambda: [False] * SIZE)
    mode: Literal["normal", "timeout", "exception"] = "normal"
    delay_s: float = 30.0
    reads: int = 0

    def set(self, table: str, address: int, words: list[int]) -> None:
        getattr(self, table)[address : address + len(words)] = words

    async def action(
        self, function_code: int, start_address: int, address: int, count: int,
        registers: list[int], set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        self.reads += 1
        if self.mode == "exception":
            return ExcCodes.DEVICE_FAILURE
        if self.mode == "timeout":
            await asyncio.sleep(self.delay_s)
        if function_code in (1, 2):
            bits = self.coils if function_code == 1 else self.discrete
            packed = SimUtils.bitsToRegisters(list(bits))
            registers[: len(packed)] = packed
        elif function_code in (3, 4):
            table = self.holding if function_code == 3 else self.input
            registers[: len(table)] = table
        return None

    def simdevice(self, unit_id: int = 1) -> SimDevice:
        return SimDevice(
            id=unit_id,
            simdata=(
                [SimData(0, count=SIZE, values=False, datatype=DataType.BITS)],
                [SimData(0, count=SIZE, values=False, datatype=DataType.BITS)],
                [SimData(0, count=SIZE, values=0, datatype=DataType.REGISTERS)],
                [SimData(0, count=SIZE, values=0, datatype=DataType.REGISTERS)],
            ),
            action=self.action,
        )


class _LoopThread:
    """An asyncio loop on a thread of its own, where the servers run."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro, timeout_s: float = 10.0):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout_s)

    def close(self) -> None:
        if self.loop.is_closed():
            return

        async def cancel_the_rest() -> None:  # requests a slow device is still sitting on
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self.run(cancel_the_rest())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()


class ModbusTcpDevice:
    """pymodbus's TCP server on a free loopback port, answering from `device`."""

    def __init__(self, device: ModbusDevice | None = None, unit_id: int = 1) -> None:
        self.device = device or ModbusDevice()
        self.port = free_port()
        self._runner = _LoopThread()
        self._server: ModbusTcpServer | None = None
        self._unit_id = unit_id

    def start(self) -> ModbusTcpDevice:
        async def start() -> None:
            self._server = ModbusTcpServer(self.device.simdevice(self._unit_id), address=("127.0.0.1", self.port))
            await self._server.listen()

        self._runner.run(start())
        return self

    def stop(self) -> None:
        if self._server is not None:
            server, self._server = self._server, None
            self._runner.run(server.shutdown())
        self._runner.close()


class ModbusRtuDevice:
    """pymodbus's RTU server on one end of a serial line (a pseudo-terminal pair from socat)."""

    def __init__(self, serial_port: str, device: ModbusDevice | None = None, unit_id: int = 1, baud: int = 19200, parity: str = "E") -> None:
        self.device = device or ModbusDevice()
        self.serial_port = serial_port
        self._runner = _LoopThread()
        self._server: ModbusSerialServer | None = None
        self._args = {"baudrate": baud, "parity": parity, "stopbits": 1, "bytesize": 8}
        self._unit_id = unit_id

    def start(self) -> ModbusRtuDevice:
        async def start() -> None:
            self._server = ModbusSerialServer(self.device.simdevice(self._unit_id), port=self.serial_port, **self._args)  # type: ignore[arg-type]
            await self._server.listen()

        self._runner.run(start())
        return self

    def stop(self) -> None:
        if self._server is not None:
            server, self._server = self._server, None
            self._runner.run(server.shutdown())
        self._runner.close()


class DroppingServer:
    """A TCP server that accepts, reads the request and closes the connection without answering."""

    def __init__(self) -> None:
        self.port = free_port()
        self.sock = socket.create_server(("127.0.0.1", self.port))
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def start(self) -> DroppingServer:
        self._thread.start()
        return self

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            conn.settimeout(1.0)
            try:
                conn.recv(256)
            except OSError:
                pass
            conn.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


# --- device files for the tests: the Kotim PLC and CEMS maps of edge/examples/kotim.yaml, shortened

PLC_POINTS = [
    {"sensor": "t_primary", "kind": "holding", "address": 0, "type": "float32"},
    {"sensor": "t_secondary", "kind": "holding", "address": 2, "type": "float32", "word_order": "little"},
    {"sensor": "draft_primary", "kind": "holding", "address": 6, "type": "int16", "scale": 0.1},
    {"sensor": "burner_primary", "kind": "coil", "address": 0},
]
CEMS_POINTS = [
    {"sensor": "co", "kind": "input", "address": 0, "type": "float32", "word_order": "little"},
    {"sensor": "o2", "kind": "input", "address": 10, "type": "float32", "word_order": "little"},
    {"sensor": "flow", "kind": "input", "address": 12, "type": "uint32", "byte_order": "little", "word_order": "little"},
]
CEMS_STATUS = [{"kind": "input", "address": 30, "values": {1: "maintenance", 2: "malfunction"}, "covers": ["co"]}]


def tcp_device(device_id: str, port: int, points: list[dict[str, object]], period_s: float = 0.2, **extra: object) -> dict[str, object]:
    return {"id": device_id, "protocol": "modbus_tcp", "host": "127.0.0.1", "port": port, "unit_id": 1,
            "period_s": period_s, "timeout_s": 0.5, "retries": 1, "points": points, **extra}


def load_plc(device: ModbusDevice, t_primary: float = 850.5, t_secondary: float = 1010.25, draft: int = -125, burner: bool = True) -> None:
    device.set("holding", 0, words_for("float32", t_primary))
    device.set("holding", 2, words_for("float32", t_secondary, word_order="little"))
    device.set("holding", 6, words_for("int16", draft))
    device.coils[0] = burner


def load_cems(device: ModbusDevice, co: float = 12.5, o2: float = 10.75, flow: int = 5800, state: int = 0) -> None:
    device.set("input", 0, words_for("float32", co, word_order="little"))
    device.set("input", 10, words_for("float32", o2, word_order="little"))
    device.set("input", 12, words_for("uint32", flow, byte_order="little", word_order="little"))
    device.input[30] = state
