"""The ledger's pure core: canonical form, leaf hashes, Merkle root, chain, sealing and verifying
hand-made records (no store)."""

from __future__ import annotations

import hashlib
import random
from dataclasses import replace
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wastewatch.compliance.amendments import Amendment
from wastewatch.compliance.quality import QualityCode
from wastewatch.compliance.results import AverageRecord
from wastewatch.ledger.check import SealedDay, check_chain, expected_hashes, seal, verify
from wastewatch.ledger.hashing import GENESIS, canonical, chain_hash, format_number, leaf_hash, merkle_root
from wastewatch.ledger.leaves import API_AUDIT, Record, amendment_record, result_record, row_record

ZONE = ZoneInfo("Asia/Jakarta")
DAY = date(2026, 11, 28)
DAY_MS = 1_795_798_800_000  # 2026-11-28 00:00 +07:00


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def h(n: int) -> str:
    return sha(f"leaf {n}".encode()).hex()


def test_the_merkle_root_of_hand_made_leaves_follows_rfc_6962() -> None:
    a, b, c = (bytes.fromhex(h(i)) for i in range(3))
    assert merkle_root([]) == hashlib.sha256(b"").hexdigest()
    assert merkle_root([h(0)]) == h(0)
    ab = sha(b"\x01" + a + b)
    assert merkle_root([h(0), h(1)]) == ab.hex()
    # three leaves: the left subtree takes the largest power of two below three
    assert merkle_root([h(0), h(1), h(2)]) == sha(b"\x01" + ab + c).hex()
    assert merkle_root([h(1), h(0)]) != merkle_root([h(0), h(1)])


def test_the_chain_links_each_root_to_the_hash_before() -> None:
    r1, r2 = h(1), h(2)
    c1 = chain_hash(GENESIS, r1)
    assert c1 == sha(bytes(32) + bytes.fromhex(r1)).hex()
    assert chain_hash(c1, r2) == sha(bytes.fromhex(c1) + bytes.fromhex(r2)).hex()


def test_a_leaf_hash_is_sha256_of_0x00_and_the_canonical_form() -> None:
    content = {"b": 1, "a": "x"}
    assert canonical(content) == b'{"a":"s:x","b":"n:1"}'
    assert leaf_hash(content) == hashlib.sha256(b"\x00" + canonical(content)).hexdigest()


@pytest.mark.parametrize(("value", "text"), [
    (52, "52"), (52.0, "52"), (-0.0, "0"), (0.1, "0.1"), (400 / 7, "57.142857142857146"), (1e300, "1e+300"),
    (2**60, str(2**60)), (float("nan"), "nan"), (float("inf"), "inf"), (float("-inf"), "-inf"), (1_795_798_800_000, "1795798800000"),
])
def test_numbers_have_one_fixed_form(value: float, text: str) -> None:
    assert format_number(value) == text


def test_types_stay_apart_in_the_canonical_form() -> None:
    forms = {canonical({"v": v}) for v in (1, "1", True, None, "n:1")}
    assert len(forms) == 5
    assert canonical({"v": 1}) == canonical({"v": 1.0})  # a store gives 1.0 back as 1: the same record


scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**62), 2**62), st.floats(allow_nan=False), st.text(max_size=20))
contents = st.dictionaries(st.text(max_size=8), scalars, max_size=8)


@given(contents, st.randoms())
def test_the_canonical_form_does_not_depend_on_key_order(content: dict[str, object], rnd: random.Random) -> None:
    items = list(content.items())
    rnd.shuffle(items)
    assert canonical(dict(items)) == canonical(content)
    assert canonical({"outer": dict(items), "z": 1}) == canonical({"z": 1, "outer": content})


@settings(max_examples=200)
@given(st.lists(st.binary(min_size=1, max_size=16), min_size=1, max_size=40, unique=True), st.data())
def test_any_change_of_one_leaf_changes_the_root(leaves: list[bytes], data: st.DataObject) -> None:
    hashes = [hashlib.sha256(b"\x00" + leaf).hexdigest() for leaf in leaves]
    i = data.draw(st.integers(0, len(hashes) - 1))
    other = data.draw(st.binary(min_size=1, max_size=16).filter(lambda b: b not in leaves))
    changed = hashes[:i] + [hashlib.sha256(b"\x00" + other).hexdigest()] + hashes[i + 1:]
    assert merkle_root(changed) != merkle_root(hashes)
    assert merkle_root(hashes[:i] + hashes[i + 1:]) != merkle_root(hashes)  # a leaf dropped
    assert merkle_root(hashes + [hashes[i]]) != merkle_root(hashes)  # a leaf repeated


