"""Reads SDMX-ML 2.1 and 3.0 structure messages into model artefacts, with a hardened parser."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

from lxml import etree
from lxml.etree import _Element

from service.model import (
    Agency,
    AgencyScheme,
    Annotation,
    Artefact,
    Attribute,
    AttributeRelationship,
    Categorisation,
    Category,
    CategoryScheme,
    Code,
    Codelist,
    Concept,
    ConceptScheme,
    ContentConstraint,
    CubeRegion,
    Dataflow,
    DataProvider,
    DataProviderScheme,
    DataStructure,
    Dimension,
    Group,
    Localised,
    Measure,
    ProvisionAgreement,
    Ref,
    Representation,
)
from service.model.urn import parse_urn as parse_model_urn

SdmxMlVersion = Literal["2.1", "3.0"]

_NS_PREFIX = "{http://www.sdmx.org/resources/sdmxml/schemas/"
_MESSAGE_NS: dict[str, SdmxMlVersion] = {
    f"{_NS_PREFIX}v2_1/message}}": "2.1",
    f"{_NS_PREFIX}v3_0/message}}": "3.0",
}
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
#: The class a 2.1 ``<Ref>`` without ``class`` points to, by the element that holds it.
_DEFAULT_CLASS = {
    "ConceptIdentity": "Concept",
    "ConceptRole": "Concept",
    "Enumeration": "Codelist",
    "Structure": "DataStructure",
    "StructureUsage": "Dataflow",
    "Target": "Category",
}
_ATTACHMENT_REFS = frozenset(
    {"DataProvider", "DataStructure", "Dataflow", "ProvisionAgreement", "MetadataStructure",
     "Metadataflow"}
)  # fmt: skip
_UNUSED_CONSTRAINT_PARTS = frozenset(
    {"DataKeySet", "MetadataKeySet", "MetadataTargetRegion", "ReleaseCalendar", "ReferencePeriod"}
)
_MAX_IDS_IN_NOTE = 10


class StructureReadError(ValueError):
    """A structure message this reader refuses or cannot read; the text says what and where."""


@dataclasses.dataclass(frozen=True, slots=True)
class StructureReadResult:
    """The artefacts of a structure message, and notes on what was skipped or simplified."""

    artefacts: list[Artefact]
    skipped: list[str]
    version: SdmxMlVersion
    message_id: str | None = None
    #: The header's ``Prepared`` timestamp, as given, and parsed when it is ISO 8601.
    prepared_text: str | None = None
    prepared: dt.datetime | None = None


def read_structures(source: bytes | Path) -> StructureReadResult:
    """Every supported artefact of an SDMX-ML 2.1 or 3.0 structure message, in document order.

    Artefact kinds the model does not hold (hierarchical codelists, metadata structures,
    structure sets, VTL schemes...) are left out and listed in ``skipped``, as are details the
    model cannot carry. Raises ``StructureReadError`` for documents with a DTD, malformed XML,
    other message types and structures that break the SDMX-ML schema's required parts.
    """
    data = source.read_bytes() if isinstance(source, Path) else source
    root = _parse(data)
    ns, _, local = root.tag.partition("}")
    version = _MESSAGE_NS.get(ns + "}")
    if version is None:
        raise StructureReadError(
            f"line {root.sourceline}: {root.tag} is not an SDMX-ML 2.1/3.0 message"
        )
    if local != "Structure":
        raise StructureReadError(
            f"line {root.sourceline}: this is an SDMX-ML {version} {local} message, "
            "not a structure message"
        )
    return _Reader(version).read(root)


def parse_urn(urn: str) -> Ref:
    """A model reference from an SDMX URN (``urn:sdmx:org.sdmx.infomodel.<package>.<Class>=``).

    Raises:
        StructureReadError: when ``urn`` is not an SDMX artefact or item URN.
    """
    try:
        return parse_model_urn(urn)
    except ValueError as exc:
        raise StructureReadError(str(exc)) from None


def _parse(data: bytes) -> _Element:
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise StructureReadError("the document declares a DTD (<!DOCTYPE>/<!ENTITY>): refused")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise StructureReadError(f"not well-formed XML: {exc}") from None
    docinfo = root.getroottree().docinfo
    doctype: str = getattr(docinfo, "doctype", "")
    if doctype or docinfo.internalDTD is not None:
        raise StructureReadError("the document declares a DTD (<!DOCTYPE>): refused")
    return root


_LOCAL_NAMES: dict[str, str] = {}
_MAX_CACHED_NAMES = 2048


def _local(tag: str) -> str:
    name = _LOCAL_NAMES.get(tag)
    if name is None:
        name = tag.rpartition("}")[2]
        if len(_LOCAL_NAMES) < _MAX_CACHED_NAMES:  # a hostile document cannot grow it forever
            _LOCAL_NAMES[tag] = name
    return name


def _children(el: _Element) -> Iterator[tuple[str, _Element]]:
    """The child elements of ``el`` with their local names (comments and PIs are stripped)."""
    for child in el:
        tag = child.tag
        if isinstance(tag, str):
            yield _local(tag), child


def _path(el: _Element) -> str:
    parts = []
    node: _Element | None = el
    while node is not None:
        tag = node.tag
        name = _local(tag) if isinstance(tag, str) else "?"
        ident = node.get("id")
        parts.append(f"{name}[@id={ident!r}]" if ident else name)
        node = node.getparent()
    return "/".join(reversed(parts))


def _error(el: _Element, problem: str) -> StructureReadError:
    return StructureReadError(f"line {el.sourceline}, {_path(el)}: {problem}")


def _required(el: _Element, name: str) -> str:
    value = el.get(name)
    if value is None:
        raise _error(el, f"the {name!r} attribute is missing")
    return value


def _bool(el: _Element, name: str, default: bool) -> bool:
    value = el.get(name)
    if value is None:
        return default
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise _error(el, f"{name}={value!r} is not a boolean")


def _text(el: _Element) -> str:
    """The text of a value element (a URN, an id, a code), without surrounding whitespace."""
    text = (el.text or "").strip()
    if not text:
        raise _error(el, "the element is empty")
    return text


def _label(el: _Element) -> str:
    agency = el.get("agencyID", "?")
    return f"{agency}:{el.get('id', '?')}({el.get('version', '1.0')})"


def _parse_prepared(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        return dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None


@dataclasses.dataclass(slots=True)
class _Described:
    """What every identifiable element shares: names, descriptions, annotations."""

    names: Localised
    descriptions: Localised
    annotations: tuple[Annotation, ...]
    rest: list[tuple[str, _Element]]


class _Reader:
    """One pass over one message; collects notes on what the model cannot hold."""

    def __init__(self, version: SdmxMlVersion) -> None:
        self.version: SdmxMlVersion = version
        self.notes: list[str] = []
        self.unsupported: dict[str, list[str]] = {}
        self.handlers: dict[str, Callable[[_Element], Artefact | None]] = {
            "Codelist": self.codelist,
            "ConceptScheme": self.concept_scheme,
            "CategoryScheme": self.category_scheme,
            "AgencyScheme": self.agency_scheme,
            "DataProviderScheme": self.data_provider_scheme,
            "DataStructure": self.data_structure,
            "Dataflow": self.dataflow,
            "ContentConstraint": self.constraint,
            "DataConstraint": self.constraint,
            "ProvisionAgreement": self.provision_agreement,
            "Categorisation": self.categorisation,
        }

    # -- the message ---------------------------------------------------------------------

    def read(self, root: _Element) -> StructureReadResult:
        artefacts: list[Artefact] = []
        message_id = prepared = None
        for name, part in _children(root):
            if name == "Header":
                message_id, prepared = self.header(part)
            elif name == "Structures":
                artefacts.extend(self.structures(part))
        skipped = [self.unsupported_note(kind, ids) for kind, ids in self.unsupported.items()]
        return StructureReadResult(
            artefacts=artefacts,
            skipped=skipped + self.notes,
            version=self.version,
            message_id=message_id,
            prepared_text=prepared,
            prepared=_parse_prepared(prepared),
        )

    def header(self, header: _Element) -> tuple[str | None, str | None]:
        message_id = prepared = None
        for name, child in _children(header):
            if name == "ID":
                message_id = (child.text or "").strip() or None
            elif name == "Prepared":
                prepared = (child.text or "").strip() or None
        return message_id, prepared

    def structures(self, structures: _Element) -> Iterator[Artefact]:
        for _, collection in _children(structures):
            for name, el in _children(collection):
                handler = self.handlers.get(name)
                if handler is None:
                    self.unsupported.setdefault(name, []).append(_label(el))
                    continue
                artefact = handler(el)
                if artefact is not None:
                    yield artefact

    def unsupported_note(self, kind: str, labels: list[str]) -> str:
        shown = ", ".join(labels[:_MAX_IDS_IN_NOTE])
        more = (
            f" and {len(labels) - _MAX_IDS_IN_NOTE} more" if len(labels) > _MAX_IDS_IN_NOTE else ""
        )
        return f"{len(labels)} {kind} skipped (not supported by this service): {shown}{more}"

    def note(self, el: _Element, text: str) -> None:
        self.notes.append(f"line {el.sourceline}, {_path(el)}: {text}")

    # -- shared parts ------------------------------------------------------------------------

    def describe(self, el: _Element) -> _Described:
        names: Localised = {}
        descriptions: Localised = {}
        annotations: tuple[Annotation, ...] = ()
        rest: list[tuple[str, _Element]] = []
        for name, child in _children(el):
            if name == "Name":
                names[child.get(_XML_LANG, "en")] = child.text or ""
            elif name == "Description":
                descriptions[child.get(_XML_LANG, "en")] = child.text or ""
            elif name == "Annotations":
                annotations = tuple(self.annotation(a) for _, a in _children(child))
            else:
                rest.append((name, child))
        return _Described(names, descriptions, annotations, rest)

    def annotation(self, el: _Element) -> Annotation:
        fields: dict[str, str] = {}
        text: Localised = {}
        for name, child in _children(el):
            if name == "AnnotationText":
                text[child.get(_XML_LANG, "en")] = child.text or ""
            elif name == "AnnotationURL" and "url" in fields:
                self.note(child, "a second AnnotationURL is dropped (the model keeps one)")
            elif name in ("AnnotationTitle", "AnnotationType", "AnnotationURL", "AnnotationValue"):
                fields[name[10:].lower()] = child.text or ""
        return Annotation(id=el.get("id"), text=text, **fields)

    def maintainable(self, el: _Element) -> tuple[dict[str, Any], _Described]:
        described = self.describe(el)
        version = el.get("version", "1.0")
        # SDMX 3.0 has no isFinal: a version without a "-draft" style extension is final.
        is_final = _bool(el, "isFinal", False) if self.version == "2.1" else "-" not in version
        fields: dict[str, Any] = {
            "agency": _required(el, "agencyID"),
            "id": _required(el, "id"),
            "version": version,
            "names": described.names,
            "descriptions": described.descriptions,
            "annotations": described.annotations,
            "is_final": is_final,
            "valid_from": el.get("validFrom"),
            "valid_to": el.get("validTo"),
            "is_stub": _bool(el, "isExternalReference", False),
            "structure_url": el.get("structureURL"),
        }
        return fields, described

    def item(self, el: _Element) -> tuple[dict[str, Any], list[tuple[str, _Element]]]:
        """The fields every item shares, including ``parent``, and its other children."""
        described = self.describe(el)
        fields: dict[str, Any] = {
            "id": _required(el, "id"),
            "names": described.names,
            "descriptions": described.descriptions,
            "annotations": described.annotations,
        }
        rest = []
        for name, child in described.rest:
            if name == "Parent":
                fields["parent"] = self.local_id(child)
            else:
                rest.append((name, child))
        return fields, rest

    def ref(self, el: _Element, default_cls: str | None = None) -> Ref:
        """The reference ``el`` holds: a 2.1 ``<Ref>`` or ``<URN>`` child, or 3.0 URN text."""
        cls = default_cls or _DEFAULT_CLASS.get(_local(el.tag))
        if self.version == "3.0":
            return self.urn(el, _text(el))
        for name, child in _children(el):
            if name == "Ref":
                return self.ref21(child, cls)
            if name == "URN":
                return self.urn(child, _text(child))
        raise _error(el, "the reference holds neither <Ref> nor <URN>")

    def urn(self, el: _Element, urn: str) -> Ref:
        try:
            return parse_urn(urn)
        except StructureReadError as exc:
            raise _error(el, str(exc)) from None

    def ref21(self, el: _Element, default_cls: str | None) -> Ref:
        cls = el.get("class", default_cls)
        if cls is None:
            raise _error(el, "the reference has no 'class' and none follows from its place")
        agency = _required(el, "agencyID")
        parent = el.get("maintainableParentID")
        if parent is not None:
            version = el.get("maintainableParentVersion", "1.0")
            return Ref(cls=cls, agency=agency, id=parent, version=version, item=_required(el, "id"))
        return Ref(cls=cls, agency=agency, id=_required(el, "id"), version=el.get("version", "1.0"))

    def local_id(self, el: _Element) -> str:
        """A reference inside the same artefact: 2.1 ``<Ref id="X"/>``, 3.0 text ``X``."""
        if self.version == "3.0":
            return _text(el)
        for name, child in _children(el):
            if name == "Ref":
                return _required(child, "id")
            if name == "URN":
                ref = self.urn(child, _text(child))
                return ref.item or ref.id
        raise _error(el, "the local reference holds no <Ref>")

    def representation(self, el: _Element) -> Representation:
        """A ``LocalRepresentation`` or ``CoreRepresentation``.

        With an enumeration, ``text_type`` and ``facets`` come from ``EnumerationFormat``.
        """
        enumeration: Ref | None = None
        text_type: str | None = None
        facets: dict[str, str] = {}
        for name, child in _children(el):
            if name == "Enumeration":
                enumeration = self.ref(child)
            elif name in ("TextFormat", "EnumerationFormat"):
                for key, value in child.attrib.items():
                    if key == "textType":
                        text_type = str(value)
                    else:
                        facets[str(key)] = str(value)
        return Representation(enumeration=enumeration, text_type=text_type, facets=facets)

    # -- item schemes ------------------------------------------------------------------------

    def codelist(self, el: _Element) -> Codelist:
        fields, described = self.maintainable(el)
        codes = []
        for name, child in described.rest:
            if name == "Code":
                codes.append(Code(**self.item(child)[0]))
            elif name == "CodelistExtension":
                self.note(
                    child, "CodelistExtension is not expanded: only the listed codes are read"
                )
        return Codelist(items=tuple(codes), is_partial=_bool(el, "isPartial", False), **fields)

    def concept_scheme(self, el: _Element) -> ConceptScheme:
        fields, described = self.maintainable(el)
        concepts = [self.concept(c) for name, c in described.rest if name == "Concept"]
        return ConceptScheme(
            items=tuple(concepts), is_partial=_bool(el, "isPartial", False), **fields
        )

    def concept(self, el: _Element) -> Concept:
        fields, rest = self.item(el)
        for name, child in rest:
            if name == "CoreRepresentation":
                fields["core_representation"] = self.representation(child)
        return Concept(**fields)

    def category_scheme(self, el: _Element) -> CategoryScheme:
        fields, described = self.maintainable(el)
        categories: list[Category] = []
        self.categories(described.rest, None, categories)
        return CategoryScheme(
            items=tuple(categories), is_partial=_bool(el, "isPartial", False), **fields
        )

    def categories(
        self, children: list[tuple[str, _Element]], parent: str | None, out: list[Category]
    ) -> None:
        """Flattens nested categories depth first, each followed by its children."""
        for name, child in children:
            if name == "Category":
                fields, rest = self.item(child)
                out.append(Category(parent=parent, **fields))
                self.categories(rest, fields["id"], out)

    def agency_scheme(self, el: _Element) -> AgencyScheme:
        fields, described = self.maintainable(el)
        items = [Agency(**self.item(c)[0]) for name, c in described.rest if name == "Agency"]
        return AgencyScheme(items=tuple(items), is_partial=_bool(el, "isPartial", False), **fields)

    def data_provider_scheme(self, el: _Element) -> DataProviderScheme:
        fields, described = self.maintainable(el)
        items = [
            DataProvider(**self.item(c)[0]) for name, c in described.rest if name == "DataProvider"
        ]
        return DataProviderScheme(
            items=tuple(items), is_partial=_bool(el, "isPartial", False), **fields
        )

    # -- data structures ---------------------------------------------------------------------

    def data_structure(self, el: _Element) -> DataStructure:
        fields, described = self.maintainable(el)
        parts: dict[str, Any] = {}
        groups: list[Group] = []
        for name, components in described.rest:
            if name != "DataStructureComponents":
                continue
            for list_name, child in _children(components):
                if list_name == "DimensionList":
                    parts["dimensions"] = self.dimensions(child)
                elif list_name == "Group":
                    groups.append(self.group(child))
                elif list_name == "AttributeList":
                    parts["attributes"] = self.attributes(child)
                elif list_name == "MeasureList":
                    parts["measures"] = self.measures(child)
        return DataStructure(groups=tuple(groups), **parts, **fields)

    def component(self, el: _Element) -> tuple[dict[str, Any], list[tuple[str, _Element]]]:
        """``id``, ``concept``, ``representation`` and ``annotations`` of a component."""
        described = self.describe(el)
        fields: dict[str, Any] = {"annotations": described.annotations}
        rest = []
        for name, child in described.rest:
            if name == "ConceptIdentity":
                fields["concept"] = self.ref(child)
            elif name == "LocalRepresentation":
                fields["representation"] = self.representation(child)
            else:
                rest.append((name, child))
        if "concept" not in fields:
            raise _error(el, "the component has no ConceptIdentity")
        concept: Ref = fields["concept"]
        fields["id"] = el.get("id") or _FIXED_IDS.get(_local(el.tag)) or concept.item or concept.id
        return fields, rest

    def dimensions(self, el: _Element) -> tuple[Dimension, ...]:
        dims = []
        for index, (name, child) in enumerate(_children(el), start=1):
            if name not in ("Dimension", "TimeDimension", "MeasureDimension"):
                continue
            fields, _ = self.component(child)
            if name == "MeasureDimension":
                self.note(
                    child, "MeasureDimension read as an ordinary dimension coded by its scheme"
                )
            position = child.get("position")
            dims.append(
                Dimension(
                    position=int(position) if position else index,
                    kind="time" if name == "TimeDimension" else "dimension",
                    **fields,
                )
            )
        return tuple(sorted(dims, key=lambda d: d.position))

    def group(self, el: _Element) -> Group:
        described = self.describe(el)
        dims: list[str] = []
        for name, child in described.rest:
            if name == "GroupDimension":
                dims.extend(
                    self.local_id(ref) for n, ref in _children(child) if n == "DimensionReference"
                )
            elif name == "AttachmentConstraint":
                self.note(
                    child, "a group defined by an AttachmentConstraint is read without dimensions"
                )
        return Group(
            id=_required(el, "id"), dimensions=tuple(dims), annotations=described.annotations
        )

    def attributes(self, el: _Element) -> tuple[Attribute, ...]:
        attributes = []
        metadata_usages = 0
        for name, child in _children(el):
            if name in ("Attribute", "ReportingYearStartDay"):
                attributes.append(self.attribute(child))
            if name == "ReportingYearStartDay":
                self.note(child, "ReportingYearStartDay read as an ordinary attribute")
            elif name == "MetadataAttributeUsage":
                metadata_usages += 1
        if metadata_usages:
            self.note(el, f"{metadata_usages} MetadataAttributeUsage left out (not supported)")
        return tuple(attributes)

    def attribute(self, el: _Element) -> Attribute:
        fields, rest = self.component(el)
        relationship = next((c for n, c in rest if n == "AttributeRelationship"), None)
        if relationship is None:
            raise _error(el, "the attribute has no AttributeRelationship")
        if self.version == "2.1":
            mandatory = el.get("assignmentStatus") == "Mandatory"
        else:
            mandatory = el.get("usage") == "mandatory"
        return Attribute(
            relationship=self.relationship(relationship), mandatory=mandatory, **fields
        )

    def relationship(self, el: _Element) -> AttributeRelationship:
        dims: list[str] = []
        groups: list[str] = []
        for name, child in _children(el):
            level = _LEVELS.get(name)
            if level is not None:
                return AttributeRelationship(level=level)
            if name == "Group":
                return AttributeRelationship(level="group", group=self.local_id(child))
            if name == "Dimension":
                dims.append(self.local_id(child))
            elif name == "AttachmentGroup":
                groups.append(self.local_id(child))
        if not dims:
            raise _error(el, "the attribute relationship names no attachment")
        if len(groups) > 1:
            self.note(el, f"only the first of the attachment groups {groups} is kept")
        return AttributeRelationship(
            level="dimensions",
            dimensions=tuple(dims),
            attachment_group=groups[0] if groups else None,
        )

    def measures(self, el: _Element) -> tuple[Measure, ...]:
        return tuple(
            Measure(**self.component(child)[0])
            for name, child in _children(el)
            if name in ("PrimaryMeasure", "Measure")
        )

    # -- structure usages and the rest -------------------------------------------------------

    def dataflow(self, el: _Element) -> Dataflow | None:
        fields, described = self.maintainable(el)
        structure = next((c for n, c in described.rest if n == "Structure"), None)
        if structure is None:
            self.note(el, "dataflow skipped: it names no data structure")
            return None
        return Dataflow(structure=self.ref(structure, "DataStructure"), **fields)

    def constraint(self, el: _Element) -> ContentConstraint:
        fields, described = self.maintainable(el)
        given = el.get("role") if self.version == "3.0" else el.get("type", "Actual")
        role = _ROLES.get(given or "")
        if role is None:
            raise _error(el, f"constraint role {given!r} is neither 'Allowed' nor 'Actual'")
        attachment: list[Ref] = []
        regions: list[CubeRegion] = []
        for name, child in described.rest:
            if name == "ConstraintAttachment":
                attachment.extend(self.attachment(child))
            elif name == "CubeRegion":
                regions.append(self.cube_region(child))
            elif name in _UNUSED_CONSTRAINT_PARTS:
                self.note(child, f"{name} is not supported and left out")
        return ContentConstraint(
            role=role, attachment=tuple(attachment), cube_regions=tuple(regions), **fields
        )

    def attachment(self, el: _Element) -> Iterator[Ref]:
        for name, child in _children(el):
            if name in _ATTACHMENT_REFS:
                yield self.ref(child, name)
            else:
                self.note(child, f"constraint attachment to a {name} is not supported")

    def cube_region(self, el: _Element) -> CubeRegion:
        key_values: dict[str, tuple[str, ...]] = {}
        times: dict[str, str] = {}
        for name, child in _children(el):
            if name not in ("KeyValue", "Attribute", "Component"):
                continue
            component = _required(child, "id")
            if not _bool(child, "include", True):
                self.note(child, f"the exclusion of {component} values inside a region is lost")
            values = []
            for value_name, value in _children(child):
                if value_name == "Value":
                    values.append(_text(value))
                elif value_name == "TimeRange":
                    times.update(self.time_range(value))
                else:
                    self.note(value, f"a {value_name} selection is not supported")
            if values:
                key_values[component] = tuple(values)
        return CubeRegion(include=_bool(el, "include", True), key_values=key_values, **times)

    def time_range(self, el: _Element) -> dict[str, str]:
        bounds: dict[str, str] = {}
        for name, child in _children(el):
            key = _TIME_BOUNDS.get(name)
            if key is None:
                continue
            bounds[key] = _text(child)
            if not _bool(child, "isInclusive", True):
                self.note(child, f"{name} is exclusive; the model keeps only inclusive bounds")
        return bounds

    def provision_agreement(self, el: _Element) -> ProvisionAgreement | None:
        fields, described = self.maintainable(el)
        for name, child in described.rest:
            if name in ("StructureUsage", "Dataflow"):
                fields["dataflow"] = self.ref(child, "Dataflow")
            elif name == "DataProvider":
                fields["provider"] = self.ref(child, "DataProvider")
        if "dataflow" not in fields or "provider" not in fields:
            self.note(el, "provision agreement skipped: it lacks its dataflow or data provider")
            return None
        return ProvisionAgreement(**fields)

    def categorisation(self, el: _Element) -> Categorisation | None:
        fields, described = self.maintainable(el)
        for name, child in described.rest:
            if name == "Source":
                fields["source"] = self.ref(child, "Dataflow")
            elif name == "Target":
                fields["target"] = self.ref(child, "Category")
        if "source" not in fields or "target" not in fields:
            self.note(el, "categorisation skipped: it lacks its source or target")
            return None
        return Categorisation(**fields)


_ROLES: dict[str, Literal["Allowed", "Actual"]] = {"Allowed": "Allowed", "Actual": "Actual"}
_FIXED_IDS = {"TimeDimension": "TIME_PERIOD", "PrimaryMeasure": "OBS_VALUE"}
_LEVELS: dict[str, Literal["dataset", "observation"]] = {
    "None": "dataset",
    "Dataflow": "dataset",
    "PrimaryMeasure": "observation",
    "Observation": "observation",
}
_TIME_BOUNDS = {
    "StartPeriod": "time_start",
    "AfterPeriod": "time_start",
    "EndPeriod": "time_end",
    "BeforePeriod": "time_end",
}
