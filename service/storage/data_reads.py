"""The SQL of data queries: current, point-in-time, changed, deleted and historical
observations and attribute values, streamed from a server-side cursor.

Every statement reads one data set (a DSD's data) narrowed by a :class:`Scope` (series keys,
codes allowed per dimension, a range of years), in the order a query asks for. The history is
append-only: an ``observation`` row is one version, valid from its ``recorded_at`` until its
``superseded_at`` (when the next version of the key was recorded; null while current), and
``deleted`` marks a tombstone. So:

- the data as of T are the versions valid at T that are not tombstones (``observation_current``
  is the view of those valid now);
- what changed after T are the versions valid at the end that were recorded after T;
- a deletion after T is a tombstone valid at the end, recorded after T, of a key whose version
  valid at T was not a tombstone.

``attribute_value`` keeps the versions of attribute values above observation level, ``pk``
growing with ``recorded_at``; the latest at or before T is the value as of T.

Dimension codes are taken from the series key with ``split_part`` (PostgreSQL's; registered
on SQLite connections by ``service.db``). Timestamps are bound as aware UTC datetimes, as the
loader writes them.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, Final, Literal

import psycopg
from sqlalchemy import Connection, Dialect, String, TextClause, bindparam, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler

from service.db import open_stream
from service.storage.tables import as_utc

#: Per key dimension, the codes asked for (None: any code).
KeyFilter = Sequence[frozenset[str] | None]
#: One observation: series key, period, value, text value, observation attributes (JSON),
#: when this version was recorded (when asked for).
ObsRow = tuple[str, str, float | None, str | None, str | None, dt.datetime | None]
#: One observation version: an ObsRow, whether it is a tombstone, and when the next version of
#: the same observation was recorded (None: still the latest).
VersionRow = tuple[
    str, str, float | None, str | None, str | None, dt.datetime, bool, dt.datetime | None
]
#: An attribute value above observation level, by (attribute id, attach key): (value, when).
AttributeState = dict[tuple[str, str], tuple[str | None, dt.datetime]]
#: Every version of such values, oldest first: (when, value; None for a deletion).
AttributeHistory = dict[tuple[str, str], list[tuple[dt.datetime, str | None]]]

#: How many exact series keys a key filter may expand to before it is matched per dimension.
_MAX_EXACT_KEYS = 1000


@dataclass(frozen=True)
class Scope:
    """Which observations of a data set a query reads, as far as SQL can tell cheaply."""

    dataset_pk: int
    #: Key filters, OR-ed (an empty tuple: every key).
    keys: Sequence[KeyFilter] = ()
    #: Per dimension position, the codes allowed (constraints, providers), AND-ed.
    allowed: Sequence[frozenset[str] | None] = ()
    #: The first and last year whose periods may overlap the query's time window.
    years: tuple[int, int] | None = None

    @property
    def keyed(self) -> bool:
        """Whether key filters narrow it (a key of wildcards alone selects every key)."""
        return bool(self.keys) and all(any(p is not None for p in k) for k in self.keys)


@dataclass(frozen=True)
class OrderTerm:
    """One ORDER BY term: a dimension by position in the key, the period, the value or the
    whole series key."""

    kind: Literal["dimension", "time", "value", "series_key"]
    position: int = 0
    descending: bool = False


#: Series key, then period: the order of the primary key of ``observation_current``.
DEFAULT_ORDER = (OrderTerm("series_key"), OrderTerm("time"))


class ScopeSql:
    """Builds the WHERE and ORDER BY of one statement and collects its parameters."""

    def __init__(self, scope: Scope, alias: str) -> None:
        self.scope = scope
        self.alias = alias
        self.params: dict[str, Any] = {"ds": scope.dataset_pk}
        self.expanding: list[str] = []

    def bind(self, value: Any, expanding: bool = False) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        if expanding:
            self.expanding.append(name)
        return f":{name}"

    def _code(self, position: int, key: str = "s.series_key") -> str:
        return f"split_part({key}, '.', {position + 1})"

    def series(self) -> str:
        """Conditions on ``s`` (series) for the scope's keys and allowed codes."""
        where = ["s.dataset_pk = :ds"]
        if self.scope.keyed:
            where.append("(" + " OR ".join(self._key(k) for k in self.scope.keys) + ")")
        for position, codes in enumerate(self.scope.allowed):
            if codes is not None:
                where.append(f"{self._code(position)} IN {self.bind(sorted(codes), True)}")
        return " AND ".join(where)

    def _key(self, key: KeyFilter) -> str:
        parts = [p for p in key if p is not None]
        if not parts:
            return ""
        size = 1
        for part in parts:
            size *= len(part)
        if len(parts) == len(key) and size <= _MAX_EXACT_KEYS:
            keys = [".".join(codes) for codes in _product([sorted(p) for p in parts])]
            return f"s.series_key IN {self.bind(keys, True)}"
        return " AND ".join(
            f"{self._code(n)} IN {self.bind(sorted(codes), True)}"
            for n, codes in enumerate(key)
            if codes is not None
        )

    def periods(self, column: str) -> str:
        """A cheap pre-filter on the period's year (the first four characters of every SDMX
        period); a time range (``/``) may end years after its start."""
        if self.scope.years is None:
            return ""
        first, last = self.scope.years
        year = f"substr({column}, 1, 4)"
        return (
            f" AND {year} <= {self.bind(f'{last:04d}')} "
            f"AND ({year} >= {self.bind(f'{first:04d}')} OR {column} LIKE '%/%')"
        )

    def order(self, terms: Sequence[OrderTerm]) -> str:
        a = self.alias
        columns = {
            "series_key": f"{a}.series_key",
            "time": f"{a}.time_period",
            "value": f"{a}.value",
        }
        parts = []
        for term in terms:
            if term.kind == "dimension":
                column = self._code(term.position, f"{a}.series_key")
            else:
                column = columns[term.kind]
            parts.append(column + (" DESC" if term.descending else ""))
        return ", ".join(parts)

    def statement(self, sql: str) -> TextClause:
        return _statement(sql, tuple(self.expanding))


