"""Streaming reader for SDMX-JSON 1.0 and 2.0 data messages (one DataRow per observation)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Generator, Iterable, Iterator
from decimal import Decimal
from typing import Any, BinaryIO, Final, Literal
from urllib.parse import urlsplit

import ijson  # type: ignore[import-untyped]  # no stubs; pyproject is not ours to extend

from service.formats.readers.data_common import STRUCTURE_CLASSES, Components
from service.model.base import Ref
from service.model.data import Action, DataReadError, DataRow
from service.model.structures import DataStructure
from service.model.urn import parse_urn

MEDIA_TYPE_10: Final = "application/vnd.sdmx.data+json;version=1.0.0"
MEDIA_TYPE_20: Final = "application/vnd.sdmx.data+json;version=2.0.0"
#: The media types this reader accepts (``application/json``: the layout tells the version).
MEDIA_TYPES: Final = (MEDIA_TYPE_10, MEDIA_TYPE_20, "application/json")

JsonVersion = Literal["1.0", "2.0"]

_BOM: Final = b"\xef\xbb\xbf"
_BUFFER: Final = 1 << 16
#: Deepest nesting accepted in the parts of a message that are built as objects.
_MAX_DEPTH: Final = 64
_DATA_MARKERS: Final = (b'"dataSets"', b'"structures"', b'"structure"', b"data-schema")
_LEVELS: Final = ("dataSet", "series", "observation")
_ATTRIBUTE_LEVELS: Final = ("dataSet", "dimensionGroup", "series", "observation")
#: The link relations naming what the data are for, most specific first.
_STRUCTURE_RELS: Final = ("provisionagreement", "dataflow", "datastructure")

Next = Callable[[], tuple[str, Any]]


def detect(head: bytes) -> bool:
    """Whether ``head`` (the first bytes of a message) looks like an SDMX-JSON data message."""
    text = head.removeprefix(_BOM).lstrip()
    return text.startswith(b"{") and any(marker in text for marker in _DATA_MARKERS)


def read_rows(stream: BinaryIO, dsd: DataStructure) -> Iterator[DataRow]:
    """The rows of an SDMX-JSON 1.0 or 2.0 data message, read incrementally from ``stream``.

    One row per observation; a series without observations gives one row for the series
    (``time`` None) when the data set deletes or the series has attributes, and a data set
    without any row gives one when it deletes or has attributes. Data set, group and series
    attributes are copied onto each row. Positions are mapped to codes with the message's own
    structure (the ``values`` of each component), the message's component ids to ``dsd``'s.
    Raises :class:`DataReadError` with a path such as
    ``data.dataSets[0].series['0:1:0'].observations['3']``.

    Memory holds the structure part and one observation at a time, never the data sets. As
    SDMX-JSON objects are unordered while a stream needs the structure first: when
    ``dataSets`` come before ``structure(s)`` (OECD and the official ``agri.json`` do this)
    and ``stream`` seeks, the structure part is read first in a separate pass (at C speed,
    keeping nothing else), then the message again; a stream that cannot seek is refused.
    Within a data set, ``structure``, ``action``, ``attributes`` and
    ``dimensionGroupAttributes`` must come before ``series``/``observations``, and in a series
    ``attributes`` before ``observations``: one that comes after and contradicts what the rows
    already read assumed is a DataReadError.

    Values are text: numbers as written (``40.3000`` stays so), booleans ``true``/``false``,
    multi-valued and multilingual values (arrays, language maps) as compact JSON.
    """
    return _read(stream, Components.of(dsd))


def _read(stream: BinaryIO, comps: Components) -> Iterator[DataRow]:
    start = stream.tell() if stream.seekable() else None
    try:
        yield from _Message(comps).rows(stream)
    except _StructuresLater as late:
        if start is None:
            raise DataReadError(
                f"{late.datasets} come before the structure part, and the upload cannot be "
                "read twice: send structure(s) first",
                late.datasets,
            ) from None
        version, structures = _prescan(stream, start, late.root)
        stream.seek(start)
        yield from _Message(comps, version, structures).rows(stream)


class _StructuresLater(Exception):
    """Data sets met before any structure: read the structure part first (the stream seeks)."""

    def __init__(self, datasets: str, root: bool) -> None:
        super().__init__(datasets)
        self.datasets = datasets
        self.root = root


def _prescan(stream: BinaryIO, start: int, root: bool) -> tuple[JsonVersion, list[Any]]:
    """The structure part of a message whose data sets come first (a pass at C speed)."""
    candidates: tuple[tuple[str, JsonVersion], ...] = (
        (("structure", "1.0"),) if root else (("data.structures", "2.0"), ("data.structure", "1.0"))
    )
    for prefix, version in candidates:
        stream.seek(start)
        try:
            found = next(ijson.items(_Source(stream), prefix, use_float=False), None)
        except ijson.JSONError as exc:
            raise DataReadError(f"malformed JSON: {_first_line(exc)}", prefix) from None
        if isinstance(found, list):
            return version, found
        if isinstance(found, dict):
            return version, [found]
    raise DataReadError("the message has data sets but no structure part", "data")


class _Source:
    """The caller's stream without a UTF-8 byte order mark (which the JSON parser refuses)."""

    def __init__(self, stream: BinaryIO) -> None:
        self._read = stream.read
        head = stream.read(3)
        self._head = b"" if head == _BOM else head

    def read(self, size: int = -1) -> bytes:
        if not self._head or size == 0:  # ijson probes with read(0)
            return self._read(size)
        head, self._head = self._head, b""
        return head + self._read(size - len(head) if size > 0 else size)


