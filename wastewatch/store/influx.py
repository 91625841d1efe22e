"""InfluxDB through its 1.x-compatible HTTP API (/ping, /write, /query): 1.x, 2.x (DBRP) and 3.x."""

from __future__ import annotations

import gzip
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from wastewatch.points import (
    AggregateFn,
    AggregateRow,
    FieldCondition,
    FieldValue,
    Point,
    SeriesColumn,
    StoreRejected,
    StoreUnavailable,
)
from wastewatch.store.influxql import group_clause, ident, literal, where_clause
from wastewatch.store.lineprotocol import encode_points

logger = logging.getLogger(__name__)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class InfluxStore:
    """A store on an InfluxDB server, spoken to only through the 1.x-compatible endpoints."""

    def __init__(
        self,
        url: str,
        database: str,
        *,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.database = database
        headers = {"Authorization": f"Token {token}"} if token else {}
        auth = httpx.BasicAuth(username, password or "") if username else None
        self._client = httpx.Client(base_url=self.url, headers=headers, auth=auth, timeout=timeout_s)

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise StoreUnavailable(f"InfluxDB at {self.url} unreachable: {exc}") from exc
        if response.status_code >= 500:
            raise StoreUnavailable(
                f"InfluxDB {path} answered {response.status_code}: {response.text[:200]}", _retry_after(response)
            )
        if response.status_code == 429:
            raise StoreUnavailable("InfluxDB is rate limiting", _retry_after(response))
        if response.status_code >= 400:
            raise StoreRejected(f"InfluxDB {path} answered {response.status_code}: {response.text[:500]}")
        return response

    def ping(self) -> bool:
        try:
            return self._client.get("/ping").status_code == 204
        except httpx.HTTPError:
            return False

    def ensure_database(self) -> None:
        # InfluxDB 2.x/3.x answer 4xx to CREATE DATABASE: there the bucket is made by setup, so it is not fatal.
        try:
            self.query(f"CREATE DATABASE {ident(self.database)}", method="POST")
        except StoreRejected as exc:
            logger.warning("could not create database=%s (fine on InfluxDB 2.x/3.x): %s", self.database, exc)

    def write(self, points: Sequence[Point]) -> None:
        if not points:
            return
        try:
            lines = encode_points(list(points))
        except ValueError as exc:  # a value line protocol cannot carry (UnicodeEncodeError included): bad data
            raise StoreRejected(f"InfluxDB at {self.url}: cannot encode: {exc}") from exc
        body = gzip.compress(lines, compresslevel=1)
        try:
            self._post_write(body)
        except StoreRejected as exc:
            # A missing database is not bad data: InfluxDB was reset or started empty. Create it and
            # write again; if it still cannot be written, report the store unavailable, never the points bad.
            if "database not found" not in str(exc):
                raise
            logger.warning("database=%s missing on the server, creating it", self.database)
            self.ensure_database()
            try:
                self._post_write(body)
            except StoreRejected as again:
                if "database not found" in str(again):
                    raise StoreUnavailable(str(again)) from again
                raise

    def _post_write(self, body: bytes) -> None:
        self._request(
            "POST",
            "/write",
            params={"db": self.database, "precision": "ms"},
            content=body,
            headers={"Content-Encoding": "gzip", "Content-Type": "text/plain; charset=utf-8"},
        )

    def query(self, influxql: str, *, method: str = "GET") -> list[dict[str, Any]]:
        """Run InfluxQL and return the series of the first statement; raises on a query error."""
        params = {"db": self.database, "q": influxql, "epoch": "ms"}
        if method == "POST":
            response = self._request("POST", "/query", data=params)
        else:
            response = self._request("GET", "/query", params=params)
        results = response.json().get("results", [])
        if results and "error" in results[0]:
            raise StoreRejected(f"InfluxQL error: {results[0]['error']} in {influxql!r}")
        return list(results[0].get("series", [])) if results else []

    def select(
        self,
        measurement: str,
        *,
        where: Mapping[str, str] | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
        limit: int | None = None,
    ) -> list[Point]:
        q = f"SELECT * FROM {ident(measurement)}{where_clause(where, start_ms, end_ms)} GROUP BY *"
        if limit is not None:
            q += f" LIMIT {int(limit)}"
        points: list[Point] = []
        for series in self.query(q):
            tags = {k: v for k, v in series.get("tags", {}).items() if v != ""}
            columns = series["columns"]
            for row in series["values"]:
                fields: dict[str, FieldValue] = {
                    c: v for c, v in zip(columns[1:], row[1:]) if v is not None and c not in tags
                }
                points.append(Point(measurement, tags, fields, int(row[0])))
        points.sort(key=lambda p: p.time_ms)
        return points[:limit] if limit is not None else points

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
        if any_of is not None and not any_of[1]:
            return []
        columns: dict[tuple[tuple[str, str], ...], SeriesColumn] = {}
        self._select_column(measurement, field_name, where, any_of, start_ms, end_ms, columns)
        return [columns[k] for k in sorted(columns)]

    def _select_column(
        self, measurement: str, field_name: str, where: Mapping[str, str] | None, any_of: tuple[str, Sequence[str]] | None,
        start_ms: int | None, end_ms: int | None, columns: dict[tuple[tuple[str, str], ...], SeriesColumn],
    ) -> None:
        """One query; a result the server cut short (its max-row-limit per series) is read again in halves."""
        clause = where_clause(where, start_ms, end_ms)
        if any_of is not None:
            tag, values = any_of
            among = " OR ".join(f"{ident(tag)} = {literal(v)}" for v in values)
            clause += f"{' AND' if clause else ' WHERE'} ({among})"
        q = f"SELECT {ident(field_name)} FROM {ident(measurement)}{clause}"
        result = self.query(q + " GROUP BY *")
        if any(series.get("partial") for series in result):
            if start_ms is None or end_ms is None or end_ms - start_ms <= 1:
                raise StoreRejected(f"InfluxDB cut short {measurement} (max-row-limit) in {q!r}")
            middle = (start_ms + end_ms) // 2
            self._select_column(measurement, field_name, where, any_of, start_ms, middle, columns)
            self._select_column(measurement, field_name, where, any_of, middle, end_ms, columns)
            return
        for series in result:
            tags = {k: v for k, v in series.get("tags", {}).items() if v != ""}
            column = columns.setdefault(tuple(sorted(tags.items())), SeriesColumn(tags, [], []))
            rows = [row for row in series["values"] if row[1] is not None]
            column.times.extend(int(row[0]) for row in rows)
            column.values.extend(row[1] for row in rows)

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
        q = (
            f"SELECT {fn}({ident(field_name)}) FROM {ident(measurement)}"
            f"{where_clause(where, start_ms, end_ms, field_where)}{group_clause(every_s, group_by, offset_s)}"
        )
        if every_s:
            q += " fill(none)"
        rows: list[AggregateRow] = []
        for series in self.query(q):
            tags = dict(series.get("tags", {}))
            for time_ms, value in series["values"]:
                rows.append(AggregateRow(int(time_ms) if every_s else None, tags, float(value)))
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
        # a selector without a time grouping gives the selected point's own time
        q = (
            f"SELECT last({ident(field_name)}) FROM {ident(measurement)}"
            f"{where_clause(where, start_ms, end_ms)}{group_clause(None, group_by)}"
        )
        points: list[Point] = []
        for series in self.query(q):
            tags = {k: v for k, v in series.get("tags", {}).items() if v != ""}
            for time_ms, value in series["values"]:
                if value is not None:
                    points.append(Point(measurement, tags, {field_name: value}, int(time_ms)))
        points.sort(key=lambda p: sorted(p.tags.items()))
        return points

    def drop_database(self) -> None:
        self.query(f"DROP DATABASE {ident(self.database)}", method="POST")

    def close(self) -> None:
        self._client.close()


__all__ = ["InfluxStore", "literal"]