def _statement(sql: str, expanding: tuple[str, ...]) -> TextClause:
    """``sql`` whose ``expanding`` parameters take lists (typed: a statement can also be
    rendered with its values, for COPY)."""
    lists = (bindparam(n, expanding=True, type_=String()) for n in expanding)
    return text(sql).bindparams(*lists)


def _product(parts: list[list[str]]) -> Iterator[tuple[str, ...]]:
    if not parts:
        yield ()
        return
    for head in parts[0]:
        for tail in _product(parts[1:]):
            yield (head, *tail)


def _when(value: Any) -> dt.datetime:
    """A timestamp as read: SQLite returns the text it stored."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    found = as_utc(value)
    assert found is not None
    return found


#: The version ``o`` is valid at :end (an instant, or now when the condition says so).
_VALID_AT_END = "(o.superseded_at IS NULL OR o.superseded_at > :end)"
_VALID_NOW = "o.superseded_at IS NULL"
#: The key of ``o`` had a value at :after: its version then was superseded since (by ``o``
#: or a later one) and was not a tombstone.
_EXISTED = (
    "EXISTS (SELECT 1 FROM observation x WHERE x.series_pk = o.series_pk "
    "AND x.time_period = o.time_period AND x.superseded_at IS NOT NULL "
    "AND x.recorded_at <= :after AND x.superseded_at > :after AND NOT x.deleted)"
)


def stream(
    conn: Connection,
    statement: TextClause,
    params: dict[str, Any],
    yield_per: int,
    *,
    index_order: bool = False,
) -> Iterator[Any]:
    """The rows of ``statement`` from a server-side cursor, ``yield_per`` at a time.

    On PostgreSQL, the rows come as psycopg's tuples from a cursor of its own on the
    connection: SQLAlchemy's result and Row objects cost more than the rest of a full export's
    reading. ``index_order``: the order asked for is the series key's, then the period's, which
    the indexes give; scope filters on codes leave the planner guessing that a handful of
    series match, whereupon it sorts every observation before the first row (seconds, for a
    million), so it plans this statement with sorts disabled (a sort of each series' few rows
    remains) and without JIT.

    On SQLite, the options are the statement's own: ``Connection.execution_options`` would
    change the session's connection for every statement after it (DDL then fails as a cursor).
    """
    if conn.dialect.name == "postgresql":
        yield from _cursor_rows(conn, statement, params, yield_per, index_order)
        return
    streamed = statement.execution_options(stream_results=True, yield_per=yield_per)
    result = conn.execute(streamed, params)
    try:
        with open_stream(conn, result.close):
            for batch in result.partitions(yield_per):
                yield from batch
    finally:
        result.close()


_cursors = itertools.count()


@functools.lru_cache(maxsize=256)
def _compiled(sql: str, expanding: tuple[str, ...], dialect: Dialect) -> SQLCompiler:
    """A statement compiled once for each of its shapes (a tenth of a millisecond or more)."""
    compiled = _statement(sql, expanding).compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    return compiled


def _cursor_rows(
    conn: Connection,
    statement: TextClause,
    params: dict[str, Any],
    yield_per: int,
    index_order: bool,
) -> Iterator[tuple[Any, ...]]:
    """:func:`stream` on PostgreSQL: a psycopg server-side cursor in the session's transaction.
    Lists are the values of expanding parameters (:class:`ScopeSql`)."""
    expanding = tuple(sorted(name for name, value in params.items() if isinstance(value, list)))
    query = _compiled(statement.text, expanding, conn.dialect).construct_expanded_state(params)
    driver = conn.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    cursor = driver.cursor(name=f"ilms_rows_{next(_cursors)}")
    try:
        yield from _fetched(conn, cursor, query.statement, query.parameters, yield_per, index_order)
    finally:
        # closed already when the pool took the connection back (open_stream): then a late
        # close from the collector must not wait for the lock of a connection in other use
        if not cursor.closed:
            cursor.close()


def _fetched(
    conn: Connection,
    cursor: psycopg.ServerCursor[Any],
    statement: str,
    parameters: Any,
    yield_per: int,
    index_order: bool,
) -> Iterator[tuple[Any, ...]]:
    """The rows of ``cursor`` once it is declared, a fetch ahead (see :func:`_cursor_rows`)."""
    with open_stream(conn, cursor.close):
        with _sorts_off(cursor.connection) if index_order else nullcontext():
            cursor.execute(statement, parameters)  # DECLARE: planned here
        batch = cursor.fetchmany(yield_per)
        if len(batch) < yield_per:  # all of it
            yield from batch
            return
        # PostgreSQL makes the next rows while these are used (a fetch waits for it)
        with ThreadPoolExecutor(1, thread_name_prefix="ilms-rows") as ahead:
            while batch:
                following = ahead.submit(cursor.fetchmany, yield_per)
                yield from batch
                batch = following.result()


def _attributes_sql(as_of: dt.datetime | None) -> TextClause:
    """Attribute id, attach key, value and when it was recorded, of the values of the data set
    ``:ds`` as they stood at ``:asof`` (None: now)."""
    if as_of is None:
        return text(
            "SELECT attribute_id, attach_key, value, recorded_at FROM attribute_current "
            "WHERE dataset_pk = :ds"
        )
    return text(
        "SELECT a.attribute_id, a.attach_key, a.value, a.recorded_at "
        "FROM attribute_value a WHERE a.dataset_pk = :ds AND NOT a.deleted "
        "AND a.pk = (SELECT max(x.pk) FROM attribute_value x "
        "WHERE x.dataset_pk = a.dataset_pk AND x.attribute_id = a.attribute_id "
        "AND x.attach_key = a.attach_key AND x.recorded_at <= :asof)"
    )


#: Planner settings while a statement that the indexes order is planned: disabled sorts cost
#: so much that JIT would compile the plan, for a tenth of a second or more.
_BY_INDEX: Final = {"enable_sort": "off", "jit": "off"}


@contextmanager
def _sorts_off(driver: psycopg.Connection[Any]) -> Iterator[None]:
    """Statements are planned without sorts inside, then as before (in this transaction)."""
    names = list(_BY_INDEX)
    found = driver.execute(
        "SELECT "
        + ", ".join(f"current_setting('{n}'), set_config('{n}', %s, true)" for n in names),
        list(_BY_INDEX.values()),
    ).fetchone()
    try:
        yield
    finally:
        before = found[0::2] if found else ["on"] * len(names)
        driver.execute(
            "SELECT " + ", ".join(f"set_config('{n}', %s, true)" for n in names), list(before)
        )


class DataReads:
    """Read-only statements for data queries. Never commits."""

    def __init__(self, session: Session, yield_per: int = 5000) -> None:
        self.conn: Connection = session.connection()
        self.yield_per = yield_per

    def _stream(
        self, statement: TextClause, params: dict[str, Any], index_order: bool = False
    ) -> Iterator[Any]:
        return stream(self.conn, statement, params, self.yield_per, index_order=index_order)

    def most_rows(self) -> int:
        """At most how many observation versions the store holds, from the range of their
        primary key (distinct integers; two index probes): a cap above it needs no count."""
        found = self.conn.execute(text("SELECT max(pk) - min(pk) + 1 FROM observation"))
        return int(found.scalar() or 0)

    # --- observations ----------------------------------------------------------------------

    def _observations_sql(
        self,
        scope: Scope,
        as_of: dt.datetime | None,
        changed_after: dt.datetime | None,
        select: str,
    ) -> tuple[ScopeSql, str]:
        """FROM and WHERE of the observations as they stood at ``as_of`` (None: now)."""
        sql = ScopeSql(scope, "v")
        if as_of is None:
            source = (
                "SELECT s.series_key, c.time_period, c.value, c.value_text, c.attrs, "
                "c.recorded_at FROM observation_current c JOIN series s ON s.pk = c.series_pk "
                f"WHERE {sql.series()}{sql.periods('c.time_period')}"
            )
            if changed_after is not None:
                source += f" AND c.recorded_at > {sql.bind(changed_after)}"
        else:
            sql.params["end"] = as_of
            source = (
                "SELECT s.series_key, o.time_period, o.value, o.value_text, o.attrs, "
                "o.recorded_at FROM observation o JOIN series s ON s.pk = o.series_pk "
                f"WHERE {sql.series()}{sql.periods('o.time_period')} AND NOT o.deleted "
                f"AND o.recorded_at <= :end AND {_VALID_AT_END}"
            )
            if changed_after is not None:
                source += f" AND o.recorded_at > {sql.bind(changed_after)}"
        return sql, f"SELECT {select} FROM ({source}) v"

    def observations(
        self,
        scope: Scope,
        order: Sequence[OrderTerm] = DEFAULT_ORDER,
        *,
        as_of: dt.datetime | None = None,
        changed_after: dt.datetime | None = None,
        stamps: bool = False,
    ) -> Iterator[ObsRow]:
        """The observations as they stood at ``as_of`` (None: now), only those whose version
        was recorded after ``changed_after`` when given, in ``order``; with ``stamps``, when
        each version was recorded (else None)."""
        sql, query = self._observations_sql(
            scope,
            as_of,
            changed_after,
            "v.series_key, v.time_period, v.value, v.value_text, v.attrs, "
            + ("v.recorded_at" if stamps else "NULL"),
        )
        statement = sql.statement(f"{query} ORDER BY {sql.order(order)}")
        # a key filter reads a few series, which the planner guesses well
        by_index = tuple(order) == DEFAULT_ORDER and not scope.keyed
        rows = self._stream(statement, sql.params, index_order=by_index)
        if not stamps:
            yield from rows
            return
        for r in rows:
            yield r[0], r[1], r[2], r[3], r[4], _when(r[5])

    def count(
        self,
        scope: Scope,
        *,
        as_of: dt.datetime | None = None,
        changed_after: dt.datetime | None = None,
        history: bool = False,
        up_to: int,
    ) -> int:
        """How many observations (versions with ``history``) the scope holds, counting no
        further than ``up_to``."""
        if history:
            sql = ScopeSql(scope, "o")
            query = (
                "SELECT 1 FROM observation o JOIN series s ON s.pk = o.series_pk "
                f"WHERE {sql.series()}{sql.periods('o.time_period')}"
            )
            if as_of is not None:
                query += f" AND o.recorded_at <= {sql.bind(as_of)}"
            if changed_after is not None:
                query += f" AND o.recorded_at > {sql.bind(changed_after)}"
        else:
            sql, query = self._observations_sql(scope, as_of, changed_after, "1")
        limit = sql.bind(up_to)
        statement = sql.statement(f"SELECT count(*) FROM ({query} LIMIT {limit}) n")
        return int(self.conn.execute(statement, sql.params).scalar_one())

    def series_count(self, scope: Scope) -> int:
        """How many series keys of the data set the scope selects (with data or not)."""
        sql = ScopeSql(scope, "s")
        statement = sql.statement(f"SELECT count(*) FROM series s WHERE {sql.series()}")
        return int(self.conn.execute(statement, sql.params).scalar_one())

    def deletions(
        self,
        scope: Scope,
        after: dt.datetime,
        order: Sequence[OrderTerm] = DEFAULT_ORDER,
        *,
        as_of: dt.datetime | None = None,
    ) -> Iterator[tuple[str, str]]:
        """(series key, period) of the observations that existed at ``after`` and were
        deleted since (up to ``as_of``), in ``order``."""
        sql = ScopeSql(scope, "v")
        sql.params["after"] = after
        valid = _VALID_NOW
        if as_of is not None:
            sql.params["end"] = as_of
            valid = f"o.recorded_at <= :end AND {_VALID_AT_END}"
        source = (
            "SELECT s.series_key, o.time_period FROM observation o "
            "JOIN series s ON s.pk = o.series_pk "
            f"WHERE {sql.series()}{sql.periods('o.time_period')} AND o.deleted "
            f"AND o.recorded_at > :after AND {valid} AND {_EXISTED}"
        )
        keys = [t for t in order if t.kind != "value"] or DEFAULT_ORDER  # no values here
        statement = sql.statement(f"SELECT * FROM ({source}) v ORDER BY {sql.order(keys)}")
        for r in self._stream(statement, sql.params):
            yield r[0], r[1]

    def versions(
        self,
        scope: Scope,
        order: Sequence[OrderTerm] = DEFAULT_ORDER,
        *,
        after: dt.datetime | None = None,
        as_of: dt.datetime | None = None,
        valid_at: dt.datetime | None = None,
    ) -> Iterator[VersionRow]:
        """Every version recorded after ``after`` and up to ``as_of``, with when it was
        superseded (if by ``as_of``), grouped by validity:
        by recording time, tombstones after values, then by the next version's time (still
        valid last), then in ``order``.

        ``valid_at``: only the values (no tombstones) recorded before it and still valid at
        it, by the next version's time, then in ``order``."""
        sql = ScopeSql(scope, "v")
        where = f"WHERE {sql.series()}{sql.periods('o.time_period')}"
        until = "o.superseded_at"
        if as_of is not None:
            sql.params["end"] = as_of
            where += " AND o.recorded_at <= :end"
            until = "CASE WHEN o.superseded_at <= :end THEN o.superseded_at END"
        if after is not None:
            where += f" AND o.recorded_at > {sql.bind(after)}"
        by_recording = "v.recorded_at, v.deleted, "
        if valid_at is not None:
            at = sql.bind(valid_at)
            where += (
                f" AND NOT o.deleted AND o.recorded_at < {at}"
                f" AND (o.superseded_at IS NULL OR o.superseded_at > {at})"
            )
            by_recording = ""
        valid_to = "CASE WHEN v.deleted THEN NULL ELSE v.next_at END"
        statement = sql.statement(
            "SELECT v.series_key, v.time_period, v.value, v.value_text, v.attrs, "
            "v.recorded_at, v.deleted, v.next_at FROM (SELECT s.series_key, o.time_period, "
            f"o.value, o.value_text, o.attrs, o.recorded_at, o.deleted, {until} AS next_at "
            f"FROM observation o JOIN series s ON s.pk = o.series_pk {where}) v "
            f"ORDER BY {by_recording}({valid_to}) IS NULL, {valid_to}, "
            f"{sql.order(order)}"
        )
        for r in self._stream(statement, sql.params):
            yield (
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                _when(r[5]),
                bool(r[6]),
                None if r[7] is None else _when(r[7]),
            )

    # --- attribute values above observation level ------------------------------------------

    def wait_for_writers(self, dataset_pk: int) -> bool:
        """Wait until no upload to this data set is between stamping its versions and
        committing them (PostgreSQL; docs/storage.md, "When versions are stamped").

        Uploads hold the data set row ``FOR UPDATE`` from before they stamp until they
        commit; taking it ``FOR SHARE`` in a transaction of its own waits for them, then lets
        go at once, so a long harvest never holds uploads back. An upload that starts later
        stamps later than this harvest began, and the next ``updatedAfter`` sees it.
        True when it asked (PostgreSQL): what was read before may have changed since.
        """
        if self.conn.dialect.name != "postgresql":
            return False  # SQLite: readers see the last commit; writers are serialised anyway
        with self.conn.engine.begin() as own:
            own.execute(text("SELECT 1 FROM dataset WHERE pk = :ds FOR SHARE"), {"ds": dataset_pk})
        return True

    def attributes(self, dataset_pk: int, as_of: dt.datetime | None = None) -> AttributeState:
        """The attribute values as they stood at ``as_of`` (None: now), and when each was
        recorded."""
        rows = self.conn.execute(_attributes_sql(as_of), {"ds": dataset_pk, "asof": as_of})
        return {(r[0], r[1]): (r[2], _when(r[3])) for r in rows}

    def attribute_values(
        self, dataset_pk: int, as_of: dt.datetime | None = None
    ) -> dict[tuple[str, str], str | None]:
        """The attribute values as they stood at ``as_of`` (None: now), without when they were
        recorded (every data query reads them: the stamps cost more than the values)."""
        rows = self.conn.execute(_attributes_sql(as_of), {"ds": dataset_pk, "asof": as_of})
        return {(r[0], r[1]): r[2] for r in rows}

    def attribute_deletions(
        self, dataset_pk: int, after: dt.datetime, as_of: dt.datetime | None = None
    ) -> dict[tuple[str, str], str | None]:
        """The attribute values that existed at ``after`` and were deleted since (up to
        ``as_of``), with the value they had at ``after``."""
        bound = upper = ""
        if as_of is not None:
            bound, upper = " AND x.recorded_at <= :asof", " AND a.recorded_at <= :asof"
        same = (
            "FROM attribute_value x WHERE x.dataset_pk = a.dataset_pk "
            "AND x.attribute_id = a.attribute_id AND x.attach_key = a.attach_key"
        )
        rows = self.conn.execute(
            text(
                "SELECT a.attribute_id, a.attach_key, (SELECT x.value "
                f"{same} AND x.recorded_at <= :after ORDER BY x.pk DESC LIMIT 1) "
                f"FROM attribute_value a WHERE a.dataset_pk = :ds AND a.deleted "
                f"AND a.recorded_at > :after{upper} "
                f"AND a.pk = (SELECT max(x.pk) {same}{bound}) "
                f"AND NOT COALESCE((SELECT x.deleted {same} AND x.recorded_at <= :after "
                "ORDER BY x.pk DESC LIMIT 1), TRUE)"
            ),
            {"ds": dataset_pk, "after": after, "asof": as_of},
        )
        return {(r[0], r[1]): r[2] for r in rows}

    def attribute_history(
        self, dataset_pk: int, as_of: dt.datetime | None = None
    ) -> AttributeHistory:
        """Every version of every attribute value up to ``as_of``, oldest first."""
        where = " AND recorded_at <= :asof" if as_of is not None else ""
        rows = self.conn.execute(
            text(
                "SELECT attribute_id, attach_key, value, deleted, recorded_at "
                f"FROM attribute_value WHERE dataset_pk = :ds{where} ORDER BY pk"
            ),
            {"ds": dataset_pk, "asof": as_of},
        )
        found: AttributeHistory = {}
        for r in rows:
            found.setdefault((r[0], r[1]), []).append((_when(r[4]), None if r[3] else r[2]))
        return found
