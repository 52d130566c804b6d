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

import re
from collections.abc import Iterator
from typing import Any, Final

from sqlalchemy import Connection, Engine, TextClause, text
from sqlalchemy.orm import Session

from service.formats.writers import sdmx_csv_data
from service.formats.writers.data_common import DataFormat, DataMessage
from service.model import DataStructure
from service.storage.data_reads import DataReads, Scope, ScopeSql
from service.usecases.attachment import dimensions_of
from service.usecases.data import DataPlan, scope_of, too_large

#: The format this path writes.
MEDIA_TYPE: Final = "application/vnd.sdmx.data+csv;version=2.0.0"
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
    the general path counts it."""
    scope = scope_of(plan, dataset_pk)
    found = DataReads(session).count(scope, up_to=cap + 1)
    if found > cap:
        raise too_large(cap)
    return chunks(session.connection().engine, scope, message) if found else None


def chunks(engine: Engine, scope: Scope, message: DataMessage) -> Iterator[bytes]:
    """The message: the header line, then PostgreSQL's lines, in chunks of about 256 kB.

    The COPY runs on a connection of its own: a client that goes away leaves this generator
    suspended inside the COPY, which holds its connection until the generator is collected;
    the request's session must not wait for it.
    """
    with engine.connect() as conn:
        yield from _copied(conn, scope, message)


def _copied(conn: Connection, scope: Scope, message: DataMessage) -> Iterator[bytes]:
    header = next(sdmx_csv_data.write_20(message, []))  # the header line alone
    dsd = message.dsd
    dims = [d.id for d in dsd.key_dimensions]
    higher = _higher(dsd, dims)
    series, params = _series_table(scope, message, dims, higher)
    conn.execute(text("DROP TABLE IF EXISTS export_series"))
    conn.execute(text("DROP TABLE IF EXISTS export_timed"))
    conn.execute(series, params)
    # the planner then knows how many series there are (from the scope's code filters alone it
    # would guess one, and sort every observation before the first byte)
    conn.execute(text("ANALYZE export_series"))
    conn.execute(
        text(
            "CREATE TEMP TABLE export_timed ON COMMIT DROP AS SELECT attribute_id, attach_key, "
            "value FROM attribute_current WHERE dataset_pk = :ds AND attach_key LIKE '%@%'"
        ),
        {"ds": scope.dataset_pk},
    )
    conn.execute(text("ANALYZE export_timed"))
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    buffer = [header]
    size = len(header)
    try:
        with cursor.copy(_lines(message, higher)) as copy:
            for data in copy:
                block = bytes(data)
                if b"\\" in block:
                    block = _ESCAPES.sub(lambda m: _UNESCAPED.get(m.group(1), m.group(1)), block)
                buffer.append(block)
                size += len(block)
                if size >= _CHUNK:
                    yield b"".join(buffer)
                    buffer, size = [], 0
        yield b"".join(buffer)
    finally:
        cursor.close()


def _series_table(
    scope: Scope, message: DataMessage, dims: list[str], higher: list[tuple[str, str, bool]]
) -> tuple[TextClause, dict[str, Any]]:
    """A temporary table of the series in scope: the start of their lines (structure, action,
    codes), the values of their attributes that do not depend on the period, and the attach
    keys (without the period) of those that do, whose values ``export_timed`` holds (both
    tables are analysed, so that the plan fits their sizes)."""
    sql = ScopeSql(scope, "s")
    agency, resource_id, version = message.ref
    lead = sdmx_csv_data.cell(f"{agency}:{resource_id}({version})")
    kind = sdmx_csv_data.STRUCTURE_CELLS[message.structure]
    codes = " || ',' || ".join(_csv(_part(n)) for n in range(len(dims)))
    columns = [f"'{kind},{lead},I,' || {codes} || ',' AS head"]
    joins = []
    for n, (aid, base, timed) in enumerate(higher):
        if timed:
            columns.append(f"{base} AS a{n}")
        else:
            columns.append(f"f{n}.value AS a{n}")
            joins.append(
                f"LEFT JOIN attribute_current f{n} ON f{n}.dataset_pk = s.dataset_pk "
                f"AND f{n}.attribute_id = {_literal(aid)} AND f{n}.attach_key = {base}"
            )
    statement = sql.statement(
        "CREATE TEMP TABLE export_series ON COMMIT DROP AS "
        f"SELECT s.pk, {', '.join(columns)} FROM series s {' '.join(joins)} "
        f"WHERE {sql.series()}"
    )
    return statement, sql.params


def _lines(message: DataMessage, higher: list[tuple[str, str, bool]]) -> str:
    """COPY of one text column, the CSV line of each observation of ``export_series``."""
    dsd = message.dsd
    position = {aid: n for n, (aid, _, _) in enumerate(higher)}
    timed = {aid for aid, _, is_timed in higher if is_timed}
    observation = [a.id for a in dsd.attributes if a.relationship.level == "observation"]
    cells = []
    joins = []
    for attribute in dsd.attributes:
        aid = attribute.id
        if aid in timed:
            n = position[aid]
            cells.append(_csv(f"t{n}.value"))
            joins.append(
                f" LEFT JOIN export_timed t{n} ON t{n}.attribute_id = {_literal(aid)} "
                f"AND t{n}.attach_key = v.a{n} || '@' || c.time_period"
            )
        elif aid in position:
            cells.append(_csv(f"v.a{position[aid]}"))
        else:
            cells.append(_csv(f"o.{_name(aid)}"))
    line = " || ',' || ".join(
        ["v.head || c.time_period", _csv("COALESCE(c.value_text, c.value::text)"), *cells]
    )
    record = ", ".join(f"{_name(a)} text" for a in observation)
    if observation:
        joins.append(f" LEFT JOIN LATERAL json_to_record(c.attrs::json) AS o({record}) ON TRUE")
    return (
        f"COPY (SELECT {line} FROM export_series v JOIN observation c ON c.series_pk = v.pk"
        f"{''.join(joins)} WHERE c.superseded_at IS NULL AND NOT c.deleted) TO STDOUT"
    )


def _higher(dsd: DataStructure, dims: list[str]) -> list[tuple[str, str, bool]]:
    """Attributes above observation level: (id, SQL of the attach key without the period,
    whether it attaches to the period too)."""
    time = dsd.time_dimension.id if dsd.time_dimension is not None else None
    found = []
    for attribute in dsd.attributes:
        rel = dimensions_of(attribute.relationship, dsd)
        if rel.level == "observation":
            continue
        wanted = set(rel.dimensions) if rel.level != "dataset" else set()
        if rel.level == "dataset":
            base = "''"
        else:
            parts = [_part(n) if d in wanted else "''" for n, d in enumerate(dims)]
            base = "concat_ws('.', " + ", ".join(parts) + ")"
        found.append((attribute.id, base, time is not None and time in wanted))
    return found


def _part(n: int) -> str:
    return f"split_part(s.series_key, '.', {n + 1})"


def _csv(expression: str) -> str:
    """An SQL expression's text as an SDMX-CSV cell (``sdmx_csv_data.cell``); NULL is empty."""
    return (
        f"COALESCE(CASE WHEN {expression} ~ '[\",\\r\\n]' "
        f"THEN '\"' || replace({expression}, '\"', '\"\"') || '\"' ELSE {expression} END, '')"
    )


def _name(component: str) -> str:
    return '"' + component.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
