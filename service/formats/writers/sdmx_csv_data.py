"""Module for writing SDMX-CSV 1.0.0 and 2.0.0 data messages, streamed row by row.

Both versions follow their field guides (``data-message/docs/sdmx-csv-field-guide.md`` of
sdmx-twg/sdmx-csv, tags ``v1.0`` and ``v2.0.0``): RFC 4180 text, comma separated, CRLF line
ends, a header row, then one row per observation with every component in its own column, in
DSD order (dimensions with the time dimension, the measure, the attributes). Attribute values
attached above the observation are repeated on each row, as the guides ask.

SDMX-CSV 2.0 starts each row with ``STRUCTURE`` (``dataflow``, ``datastructure`` or
``dataprovision``), ``STRUCTURE_ID`` (``AGENCY:ID(VERSION)``) and ``ACTION``: the letter of the
row's data set (I, A, R, D; 2.0 has no Merge, so M, an update that deletes nothing, is written
as its Append). A Delete data set's rows say what was deleted: empty value and attribute cells
delete the whole observation, filled ones only those values (the guide's ``-`` markers).
Several data sets (``updatedAfter``, ``includeHistory``) are consecutive rows under one header;
validity dates have no column in either version.

SDMX-CSV 1.0 starts each row with ``DATAFLOW`` and has no action: it identifies data by
dataflow only, so a datastructure or provision agreement query is refused (NotAcceptable, see
:data:`FORMATS`), and a Delete data set, which 1.0 cannot express, is left out.

Options (Accept header parameters, in :class:`DataMessage`):

- ``labels``: ``id``; ``both`` writes ``ID: Name`` in the header cells of the components (1.0:
  not the measure, always ``OBS_VALUE``) and in the cells of coded components and of the
  structure id; ``name`` (2.0 only) adds ``STRUCTURE_NAME`` and, after each component column, a
  column headed by its name holding the code's name (empty for uncoded values, time periods
  and the measure: the guide's text says so, although two of its examples repeat the period).
  A missing name leaves the id alone (a missing component name heads its name column with the
  id).
- ``timeFormat``: ``original``; ``normalized`` writes each period as the ISO 8601 date it
  starts on (2014-01 -> 2014-01-01, 2014-Q2 -> 2014-04-01, 2014 -> 2014-01-01), date-times
  unchanged and a time range's start. The guide asks for "the most granular representation
  taking into account the highest frequency of the data in the message", which a stream cannot
  know before its first row: a day is the finest reporting period (ILMS data are annual).
- ``keys`` (2.0 only): ``series`` adds ``SERIES_KEY`` (the codes of the dimensions not at
  observation level, dot separated), ``obs`` adds ``OBS_KEY`` (every dimension and the time
  period as sent), ``both`` adds both, in that order, after ``ACTION``.

Options a version does not define (1.0 ``labels=name``, ``keys``) are refused with
NotAcceptable before the first byte.

Rows are flat whatever ``dimensionAtObservation`` says; it only defines what a series is, for
``SERIES_KEY`` and the series-level details. ``AllDimensions`` has no series: there, series
are time series (every dimension but time).

``detail``: ``dataonly`` drops the attribute columns (1.0, whose columns are fixed, leaves
them empty); ``serieskeysonly`` writes one row per series with the series' dimensions only;
``nodata`` adds the attributes attached to the data set or the series. In 2.0 those rows have
only the columns they fill (the guide lets rows for partial keys leave the rest out); in 1.0
every column stays, the others empty.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Final, Literal

from service.errors import NotAcceptable
from service.formats.writers.data_common import (
    DataFormat,
    DataMessage,
    DataSetPart,
    OutRow,
    grouped,
    placement,
    row_value,
    series_dimensions,
)
from service.model import Representation
from service.validation.periods import PeriodError, PeriodKind, parse_period

MEDIA_TYPE_10: Final = "application/vnd.sdmx.data+csv;version=1.0.0"
MEDIA_TYPE_20: Final = "application/vnd.sdmx.data+csv;version=2.0.0"

CsvVersion = Literal["1.0", "2.0"]

_FLUSH: Final = 65536
_EOL: Final = "\n"
#: Distinct attribute cell texts and periods remembered before the caches start afresh.
_CACHE: Final = 4096
STRUCTURE_CELLS: Final = {
    "dataflow": "dataflow",
    "datastructure": "datastructure",
    "provisionagreement": "dataprovision",
}
_ACTIONS_20: Final = {"I": "I", "A": "A", "M": "A", "R": "R", "D": "D"}
#: The months in one period of each reporting period kind that counts in months.
_MONTHS_PER_PERIOD: Final = {
    PeriodKind.YEAR: 12,
    PeriodKind.SEMESTER: 6,
    PeriodKind.TRIMESTER: 4,
    PeriodKind.QUARTER: 3,
}


def cell(text: str) -> str:
    """A field as RFC 4180 writes it: quoted, its quotes doubled, when it holds a comma, a
    quote or a line break; as is otherwise (spaces are part of a field)."""
    if '"' in text or "," in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def normalized_period(period: str) -> str:
    """``timeFormat=normalized``: the ISO 8601 date a period starts on; date-times as they are,
    a time range's start, and anything else (zoned periods, bad text) unchanged."""
    try:
        kind = parse_period(period).kind
    except PeriodError:
        return period
    if kind is PeriodKind.RANGE:
        return period.partition("/")[0]
    if kind is PeriodKind.DATETIME or period.endswith("Z") or ":" in period:
        return period
    year = int(period[:4])
    if kind is PeriodKind.DAY:
        if period[5] != "D":
            return period
        return (dt.date(year, 1, 1) + dt.timedelta(days=int(period[6:]) - 1)).isoformat()
    if kind is PeriodKind.WEEK:
        return dt.date.fromisocalendar(year, int(period[6:]), 1).isoformat()
    if kind is PeriodKind.MONTH:
        month = int(period[5:7]) if period[5].isdigit() else int(period[6:])
    else:
        number = int(period[6:]) if len(period) > 4 else 1
        month = (number - 1) * _MONTHS_PER_PERIOD[kind] + 1
    return f"{year:04d}-{month:02d}-01"