# -- sealing and verifying hand-made records ---------------------------------------------------------


def avg(start_ms: int, value: float, quality: QualityCode = QualityCode.VALID, n_valid: int = 30) -> Record:
    record = AverageRecord("kotim", "eu", "co", "30min", start_ms, quality, value, value + 5, 5.0, n_valid, 0, 30, "v1")
    return result_record(record.to_point(), ZONE)


def amendment(start_ms: int, at_ms: int, old: float, new: float | None, new_quality: QualityCode = QualityCode.VALID) -> Record:
    a = Amendment("kotim", "eu", "co", "30min", start_ms, QualityCode.VALID, new_quality, old, new, "v1", "v1", "late data", at_ms)
    return amendment_record(a.to_point(), ZONE)


def audit(row_id: int, at_ms: int, action: str = "login", actor: str = "ana") -> Record:
    row = {"id": row_id, "at_ms": at_ms, "actor": actor, "action": action, "target": "ana", "detail": ""}
    return row_record(API_AUDIT, "api_audit", row, ZONE)


def seal_all(per_day: dict[date, list[Record]]) -> list[SealedDay]:
    days: list[SealedDay] = []
    stored = {r.key: r.hash for records in per_day.values() for r in records if r.state is not None}
    for day in sorted(per_day):
        sealed = seal("kotim", day, per_day[day], days[-1].chain if days else GENESIS, expected_hashes(days), stored, 0)
        days.append(sealed)
    return days


def two_days() -> dict[date, list[Record]]:
    return {
        DAY: [avg(DAY_MS + 36_000_000, 52.1), avg(DAY_MS + 37_800_000, 48.0), audit(1, DAY_MS + 3_600_000)],
        DAY + timedelta(days=1): [audit(2, DAY_MS + 90_000_000, "key_issued")],
    }


def test_sealed_days_verify_and_each_kind_of_tampering_is_named() -> None:
    per_day = two_days()
    days = seal_all(per_day)
    assert [d.previous for d in days] == [GENESIS, days[0].chain]
    ok = verify(days, per_day, per_day, [])
    assert (ok.ok, ok.days, ok.last_chain) == (True, 2, days[1].chain)

    changed = {**per_day, DAY: [avg(DAY_MS + 36_000_000, 52.2)] + per_day[DAY][1:]}
    found = verify(days, per_day, changed, []).mismatch
    assert found is not None and (found.problem, found.kind, found.day) == ("changed", "emission_avg", DAY)
    assert found.key == f"emission_avg,period=30min,plant=kotim,pollutant=co,profile=eu@{DAY_MS + 36_000_000}"

    missing = {**per_day, DAY: per_day[DAY][:2]}
    found = verify(days, per_day, missing, []).mismatch
    assert found is not None and (found.problem, found.key) == ("missing", "api_audit id=1")

    added = {**per_day, DAY + timedelta(days=1): per_day[DAY + timedelta(days=1)] + [audit(3, DAY_MS + 91_000_000)]}
    found = verify(days, per_day, added, []).mismatch
    assert found is not None and (found.problem, found.key, found.day) == ("added", "api_audit id=3", DAY + timedelta(days=1))

    # the first record in day and leaf order is the one named
    both = {DAY: [avg(DAY_MS + 36_000_000, 1.0), avg(DAY_MS + 37_800_000, 2.0), audit(1, DAY_MS + 3_600_000, "logout")],
            DAY + timedelta(days=1): []}
    found = verify(days, per_day, both, []).mismatch
    assert found is not None and (found.kind, found.key) == ("api_audit", "api_audit id=1")


