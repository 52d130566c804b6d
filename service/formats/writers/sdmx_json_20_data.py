"""Module for writing SDMX-JSON 2.0.0 data messages, streamed series by series.

The layout follows the SDMX-JSON 2.0.0 data field guide (``data-message/docs`` of
sdmx-twg/sdmx-json, tag ``v2.0.0``); :class:`JsonDataWriter` is the streaming engine the 1.0.0
writer (:mod:`service.formats.writers.sdmx_json_10_data`) shares.

Data sets first, the structure last. A series key, an observation key and a coded attribute
value are indexes into the structure's ``values``, numbered in order of first use as the rows
stream by, so the structure can only be written once every row is out; SDMX-JSON objects are
unordered (the service's own reader, which streams, reads the structure part first). Memory
holds the distinct dimension values and indexed attribute values, and one series.

- Series are what ``dimensionAtObservation`` makes them: ``dimensions.series`` lists the
  other dimensions (the time dimension among them when another one is at observation level),
  ``dimensions.observation`` the one at observation level; ``AllDimensions`` writes a flat
  ``observations`` object per data set keyed by every dimension, in DSD order.
- Attributes are presented where :func:`~service.formats.writers.data_common.placement`
  puts them: the data set's ``attributes`` (taken from its first row: data set values repeat
  on every row), each series' ``attributes`` (from its first row), or the observation arrays
  after the measure. 2.0 writes the values of uncoded attributes presented at observation
  level directly into the observations (the guide allows it), so that notes and bounds that
  differ per observation never pile up in memory; every other attribute value is an index.
  An attribute takes its position in its level's arrays at its first value, and the
  structure lists each level's attributes in that order, those never given last: a stream
  cannot leave out attributes without values beforehand, and 1.0 readers (sdmx1, OECD's
  messages) count positions without them. Trailing attributes an array does not have are
  left out of it; a data set or series without any has no ``attributes``.
- The measure value is a JSON number when its text is one, a string otherwise, null when
  missing. A Delete data set writes an observation whose value and attributes are all gone
  as ``[]``, as the guide's ``exr-action-delete`` sample does.
- ``detail``: ``dataonly`` presents no attribute; ``serieskeysonly`` writes each series as an
  empty object, ``nodata`` with its attributes (data set and series ones only), neither with
  observations (with ``AllDimensions``, series are time series). A dimension without any value
  (nothing presented at its level) is left out of the structure: 2.0 requires values.
- Each data set carries its ``action`` (2.0 has Information, Append, Replace and Delete; a
  Merge is an Append, which deletes nothing), the link to the structure, and ``validFrom``/
  ``validTo`` when it has them (history). Names are in ``message.language``: ``name`` and a
  one-language ``names``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, Final

import msgspec

from service.formats.base import Header
from service.formats.writers.data_common import (
    STRUCTURE_CLASSES,
    DataFormat,
    DataMessage,
    DataSetInfo,
    DataSetPart,
    OutRow,
    attribute_dimensions,
    grouped,
    placement,
    row_value,
    series_dimensions,
    time_series_message,
)
from service.formats.writers.json_common import JsonObj, meta, rfc3339
from service.model import Attribute, DataStructure
from service.model.urn import urn

MEDIA_TYPE: Final = "application/vnd.sdmx.data+json;version=2.0.0"
JSON_SCHEMA_20: Final = (
    "https://raw.githubusercontent.com/sdmx-twg/sdmx-json/master/data-message/tools/schemas/"
    "2.0.0/sdmx-json-data-schema.json"
)
#: SDMX-JSON data set actions (both versions; neither has Merge).
ACTIONS: Final = {"I": "Information", "A": "Append", "M": "Append", "R": "Replace", "D": "Delete"}
#: What a component value ``id`` may hold (both schemas).
ID_VALUE: Final = re.compile(r"[A-Za-z0-9_@$-]+")

_FLUSH: Final = 65536
#: Distinct sets of observation attribute values remembered before starting afresh.
_CACHE: Final = 4096
_NUMBER: Final = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_encode = msgspec.json.encode


def json_text(value: object) -> str:
    return _encode(value).decode()


def measure_value(text: str) -> str:
    """A measure value as JSON: a number when the text is one, else a string; null if empty."""
    if not text:
        return "null"
    return text if _NUMBER.fullmatch(text) else json_text(text)


class JsonDataWriter:
    """One SDMX-JSON data message; subclasses say how their version spells the structure."""

    #: ``meta.schema``.
    schema_url: ClassVar[str]
    #: Whether the version can leave the measure out (``DataMessage.measures``).
    measure_optional: ClassVar[bool] = False
    #: The ``data`` member holding the structure (2.0 ``structures``, 1.0 ``structure``).
    structure_key: ClassVar[str]
    #: Whether uncoded observation-level attribute values are written into the observations.
    inline_values: ClassVar[bool]
    #: Whether a component may list no values (1.0) or must then be left out (2.0).
    empty_values: ClassVar[bool] = False
    #: Whether a code's value object has ``names`` besides ``name`` (sdmx1, which reads 1.0,
    #: refuses them on attribute values).
    value_names: ClassVar[bool] = True

    def __init__(self, message: DataMessage) -> None:
        self.message = message
        time = message.time_dimension
        self.series_only = message.detail in ("serieskeysonly", "nodata")
        # Series-only details need series: AllDimensions presents time series then.
        flat = message.flat and not (self.series_only and time is not None)
        self.view = message if not message.flat or flat else _time_at_observation(message)
        self.flat = flat
        self.series_dims = series_dimensions(self.view)
        every = (*message.key_dimensions, *([time] if time is not None else []))
        if self.series_only:
            self.obs_dims: tuple[str, ...] = ()
        else:
            self.obs_dims = every if flat else (self.view.dimension_at_observation,)
        self.positions = {d: n for n, d in enumerate(every)}
        self.values: dict[str, dict[str, int]] = {d: {} for d in every}
        self.attributes = self._presented()
        self.coded = {a.id for a in message.dsd.attributes if _coded(a)}
        obs_attrs = self.attributes["observation"]
        self.inline = {a for a in obs_attrs if self.inline_values and a not in self.coded}
        self.attr_values: dict[str, dict[str, int]] = {a.id: {} for a in message.dsd.attributes}
        # An attribute's position in its level's arrays, given at its first value.
        self.slots: dict[str, dict[str, int]] = {level: {} for level in self.attributes}
        self.obs_presented = frozenset(obs_attrs)
        self.tails: dict[tuple[tuple[str, str], ...], str] = {}
        self.datasets = 0
        self.parts: list[str] = []
        self.size = 0

    def _presented(self) -> dict[str, list[str]]:
        """The attributes presented at each level, in DSD order, as ``detail`` allows."""
        levels: dict[str, list[str]] = {"dataset": [], "series": [], "observation": []}
        detail = self.message.detail
        if detail in ("dataonly", "serieskeysonly"):
            return levels
        for attribute, level in placement(self.view).items():
            if detail == "full" or level != "observation":
                levels[level].append(attribute)
        return levels

    # -- data sets ---------------------------------------------------------------------------

    def chunks(self, datasets: Iterable[DataSetPart]) -> Iterator[bytes]:
        message = self.message
        header = Header(id=message.message_id, prepared=message.prepared, sender=message.sender)
        head = {"meta": meta(header, self.schema_url, [self.language])}
        self.parts.append(json_text(head)[:-1] + ',"data":{"dataSets":[')
        for part in datasets:
            if self.datasets:
                self.parts.append(",")
            yield from self.dataset(part)
            self.datasets += 1
        structure = json_text(self.structure_part(self.structure()))
        self.parts.append(f'],"{self.structure_key}":{structure}}}}}\n')
        yield "".join(self.parts).encode()

    def flush(self) -> bytes | None:
        """The buffered text, once it passes the chunk size."""
        if self.size <= _FLUSH:
            return None
        text = "".join(self.parts)
        self.parts.clear()
        self.size = 0
        return text.encode()

    def dataset(self, part: DataSetPart) -> Iterator[bytes]:
        rows = iter(part.rows)
        first = next(rows, None)
        info = part.info
        obj = self.dataset_object()
        obj["action"] = ACTIONS[info.action]
        obj["links"] = [self.link()]
        if info.valid_from is not None:
            obj["validFrom"] = rfc3339(info.valid_from)
        if info.valid_to is not None:
            obj["validTo"] = rfc3339(info.valid_to)
        indexes = self.indexes("dataset", first[3] if first is not None else {})
        if indexes:
            obj["attributes"] = indexes
        member = "observations" if self.flat else "series"
        self.parts.append(f'{json_text(obj)[:-1]},"{member}":{{')
        if first is not None:
            delete = info.action == "D"
            rows = _chain(first, rows)
            yield from self.flat_rows(rows, delete) if self.flat else self.series(rows, delete)
        self.parts.append("}}")

    def series(self, rows: Iterable[OutRow], delete: bool) -> Iterator[bytes]:
        """Each series, its attributes and (unless series-only) its observations."""
        values = [self.values[d] for d in self.series_dims]
        comma = ""
        for key, members in grouped(rows, self.view):
            skey = ":".join([str(_index(seen, v)) for seen, v in zip(values, key, strict=True)])
            inner = []
            indexes = self.indexes("series", members[0][3])
            if indexes:
                inner.append(f'"attributes":{json_text(indexes)}')
            if not self.series_only:
                inner.append(f'"observations":{{{self.observations(members, delete)}}}')
            text = f'{comma}"{skey}":{{{",".join(inner)}}}'
            comma = ","
            self.parts.append(text)
            self.size += len(text)
            chunk = self.flush()
            if chunk is not None:
                yield chunk

    def observations(self, members: list[OutRow], delete: bool) -> str:
        """The observations of one series, keyed by their value's index at observation level."""
        dim = self.view.dimension_at_observation
        seen = self.values[dim]
        observation = self.observation_writer()
        if dim == self.message.time_dimension:
            return ",".join(
                [
                    f'"{_index(seen, period)}":{observation(value, attrs, delete)}'
                    for _codes, period, value, attrs in members
                ]
            )
        return ",".join(
            [
                f'"{_index(seen, row_value(row, dim, self.view))}":'
                f"{observation(row[2], row[3], delete)}"
                for row in members
            ]
        )

    def flat_rows(self, rows: Iterable[OutRow], delete: bool) -> Iterator[bytes]:
        """AllDimensions: observations keyed by the index of every dimension's value (the
        key dimensions' part is built once per series)."""
        keys = [self.values[d] for d in self.message.key_dimensions]
        time = self.message.time_dimension
        periods = self.values[time] if time is not None else None
        observation = self.observation_writer()
        comma = prefix = ""
        last: Sequence[str] | None = None
        for codes, period, value, attrs in rows:
            if codes is not last and codes != last:
                last = codes
                prefix = ":".join([str(_index(s, c)) for s, c in zip(keys, codes, strict=True)])
                if periods is not None:
                    prefix = f"{prefix}:" if prefix else ""
            key = prefix if periods is None else f"{prefix}{_index(periods, period)}"
            text = f'{comma}"{key}":{observation(value, attrs, delete)}'
            comma = ","
            self.parts.append(text)
            self.size += len(text)
            if self.size > _FLUSH:
                chunk = self.flush()
                if chunk is not None:
                    yield chunk

    def observation(self, value: str, attrs: Mapping[str, str], delete: bool) -> str:
        """``[measure, attribute...]``, trailing attributes left out; ``[]`` for an observation
        a Delete data set deletes whole. The attribute part is remembered per distinct set of
        attribute values (rows repeat them)."""
        key = tuple(attrs.items())
        tail = self.tails.get(key)
        if tail is None:
            if len(self.tails) >= _CACHE:
                self.tails.clear()
            tail = self.tails[key] = self.attribute_cells(attrs)
        if not tail and delete and not value:
            return "[]"
        return f"[{measure_value(value)}{tail}]"

    def attributes_only(self, value: str, attrs: Mapping[str, str], delete: bool) -> str:
        """:meth:`observation` without the measure (``measures=none``)."""
        full = self.observation("", attrs, delete)  # "[null,a,b]", "[null]" or "[]"
        return "[]" if full == "[]" else f"[{full[6:-1]}]"

    def observation_writer(self) -> Callable[[str, Mapping[str, str], bool], str]:
        """How each observation is written: with its measure, or (``measures=none``, where
        the version allows it) without."""
        if self.measure_optional and not self.message.measures:
            return self.attributes_only
        return self.observation

    def attribute_cells(self, attrs: Mapping[str, str]) -> str:
        """The observation-level attribute values, each after a comma, by slot."""
        cells: dict[int, str] = {}
        slots = self.slots["observation"]
        for name, text in attrs.items():
            if not text:
                continue
            slot = slots.get(name)
            if slot is None:
                if name not in self.obs_presented:
                    continue
                slot = slots[name] = len(slots)
            if name in self.inline:
                cells[slot] = json_text(text)
            else:
                cells[slot] = str(_index(self.attr_values[name], text))
        return "".join([f",{cells.get(n, 'null')}" for n in range(max(cells) + 1)]) if cells else ""

    def indexes(self, level: str, attrs: Mapping[str, str]) -> list[int | None]:
        """The value indexes of the data set's or a series' attributes, by slot (None: no
        value); empty when it has none."""
        slots = self.slots[level]
        found: dict[int, int] = {}
        for name in self.attributes[level]:
            text = attrs.get(name)
            if text:
                slot = slots.get(name)
                if slot is None:
                    slot = slots[name] = len(slots)
                found[slot] = _index(self.attr_values[name], text)
        return [found.get(n) for n in range(max(found) + 1)] if found else []

    def link(self) -> JsonObj:
        agency, resource_id, version = self.message.ref
        cls = STRUCTURE_CLASSES[self.message.structure]
        return {"rel": self.message.structure, "urn": urn(cls, agency, resource_id, version)}

    # -- the structure -----------------------------------------------------------------------

    @property
    def language(self) -> str:
        return self.message.language.lower()

    def named(self, out: JsonObj, ident: str, name: str | None) -> JsonObj:
        """``name`` (the id when there is none) and, when known, ``names``."""
        out["name"] = name or ident
        if name:
            out["names"] = {self.language: name}
        return out

    def structure(self) -> JsonObj:
        message = self.message
        agency, resource_id, version = message.ref
        default = f"{STRUCTURE_CLASSES[message.structure]} {agency}:{resource_id}({version})"
        out: JsonObj = {"links": [self.link()]}
        self.named(out, default, message.structure_name)
        levels = {"dataSet": (), "series": self.series_dims, "observation": self.obs_dims}
        out["dimensions"] = {
            level: [self.dimension(d) for d in dims if self.values[d] or self.empty_values]
            for level, dims in levels.items()
        }
        attributes = {a.id: a for a in message.dsd.attributes}
        out["attributes"] = {
            level: [self.attribute(attributes[a]) for a in self.slotted(key)]
            for level, key in (
                ("dataSet", "dataset"),
                ("series", "series"),
                ("observation", "observation"),
            )
        }
        return out

    def slotted(self, level: str) -> list[str]:
        """A level's attributes in the order of their positions in the arrays, then those that
        never had a value (SDMX-JSON 1.0 readers such as sdmx1 skip an attribute without
        values when they count positions, so those come last)."""
        slots = self.slots[level]
        return [*slots, *(a for a in self.attributes[level] if a not in slots)]

    def dimension(self, dim: str) -> JsonObj:
        out = self.named({"id": dim}, dim, self.message.component_name(dim))
        out["keyPosition"] = self.positions[dim]
        if dim == self.message.time_dimension:
            out["roles"] = ["TIME_PERIOD"]
            out["values"] = [self.uncoded_dimension_value(p) for p in self.values[dim]]
            return out
        coded = _coded_dimension(self.message.dsd, dim)
        out["values"] = [
            self.code(dim, v) if coded else self.uncoded_dimension_value(v)
            for v in self.values[dim]
        ]
        return out

    def code(self, component: str, code: str) -> JsonObj:
        name = self.message.code_name(component, code)
        if self.value_names:
            return self.named({"id": code}, code, name)
        return {"id": code, "name": name or code}

    def attribute(self, attribute: Attribute) -> JsonObj:
        name = attribute.id
        out = self.named({"id": name}, name, self.message.component_name(name))
        out.update(self.attribute_extras(attribute))
        if name in self.inline:
            return out
        values = [
            self.code(name, v) if name in self.coded else self.uncoded_attribute_value(v)
            for v in self.attr_values[name]
        ]
        if values or self.empty_values:
            out["values"] = values
        return out

    # -- version-specific --------------------------------------------------------------------

    def dataset_object(self) -> JsonObj:
        """A data set's first members."""
        raise NotImplementedError

    def structure_part(self, structure: JsonObj) -> Any:
        """The value of ``data``'s structure member, ``structure`` completed."""
        raise NotImplementedError

    def attribute_extras(self, attribute: Attribute) -> JsonObj:
        """An attribute's ``relationship`` (and what else the version says of it)."""
        raise NotImplementedError

    def uncoded_dimension_value(self, text: str) -> JsonObj:
        raise NotImplementedError

    def uncoded_attribute_value(self, text: str) -> JsonObj:
        raise NotImplementedError


