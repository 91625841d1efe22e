"""Hostile device files: every load error is a DeviceFileError (a ConfigError) naming the device and the
field, never a traceback; the shipped example loads against the bundled Kotim plant."""

from __future__ import annotations

import copy
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.devices import DeviceFile, DeviceFileError, load_device_file, parse_device_file
from tests.helpers import hostile_examples
from wastewatch.errors import ConfigError
from wastewatch.plant import PlantConfig, load_catalog

EXAMPLE = Path(str(resources.files("edge") / "examples" / "kotim.yaml"))
PLANT: PlantConfig = load_catalog(None).get("kotim")  # type: ignore[assignment]
RAW = yaml.safe_load(EXAMPLE.read_text())

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
hostile = json_values | st.sampled_from(
    [-1, 65_536, 10**30, float("nan"), float("inf"), "", "x" * 5000, "\ud800", "\x00", [], {}, True, "bad id!", 0, 1e-300]
)


def test_the_example_loads_against_the_bundled_plant() -> None:
    spec = load_device_file(EXAMPLE, PLANT)
    assert [d.id for d in spec.devices] == ["plc", "cems"]
    assert {p.sensor for d in spec.devices for p in d.points} >= {"t_primary", "t_secondary", "t_stack", "co", "nox", "so2", "hcl", "dust", "o2", "flow"}
    assert "UNCONFIRMED" in EXAMPLE.read_text()


@given(json_values)
def test_any_document_is_a_device_file_or_a_device_file_error(raw: object) -> None:
    try:
        parse_device_file(raw, PLANT)
    except DeviceFileError as exc:
        assert isinstance(exc, ConfigError)
        assert "\n" not in str(exc) and str(exc)


FIELDS = ["id", "protocol", "host", "port", "unit_id", "period_s", "timeout_s", "retries", "points", "status"]
POINT_FIELDS = ["sensor", "kind", "address", "type", "bit", "byte_order", "word_order", "scale", "offset"]
STATUS_FIELDS = ["kind", "address", "bit", "when_set", "values", "covers"]


@st.composite
def mutated(draw: st.DrawFn) -> tuple[dict[str, object], str, str]:
    """The example with one field of one device, point or status entry replaced: (file, device, field)."""
    raw = copy.deepcopy(RAW)
    index = draw(st.integers(0, len(raw["devices"]) - 1))
    device = raw["devices"][index]
    name = device["id"]
    where = draw(st.sampled_from(["device", "point", "status"]))
    value = draw(hostile)
    if where == "device":
        field = draw(st.sampled_from(FIELDS))
        target = device
    elif where == "point":
        field = draw(st.sampled_from(POINT_FIELDS))
        target = device["points"][draw(st.integers(0, len(device["points"]) - 1))]
    else:
        field = draw(st.sampled_from(STATUS_FIELDS))
        target = device["status"][draw(st.integers(0, len(device["status"]) - 1))]
    target[field] = value
    return raw, name, field


@given(mutated())
@settings(max_examples=hostile_examples(300), suppress_health_check=[HealthCheck.too_slow])
def test_one_bad_field_is_named_with_its_device(case: tuple[dict[str, object], str, str]) -> None:
    raw, name, field = case
    try:
        spec = parse_device_file(raw, PLANT, "edge.yaml")
    except DeviceFileError as exc:
        text = str(exc)
        assert text.startswith("edge.yaml: ") and "\n" not in text
        if field != "id":  # a bad id is named by its index (devices[0]) when it is not a usable name
            assert f"device {name!r}" in text, text
        assert field in text or "points" in text or "status" in text or "protocol" in text or "sensor" in text, text
    else:
        assert isinstance(spec, DeviceFile)  # some replacements are valid (another port, a coil's default kind)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda r: r["devices"][1]["points"][2].update(address=-5), "device 'cems': points[2].address"),
        (lambda r: r["devices"][0]["points"][3].update(sensor="t_tertiary"), "device 'plc': points[3].sensor: 't_tertiary' is not a sensor of plant kotim"),
        (lambda r: r["devices"][0]["points"][7].update(type="float32"), "device 'plc': points[7]: Value error, a coil is one bit"),
        (lambda r: r["devices"][1].update(protocol="bacnet"), "device 'cems': protocol: must be modbus_tcp, modbus_rtu or opcua, not 'bacnet'"),
        (lambda r: r["devices"][1].pop("host"), "device 'cems': host"),
        (lambda r: r["devices"][1]["status"][0].update(values={1: "calibrating"}), "device 'cems': status[0].values[1]: Input should be 'maintenance' or 'malfunction'"),
        (lambda r: r["devices"][1]["status"][1].update(covers=["t_primary"]), "device 'cems': status[1].covers: 't_primary' is not a point of this device"),
        (lambda r: r["devices"][0].update(id="cems"), "device id 'cems' appears twice"),
        (lambda r: r["devices"][0].update(id="boiler"), "device 'boiler': id: not a device of plant kotim"),
        (lambda r: r.update(plant="other"), "plant: 'other' is not the plant of the plant file"),
    ],
)
def test_the_error_names_the_device_and_the_field(change, expected: str) -> None:
    raw = copy.deepcopy(RAW)
    change(raw)
    with pytest.raises(DeviceFileError) as info:
        parse_device_file(raw, PLANT, "edge.yaml")
    assert expected.replace("Value error, ", "") in str(info.value), str(info.value)


@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
@settings(max_examples=hostile_examples(100), suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_bytes_on_disk_load_or_fail_as_a_device_file_error(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("edge") / "edge.yaml"
    path.write_bytes(data)
    try:
        load_device_file(path, PLANT)
    except DeviceFileError as exc:
        assert "\n" not in str(exc)


def test_the_command_prints_one_line_and_no_traceback(tmp_path: Path) -> None:
    raw = copy.deepcopy(RAW)
    raw["devices"][1]["points"][0]["word_order"] = "middle"
    path = tmp_path / "edge.yaml"
    path.write_text(yaml.safe_dump(raw))
    for args in (["edge", "check", str(path)], ["edge", "run", str(path)]):
        result = subprocess.run([sys.executable, "-m", "launch.cli", *args], capture_output=True, text=True, timeout=60,
                                env={"PATH": "/usr/bin:/bin", "WASTEWATCH_MQTT_URL": "mqtt://127.0.0.1:1"})
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        assert "device 'cems': points[0].word_order" in result.stderr, result.stderr
