"""Plain SDMX-CSV 2.0 exports written by PostgreSQL itself.

The most common harvest is a dataflow's current data, or a key's, in SDMX-CSV 2.0 with every
column. For it, PostgreSQL builds each CSV line (``COPY (SELECT …) TO STDOUT``) and the service
streams the bytes after the header line: the per-series part of a line (its codes and the
attribute values that depend on the series alone) is built once per series, each observation
adds its period, value and the values that depend on it. Every other query, and SQLite, takes
the general path (``usecases.data``), which this one matches cell for cell except for one
spelling: a whole number of 16 digits (1e15 up to 1e16) is written ``1e+15`` here.

Rows come in the order PostgreSQL reads them: nothing is sorted, so the first bytes leave at
once (SDMX-CSV rows stand alone and need no order; the general path orders them by series key,
and queries with ``offset``, ``limit`` or ``sort`` take it, so paging is in key order).
"""

from __future__ import annotations

import queue
import re
import threading
from collections.abc import Callable, Generator, Iterator
from contextlib import closing
from dataclasses import dataclass, replace
from typing import Any, Final, Literal

from sqlalchemy import Connection, Dialect, Engine, text
from sqlalchemy.orm import Session

from service.formats.writers import sdmx_csv_data
from service.formats.writers.data_common import DataFormat, DataMessage
from service.model import DataStructure
from service.storage.data_reads import DataReads, Scope, ScopeSql
from service.usecases.attachment import dimensions_of
from service.usecases.data import DataPlan, scope_of, too_large

#: The format this path writes.
MEDIA_TYPE: Final = "application/vnd.sdmx.data+csv;version=2.0.0"
#: A stored number as SDMX writes it (xs:double): PostgreSQL spells infinity "Infinity".
_XS_DOUBLE = (
    "CASE WHEN c.value = 'Infinity' THEN 'INF' WHEN c.value = '-Infinity' THEN '-INF' "
    "ELSE c.value::text END"
)
#: COPY's text format escapes these in a value (our lines hold no tab: CSV cells quote the rest).
_ESCAPES: Final = re.compile(rb"\\(.)")
_UNESCAPED: Final = {
    b"n": b"\n",
    b"r": b"\r",
    b"t": b"\t",
    b"b": b"\b",
    b"f": b"\f",
    b"v": b"\v",
    b"\\": b"\\",
}
_CHUNK: Final = 1 << 18
#: How many chunks the COPY's thread may have ready.
_AHEAD: Final = 4
#: How many series' lines are read series by series before the rest are read in one pass.
_FIRST_SERIES: Final = 1000


def applies(plan: DataPlan, fmt: DataFormat, message: DataMessage, session: Session) -> bool:
    """Whether the query is a plain SDMX-CSV 2.0 export of current data on PostgreSQL."""
    p = plan.params
    every = {a.id for a in plan.dsd.attributes}
    return (
        session.connection().dialect.name == "postgresql"
        and fmt.media_type == MEDIA_TYPE
        and message.labels == "id"
        and message.time_format == "original"
        and message.keys == "none"
        and p.detail == "full"
        and p.updated_after is None
        and p.as_of is None
        and not p.include_history
        and p.first_n is None
        and p.last_n is None
        and not p.components
        and p.offset == 0
        and p.limit is None
        and not p.sort
        and plan.window is None
        and plan.values
        and plan.attributes == every
        and plan.time is not None
        and plan.dimension_at_observation == plan.time
        and len(plan.dsd.measures) <= 1
    )


def export(
    session: Session, plan: DataPlan, dataset_pk: int, message: DataMessage, *, cap: int
) -> Iterator[bytes] | None:
    """The answer (None when nothing matches; ResultTooLarge past ``cap``), counted first as
    the general path counts it.

    The request's session then lets go of its connection: the COPY runs on a connection of its
    own (see :func:`chunks`), and requests that each held one while waiting for a second
    would, as many as the pool holds, wait for each other until the pool's timeout.
    """
    scope = scope_of(plan, dataset_pk)
    reads = DataReads(session)
    if reads.most_rows() > cap and reads.count(scope, up_to=cap + 1) > cap:
        raise too_large(cap)
    if not reads.count(scope, up_to=1):
        return None
    engine = reads.conn.engine
    session.close()
    return chunks(engine, scope, message)


