"""bench/plants_capacity.py helpers: the N-plant catalogue loads, and the raw MQTT packets are well formed."""

from __future__ import annotations

import json
import random
from pathlib import Path

from alerts.rules import load_rules
from bench.plants_capacity import (
    _remaining_length,
    connect_packet,
    payload,
    plant_ids,
    plant_streams,
    publish_packet,
    write_catalogue,
)
from wastewatch.plant import load_catalog


def test_catalogue_of_n_kotim_copies_loads_with_one_rule_file_per_plant(tmp_path: Path) -> None:
    plants_dir, rules_dir = write_catalogue(tmp_path, 12)
    catalog = load_catalog(plants_dir)
    assert catalog.ids == plant_ids(12) == [f"kotim{i:02d}" for i in range(1, 13)]
    assert all(len(p.sensors) == 20 for p in catalog)
    assert sorted(load_rules(f).plant for f in rules_dir.glob("*.yaml")) == catalog.ids


def test_plant_ids_widen_past_99() -> None:
    assert plant_ids(100)[0] == "kotim001" and plant_ids(100)[-1] == "kotim100"


def test_kotim_streams_make_about_one_message_per_second(tmp_path: Path) -> None:
    plant = next(iter(load_catalog(write_catalogue(tmp_path, 1)[0])))
    assert abs(sum(1 / period for _, _, period, _ in plant_streams([plant])) - 1.0) < 0.01


def test_payloads_are_inside_the_plausible_ranges(tmp_path: Path) -> None:
    plant = next(iter(load_catalog(write_catalogue(tmp_path, 1)[0])))
    rng = random.Random(1)
    for spec in plant.sensors:
        for k in range(200):
            body = json.loads(payload(spec.id, plant, 1_700_000_000_000 + k, rng, k))
            assert spec.min <= body["value"] <= spec.max
    batch = json.loads(payload("batch", plant, 1_700_000_000_000, rng, 3))
    assert batch["source"] in {f.id for f in plant.facilities} and 15 <= batch["mass_kg"] <= 18


def test_mqtt_remaining_length_and_publish_packet() -> None:
    assert _remaining_length(0) == b"\x00"
    assert _remaining_length(127) == b"\x7f"
    assert _remaining_length(128) == b"\x80\x01"
    assert _remaining_length(16_383) == b"\xff\x7f"
    packet = publish_packet(b"\x00\x03a/b", 7, b"xy")
    assert packet == b"\x32\x09\x00\x03a/b\x00\x07xy"
    assert connect_packet("c").startswith(b"\x10\x0d\x00\x04MQTT\x04\x02\x00\x00\x00\x01c")
