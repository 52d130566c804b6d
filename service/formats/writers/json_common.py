"""Module for the parts SDMX-JSON 1.0 and 2.0.0 structure messages share.

Both versions build plain dicts and lists and encode them once with msgspec. What differs
between the versions is declared as class attributes of :class:`StructureBuilder` (the schema
URL, the URN class names, the text format keys, ``isFinal``, annotation values, key names and
the dimension list's shape) or written by the version's subclass (attributes, measures,
groups, constraint attachments and cube regions). :class:`SdmxJsonStructureWriter` is the
writer around a version's builder.

A builder holds the state of one message (the languages seen so far), so every call of a
writer makes its own builder: writers stay stateless and thread-safe.

Conventions, from the SDMX-JSON field guides (``structure-message/docs`` of sdmx-twg/sdmx-json,
tags ``v1.0`` and ``v2.0.0``):

- URNs of artefacts and items travel in ``links`` (``rel: self``), not in a ``urn`` property;
  a stub's ``structureURL`` is that link's ``href``.
- ``name``/``description`` is the best match for the client's languages, ``names``/
  ``descriptions`` carry every language.
- Arrays are never empty (the schemas say ``minItems: 1``): empty collections are left out.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar

import msgspec

from service.errors import SdmxError
from service.formats.base import Header, Lang
from service.model import (
    AgencyScheme,
    Annotation,
    Artefact,
    Attribute,
    Categorisation,
    Category,
    CategoryScheme,
    Codelist,
    Concept,
    ConceptScheme,
    ContentConstraint,
    CubeRegion,
    Dataflow,
    DataProviderScheme,
    DataStructure,
    Dimension,
    Group,
    Item,
    ItemScheme,
    Localised,
    MaintainableArtefact,
    Measure,
    ProvisionAgreement,
    Ref,
    Representation,
)
from service.model.urn import ITEM_CLASSES
from service.model.urn import ref_urn as model_ref_urn
from service.model.urn import urn as model_urn

#: A JSON object under construction.
JsonObj = dict[str, Any]

#: The SDMX-JSON property holding the items of each item scheme class.
ITEM_KEYS: Mapping[str, str] = {
    "Codelist": "codes",
    "ConceptScheme": "concepts",
    "CategoryScheme": "categories",
    "AgencyScheme": "agencies",
    "DataProviderScheme": "dataProviders",
}

#: TextFormat facets by JSON type; the SDMX-ML attribute names are the SDMX-JSON keys.
_INT_FACETS = frozenset({"minLength", "maxLength", "decimals"})
_NUMBER_FACETS = frozenset({"minValue", "maxValue", "startValue", "endValue", "interval"})
_BOOL_FACETS = frozenset({"isSequence", "isMultiLingual"})
#: The facets a time dimension's format may carry.
_TIME_FACETS = frozenset({"startTime", "endTime"})

#: What the meta ``id`` and party ``id`` may hold (both schemas).
_NOT_ID_CHAR = re.compile(r"[^A-Za-z0-9_@$-]")

#: The id of the time dimension, which cube region time ranges restrict.
TIME_PERIOD = "TIME_PERIOD"

#: Constraint attachments that are arrays of URNs, by the class they reference.
ATTACHMENT_KEYS: Mapping[str, str] = {
    "Dataflow": "dataflows",
    "DataStructure": "dataStructures",
    "ProvisionAgreement": "provisionAgreements",
}


def message_id(value: str) -> str:
    """A message or party id as the schemas allow it (``[A-Za-z0-9_@$-]+``)."""
    return _NOT_ID_CHAR.sub("_", value) or "UNKNOWN"


def rfc3339(value: dt.datetime) -> str:
    """An RFC 3339 timestamp; a naive datetime is taken to be UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.isoformat()


