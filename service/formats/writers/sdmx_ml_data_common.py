"""What the SDMX-ML data message writers share: layout, escaping, header parts and streaming.

Every SDMX-ML data message (2.1 GenericData, GenericTimeSeriesData, StructureSpecificData,
StructureSpecificTimeSeriesData; 3.0 StructureSpecificData) presents a data set either as
series (every dimension but the *dimension at observation* keys a series, whose observations
are keyed by that one dimension) or, with ``AllDimensions``, as a flat list of fully keyed
observations. Attribute values sit on the data set, the series or the observation as
:func:`~service.formats.writers.data_common.placement` says.

The writers format text rather than build elements: a data message is millions of tiny
elements, and string formatting with :func:`escape` is several times faster than lxml's
``xmlfile``. Each series is formatted whole (it is in memory anyway) and the text handed out in
chunks of about 64 kB.

``detail``: *full* writes everything; *dataonly* no attribute; *serieskeysonly* the series
keys alone (no observation, no attribute); *nodata* the series with their data set and series
attributes, no observation. Series keys exist only when observations are grouped, so with
``AllDimensions`` the last two present the series with the time dimension at observation level
(the header says so): a flat observation without its time period would break the data structure
specific schemas, which require every dimension on an un-grouped observation.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import chain
from typing import ClassVar, Final

from service.errors import NotAcceptable
from service.formats.writers.data_common import (
    STRUCTURE_CLASSES,
    DataMessage,
    DataSetInfo,
    DataSetPart,
    Level,
    OutRow,
    grouped,
    placement,
    series_dimensions,
)
from service.formats.xml_common import format_datetime
from service.model.urn import urn

XSI: Final = "http://www.w3.org/2001/XMLSchema-instance"
XML_DECLARATION: Final = '<?xml version="1.0" encoding="UTF-8"?>\n'
#: A chunk is handed out once this many characters are waiting.
FLUSH: Final = 65536
#: How many distinct values an :class:`Escaped` remembers before it starts afresh.
_REMEMBERED: Final = 8192

#: What cannot go as is between double quotes: markup, white space other than the space
#: (attribute value normalisation would turn it into spaces) and what XML 1.0 cannot carry
#: (control characters, lone surrogates, U+FFFE, U+FFFF).
_SPECIAL: Final = re.compile('[&<>"\t\n\r]|[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]')
_REFERENCES: Final = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "\t": "&#9;",
    "\n": "&#10;",
    "\r": "&#13;",
}


def _reference(match: re.Match[str]) -> str:
    return _REFERENCES.get(match.group(), "\ufffd")


def escape(text: str) -> str:
    """``text`` as an attribute value between double quotes, or as element content.

    Markup characters and tab, line feed and carriage return become references (so they
    survive attribute value normalisation); characters XML 1.0 cannot carry become U+FFFD.
    """
    if _SPECIAL.search(text) is None:
        return text
    return _SPECIAL.sub(_reference, text)


class Escaped(dict[str, str]):
    """:func:`escape` with a memory (``escaped[text]``), for values that repeat: codes,
    periods, attribute values. It forgets everything when it holds too many."""

    def __missing__(self, text: str) -> str:
        if len(self) >= _REMEMBERED:
            self.clear()
        value = self[text] = escape(text)
        return value


@dataclasses.dataclass(frozen=True, slots=True)
class Layout:
    """Where each component goes in one message, for its detail and dimension at observation."""

    #: The message, with the dimension at observation the writer presents.
    message: DataMessage
    #: The dimensions of a series key, in :func:`series_dimensions` order; empty when flat.
    series_dims: tuple[str, ...]
    #: The dimensions on an observation, each with its place in a row's codes (-1: the time
    #: period): the dimension at observation, or every dimension when flat.
    obs_dims: tuple[tuple[str, int], ...]
    #: The attributes written on the data set, the series and the observations.
    dataset_attrs: tuple[str, ...]
    series_attrs: tuple[str, ...]
    obs_attrs: tuple[str, ...]
    #: Whether observations carry their measure (detail full or dataonly). Grouped
    #: observations are written only then; flat ones are always (they are the keys).
    values: bool


#: The attribute levels each detail keeps.
_KEPT: Final[Mapping[str, frozenset[Level]]] = {
    "full": frozenset({"dataset", "series", "observation"}),
    "dataonly": frozenset(),
    "serieskeysonly": frozenset(),
    "nodata": frozenset({"dataset", "series"}),
}


def layout(message: DataMessage) -> Layout:
    """The layout of ``message``: see the module docstring for the detail levels."""
    time = message.time_dimension
    if message.flat and message.detail in ("serieskeysonly", "nodata") and time is not None:
        message = dataclasses.replace(message, dimension_at_observation=time)
    keys = message.key_dimensions
    if message.flat:
        obs_dims = [(d, i) for i, d in enumerate(keys)] + ([(time, -1)] if time else [])
    else:
        dim = message.dimension_at_observation
        obs_dims = [(dim, -1 if dim == time else keys.index(dim))]
    kept = _KEPT[message.detail]
    places = {a: level for a, level in placement(message).items() if level in kept}
    return Layout(
        message=message,
        series_dims=series_dimensions(message),
        obs_dims=tuple(obs_dims),
        dataset_attrs=tuple(a for a, level in places.items() if level == "dataset"),
        series_attrs=tuple(a for a, level in places.items() if level == "series"),
        obs_attrs=tuple(a for a, level in places.items() if level == "observation"),
        values=message.detail in ("full", "dataonly"),
    )


def first_values(rows: Sequence[OutRow], names: Sequence[str]) -> list[tuple[str, str]]:
    """Each attribute of ``names`` with its first non-empty value in ``rows``, if any."""
    found = []
    for name in names:
        value = next((v for row in rows if (v := row[3].get(name))), None)
        if value is not None:
            found.append((name, value))
    return found


def require_time_at_observation(message: DataMessage, label: str) -> None:
    """Refuse a message a time series format (``label``) cannot present.

    Raises:
        NotAcceptable: when the dimension at observation is not the time dimension.
    """
    dim = message.dimension_at_observation
    if message.time_dimension is None or dim != message.time_dimension:
        raise NotAcceptable(
            f"{label} presents only the time dimension at observation level, not {dim}"
        )


# -- header ------------------------------------------------------------------------------------

_NOT_ID: Final = re.compile(r"[^A-Za-z0-9_.-]")


def structure_id(message: DataMessage) -> str:
    """The message-local id (``xs:ID``) by which data sets name their structure."""
    agency, resource_id, version = message.ref
    text = _NOT_ID.sub("_", f"{agency}_{resource_id}_{version.replace('.', '_')}")
    return text if text[0].isalpha() or text[0] == "_" else f"_{text}"


def structure_urn(message: DataMessage) -> str:
    """The URN of the dataflow, data structure or provision agreement the data are for."""
    return urn(STRUCTURE_CLASSES[message.structure], *message.ref)


def structure_namespace(message: DataMessage) -> str:
    """The namespace of the structure specific schema: the structure's URN and the dimension
    at observation (SDMX-ML 2.1 Part 3B, 3.0 likewise)."""
    return f"{structure_urn(message)}:ObsLevelDim:{message.dimension_at_observation}"


def header_start(message: DataMessage) -> str:
    """``message:Header`` up to its ``Structure``: ID, Test, Prepared and Sender."""
    return (
        "<message:Header>\n"
        f"<message:ID>{escape(message.message_id)}</message:ID>\n"
        "<message:Test>false</message:Test>\n"
        f"<message:Prepared>{format_datetime(message.prepared)}</message:Prepared>\n"
        f'<message:Sender id="{escape(message.sender)}"/>\n'
    )


def validity(info: DataSetInfo, prefix: str) -> str:
    """The data set's ``validFromDate``/``validToDate`` XML attributes, if set."""
    text = ""
    if info.valid_from is not None:
        text += f' {prefix}validFromDate="{format_datetime(info.valid_from)}"'
    if info.valid_to is not None:
        text += f' {prefix}validToDate="{format_datetime(info.valid_to)}"'
    return text


