"""Grouping a device's register reads into as few Modbus requests as possible (a pure function)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# What one request may read (Modbus application protocol §6.1-6.4): 125 registers, 2000 bits.
MAX_REGISTERS = 125
MAX_BITS = 2000
BIT_KINDS = frozenset({"coil", "discrete"})


@dataclass(frozen=True, slots=True)
class Block:
    """One request: `count` registers (or bits) of `kind` from `address`."""

    kind: str
    address: int
    count: int

    @property
    def end(self) -> int:
        return self.address + self.count

    def covers(self, kind: str, address: int, count: int) -> bool:
        return kind == self.kind and self.address <= address and address + count <= self.end


def group_blocks(ranges: Iterable[tuple[str, int, int]]) -> list[Block]:
    """Contiguous or overlapping (kind, address, count) ranges merged into blocks, each within the
    request limit; a gap is never read across (unmapped registers may answer an exception code)."""
    by_kind: dict[str, list[tuple[int, int]]] = {}
    for kind, address, count in ranges:
        by_kind.setdefault(kind, []).append((address, address + count))
    blocks: list[Block] = []
    for kind in sorted(by_kind):
        limit = MAX_BITS if kind in BIT_KINDS else MAX_REGISTERS
        start, end = -1, -1
        for lo, hi in sorted(by_kind[kind]):
            if start >= 0 and lo <= end and max(end, hi) - start <= limit:
                end = max(end, hi)
                continue
            if start >= 0:
                blocks.append(Block(kind, start, end - start))
            start, end = lo, hi
        if start >= 0:
            blocks.append(Block(kind, start, end - start))
    return blocks
