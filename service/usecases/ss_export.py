"""Plain SDMX-ML 2.1 structure-specific exports written by PostgreSQL itself (``pg_export``).

PostgreSQL writes each series whole, ``<Series …>`` with its observations in period order and
``</Series>``, one row per series of a ``COPY (SELECT …) TO STDOUT``; the service writes the
header and the data set's start (with the data set's attribute values) around them. Values
are escaped as :func:`~service.formats.writers.sdmx_ml_data_common.escape` escapes them, and
the text matches the general path's (``usecases.data``), line for line, except for two things:

- series come in the order PostgreSQL reads them, not sorted by key: the first bytes leave at
  once, and sorting the series would cost PostgreSQL an eighth of the export (queries with
  ``sort``, ``offset`` or ``limit`` take the general path, in key order);
- a whole number of 16 digits (1e15 up to 1e16) is written ``1e+15``, as in SDMX-CSV.

Both StructureSpecificData and StructureSpecificTimeSeriesData take it: they differ only in
the root element and the data set's type.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Mapping
from typing import Any, Final

from sqlalchemy import Connection, Dialect
from sqlalchemy.orm import Session

from service.formats.writers.data_common import DataFormat, DataMessage, DataSetInfo
from service.formats.writers.sdmx_ml_21_ss_data import (
    MEDIA_TYPE,
    TIME_SERIES_MEDIA_TYPE,
    StructureSpecificTimeSeriesWriter,
    StructureSpecificWriter,
)
from service.formats.writers.sdmx_ml_data_common import layout
from service.storage.data_reads import Scope, ScopeSql
from service.usecases import pg_export
from service.usecases.data import DataPlan
from service.usecases.pg_export import XS_DOUBLE, code, compiled

#: The formats this path writes, with their writers.
WRITERS: Final[Mapping[str, type[StructureSpecificWriter]]] = {
    MEDIA_TYPE: StructureSpecificWriter,
    TIME_SERIES_MEDIA_TYPE: StructureSpecificTimeSeriesWriter,
}
#: What an attribute value cannot hold as is (``sdmx_ml_data_common.escape``): markup, tab
#: and line breaks, and what XML 1.0 cannot carry (PostgreSQL's text holds no NUL and no
#: lone surrogate). A PostgreSQL regular expression, in an SQL literal.
_SPECIAL: Final = r"""'[&<>"\t\n\r\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]'"""
_UNCARRIED: Final = r"'[\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]'"
_REFERENCES: Final = (
    ("'&'", "'&amp;'"),
    ("'<'", "'&lt;'"),
    ("'>'", "'&gt;'"),
    ("'\"'", "'&quot;'"),
    ("chr(9)", "'&#9;'"),
    ("chr(10)", "'&#10;'"),
    ("chr(13)", "'&#13;'"),
)


def applies(plan: DataPlan, fmt: DataFormat, message: DataMessage, session: Session) -> bool:
    """Whether the query is a plain structure-specific export of current data on PostgreSQL,
    with every attribute where the general path writes it."""
    if fmt.media_type not in WRITERS or not message.measures:
        return False
    return pg_export.plain_current(plan, session) and pg_export.placed_alike(message)


def export(
    session: Session,
    plan: DataPlan,
    dataset_pk: int,
    message: DataMessage,
    fmt: DataFormat,
    *,
    cap: int,
    streams: int = 1,
) -> Iterator[bytes] | None:
    """The answer (None when nothing matches; ResultTooLarge past ``cap``), in ``streams``
    parts at once: see :func:`pg_export.export`."""
    writer = WRITERS[fmt.media_type](message)

    def head(conn: Connection) -> bytes:
        values = pg_export.dataset_values(conn, dataset_pk, writer.layout.dataset_attrs)
        start = writer.head() + writer.dataset_start(DataSetInfo("I"), ((), "", "", values))
        return start.encode()

    def body(scope: Scope) -> pg_export.Body:
        return pg_export.Body(
            head=head,
            part=lambda conn, i, n: _written(conn, scope, message, i, n),
            tail=lambda: (writer.dataset_end() + writer.tail()).encode(),
        )

    return pg_export.export(session, plan, dataset_pk, cap=cap, streams=streams, body=body)


def _written(
    conn: Connection, scope: Scope, message: DataMessage, part: int, parts: int
) -> Generator[bytes]:
    statement, params = _copy(scope, message, conn.dialect, part, parts)
    return pg_export.copied(conn, statement, params)  # one row per series, a line each


def _copy(
    scope: Scope, message: DataMessage, dialect: Dialect, part: int = 0, parts: int = 1
) -> tuple[str, dict[str, Any]]:
    """COPY of one text column, each series in scope (whose ``pk % parts = part``) with its
    observations; psycopg's placeholders, and their values."""
    lay = layout(message)
    dims = [d.id for d in message.dsd.key_dimensions]
    runs = [r for r in pg_export.runs(message.dsd, dims) if pg_export.level(r) != "dataset"]
    sql = ScopeSql(scope, "s")
    key = "k.key"  # the series key, escaped: an escape holds no dot
    head = ["'<Series'"]
    head += [f"' {d}=\"' || {code(dims.index(d), key)} || '\"'" for d in lay.series_dims]
    columns, joins, named = [], [], []
    for run in runs:
        n = run.number
        if run.source == "series":
            head.append(f"COALESCE(f{n}.cells, '')")
        elif run.source == "timed":
            columns.append(f", f{n}.cells AS m{n}")
        if run.source != "observation":
            named.append(run.subquery(_cell))
            joins.append(f" LEFT JOIN run{n} f{n} ON f{n}.base = {run.base}")
    head.append("'>' || chr(10)")
    # stored periods are canonical SDMX periods (ingest, columnar): nothing in them to escape
    value = f"NULLIF(COALESCE({_escaped('c.value_text')}, {XS_DOUBLE}), '')"
    time = message.dimension_at_observation
    line = " || ".join(
        [
            f"'<Obs {time}=\"' || c.time_period || '\"'",
            f"COALESCE(' {message.measure}=\"' || {value} || '\"', '')",
            pg_export.observation_cells(runs, _cell, lambda _run: "''"),
            "'/>' || chr(10)",
        ]
    )
    series = (
        f"SELECT s.pk, {' || '.join(head)} AS head{''.join(columns)} FROM series s "
        f"CROSS JOIN LATERAL (SELECT {_escaped('s.series_key')} AS key) k"
        f"{''.join(joins)} WHERE {sql.series()}{pg_export.share(part, parts)}"
    )
    body = (
        f"SELECT v.head || o.obs || '</Series>' FROM ({series}) v CROSS JOIN LATERAL "
        f"(SELECT string_agg({line}, '' ORDER BY c.time_period) AS obs FROM observation c "
        "WHERE c.series_pk = v.pk AND c.superseded_at IS NULL AND NOT c.deleted OFFSET 0) o "
        "WHERE o.obs IS NOT NULL"
    )
    with_ = f"WITH {', '.join(named)} " if named else ""
    return compiled(sql, f"COPY ({with_}{body}) TO STDOUT", dialect)


def _cell(attribute: str, value: str) -> str:
    """An attribute as an XML attribute, a space before it; nothing when it has no value."""
    text = _escaped(f"NULLIF({value}, '')")
    return f"COALESCE(' {attribute}=\"' || {text} || '\"', '')"


def _escaped(expression: str) -> str:
    """The SQL of an expression's text escaped for an XML attribute value; NULL stays."""
    replaced = expression
    for found, reference in _REFERENCES:
        replaced = f"replace({replaced}, {found}, {reference})"
    replaced = f"regexp_replace({replaced}, {_UNCARRIED}, chr(65533), 'g')"
    return f"CASE WHEN {expression} ~ {_SPECIAL} THEN {replaced} ELSE {expression} END"