class Json20DataWriter(JsonDataWriter):
    #: 2.0 lists the measures: with none, an observation holds its attributes alone.
    measure_optional = True
    schema_url = JSON_SCHEMA_20
    structure_key = "structures"
    inline_values = True

    def dataset_object(self) -> JsonObj:
        return {"structure": 0}

    def structure_part(self, structure: JsonObj) -> Any:
        measure = self.message.measure
        measures = [self.named({"id": measure}, measure, self.message.component_name(measure))]
        structure["measures"] = {"observation": measures if self.message.measures else []}
        if self.datasets:
            structure["dataSets"] = list(range(self.datasets))
        return [structure]

    def attribute_extras(self, attribute: Attribute) -> JsonObj:
        level = attribute.relationship.level
        dims = attribute_dimensions(self.message.dsd, attribute.id)
        relationship: JsonObj
        if level == "dataset":
            relationship = {"dataflow": {}}
        elif dims:
            relationship = {"dimensions": list(dims)}
        else:
            relationship = {"observation": {}}
        out: JsonObj = {"relationship": relationship}
        if attribute.mandatory:
            out["isMandatory"] = True
        return out

    def uncoded_dimension_value(self, text: str) -> JsonObj:
        if ID_VALUE.fullmatch(text):
            return {"id": text, "name": text}
        return {"value": text}

    def uncoded_attribute_value(self, text: str) -> JsonObj:
        return {"value": text}