def iso_datetime(value: str | None) -> str | None:
    """``validFrom``/``validTo`` as an RFC 3339 timestamp, or None if it is not a date(time).

    SDMX-ML allows dates and datetimes without a time zone; the JSON schemas require
    ``format: date-time``, so a bare date becomes midnight and a missing zone becomes UTC.
    """
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return rfc3339(parsed)


def content_languages(seen: Iterable[str], lang: Lang) -> list[str]:
    """Every language used in the message, lower-cased, the best match for the client first."""
    tags = list(dict.fromkeys(tag.lower() for tag in seen))
    for wanted in (*lang.preferred, "en"):
        tag = wanted.lower()
        for candidate in (tag, tag.split("-")[0]):
            if candidate in tags:
                tags.remove(candidate)
                return [candidate, *tags]
    return tags


def _number(value: str) -> int | float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"not a finite number: {value!r}")
    return int(number) if number.is_integer() and "." not in value else number


def _facet(name: str, value: str) -> Any:
    if name in _INT_FACETS:
        return int(value)
    if name in _NUMBER_FACETS:
        return _number(value)
    if name in _BOOL_FACETS:
        return value.strip().lower() in ("true", "1")
    return value


def text_format(
    rep: Representation, type_key: str, allowed: frozenset[str] | None = None
) -> JsonObj:
    """A TextFormat object: the data type under ``type_key`` and the facets, typed.

    ``allowed`` restricts the facets (2.0's coded format forbids any other property). Facets
    whose value does not parse as their JSON type are left out.
    """
    out: JsonObj = {}
    if rep.text_type:
        out[type_key] = rep.text_type
    for name, value in rep.facets.items():
        if allowed is not None and name not in allowed:
            continue
        try:
            out[name] = _facet(name, value)
        except ValueError:
            continue
    return out


def error_message(error: SdmxError, header: Header, schema_url: str) -> bytes:
    """An SDMX-JSON error message: ``meta`` and ``errors``, never ``data`` with it."""
    entry: JsonObj = {"code": error.code, "title": error.title, "titles": {"en": error.title}}
    if error.detail:
        entry["detail"] = error.detail
        entry["details"] = {"en": error.detail}
    doc = {"meta": meta(header, schema_url, ["en"]), "errors": [entry]}
    return msgspec.json.encode(doc)


def meta(header: Header, schema_url: str, languages: Sequence[str]) -> JsonObj:
    """The ``meta`` object. ``schema`` comes first: pysdmx sniffs the first 350 characters."""
    out: JsonObj = {
        "schema": schema_url,
        "id": message_id(header.id),
        "test": header.test,
        "prepared": rfc3339(header.prepared),
    }
    if languages:
        out["contentLanguages"] = list(languages)
    out["sender"] = {"id": message_id(header.sender)}
    return out


def self_link(urn: str, href: str | None = None) -> list[JsonObj]:
    """The ``links`` array with the ``self`` link that carries an artefact's URN."""
    link: JsonObj = {"rel": "self", "urn": urn}
    if href:
        link["href"] = href
    return [link]


