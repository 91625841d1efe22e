"""The alert worker's inbox: everything queued handed over at once, in order; bounded, so a full
inbox holds the network thread back until the worker takes."""

from __future__ import annotations

import threading

import pytest

from alerts.inbox import Inbox


def test_take_hands_over_everything_in_order_and_waits_only_when_asked() -> None:
    inbox = Inbox(maxsize=10)
    assert inbox.take(0) == [] and inbox.empty()
    for n in range(5):
        inbox.put(n)
    assert not inbox.empty()
    assert inbox.take() == [0, 1, 2, 3, 4] and inbox.take(0) == []
    assert inbox.take(0.01) == []  # nothing came within the timeout


def test_a_waiting_taker_is_woken_by_a_put_from_another_thread() -> None:
    inbox = Inbox(maxsize=10)
    got: list[list[int]] = []
    taker = threading.Thread(target=lambda: got.append(inbox.take()))
    taker.start()
    inbox.put(7)
    taker.join(10)
    assert got == [[7]]


def test_a_full_inbox_holds_the_producer_until_the_consumer_takes() -> None:
    inbox = Inbox(maxsize=3)
    for n in range(3):
        inbox.put(n)
    done = threading.Event()

    def produce() -> None:
        inbox.put(3)
        done.set()

    producer = threading.Thread(target=produce)
    producer.start()
    assert not done.wait(0.2)  # held back while full
    assert inbox.take() == [0, 1, 2]
    producer.join(10)
    assert done.is_set() and inbox.take() == [3]


def test_an_inbox_of_no_room_is_refused() -> None:
    with pytest.raises(ValueError):
        Inbox(0)