# -- streaming ---------------------------------------------------------------------------------


class SdmxMlDataWriter:
    """One SDMX-ML data message being written. A format's writer spells its elements."""

    #: How the format is named in errors.
    label: ClassVar[str]
    #: Whether the format presents only the time dimension at observation level.
    time_series_only: ClassVar[bool] = False

    def __init__(self, message: DataMessage) -> None:
        if self.time_series_only:
            require_time_at_observation(message, self.label)
        self.layout = layout(message)
        self.message = self.layout.message
        self.structure_id = structure_id(self.message)
        self.esc = Escaped()

    def head(self) -> str:
        """The XML declaration, the root's start tag and the header."""
        raise NotImplementedError

    def dataset_start(self, info: DataSetInfo, first: OutRow | None) -> str:
        """A data set's start tag and data set level attributes (from its ``first`` row)."""
        raise NotImplementedError

    def series(self, key: tuple[str, ...], rows: Sequence[OutRow]) -> str:
        """One series: its key, attributes and (with values) observations."""
        raise NotImplementedError

    def flat(self, rows: Sequence[OutRow]) -> str:
        """Un-grouped observations (``AllDimensions``)."""
        raise NotImplementedError

    def dataset_end(self) -> str:
        return "</message:DataSet>\n"

    def tail(self) -> str:
        """The root's end tag."""
        raise NotImplementedError

    def chunks(self, datasets: Iterable[DataSetPart]) -> Iterator[bytes]:
        """The message as UTF-8 chunks of about 64 kB, one series in memory at a time."""
        parts = [self.head()]
        size = 0
        flat = self.message.flat
        for part in datasets:
            rows = iter(part.rows)
            first = next(rows, None)
            parts.append(self.dataset_start(part.info, first))
            if first is None:
                parts.append(self.dataset_end())
                continue
            for key, members in grouped(chain((first,), rows), self.message):
                text = self.flat(members) if flat else self.series(key, members)
                parts.append(text)
                size += len(text)
                if size > FLUSH:
                    yield "".join(parts).encode()
                    parts.clear()
                    size = 0
            parts.append(self.dataset_end())
        parts.append(self.tail())
        yield "".join(parts).encode()