def _first_line(exc: Exception) -> str:
    arg = exc.args[0] if exc.args else str(exc)
    text = arg.decode("utf-8", "replace") if isinstance(arg, bytes) else str(arg)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


# -- values ------------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    """A JSON value as row text (see the module docstring)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_number)


def _json_number(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _value_text(value: Any) -> str | None:
    """The text of a component value object: its id (coded), else its value(s), else name."""
    if not isinstance(value, dict):
        return _text(value)
    for field in ("id", "value", "values", "name"):
        if field in value:
            return _text(value[field])
    return None


def _code(value: Any) -> str | None:
    """A dimension value's code: its id, or for a non-coded dimension its value."""
    found = value.get("id", value.get("value")) if isinstance(value, dict) else None
    return None if found is None else _text(found)


def _build(nxt: Next, event: str, value: Any, depth: int = 0) -> Any:
    """The JSON value whose first event is ``event``, built from the following events."""
    if event == "start_map":
        if depth > _MAX_DEPTH:
            raise DataReadError(f"JSON nested more than {_MAX_DEPTH} deep")
        obj: dict[str, Any] = {}
        while True:
            event, key = nxt()
            if event == "end_map":
                return obj
            obj[key] = _build(nxt, *nxt(), depth + 1)
    if event == "start_array":
        if depth > _MAX_DEPTH:
            raise DataReadError(f"JSON nested more than {_MAX_DEPTH} deep")
        arr: list[Any] = []
        while True:
            event, value = nxt()
            if event == "end_array":
                return arr
            arr.append(_build(nxt, event, value, depth + 1))
    return value


def _skip(nxt: Next, event: str) -> None:
    """Consumes the rest of the value whose first event is ``event``."""
    if event != "start_map" and event != "start_array":
        return
    depth = 1
    while depth:
        event, _ = nxt()
        if event == "start_map" or event == "start_array":
            depth += 1
        elif event == "end_map" or event == "end_array":
            depth -= 1


def _expect(nxt: Next, wanted: str, what: str, location: str) -> None:
    event, _ = nxt()
    if event != wanted:
        kind = "an object" if wanted == "start_map" else "an array"
        raise DataReadError(f"{what} must be {kind}", location)


# -- the structure part ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class _Dim:
    id: str
    #: The index text used in keys ("0", "1"...) -> the code.
    codes: dict[str, str]
    is_time: bool
    #: Its position in ``dimensionGroupAttributes`` keys: the message's dimensions in the
    #: order presented (data set, series, then observation level).
    rank: int


@dataclasses.dataclass(frozen=True, slots=True)
class _Attr:
    id: str
    #: The text of each value (None: a null value); None when the message writes values
    #: instead of indexes.
    values: list[str | None] | None
    #: What applies when the message gives no value (an omitted array item; not a null).
    default: str | None = None

    def text(self, raw: Any, location: str) -> str | None:
        """The attribute's value for ``raw`` (a value index, or the value itself)."""
        if raw is None:
            return None
        if self.values is None:
            return _text(raw)
        return _lookup(self.values, raw, f"attribute {self.id}", location)


def _lookup(values: list[str | None], raw: Any, what: str, location: str) -> str | None:
    """The value a value index points to (a null value is None)."""
    if type(raw) is int and 0 <= raw < len(values):
        return values[raw]
    raise DataReadError(
        f"{what}: {_text(raw)} is not an index of its {len(values)} value(s)", location
    )


def _decode_attrs(
    attrs: tuple[_Attr, ...], raws: Any, location: str, defaults: bool
) -> dict[str, str]:
    """``{id: text}`` from an attribute array: its non-null values, then (with ``defaults``)
    the defaults of the attributes it leaves out at its end. Items after the attributes are
    annotations."""
    if not isinstance(raws, list):
        raise DataReadError("attributes must be an array", location)
    out: dict[str, str] = {}
    for attr, raw in zip(attrs, raws, strict=False):
        text = attr.text(raw, location)
        if text is not None:
            out[attr.id] = text
    if defaults:
        out.update(_defaults(attrs[len(raws) :]))
    return out


def _defaults(attrs: Iterable[_Attr]) -> dict[str, str]:
    return {a.id: a.default for a in attrs if a.default is not None}


@dataclasses.dataclass(frozen=True, slots=True)
class _Plan:
    """How to read the data sets of one message structure."""

    ref: Ref | None
    dims: dict[str, tuple[_Dim, ...]]
    attrs: dict[str, tuple[_Attr, ...]]
    #: Leading measure values in an observation array (0 or 1: rows hold one measure).
    measures: int
    measure_values: list[str | None] | None
    #: Every message dimension, by rank (its position in ``dimensionGroupAttributes`` keys).
    by_rank: tuple[_Dim, ...]
    #: The defaults that apply when an observation's array stops before attribute n (empty
    #: when no observation attribute has a default).
    tail_defaults: tuple[dict[str, str], ...]


class _PlanBuilder:
    """Turns one message structure (a built JSON object) into a ``_Plan``."""

    def __init__(self, comps: Components, version: JsonVersion, location: str) -> None:
        self.comps = comps
        self.version = version
        self.location = location

    def build(self, structure: Any) -> _Plan:
        if not isinstance(structure, dict):
            raise DataReadError("a structure must be an object", self.location)
        dims: dict[str, tuple[_Dim, ...]] = {}
        for level in _LEVELS:
            dims[level] = self._dims(structure, level, sum(len(d) for d in dims.values()))
        attrs = {level: self._attrs(structure, level) for level in _ATTRIBUTE_LEVELS}
        measures, measure_values = self._measures(structure)
        by_rank = sorted((d for level in _LEVELS for d in dims[level]), key=lambda d: d.rank)
        observation = attrs["observation"]
        tails = tuple(_defaults(observation[n:]) for n in range(len(observation)))
        return _Plan(
            ref=_link_ref(structure.get("links")),
            dims=dims,
            attrs=attrs,
            measures=measures,
            measure_values=measure_values,
            by_rank=tuple(by_rank),
            tail_defaults=tails if any(tails) else (),
        )

    def _components(self, structure: dict[str, Any], part: str, level: str) -> list[Any]:
        section = structure.get(part) or {}
        if not isinstance(section, dict):
            raise DataReadError(f"{part} must be an object", f"{self.location}.{part}")
        found = section.get(level) or []
        if not isinstance(found, list) or not all(isinstance(c, dict) for c in found):
            raise DataReadError(
                "must be an array of component objects", f"{self.location}.{part}.{level}"
            )
        return found

    def _dims(self, structure: dict[str, Any], level: str, first: int) -> tuple[_Dim, ...]:
        """The dimensions presented at ``level``; ranks (positions in ``dimensionGroupAttributes``
        keys) follow the order of presentation: data set, series, then observation level, as
        the official samples (agri.json, constructed-sample-full.json) number them."""
        out = []
        for i, comp in enumerate(self._components(structure, "dimensions", level)):
            where = f"{self.location}.dimensions.{level}[{i}]"
            dim_id = str(comp.get("id"))
            kind = self.comps.kinds.get(dim_id)
            if kind not in ("dimension", "time"):
                raise DataReadError(
                    f"dimension {dim_id!r} is not a dimension of {self.comps.describe()}", where
                )
            values = comp.get("values")
            if not isinstance(values, list):
                raise DataReadError(f"dimension {dim_id} has no values array", where)
            if level == "dataSet" and len(values) != 1:
                raise DataReadError(
                    f"dimension {dim_id} is at data set level with {len(values)} values "
                    "instead of one",
                    where,
                )
            codes = {str(n): text for n, v in enumerate(values) if (text := _code(v))}
            if len(codes) != len(values):
                raise DataReadError(f"dimension {dim_id}: a value has no id", where)
            out.append(_Dim(dim_id, codes, kind == "time", first + i))
        return tuple(out)

    def _attrs(self, structure: dict[str, Any], level: str) -> tuple[_Attr, ...]:
        out = []
        for i, comp in enumerate(self._components(structure, "attributes", level)):
            attr_id = str(comp.get("id"))
            if self.comps.kinds.get(attr_id) != "attribute":
                raise DataReadError(
                    f"attribute {attr_id!r} is not an attribute of {self.comps.describe()}",
                    f"{self.location}.attributes.{level}[{i}]",
                )
            values = comp.get("values")
            if values == [] and self.version == "1.0":
                # SDMX-JSON 1.0 producers (OECD) list attributes without values and leave
                # them out of the index arrays; sdmx1 reads them so too (khaeru/sdmx#64).
                continue
            default = comp.get("default")
            out.append(
                _Attr(attr_id, _indexed(values), None if default is None else _text(default))
            )
        return tuple(out)

    def _measures(self, structure: dict[str, Any]) -> tuple[int, list[str | None] | None]:
        if self.version == "1.0" or "measures" not in structure:
            return 1, None  # the observation value (OBS_VALUE), written directly
        found = self._components(structure, "measures", "observation")
        for i, comp in enumerate(found):
            problem = self.comps.measure_problem(str(comp.get("id")))
            if problem is not None:
                raise DataReadError(problem, f"{self.location}.measures.observation[{i}]")
        return len(found), _indexed(found[0].get("values")) if found else None


def _indexed(values: Any) -> list[str | None] | None:
    """The texts of a component's ``values`` (a null value, allowed for attributes, is None)."""
    return [_value_text(v) for v in values] if isinstance(values, list) else None


def _link_ref(links: Any) -> Ref | None:
    """What the data are for, from the structure's links (URN, else a REST URL)."""
    refs: dict[str, Ref] = {}
    for link in links if isinstance(links, list) else []:
        rel = str(link.get("rel", "")).lower() if isinstance(link, dict) else ""
        if rel in _STRUCTURE_RELS and rel not in refs:
            ref = _urn_ref(link.get("urn")) or _href_ref(rel, link.get("href"))
            if ref is not None:
                refs[rel] = ref
    return next((refs[rel] for rel in _STRUCTURE_RELS if rel in refs), None)


def _urn_ref(urn: Any) -> Ref | None:
    if not isinstance(urn, str):
        return None
    try:
        ref = parse_urn(urn)
    except ValueError:
        return None
    return ref if ref.cls in STRUCTURE_CLASSES.values() else None


def _href_ref(rel: str, href: Any) -> Ref | None:
    """``.../dataflow/AGENCY/ID/VERSION`` (SDMX REST) as a reference."""
    if not isinstance(href, str):
        return None
    parts = [p for p in urlsplit(href).path.split("/") if p]
    if rel not in parts:
        return None
    tail = parts[parts.index(rel) + 1 :]
    if len(tail) < 3 or tail[2] in ("all", "latest", "~", "*", "+"):
        return None
    return Ref(cls=STRUCTURE_CLASSES[rel], agency=tail[0], id=tail[1], version=tail[2])


# -- the data sets -----------------------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class _Scope:
    """What the rows of a data set or of a series share."""

    key: dict[str, str]
    time: str | None
    attrs: dict[str, str]
    #: The index text of each message dimension by rank ("" where not known yet).
    indexes: list[str]


def _place(
    dims: tuple[_Dim, ...], key_text: str, key: dict[str, str], time: str | None, where: str
) -> str | None:
    """Puts the codes a ``0:1:0`` key spells into ``key``; returns the (new) time period."""
    if not dims:
        if key_text:
            raise DataReadError(f"key {key_text!r} given but no dimension is at this level", where)
        return time
    parts = key_text.split(":")
    if len(parts) != len(dims):
        raise DataReadError(
            f"key {key_text!r} has {len(parts)} index(es) for {len(dims)} dimension(s) "
            f"({', '.join(d.id for d in dims)})",
            where,
        )
    for dim, part in zip(dims, parts, strict=True):
        code = dim.codes.get(part)
        if code is None:
            raise DataReadError(
                f"dimension {dim.id}: {part!r} is not an index of its {len(dim.codes)} value(s)",
                where,
            )
        if dim.is_time:
            time = code
        else:
            key[dim.id] = code
    return time


#: Per set of dimension ranks, the attribute values by the index texts at those ranks.
_Groups = list[tuple[tuple[int, ...], dict[tuple[str, ...], dict[str, str]]]]


def _groups(plan: _Plan, raw: Any, location: str) -> _Groups:
    """``dimensionGroupAttributes`` by the ranks each partial key gives, then by its indexes."""
    if raw is None:
        return []
    if not isinstance(raw, dict):
        raise DataReadError("dimensionGroupAttributes must be an object", location)
    masks: dict[tuple[int, ...], dict[tuple[str, ...], dict[str, str]]] = {}
    for group_key, values in raw.items():
        where = f"{location}['{group_key}']"
        parts = group_key.split(":")
        if len(parts) != len(plan.by_rank):
            raise DataReadError(
                f"key has {len(parts)} position(s) for the message's {len(plan.by_rank)} "
                "dimension(s)",
                where,
            )
        ranks = tuple(rank for rank, part in enumerate(parts) if part)
        for rank in ranks:
            dim = plan.by_rank[rank]
            if parts[rank] not in dim.codes:
                raise DataReadError(
                    f"dimension {dim.id}: {parts[rank]!r} is not an index of its "
                    f"{len(dim.codes)} value(s)",
                    where,
                )
        # null and left-out items mean "not given by this group" (another group may give it)
        entry = _decode_attrs(plan.attrs["dimensionGroup"], values, where, defaults=False)
        if entry:
            masks.setdefault(ranks, {})[tuple(parts[rank] for rank in ranks)] = entry
    return list(masks.items())


class _DataSet:
    """One data set: its header fields, then (once its data start) how to read them."""

    def __init__(self, message: _Message, location: str) -> None:
        self.message = message
        self.location = location
        self.structure = 0
        self.action = Action.INFORMATION
        self.raw_attrs: Any = None
        self.raw_groups: Any = None
        self.started = False
        self.rows = 0
        self.groups: _Groups = []
        self.group_defaults: dict[str, str] = {}
        self.defaults = True
        self.scope: _Scope | None = None

    def header(self, key: str, value: Any) -> None:
        """Takes a header field (``structure``, ``action``, ``attributes``, groups)."""
        where = f"{self.location}.{key}"
        if key == "structure":
            if type(value) is not int:
                raise DataReadError("structure must be an index of data.structures", where)
            self._set("structure", value, where)
        elif key == "action":
            try:
                action = Action.parse(value if isinstance(value, str) else str(value))
            except ValueError as exc:
                raise DataReadError(str(exc), where) from None
            self._set("action", action, where)
        elif key == "attributes":
            if self.started and isinstance(value, list) and any(v is not None for v in value):
                raise DataReadError(self._late_text(key), where)
            self.raw_attrs = value
        elif self.started and value:
            raise DataReadError(self._late_text(key), where)
        else:
            self.raw_groups = value

    def _set(self, field: str, value: Any, where: str) -> None:
        if self.started and getattr(self, field) != value:
            raise DataReadError(self._late_text(field), where)
        setattr(self, field, value)

    @staticmethod
    def _late_text(field: str) -> str:
        return (
            f"{field} comes after this data set's series or observations, which were already "
            f"read without it; put {field} before them"
        )

    def begin(self) -> tuple[_Plan, _Scope]:
        """The plan and data set scope for the rows (the header is complete from here on)."""
        plan = self.message.plan(self.structure, f"{self.location}.structure")
        if self.scope is not None:
            return plan, self.scope
        self.started = True
        self.defaults = self.action is not Action.DELETE  # a deletion names what it deletes
        attrs = _decode_attrs(
            plan.attrs["dataSet"],
            self.raw_attrs or [],
            f"{self.location}.attributes",
            self.defaults,
        )
        self.groups = _groups(plan, self.raw_groups, f"{self.location}.dimensionGroupAttributes")
        self.group_defaults = _defaults(plan.attrs["dimensionGroup"]) if self.defaults else {}
        if not self.groups:
            attrs.update(self.group_defaults)
        key: dict[str, str] = {}
        time = _place(
            plan.dims["dataSet"],
            ":".join("0" * len(plan.dims["dataSet"])),
            key,
            None,
            self.location,
        )
        indexes = [""] * len(plan.by_rank)
        for dim in plan.dims["dataSet"]:
            indexes[dim.rank] = "0"
        self.scope = _Scope(key, time, attrs, indexes)
        return plan, self.scope

    def group_attrs(self, indexes: list[str]) -> dict[str, str]:
        """The dimension group attributes whose partial keys the full ``indexes`` match, over
        the defaults of the group attributes."""
        found = dict(self.group_defaults)
        for ranks, table in self.groups:
            entry = table.get(tuple(indexes[rank] for rank in ranks))
            if entry is not None:
                found.update(entry)
        return found

    def closing_row(self) -> DataRow | None:
        """The data set's own row, when it read no row but deletes or sets attributes."""
        if self.rows:
            return None
        plan, scope = self.begin()
        if self.action is not Action.DELETE and not scope.attrs:
            return None
        return DataRow(
            scope.key.copy(),
            scope.time,
            None,
            dict(scope.attrs),
            self.action,
            self.location,
            plan.ref,
        )


def _keys(nxt: Next) -> Iterator[str]:
    """The keys of an object whose ``start_map`` was read; the caller reads each value."""
    while True:
        event, key = nxt()
        if event == "end_map":
            return
        yield key


class _Message:
    """Reads one message from a stream of parser events."""

    def __init__(
        self,
        comps: Components,
        version: JsonVersion | None = None,
        structures: list[Any] | None = None,
    ) -> None:
        self.comps = comps
        self.version: JsonVersion = version or "2.0"
        self.structures = structures
        self.preloaded = structures is not None
        self.structure_location = "data.structures"
        self.plans: dict[int, _Plan] = {}
        self.saw_datasets = False
        self.where = "$"

    def rows(self, stream: BinaryIO) -> Iterator[DataRow]:
        events = ijson.basic_parse(_Source(stream), buf_size=_BUFFER, use_float=False)
        nxt: Next = events.__next__
        try:
            event, _ = next(events, ("end", None))
            if event != "start_map":
                raise DataReadError("not an SDMX-JSON message: expected a JSON object", "$")
            yield from self._root(nxt)
            self.where = "$"
            next(events, None)  # the parser checks there is nothing after the message
        except ijson.JSONError as exc:
            raise DataReadError(
                f"malformed or truncated JSON: {_first_line(exc)}", self.where
            ) from None
        except DataReadError as exc:
            if exc.location is None:  # raised where the path is not known (nesting depth)
                raise DataReadError(str(exc), self.where) from None
            raise

    def plan(self, index: int, where: str) -> _Plan:
        plan = self.plans.get(index)
        if plan is None:
            structures = self.structures or []
            if not 0 <= index < len(structures):
                raise DataReadError(
                    f"no structure {index}: the message has {len(structures)}", where
                )
            location = (
                f"{self.structure_location}[{index}]"
                if self.version == "2.0"
                else self.structure_location
            )
            plan = _PlanBuilder(self.comps, self.version, location).build(structures[index])
            self.plans[index] = plan
        return plan

    def _root(self, nxt: Next) -> Iterator[DataRow]:
        for key in _keys(nxt):
            if key == "data":
                yield from self._data(nxt)
            elif key == "dataSets":  # SDMX-JSON 1.0 as OECD.Stat writes it: no "data" object
                yield from self._datasets(nxt, "dataSets", root=True)
            elif key == "structure":
                self._structure_part(nxt, "1.0", "structure")
            else:
                _skip(nxt, nxt()[0])
        if not self.saw_datasets:
            raise DataReadError("no dataSets: not an SDMX-JSON data message", "data")

    def _data(self, nxt: Next) -> Iterator[DataRow]:
        _expect(nxt, "start_map", "data", "data")
        for key in _keys(nxt):
            if key == "structures":
                self._structure_part(nxt, "2.0", "data.structures")
            elif key == "structure":
                self._structure_part(nxt, "1.0", "data.structure")
            elif key == "dataSets":
                yield from self._datasets(nxt, "data.dataSets", root=False)
            else:
                _skip(nxt, nxt()[0])

    def _structure_part(self, nxt: Next, version: JsonVersion, location: str) -> None:
        event, value = nxt()
        if self.preloaded:
            _skip(nxt, event)
            self.structure_location = location
            return
        self.where = location
        built = _build(nxt, event, value)
        if version == "2.0" and not isinstance(built, list):
            raise DataReadError("structures must be an array", location)
        self.version, self.structure_location = version, location
        self.structures = built if isinstance(built, list) else [built]

    def _datasets(self, nxt: Next, location: str, root: bool) -> Iterator[DataRow]:
        self.saw_datasets = True
        _expect(nxt, "start_array", "dataSets", location)
        if self.structures is None:
            raise _StructuresLater(location, root)
        index = 0
        while True:
            event, _ = nxt()
            if event == "end_array":
                return
            where = f"{location}[{index}]"
            if event != "start_map":
                raise DataReadError("a data set must be an object", where)
            self.where = where
            yield from self._dataset(nxt, _DataSet(self, where))
            index += 1

    def _dataset(self, nxt: Next, ds: _DataSet) -> Iterator[DataRow]:
        for key in _keys(nxt):
            if key == "series":
                ds.rows += yield from self._series(nxt, ds, f"{ds.location}.series")
                self.where = ds.location
            elif key == "observations":
                # A flat view under a structure that presents dimensions at series level
                # (constructed-sample-full.json does this): keys index both levels, in order.
                plan, scope = ds.begin()
                dims = plan.dims["series"] + plan.dims["observation"]
                reader = _Observations(ds, plan, scope, f"{ds.location}.observations", dims)
                ds.rows += yield from reader.read(nxt)
            elif key in ("structure", "action", "attributes", "dimensionGroupAttributes"):
                ds.header(key, _build(nxt, *nxt()))
            else:
                _skip(nxt, nxt()[0])
        row = ds.closing_row()
        if row is not None:
            yield row

    def _series(self, nxt: Next, ds: _DataSet, location: str) -> Generator[DataRow, None, int]:
        """The rows of a ``series`` object; returns how many."""
        plan, scope = ds.begin()
        _expect(nxt, "start_map", "series", location)
        count = 0
        for series_key in _keys(nxt):
            where = f"{location}['{series_key}']"
            self.where = where
            _expect(nxt, "start_map", "a series", where)
            series = _series_scope(plan, scope, series_key, where)
            count += yield from self._one_series(nxt, ds, plan, series, where)
        return count

    def _one_series(
        self, nxt: Next, ds: _DataSet, plan: _Plan, scope: _Scope, where: str
    ) -> Generator[DataRow, None, int]:
        series = _Series(ds, plan, scope, where)
        count = 0
        for key in _keys(nxt):
            if key == "attributes":
                series.attributes(_build(nxt, *nxt()))
            elif key == "observations":
                series.observations_start()
                dims = plan.dims["observation"]
                reader = _Observations(ds, plan, scope, f"{where}.observations", dims)
                count += yield from reader.read(nxt)
            else:
                _skip(nxt, nxt()[0])
        row = None if count else series.own_row()
        if row is not None:
            yield row
            return 1
        return count


class _Series:
    """A series' attributes: given before its observations, or their defaults apply."""

    def __init__(self, ds: _DataSet, plan: _Plan, scope: _Scope, location: str) -> None:
        self.ds = ds
        self.plan = plan
        self.scope = scope
        self.location = location
        self.read = self.observed = self.explicit = False

    def attributes(self, raw: Any) -> None:
        where = f"{self.location}.attributes"
        explicit = isinstance(raw, list) and any(v is not None for v in raw)
        if self.observed:
            if explicit:
                raise DataReadError(_DataSet._late_text("a series' attributes"), where)
            return
        attrs = _decode_attrs(self.plan.attrs["series"], raw, where, self.ds.defaults)
        self.scope.attrs.update(attrs)
        self.read, self.explicit = True, self.explicit or explicit

    def observations_start(self) -> None:
        if not self.read and not self.observed and self.ds.defaults:
            self.scope.attrs.update(_defaults(self.plan.attrs["series"]))
        self.observed = True

    def own_row(self) -> DataRow | None:
        """The row for a series without observations, when it deletes or has attributes."""
        if self.ds.action is not Action.DELETE and not self.explicit:
            return None
        self.observations_start()
        scope = self.scope
        attrs = (
            {**scope.attrs, **self.ds.group_attrs(scope.indexes)} if self.ds.groups else scope.attrs
        )
        return DataRow(
            scope.key.copy(), scope.time, None, attrs, self.ds.action, self.location, self.plan.ref
        )


def _series_scope(plan: _Plan, scope: _Scope, series_key: str, where: str) -> _Scope:
    key = scope.key.copy()
    dims = plan.dims["series"]
    time = _place(dims, series_key, key, scope.time, where)
    indexes = scope.indexes.copy()
    if dims:
        for dim, part in zip(dims, series_key.split(":"), strict=True):
            indexes[dim.rank] = part
    return _Scope(key, time, dict(scope.attrs), indexes)


def _array(nxt: Next) -> list[Any]:
    """The items of an array whose ``start_array`` was read."""
    items: list[Any] = []
    while True:
        event, value = nxt()
        if event == "end_array":
            return items
        if event == "start_map" or event == "start_array":
            value = _build(nxt, event, value, 1)
        items.append(value)


class _Observations:
    """Reads an ``observations`` object: one row per observation (the hot loop)."""

    def __init__(
        self, ds: _DataSet, plan: _Plan, scope: _Scope, location: str, dims: tuple[_Dim, ...]
    ) -> None:
        self.ds = ds
        self.location = location
        self.dims = dims
        self.single = self.dims[0] if len(self.dims) == 1 else None
        self.measures = plan.measures
        self.measure_values = plan.measure_values
        self.attributes = plan.attrs["observation"]
        self.scope = scope
        self.ref = plan.ref
        self.tail_defaults = plan.tail_defaults if ds.defaults else ()

    def read(self, nxt: Next) -> Generator[DataRow, None, int]:
        _expect(nxt, "start_map", "observations", self.location)
        count = 0
        obs_key = ""
        row = self.row
        try:
            while True:
                event, obs_key = nxt()
                if event == "end_map":
                    return count
                event, _ = nxt()
                if event != "start_array":
                    raise DataReadError(
                        "an observation must be an array", f"{self.location}['{obs_key}']"
                    )
                count += 1
                yield row(obs_key, _array(nxt))
        except ijson.JSONError as exc:
            raise DataReadError(
                f"malformed or truncated JSON: {_first_line(exc)}",
                f"{self.location}['{obs_key}']",
            ) from None

    def row(self, obs_key: str, items: list[Any]) -> DataRow:
        where = f"{self.location}['{obs_key}']"
        scope = self.scope
        key = scope.key.copy()
        time = scope.time
        single = self.single
        code = single.codes.get(obs_key) if single is not None else None
        if code is None:
            time = _place(self.dims, obs_key, key, time, where)
        elif single is not None and single.is_time:
            time = code
        elif single is not None:
            key[single.id] = code
        value = self.value(items, where) if self.measures and items else None
        attrs = scope.attrs.copy()
        if self.ds.groups:
            attrs.update(self.ds.group_attrs(self.indexes(obs_key)))
        given = len(items) - self.measures
        if given > 0:
            for attr, raw in zip(self.attributes, items[self.measures :], strict=False):
                text = attr.text(raw, where)
                if text is not None:
                    attrs[attr.id] = text
        if self.tail_defaults and given < len(self.tail_defaults):
            attrs.update(self.tail_defaults[max(given, 0)])
        return _new_row(DataRow, (key, time, value, attrs, self.ds.action, where, self.ref))

    def value(self, items: list[Any], where: str) -> str | None:
        raw = items[0]
        if self.measure_values is None:
            return raw if type(raw) is str else _text(raw)
        return None if raw is None else _lookup(self.measure_values, raw, "measure", where)

    def indexes(self, obs_key: str) -> list[str]:
        indexes = self.scope.indexes.copy()
        if self.dims:
            for dim, part in zip(self.dims, obs_key.split(":"), strict=True):
                indexes[dim.rank] = part
        return indexes


_new_row = tuple.__new__  # DataRow(...) without NamedTuple's Python-level __new__
