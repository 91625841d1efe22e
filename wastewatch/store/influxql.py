"""Build InfluxQL safely: identifiers and literals are always quoted and escaped, never pasted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from wastewatch.points import FieldCondition, FieldValue


def ident(name: str) -> str:
    """A double-quoted InfluxQL identifier."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def literal(value: str) -> str:
    """A single-quoted InfluxQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def value_literal(value: FieldValue) -> str:
    """A field value as an InfluxQL literal: a quoted string, true/false, or a number."""
    if isinstance(value, str):
        return literal(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(float(value)) if isinstance(value, float) else str(int(value))


def where_clause(
    where: Mapping[str, str] | None, start_ms: int | None, end_ms: int | None, fields: Sequence[FieldCondition] = ()
) -> str:
    """`WHERE` with tag equalities, field conditions and a [start, end) time range, or an empty string."""
    terms = [f"{ident(k)} = {literal(v)}" for k, v in sorted((where or {}).items())]
    terms += [f"{ident(c.field)} {c.op} {value_literal(c.value)}" for c in fields]
    if start_ms is not None:
        terms.append(f"time >= {int(start_ms)}ms")
    if end_ms is not None:
        terms.append(f"time < {int(end_ms)}ms")
    return (" WHERE " + " AND ".join(terms)) if terms else ""


def group_clause(every_s: int | None, group_by: Sequence[str], offset_s: int = 0) -> str:
    offset = f", {int(offset_s) % int(every_s)}s" if every_s and offset_s % every_s else ""
    keys = [f"time({int(every_s)}s{offset})"] if every_s else []
    keys += [ident(tag) for tag in group_by]
    return (" GROUP BY " + ", ".join(keys)) if keys else ""
