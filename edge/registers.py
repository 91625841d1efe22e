"""Register decoding: Modbus words to a number, a pure function of the point's type, byte and word order.

Modbus carries 16-bit registers big-endian on the wire (pymodbus hands them over as ints). Devices
differ in how they lay a 32- or 64-bit value over several registers: `byte_order` is the order of
the two bytes inside each register (`big`: as the standard says; `little`: swapped) and
`word_order` the order of the registers (`big`: most significant register first, at the lowest
address; `little`: least significant first). The four combinations are the ABCD / BADC / CDAB /
DCBA of vendor manuals. A bit of a register (`bit`) is read from the register's value after the
byte order has been applied.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Literal

RegisterType = Literal["int16", "uint16", "int32", "uint32", "float32", "float64"]
Order = Literal["big", "little"]

FORMATS: dict[RegisterType, str] = {
    "int16": "h", "uint16": "H", "int32": "i", "uint32": "I", "float32": "f", "float64": "d",
}
WORDS: dict[RegisterType, int] = {
    "int16": 1, "uint16": 1, "int32": 2, "uint32": 2, "float32": 2, "float64": 4,
}


def register_count(kind: RegisterType) -> int:
    """How many 16-bit registers a value of this type takes."""
    return WORDS[kind]


def _swap(word: int) -> int:
    return ((word & 0xFF) << 8) | (word >> 8)


def decode_registers(words: Sequence[int], kind: RegisterType, byte_order: Order = "big", word_order: Order = "big") -> int | float:
    """The raw value held by `words` (exactly `register_count(kind)` registers, each 0..65535)."""
    if len(words) != WORDS[kind]:
        raise ValueError(f"{kind} takes {WORDS[kind]} registers, got {len(words)}")
    ordered = list(words) if word_order == "big" else list(reversed(words))
    if byte_order == "little":
        ordered = [_swap(w) for w in ordered]
    raw = b"".join(w.to_bytes(2, "big") for w in ordered)
    value: int | float = struct.unpack(">" + FORMATS[kind], raw)[0]
    return value


def register_bit(word: int, bit: int, byte_order: Order = "big") -> int:
    """Bit `bit` (0 = least significant) of one register, after its byte order."""
    value = word if byte_order == "big" else _swap(word)
    return (value >> bit) & 1


def scaled(raw: float, scale: float = 1.0, offset: float = 0.0) -> float:
    """The engineering value: raw × scale + offset."""
    return float(raw) * scale + offset