class StructureBuilder:
    """Turns model artefacts into the plain dicts of one SDMX-JSON structure message.

    Subclasses set the class attributes below and implement the version-specific artefacts.
    """

    #: ``meta.schema``.
    schema_url: ClassVar[str]
    #: The ``data`` property holding constraints: 1.0 ``contentConstraints``, 2.0
    #: ``dataConstraints``.
    constraints_key: ClassVar[str]
    #: SDMX class names as this version's URNs spell them (``ContentConstraint`` ...).
    class_aliases: ClassVar[Mapping[str, str]]
    #: Representation keys: 1.0 ``textFormat``/``textType``, 2.0 ``format``/``dataType``.
    format_key: ClassVar[str]
    type_key: ClassVar[str]
    #: Facets a coded (enumeration) format may carry; None for all.
    coded_facets: ClassVar[frozenset[str] | None]
    #: Whether maintainables carry ``isFinal`` (SDMX 2.1 only).
    with_is_final: ClassVar[bool]
    #: Whether annotations carry ``value`` (SDMX 3.0 only).
    with_annotation_value: ClassVar[bool]
    #: Whether a concept's ``parent`` is a URN (1.0) rather than an id (2.0).
    concept_parent_urn: ClassVar[bool]
    #: The constraint role's key: 1.0 ``type``, 2.0 ``role``.
    role_key: ClassVar[str]
    #: A provision agreement's dataflow key: 1.0 ``structureUsage``, 2.0 ``dataflow``.
    agreement_dataflow_key: ClassVar[str]
    #: Whether dimensions carry their ``type``, and the time dimension its ``position`` and
    #: ``type`` (1.0).
    typed_dimensions: ClassVar[bool]
    #: Whether the time dimension is in a ``timeDimensions`` array (1.0) rather than the
    #: ``timeDimension`` object (2.0).
    time_dimension_array: ClassVar[bool]

    def __init__(self, lang: Lang) -> None:
        self.lang = lang
        #: Every language tag met so far, in order (a dict used as an ordered set).
        self.languages: dict[str, object] = {}
        #: The ``data`` property and the builder of each model class, in ``data`` order.
        self._collections: dict[type[Artefact], tuple[str, Callable[[Any], JsonObj]]] = {
            Codelist: ("codelists", self.item_scheme),
            ConceptScheme: ("conceptSchemes", self.item_scheme),
            CategoryScheme: ("categorySchemes", self.item_scheme),
            AgencyScheme: ("agencySchemes", self.item_scheme),
            DataProviderScheme: ("dataProviderSchemes", self.item_scheme),
            DataStructure: ("dataStructures", self.data_structure),
            Dataflow: ("dataflows", self.dataflow),
            ContentConstraint: (self.constraints_key, self.constraint),
            ProvisionAgreement: ("provisionAgreements", self.provision_agreement),
            Categorisation: ("categorisations", self.categorisation),
        }

    # -- the message ------------------------------------------------------------------------

    def message(self, artefacts: Sequence[Artefact], header: Header) -> JsonObj:
        """The whole message: ``meta`` then ``data``, each collection in the order given."""
        data: dict[str, list[JsonObj]] = {key: [] for key, _ in self._collections.values()}
        for artefact in artefacts:
            key, build = self._collections[type(artefact)]
            data[key].append(build(artefact))
        languages = content_languages(self.languages, self.lang)
        return {
            "meta": meta(header, self.schema_url, languages),
            "data": {key: items for key, items in data.items() if items},
        }

    # -- references and text ----------------------------------------------------------------

    def urn(self, cls: str, agency: str, id_: str, version: str, item: str | None = None) -> str:
        """The URN of an artefact, or of an item or component when ``item`` is given."""
        return model_urn(self.class_aliases.get(cls, cls), agency, id_, version, item)

    def ref_urn(self, ref: Ref, cls: str | None = None) -> str:
        """The URN of a reference; ``cls`` replaces the class it names."""
        name = cls or ref.cls
        return model_ref_urn(ref, self.class_aliases.get(name, name))

    def concept_urn(self, ref: Ref, component_id: str) -> str:
        """A concept identity: always a Concept URN, whatever class the reference names."""
        return self.urn("Concept", ref.agency, ref.id, ref.version, ref.item or component_id)

    def artefact_urn(self, artefact: MaintainableArtefact) -> str:
        return self.urn(artefact.sdmx_class, artefact.agency, artefact.id, artefact.version)

    def put_text(self, out: JsonObj, key: str, texts: Localised) -> None:
        """``key`` (best match for the client) and ``key + "s"`` (every language)."""
        if texts:
            out[key] = self.lang.pick(texts)
            out[key + "s"] = texts
            self.languages.update(texts)

    def annotations(self, annotations: Sequence[Annotation]) -> list[JsonObj]:
        return [self.annotation(a) for a in annotations]

    def identified(self, id_: str, annotations: Sequence[Annotation]) -> JsonObj:
        """``id`` and the ``annotations``, if any: how components and groups begin."""
        out: JsonObj = {"id": id_}
        if annotations:
            out["annotations"] = self.annotations(annotations)
        return out

    def annotation(self, annotation: Annotation) -> JsonObj:
        out: JsonObj = {}
        if annotation.id is not None:
            out["id"] = annotation.id
        if annotation.title is not None:
            out["title"] = annotation.title
        if annotation.type is not None:
            out["type"] = annotation.type
        if self.with_annotation_value and annotation.value is not None:
            out["value"] = annotation.value
        if annotation.text:
            self.put_text(out, "text", annotation.text)
        if annotation.url:
            out["links"] = [{"rel": "self", "href": annotation.url}]
        return out

    def nameable(self, out: JsonObj, id_: str, names: Localised, descriptions: Localised) -> None:
        """``name`` (required by both schemas: the id when there is none) and descriptions."""
        if names:
            self.put_text(out, "name", names)
        else:
            out["name"] = id_
        self.put_text(out, "description", descriptions)

    # -- maintainables ------------------------------------------------------------------------

    def maintainable(self, artefact: MaintainableArtefact) -> JsonObj:
        """What every maintainable artefact carries, stubs included."""
        out: JsonObj = {"id": artefact.id, "agencyID": artefact.agency, "version": artefact.version}
        self.nameable(out, artefact.id, artefact.names, artefact.descriptions)
        if artefact.annotations:
            out["annotations"] = self.annotations(artefact.annotations)
        out["links"] = self_link(
            self.artefact_urn(artefact), artefact.structure_url if artefact.is_stub else None
        )
        if self.with_is_final:
            out["isFinal"] = artefact.is_final
        out["isExternalReference"] = artefact.is_stub
        for key, value in (("validFrom", artefact.valid_from), ("validTo", artefact.valid_to)):
            stamp = iso_datetime(value)
            if stamp:
                out[key] = stamp
        return out

    def item_scheme(self, scheme: ItemScheme) -> JsonObj:
        out = self.maintainable(scheme)
        if scheme.is_partial:
            out["isPartial"] = True
        if scheme.items and not scheme.is_stub:
            out[ITEM_KEYS[scheme.sdmx_class]] = self.items(scheme)
        return out

    def items(self, scheme: ItemScheme) -> list[JsonObj]:
        """Nested categories, concepts, or flat items with their ``parent`` id (codes,
        agencies, data providers)."""
        prefix = self.urn(ITEM_CLASSES[scheme.sdmx_class], scheme.agency, scheme.id, scheme.version)
        if isinstance(scheme, CategoryScheme):
            return self.category_tree(scheme, prefix)
        if isinstance(scheme, ConceptScheme):
            return [self.concept(c, prefix) for c in scheme.items]
        out = []
        for item in scheme.items:
            obj = self.item(item, prefix)
            if item.parent:
                obj["parent"] = item.parent
            out.append(obj)
        return out

    def item(self, item: Item, urn_prefix: str, path: str | None = None) -> JsonObj:
        out: JsonObj = {"id": item.id}
        self.nameable(out, item.id, item.names, item.descriptions)
        if item.annotations:
            out["annotations"] = self.annotations(item.annotations)
        out["links"] = [{"rel": "self", "urn": f"{urn_prefix}.{path or item.id}"}]
        return out

    def concept(self, concept: Concept, urn_prefix: str) -> JsonObj:
        out = self.item(concept, urn_prefix)
        if concept.core_representation is not None:
            rep = self.representation(concept.core_representation)
            if rep:
                out["coreRepresentation"] = rep
        if concept.parent:
            parent = f"{urn_prefix}.{concept.parent}"
            out["parent"] = parent if self.concept_parent_urn else concept.parent
        return out

    def category_tree(self, scheme: CategoryScheme, urn_prefix: str) -> list[JsonObj]:
        """Categories nested by parent, their URNs spelling the dotted path (``A.A1``)."""
        paths = category_paths(scheme.items)
        nodes = {c.id: self.item(c, urn_prefix, paths[c.id]) for c in scheme.items}
        roots: list[JsonObj] = []
        for category in scheme.items:
            parent = nodes.get(category.parent) if category.parent else None
            if parent is None or paths[category.id] == category.id:
                roots.append(nodes[category.id])
            else:
                parent.setdefault("categories", []).append(nodes[category.id])
        return roots

    def dataflow(self, flow: Dataflow) -> JsonObj:
        out = self.maintainable(flow)
        if not flow.is_stub:
            out["structure"] = self.ref_urn(flow.structure, "DataStructure")
        return out

    def categorisation(self, categorisation: Categorisation) -> JsonObj:
        out = self.maintainable(categorisation)
        if not categorisation.is_stub:
            out["source"] = self.ref_urn(categorisation.source)
            out["target"] = self.ref_urn(categorisation.target, "Category")
        return out

    # -- representations ----------------------------------------------------------------------

    def representation(self, rep: Representation) -> JsonObj:
        """A core or local representation: a codelist (+ its format) or a text format."""
        if rep.enumeration is not None:
            out: JsonObj = {"enumeration": self.ref_urn(rep.enumeration)}
            fmt = text_format(rep, self.type_key, self.coded_facets)
            if fmt:
                out["enumerationFormat"] = fmt
            return out
        fmt = text_format(rep, self.type_key)
        return {self.format_key: fmt} if fmt else {}

    def time_representation(self, rep: Representation | None) -> JsonObj:
        """The time dimension's format: required by both schemas, a time data type."""
        fmt = text_format(rep, self.type_key, _TIME_FACETS) if rep else {}
        fmt.setdefault(self.type_key, "ObservationalTimePeriod")
        return {self.format_key: fmt}

    # -- constraints --------------------------------------------------------------------------

    def time_range(self, region: CubeRegion) -> JsonObj | None:
        """A cube region's TIME_PERIOD bounds as a TimeRangeValue (bounds inclusive)."""
        start, end = region.time_start, region.time_end
        if start and end:
            return {
                "startPeriod": {"period": start, "isInclusive": True},
                "endPeriod": {"period": end, "isInclusive": True},
            }
        if start:
            return {"afterPeriod": {"period": start, "isInclusive": True}}
        if end:
            return {"beforePeriod": {"period": end, "isInclusive": True}}
        return None

    # -- data structures and constraints ------------------------------------------------------

    def data_structure(self, dsd: DataStructure) -> JsonObj:
        out = self.maintainable(dsd)
        if not dsd.is_stub:
            out["dataStructureComponents"] = self.components(dsd)
        return out

    def components(self, dsd: DataStructure) -> JsonObj:
        out: JsonObj = {"dimensionList": self.dimension_list(dsd)}
        if dsd.groups:
            out["groups"] = [self.group(g) for g in dsd.groups]
        if dsd.attributes:
            out["attributeList"] = {"id": "AttributeDescriptor", "attributes": self.attributes(dsd)}
        if dsd.measures:
            out["measureList"] = {"id": "MeasureDescriptor", **self.measures(dsd.measures)}
        return out

    def dimension_list(self, dsd: DataStructure) -> JsonObj:
        out: JsonObj = {"id": "DimensionDescriptor"}
        if dsd.key_dimensions:
            out["dimensions"] = [self.dimension(d) for d in dsd.key_dimensions]
        time = dsd.time_dimension
        if time is not None:
            if self.time_dimension_array:
                out["timeDimensions"] = [self.time_dimension(time)]
            else:
                out["timeDimension"] = self.time_dimension(time)
        return out

    def dimension(self, dimension: Dimension) -> JsonObj:
        out = self.component(dimension)
        out["position"] = dimension.position
        if self.typed_dimensions:
            out["type"] = "Dimension"
        return out

    def time_dimension(self, dimension: Dimension) -> JsonObj:
        out = self.identified(dimension.id, dimension.annotations)
        if self.typed_dimensions:
            out["position"] = dimension.position
            out["type"] = "TimeDimension"
        out["conceptIdentity"] = self.concept_urn(dimension.concept, dimension.id)
        out["localRepresentation"] = self.time_representation(dimension.representation)
        return out

    def component(self, component: Dimension | Attribute | Measure) -> JsonObj:
        """What every component has: id, annotations, concept identity, representation."""
        out = self.identified(component.id, component.annotations)
        out["conceptIdentity"] = self.concept_urn(component.concept, component.id)
        if component.representation is not None:
            rep = self.representation(component.representation)
            if rep:
                out["localRepresentation"] = rep
        return out

    def constraint(self, constraint: ContentConstraint) -> JsonObj:
        out = self.maintainable(constraint)
        out[self.role_key] = constraint.role
        if constraint.is_stub:
            return out
        attachment = self.constraint_attachment(constraint.attachment)
        if attachment:
            out["constraintAttachment"] = attachment
        if constraint.cube_regions:
            out["cubeRegions"] = [self.cube_region(r) for r in constraint.cube_regions]
        return out

    def key_values(self, region: CubeRegion) -> list[JsonObj]:
        """A cube region's key values, then its TIME_PERIOD range, if any."""
        keys = [
            self.key_value(component, values) for component, values in region.key_values.items()
        ]
        time_range = self.time_range(region)
        if time_range is not None:
            keys.append({"id": TIME_PERIOD, "timeRange": time_range})
        return keys

    def provision_agreement(self, agreement: ProvisionAgreement) -> JsonObj:
        """The dataflow and provider references, in stubs too: the 1.0 schema requires them."""
        out = self.maintainable(agreement)
        out[self.agreement_dataflow_key] = self.ref_urn(agreement.dataflow, "Dataflow")
        out["dataProvider"] = self.ref_urn(agreement.provider, "DataProvider")
        return out

    # -- version-specific -------------------------------------------------------------------

    def attributes(self, dsd: DataStructure) -> list[JsonObj]:
        """The attribute list's ``attributes`` (``dsd.attributes`` is not empty)."""
        raise NotImplementedError

    def measures(self, measures: Sequence[Measure]) -> JsonObj:
        """The measure list's content beside its ``id`` (``measures`` is not empty)."""
        raise NotImplementedError

    def group(self, group: Group) -> JsonObj:
        raise NotImplementedError

    def constraint_attachment(self, refs: Sequence[Ref]) -> JsonObj | None:
        raise NotImplementedError

    def cube_region(self, region: CubeRegion) -> JsonObj:
        raise NotImplementedError

    def key_value(self, component: str, values: Sequence[str]) -> JsonObj:
        """A cube region's key value for one component."""
        raise NotImplementedError


class SdmxJsonStructureWriter:
    """An SDMX-JSON structure and error message writer; ``builder`` is the version's."""

    media_type: ClassVar[str]
    builder: ClassVar[type[StructureBuilder]]

    def write_structures(
        self, artefacts: Sequence[Artefact], *, header: Header, lang: Lang
    ) -> bytes:
        return msgspec.json.encode(self.builder(lang).message(artefacts, header))

    def write_error(self, error: SdmxError, *, header: Header) -> bytes:
        return error_message(error, header, self.builder.schema_url)


def category_paths(categories: Sequence[Category]) -> dict[str, str]:
    """The dotted path of each category (``A.A1``), as its URN spells it.

    A category whose parent is absent (a partial scheme) or part of a cycle is a root.
    """
    parents = {c.id: c.parent for c in categories}
    paths: dict[str, str] = {}
    for category in categories:
        chain = [category.id]
        parent = category.parent
        while parent and parent in parents and parent not in chain:
            chain.append(parent)
            parent = parents[parent]
        if parent in chain:  # a cycle: cut it here
            chain = [category.id]
        paths[category.id] = ".".join(reversed(chain))
    return paths
