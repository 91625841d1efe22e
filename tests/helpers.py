"""Test helpers: polling with a deadline instead of sleeping, and plant files copied under another id."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import yaml

from wastewatch.mqtt import publish_all as publish_all  # re-exported for the tests

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout_s: float = 10.0, interval_s: float = 0.05, what: str = "") -> T:
    """Poll `predicate` until it returns something truthy; fail the test after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what or predicate}")
        time.sleep(interval_s)



def plant_twin(plant_yaml: str, plant_id: str) -> str:
    """A plant file (YAML text) copied under another id, as the multi-plant tests and benchmarks make them:
    without its Sparkplug B nodes, since one gateway belongs to one plant (the catalogue refuses two)."""
    raw = yaml.safe_load(plant_yaml)
    raw.pop("sparkplug", None)
    return yaml.safe_dump({**raw, "id": plant_id}, sort_keys=False, allow_unicode=True)
