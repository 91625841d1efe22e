"""Build InfluxQL safely: identifiers and literals are always quoted and escaped, never pasted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def ident(name: str) -> str:
    """A double-quoted InfluxQL identifier."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def literal(value: str) -> str:
    """A single-quoted InfluxQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def where_clause(where: Mapping[str, str] | None, start_ms: int | None, end_ms: int | None) -> str:
    """`WHERE` with tag equalities and a [start, end) time range, or an empty string."""
    terms = [f"{ident(k)} = {literal(v)}" for k, v in sorted((where or {}).items())]
    if start_ms is not None:
        terms.append(f"time >= {int(start_ms)}ms")
    if end_ms is not None:
        terms.append(f"time < {int(end_ms)}ms")
    return (" WHERE " + " AND ".join(terms)) if terms else ""


def group_clause(every_s: int | None, group_by: Sequence[str]) -> str:
    keys = [f"time({int(every_s)}s)"] if every_s else []
    keys += [ident(tag) for tag in group_by]
    return (" GROUP BY " + ", ".join(keys)) if keys else ""
