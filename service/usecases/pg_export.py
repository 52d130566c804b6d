"""Full exports written by PostgreSQL itself: what the SDMX-CSV 2.0 (``csv_export``),
SDMX-ML 2.1 structure-specific (``ss_export``) and SDMX-JSON 2.0 (``json_export``) exports
share.

The most common harvest is a dataflow's current data, or a key's, with every attribute. For
it, PostgreSQL builds the text of the message body itself (a CSV line per observation, an XML
element or a JSON member per series) and the service streams it: formatting in SQL costs
PostgreSQL little more than reading the rows, and it runs in PostgreSQL's processes beside the
service's, where Python would spend several times as long on each observation; several
connections (``export_streams``) each write a share of the series, so that PostgreSQL uses more
than one core. Every other query, an answer of fewer than ``export_min_observations``, and
SQLite take the general path (``usecases.data``), which these exports match value for value.

The attribute values above observation level come from ``attribute_current``, once per attach
key; those attached to the period are looked up per observation from a JSON object per series.
"""

from __future__ import annotations

import math
import queue
import re
import struct
import threading
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final, Literal

from sqlalchemy import Connection, Dialect, Engine, text
from sqlalchemy.orm import Session

from service.formats.writers.data_common import DataMessage, placement
from service.model import DataStructure
from service.storage.data_reads import DataReads, Scope, ScopeSql
from service.usecases.attachment import dimensions_of
from service.usecases.data import DataPlan, scope_of, too_large

#: A stored number as SDMX writes it (xs:double): PostgreSQL spells infinity "Infinity".
XS_DOUBLE: Final = (
    "CASE WHEN c.value = 'Infinity' THEN 'INF' WHEN c.value = '-Infinity' THEN '-INF' "
    "ELSE c.value::text END"
)
#: COPY's text format escapes these in a value.
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
#: A query whose key names at most this many series in full takes the general path.
FEW_SERIES: Final = 100
_INT32: Final = struct.Struct(">i")
#: A binary COPY row's field count and its one field's length.
_ROW: Final = struct.Struct(">hi")
#: About how many bytes a chunk of an export holds.
CHUNK: Final = 1 << 18
#: How many chunks the export's thread may have ready.
_AHEAD: Final = 4

#: The text before the parts, written first on the leading connection (where the parts'
#: snapshot was taken).
Head = Callable[[Connection], bytes]
#: Part ``i`` of ``n`` of the body (the series whose ``pk % n = i``), in chunks.
Part = Callable[[Connection, int, int], Generator[bytes]]
#: The SQL of one attribute's part of the text, from its id and the SQL of its value.
Cell = Callable[[str, str], str]


@dataclass(frozen=True)
class Body:
    """What an export writes: ``head``, its parts in any order, ``tail``."""

    head: Head
    part: Part
    tail: Callable[[], bytes]
    #: Run by the leading connection once the head is sent, before any part is written (what
    #: the parts need to know of the whole, read in their snapshot).
    prepare: Callable[[Connection], None] = lambda _conn: None
    #: What begins each of the parts' items (a JSON member after another): taken off the
    #: first one written.
    separator: bytes = b""


