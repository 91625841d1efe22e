"""The stacks mapping file: per plant stack, its SISPEK id (`id_cerobong`) and which plant sensor is
which SISPEK parameter, plus the oxygen and flow sensors. Validated at load (errors name the file and
the field) and against the plant catalogue (every sensor must exist). The bundled Kotim file is an
example: its names are unconfirmed until KLHK registers the stack."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from wastewatch.errors import ConfigError
from wastewatch.plant import PlantCatalog

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"


class SispekConfigError(ConfigError):
    """The stacks mapping file is missing or invalid, or disagrees with the plants or the server."""


class StackMapping(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    plant: str = Field(pattern=_NAME)
    id_cerobong: str = Field(pattern=_NAME)
    name: str = ""
    parameters: dict[str, str] = Field(min_length=1)  # SISPEK parameter name → plant sensor id
    oxygen: str | None = None
    flow: str | None = None

    @field_validator("parameters")
    @classmethod
    def _names(cls, value: dict[str, str]) -> dict[str, str]:
        for name, sensor in value.items():
            if not name or not name.isprintable() or len(name) > 64 or not sensor:
                raise ValueError(f"parameter {name!r}: a printable SISPEK name of at most 64 characters and a sensor id")
        return value

    @property
    def sensors(self) -> list[str]:
        """Every plant sensor the stack's records read, each once, in a stable order."""
        found = [*self.parameters.values(), *(s for s in (self.oxygen, self.flow) if s)]
        return list(dict.fromkeys(found))


class StacksFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    stacks: list[StackMapping] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> StacksFile:
        ids = [s.id_cerobong for s in self.stacks]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"id_cerobong {twice[0]!r} is mapped twice")
        return self


def bundled_stacks_path() -> Path:
    """The Kotim example shipped with the package."""
    return Path(str(resources.files("sispek") / "stacks" / "kotim.yaml"))


def load_stacks(path: Path | None, catalog: PlantCatalog | None = None) -> list[StackMapping]:
    """The stacks of `path` (the bundled example when None), checked against `catalog` when given."""
    where = path or bundled_stacks_path()
    try:
        raw = yaml.safe_load(where.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SispekConfigError(f"{where}: {exc}") from exc
    try:
        stacks = StacksFile.model_validate(raw).stacks
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise SispekConfigError(f"{where}: {field}: {first['msg']}") from exc
    if catalog is not None:
        check_sensors(stacks, catalog, where)
    return stacks


def check_sensors(stacks: list[StackMapping], catalog: PlantCatalog, where: Path | str = "stacks") -> None:
    """Every stack's plant is in the catalogue and every sensor it reads is one of that plant's."""
    for stack in stacks:
        plant = catalog.get(stack.plant)
        if plant is None:
            raise SispekConfigError(f"{where}: stack {stack.id_cerobong}: plant {stack.plant!r} is not in the plant catalogue")
        unknown = [s for s in stack.sensors if plant.sensor(s) is None]
        if unknown:
            raise SispekConfigError(f"{where}: stack {stack.id_cerobong}: plant {stack.plant} has no sensor {unknown[0]!r}")


def check_against_server(stacks: list[StackMapping], expected: dict[str, list[str]]) -> list[str]:
    """Problems between the mapping and the server's stacks list (id_cerobong → parameter names):
    a stack the server does not know, or a parameter it does not expect, is an error (raised); a
    parameter it expects that the mapping lacks is a warning (returned)."""
    warnings: list[str] = []
    for stack in stacks:
        if stack.id_cerobong not in expected:
            raise SispekConfigError(f"stack {stack.id_cerobong}: the SISPEK server lists no such id_cerobong ({sorted(expected)})")
        wanted = expected[stack.id_cerobong]
        extra = sorted(set(stack.parameters) - set(wanted))
        if extra:
            raise SispekConfigError(f"stack {stack.id_cerobong}: the SISPEK server expects no parameter {extra[0]!r} (it expects {wanted})")
        warnings += [f"stack {stack.id_cerobong}: the server expects {name!r}, which no sensor is mapped to"
                     for name in wanted if name not in stack.parameters]
    return warnings