@dataclasses.dataclass(frozen=True, slots=True)
class _Column:
    """A component column: its component, and whether its values are codes."""

    id: str
    coded: bool = False
    #: The time dimension (its periods may be normalised).
    time: bool = False


class _Writer:
    """One message: its header, then the rows of each data set, in chunks of about 64 kB."""

    def __init__(self, message: DataMessage, version: CsvVersion) -> None:
        self.message = message
        self.version = version
        self.names = message.labels == "name"
        self.both = message.labels == "both"
        time = message.time_dimension
        self.view = (
            dataclasses.replace(message, dimension_at_observation=time)
            if message.flat and time is not None
            else message
        )
        self.series_dims = series_dimensions(self.view)
        self.series_key = message.keys in ("series", "both")
        self.obs_key = message.keys in ("obs", "both")
        dsd = message.dsd
        self.dimensions = [_Column(d.id, _coded(d.representation)) for d in dsd.key_dimensions]
        self.time = [_Column(time, time=True)] if time is not None else []
        first = dsd.measures[0].representation if dsd.measures else None
        self.measure = _Column(message.measure, _coded(first))
        self.attributes = [_Column(a.id, _coded(a.representation)) for a in dsd.attributes]
        self.columns = self._columns()
        self.periods: dict[str, str] = {}
        self.tails: dict[tuple[str, ...], str] = {}
        self.parts: list[str] = []
        self.size = 0

    def _columns(self) -> list[_Column]:
        """The component columns, in DSD order (dimensions, time, measure, attributes)."""
        measure = [self.measure] if self.message.measures else []
        every = [*self.dimensions, *self.time, *measure, *self.attributes]
        detail = self.message.detail
        if self.version == "1.0" or detail == "full":
            return every
        if detail == "dataonly":
            return [*self.dimensions, *self.time, *measure]
        keep = set(self.series_dims)
        if detail == "nodata":
            keep |= {a for a, level in placement(self.view).items() if level != "observation"}
        return [c for c in every if c.id in keep]

    # -- cells -------------------------------------------------------------------------------

    def labelled(self, ident: str, name: str | None) -> str:
        """An id and its name as the labels option writes them: one cell, two for ``name``."""
        if self.names:
            return f"{cell(ident)},{cell(name or '')}"
        if self.both and name and ident:
            return cell(f"{ident}: {name}")
        return cell(ident)

    def formatter(self, column: _Column) -> Callable[[str], str]:
        """How a component's values become its cell(s)."""
        if column.coded and (self.names or self.both):
            code_name, component = self.message.code_name, column.id
            return lambda code: self.labelled(code, code_name(component, code) if code else None)
        normalize = column.time and self.message.time_format == "normalized"
        if self.names:
            if normalize:
                return lambda text: f"{cell(normalized_period(text))},"
            return lambda text: f"{cell(text)},"
        if normalize:
            return lambda text: cell(normalized_period(text))
        return cell

    def header(self) -> str:
        if self.version == "1.0":
            fixed = ["DATAFLOW"]
        else:
            fixed = ["STRUCTURE", "STRUCTURE_ID", *["STRUCTURE_NAME"] * self.names, "ACTION"]
            fixed += ["SERIES_KEY"] * self.series_key + ["OBS_KEY"] * self.obs_key
        return ",".join([*fixed, *map(self.header_cell, self.columns)]) + _EOL

    def header_cell(self, column: _Column) -> str:
        if self.version == "1.0" and column is self.measure:
            return "OBS_VALUE"  # 1.0: always, whatever the measure's id
        name = self.message.component_name(column.id)
        return self.labelled(column.id, (name or column.id) if self.names else name)

    def lead(self, action: str) -> str:
        """The cells before the keys and components (no comma after them)."""
        agency, resource_id, version = self.message.ref
        ident = self.labelled(f"{agency}:{resource_id}({version})", self.message.structure_name)
        if self.version == "1.0":
            return ident
        return f"{STRUCTURE_CELLS[self.message.structure]},{ident},{_ACTIONS_20[action]}"

    def series_key_text(self, row: OutRow) -> str:
        return ".".join(row_value(row, d, self.view) for d in self.series_dims)

    def obs_key_text(self, codes: Sequence[str], period: str) -> str:
        return ".".join([*codes, period] if self.time else codes)

    # -- rows --------------------------------------------------------------------------------

    def chunks(self, datasets: Iterable[DataSetPart]) -> Iterator[bytes]:
        self.parts.append(self.header())
        for part in datasets:
            if self.version == "1.0" and part.info.action == "D":
                continue  # 1.0 cannot say that something was deleted
            lead = self.lead(part.info.action)
            if self.message.detail in ("serieskeysonly", "nodata"):
                yield from self.series_rows(lead, part.rows)
            else:
                yield from self.observation_rows(lead, part.rows)
        yield "".join(self.parts).encode()

    def observation_rows(self, lead: str, rows: Iterable[OutRow]) -> Iterator[bytes]:
        """One line per row (the hot loop): the cells of a series' codes, of each period and of
        each distinct set of attribute values are formatted once and reused."""
        parts, size = self.parts, self.size
        dimension_cells = list(map(self.formatter, self.dimensions))
        period_cell = self.period_cell if self.time else _no_period
        measure_cell = self.formatter(self.measure)
        tail_of, fixed_tail = self.tail_function()
        time_in_series = self.message.time_dimension in self.series_dims
        series_head = self.series_key and not time_in_series
        row_head = self.series_key and time_in_series
        obs_key = self.obs_key
        head, okey, body = f"{lead},", "", ""
        last: Sequence[str] | None = None
        for row in rows:
            codes, period, value, attrs = row
            if codes is not last and codes != last:
                last = codes
                body = "".join([f"{f(c)}," for f, c in zip(dimension_cells, codes, strict=True)])
                if series_head:
                    head = f"{lead},{cell(self.series_key_text(row))},"
            if row_head:
                head = f"{lead},{cell(self.series_key_text(row))},"
            if obs_key:
                okey = f"{cell(self.obs_key_text(codes, period))},"
            tail = fixed_tail if tail_of is None else tail_of(attrs)
            line = f"{head}{okey}{body}{period_cell(period)}{measure_cell(value)}{tail}{_EOL}"
            parts.append(line)
            size += len(line)
            if size > _FLUSH:
                yield "".join(parts).encode()
                parts.clear()
                size = 0
        self.size = size

    def period_cell(self, period: str) -> str:
        """The time cell(s) of a period and the comma after them (remembered: periods repeat)."""
        found = self.periods.get(period)
        if found is None:
            if len(self.periods) >= _CACHE:
                self.periods.clear()
            found = self.periods[period] = f"{self.formatter(self.time[0])(period)},"
        return found

    def tail_function(self) -> tuple[Callable[[Mapping[str, str]], str] | None, str]:
        """What follows the measure: a function of the row's attributes, or a fixed text
        (no attribute column, or 1.0 ``dataonly``'s empty cells)."""
        if self.columns[-1] is self.measure:
            return None, ""
        if self.message.detail == "dataonly":
            return None, "," * len(self.attributes)
        ids = [c.id for c in self.attributes]
        empties = [""] * len(ids)
        cells = list(map(self.formatter, self.attributes))
        tails = self.tails

        def tail(attrs: Mapping[str, str]) -> str:
            values = tuple(map(attrs.get, ids, empties))
            found = tails.get(values)
            if found is None:
                if len(tails) >= _CACHE:
                    tails.clear()
                found = tails[values] = "".join(
                    [f",{f(v)}" for f, v in zip(cells, values, strict=True)]
                )
            return found

        return tail, ""

    def series_rows(self, lead: str, rows: Iterable[OutRow]) -> Iterator[bytes]:
        """``serieskeysonly``/``nodata``: one line per series, from its first row."""
        nodata = self.message.detail == "nodata"
        levels = placement(self.view)
        attributes = {a for a, level in levels.items() if nodata and level != "observation"}
        formatters = {c.id: self.formatter(c) for c in self.columns}
        dims = set(self.series_dims)
        for _key, members in grouped(rows, self.view):
            row = members[0]
            values = {d: row_value(row, d, self.view) for d in dims}
            values.update((a, row[3].get(a, "")) for a in attributes)
            keys = [cell(self.series_key_text(row))] * self.series_key + [""] * self.obs_key
            cells = [formatters[c.id](values.get(c.id, "")) for c in self.columns]
            chunk = self.emit(",".join([lead, *keys, *cells]) + _EOL)
            if chunk is not None:
                yield chunk

    def emit(self, line: str) -> bytes | None:
        """Buffers a line; the buffered text once it passes the chunk size."""
        self.parts.append(line)
        self.size += len(line)
        if self.size <= _FLUSH:
            return None
        text = "".join(self.parts)
        self.parts.clear()
        self.size = 0
        return text.encode()