def _index(seen: dict[str, int], value: str) -> int:
    """The index of a value in its component's ``values``, numbered in order of first use."""
    found = seen.get(value)
    if found is None:
        found = seen[value] = len(seen)
    return found


def _chain(first: OutRow, rest: Iterator[OutRow]) -> Iterator[OutRow]:
    yield first
    yield from rest


def _coded(attribute: Attribute) -> bool:
    return attribute.representation is not None and attribute.representation.enumeration is not None


def _coded_dimension(dsd: DataStructure, dim: str) -> bool:
    found = next(d for d in dsd.dimensions if d.id == dim)
    return found.representation is not None and found.representation.enumeration is not None


def _time_at_observation(message: DataMessage) -> DataMessage:
    return dataclasses.replace(message, dimension_at_observation=message.time_dimension or "")


def write(message: DataMessage, datasets: Iterable[DataSetPart]) -> Iterator[bytes]:
    """An SDMX-JSON 2.0.0 data message."""
    return Json20DataWriter(message).chunks(datasets)


def write_data(
    structure: str, ref: tuple[str, str, str], dsd: DataStructure, rows: Iterable[OutRow]
) -> Iterator[bytes]:
    """The former interface: one Information data set, time at observation level.

    ``structure`` is dataflow or datastructure, ``ref`` its (agency, id, version).
    """
    message = time_series_message(structure, ref, dsd)
    return write(message, [DataSetPart(DataSetInfo(), rows)])


FORMATS: Final = (
    DataFormat(
        media_type=MEDIA_TYPE,
        extension="json",
        format_names=("jsondata", "json", "jsondata_2_0"),
        # application/json: plain JSON clients get the current version.
        accept={"application/vnd.sdmx.data+json": ("2.0.0", "2.0"), "application/json": ()},
        write=write,
    ),
)