def chunks(engine: Engine, scope: Scope, message: DataMessage) -> Iterator[bytes]:
    """The message: the header line, then PostgreSQL's lines, in chunks of about 256 kB.

    A thread of its own runs the COPY, on a connection of its own, a few chunks ahead. A client
    that goes away leaves this generator suspended until it is collected, maybe in a reference
    cycle, whose weak references the collector clears first: had it held the COPY, the pool
    would then roll back the connection that the COPY holds locked, and wait for ever. Once
    this generator is closed, the thread ends the COPY at its next chunk and lets go of its
    connection.
    """
    ahead: queue.Queue[bytes | Exception | None] = queue.Queue(_AHEAD)
    stop = threading.Event()
    threading.Thread(
        target=_read, args=(engine, scope, message, ahead, stop), name="ilms-copy", daemon=True
    ).start()
    try:
        while (item := ahead.get()) is not None:
            if isinstance(item, Exception):
                raise item
            yield item
    finally:
        stop.set()


def _read(
    engine: Engine,
    scope: Scope,
    message: DataMessage,
    ahead: queue.Queue[bytes | Exception | None],
    stop: threading.Event,
) -> None:
    """The COPY's chunks into ``ahead``, then None (or what went wrong), until ``stop``."""
    try:
        with engine.connect() as conn, closing(_copied(conn, scope, message)) as copied:
            for chunk in copied:
                if not _put(ahead, chunk, stop):
                    return
        _put(ahead, None, stop)
    except Exception as error:  # the reader of the chunks raises it
        _put(ahead, error, stop)


def _put(
    ahead: queue.Queue[bytes | Exception | None],
    item: bytes | Exception | None,
    stop: threading.Event,
) -> bool:
    """``item`` into ``ahead`` once there is room; False once told to stop."""
    while not stop.is_set():
        try:
            ahead.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def _copied(conn: Connection, scope: Scope, message: DataMessage) -> Generator[bytes]:
    header = next(sdmx_csv_data.write_20(message, []))  # the header line alone
    statement, params = _copy(scope, message, conn.dialect)
    # The planner takes the scope's code filters to leave a handful of series: it would loop
    # over the attribute values, or over the observations, for each of them. Joins are hashed
    # (the first series' lateral subquery, the one nested loop left, goes without JIT for its
    # disabled cost), in memory: a hash join that spills writes most observations to
    # temporary files and reads them back.
    conn.execute(text("SET LOCAL enable_nestloop = off"))
    conn.execute(text("SET LOCAL jit = off"))
    conn.execute(text("SET LOCAL work_mem = '64MB'"))
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    buffer: list[bytes | memoryview] = [header]
    size = len(header)
    try:
        with cursor.copy(statement, params) as copy:
            for line in copy:  # one message per line: the least work per line
                buffer.append(line)
                size += len(line)
                if size >= _CHUNK:
                    yield _unescaped(b"".join(buffer))
                    buffer, size = [], 0
        yield _unescaped(b"".join(buffer))
    finally:
        cursor.close()


def _unescaped(lines: bytes) -> bytes:
    """COPY's text lines as they are meant: a backslash escapes the character after it (an
    escaped line break is a letter, so an escape never ends a line)."""
    if b"\\" not in lines:
        return lines
    return _ESCAPES.sub(lambda m: _UNESCAPED.get(m.group(1), m.group(1)), lines)