def _coded(representation: Representation | None) -> bool:
    return representation is not None and representation.enumeration is not None


def _no_period(_period: str) -> str:
    return ""


def write_20(message: DataMessage, datasets: Iterable[DataSetPart]) -> Iterator[bytes]:
    """An SDMX-CSV 2.0.0 message."""
    return _Writer(message, "2.0").chunks(datasets)


def write_10(message: DataMessage, datasets: Iterable[DataSetPart]) -> Iterator[bytes]:
    """An SDMX-CSV 1.0.0 message; NotAcceptable, at once, for what 1.0 cannot express."""
    if message.structure != "dataflow":
        raise NotAcceptable(
            f"SDMX-CSV 1.0.0 identifies data by dataflow only (its DATAFLOW column), not by "
            f"{message.structure}: ask for SDMX-CSV 2.0.0 ({MEDIA_TYPE_20})"
        )
    if message.labels == "name":
        raise NotAcceptable("SDMX-CSV 1.0.0 has labels=id and labels=both; name is 2.0.0's")
    if message.keys != "none":
        raise NotAcceptable("SDMX-CSV 1.0.0 has no key columns; keys is an SDMX-CSV 2.0.0 option")
    return _Writer(message, "1.0").chunks(datasets)


FORMATS: Final = (
    DataFormat(
        media_type=MEDIA_TYPE_20,
        extension="csv",
        format_names=("csv", "sdmx-csv", "csvfile", "csv_2_0"),
        # text/csv: plain CSV clients get the current version.
        accept={"application/vnd.sdmx.data+csv": ("2.0.0", "2.0"), "text/csv": ()},
        write=write_20,
    ),
    DataFormat(
        media_type=MEDIA_TYPE_10,
        extension="csv",
        format_names=("csv_1_0", "sdmx-csv_1_0"),
        accept={"application/vnd.sdmx.data+csv": ("1.0.0", "1.0")},
        write=write_10,
        structures=frozenset(("dataflow",)),
    ),
)
