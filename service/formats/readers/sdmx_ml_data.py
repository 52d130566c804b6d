"""Module for reading SDMX-ML 2.1 and 3.0 data messages (generic, structure-specific) as rows."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO, Final, cast

import msgspec
from lxml import etree
from lxml.etree import _Element

from service.formats.readers.xml_safety import MAX_DEPTH, event_batches, refuse_dtd, too_deep
from service.formats.xml_common import SDMX_ML_21, SDMX_ML_30, XML_LANG
from service.model.base import Ref
from service.model.data import Action, DataReadError, DataRow
from service.model.structures import DataStructure
from service.model.urn import parse_urn

GENERIC_DATA_21: Final = "application/vnd.sdmx.genericdata+xml;version=2.1"
STRUCTURE_SPECIFIC_DATA_21: Final = "application/vnd.sdmx.structurespecificdata+xml;version=2.1"
GENERIC_TIME_SERIES_DATA_21: Final = "application/vnd.sdmx.generictimeseriesdata+xml;version=2.1"
STRUCTURE_SPECIFIC_TIME_SERIES_DATA_21: Final = (
    "application/vnd.sdmx.structurespecifictimeseriesdata+xml;version=2.1"
)
DATA_30: Final = "application/vnd.sdmx.data+xml;version=3.0.0"
#: Generic XML media types: the message's root element says which flavour it is.
SNIFFED: Final = ("application/xml", "text/xml")
#: Every media type ``read_rows`` accepts.
MEDIA_TYPES: Final = (
    GENERIC_DATA_21,
    STRUCTURE_SPECIFIC_DATA_21,
    GENERIC_TIME_SERIES_DATA_21,
    STRUCTURE_SPECIFIC_TIME_SERIES_DATA_21,
    DATA_30,
    *SNIFFED,
)

_M21: Final = f"{{{SDMX_ML_21.message}}}"
_M30: Final = f"{{{SDMX_ML_30.message}}}"
_SS_NAMESPACES: Final = (
    "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/structurespecific",
    "http://www.sdmx.org/resources/sdmxml/schemas/v3_0/data/structurespecific",
)
_G: Final = "{http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/generic}"
_G_SERIES: Final = f"{_G}Series"
_G_GROUP: Final = f"{_G}Group"
_G_OBS: Final = f"{_G}Obs"
_G_SERIES_KEY: Final = f"{_G}SeriesKey"
_G_GROUP_KEY: Final = f"{_G}GroupKey"
_G_OBS_KEY: Final = f"{_G}ObsKey"
_G_OBS_DIMENSION: Final = f"{_G}ObsDimension"
_G_OBS_VALUE: Final = f"{_G}ObsValue"
_G_ATTRIBUTES: Final = f"{_G}Attributes"
_G_VALUE: Final = f"{_G}Value"
_XSI_TYPE: Final = "{http://www.w3.org/2001/XMLSchema-instance}type"
#: Root element -> (SDMX-ML version, generic?, the media type naming that flavour).
_ROOTS: Final = {
    f"{_M21}GenericData": ("2.1", True, GENERIC_DATA_21),
    f"{_M21}GenericTimeSeriesData": ("2.1", True, GENERIC_TIME_SERIES_DATA_21),
    f"{_M21}StructureSpecificData": ("2.1", False, STRUCTURE_SPECIFIC_DATA_21),
    f"{_M21}StructureSpecificTimeSeriesData": (
        "2.1", False, STRUCTURE_SPECIFIC_TIME_SERIES_DATA_21,
    ),
    f"{_M30}StructureSpecificData": ("3.0", False, DATA_30),
}  # fmt: skip
#: The element naming a data set's structure in the header -> the class it refers to.
_USAGE_CLASSES: Final = {
    "Structure": "DataStructure",
    "StructureUsage": "Dataflow",
    "ProvisionAgrement": "ProvisionAgreement",  # sic: SDMX-ML 2.1's spelling
    "ProvisionAgreement": "ProvisionAgreement",
}
#: Data set attributes of the SDMX-ML schemas (not components), qualified or not.
_SET_ATTRIBUTES: Final = frozenset(
    {"structureRef", "setID", "action", "reportingBeginDate", "reportingEndDate",
     "validFromDate", "validToDate", "publicationYear", "publicationPeriod", "dataScope"}
)  # fmt: skip
#: Local names of the elements, in any namespace, that a DataSet or Series may hold besides
#: data; any other element there is refused, lest data in an unexpected shape be skipped.
_SKIPPED: Final = frozenset({"Annotations", "DataProvider", "Metadata"})
#: How many consumed observations stay in the tree before they are deleted.
_PRUNE_EVERY: Final = 256
_MAX_NAMES: Final = 4096


# What an XML attribute of a structure-specific element holds.
_KEY, _TIME, _VALUE, _ATTR, _TYPE, _SKIP = range(6)

_items = cast("Callable[[_Element], list[tuple[str, str]]]", etree._Element.items)
_new_row = tuple.__new__  # DataRow's own __new__ is Python code: too slow for the hot loop
StartHandler = Callable[[_Element], None]
EndHandler = Callable[[_Element, int], "DataRow | None"]


def read_rows(
    stream: BinaryIO, dsd: DataStructure, *, media_type: str | None = None
) -> Iterator[DataRow]:
    """The rows of an SDMX-ML data message, in document order, in constant memory.

    One row per observation; one per series sent without observations (``time`` None, or the
    series' TIME_PERIOD in a cross-sectional message); one per group (SDMX-ML ``Group``) and
    per SDMX-ML 3.0 ``Atts`` element, whose key is the partial key sent and whose ``attrs`` are
    the attributes sent for it (the validator and loader store them at that level); and one
    per data set that gives no other row but has data set attributes or says Delete. Data set
    and series attributes are copied onto each row of their data set and series.

    ``location`` is ``line N``, the line where the element's start tag closes (libxml2's
    ``sourceline``); past line 65,534 of an 8-bit document, the line where the element is
    complete (its end tag's, for one that spans lines).

    ``media_type``, when given, must be one of ``MEDIA_TYPES`` and match the message's root.

    Raises:
        DataReadError: unsafe, malformed or truncated XML, or not an SDMX-ML data message.
    """
    reader = _Reader(dsd, _expected_roots(media_type))
    starts, ends = reader.starts, reader.ends
    depth = 0
    for line, batch in event_batches(stream):
        reader.line = line
        for event, el in batch:
            if event == "start":
                depth += 1
                if depth > 3:
                    if depth > MAX_DEPTH:
                        raise too_deep(el)
                elif depth == 3:
                    if (start := starts.get(el.tag)) is not None:
                        start(el)
                else:
                    reader.top_start(el, depth)
                continue
            if depth < 5:  # deeper elements are read with their Obs, Series, Group or Atts
                end = reader.top_end if depth < 3 else ends.get(el.tag)
                if end is not None:
                    if (row := end(el, depth)) is not None:
                        yield row
                else:
                    reader.other(el)
            depth -= 1


@dataclasses.dataclass(frozen=True, slots=True)
class _Usage:
    """A header ``Structure``: what the data set is for, and the dimension at observation."""

    ref: Ref | None
    dimension_at_observation: str


@dataclasses.dataclass(slots=True)
class _Context:
    """What a series (or the data set, for flat observations) gives each of its rows."""

    key: dict[str, str]
    time: str | None
    attrs: dict[str, str]


@dataclasses.dataclass(slots=True)
class _DataSet:
    """The current data set: its action, its attributes, and whether it gave a row yet."""

    action: Action
    attrs: dict[str, str]
    empty: bool = True
    #: TIME_PERIOD sent on groups (cross-sectional data): group dimensions -> key -> time.
    group_times: dict[tuple[str, ...], dict[tuple[str, ...], str]] = dataclasses.field(
        default_factory=dict
    )

    @property
    def says_only_itself(self) -> bool:
        """No row came from it, yet it says something: data set attributes, or Delete all."""
        return self.empty and (bool(self.attrs) or self.action is Action.DELETE)


class _Components:
    """The DSD's component ids, and what each XML attribute name stands for (cached)."""

    def __init__(self, dsd: DataStructure) -> None:
        time = dsd.time_dimension
        self.time_id = time.id if time is not None else "TIME_PERIOD"
        self.measure_id = dsd.measures[0].id if dsd.measures else "OBS_VALUE"
        self.key_ids = frozenset(d.id for d in dsd.key_dimensions)
        self.ids = frozenset(c.id for c in dsd.components)
        self.roles = _Roles(self._classify)

    def role(self, name: str) -> int:
        return self.roles[name]

    def _classify(self, name: str) -> int:
        if name == self.time_id:
            return _TIME
        if name in self.key_ids:
            return _KEY
        if name == self.measure_id:
            return _VALUE
        if name == _XSI_TYPE or (name == "type" and name not in self.ids):
            return _TYPE
        return _SKIP if name.startswith("{") else _ATTR


class _Roles(dict[str, int]):
    """XML attribute name -> role, computed on first sight (at most ``_MAX_NAMES`` kept)."""

    def __init__(self, classify: Callable[[str], int]) -> None:
        super().__init__()
        self._classify = classify

    def __missing__(self, name: str) -> int:
        role = self._classify(name)
        if len(self) < _MAX_NAMES:  # a hostile message cannot grow it forever
            self[name] = role
        return role


class _Reader:
    """The state of one message: its header, the current data set and the current series."""

    def __init__(self, dsd: DataStructure, expected: dict[str, str] | None) -> None:
        self.components = _Components(dsd)
        self.expected = expected
        self.starts: dict[str, StartHandler] = {}
        self.ends: dict[str, EndHandler] = {}
        #: Data elements read as part of their parent, not by a handler of their own.
        self.parts: frozenset[str] = frozenset()
        self.generic = False
        self.usages: dict[str, _Usage] = {}
        self.header_action: Action | None = None
        self.dataset: _DataSet | None = None
        self.series: _Element | None = None
        self.context: _Context | None = None
        self.flat: _Context | None = None
        self.unpruned = 0
        #: The line of the current events when their elements' ``sourceline`` is not exact.
        self.line: int | None = None
        # the current data set's, for the hot loop
        self.action = Action.INFORMATION
        self.structure: Ref | None = None
        self.obs_dimension = self.components.time_id
        self.type_dimension: str | None = None

    # -- message, header and data sets ---------------------------------------------------

    def top_start(self, el: _Element, depth: int) -> None:
        if depth == 1:
            refuse_dtd(el)
            self._root(el)
        elif _local(el.tag) == "DataSet":
            self._dataset_start(el)

    def top_end(self, el: _Element, depth: int) -> DataRow | None:
        if depth == 1:
            return None
        local = _local(el.tag)
        if local == "DataSet":
            return self._dataset_end(el)
        if local == "Header":
            self._header(el)
        el.clear()
        return None

    def _root(self, el: _Element) -> None:
        flavour = _ROOTS.get(el.tag)
        if flavour is None:
            raise DataReadError(f"{_describe(el.tag)}, not an SDMX-ML data message", _at(el))
        version, generic, media_type = flavour
        if self.expected is not None and el.tag not in self.expected:
            said = " or ".join(sorted(set(self.expected.values())))
            raise DataReadError(
                f"the message is SDMX-ML {version} {_local(el.tag)} ({media_type}), "
                f"not what its media type says ({said})",
                _at(el, self.line),
            )
        self.generic = generic
        if generic:
            self.starts[_G_SERIES] = self._series_start
            self.ends[_G_SERIES] = self._series_end
            self.ends[_G_GROUP] = self._group
            self.ends[_G_OBS] = self._generic_obs
            self.ends[_G_ATTRIBUTES] = self._attributes
            self.parts = frozenset(
                {_G_SERIES_KEY, _G_GROUP_KEY, _G_OBS_KEY, _G_OBS_VALUE, _G_OBS_DIMENSION, _G_VALUE}
            )
        else:  # structure-specific elements are unqualified
            self.starts["Series"] = self._series_start
            self.ends["Series"] = self._series_end
            self.ends["Group"] = self._group
            self.ends["Obs"] = self._ss_obs
            self.ends["Atts"] = self._group
            self.parts = frozenset({"Comp"})

    def other(self, el: _Element) -> None:
        """An element without a handler: in a data set, refused unless known to hold no data."""
        if self.dataset is None or el.tag in self.parts or _local(el.tag) in _SKIPPED:
            return
        parent = el.getparent()
        if parent is None or _local(parent.tag) not in _SKIPPED:
            flavour = "generic" if self.generic else "structure-specific"
            raise DataReadError(
                f"unexpected {el.tag} element in an SDMX-ML {flavour} data set",
                _at(el, self.line),
            )

    def _header(self, el: _Element) -> None:
        for child in el:
            local = _local(child.tag)
            if local == "Structure":
                structure_id, usage = self._header_structure(child)
                self.usages[structure_id] = usage
            elif local == "DataSetAction":
                self.header_action = _action(child.text, _at(child, self.line))

    def _header_structure(self, el: _Element) -> tuple[str, _Usage]:
        ref = None
        for child in el:
            cls = _USAGE_CLASSES.get(_local(child.tag))
            if cls is not None:
                ref = _reference(child, cls, self.line)
        at_obs = el.get("dimensionAtObservation") or self.components.time_id
        return el.get("structureID") or "", _Usage(ref, at_obs)

    def _dataset_start(self, el: _Element) -> None:
        settings, attrs = self._dataset_attributes(el)
        usage = self._usage(settings.get("structureRef"), el)
        action = self.header_action or Action.INFORMATION
        if "action" in settings:
            action = _action(settings["action"], _at(el, self.line))
        self.dataset = _DataSet(action, attrs)
        self.action, self.structure, self.flat = action, usage.ref, None
        at_obs = usage.dimension_at_observation
        self.obs_dimension = at_obs
        self.type_dimension = at_obs if at_obs in self.components.key_ids else None

    def _dataset_attributes(self, el: _Element) -> tuple[dict[str, str], dict[str, str]]:
        """The data set's SDMX-ML settings (structureRef, action...), and its attributes."""
        settings: dict[str, str] = {}
        attrs: dict[str, str] = {}
        for name, text in _items(el):
            if name.startswith("{"):
                namespace, _, local = name[1:].partition("}")
                if namespace in _SS_NAMESPACES:
                    settings[local] = text
            elif name in _SET_ATTRIBUTES and (self.generic or name not in self.components.ids):
                settings[name] = text
            elif not self.generic:
                attrs[name] = text
        return settings, attrs

    def _usage(self, structure_ref: str | None, el: _Element) -> _Usage:
        usage = self.usages.get(structure_ref or "")
        if usage is not None:
            return usage
        if len(self.usages) == 1:  # a structureRef that does not match is common: ISTAT
            return next(iter(self.usages.values()))
        if not self.usages:
            return _Usage(None, self.components.time_id)
        raise DataReadError(
            f"the data set's structureRef {structure_ref!r} names none of the header's "
            f"structures ({', '.join(sorted(self.usages))})",
            _at(el, self.line),
        )

    def _dataset_end(self, el: _Element) -> DataRow | None:
        dataset = self.dataset
        row = None
        if dataset is not None and dataset.says_only_itself:
            row = self._row({}, None, dict(dataset.attrs), el)
        self.dataset = self.flat = None
        _prune(el)
        el.clear()
        return row

    def _attributes(self, el: _Element, depth: int) -> None:
        """Generic data set attributes: they come before any series, group or observation."""
        if depth == 3 and self.dataset is not None:
            _put_values(el, self.dataset.attrs, self.line)
            self.flat = None

    # -- series, groups and observations -------------------------------------------------

    def _dataset_of(self, el: _Element, depth: int) -> _DataSet:
        """The data set of a Series, Group, Atts or flat Obs, which now gives a row."""
        if depth != 3 or self.dataset is None:
            raise DataReadError(f"a {_local(el.tag)} element outside a DataSet", _at(el, self.line))
        self.dataset.empty = False
        return self.dataset

    def _series_start(self, el: _Element) -> None:
        self._dataset_of(el, 3)
        self.series, self.context, self.unpruned = el, None, 0

    def _series_end(self, el: _Element, depth: int) -> DataRow | None:
        if depth != 3 or el is not self.series:
            raise DataReadError("a Series element outside a DataSet", _at(el, self.line))
        row = None
        if self.context is None:  # no observation: the row is the series itself
            context = self._series_context(el)
            row = self._row(context.key, context.time, context.attrs, el)
        self.series = self.context = None
        del el[:]
        _prune(el)
        return row

    def _series_context(self, el: _Element) -> _Context:
        dataset = self._dataset_of(el, 3)
        attrs = dict(dataset.attrs)
        if self.generic:
            key, time, attrs = self._generic_parts(el, _G_SERIES_KEY, attrs)
        else:
            key, time, attrs = self._ss_parts(el, attrs)
        if time is None and dataset.group_times:
            time = _group_time(dataset, key)
        return _Context(key, time, attrs)

    def _group(self, el: _Element, depth: int) -> DataRow | None:
        """A Group (or a 3.0 Atts): a row of its own with the partial key and attributes."""
        dataset = self._dataset_of(el, depth)
        attrs = dict(dataset.attrs)
        if self.generic:
            key, time, attrs = self._generic_parts(el, _G_GROUP_KEY, attrs)
        else:
            key, time, attrs = self._ss_parts(el, attrs)
        if time is not None and key:
            dims = tuple(sorted(key))
            dataset.group_times.setdefault(dims, {})[tuple(key[d] for d in dims)] = time
        return self._row(key, time, attrs, el)

    def _generic_parts(
        self, el: _Element, key_tag: str, attrs: dict[str, str]
    ) -> tuple[dict[str, str], str | None, dict[str, str]]:
        """Key, time and attributes from a generic Series or Group's key and Attributes."""
        key: dict[str, str] = {}
        time = None
        for child in el:
            if child.tag == key_tag:
                time = self._generic_key(child, key)
            elif child.tag == _G_ATTRIBUTES:
                _put_values(child, attrs, self.line)
        return key, time, attrs

    def _ss_parts(
        self, el: _Element, attrs: dict[str, str]
    ) -> tuple[dict[str, str], str | None, dict[str, str]]:
        """Key, time and attributes from a structure-specific element's XML attributes."""
        key: dict[str, str] = {}
        time = None
        role = self.components.role
        for name, text in _items(el):
            kind = role(name)
            if kind == _KEY:
                key[name] = text
            elif kind == _TIME:
                time = text
            elif kind in (_ATTR, _VALUE):
                attrs[name] = text
        attrs.update(_comps(el, self.line))
        return key, time, attrs

    def _ss_obs(self, el: _Element, depth: int) -> DataRow:
        context = self.context
        if context is None or depth != 4:
            context = self._open(el, depth)
        key = context.key.copy()
        attrs = context.attrs.copy()
        time = context.time
        value = kind = None
        roles = self.components.roles
        for name, text in _items(el):
            role = roles[name]
            if role == _ATTR:
                attrs[name] = text
            elif role == _VALUE:
                value = text
            elif role == _TIME:
                time = text
            elif role == _KEY:
                key[name] = text
            elif role == _TYPE:
                kind = text
        if len(el):
            attrs.update(_comps(el, self.line))
        if kind is not None:
            self._explicit_measure(key, kind)
        self.unpruned += 1
        if self.unpruned >= _PRUNE_EVERY:
            self.unpruned = 0
            _prune(el)
        where = f"line {self.line or el.sourceline}"
        return _new_row(DataRow, (key, time, value, attrs, self.action, where, self.structure))

    def _explicit_measure(self, key: dict[str, str], kind: str) -> None:
        """SDMX-ML 2.1 explicit measures: the observation's type names its measure code."""
        dimension = self.type_dimension
        if dimension is not None and dimension not in key:
            key[dimension] = kind.rpartition(":")[2]

    def _generic_obs(self, el: _Element, depth: int) -> DataRow:
        context = self.context
        if context is None or depth != 4:
            context = self._open(el, depth)
        key = context.key.copy()
        attrs = context.attrs.copy()
        time = context.time
        value = None
        for child in el:
            tag = child.tag
            if tag == _G_OBS_VALUE:
                value = child.get("value")
            elif tag == _G_OBS_DIMENSION:
                dimension = child.get("id") or self.obs_dimension
                time = self._put(key, dimension, _required(child, "value", self.line), time)
            elif tag == _G_ATTRIBUTES:
                _put_values(child, attrs, self.line)
            elif tag == _G_OBS_KEY:
                time = self._generic_key(child, key) or time
        self.unpruned += 1
        if self.unpruned >= _PRUNE_EVERY:
            self.unpruned = 0
            _prune(el)
        where = f"line {self.line or el.sourceline}"
        return _new_row(DataRow, (key, time, value, attrs, self.action, where, self.structure))

    def _open(self, el: _Element, depth: int) -> _Context:
        """The context of an observation that is the first of its series, or not in one."""
        if depth == 4 and self.series is not None:
            self.context = self._series_context(self.series)
            return self.context
        dataset = self._dataset_of(el, depth)
        if self.flat is None:
            self.flat = _Context({}, None, dict(dataset.attrs))
        return self.flat

    def _generic_key(self, el: _Element, key: dict[str, str]) -> str | None:
        """Puts a generic SeriesKey/GroupKey/ObsKey into ``key``; returns its time, if any."""
        time = None
        for dimension, value in _generic_values(el, self.line):
            time = self._put(key, dimension, value, time)
        return time

    def _put(self, key: dict[str, str], dimension: str, value: str, time: str | None) -> str | None:
        if dimension == self.components.time_id:
            return value
        key[dimension] = value
        return time

    def _row(
        self,
        key: dict[str, str],
        time: str | None,
        attrs: dict[str, str],
        el: _Element,
        value: str | None = None,
    ) -> DataRow:
        return DataRow(key, time, value, attrs, self.action, _at(el, self.line), self.structure)


def _group_time(dataset: _DataSet, key: dict[str, str]) -> str | None:
    """The TIME_PERIOD sent on an earlier group of the series ``key`` (cross-sectional data)."""
    for dims, times in dataset.group_times.items():
        if all(d in key for d in dims):
            time = times.get(tuple(key[d] for d in dims))
            if time is not None:
                return time
    return None


def _expected_roots(media_type: str | None) -> dict[str, str] | None:
    """The root elements a media type allows (root tag -> media type); None for any.

    ``charset`` and other parameters are ignored; a missing ``version`` matches any version,
    and ``3.0`` matches ``3.0.0``.
    """
    if media_type is None:
        return None
    base, version = _media_type_parts(media_type)
    if base in SNIFFED:
        return {root: flavour[2] for root, flavour in _ROOTS.items()}
    roots = {}
    for root, (_, _, accepted) in _ROOTS.items():
        accepted_base, accepted_version = _media_type_parts(accepted)
        if base == accepted_base and version in ("", accepted_version):
            roots[root] = accepted
    if not roots:
        accepted = ", ".join(MEDIA_TYPES)
        raise DataReadError(f"{media_type!r} is not an SDMX-ML data media type ({accepted})")
    return roots


def _media_type_parts(media_type: str) -> tuple[str, str]:
    """(base type, version without trailing ``.0``) of a media type, in lower case."""
    base, *params = (part.strip().lower() for part in media_type.split(";"))
    version = next((p.partition("=")[2].strip(' "') for p in params if p.startswith("version")), "")
    while version.endswith(".0"):
        version = version[:-2]
    return base, version


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _describe(tag: str) -> str:
    namespace, _, local = tag.rpartition("}")
    namespace = namespace.lstrip("{")
    if "sdmx" in namespace.lower():
        return f"this is an SDMX-ML {local} message"
    return f"the root element is {local!r} in namespace {namespace!r}"


def _at(el: _Element, line: int | None = None) -> str:
    """Where ``el`` is: ``line`` when the reader knows it better than libxml2 (past 65,534)."""
    return f"line {line or el.sourceline}"


def _required(el: _Element, name: str, line: int | None) -> str:
    value = el.get(name)
    if value is None:
        raise DataReadError(f"{_local(el.tag)} without {name}", _at(el, line))
    return value


def _put_values(el: _Element, into: dict[str, str], line: int | None) -> None:
    """Puts the (id, value) pairs of a generic Attributes into ``into``."""
    for child in el:
        if child.tag == _G_VALUE:
            name, value = child.get("id"), child.get("value")
            if name is None or value is None:
                raise DataReadError(
                    f"Value without {'id' if name is None else 'value'}", _at(child, line)
                )
            into[name] = value


def _generic_values(el: _Element, line: int | None) -> Iterator[tuple[str, str]]:
    """The (id, value) pairs of a generic SeriesKey, GroupKey, ObsKey or Attributes."""
    for child in el:
        if child.tag == _G_VALUE:
            yield _required(child, "id", line), _required(child, "value", line)


def _action(text: str | None, where: str) -> Action:
    try:
        return Action.parse(text)
    except ValueError as exc:
        raise DataReadError(str(exc), where) from None


def _reference(el: _Element, cls: str, line: int | None) -> Ref:
    """A header structure reference: a 2.1 ``Ref`` child, a ``URN`` child or a 3.0 URN text."""
    for child in el:
        local = _local(child.tag)
        if local == "Ref":
            return Ref(
                cls=child.get("class") or cls,
                agency=_required(child, "agencyID", line),
                id=_required(child, "id", line),
                version=child.get("version") or "1.0",
            )
        if local == "URN":
            return _urn(child, line)
    return _urn(el, line)


def _urn(el: _Element, line: int | None) -> Ref:
    text = (el.text or "").strip()
    if not text:
        raise DataReadError(f"{_local(el.tag)} without a Ref or URN", _at(el, line))
    try:
        return parse_urn(text)
    except ValueError as exc:
        raise DataReadError(str(exc), _at(el, line)) from None


def _comps(el: _Element, line: int | None) -> Iterable[tuple[str, str]]:
    """SDMX-ML 3.0 ``Comp`` children: attribute values that are not simple XML attributes.

    One plain value is kept as it is; several values, or localised texts, become a JSON array
    whose items are strings or {language: text} objects.
    """
    for child in el:
        if child.tag == "Comp":
            values = [_comp_value(value) for value in child if _local(value.tag) == "Value"]
            comp_id = _required(child, "id", line)
            if len(values) == 1 and isinstance(values[0], str):
                yield comp_id, values[0]
            else:
                yield comp_id, msgspec.json.encode(values).decode() if values else ""


def _comp_value(value: _Element) -> str | dict[str, str]:
    texts = {
        text.get(XML_LANG) or "en": "".join(cast("Iterator[str]", text.itertext()))
        for text in value
        if _local(text.tag) in ("Text", "StructuredText")
    }
    return texts or (value.text or "")


def _prune(el: _Element) -> None:
    """Deletes the siblings before ``el``, which the reader has consumed: memory stays flat."""
    parent = el.getparent()
    if parent is not None:
        del parent[: parent.index(el)]
