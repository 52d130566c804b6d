"""Streaming reader for SDMX-CSV 1.0 and 2.0 data messages (one DataRow per CSV row)."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from operator import itemgetter
from typing import BinaryIO, Final, Literal

from service.formats.readers.data_common import Components, strip_label, structure_ref
from service.model.base import Ref
from service.model.data import Action, DataReadError, DataRow
from service.model.structures import DataStructure

MEDIA_TYPE_10: Final = "application/vnd.sdmx.data+csv;version=1.0.0"
MEDIA_TYPE_20: Final = "application/vnd.sdmx.data+csv;version=2.0.0"
#: The media types this reader accepts (``text/csv``: the version is sniffed from the header).
MEDIA_TYPES: Final = (MEDIA_TYPE_10, MEDIA_TYPE_20, "text/csv")

#: Columns that are neither fixed SDMX-CSV columns nor components, accepted and ignored by
#: default. The spec allows any custom column; these are the ones its examples use (1.0
#: ``SERIESKEY``, 2.0 ``UPDATED``). Any other unknown column is an error, so that a misspelt
#: component id is not silently dropped; pass ``custom_columns`` to accept more.
DEFAULT_CUSTOM_COLUMNS: Final = frozenset({"SERIESKEY", "UPDATED"})

CsvVersion = Literal["1.0", "2.0"]

_BOM: Final = b"\xef\xbb\xbf"
_DECORATION: Final = re.compile(r"\[[^\]]*\]")
#: 2.0 columns with a fixed meaning that repeat what the dimension columns say
#: (``key=series|obs|both``): accepted and ignored.
_IGNORED_FIXED: Final = frozenset({"SERIES_KEY", "OBS_KEY"})
_CHUNK: Final = 1 << 16
#: The longest header row read (a message without line breaks must not fill memory).
_MAX_HEADER: Final = 1 << 20
_ACTIONS: Final[dict[str, Action]] = {"": Action.INFORMATION, **{a.value: a for a in Action}}


def detect(head: bytes) -> CsvVersion | None:
    """The SDMX-CSV version whose header ``head`` (the first bytes of a message) starts, if any."""
    text = head.removeprefix(_BOM).lstrip(b'"')
    if text.startswith(b"STRUCTURE") and text[9:10] not in (b"", b"_") and not text[9:10].isalnum():
        return "2.0"
    if text.startswith(b"DATAFLOW") and text[8:9] not in (b"", b"_") and not text[8:9].isalnum():
        return "1.0"
    return None


def read_rows(
    stream: BinaryIO,
    dsd: DataStructure,
    *,
    custom_columns: Collection[str] = DEFAULT_CUSTOM_COLUMNS,
) -> Iterator[DataRow]:
    """The rows of an SDMX-CSV 1.0 or 2.0 data message, read incrementally from ``stream``.

    One row per CSV record (``location`` "row N", the header being row 1): empty cells are
    absent values, so a record without TIME_PERIOD or OBS_VALUE states something about a
    series or a partial key (``time`` None). Columns are named by ``dsd``'s component ids and
    may come in any order; the fixed columns (1.0 DATAFLOW; 2.0 STRUCTURE, STRUCTURE_ID,
    STRUCTURE_NAME, ACTION, SERIES_KEY, OBS_KEY) are understood, and ``custom_columns`` are
    ignored. The delimiter is the character after DATAFLOW or STRUCTURE[x].

    ``labels=both`` (``ID: Name`` header cells) has ``CODE: Label`` cells stripped to the
    code in dimension, time, structure and coded-attribute columns only: free text keeps its
    ``: ``. ``labels=name`` name columns are skipped. Multi-valued and multilingual cells
    (``X;Y``, ``en:a;fr:b``) are kept as sent. In a message delimited by something other than
    a comma, a decimal comma in OBS_VALUE (``12,4``) is read as a point.

    Rows carry one measure: a column for another measure of ``dsd`` than its first is an
    error. Anything malformed raises :class:`DataReadError`, undecodable bytes at "byte N".
    """
    return _read(stream, Components.of(dsd), frozenset(custom_columns))


def _read(stream: BinaryIO, comps: Components, custom: frozenset[str]) -> Iterator[DataRow]:
    counter = _CountingReader(stream)
    text = io.TextIOWrapper(counter, encoding="utf-8-sig", newline="")
    text._CHUNK_SIZE = _CHUNK  # type: ignore[attr-defined]
    try:
        layout = _Layout.parse(_read_header_line(text, counter), comps, custom)
        records = csv.reader(text, delimiter=layout.delimiter, strict=True)
        yield from _read_records(records, layout, counter)
    finally:
        text.detach()  # leave the caller's stream open


class _CountingReader(io.BufferedIOBase):
    """The caller's stream as TextIOWrapper sees it, counting bytes to locate decoding errors.

    Closing it (TextIOWrapper does, when collected) leaves the caller's stream open.
    """

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self._raw = raw
        self.offset = 0  # bytes handed out before the last chunk
        self.last = 0  # size of the last chunk

    @property
    def name(self) -> object:
        return getattr(self._raw, "name", None)

    def readable(self) -> bool:
        return True

    def read1(self, size: int | None = -1) -> bytes:
        size = -1 if size is None else size
        read1 = getattr(self._raw, "read1", None)
        data: bytes = read1(size) if read1 is not None else self._raw.read(size)
        self.offset += self.last
        self.last = len(data)
        return data

    def read(self, size: int | None = -1) -> bytes:
        return self.read1(size)

    def decode_error(self, exc: UnicodeDecodeError) -> DataReadError:
        """A DataReadError at the byte offset of the undecodable sequence.

        Text is decoded ahead of parsing, so the row is not known: the offset says where.
        """
        pending = len(exc.object) - self.last  # bytes kept from the previous chunk
        offset = self.offset - pending + exc.start
        bad = exc.object[exc.start : exc.end].hex(" ")
        return DataReadError(
            f"invalid UTF-8 (bytes {bad}); SDMX-CSV messages are UTF-8",
            f"byte {offset}",
        )


def _read_header_line(text: io.TextIOWrapper[_CountingReader], counter: _CountingReader) -> str:
    try:
        line = text.readline(_MAX_HEADER)
    except UnicodeDecodeError as exc:
        raise counter.decode_error(exc) from None
    if not line.strip():
        raise DataReadError("empty message: the header row is missing", "row 1")
    if len(line) == _MAX_HEADER and not line.endswith(("\n", "\r")):
        raise DataReadError(f"header row longer than {_MAX_HEADER} characters", "row 1")
    return line


@dataclasses.dataclass(slots=True)
class _Layout:
    """What each column of a message holds, from its header row."""

    version: CsvVersion
    delimiter: str
    sub_separator: str | None
    ncols: int
    #: 2.0: (STRUCTURE, STRUCTURE_ID) columns; 1.0: (-1, DATAFLOW column).
    structure_cols: tuple[int, int] = (-1, 0)
    action_col: int = -1
    time_col: int = -1
    value_col: int = -1
    dims: list[tuple[int, str]] = dataclasses.field(default_factory=list)
    attrs: list[tuple[int, str]] = dataclasses.field(default_factory=list)
    #: ``labels=both``: ``CODE: Label`` cells in these columns are stripped to the code.
    labelled: bool = False
    coded_cols: list[int] = dataclasses.field(default_factory=list)
    multi_coded_cols: list[int] = dataclasses.field(default_factory=list)

    @classmethod
    def parse(cls, line: str, comps: Components, custom: frozenset[str]) -> _Layout:
        version, delimiter, sub = _sniff(line)
        try:
            cells = next(csv.reader([line], delimiter=delimiter, strict=True))
        except csv.Error as exc:
            raise DataReadError(f"malformed header row: {exc}", "row 1") from None
        layout = cls(version=version, delimiter=delimiter, sub_separator=sub, ncols=len(cells))
        first = 1
        if version == "2.0":
            first = layout._fixed_columns(cells)
        layout._component_columns(cells, first, comps, custom)
        return layout

    def _fixed_columns(self, cells: list[str]) -> int:
        """Checks the 2.0 fixed columns; the index of the first column after them."""
        if len(cells) < 2 or cells[1].strip() != "STRUCTURE_ID":
            raise DataReadError("column 2 must be STRUCTURE_ID (SDMX-CSV 2.0)", "row 1")
        self.structure_cols = (0, 1)
        return 3 if len(cells) > 2 and cells[2].strip() == "STRUCTURE_NAME" else 2

    def _component_columns(
        self, cells: list[str], first: int, comps: Components, custom: frozenset[str]
    ) -> None:
        names_follow = self.version == "2.0" and first == 3  # labels=name: a name column each
        seen: dict[str, int] = {}
        skip_next = False
        for col in range(first, len(cells)):
            if skip_next:
                skip_next = False
                continue
            cell = cells[col].strip()
            if self.version == "2.0" and cell == "ACTION" and self.action_col < 0:
                self.action_col = col
            elif self.version == "2.0" and cell in _IGNORED_FIXED:
                pass
            else:
                component = self._component(col, cell, comps, custom)
                if component is not None:
                    if component in seen:
                        raise DataReadError(
                            f"columns {seen[component] + 1} and {col + 1} are both {component!r}",
                            "row 1",
                        )
                    seen[component] = col
                    skip_next = names_follow

    def _component(
        self, col: int, cell: str, comps: Components, custom: frozenset[str]
    ) -> str | None:
        """Records the component a header cell names; None for a custom column."""
        self.labelled = self.labelled or ": " in cell
        decorated = strip_label(cell)
        component = _DECORATION.sub("", decorated).strip()
        kind = comps.kinds.get(component)
        if kind is None and self.version == "1.0" and component == "OBS_VALUE":
            component, kind = comps.primary_measure or component, "measure"
        if kind is None:
            if component in custom or cell in custom:
                return None
            raise DataReadError(
                f"column {col + 1} {cell!r} is not a component of {comps.describe()} nor a "
                f"known custom column ({', '.join(sorted(custom)) or 'none'})",
                "row 1",
            )
        self._assign(col, component, kind, comps, multi="[" in decorated)
        return component

    def _assign(self, col: int, component: str, kind: str, comps: Components, multi: bool) -> None:
        if kind == "measure":
            problem = comps.measure_problem(component)
            if problem is not None:
                raise DataReadError(f"column {col + 1}: {problem}", "row 1")
            self.value_col = col
        elif kind == "time":
            self.time_col = col
            self.coded_cols.append(col)
        elif kind == "dimension":
            self.dims.append((col, component))
            self.coded_cols.append(col)
        else:
            self.attrs.append((col, component))
            if component in comps.coded_attributes:
                (self.multi_coded_cols if multi else self.coded_cols).append(col)

    def dim_pairs(self) -> tuple[tuple[str, int], ...]:
        return tuple((component, col) for col, component in self.dims)

    def attr_pairs(self) -> tuple[tuple[str, int], ...]:
        return tuple((component, col) for col, component in self.attrs)

    def label_fixer(self) -> Callable[[list[str]], None] | None:
        """With ``labels=both``, a function stripping labels off the coded cells of a row."""
        if not self.labelled:
            return None
        single = (*self.coded_cols, self.structure_cols[1])
        multi = tuple(self.multi_coded_cols)
        sub = self.sub_separator or ";"

        def fix(row: list[str]) -> None:
            for col in single:
                row[col] = strip_label(row[col])
            for col in multi:
                row[col] = sub.join(strip_label(v) for v in row[col].split(sub))

        return fix


def _sniff(line: str) -> tuple[CsvVersion, str, str | None]:
    """Version, column delimiter and sub-field separator from the first header cell."""
    text = line.lstrip('"')
    version: CsvVersion
    if text.startswith("STRUCTURE"):
        version, rest = "2.0", text[len("STRUCTURE") :]
    elif text.startswith("DATAFLOW"):
        version, rest = "1.0", text[len("DATAFLOW") :]
    else:
        raise DataReadError(
            "not an SDMX-CSV data message: the first column header must be STRUCTURE "
            "(SDMX-CSV 2.0) or DATAFLOW (SDMX-CSV 1.0)",
            "row 1",
        )
    sub: str | None = None
    if version == "2.0" and rest.startswith("["):
        close = rest.find("]")
        if close < 0:
            raise DataReadError("unclosed '[' in the STRUCTURE header cell", "row 1")
        sub, rest = rest[1:close] or None, rest[close + 1 :]
    rest = rest.removeprefix('"') if line.startswith('"') else rest
    delimiter = rest[:1]
    if not delimiter or delimiter in '\r\n"' or delimiter.isalnum() or delimiter == "_":
        raise DataReadError(
            "no column delimiter after the first header cell (a message needs at least "
            "STRUCTURE and STRUCTURE_ID, or DATAFLOW and a component)",
            "row 1",
        )
    return version, delimiter, sub[:1] if sub else None


def _getter(cols: list[int]) -> Callable[[list[str]], Sequence[str]]:
    """A function returning the cells at ``cols`` of a row (a slice when they are adjacent)."""
    if len(cols) >= 2 and cols == list(range(cols[0], cols[-1] + 1)):
        return itemgetter(slice(cols[0], cols[-1] + 1))
    if len(cols) >= 2:
        return itemgetter(*cols)
    if len(cols) == 1:
        col = cols[0]
        return lambda row: (row[col],)
    return lambda row: ()


class _Structures:
    """Row structure references, parsed once per distinct cell text."""

    def __init__(self, version: CsvVersion) -> None:
        self._version = version
        self._cache: dict[tuple[str, str], Ref] = {}

    def get(self, kind: str, ident: str, row: int) -> Ref:
        ref = self._cache.get((kind, ident))
        if ref is None:
            ref = structure_ref(kind, ident)
            if ref is None:
                raise DataReadError(self._problem(kind, ident), f"row {row}")
            if len(self._cache) > 1000:
                self._cache.clear()
            self._cache[kind, ident] = ref
        return ref

    def _problem(self, kind: str, ident: str) -> str:
        if self._version == "2.0" and kind.strip().lower() not in (
            "dataflow",
            "datastructure",
            "dataprovision",
        ):
            return f"STRUCTURE {kind!r} is not dataflow, datastructure or dataprovision"
        column = "STRUCTURE_ID" if self._version == "2.0" else "DATAFLOW"
        return f"{column} {ident!r} is not AGENCY:ID(VERSION)"


def _action(text: str, row: int) -> Action:
    action = _ACTIONS.get(text)
    if action is not None:
        return action
    try:
        return Action.parse(text)
    except ValueError:
        raise DataReadError(
            f"ACTION {text!r} is not one of I, A, M, R, D (Information, Append, Merge, "
            "Replace, Delete)",
            f"row {row}",
        ) from None


def _decimal_point(value: str) -> str:
    """``12,4`` as ``12.4``: messages with a ``;`` delimiter may use a decimal comma."""
    if value.count(",") != 1 or "." in value:
        return value
    candidate = value.replace(",", ".")
    try:
        float(candidate)
    except ValueError:
        return value
    return candidate


def _read_records(
    records: Iterable[list[str]], layout: _Layout, counter: _CountingReader
) -> Iterator[DataRow]:
    """The hot loop: one DataRow per record, with every per-column decision taken beforehand.

    Consecutive rows of a series repeat their dimension (and often attribute) cells: when a
    row's cells equal the previous row's, its dicts are copies of private templates (a C-level
    copy) instead of being built cell by cell. Every row gets dicts of its own.
    """
    ncols, kind_col, id_col = layout.ncols, *layout.structure_cols
    time_col, value_col, action_col = layout.time_col, layout.value_col, layout.action_col
    dim_pairs, get_dims = layout.dim_pairs(), _getter([col for col, _ in layout.dims])
    attr_pairs, get_attrs = layout.attr_pairs(), _getter([col for col, _ in layout.attrs])
    fix, comma = layout.label_fixer(), layout.delimiter != ","
    structures = _Structures(layout.version)
    last_kind = last_id = last_action = None
    last_dims: Sequence[str] | None = None
    last_attrs: Sequence[str] | None = None
    key_template: dict[str, str] = {}
    attrs_template: dict[str, str] = {}
    structure: Ref | None = None
    action = Action.INFORMATION
    new_row = tuple.__new__  # DataRow(...) without NamedTuple's Python-level __new__
    n = 1
    try:
        for row in records:
            n += 1
            if len(row) != ncols:
                if not row:
                    continue  # a blank line
                raise DataReadError(
                    f"expected {ncols} cells as in the header row, found {len(row)}", f"row {n}"
                )
            if fix is not None:
                fix(row)
            kind = row[kind_col] if kind_col >= 0 else "dataflow"
            if row[id_col] != last_id or kind != last_kind:
                last_kind, last_id = kind, row[id_col]
                structure = structures.get(kind, last_id, n)
            if action_col >= 0 and row[action_col] != last_action:
                last_action = row[action_col]
                action = _action(last_action, n)
            cells = get_dims(row)
            if cells != last_dims:
                last_dims, key_template = cells, {k: v for k, col in dim_pairs if (v := row[col])}
            cells = get_attrs(row)
            if cells != last_attrs:
                last_attrs = cells
                attrs_template = {k: v for k, col in attr_pairs if (v := row[col])}
            time = row[time_col] or None if time_col >= 0 else None
            value = row[value_col] or None if value_col >= 0 else None
            if comma and value and "," in value:
                value = _decimal_point(value)
            yield new_row(
                DataRow,
                (
                    key_template.copy(),
                    time,
                    value,
                    attrs_template.copy(),
                    action,
                    f"row {n}",
                    structure,
                ),
            )
    except csv.Error as exc:
        raise DataReadError(f"malformed CSV: {exc}", f"row {n + 1}") from None
    except UnicodeDecodeError as exc:
        raise counter.decode_error(exc) from None
