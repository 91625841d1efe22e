"""The ledger's hashing, pure: a record's canonical form, its leaf hash, a day's Merkle root, the chain.

Canonical form: JSON of the record's content with keys sorted at every level, no whitespace, UTF-8,
and every scalar written as a typed string so the form does not depend on how a store gives a value
back: `s:` text, `b:1`/`b:0`, `n:` numbers (an integral number below 2**53 as an integer, `n:52`
whether it came back as 52 or 52.0; any other finite number as Python's shortest round-trip
`repr`, `n:52.142857142857146`; `n:nan`, `n:inf`, `n:-inf`), JSON null for a missing value.

    leaf hash   SHA-256(0x00 || canonical form)                         (RFC 6962's domain separation)
    node        SHA-256(0x01 || left || right)
    root        RFC 6962's Merkle tree hash of the day's leaf hashes in (kind, key) order;
                an empty day's root is SHA-256 of nothing
    chain       chain_n = SHA-256(chain_{n-1} || root_n), chain_0 = 32 zero bytes (GENESIS)

Hashes are written as 64 lower-case hex digits.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

GENESIS = "0" * 64
"""The chain hash before a plant's first sealed day."""
EXACT_INTEGER = 2**53
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"

Content = Mapping[str, object]
"""A record's content: nested mappings of text keys, with str, int, float, bool or None values."""


def format_number(value: int | float) -> str:
    """The fixed form of a number: `52` for 52 and 52.0, `0.1` for 0.1, `nan`, `inf`, `-inf`."""
    if type(value) is int:
        return str(value)  # exact, however big
    number = float(value)
    if number.is_integer() and abs(number) < EXACT_INTEGER:
        return str(int(number))
    return repr(number)  # shortest round trip; 'nan', 'inf', '-inf' for those


def _canonical_value(value: object) -> object:
    kind = type(value)  # the common scalars first: this runs for every field of every record
    if kind is str:
        return "s:" + value  # type: ignore[operator]
    if kind is float or kind is int:
        return "n:" + format_number(value)  # type: ignore[arg-type]
    if value is None:
        return None
    if isinstance(value, bool):
        return "b:1" if value else "b:0"
    if isinstance(value, int | float):
        return "n:" + format_number(value)
    if isinstance(value, str):
        return "s:" + value
    if isinstance(value, Mapping):
        return {str(k): _canonical_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical_value(v) for v in value]
    raise TypeError(f"a ledger record holds no {type(value).__name__}: {value!r}")


def canonical(content: Content) -> bytes:
    """The record's canonical bytes: independent of key order and of int/float round trips."""
    return json.dumps(_canonical_value(content), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def leaf_hash(content: Content) -> str:
    """SHA-256(0x00 || canonical form), hex."""
    return hashlib.sha256(LEAF_PREFIX + canonical(content)).hexdigest()


def _tree(hashes: Sequence[bytes]) -> bytes:
    if len(hashes) == 1:
        return hashes[0]
    split = 1 << ((len(hashes) - 1).bit_length() - 1)  # the largest power of two below the count
    return hashlib.sha256(NODE_PREFIX + _tree(hashes[:split]) + _tree(hashes[split:])).digest()


def merkle_root(hashes: Sequence[str]) -> str:
    """RFC 6962's Merkle tree hash of the leaf hashes in the order given; SHA-256 of nothing when empty."""
    if not hashes:
        return hashlib.sha256(b"").hexdigest()
    return _tree([bytes.fromhex(h) for h in hashes]).hex()


def chain_hash(previous: str, root: str) -> str:
    """chain_n = SHA-256(chain_{n-1} || root_n) over the raw 32-byte digests, hex."""
    return hashlib.sha256(bytes.fromhex(previous) + bytes.fromhex(root)).hexdigest()