def test_a_broken_chain_is_named_before_any_record() -> None:
    per_day = two_days()
    days = seal_all(per_day)
    assert check_chain(days) is None
    for broken in (
        [days[0], replace(days[1], previous=GENESIS)],
        [replace(days[0], root=h(9)), days[1]],
        [days[0], replace(days[1], leaves=days[1].leaves[:0])],
        [days[0], replace(days[1], day=DAY + timedelta(days=2))],
        [replace(days[0], chain=h(9)), days[1]],
    ):
        found = verify(broken, per_day, per_day, []).mismatch
        assert found is not None and found.problem == "chain"


def test_an_amendment_explains_the_change_it_made_and_nothing_else() -> None:
    per_day = two_days()
    days = seal_all({DAY: per_day[DAY]})
    start = DAY_MS + 36_000_000
    amended = avg(start, 50.0, n_valid=31)  # a recompute: a new value and a new count
    later = DAY + timedelta(days=1)
    note = amendment(start, DAY_MS + 90_000_000, 52.1, 50.0)
    now = {DAY: [amended] + per_day[DAY][1:], later: [note]}
    # not yet sealed: the amendment's new quality, value and version are the stored result's
    pending = verify(days, [DAY], now, [note])
    assert (pending.ok, pending.pending) == (True, 1)
    # without the amendment, or with one saying another value, it is tampering
    assert verify(days, [DAY], now, []).mismatch is not None
    assert verify(days, [DAY], now, [amendment(start, DAY_MS + 90_000_000, 52.1, 49.0)]).mismatch is not None

    # sealed: the amendment's leaf carries the hash it replaced and the one that replaced it
    day2 = seal("kotim", later, [note], days[0].chain, expected_hashes(days), {amended.key: amended.hash}, 0)
    (leaf,) = day2.leaves
    assert (leaf.target, leaf.replaced, leaf.replacement) == (amended.key, per_day[DAY][0].hash, amended.hash)
    sealed = verify([*days, day2], [DAY, later], now, [])
    assert (sealed.ok, sealed.amended, sealed.days) == (True, 1, 2)
    # the amended result changed again, with no amendment: named
    again = {**now, DAY: [avg(start, 51.0, n_valid=31)] + per_day[DAY][1:]}
    found = verify([*days, day2], [DAY, later], again, []).mismatch
    assert found is not None and (found.problem, found.key) == ("changed", amended.key)
    # the old value put back is a change too: the ledger's newest statement is the amendment's
    found = verify([*days, day2], [DAY, later], {**now, DAY: per_day[DAY]}, []).mismatch
    assert found is not None and found.problem == "changed"
    # the amendment record itself edited
    forged = amendment(start, DAY_MS + 90_000_000, 52.1, 49.0)
    found = verify([*days, day2], [DAY, later], {**now, later: [forged]}, []).mismatch
    assert found is not None and (found.problem, found.kind, found.day) == ("changed", "emission_amendment", later)


@settings(max_examples=150)
@given(st.lists(st.lists(st.text(max_size=12), max_size=6), min_size=1, max_size=5), st.data())
def test_the_one_record_changed_removed_or_added_is_the_one_named(actors: list[list[str]], data: st.DataObject) -> None:
    ids = iter(range(1, 1_000))
    per_day = {
        DAY + timedelta(days=d): [audit(next(ids), DAY_MS + d * 86_400_000 + i * 60_000, actor=a) for i, a in enumerate(names)]
        for d, names in enumerate(actors)
    }
    days = seal_all(per_day)
    assert verify(days, per_day, per_day, []).ok
    day = data.draw(st.sampled_from(sorted(per_day)))
    records = per_day[day]
    how = data.draw(st.sampled_from(["changed", "missing", "added"] if records else ["added"]))
    if how == "added":
        extra = audit(5_000, DAY_MS + (day - DAY).days * 86_400_000 + 3_600_000)
        now, key = [*records, extra], extra.key
    else:
        i = data.draw(st.integers(0, len(records) - 1))
        key = records[i].key
        if how == "missing":
            now = records[:i] + records[i + 1:]
        else:
            other = data.draw(st.text(max_size=12).filter(lambda t, i=i: t != actors[(day - DAY).days][i]))
            now = [*records[:i], audit(records[i].row_id, records[i].time_ms, actor=other), *records[i + 1:]]
    found = verify(days, per_day, {**per_day, day: now}, []).mismatch
    assert found is not None and (found.problem, found.key, found.day) == (how, key, day)