@dataclass(frozen=True)
class _Run:
    """Consecutive attribute columns whose cells come from one place, written together, each
    cell after a comma."""

    #: ``observation`` (the observation's JSON), ``series`` (values attached to dimensions
    #: other than the period) or ``timed`` (attached to the period too).
    source: Literal["observation", "series", "timed"]
    #: Above observation level, the SQL of the attributes' attach key (without the period)
    #: from the series key ``s.series_key``.
    base: str
    attributes: tuple[str, ...]
    #: Its position among the runs: its columns are named after it.
    number: int

    @property
    def empty(self) -> str:
        """The cells without any value."""
        return _literal("," * len(self.attributes))

    def cells(self, value: Callable[[str], str]) -> str:
        """The SQL of the run's cells, ``value`` giving the SQL of an attribute's value."""
        return " || ".join(f"',' || {_csv(value(aid))}" for aid in self.attributes)

    def values(self, timed: bool) -> str:
        """The run's cells by attach key (``timed``: by attach key without the period, and
        period) from the attribute values of the data set ``:ds``. An attach key attached to
        the period ends with ``@`` and the period, which holds no ``@``."""
        ids = ", ".join(map(_literal, self.attributes))
        cells = self.cells(lambda aid: f"max(value) FILTER (WHERE attribute_id = {_literal(aid)})")
        keys = "attach_key AS base"
        if timed:
            keys = (
                "substring(attach_key FROM '^(.*)@[^@]*$') AS base, "
                "substring(attach_key FROM '@([^@]*)$') AS period"
            )
        return (
            f"SELECT {keys}, {cells} AS cells FROM attribute_current WHERE dataset_pk = :ds "
            f"AND attribute_id IN ({ids}) GROUP BY {'1, 2' if timed else '1'}"
        )


def _runs(dsd: DataStructure, dims: list[str]) -> list[_Run]:
    """The attribute columns in DSD order, cut into runs of one source and attach key."""
    time = dsd.time_dimension.id if dsd.time_dimension is not None else None
    found: list[_Run] = []
    for attribute in dsd.attributes:
        rel = dimensions_of(attribute.relationship, dsd)
        source: Literal["observation", "series", "timed"] = "observation"
        base = ""
        if rel.level == "dataset":
            source, base = "series", "''"
        elif rel.level != "observation":
            wanted = set(rel.dimensions)
            source = "timed" if time is not None and time in wanted else "series"
            parts = [_part(n) if d in wanted else "''" for n, d in enumerate(dims)]
            base = "concat_ws('.', " + ", ".join(parts) + ")"
        last = found[-1] if found else None
        if last is not None and (last.source, last.base) == (source, base):
            found[-1] = replace(last, attributes=(*last.attributes, attribute.id))
        else:
            found.append(_Run(source, base, (attribute.id,), len(found)))
    return found


def _series(message: DataMessage, dims: list[str], runs: list[_Run]) -> str:
    """The series (the scope's WHERE to follow): the start of their lines (structure, action,
    codes), the cells of each run of attributes that do not depend on the period (``r<n>``),
    and the cells of each run of those that do, by period (``m<n>``, a JSON object)."""
    agency, resource_id, version = message.ref
    lead = sdmx_csv_data.cell(f"{agency}:{resource_id}({version})")
    kind = sdmx_csv_data.STRUCTURE_CELLS[message.structure]
    # codes are never empty nor hold a dot: without anything to quote, the key is the cells
    each = " || ',' || ".join(_csv(_part(n)) for n in range(len(dims)))
    plain = "replace(s.series_key, '.', ',')"
    codes = f"CASE WHEN {_SPECIAL.format('s.series_key')} THEN {each} ELSE {plain} END"
    columns = [f"'{kind},{lead},I,' || {codes} || ',' AS head"]
    joins = []
    for run in runs:
        n = run.number
        if run.source == "series":
            columns.append(f"COALESCE(f{n}.cells, {run.empty}) AS r{n}")
        elif run.source == "timed":
            columns.append(f"f{n}.cells AS m{n}")
        if run.source != "observation":
            joins.append(f" LEFT JOIN run{n} f{n} ON f{n}.base = {run.base}")
    return f"SELECT s.pk, {', '.join(columns)} FROM series s{''.join(joins)}"


