"""What every data message writer is given: the message (structure, options) and its data sets.

A data query produces one or more data sets (``updatedAfter``: the changed observations and a
Delete data set for the deleted ones; ``includeHistory``: one data set per version, each with
its validity), each a stream of :data:`OutRow` ordered so that rows of one series (as
``dimension_at_observation`` defines a series) are consecutive. Writers never hold more than
one series in memory; they place each attribute value at its DSD attachment level as the
format allows (:func:`placement`).

A writer is a function ``write(message: DataMessage, datasets: Iterable[DataSetPart]) ->
Iterator[bytes]`` yielding chunks of about 64 kB, and each writer module exposes a tuple
``FORMATS`` of the :class:`DataFormat` it writes; :mod:`service.formats.writers.data_formats`
lists them for negotiation.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal, cast

from service.model import DataStructure

#: One observation: the codes of the key dimensions in DSD order, the TIME_PERIOD value (""
#: when the DSD has no time dimension), the measure as text ("" when missing), and every
#: attribute value that applies to it by attribute id, whatever its attachment level (series-
#: and data-set-level values are repeated on each row; writers place them).
OutRow = tuple[Sequence[str], str, str, Mapping[str, str]]

Detail = Literal["full", "dataonly", "serieskeysonly", "nodata"]
Labels = Literal["id", "name", "both"]
TimeFormat = Literal["original", "normalized"]
CsvKeys = Literal["none", "obs", "series", "both"]
Structure = Literal["dataflow", "datastructure", "provisionagreement"]
Level = Literal["dataset", "series", "observation"]

ALL_DIMENSIONS: Final = "AllDimensions"
#: The SDMX structure classes of the ``structure`` values, as used in URNs and Refs.
STRUCTURE_CLASSES: Final = {
    "dataflow": "Dataflow",
    "datastructure": "DataStructure",
    "provisionagreement": "ProvisionAgreement",
}


@dataclass(frozen=True)
class DataMessage:
    """Everything a writer needs besides the rows."""

    #: What the data are for: dataflow, datastructure or provisionagreement, and its
    #: (agency, id, version).
    structure: Structure
    ref: tuple[str, str, str]
    dsd: DataStructure
    #: The dimension presented at observation level: the time dimension's id (the default),
    #: another dimension's id, or ALL_DIMENSIONS (a flat list of observations).
    dimension_at_observation: str
    detail: Detail = "full"
    #: Whether the measure is presented at all (v2 ``measures=none``: no measure column, no
    #: measure in SDMX-JSON; SDMX-ML leaves empty values out anyway).
    measures: bool = True
    #: When the message was prepared (the header's Prepared).
    prepared: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    #: The message id (the header's ID).
    message_id: str = "IREF000000"
    sender: str = "ILO"
    #: Language of names (labels, SDMX-JSON ``name``): the negotiated Accept-Language.
    language: str = "en"
    #: The name of a component (dimension, attribute, measure) in ``language``, None if unknown.
    component_name: Callable[[str], str | None] = lambda _component: None
    #: The name of a code of a coded component in ``language``, None if unknown.
    code_name: Callable[[str, str], str | None] = lambda _component, _code: None
    #: The name of the dataflow, data structure or provision agreement in ``language``, None
    #: if unknown (SDMX-CSV ``labels=both|name`` writes it after the structure's id).
    structure_name: str | None = None
    #: SDMX-CSV only.
    labels: Labels = "id"
    time_format: TimeFormat = "original"
    keys: CsvKeys = "none"

    @property
    def key_dimensions(self) -> tuple[str, ...]:
        return tuple(d.id for d in self.dsd.key_dimensions)

    @property
    def time_dimension(self) -> str | None:
        time = self.dsd.time_dimension
        return time.id if time is not None else None

    @property
    def measure(self) -> str:
        return self.dsd.measures[0].id if self.dsd.measures else "OBS_VALUE"

    @property
    def flat(self) -> bool:
        """AllDimensions: observations are not grouped in series."""
        return self.dimension_at_observation == ALL_DIMENSIONS


@dataclass(frozen=True)
class DataSetInfo:
    """One data set of the message: its action and, for history, its validity."""

    #: I (Information; 2.1 "Replace" when asked), A, M, R or D (Delete: the rows are what was
    #: deleted; their values and attributes are empty unless only those were deleted).
    action: str = "I"
    valid_from: dt.datetime | None = None
    valid_to: dt.datetime | None = None


@dataclass(frozen=True)
class DataSetPart:
    info: DataSetInfo
    rows: Iterable[OutRow]


@dataclass(frozen=True)
class DataFormat:
    """A data message format: how it is negotiated and the writer that produces it."""

    #: The media type answered (Content-Type), with its version parameter.
    media_type: str
    #: File extension for Content-Disposition.
    extension: str
    #: ``format=`` values (lower case) naming it.
    format_names: tuple[str, ...]
    #: Accept media ranges without parameters that name it, each with the ``version=`` values
    #: that select it (an empty tuple: any version, or none).
    accept: Mapping[str, tuple[str, ...]]
    write: Callable[[DataMessage, Iterable[DataSetPart]], Iterator[bytes]]
    #: The format presents only the time dimension at observation level (SDMX-ML 2.1
    #: GenericTimeSeriesData and StructureSpecificTimeSeriesData): callers must refuse
    #: another ``dimensionAtObservation`` before the first byte (``write`` raises
    #: NotAcceptable for it).
    time_series_only: bool = False
    #: The structure contexts the format can identify data by: SDMX-CSV 1.0 has only a
    #: DATAFLOW column, so it cannot answer a datastructure or provisionagreement query (its
    #: writer raises NotAcceptable; the caller should check first).
    structures: frozenset[Structure] = frozenset(
        ("dataflow", "datastructure", "provisionagreement")
    )


#: SDMX 2.1 has Information, Append (add, never overwrite), Replace (update and add) and Delete:
#: our insert-or-update actions are closest to its Replace.
ACTION_NAMES_21: Final = {
    "I": "Information",
    "A": "Replace",
    "M": "Replace",
    "R": "Replace",
    "D": "Delete",
}
ACTION_NAMES_30: Final = {
    "I": "Information",
    "A": "Append",
    "M": "Merge",
    "R": "Replace",
    "D": "Delete",
}


def placement(message: DataMessage) -> dict[str, Level]:
    """Where each attribute of the DSD is written for this message's dimension at observation.

    - ``dataset``: attached to the data set (2.1 None / 3.0 Dataflow relationship);
    - ``series``: attached to dimensions (or a group) that do not include the dimension at
      observation, when observations are grouped in series: the attribute is constant within a
      series (with another dimension at observation, TIME_PERIOD is part of the series key);
    - ``observation``: everything else (observation level, or attached to the observation
      dimension; every non-dataset attribute when AllDimensions).
    """
    dsd = message.dsd
    groups = {g.id: g.dimensions for g in dsd.groups}
    at_obs = {message.dimension_at_observation}
    found: dict[str, Level] = {}
    for attribute in dsd.attributes:
        rel = attribute.relationship
        if rel.level == "dataset":
            found[attribute.id] = "dataset"
            continue
        dims: Sequence[str] = rel.dimensions
        if rel.level == "group" and rel.group:
            dims = groups.get(rel.group, ())
        if rel.level == "observation" or message.flat or not dims or at_obs & set(dims):
            found[attribute.id] = "observation"
        else:
            found[attribute.id] = "series"
    return found


def attribute_dimensions(dsd: DataStructure, attribute_id: str) -> tuple[str, ...]:
    """The dimensions an attribute is attached to, a group attachment resolved to the group's
    dimensions; empty for data set and observation attributes."""
    attribute = next(a for a in dsd.attributes if a.id == attribute_id)
    rel = attribute.relationship
    if rel.level == "group" and rel.group:
        return next((g.dimensions for g in dsd.groups if g.id == rel.group), ())
    return rel.dimensions if rel.level == "dimensions" else ()


def series_dimensions(message: DataMessage) -> tuple[str, ...]:
    """The dimensions that identify a series: every dimension (time included) except the one
    at observation level; empty when AllDimensions."""
    if message.flat:
        return ()
    every = (*message.key_dimensions, *([message.time_dimension] if message.time_dimension else []))
    return tuple(d for d in every if d != message.dimension_at_observation)


def row_value(row: OutRow, dimension: str, message: DataMessage) -> str:
    """The value of a dimension (time included) in a row."""
    if dimension == message.time_dimension:
        return row[1]
    return row[0][message.key_dimensions.index(dimension)]


def grouped(
    rows: Iterable[OutRow], message: DataMessage
) -> Iterator[tuple[tuple[str, ...], list[OutRow]]]:
    """Consecutive rows of one series, with the series' dimension values (in
    :func:`series_dimensions` order). One series in memory at a time; AllDimensions yields
    the rows in batches with an empty key."""
    if message.flat:
        batch: list[OutRow] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= 1000:
                yield (), batch
                batch = []
        if batch:
            yield (), batch
        return
    dims = series_dimensions(message)
    keys = message.key_dimensions
    time = message.time_dimension
    positions = [(-1 if d == time else keys.index(d)) for d in dims]
    # The rows of one series usually share their codes' list: then, unless the period is part
    # of the series key, the key is the same.
    by_codes = -1 not in positions
    current: tuple[str, ...] | None = None
    last: Sequence[str] | None = None
    members: list[OutRow] = []
    for row in rows:
        codes = row[0]
        if by_codes and codes is last:
            members.append(row)
            continue
        last = codes
        key = tuple([row[1] if p < 0 else codes[p] for p in positions])
        if key != current:
            if current is not None:
                yield current, members
            current, members = key, []
        members.append(row)
    if current is not None:
        yield current, members


def time_series_message(
    structure: str, ref: tuple[str, str, str], dsd: DataStructure
) -> DataMessage:
    """The message of the former writer interface ``write_data(structure, ref, dsd, rows)``:
    the time dimension at observation level, a fresh message id, every other option default.

    Raises:
        ValueError: for a structure kind that is not dataflow, datastructure or
            provisionagreement.
    """
    if structure not in STRUCTURE_CLASSES:
        raise ValueError(f"unknown structure kind {structure!r}")
    time = dsd.time_dimension
    return DataMessage(
        structure=cast(Structure, structure),
        ref=ref,
        dsd=dsd,
        dimension_at_observation=time.id if time is not None else ALL_DIMENSIONS,
        message_id=f"IREF{uuid.uuid4().hex}",
    )
