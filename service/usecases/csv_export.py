"""Plain SDMX-CSV 2.0 exports written by PostgreSQL itself (``pg_export``).

PostgreSQL builds each CSV line (``COPY (SELECT …) TO STDOUT``, the lines of a series in one
row) and the service streams the bytes after the header line: the per-series part of a line
(its codes and the attribute values that depend on the series alone) is built once per series,
each observation adds its period, value and the values that depend on it. This path matches the
general one cell for cell except for one spelling: a whole number of 16 digits (1e15 up to
1e16) is written ``1e+15`` here.

Series come in the order PostgreSQL reads them: nothing is sorted, so the first bytes leave at
once (SDMX-CSV rows stand alone and need no order; the general path orders them by series key,
and queries with ``offset``, ``limit`` or ``sort`` take it, so paging is in key order).
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any, Final

from sqlalchemy import Connection, Dialect
from sqlalchemy.orm import Session

from service.formats.writers import sdmx_csv_data
from service.formats.writers.data_common import DataFormat, DataMessage
from service.storage.data_reads import Scope, ScopeSql
from service.usecases import pg_export
from service.usecases.data import DataPlan
from service.usecases.pg_export import XS_DOUBLE, Run, code, literal

#: The format this path writes.
MEDIA_TYPE: Final = "application/vnd.sdmx.data+csv;version=2.0.0"


def applies(plan: DataPlan, fmt: DataFormat, message: DataMessage, session: Session) -> bool:
    """Whether the query is a plain SDMX-CSV 2.0 export of current data on PostgreSQL."""
    return (
        fmt.media_type == MEDIA_TYPE
        and message.labels == "id"
        and message.time_format == "original"
        and message.keys == "none"
        and pg_export.plain_current(plan, session)
    )


def export(
    session: Session,
    plan: DataPlan,
    dataset_pk: int,
    message: DataMessage,
    *,
    cap: int,
    streams: int = 1,
) -> Iterator[bytes] | None:
    """The answer (None when nothing matches; ResultTooLarge past ``cap``), in ``streams``
    parts at once: see :func:`pg_export.export`."""
    header = next(sdmx_csv_data.write_20(message, []))  # the header line alone

    def body(scope: Scope) -> pg_export.Body:
        return pg_export.Body(
            head=lambda _conn: header,
            part=lambda conn, i, n: _copied(conn, scope, message, i, n),
            tail=lambda: b"",
        )

    return pg_export.export(session, plan, dataset_pk, cap=cap, streams=streams, body=body)


def _copied(
    conn: Connection, scope: Scope, message: DataMessage, part: int, parts: int
) -> Generator[bytes]:
    statement, params = _copy(scope, message, conn.dialect, part, parts)
    return pg_export.copied(conn, statement, params)


def _cell(_attribute: str, value: str) -> str:
    """An attribute's cell, after a comma."""
    return f"',' || {_csv(value)}"


def _empty(run: Run) -> str:
    """The run's cells without any value."""
    return literal("," * len(run.attributes))


def _series(message: DataMessage, dims: list[str], runs: list[Run]) -> str:
    """The series (the scope's WHERE to follow): the start of their lines (structure, action,
    codes), the cells of each run of attributes that do not depend on the period (``r<n>``),
    and the cells of each run of those that do, by period (``m<n>``, a JSON object)."""
    agency, resource_id, version = message.ref
    lead = sdmx_csv_data.cell(f"{agency}:{resource_id}({version})")
    kind = sdmx_csv_data.STRUCTURE_CELLS[message.structure]
    # codes are never empty nor hold a dot: without anything to quote, the key is the cells
    each = " || ',' || ".join(_csv(code(n)) for n in range(len(dims)))
    plain = "replace(s.series_key, '.', ',')"
    codes = f"CASE WHEN {_SPECIAL.format('s.series_key')} THEN {each} ELSE {plain} END"
    columns = [f"'{kind},{lead},I,' || {codes} || ',' AS head"]
    joins = []
    for run in runs:
        n = run.number
        if run.source == "series":
            columns.append(f"COALESCE(f{n}.cells, {_empty(run)}) AS r{n}")
        elif run.source == "timed":
            columns.append(f"f{n}.cells AS m{n}")
        if run.source != "observation":
            joins.append(f" LEFT JOIN run{n} f{n} ON f{n}.base = {run.base}")
    return f"SELECT s.pk, {', '.join(columns)} FROM series s{''.join(joins)}"


def _copy(
    scope: Scope, message: DataMessage, dialect: Dialect, part: int = 0, parts: int = 1
) -> tuple[str, dict[str, Any]]:
    """COPY of one text column, the CSV line of each observation in scope (of its series
    whose ``pk % parts = part``); psycopg's placeholders, and their values."""
    dims = [d.id for d in message.dsd.key_dimensions]
    runs = pg_export.runs(message.dsd, dims)
    line, values = _line(runs)
    sql = ScopeSql(scope, "s")
    series = _series(message, dims, runs)
    where = sql.series() + pg_export.share(part, parts)
    # Each series' lines in one row (read by index, series by series; OFFSET 0 keeps that
    # subquery of each series): the service handles a row per series, not per observation.
    # The OFFSET 0 of the series keeps their start of line a value made once per series:
    # without it, PostgreSQL pulls the subquery up and builds it again for every observation
    # (a third of the export's time).
    body = (
        f"SELECT o.lines FROM ({series} WHERE {where} OFFSET 0) v CROSS JOIN LATERAL "
        f"(SELECT string_agg({line}, chr(10)) AS lines FROM observation c "
        "WHERE c.series_pk = v.pk AND c.superseded_at IS NULL AND NOT c.deleted OFFSET 0) o "
        "WHERE o.lines IS NOT NULL"
    )
    with_ = f"WITH {', '.join(values)} " if values else ""
    query = f"COPY ({with_}{body}) TO STDOUT"
    return pg_export.compiled(sql, query, dialect)


def _line(runs: list[Run]) -> tuple[str, list[str]]:
    """The SQL of a line from a series ``v`` (:func:`_series`) and an observation ``c``: the
    series' start, the period, the value, then each run's cells; and the named subqueries of
    the attribute values the series join (``run<n>``)."""
    parts = [
        "v.head || c.time_period || ','",
        f"COALESCE({_quoted('c.value_text')}, {XS_DOUBLE}, '')",
    ]
    # the observation's own attributes parsed from its JSON once, for every run of them
    parts.append(
        pg_export.observation_cells(runs, _cell, _empty, series=lambda run: f"v.r{run.number}")
    )
    values = [run.subquery(_cell) for run in runs if run.source != "observation"]
    return " || ".join(parts), values


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