def _copy(scope: Scope, message: DataMessage, dialect: Dialect) -> tuple[str, dict[str, Any]]:
    """COPY of one text column, the CSV line of each observation in scope; psycopg's
    placeholders, and their values."""
    dims = [d.id for d in message.dsd.key_dimensions]
    runs = _runs(message.dsd, dims)
    line, values = _line(runs)
    sql = ScopeSql(scope, "s")
    series = _series(message, dims, runs)
    where = sql.series()
    # The lines of the data set's first series leave at once: their observations are read by
    # index, series by series (OFFSET 0 keeps that subquery of each series). The others' are
    # read in one pass, joined to the rest of the series, hashed meanwhile (an eighth of a
    # second for 70,000): reading by index costs PostgreSQL half as much again.
    values.append(
        "split AS (SELECT COALESCE((SELECT s.pk FROM series s WHERE s.dataset_pk = :ds "
        f"ORDER BY s.pk OFFSET {_FIRST_SERIES - 1} LIMIT 1), {2**63 - 1}) AS pk)"
    )
    first = (
        f"SELECT {line} FROM ({series} WHERE {where} AND s.pk <= (SELECT pk FROM split)) v "
        "CROSS JOIN LATERAL (SELECT c.time_period, c.value, c.value_text, c.attrs "
        "FROM observation c WHERE c.series_pk = v.pk AND c.superseded_at IS NULL "
        "AND NOT c.deleted OFFSET 0) c"
    )
    rest = (
        f"SELECT {line} FROM ({series} WHERE {where} AND s.pk > (SELECT pk FROM split) "
        "OFFSET 0) v JOIN observation c ON c.series_pk = v.pk AND c.superseded_at IS NULL "
        "AND NOT c.deleted"
    )
    query = f"COPY (WITH {', '.join(values)} {first} UNION ALL {rest}) TO STDOUT"
    compiled = (
        sql.statement(query)
        .bindparams(**sql.params)
        .compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    )
    return compiled.string, compiled.params


def _line(runs: list[_Run]) -> tuple[str, list[str]]:
    """The SQL of a line from a series ``v`` (:func:`_series`) and an observation ``c``: the
    series' start, the period, the value, then each run's cells; and the named subqueries of
    the attribute values the series join (``run<n>``)."""
    parts = [
        "v.head || c.time_period || ','",
        f"COALESCE({_quoted('c.value_text')}, {_XS_DOUBLE}, '')",
    ]
    values = []
    for run in runs:
        n = run.number
        if run.source == "series":
            parts.append(f"v.r{n}")
            values.append(f"run{n} AS ({run.values(timed=False)})")
        elif run.source == "timed":
            parts.append(f"COALESCE(v.m{n} ->> c.time_period, {run.empty})")
            values.append(
                f"run{n} AS (SELECT base, jsonb_object_agg(period, cells) AS cells "
                f"FROM ({run.values(timed=True)}) p GROUP BY base)"
            )
        else:
            # most observations have no attribute of their own: their JSON is parsed only
            # when there is one
            record = ", ".join(f"{_name(aid)} text" for aid in run.attributes)
            cells = run.cells(lambda aid: f"o.{_name(aid)}")
            parsed = f"(SELECT {cells} FROM json_to_record(c.attrs::json) AS o({record}))"
            parts.append(
                f"CASE WHEN c.attrs IS NULL THEN {run.empty} "
                f"ELSE COALESCE({parsed}, {run.empty}) END"
            )
    return " || ".join(parts), values


def _part(n: int) -> str:
    return f"split_part(s.series_key, '.', {n + 1})"


#: Whether an SQL expression's text holds what an SDMX-CSV cell quotes.
_SPECIAL: Final = "{} ~ '[\",\\r\\n]'"


def _quoted(expression: str) -> str:
    """An SQL expression's text as an SDMX-CSV cell (``sdmx_csv_data.cell``); NULL stays."""
    return (
        f"CASE WHEN {_SPECIAL.format(expression)} "
        f"THEN '\"' || replace({expression}, '\"', '\"\"') || '\"' ELSE {expression} END"
    )


def _csv(expression: str) -> str:
    """An SQL expression's text as an SDMX-CSV cell; NULL is empty."""
    return f"COALESCE({_quoted(expression)}, '')"


def _name(component: str) -> str:
    return '"' + component.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
