"""The plant catalogue: each plant's identity, time zone, capacity and sensor list, from YAML."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from wastewatch.errors import ConfigError
from wastewatch.topics import ID_PATTERN

Quantity = Literal[
    "temperature", "pressure", "concentration", "oxygen", "flow", "moisture", "ph", "opacity", "state", "mass_rate"
]

DEFAULT_COMPLIANCE_PROFILES: tuple[str, ...] = (
    "eu-ied-annex-vi", "id-p56-2015", "id-kep03-1995-unconfirmed", "id-data-availability",
)


class SensorSpec(BaseModel):
    """One sensor: what it measures, in which unit, its plausible range and how often it reports."""

    id: str = Field(pattern=ID_PATTERN)
    quantity: Quantity
    unit: str
    min: float
    max: float
    period_s: float = Field(gt=0, description="expected reporting period")
    cems: bool = False
    basis: Literal["dry", "wet"] | None = Field(default=None, description="gas basis of a CEMS concentration")
    description: str = ""
    source: str = ""

    @model_validator(mode="after")
    def _range_is_ordered(self) -> SensorSpec:
        if self.min >= self.max:
            raise ValueError(f"sensor {self.id}: min {self.min} must be below max {self.max}")
        return self


class Facility(BaseModel):
    """A waste source (hospital, puskesmas, clinic) that sends batches to the plant."""

    id: str = Field(pattern=ID_PATTERN)
    name: str
    kind: str = "hospital"


# A Sparkplug group, edge node or device id: any UTF-8 text but MQTT's separator and wildcards (Sparkplug B 3.0).
SPARKPLUG_ID_PATTERN = r"^[^/+#\x00-\x1f]{1,255}$"


class SparkplugDevice(BaseModel):
    """A Sparkplug device of an edge node: its metrics' sensors and the plant device its birth and death set."""

    id: str = Field(pattern=SPARKPLUG_ID_PATTERN, description="Sparkplug device id (the topic's last level)")
    device: str | None = Field(default=None, pattern=ID_PATTERN, description="plant device whose status DBIRTH/DDEATH set")
    metrics: dict[str, str] = Field(default_factory=dict, description="Sparkplug metric name -> sensor id")


class SparkplugNode(BaseModel):
    """A Sparkplug edge node (group and edge node id) of this plant and which of its metrics is which sensor."""

    group: str = Field(pattern=SPARKPLUG_ID_PATTERN)
    edge_node: str = Field(pattern=SPARKPLUG_ID_PATTERN)
    device: str | None = Field(default=None, pattern=ID_PATTERN, description="plant device whose status NBIRTH/NDEATH set")
    metrics: dict[str, str] = Field(default_factory=dict, description="the node's own metrics (NDATA): name -> sensor id")
    devices: list[SparkplugDevice] = Field(default_factory=list)
    unmapped: Literal["reject", "ignore"] = Field(
        default="reject", description="a DATA metric with no sensor here: dead-lettered (unmapped_metric) or ignored"
    )
    quality: Literal["opc-da", "opc-ua"] = Field(
        default="opc-da",
        description="what an integer Quality property means: an OPC DA quality (192-255 good, as Ignition sends) or an "
        "OPC UA StatusCode (severity bits 00 good; uncertain and bad are malfunction)",
    )

    def sparkplug_device(self, device_id: str) -> SparkplugDevice | None:
        return next((d for d in self.devices if d.id == device_id), None)


