"""SDMX-ML structure-specific data read as Arrow columns, for the columnar upload path.

``sdmx_ml_data.read_rows`` gives a ``DataRow`` (two dicts, a tuple) per observation: for a big
message that costs more than parsing it. Most messages are plain: Series elements whose XML
attributes are the whole key and the series attributes, holding Obs elements whose XML
attributes are TIME_PERIOD, the value and observation attributes. For those, this reader puts
the attribute texts straight into string columns a batch at a time.

It reads the header and the data sets with ``read_rows``'s own code (``_Reader``), and gives
exactly the rows ``read_rows`` gives, as columns. Anything else (generic messages, groups,
``Atts``, a dimension at observation other than the time, observations outside a series, a
series without observations or with TIME_PERIOD, a key dimension on an observation, child
elements of an observation, components the caller did not name, an attribute sent empty, a
data set that gives no row of its own) raises :class:`NotColumnar`, and the caller reads the
message row by row instead, as ``read_rows`` gives it. The XML is parsed
with the same safeguards as ``read_rows`` (``xml_safety``: no DTD, no entities, no network,
bounded depth).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import BinaryIO, Final, cast

import pyarrow as pa
import pyarrow.compute as pc
from lxml import etree
from lxml.etree import _Element

from service.formats.readers.sdmx_ml_data import (
    _ATTR,
    _KEY,
    _PRUNE_EVERY,
    _ROOTS,
    _SKIP,
    _TIME,
    _TYPE,
    _VALUE,
    _items,
    _prune,
    _Reader,
)
from service.formats.readers.xml_safety import MAX_DEPTH, event_batches, too_deep
from service.model.data import ACTION_CODES, DataReadError
from service.model.structures import DataStructure

#: The root elements of structure-specific messages (SDMX-ML 2.1 and 3.0).
STRUCTURE_SPECIFIC_ROOTS: Final = frozenset(
    root for root, (_, generic, _) in _ROOTS.items() if not generic
)
#: Different orders or sets of an observation's XML attributes kept track of in a message.
_MAX_LAYOUTS: Final = 256
#: The reads fed to the parser: the elements of one read are all made before any is read,
#: and smaller reads than ``xml_safety``'s keep fewer of them (measured: a little faster).
_CHUNK_SIZE: Final = 1 << 14
#: Where an observation's XML attribute goes: its time, its value, then the attributes;
#: nowhere for ``xsi:type`` and namespaced ones, which ``read_rows`` ignores there too.
_IGNORED, _TIME_SLOT, _VALUE_SLOT, _FIRST_ATTR_SLOT = -1, 0, 1, 2

_keys = cast("Callable[[_Element], list[str]]", etree._Element.keys)
_values = cast("Callable[[_Element], list[str]]", etree._Element.values)


class NotColumnar(Exception):  # noqa: N818 - a signal, not an error
    """The message has something only ``read_rows`` reads: read it row by row."""


def is_structure_specific(stream: BinaryIO) -> bool:
    """Whether a seekable stream holds an SDMX-ML structure-specific data message (its root
    element says so); the stream is left where it was. False for what cannot be parsed."""
    start = stream.tell()
    try:
        for _, batch in event_batches(stream, exact_lines=False):
            for _, el in batch:
                return el.tag in STRUCTURE_SPECIFIC_ROOTS
    except DataReadError:
        pass
    finally:
        stream.seek(start)
    return False


def read_columns(
    stream: BinaryIO,
    dsd: DataStructure,
    attributes: Sequence[str],
    *,
    batch_rows: int,
) -> Iterator[pa.RecordBatch]:
    """The observations of a structure-specific message as batches of about ``batch_rows``
    rows of string columns: the action letter (``I``, ``A``, ``M``, ``R`` or ``D``), each key
    dimension in the DSD's order, the time, the value, then each of ``attributes``; an absent
    value or attribute is an empty string.

    Raises:
        NotColumnar: the message has something only ``read_rows`` reads (see the module).
        DataReadError: as ``read_rows``: unsafe, malformed or truncated XML, or not SDMX-ML.
    """
    columns = _Columns(dsd, attributes, batch_rows)
    observation = columns.observation
    depth = 0
    for _, batch in event_batches(stream, chunk_size=_CHUNK_SIZE, exact_lines=False):
        for event, el in batch:
            if event == "start":
                depth += 1
                if depth != 4:  # an Obs is read at its end
                    columns.start(el, depth)
            elif depth == 4:
                depth = 3
                if observation(el):
                    yield columns.batch()
            else:
                columns.end(el, depth)
                depth -= 1
    if columns.rows:
        yield columns.batch()


class _Columns:
    """The columns of the batch being read, and where the reader is in the message."""

    def __init__(self, dsd: DataStructure, attributes: Sequence[str], batch_rows: int) -> None:
        self.reader = _Reader(dsd, None)
        self.roles = self.reader.components.roles
        self.dimensions = tuple(d.id for d in dsd.key_dimensions)
        self.attributes = tuple(attributes)
        self.batch_rows = batch_rows
        #: An observation's XML attribute names -> (layout number, the slot of each, the
        #: values of the batch's observations with these names, one after the other).
        self.layouts: dict[tuple[str, ...], tuple[int, tuple[int, ...], list[str]]] = {}
        #: Per series of the batch: the action, the key's codes, then each attribute (or None).
        self.series: list[tuple[str | None, ...]] = []
        #: Per observation of the batch: its series (index in ``series``) and its layout.
        self.owners: list[int] = []
        self.shapes: list[int] = []
        self.in_data = False  # in a data set (else in the header)
        self.rows = 0
        self.series_start = 0  # the row where the current series starts (< 0: a batch ago)

    def start(self, el: _Element, depth: int) -> None:
        """An element other than an Obs starts: in a data set, only a Series may."""
        reader = self.reader
        if depth < 3:
            reader.top_start(el, depth)
            if reader.generic:
                raise NotColumnar("a generic data message")
            self.in_data = reader.dataset is not None
            if self.in_data and reader.obs_dimension != reader.components.time_id:
                raise NotColumnar("a dimension at observation other than the time")
        elif not self.in_data:
            if depth > MAX_DEPTH:
                raise too_deep(el)
        elif depth == 3 and el.tag == "Series":
            self._series_start(el)
        else:
            raise NotColumnar(f"a {el.tag} element at depth {depth}")

    def end(self, el: _Element, depth: int) -> None:
        """An element other than an Obs ends: a Series, or the message's own ones."""
        reader = self.reader
        if depth < 3:
            if reader.top_end(el, depth) is not None:
                raise NotColumnar("a data set that gives a row of its own")
            self.in_data = reader.dataset is not None
        elif depth == 3 and self.in_data:
            if self.rows == self.series_start:
                raise NotColumnar("a series without observations")
            del el[:]
            _prune(el)

    def _series_start(self, el: _Element) -> None:
        dataset = self.reader._dataset_of(el, 3)
        key: dict[str, str] = {}
        attrs = dict(dataset.attrs)
        roles = self.roles
        for name, text in _items(el):
            role = roles[name]
            if role == _KEY:
                key[name] = text
            elif role in (_ATTR, _VALUE):
                attrs[name] = text
            elif role == _TIME:
                raise NotColumnar("a series with a TIME_PERIOD")
        values = [attrs.pop(a, None) for a in self.attributes]
        if len(key) != len(self.dimensions) or attrs or "" in values:
            raise NotColumnar("a partial key, an unknown component or an empty attribute")
        codes = [key[d] for d in self.dimensions]
        self.series.append((ACTION_CODES[self.reader.action], *codes, *values))
        self.series_start = self.rows

    def observation(self, el: _Element) -> bool:
        """An element at depth 4 ends: an Obs of a series, whose XML attributes go into the
        columns (or one of the header's). True when a batch is full."""
        if not self.in_data:
            return False
        if el.tag != "Obs":
            raise NotColumnar(f"a {el.tag} element in a series")
        names = tuple(_keys(el))
        layout = self.layouts.get(names)
        if layout is None:
            layout = self._layout(names)
        layout[2].extend(_values(el))  # one flat list: no container per row for the GC
        self.shapes.append(layout[0])
        self.owners.append(len(self.series) - 1)
        self.rows = rows = self.rows + 1
        if rows % _PRUNE_EVERY == 0:
            _prune(el)
        return rows >= self.batch_rows

    def _layout(self, names: tuple[str, ...]) -> tuple[int, tuple[int, ...], list[str]]:
        """Where each XML attribute of observations with these names goes."""
        slots = []
        for name in names:
            role = self.roles[name]
            if role == _TIME:
                slots.append(_TIME_SLOT)
            elif role == _VALUE:
                slots.append(_VALUE_SLOT)
            elif role == _ATTR and name in self.attributes:
                slots.append(_FIRST_ATTR_SLOT + self.attributes.index(name))
            elif role in (_TYPE, _SKIP):  # (xsi:type names no measure: time at observation)
                slots.append(_IGNORED)
            else:
                raise NotColumnar(f"{name} on an observation")
        if _TIME_SLOT not in slots:
            raise NotColumnar("an observation without a TIME_PERIOD")
        if len(self.layouts) >= _MAX_LAYOUTS:
            raise NotColumnar("observations with too many different sets of attributes")
        layout = self.layouts[names] = (len(self.layouts), tuple(slots), [])
        return layout

    def batch(self) -> pa.RecordBatch:
        """The rows read since the last batch, as columns (see ``read_columns``)."""
        owners = pa.array(self.owners, pa.int32())
        observed = self._observed()
        per_series = [_spread(c, owners) for c in zip(*self.series, strict=True)]
        width = 1 + len(self.dimensions)
        time, value = observed[_TIME_SLOT], observed[_VALUE_SLOT]
        attrs = []
        for sent, inherited in zip(observed[_FIRST_ATTR_SLOT:], per_series[width:], strict=True):
            if bool(pc.any(pc.equal(sent, "")).as_py()):
                raise NotColumnar("an attribute sent empty")
            attrs.append(pc.fill_null(pc.coalesce(sent, inherited), ""))
        columns = [*per_series[:width], time, pc.fill_null(value, ""), *attrs]
        self._restart()
        return pa.RecordBatch.from_arrays(columns, names=[f"c{i}" for i in range(len(columns))])

    def _observed(self) -> list[pa.Array]:
        """The observations' own values, slot by slot in document order (null: not sent)."""
        width = _FIRST_ATTR_SLOT + len(self.attributes)
        parts: list[list[pa.Array]] = []
        for _, slots, cells in self.layouts.values():
            if not cells:
                continue
            step = len(slots)  # (at least one: TIME_PERIOD)
            columns = [pa.nulls(len(cells) // step, pa.string())] * width
            for i, slot in enumerate(slots):
                if slot != _IGNORED:
                    columns[slot] = pa.array(cells[i::step], pa.string())
            parts.append(columns)
        if len(parts) == 1:
            return parts[0]
        # rows were gathered layout by layout, in the layouts' order: the inverse of a
        # stable sort by layout puts them back in document order
        order = pc.sort_indices(pc.sort_indices(pa.array(self.shapes, pa.int32())))
        return [pa.concat_arrays([p[slot] for p in parts]).take(order) for slot in range(width)]

    def _restart(self) -> None:
        """A new batch; the current series, if any, carries on in it."""
        self.series = self.series[-1:]
        self.series_start -= self.rows
        self.owners, self.shapes, self.rows = [], [], 0
        for _, _, cells in self.layouts.values():
            cells.clear()


def _spread(values: tuple[str | None, ...], owners: pa.Array) -> pa.Array:
    """A column of the series (one value each) over their observations (``owners``)."""
    first = values[0]
    if values.count(first) < len(values):
        return pa.array(values, pa.string()).take(owners)
    # the same in every series of the batch: the codes of most dimensions, most attributes
    return pa.nulls(len(owners), pa.string()) if first is None else pa.repeat(first, len(owners))
