"""Plain SDMX-JSON 2.0 exports written by PostgreSQL itself (``pg_export``).

SDMX-JSON keys series and observations by the positions of their values in the structure's
``values``, and presents coded attribute values by position too. The general writer numbers
values in order of first use as the rows stream by; here, the leading connection reads them
first, in its snapshot, once the message's first bytes are out: the codes of the series in
scope, their periods and the attribute values, each component's in sorted order (an attribute
above observation level lists the values it has in the data set). PostgreSQL then writes each
series whole, ``"0:3:1":{"attributes":[…],"observations":{"0":[1.5,…],…}}``, looking the
positions up in JSON objects, and the service writes the structure last, from the same values.

Each level's attributes take their positions in DSD order, whether they have values or not;
trailing attributes without a value are left out of an array, as the general writer does. The
message says what the general path's says, value for value; series come in storage order.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any, Final

from sqlalchemy import Connection, Dialect, text
from sqlalchemy.orm import Session

from service.formats.base import Header
from service.formats.writers.data_common import DataFormat, DataMessage
from service.formats.writers.json_common import meta
from service.formats.writers.sdmx_json_20_data import MEDIA_TYPE, Json20DataWriter, json_text
from service.storage.data_reads import Scope, ScopeSql
from service.usecases import pg_export
from service.usecases.data import DataPlan
from service.usecases.pg_export import Run, code, compiled, literal

#: A measure's text that JSON writes as a number (``sdmx_json_20_data.measure_value``).
_NUMBER: Final = r"'^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$'"
#: The measure as the general writer writes it: a number, a string, or null.
_VALUE: Final = (
    "CASE WHEN c.value_text IS NOT NULL THEN (CASE WHEN c.value_text = '' THEN 'null' "
    f"WHEN c.value_text ~ {_NUMBER} THEN c.value_text ELSE to_json(c.value_text)::text END) "
    "WHEN c.value IS NULL THEN 'null' WHEN c.value = 'Infinity' THEN '\"INF\"' "
    "WHEN c.value = '-Infinity' THEN '\"-INF\"' WHEN c.value = 'NaN' THEN '\"NaN\"' "
    "ELSE c.value::text END"
)


def applies(plan: DataPlan, fmt: DataFormat, message: DataMessage, session: Session) -> bool:
    """Whether the query is a plain SDMX-JSON 2.0 export of current data on PostgreSQL, with
    every attribute where the general path writes it."""
    return (
        fmt.media_type == MEDIA_TYPE
        and message.measures
        and pg_export.plain_current(plan, session)
        and pg_export.placed_alike(message)
    )


class _Export:
    """One export: the general writer, whose values this export numbers before the parts are
    written, and whose structure it writes last."""

    def __init__(self, message: DataMessage, scope: Scope) -> None:
        self.message = message
        self.scope = scope
        self.writer = Json20DataWriter(message)
        self.writer.datasets = 1
        self.dims = [d.id for d in message.dsd.key_dimensions]
        self.runs = [
            r for r in pg_export.runs(message.dsd, self.dims) if pg_export.level(r) != "dataset"
        ]
        self.inline = self.writer.inline

    def body(self) -> pg_export.Body:
        return pg_export.Body(
            head=self.head,
            part=self.part,
            tail=self.tail,
            prepare=self.prepare,
            separator=b",",
        )

    # -- head, values, tail ----------------------------------------------------------------

    def head(self, conn: Connection) -> bytes:
        writer = self.writer
        message = self.message
        header = Header(id=message.message_id, prepared=message.prepared, sender=message.sender)
        start = json_text({"meta": meta(header, writer.schema_url, [writer.language])})
        dataset = writer.dataset_object()
        dataset["action"] = "Information"
        dataset["links"] = [writer.link()]
        values = pg_export.dataset_values(conn, self.scope.dataset_pk, writer.attributes["dataset"])
        indexes = writer.indexes("dataset", values)
        if indexes:
            dataset["attributes"] = indexes
        return f'{start[:-1]},"data":{{"dataSets":[{json_text(dataset)[:-1]},"series":{{'.encode()

    def prepare(self, conn: Connection) -> None:
        """Number the values in scope, in the leading connection's snapshot: the codes of the
        series (those without observations too: an extra value is only listed), the periods
        and the coded attribute values of the observations (one pass), and the values of the
        attributes above observation level in the data set."""
        writer = self.writer
        pg_export.tune(conn)
        sql = ScopeSql(self.scope, "s")
        spelled = ", ".join(
            f"array_agg(DISTINCT {code(n)})" if d in writer.values else "NULL"
            for n, d in enumerate(self.dims)
        )
        codes = conn.execute(
            sql.statement(f"SELECT {spelled} FROM series s WHERE {sql.series()}"), sql.params
        ).one()
        for dim, found in zip(self.dims, codes, strict=True):
            if dim in writer.values:
                writer.values[dim] = _numbered(found or ())
        own = [
            a
            for r in self.runs
            if r.source == "observation"
            for a in r.attributes
            if a in writer.coded
        ]
        sql = ScopeSql(self.scope, "s")
        cells = "".join(
            f", CASE WHEN c.attrs IS NULL THEN NULL ELSE c.attrs::json ->> {literal(a)} END"
            for a in own
        )
        rows = conn.execute(
            sql.statement(
                f"SELECT DISTINCT c.time_period{cells} FROM series s JOIN observation c "
                "ON c.series_pk = s.pk AND c.superseded_at IS NULL AND NOT c.deleted "
                f"WHERE {sql.series()}"
            ),
            sql.params,
        ).all()
        writer.values[self.message.dimension_at_observation] = _numbered(r[0] for r in rows)
        values = self.values_above(conn)
        for n, aid in enumerate(own, start=1):
            values[aid] = {r[n] for r in rows if r[n]}
        for aid, found in values.items():
            if aid not in self.inline:
                writer.attr_values[aid] = _numbered(found)
        for level in ("series", "observation"):
            writer.slots[level] = {a: n for n, a in enumerate(writer.attributes[level])}

    def values_above(self, conn: Connection) -> dict[str, set[str]]:
        """The values of the attributes above observation level in the data set."""
        above = [a for r in self.runs if r.source != "observation" for a in r.attributes]
        found = conn.execute(
            text(
                "SELECT DISTINCT attribute_id, value FROM attribute_current "
                "WHERE dataset_pk = :ds AND attribute_id = ANY(:ids) AND value <> ''"
            ),
            {"ds": self.scope.dataset_pk, "ids": above},
        )
        values: dict[str, set[str]] = {a: set() for a in above}
        for aid, value in found:
            values[str(aid)].add(str(value))
        return values

    def tail(self) -> bytes:
        writer = self.writer
        structure = json_text(writer.structure_part(writer.structure()))
        return f'}}}}],"{writer.structure_key}":{structure}}}}}\n'.encode()

    # -- the parts ---------------------------------------------------------------------------

    def part(self, conn: Connection, part: int, parts: int) -> Generator[bytes]:
        statement, params = self.copy(conn.dialect, part, parts)
        # one row per series, a line each (white space between JSON members)
        return pg_export.copied(conn, statement, params)

    def copy(self, dialect: Dialect, part: int, parts: int) -> tuple[str, dict[str, Any]]:
        """COPY of one text column, each series in scope (whose ``pk % parts = part``) as a
        member of the data set's ``series``, after a comma."""
        writer = self.writer
        sql = ScopeSql(self.scope, "s")
        maps = {
            aid: sql.bind(json_text({v: str(n) for v, n in found.items()}))
            for aid, found in writer.attr_values.items()
            if found
        }

        def cell(aid: str, value: str) -> str:
            present = f"NULLIF({value}, '')"
            if aid in self.inline:
                found = f"to_json({present})::text"
            elif aid in maps:
                found = f"(CAST({maps[aid]} AS jsonb) ->> {present})"
            else:
                found = "NULL"
            return f"',' || COALESCE({found}, 'null')"

        key_parts = []
        for dim in writer.series_dims:
            numbered = sql.bind(json_text({v: str(n) for v, n in writer.values[dim].items()}))
            key_parts.append(f"(CAST({numbered} AS jsonb) ->> {code(self.dims.index(dim))})")
        skey = "concat_ws(':', " + ", ".join(key_parts) + ")" if key_parts else "''"
        periods = writer.values[self.message.dimension_at_observation]
        at = sql.bind(json_text({v: str(n) for v, n in periods.items()}))
        head, columns, joins, named = [], [], [], []
        for run in self.runs:
            n = run.number
            if run.source == "series":
                head.append(f"COALESCE(f{n}.cells, {_nulls(run)})")
            elif run.source == "timed":
                columns.append(f", f{n}.cells AS m{n}")
            if run.source != "observation":
                named.append(run.subquery(cell))
                joins.append(f" LEFT JOIN run{n} f{n} ON f{n}.base = {run.base}")
        cells = f"rtrim({' || '.join(head)}, ',nul')" if head else "''"
        attributes = (
            f"CASE WHEN {cells} = '' THEN '' "
            f"ELSE '\"attributes\":[' || substr({cells}, 2) || '],' END"
        )
        series = (
            f"SELECT s.pk, '\"' || {skey} || '\":{{' || {attributes} AS head{''.join(columns)} "
            f"FROM series s{''.join(joins)} WHERE {sql.series()}{pg_export.share(part, parts)}"
        )
        line = (
            f"'\"' || (CAST({at} AS jsonb) ->> c.time_period) || '\":[' || {_VALUE} || "
            f"rtrim({pg_export.observation_cells(self.runs, cell, _nulls)}, ',nul') || ']'"
        )
        body = (
            "SELECT ',' || v.head || '\"observations\":{' || o.obs || '}}' FROM "
            f"({series}) v CROSS JOIN LATERAL (SELECT string_agg({line}, ',' "
            "ORDER BY c.time_period) AS obs FROM observation c WHERE c.series_pk = v.pk "
            "AND c.superseded_at IS NULL AND NOT c.deleted OFFSET 0) o WHERE o.obs IS NOT NULL"
        )
        with_ = f"WITH {', '.join(named)} " if named else ""
        return compiled(sql, f"COPY ({with_}{body}) TO STDOUT", dialect)


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
    return pg_export.export(
        session,
        plan,
        dataset_pk,
        cap=cap,
        streams=streams,
        body=lambda scope: _Export(message, scope).body(),
    )


def _numbered(values: Any) -> dict[str, int]:
    """Values numbered in sorted order."""
    return {v: n for n, v in enumerate(sorted(set(values)))}


def _nulls(run: Run) -> str:
    """The run's cells without any value."""
    return literal(",null" * len(run.attributes))