class PlantConfig(BaseModel):
    """One plant as its YAML file describes it."""

    id: str = Field(pattern=ID_PATTERN)
    name: str
    timezone: str
    capacity_kg_h: float = Field(gt=0)
    residence_time_s: float | None = None
    location: str = ""
    devices: list[str] = Field(default_factory=list)
    facilities: list[Facility] = Field(default_factory=list)
    sensors: list[SensorSpec]
    compliance_profiles: list[str] = Field(
        default_factory=lambda: list(DEFAULT_COMPLIANCE_PROFILES),
        description="ids of the regulatory profiles the compliance engine applies (wastewatch/compliance/profiles)",
    )
    sparkplug: list[SparkplugNode] = Field(default_factory=list, description="Sparkplug B edge nodes sending this plant's data")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _unique_sensor_ids(self) -> PlantConfig:
        seen: set[str] = set()
        for sensor in self.sensors:
            if sensor.id in seen:
                raise ValueError(f"sensor id {sensor.id!r} appears twice")
            seen.add(sensor.id)
        return self

    @model_validator(mode="after")
    def _sparkplug_names_known(self) -> PlantConfig:
        nodes: set[tuple[str, str]] = set()
        for node in self.sparkplug:
            where = f"sparkplug node {node.group}/{node.edge_node}"
            if (node.group, node.edge_node) in nodes:
                raise ValueError(f"{where} appears twice")
            nodes.add((node.group, node.edge_node))
            if len({d.id for d in node.devices}) != len(node.devices):
                raise ValueError(f"{where}: a device id appears twice")
            for scope, metrics, device in [(where, node.metrics, node.device)] + [
                (f"{where} device {d.id}", d.metrics, d.device) for d in node.devices
            ]:
                unknown = sorted(sensor for sensor in metrics.values() if self.sensor(sensor) is None)
                if unknown:
                    raise ValueError(f"{scope}: metrics name sensors not in the catalogue: {', '.join(unknown)}")
                if device is not None and self.devices and device not in self.devices:
                    raise ValueError(f"{scope}: device {device!r} is not one of the plant's devices")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def sensor(self, sensor_id: str) -> SensorSpec | None:
        return self._by_id().get(sensor_id)

    def _by_id(self) -> dict[str, SensorSpec]:
        cached: dict[str, SensorSpec] | None = self.__dict__.get("_sensor_index")
        if cached is None:
            cached = {s.id: s for s in self.sensors}
            self.__dict__["_sensor_index"] = cached
        return cached


class PlantConfigError(ConfigError):
    """A plant file is missing or invalid; the message names the file and the field."""


def load_plant(path: Path) -> PlantConfig:
    """Load and validate one plant YAML file."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PlantConfigError(f"{path}: {exc}") from exc
    try:
        return PlantConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise PlantConfigError(f"{path}: {where}: {first['msg']}") from exc


def bundled_plant_path() -> Path:
    """The Kotim plant file shipped with the package."""
    return Path(str(resources.files("wastewatch") / "plants" / "kotim.yaml"))


class PlantCatalog:
    """Every plant this deployment knows, by id."""

    def __init__(self, plants: Iterable[PlantConfig]) -> None:
        self._plants: dict[str, PlantConfig] = {}
        self._sparkplug: dict[tuple[str, str], tuple[PlantConfig, SparkplugNode]] = {}
        for plant in plants:
            if plant.id in self._plants:
                raise PlantConfigError(f"plant id {plant.id!r} is defined twice")
            self._plants[plant.id] = plant
            for node in plant.sparkplug:
                key = (node.group, node.edge_node)
                if key in self._sparkplug:
                    raise PlantConfigError(f"sparkplug node {node.group}/{node.edge_node} belongs to two plants")
                self._sparkplug[key] = (plant, node)

    def get(self, plant_id: str) -> PlantConfig | None:
        return self._plants.get(plant_id)

    def sparkplug_node(self, group: str, edge_node: str) -> tuple[PlantConfig, SparkplugNode] | None:
        """The plant a Sparkplug edge node's data belongs to, and its mapping; None when no plant file names it."""
        return self._sparkplug.get((group, edge_node))

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._plants.values())

    def __len__(self) -> int:
        return len(self._plants)

    @property
    def ids(self) -> list[str]:
        return sorted(self._plants)


def load_catalog(path: Path | None) -> PlantCatalog:
    """Load one plant file, every `*.yaml` in a folder, or the bundled Kotim plant when `path` is None."""
    if path is None:
        return PlantCatalog([load_plant(bundled_plant_path())])
    if path.is_dir():
        files = sorted(path.glob("*.yaml"))
        if not files:
            raise PlantConfigError(f"{path}: no *.yaml plant files in this folder")
        return PlantCatalog(load_plant(f) for f in files)
    return PlantCatalog([load_plant(path)])
