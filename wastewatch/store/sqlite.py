"""The embedded store: SQLite, for a machine with no InfluxDB. Same interface, same semantics."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from wastewatch.points import (
    AggregateFn,
    AggregateRow,
    FieldCondition,
    FieldValue,
    Point,
    SeriesColumn,
    StoreRejected,
    StoreUnavailable,
    check_point,
)
from wastewatch.sqlite import open_sqlite

_SCHEMA = """
CREATE TABLE IF NOT EXISTS points (
    measurement TEXT NOT NULL,
    series TEXT NOT NULL,
    time_ms INTEGER NOT NULL,
    tags TEXT NOT NULL,
    fields TEXT NOT NULL,
    PRIMARY KEY (measurement, series, time_ms)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS points_by_time ON points (measurement, time_ms);
"""
_FIELD_OPS = frozenset({"=", "!=", ">", ">=", "<", "<="})
_SQL_FN = {"mean": "avg", "sum": "sum", "count": "count", "min": "min", "max": "max"}


def _path(key: str) -> str:
    return '$."' + key.replace('"', "") + '"'


def _series_key(tags: Mapping[str, str]) -> str:
    return ",".join(f"{k}={tags[k]}" for k in sorted(tags) if tags[k])


def _field_value(value: object, kind: object) -> FieldValue:
    if kind in ("true", "false"):
        return kind == "true"
    return value  # type: ignore[return-value]  # json_extract gives int, float or str for the other types


class SqliteStore:
    """Points in one SQLite table keyed by (measurement, tag set, time): a rewrite merges fields."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = open_sqlite(path)
        self._db.executescript(_SCHEMA)

    def ping(self) -> bool:
        return True

    def ensure_database(self) -> None:
        return None

    def write(self, points: Sequence[Point]) -> None:
        rows = []
        for p in points:
            try:
                check_point(p)  # store only what InfluxDB would store, and what can be read back
            except ValueError as exc:
                raise StoreRejected(f"SQLite store {self.path}: {exc}") from exc
            tags = {k: v for k, v in p.tags.items() if v}
            rows.append((p.measurement, _series_key(tags), p.time_ms, json.dumps(tags), json.dumps(dict(p.fields))))
        try:
            with self._lock:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    self._db.executemany(
                        "INSERT INTO points VALUES (?, ?, ?, ?, ?) "
                        "ON CONFLICT DO UPDATE SET fields = json_patch(fields, excluded.fields)",
                        rows,
                    )
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(f"SQLite store {self.path}: {exc}") from exc
        except (sqlite3.DatabaseError, ValueError) as exc:
            raise StoreRejected(f"SQLite store {self.path}: {exc}") from exc

    @staticmethod
    def _filter(
        measurement: str, where: Mapping[str, str] | None, start_ms: int | None, end_ms: int | None
    ) -> tuple[str, list[object]]:
        sql = " WHERE measurement = ?"
        args: list[object] = [measurement]
        for key, value in sorted((where or {}).items()):
            sql += " AND json_extract(tags, ?) = ?"
            args += [_path(key), value]
        if start_ms is not None:
            sql += " AND time_ms >= ?"
            args.append(int(start_ms))
        if end_ms is not None:
            sql += " AND time_ms < ?"
            args.append(int(end_ms))
        return sql, args

    def _fetch(self, sql: str, args: Sequence[object]) -> list[tuple[object, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def select(
        self,
        measurement: str,
        *,
        where: Mapping[str, str] | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
        limit: int | None = None,
    ) -> list[Point]:
        flt, args = self._filter(measurement, where, start_ms, end_ms)
        sql = f"SELECT tags, fields, time_ms FROM points{flt} ORDER BY time_ms, series"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        return [
            Point(measurement, json.loads(str(t)), json.loads(str(f)), int(str(ts))) for t, f, ts in self._fetch(sql, args)
        ]

    def select_column(
        self,
        measurement: str,
        field_name: str,
        *,
        where: Mapping[str, str] | None = None,
        any_of: tuple[str, Sequence[str]] | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> list[SeriesColumn]:
        flt, args = self._filter(measurement, where, start_ms, end_ms)
        if any_of is not None:
            tag, values = any_of
            if not values:
                return []
            flt += f" AND json_extract(tags, ?) IN ({', '.join('?' for _ in values)})"
            args += [_path(tag), *values]
        # the field's JSON type tells a boolean from the 1/0 json_extract gives for it
        sql = (
            f"SELECT series, tags, time_ms, json_extract(fields, ?), json_type(fields, ?) FROM points{flt} "
            "AND json_type(fields, ?) IS NOT NULL ORDER BY series, time_ms"
        )
        path = _path(field_name)
        columns: list[SeriesColumn] = []
        series_key: object = None
        for key, tags, time_ms, value, kind in self._fetch(sql, [path, path, *args, path]):
            if key != series_key:
                series_key = key
                columns.append(SeriesColumn(json.loads(str(tags)), [], []))
            columns[-1].times.append(int(str(time_ms)))
            columns[-1].values.append(_field_value(value, kind))
        return sorted(columns, key=lambda c: sorted(c.tags.items()))

    def aggregate(
        self,
        measurement: str,
        field_name: str,
        fn: AggregateFn,
        *,
        where: Mapping[str, str] | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
        every_s: int | None = None,
        group_by: Sequence[str] = (),
        offset_s: int = 0,
        field_where: Sequence[FieldCondition] = (),
    ) -> list[AggregateRow]:
        flt, args = self._filter(measurement, where, start_ms, end_ms)
        for cond in field_where:
            if cond.op not in _FIELD_OPS:
                raise StoreRejected(f"unknown field condition {cond.op!r}")
            flt += f" AND json_extract(fields, ?) {cond.op} ?"
            args += [_path(cond.field), cond.value]
        if fn == "last":
            agg = "json_extract(fields, ?), max(time_ms)"  # SQLite takes bare columns from the max row
        elif fn in _SQL_FN:
            agg = f"{_SQL_FN[fn]}(json_extract(fields, ?))"
        else:
            raise StoreRejected(f"unknown aggregate {fn!r}")
        if every_s:
            every_ms, off_ms = int(every_s) * 1000, (int(offset_s) % int(every_s)) * 1000
            bucket = f"(time_ms - (((time_ms - {off_ms}) % {every_ms}) + {every_ms}) % {every_ms})"
        else:
            bucket = "NULL"
        tag_cols = "".join(f", json_extract(tags, ?) AS g{i}" for i in range(len(group_by)))
        group = ", ".join(["b"] + [f"g{i}" for i in range(len(group_by))])
        sql = f"SELECT {bucket} AS b{tag_cols}, {agg} FROM points{flt} GROUP BY {group} ORDER BY {group}"
        params = [_path(t) for t in group_by] + [_path(field_name)] + args
        rows = []
        for row in self._fetch(sql, params):
            tags = {t: str(v) for t, v in zip(group_by, row[1 : 1 + len(group_by)]) if v is not None}
            val = row[1 + len(group_by)]
            if val is None or (fn == "count" and val == 0):
                continue  # InfluxDB leaves out groups with no value of the field; so do we
            time_ms = int(str(row[0])) if every_s else None
            rows.append(AggregateRow(time_ms, tags, float(val)))  # type: ignore[arg-type]
        rows.sort(key=lambda r: (sorted(r.tags.items()), r.time_ms or 0))
        return rows

    def latest(
        self,
        measurement: str,
        field_name: str,
        *,
        where: Mapping[str, str] | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
        group_by: Sequence[str] = (),
    ) -> list[Point]:
        flt, args = self._filter(measurement, where, start_ms, end_ms)
        # SQLite takes the bare columns (tags, the field) from the row of max(time_ms) in each group
        tag_cols = "".join(f"json_extract(tags, ?) AS g{i}, " for i in range(len(group_by)))
        group = f" GROUP BY {', '.join(f'g{i}' for i in range(len(group_by)))}" if group_by else ""
        sql = (
            f"SELECT {tag_cols}json_extract(fields, ?), json_type(fields, ?), max(time_ms) FROM points{flt} "
            f"AND json_type(fields, ?) IS NOT NULL{group}"
        )
        path = _path(field_name)
        points: list[Point] = []
        for row in self._fetch(sql, [*(_path(t) for t in group_by), path, path, *args, path]):
            value, kind, time_ms = row[len(group_by):]
            if time_ms is None:
                continue  # no point at all: the one row an aggregate without GROUP BY gives
            tags = {t: str(v) for t, v in zip(group_by, row[: len(group_by)]) if v is not None and v != ""}
            points.append(Point(measurement, tags, {field_name: _field_value(value, kind)}, int(str(time_ms))))
        points.sort(key=lambda p: sorted(p.tags.items()))
        return points

    def close(self) -> None:
        with self._lock:
            self._db.close()