def plain_current(plan: DataPlan, session: Session) -> bool:
    """Whether the query asks for the current data of every attribute, on PostgreSQL, with
    time at observation level and nothing else: no period, history, paging or filter."""
    p = plan.params
    every = {a.id for a in plan.dsd.attributes}
    return (
        session.get_bind().dialect.name == "postgresql"
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


def large(session: Session, plan: DataPlan, dataset_pk: int, least: int) -> bool:
    """Whether the query's answer may hold at least ``least`` observations: not when its key
    names at most :data:`FEW_SERIES` series in full (the queries of web applications, answered
    without a statement more), else as counted (no further than ``least``)."""
    if least <= 1:
        return True  # an export finds out itself whether anything matches
    scope = scope_of(plan, dataset_pk)
    if _named_series(scope) <= FEW_SERIES:
        return False
    return DataReads(session).count(scope, up_to=least) >= least


def _named_series(scope: Scope) -> float:
    """How many series the scope's key filters name in full (infinite when one has a
    wildcard, or when there are none)."""
    if not scope.keys:
        return math.inf
    named = 0
    for key in scope.keys:
        if any(part is None for part in key):
            return math.inf
        named += math.prod(len(part) for part in key if part is not None)
    return named


def level(run: Run) -> str:
    """Where a data message presents the run's attributes (time at observation level)."""
    if run.source == "series":
        return "dataset" if run.base == "''" else "series"
    return "observation"


def placed_alike(message: DataMessage) -> bool:
    """Whether every attribute's run is presented where the general path presents it
    (``data_common.placement``)."""
    places = placement(message)
    dims = [d.id for d in message.dsd.key_dimensions]
    return all(
        places[aid] == level(run) for run in runs(message.dsd, dims) for aid in run.attributes
    )


def dataset_values(conn: Connection, dataset_pk: int, attributes: Sequence[str]) -> dict[str, str]:
    """The current values of the data set's own attributes."""
    if not attributes:
        return {}
    found = conn.execute(
        text(
            "SELECT attribute_id, value FROM attribute_current WHERE dataset_pk = :ds "
            "AND attach_key = '' AND attribute_id = ANY(:ids) AND value <> ''"
        ),
        {"ds": dataset_pk, "ids": list(attributes)},
    )
    return {str(aid): str(value) for aid, value in found}


def export(
    session: Session,
    plan: DataPlan,
    dataset_pk: int,
    *,
    cap: int,
    streams: int,
    body: Callable[[Scope], Body],
) -> Iterator[bytes] | None:
    """The answer (None when nothing matches; ResultTooLarge past ``cap``), counted first as
    the general path counts it; ``body`` writes it for the query's scope, in ``streams`` parts
    at once.

    The request's session then lets go of its connection: the export runs on connections of
    its own (see :func:`chunks`), and requests that each held one while waiting for a second
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
    return chunks(engine, body(scope), streams)


def chunks(engine: Engine, body: Body, streams: int = 1) -> Iterator[bytes]:
    """The body's head, its ``streams`` parts as PostgreSQL writes them, each on a connection
    of its own in a thread of its own, a few chunks ahead, then its tail.

    PostgreSQL writes a part on one core: with two, two cores write an export. The parts read
    one snapshot, taken by the leading connection before the head (``pg_export_snapshot``, as
    ``pg_dump --jobs`` does). A part whose connection is late (the pool is busy) is written by
    the leading connection once its own is done: an export never waits for a second
    connection.

    A client that goes away leaves this generator suspended until it is collected, maybe in a
    reference cycle, whose weak references the collector clears first: had it held a
    statement, the pool would then roll back the connection that the statement holds locked,
    and wait for ever. Once this generator is closed, the threads end their statements at their
    next chunk and let go of their connections.
    """
    ahead: queue.Queue[bytes | Exception | None] = queue.Queue(_AHEAD * streams)
    shared = _Shared(body, streams, ahead)
    threading.Thread(target=shared.lead, args=(engine,), name="ilms-export", daemon=True).start()
    for _ in range(streams - 1):
        threading.Thread(
            target=shared.follow, args=(engine,), name="ilms-export", daemon=True
        ).start()
    done = 0
    # the head comes first, then the parts' chunks: the first of these loses its separator
    strip = -1 if body.separator else 1
    try:
        while done < streams:  # one None per part written
            item = ahead.get()
            if item is None:
                done += 1
            elif isinstance(item, Exception):
                raise item
            else:
                if strip == 0 and item.startswith(body.separator):
                    item = item[len(body.separator) :]
                strip += 1
                yield item
        yield body.tail()
    finally:
        shared.stop.set()


class _Shared:
    """The parts of one export left to write, and the snapshot they read."""

    def __init__(
        self, body: Body, streams: int, ahead: queue.Queue[bytes | Exception | None]
    ) -> None:
        self.body = body
        self.streams = streams
        self.ahead = ahead
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.left = list(range(streams))
        #: Set once the leading connection has taken the snapshot (None: it failed).
        self.snapshot: str | None = None
        self.taken = threading.Event()
        #: Followers importing the snapshot, which the leading transaction must outlive.
        self.importing = 0
        self.imported = threading.Condition(self.lock)

    def put(self, item: bytes | Exception | None) -> bool:
        """``item`` into ``ahead`` once there is room; False once told to stop."""
        while not self.stop.is_set():
            try:
                self.ahead.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def next_part(self) -> int | None:
        with self.lock:
            return self.left.pop(0) if self.left else None

    def write(self, conn: Connection) -> bool:
        """Parts left, one after the other, on ``conn``; False once told to stop."""
        while (i := self.next_part()) is not None:
            for chunk in self.body.part(conn, i, self.streams):
                if not self.put(chunk):
                    return False
            if not self.put(None):
                return False
        return True

    def lead(self, engine: Engine) -> None:
        try:
            with engine.connect() as conn:
                conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
                if self.streams > 1:
                    found = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                    self.snapshot = str(found)
                if not self.put(self.body.head(conn)):
                    return
                self.body.prepare(conn)
                self.taken.set()
                if self.write(conn):
                    with self.lock:  # the snapshot lives as long as this transaction
                        while self.importing and not self.stop.is_set():
                            self.imported.wait(0.1)
        except Exception as error:  # the reader of the chunks raises it
            self.put(error)
        finally:
            self.taken.set()

    def follow(self, engine: Engine) -> None:
        while not self.taken.wait(0.1):
            if self.stop.is_set():
                return
        try:
            conn = engine.connect()
        except Exception:  # the leading connection writes the parts left
            return
        try:
            with conn:
                with self.lock:
                    if not self.left or self.snapshot is None:
                        return
                    self.importing += 1
                try:
                    conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
                    conn.execute(text("SET TRANSACTION SNAPSHOT " + literal(self.snapshot)))
                finally:
                    with self.lock:
                        self.importing -= 1
                        self.imported.notify_all()
                self.write(conn)
        except Exception as error:  # the reader of the chunks raises it
            self.put(error)


def copied(conn: Connection, statement: str, params: dict[str, Any]) -> Generator[bytes]:
    """The rows of ``statement``, a ``COPY (…) TO STDOUT`` of one text column, each followed by
    a line break, in chunks of about 256 kB; planned as :func:`tune` says.

    On a UTF-8 database (PostgreSQL's default) the rows come in COPY's binary format, whose
    text is the text itself: the text format would escape what the rows hold (their own line
    breaks), and undoing that costs the service a pass over every byte."""
    tune(conn)
    driver = conn.connection.driver_connection
    binary = _binary(driver)
    cursor = driver.cursor()  # type: ignore[union-attr]
    buffer: list[bytes | memoryview] = []
    size = 0
    try:
        with cursor.copy(f"{statement} (FORMAT binary)" if binary else statement, params) as copy:
            for row in _binary_rows(copy) if binary else copy:
                buffer.append(row)
                size += len(row)
                if binary:
                    buffer.append(b"\n")
                if size >= CHUNK:
                    yield b"".join(buffer) if binary else unescaped(b"".join(buffer))
                    buffer, size = [], 0
        if buffer:
            yield b"".join(buffer) if binary else unescaped(b"".join(buffer))
    finally:
        cursor.close()


def _binary(driver: Any) -> bool:
    """Whether the database's text is UTF-8 (binary COPY sends it as stored)."""
    return bool(driver.info.parameter_status("server_encoding") == "UTF8")


def _binary_rows(messages: Iterable[memoryview]) -> Iterator[memoryview]:
    """The text of each row of a binary COPY of one column: after the header (signature,
    flags, extension), each row is its field count, then the field's length and bytes; a
    count of -1 ends it. A message holds whole rows (the first one the header too). Every
    message is read, the end's too: the connection is then ready for its next statement."""
    header = True
    ended = False
    for message in messages:
        view = memoryview(message)
        pos = 0
        if header:
            (extension,) = _INT32.unpack_from(view, 15)
            pos, header = 19 + extension, False
        end = len(view)
        while not ended and pos < end:
            if end - pos < 6:  # only the end (a count of -1) is shorter than a row
                ended = True
                break
            fields, size = _ROW.unpack_from(view, pos)
            if fields == -1:
                ended = True
                break
            pos += 6
            if size >= 0:  # a NULL (-1) is never written: the statements leave them out
                yield view[pos : pos + size]
                pos += size


def observation_cells(
    runs: Sequence[Run],
    cell: Cell,
    empty: Callable[[Run], str],
    series: Callable[[Run], str] | None = None,
) -> str:
    """The SQL of an observation ``c``'s attribute text, run after run in DSD order: those
    attached to the period from its series ``v`` (``m<n>``, ``empty`` when it has none), its
    own from its JSON, parsed once for all of them (most observations have none); and, when
    ``series`` gives their SQL, those attached to the series, in their places."""
    runs = [r for r in runs if r.source != "series" or series is not None]

    def cells(parsed: bool) -> str:
        found = []
        for run in runs:
            if run.source == "series" and series is not None:
                found.append(series(run))
            elif run.source == "timed":
                found.append(f"COALESCE(v.m{run.number} ->> c.time_period, {empty(run)})")
            elif parsed:
                found.append(run.cells(cell, lambda aid: f"o.{name(aid)}"))
            else:
                found.append(empty(run))
        return " || ".join(found) or "''"

    own = [aid for run in runs if run.source == "observation" for aid in run.attributes]
    if not own:
        return cells(parsed=False)
    record = ", ".join(f"{name(aid)} text" for aid in own)
    parsed = f"(SELECT {cells(parsed=True)} FROM json_to_record(c.attrs::json) AS o({record}))"
    return (
        f"CASE WHEN c.attrs IS NULL THEN {cells(parsed=False)} "
        f"ELSE COALESCE({parsed}, {cells(parsed=False)}) END"
    )


def tune(conn: Connection) -> None:
    """Plan the export's statement for reading everything in scope.

    The planner takes the scope's code filters to leave a handful of series: it would loop
    over the attribute values, or over the observations, for each of them. Joins are hashed
    (a lateral subquery per series, the one nested loop left, goes without JIT for its
    disabled cost), in memory: a hash join that spills writes most observations to temporary
    files and reads them back.
    """
    conn.execute(text("SET LOCAL enable_nestloop = off"))
    conn.execute(text("SET LOCAL jit = off"))
    conn.execute(text("SET LOCAL work_mem = '64MB'"))


@dataclass(frozen=True)
class Run:
    """Consecutive attributes whose values come from one place, written together."""

    #: ``observation`` (the observation's JSON), ``series`` (values attached to dimensions
    #: other than the period, or to the data set) or ``timed`` (attached to the period too).
    source: Literal["observation", "series", "timed"]
    #: Above observation level, the SQL of the attributes' attach key (without the period)
    #: from the series key ``s.series_key``; ``''`` for the data set.
    base: str
    attributes: tuple[str, ...]
    #: Its position among the runs: its columns are named after it.
    number: int

    def cells(self, cell: Cell, value: Callable[[str], str]) -> str:
        """The SQL of the run's text, ``value`` giving the SQL of an attribute's value."""
        return " || ".join(cell(aid, value(aid)) for aid in self.attributes)

    def values(self, cell: Cell, timed: bool) -> str:
        """The run's text by attach key (``timed``: by attach key without the period, and
        period) from the attribute values of the data set ``:ds``. An attach key attached to
        the period ends with ``@`` and the period, which holds no ``@``."""
        ids = ", ".join(map(literal, self.attributes))
        cells = self.cells(
            cell, lambda aid: f"max(value) FILTER (WHERE attribute_id = {literal(aid)})"
        )
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

    def subquery(self, cell: Cell) -> str:
        """The named subquery ``run<n>`` of the run's text by attach key (above observation
        level), by period in a JSON object when ``timed``."""
        n = self.number
        if self.source == "timed":
            return (
                f"run{n} AS (SELECT base, jsonb_object_agg(period, cells) AS cells "
                f"FROM ({self.values(cell, timed=True)}) p GROUP BY base)"
            )
        return f"run{n} AS ({self.values(cell, timed=False)})"


def runs(dsd: DataStructure, dims: list[str]) -> list[Run]:
    """The attributes in DSD order, cut into runs of one source and attach key."""
    time = dsd.time_dimension.id if dsd.time_dimension is not None else None
    found: list[Run] = []
    for attribute in dsd.attributes:
        rel = dimensions_of(attribute.relationship, dsd)
        source: Literal["observation", "series", "timed"] = "observation"
        base = ""
        if rel.level == "dataset":
            source, base = "series", "''"
        elif rel.level != "observation":
            wanted = set(rel.dimensions)
            source = "timed" if time is not None and time in wanted else "series"
            parts = [code(n) if d in wanted else "''" for n, d in enumerate(dims)]
            base = "concat_ws('.', " + ", ".join(parts) + ")"
        last = found[-1] if found else None
        if last is not None and (last.source, last.base) == (source, base):
            found[-1] = replace(last, attributes=(*last.attributes, attribute.id))
        else:
            found.append(Run(source, base, (attribute.id,), len(found)))
    return found


def share(part: int, parts: int) -> str:
    """The SQL condition on a series ``s`` of part ``part`` of ``parts``."""
    return f" AND s.pk % {parts} = {part}" if parts > 1 else ""


def code(n: int, key: str = "s.series_key") -> str:
    """The SQL of the code of the ``n``-th key dimension in a series key."""
    return f"split_part({key}, '.', {n + 1})"


def name(component: str) -> str:
    """A component id as an SQL name."""
    return '"' + component.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A text as an SQL literal."""
    return "'" + value.replace("'", "''") + "'"


def unescaped(lines: bytes) -> bytes:
    """COPY's text lines as they are meant: a backslash escapes the character after it (an
    escaped line break is a letter, so an escape never ends a line). When every backslash
    begins an escaped line break (the SDMX-ML lines' own), they are replaced at once."""
    if b"\\" not in lines:
        return lines
    if lines.count(b"\\") == lines.count(b"\\n"):
        return lines.replace(b"\\n", b"\n")
    return _ESCAPES.sub(lambda m: _UNESCAPED.get(m.group(1), m.group(1)), lines)


def compiled(sql: ScopeSql, query: str, dialect: Dialect) -> tuple[str, dict[str, Any]]:
    """``query`` with the scope's parameters, in psycopg's placeholders, and their values."""
    statement = (
        sql.statement(query)
        .bindparams(**sql.params)
        .compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    )
    return statement.string, statement.params
