"""Test helpers: polling with a deadline instead of sleeping, and plant files copied under another id."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any, TypeVar

import yaml

from wastewatch.mqtt import make_client
from wastewatch.mqtt import publish_all as publish_all  # re-exported for the tests
from wastewatch.settings import parse_mqtt_url

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



def hostile_examples(ci: int) -> int:
    """How many examples a generated hostile-input test runs: `ci` in CI, and at least
    WASTEWATCH_HOSTILE_EXAMPLES in the long run (`scripts/hostile_soak.sh`, whose result the README quotes)."""
    return max(ci, int(os.environ.get("WASTEWATCH_HOSTILE_EXAMPLES", "0")))


def plant_twin(plant_yaml: str, plant_id: str) -> str:
    """A plant file (YAML text) copied under another id, as the multi-plant tests and benchmarks make them:
    without its Sparkplug B nodes, since one gateway belongs to one plant (the catalogue refuses two)."""
    raw = yaml.safe_load(plant_yaml)
    raw.pop("sparkplug", None)
    return yaml.safe_dump({**raw, "id": plant_id}, sort_keys=False, allow_unicode=True)


def clear_retained(broker_url: str, topic_filter: str = "plants/#", quiet_s: float = 0.3) -> list[str]:
    """Remove every retained message under `topic_filter` (an empty retained payload each), so a test that
    leaves presence or health retained on the session's broker (the edge's device statuses) cannot reach the
    next test's workers; the topics removed."""
    client = make_client(parse_mqtt_url(broker_url), f"clear-retained-{time.monotonic_ns()}")
    topics: list[str] = []
    last = [time.monotonic()]

    def on_message(c: Any, userdata: Any, message: Any) -> None:
        if message.retain and message.payload:
            topics.append(message.topic)
        last[0] = time.monotonic()

    client.on_message = on_message
    client.connect(*_host_port(broker_url))
    client.loop_start()
    try:
        client.subscribe(topic_filter, qos=1)
        wait_until(lambda: time.monotonic() - last[0] >= quiet_s, timeout_s=30, interval_s=0.05, what="the retained messages")
        for topic in topics:
            client.publish(topic, b"", qos=1, retain=True).wait_for_publish(10)
    finally:
        client.disconnect()
        client.loop_stop()
    return topics


def _host_port(broker_url: str) -> tuple[str, int]:
    address = parse_mqtt_url(broker_url)
    return address.host, address.port
