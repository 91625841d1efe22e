"""Leases on both alert-database backends: one owner at a time, taken over only after expiry,
extended by their owner, released on a clean stop, and fencing a commit of a worker that lost one."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from alerts.leases import Leases
from alerts.schema import create_schema
from tests.test_alert_lifecycle import alert_db_url
from wastewatch.relational import Database, connect_url

T0 = 1_795_000_000.0


class Wall:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def dbs(alert_db_url: str) -> Iterator[tuple[Database, Database]]:
    """Two connections to one database, as two workers have."""
    first, second = connect_url(alert_db_url), connect_url(alert_db_url)
    create_schema(first)
    yield first, second
    first.close()
    second.close()


def test_a_lease_has_one_owner_until_it_expires_then_a_standby_takes_it(dbs: tuple[Database, Database]) -> None:
    wall = Wall()
    owner, standby = Leases(dbs[0], "owner", 10, wall=wall), Leases(dbs[1], "standby", 10, wall=wall)
    assert owner.claim("alerts:kotim")
    assert not standby.claim("alerts:kotim")
    wall.now += 5
    assert owner.renew("alerts:kotim")  # extended to T0 + 15 s
    wall.now += 9
    assert not standby.claim("alerts:kotim") and owner.holds("alerts:kotim")
    wall.now += 1  # the owner stopped renewing: expired
    assert not owner.holds("alerts:kotim")
    assert standby.claim("alerts:kotim")
    assert not owner.renew("alerts:kotim")  # too late: the standby has it
    (lease,) = standby.all()
    assert (lease.owner, lease.acquired_at_ms, lease.expires_at_ms) == ("standby", (T0 + 15) * 1000, (T0 + 25) * 1000)


def test_a_released_lease_is_free_at_once(dbs: tuple[Database, Database]) -> None:
    owner, standby = Leases(dbs[0], "owner", 60), Leases(dbs[1], "standby", 60)
    assert owner.claim("alerts:kotim")
    standby.release("alerts:kotim")  # not its lease: nothing happens
    assert not standby.claim("alerts:kotim")
    owner.release("alerts:kotim")
    assert standby.claim("alerts:kotim")


def test_workers_racing_for_an_expired_lease_get_exactly_one_winner(alert_db_url: str) -> None:
    setup = connect_url(alert_db_url)
    create_schema(setup)
    wall = Wall()
    Leases(setup, "dead", 1, wall=wall).claim("alerts:kotim")
    wall.now += 2
    connections = [connect_url(alert_db_url) for _ in range(6)]
    won: list[str] = []
    barrier = threading.Barrier(len(connections))

    def race(i: int) -> None:
        leases = Leases(connections[i], f"w{i}", 30, wall=wall)
        barrier.wait()
        if leases.claim("alerts:kotim"):
            won.append(leases.owner)

    threads = [threading.Thread(target=race, args=(i,)) for i in range(len(connections))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for db in [setup, *connections]:
        db.close()
    assert len(won) == 1


def test_holding_a_lease_fences_the_commit_of_a_worker_that_lost_it(dbs: tuple[Database, Database]) -> None:
    wall = Wall()
    owner, standby = Leases(dbs[0], "owner", 10, wall=wall), Leases(dbs[1], "standby", 10, wall=wall)
    owner.claim("alerts:kotim")
    with dbs[0].transaction():
        assert owner.holds("alerts:kotim")
    wall.now += 11
    assert standby.claim("alerts:kotim")
    with dbs[0].transaction():
        assert not owner.holds("alerts:kotim")  # the worker must drop the plant's work, not commit it
