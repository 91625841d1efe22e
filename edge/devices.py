"""The edge's device file: which field devices it polls, how it reaches them, and their register maps.

A YAML file, validated with pydantic when it is loaded, against the plant file as well (every point
names a sensor of the plant; every device, when the plant lists devices, is one of them). Any
problem is a `DeviceFileError` (a `ConfigError`) whose one line names the file, the device and the
field: `edge.yaml: device 'cems': points[2].address: …`. The broker is not in this file: it comes
from the environment like every other command's (`WASTEWATCH_MQTT_URL`, `BrokerSettings`).

    plant: kotim
    devices:
      - id: plc
        protocol: modbus_tcp          # or modbus_rtu: serial_port, baud, parity (N/E/O), stop_bits;
                                      # or opcua: endpoint, security, node ids (edge.opcua_devices)
        host: 192.168.10.10
        port: 502
        unit_id: 1
        period_s: 10
        timeout_s: 2
        retries: 2
        points:
          - {sensor: t_primary, kind: holding, address: 0, type: float32, word_order: little}
          - {sensor: burner_primary, kind: coil, address: 0}
        status:
          - {kind: holding, address: 90, bit: 0, when_set: maintenance}       # one bit
          - {kind: holding, address: 91, values: {1: maintenance, 2: malfunction}, covers: [co]}
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from edge.mapping import check_mapping, covered_sensors
from edge.opcua_devices import OpcUaDevice
from edge.registers import Order, RegisterType, register_count
from wastewatch.errors import ConfigError
from wastewatch.plant import PlantConfig
from wastewatch.topics import ID_PATTERN

RegisterKind = Literal["holding", "input", "coil", "discrete"]
BIT_KINDS: frozenset[str] = frozenset({"coil", "discrete"})
SampleStatus = Literal["maintenance", "malfunction"]
MAX_ADDRESS = 65_535


class DeviceFileError(ConfigError):
    """The edge's device file is missing or invalid; the message names the file, the device and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PointSpec(_Strict):
    """One mapped value: where it is read, how it is decoded, which sensor of the plant it feeds."""

    sensor: str = Field(pattern=ID_PATTERN)
    kind: RegisterKind = "holding"
    address: int = Field(ge=0, le=MAX_ADDRESS)
    type: RegisterType | None = Field(default=None, description="registers only; default uint16")
    bit: int | None = Field(default=None, ge=0, le=15, description="one bit of a 16-bit register (0 = least significant)")
    byte_order: Order = "big"
    word_order: Order = "big"
    scale: float = Field(default=1.0, allow_inf_nan=False)
    offset: float = Field(default=0.0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _fits(self) -> PointSpec:
        if self.kind in BIT_KINDS:
            if self.type is not None or self.bit is not None:
                raise ValueError(f"a {self.kind} is one bit: no type or bit")
        elif self.bit is not None and self.register_type not in ("uint16", "int16"):
            raise ValueError("bit needs a 16-bit type (uint16 or int16)")
        if self.address + self.count - 1 > MAX_ADDRESS:
            raise ValueError(f"address {self.address} + {self.count} registers runs past {MAX_ADDRESS}")
        return self

    @property
    def register_type(self) -> RegisterType:
        return self.type or "uint16"

    @property
    def count(self) -> int:
        """Registers (or bits) this point reads."""
        return 1 if self.kind in BIT_KINDS else register_count(self.register_type)


class StatusSpec(_Strict):
    """A status register or bit: the EN 17255 status of the channels it covers when it says so.

    A bit (`coil`, `discrete`, or `bit` of a register) gives `when_set` while it is 1; a whole
    register gives `values[register]` (any other value: valid). Malfunction beats maintenance."""

    kind: RegisterKind = "holding"
    address: int = Field(ge=0, le=MAX_ADDRESS)
    bit: int | None = Field(default=None, ge=0, le=15)
    byte_order: Order = "big"
    when_set: SampleStatus | None = None
    values: dict[Annotated[int, Field(ge=0, le=65_535)], SampleStatus] | None = None
    covers: list[Annotated[str, Field(pattern=ID_PATTERN)]] | None = Field(
        default=None, description="sensors of this device it covers; unset: all of them",
    )

    @model_validator(mode="after")
    def _one_form(self) -> StatusSpec:
        is_bit = self.kind in BIT_KINDS or self.bit is not None
        if self.kind in BIT_KINDS and self.bit is not None:
            raise ValueError(f"a {self.kind} is one bit already: no bit")
        if is_bit and (self.when_set is None or self.values is not None):
            raise ValueError("a status bit needs when_set (maintenance or malfunction) and no values")
        if not is_bit and (not self.values or self.when_set is not None):
            raise ValueError("a status register needs values ({register value: maintenance|malfunction}), or a bit and when_set")
        return self

    @property
    def count(self) -> int:
        return 1


class _Device(_Strict):
    id: str = Field(pattern=ID_PATTERN)
    unit_id: int = Field(default=1, ge=0, le=255, description="Modbus unit (slave) id")
    period_s: float = Field(default=10.0, ge=0.05, le=86_400, description="poll period")
    timeout_s: float = Field(default=2.0, gt=0, le=60, description="one request's timeout")
    retries: int = Field(default=2, ge=0, le=10, description="retries of a failed poll before it counts as an error")
    points: list[PointSpec] = Field(min_length=1)
    status: list[StatusSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> _Device:
        check_mapping(self.points, self.status)
        return self

    def covered(self, status: StatusSpec) -> list[str]:
        return covered_sensors(self.points, status)

    @property
    def address(self) -> str:
        raise NotImplementedError


class TcpDevice(_Device):
    """A Modbus TCP device (or a gateway in front of serial ones: then `unit_id` picks the device)."""

    protocol: Literal["modbus_tcp"]
    host: str = Field(min_length=1, max_length=253)
    port: int = Field(default=502, ge=1, le=65_535)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port} unit {self.unit_id}"


class RtuDevice(_Device):
    """A Modbus RTU device on a serial line."""

    protocol: Literal["modbus_rtu"]
    serial_port: str = Field(min_length=1, max_length=4096)
    baud: int = Field(default=9600, ge=300, le=1_000_000)
    parity: Literal["N", "E", "O"] = "N"
    stop_bits: Literal[1, 2] = 1

    @property
    def address(self) -> str:
        return f"{self.serial_port} {self.baud} {self.parity}8{self.stop_bits} unit {self.unit_id}"


DeviceSpec = Annotated[TcpDevice | RtuDevice | OpcUaDevice, Field(discriminator="protocol")]


class DeviceFile(_Strict):
    """The whole file: the plant these devices belong to and the devices."""

    plant: str = Field(pattern=ID_PATTERN)
    devices: list[DeviceSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> DeviceFile:
        ids: set[str] = set()
        sensors: dict[str, str] = {}
        for i, device in enumerate(self.devices):
            if device.id in ids:
                raise ValueError(f"devices[{i}]: device id {device.id!r} appears twice")
            ids.add(device.id)
            for point in device.points:
                if point.sensor in sensors:
                    raise ValueError(f"device {device.id!r}: sensor {point.sensor!r} is already read from device {sensors[point.sensor]!r}")
                sensors[point.sensor] = device.id
        return self


def _device_name(raw: Any, index: object) -> str:
    try:
        name = raw["devices"][index]["id"]
    except (KeyError, IndexError, TypeError):
        return f"devices[{index}]"
    return f"device {str(name)[:64]!r}"


def _where(raw: Any, loc: tuple[int | str, ...]) -> str:
    """`device 'plc': points[2].address` from pydantic's location."""
    parts = list(loc)
    head = ""
    if len(parts) >= 2 and parts[0] == "devices" and isinstance(parts[1], int):
        head = _device_name(raw, parts[1])
        parts = parts[2:]
        if parts and parts[0] in ("modbus_tcp", "modbus_rtu", "opcua"):  # the union's tag
            parts = parts[1:]
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return ": ".join(p for p in (head, text) if p) or "(top level)"


def parse_device_file(raw: Any, plant: PlantConfig | None, name: str = "device file") -> DeviceFile:
    """Validate a parsed device file (and, given its plant, against it)."""
    if not isinstance(raw, dict):
        raise DeviceFileError(f"{name}: expected a mapping with plant and devices, got {type(raw).__name__}")
    try:
        spec = DeviceFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc, message = tuple(first["loc"]), str(first["msg"]).removeprefix("Value error, ")
        if first["type"] in ("union_tag_invalid", "union_tag_not_found"):  # the protocol picks the device's kind
            loc = (*loc, "protocol")
            message = f"must be modbus_tcp, modbus_rtu or opcua, not {str(first.get('input', {}).get('protocol') if isinstance(first.get('input'), dict) else None)[:40]!r}"
        raise DeviceFileError(f"{name}: {_where(raw, loc)}: {message}"[:500]) from None
    if plant is not None:
        _check_against_plant(spec, plant, name)
    return spec


def _check_against_plant(spec: DeviceFile, plant: PlantConfig, name: str) -> None:
    if spec.plant != plant.id:
        raise DeviceFileError(f"{name}: plant: {spec.plant!r} is not the plant of the plant file ({plant.id!r})")
    for device in spec.devices:
        if plant.devices and device.id not in plant.devices:
            raise DeviceFileError(
                f"{name}: device {device.id!r}: id: not a device of plant {plant.id} ({', '.join(plant.devices)})"
            )
        for i, sensor in enumerate([p.sensor for p in device.points]):
            if plant.sensor(sensor) is None:
                raise DeviceFileError(f"{name}: device {device.id!r}: points[{i}].sensor: {sensor!r} is not a sensor of plant {plant.id}")


def load_device_file(path: Path, plant: PlantConfig | None) -> DeviceFile:
    """Read and validate the device file at `path`."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DeviceFileError(f"{path}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    except RecursionError:
        raise DeviceFileError(f"{path}: nested too deeply") from None
    return parse_device_file(raw, plant, str(path))
