"""The uptime's plant-state timeline, read in fewer queries, equals the compliance reader's."""

from __future__ import annotations

import pytest

from api.summaries.uptime import states_timeline
from compliance.input_reader import read_timeline
from tests.test_summaries import ms, state_point
from wastewatch.operating_state import OperatingState as S
from wastewatch.points import Store


@pytest.mark.parametrize(
    "start, end",
    [
        (ms(2026, 11, 1), ms(2026, 12, 1)),          # a change the day before: one query
        (ms(2026, 11, 20), ms(2026, 11, 25)),        # last change 9 days before: the 31-day look-back
        (ms(2026, 11, 12, 8), ms(2026, 11, 12, 20)),  # inside a day with changes
        (ms(2025, 6, 1), ms(2025, 7, 1)),            # nothing recorded before: unknown
        (ms(2027, 6, 1), ms(2027, 7, 1)),            # the last change over 200 days before: the 366-day look-back
    ],
)
def test_states_timeline_equals_the_compliance_readers(store: Store, start: int, end: int) -> None:
    store.write([
        state_point(ms(2026, 10, 31, 19), S.COLD),
        *(state_point(ms(2026, 11, d, h), st) for d in (1, 5, 11) for h, st in ((7, S.READY), (8, S.BURNING), (18, S.SHUTDOWN))),
        state_point(ms(2026, 11, 12, 9), S.PREHEAT),
        state_point(ms(2026, 11, 12, 10), S.COLD),
    ])
    assert states_timeline(store, "kotim", start, end).changes == read_timeline(store, "kotim", start, end).changes
