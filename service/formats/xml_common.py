"""Namespaces, tag helpers and the structure writer that SDMX-ML 2.1 and 3.0 share.

Every SDMX-ML namespace string lives here. :class:`SdmxMlStructureWriter` writes what SDMX-ML
2.1 and 3.0 spell the same way (header, error message, names and annotations, items, text
formats, data structure components, constraints); each version's writer in
``service.formats.writers`` declares its differences as class attributes and writes references,
attributes and measures its own way.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar, Final, NamedTuple, TypeVar

from lxml import etree

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
    MaintainableArtefact,
    Measure,
    ProvisionAgreement,
    Ref,
    Representation,
)
from service.model.urn import ITEM_CLASSES, urn

XML_NS: Final = "http://www.w3.org/XML/1998/namespace"
#: The qualified name of the ``xml:lang`` attribute.
XML_LANG: Final = f"{{{XML_NS}}}lang"
#: The language written when a text has none (``xml:lang`` defaults to ``en`` in SDMX-ML).
DEFAULT_LANG: Final = "en"

_sub: Final = etree.SubElement

_SDMX_21: Final = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1"
_SDMX_30: Final = "http://www.sdmx.org/resources/sdmxml/schemas/v3_0"


@dataclass(frozen=True, slots=True)
class Namespaces:
    """The namespaces of one SDMX-ML version, and helpers to qualify tag names with them."""

    version: str
    message: str
    structure: str
    common: str

    @property
    def nsmap(self) -> dict[str, str]:
        """The prefixes written on the root element (as in the ILO and SDMX specimens)."""
        return {"message": self.message, "structure": self.structure, "common": self.common}

    def m(self, local: str) -> str:
        """``message:<local>``."""
        return f"{{{self.message}}}{local}"

    def s(self, local: str) -> str:
        """``structure:<local>``."""
        return f"{{{self.structure}}}{local}"

    def c(self, local: str) -> str:
        """``common:<local>``."""
        return f"{{{self.common}}}{local}"


SDMX_ML_21: Final = Namespaces(
    version="2.1",
    message=f"{_SDMX_21}/message",
    structure=f"{_SDMX_21}/structure",
    common=f"{_SDMX_21}/common",
)
SDMX_ML_30: Final = Namespaces(
    version="3.0",
    message=f"{_SDMX_30}/message",
    structure=f"{_SDMX_30}/structure",
    common=f"{_SDMX_30}/common",
)


def format_datetime(value: dt.datetime) -> str:
    """An ``xs:dateTime``; timezone-aware values keep their offset, UTC is written as ``Z``."""
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def add_texts(parent: etree._Element, tag: str, texts: Mapping[str, str]) -> None:
    """One ``tag`` element per language, in the order given, each with its ``xml:lang``."""
    for lang, text in texts.items():
        el = _sub(parent, tag)
        el.set(XML_LANG, lang)  # faster than an attrib dict with a namespaced key
        el.text = text


def add_names(
    parent: etree._Element, ns: Namespaces, names: Mapping[str, str], fallback: str
) -> None:
    """The ``common:Name`` elements SDMX-ML requires; ``fallback`` (the id) when there are none."""
    add_texts(parent, _tags(ns).name, names or {DEFAULT_LANG: fallback})


def add_annotations(
    parent: etree._Element,
    ns: Namespaces,
    annotations: Sequence[Annotation],
    *,
    with_value: bool,
) -> None:
    """``common:Annotations``, if any; ``with_value`` writes SDMX 3.0's ``AnnotationValue``."""
    if not annotations:
        return
    tags = _tags(ns)
    container = _sub(parent, tags.annotations)
    for annotation in annotations:
        el = _sub(container, tags.annotation)
        if annotation.id is not None:
            el.set("id", annotation.id)
        if annotation.title is not None:
            _sub(el, tags.title).text = annotation.title
        if annotation.type is not None:
            _sub(el, tags.type).text = annotation.type
        if annotation.url is not None:
            _sub(el, tags.url).text = annotation.url
        add_texts(el, tags.text, annotation.text)
        if with_value and annotation.value is not None:
            _sub(el, tags.value).text = annotation.value


class _CommonTags(NamedTuple):
    name: str
    annotations: str
    annotation: str
    title: str
    type: str
    url: str
    text: str
    value: str


@cache
def _tags(ns: Namespaces) -> _CommonTags:
    """The ``common`` tags written for every artefact and item, qualified once."""
    return _CommonTags(
        *map(
            ns.c,
            (
                "Name",
                "Annotations",
                "Annotation",
                "AnnotationTitle",
                "AnnotationType",
                "AnnotationURL",
                "AnnotationText",
                "AnnotationValue",
            ),
        )
    )


def new_message(ns: Namespaces, root_tag: str, header: Header) -> etree._Element:
    """A ``message:<root_tag>`` root with its ``message:Header`` (ID, Test, Prepared, Sender)."""
    root = etree.Element(ns.m(root_tag), nsmap=ns.nsmap)
    el = etree.SubElement(root, ns.m("Header"))
    etree.SubElement(el, ns.m("ID")).text = header.id
    etree.SubElement(el, ns.m("Test")).text = "true" if header.test else "false"
    etree.SubElement(el, ns.m("Prepared")).text = format_datetime(header.prepared)
    etree.SubElement(el, ns.m("Sender"), {"id": header.sender})
    return root


def error_message(ns: Namespaces, error: SdmxError) -> bytes:
    """A ``message:Error`` message: one ``ErrorMessage`` with the code and a ``common:Text``.

    SDMX-ML 2.1 and 3.0 both define ``Error`` without a header. The text has no ``xml:lang``:
    it is English, the XSD default, and pysdmx then reports it as plain text.
    """
    root = etree.Element(ns.m("Error"), nsmap={"message": ns.message, "common": ns.common})
    el = etree.SubElement(root, ns.m("ErrorMessage"), {"code": str(error.code)})
    etree.SubElement(el, ns.c("Text")).text = xml_text(error.message)
    return to_bytes(root)


#: What XML 1.0 cannot carry (``Char``): control characters but tab, line feed and carriage
#: return, lone surrogates, U+FFFE and U+FFFF.
_NOT_XML: Final = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def xml_text(text: str) -> str:
    """``text`` with what XML 1.0 cannot carry written as a visible escape (``\\x01``,
    ``\\udc80``): error messages echo the request, which may hold anything (``%00``)."""
    return text if _NOT_XML.search(text) is None else _NOT_XML.sub(_visible, text)


def to_bytes(root: etree._Element) -> bytes:
    """The whole document, UTF-8, with its XML declaration."""
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


T = TypeVar("T")


def group_by_container(
    items: Iterable[T], container_of: Mapping[type, str], order: Sequence[str]
) -> list[tuple[str, list[T]]]:
    """``items`` grouped by container, containers in schema ``order``, items in given order.

    Raises:
        TypeError: for an item whose class has no container.
    """
    groups: dict[str, list[T]] = {}
    for item in items:
        try:
            container = container_of[type(item)]
        except KeyError:
            raise TypeError(f"cannot write {type(item).__name__} in SDMX-ML") from None
        groups.setdefault(container, []).append(item)
    return [(name, groups[name]) for name in order if name in groups]


def add_time_range(
    parent: etree._Element, qualify: Callable[[str], str], start: str | None, end: str | None
) -> None:
    """``TimeRange``: Start+EndPeriod, AfterPeriod (start only) or BeforePeriod (end only).

    Bounds are inclusive. ``qualify`` names the namespace: SDMX-ML 2.1 puts the range in
    ``common``, 3.0 in ``structure``.
    """
    if start and end:
        bounds = [("StartPeriod", start), ("EndPeriod", end)]
    elif start:
        bounds = [("AfterPeriod", start)]
    elif end:
        bounds = [("BeforePeriod", end)]
    else:
        return
    el = etree.SubElement(parent, qualify("TimeRange"))
    for tag, period in bounds:
        etree.SubElement(el, qualify(tag), {"isInclusive": "true"}).text = period


def bool_text(value: bool) -> str:
    """An ``xs:boolean``."""
    return "true" if value else "false"


#: TextFormat facets the time dimension may carry (TimeTextFormatType, both versions).
TIME_FACETS: Final = frozenset({"startTime", "endTime"})
#: The time dimension's fixed id in SDMX-ML.
TIME_PERIOD: Final = "TIME_PERIOD"


def add_text_format(
    parent: etree._Element,
    tag: str,
    text_type: str | None,
    facets: Mapping[str, str],
) -> None:
    """A TextFormat (or EnumerationFormat) element: ``textType`` then the facets as given."""
    el = etree.SubElement(parent, tag)
    if text_type:
        el.set("textType", text_type)
    for name, value in facets.items():
        el.set(name, value)


def add_time_representation(
    parent: etree._Element, ns: Namespaces, rep: Representation | None
) -> None:
    """The time dimension's required LocalRepresentation (ObservationalTimePeriod by default)."""
    text_type = (rep.text_type if rep else None) or "ObservationalTimePeriod"
    facets = {k: v for k, v in (rep.facets if rep else {}).items() if k in TIME_FACETS}
    el = etree.SubElement(parent, ns.s("LocalRepresentation"))
    add_text_format(el, ns.s("TextFormat"), text_type, facets)


def category_tree(scheme: CategoryScheme) -> dict[str | None, list[Category]]:
    """Each category's children by parent id (None: the roots, and orphans of unknown parents)."""
    ids = {category.id for category in scheme.items}
    children: dict[str | None, list[Category]] = {}
    for category in scheme.items:
        parent = category.parent if category.parent in ids else None
        children.setdefault(parent, []).append(category)
    return children


class StructureSpec(NamedTuple):
    """Where a writer puts one artefact class."""

    #: The ``message:Structures`` child holding the class.
    container: str
    #: The artefact's element.
    element: str


_El = etree._Element


class SdmxMlStructureWriter:
    """An SDMX-ML ``Structure`` and ``Error`` message writer. Stateless and thread-safe.

    A version's writer subclasses this: it sets the class attributes (what the version
    spells differently) and writes references, attributes and measures its own way.
    """

    media_type: ClassVar[str]
    ns: ClassVar[Namespaces]
    #: ``message:Structures`` children, in the order this version writes them.
    container_order: ClassVar[tuple[str, ...]]
    #: Where each artefact class goes.
    specs: ClassVar[Mapping[type[Artefact], StructureSpec]]
    #: SDMX class names as this version's URNs spell them (``ContentConstraint`` ...).
    class_aliases: ClassVar[Mapping[str, str]] = {}
    #: Whether annotations carry ``AnnotationValue`` (SDMX 3.0).
    with_annotation_value: ClassVar[bool]
    #: Whether items carry their ``urn`` (SDMX 3.0).
    item_urns: ClassVar[bool]
    #: Whether maintainables carry ``isFinal`` (SDMX 2.1; never organisation schemes, whose
    #: ``isFinal`` the XSD fixes to false).
    with_is_final: ClassVar[bool]
    #: Whether organisation schemes carry ``version`` (SDMX 3.0's have none).
    versioned_organisation_schemes: ClassVar[bool]
    #: The constraint role's attribute: 2.1 ``type``, 3.0 ``role``.
    role_attribute: ClassVar[str]
    #: Whether the time dimension carries its ``position`` (SDMX 2.1).
    time_position: ClassVar[bool]
    #: Whether cube region key values are in ``common`` (SDMX 2.1) rather than ``structure``.
    common_key_values: ClassVar[bool]
    #: A provision agreement's dataflow reference: 2.1 ``StructureUsage``, 3.0 ``Dataflow``.
    agreement_dataflow: ClassVar[str]

    def __init__(self) -> None:
        self._container_of = {cls: spec.container for cls, spec in self.specs.items()}
        self._bodies: dict[type[Artefact], Callable[[_El, Any], None]] = {
            AgencyScheme: self.organisation_scheme,
            DataProviderScheme: self.organisation_scheme,
            Codelist: self.codelist,
            ConceptScheme: self.concept_scheme,
            CategoryScheme: self.category_scheme,
            DataStructure: self.data_structure,
            Dataflow: self.dataflow,
            Categorisation: self.categorisation,
            ContentConstraint: self.constraint,
            ProvisionAgreement: self.provision_agreement,
        }

    def write_structures(
        self, artefacts: Sequence[Artefact], *, header: Header, lang: Lang
    ) -> bytes:
        ns = self.ns
        root = new_message(ns, "Structure", header)
        if artefacts:
            structures = _sub(root, ns.m("Structures"))
            groups = group_by_container(artefacts, self._container_of, self.container_order)
            for name, members in groups:
                container = _sub(structures, ns.s(name))
                for artefact in members:
                    self.add_artefact(container, artefact)
        return to_bytes(root)

    def write_error(self, error: SdmxError, *, header: Header) -> bytes:
        return error_message(self.ns, error)

    # -- version-specific -------------------------------------------------------------------

    def add_ref(self, parent: _El, tag: str, ref: Ref) -> None:
        """A ``structure:<tag>`` reference to an artefact or an item of one."""
        raise NotImplementedError

    def add_local_ref(self, parent: _El, tag: str, id_: str) -> None:
        """A ``structure:<tag>`` reference inside the artefact (parent item, dimension...)."""
        raise NotImplementedError

    def add_attribute(self, parent: _El, attribute: Attribute) -> None:
        raise NotImplementedError

    def add_measures(self, parent: _El, measures: Sequence[Measure]) -> None:
        """The MeasureList's content (``measures`` is not empty)."""
        raise NotImplementedError

    def cube_regions(self, constraint: ContentConstraint) -> Sequence[CubeRegion]:
        """The cube regions to write, as the version allows them."""
        return constraint.cube_regions

    # -- maintainable artefacts -------------------------------------------------------------

    def add_artefact(self, container: _El, artefact: Artefact) -> None:
        spec = self.specs[type(artefact)]
        el = _sub(container, self.ns.s(spec.element), self.maintainable_attrib(artefact))
        self.add_nameable(
            el, artefact.annotations, artefact.names, artefact.descriptions, artefact.id
        )
        # The XSD requires a provision agreement's references, in a stub too.
        if not artefact.is_stub or isinstance(artefact, ProvisionAgreement):
            self._bodies[type(artefact)](el, artefact)

    def maintainable_attrib(self, artefact: MaintainableArtefact) -> dict[str, str]:
        organisations = isinstance(artefact, AgencyScheme | DataProviderScheme)
        sdmx_class = self.class_aliases.get(artefact.sdmx_class, artefact.sdmx_class)
        attrib = {
            "id": artefact.id,
            "urn": urn(sdmx_class, artefact.agency, artefact.id, artefact.version),
            "agencyID": artefact.agency,
        }
        if self.versioned_organisation_schemes or not organisations:
            attrib["version"] = artefact.version
        if artefact.valid_from:
            attrib["validFrom"] = artefact.valid_from
        if artefact.valid_to:
            attrib["validTo"] = artefact.valid_to
        if artefact.is_stub:
            attrib["isExternalReference"] = "true"
            if artefact.structure_url:
                attrib["structureURL"] = artefact.structure_url
        if self.with_is_final and not organisations:
            attrib["isFinal"] = bool_text(artefact.is_final)
        if isinstance(artefact, ItemScheme) and artefact.is_partial:
            attrib["isPartial"] = "true"
        if isinstance(artefact, ContentConstraint):
            attrib[self.role_attribute] = artefact.role
        return attrib

    def add_nameable(
        self,
        el: _El,
        annotations: Sequence[Annotation],
        names: Mapping[str, str],
        descriptions: Mapping[str, str],
        fallback_name: str,
    ) -> None:
        self.add_annotations(el, annotations)
        add_names(el, self.ns, names, fallback_name)
        add_texts(el, self.ns.c("Description"), descriptions)

    def add_annotations(self, el: _El, annotations: Sequence[Annotation]) -> None:
        add_annotations(el, self.ns, annotations, with_value=self.with_annotation_value)

    # -- item schemes -----------------------------------------------------------------------

    def item_urn_prefix(self, scheme: ItemScheme) -> str | None:
        """``<URN of the scheme's items>.`` when items carry their URN, else None."""
        if not self.item_urns:
            return None
        item_class = ITEM_CLASSES[scheme.sdmx_class]
        return urn(item_class, scheme.agency, scheme.id, scheme.version) + "."

    def add_item(
        self, parent: _El, tag: str, item: Item, urn_prefix: str | None, *, with_parent: bool
    ) -> _El:
        """An item; ``with_parent`` writes its ``Parent`` (codes and concepts have one)."""
        attrib = {"id": item.id}
        if urn_prefix is not None:
            attrib["urn"] = urn_prefix + item.id
        el = _sub(parent, self.ns.s(tag), attrib)
        self.add_nameable(el, item.annotations, item.names, item.descriptions, item.id)
        if with_parent and item.parent:
            self.add_local_ref(el, "Parent", item.parent)
        return el

    def codelist(self, el: _El, codelist: Codelist) -> None:
        prefix = self.item_urn_prefix(codelist)
        for code in codelist.items:
            self.add_item(el, "Code", code, prefix, with_parent=True)

    def concept_scheme(self, el: _El, scheme: ConceptScheme) -> None:
        prefix = self.item_urn_prefix(scheme)
        for concept in scheme.items:
            concept_el = self.add_item(el, "Concept", concept, prefix, with_parent=True)
            self.add_representation(concept_el, "CoreRepresentation", concept.core_representation)

    def category_scheme(self, el: _El, scheme: CategoryScheme) -> None:
        self.add_categories(el, category_tree(scheme), None, self.item_urn_prefix(scheme))

    def add_categories(
        self,
        el: _El,
        children: Mapping[str | None, list[Category]],
        parent: str | None,
        urn_prefix: str | None,
    ) -> None:
        """Categories nested by parent; a nested category's URN spells its path (``A.A1``)."""
        for category in children.get(parent, ()):
            category_el = self.add_item(el, "Category", category, urn_prefix, with_parent=False)
            prefix = None if urn_prefix is None else f"{urn_prefix}{category.id}."
            self.add_categories(category_el, children, category.id, prefix)

    def organisation_scheme(self, el: _El, scheme: AgencyScheme | DataProviderScheme) -> None:
        tag = ITEM_CLASSES[scheme.sdmx_class]
        prefix = self.item_urn_prefix(scheme)
        for organisation in scheme.items:
            self.add_item(el, tag, organisation, prefix, with_parent=False)

    # -- representations --------------------------------------------------------------------

    def add_representation(
        self, parent: _El, tag: str, rep: Representation | None, *, simple: bool = False
    ) -> None:
        """A Core/LocalRepresentation: Enumeration [EnumerationFormat], or TextFormat.

        ``simple`` components (SimpleComponentTextFormatType) may not be multilingual.
        """
        if rep is None or not (rep.enumeration or rep.text_type or rep.facets):
            return
        ns = self.ns
        facets = {k: v for k, v in rep.facets.items() if not (simple and k == "isMultiLingual")}
        el = _sub(parent, ns.s(tag))
        if rep.enumeration is not None:
            self.add_ref(el, "Enumeration", rep.enumeration)
            if rep.text_type or facets:
                add_text_format(el, ns.s("EnumerationFormat"), rep.text_type, facets)
        else:
            add_text_format(el, ns.s("TextFormat"), rep.text_type, facets)

    # -- data structures --------------------------------------------------------------------

    def data_structure(self, el: _El, dsd: DataStructure) -> None:
        s = self.ns.s
        components = _sub(el, s("DataStructureComponents"))
        dims = _sub(components, s("DimensionList"), {"id": "DimensionDescriptor"})
        for dim in dsd.key_dimensions:
            self.add_dimension(dims, dim)
        if dsd.time_dimension is not None:
            self.add_time_dimension(dims, dsd.time_dimension)
        for group in dsd.groups:
            self.add_group(components, group)
        if dsd.attributes:
            attrs = _sub(components, s("AttributeList"), {"id": "AttributeDescriptor"})
            for attribute in dsd.attributes:
                self.add_attribute(attrs, attribute)
        if dsd.measures:
            measures = _sub(components, s("MeasureList"), {"id": "MeasureDescriptor"})
            self.add_measures(measures, dsd.measures)

    def add_component(
        self, parent: _El, tag: str, attrib: dict[str, str], comp: Dimension | Attribute | Measure
    ) -> _El:
        """A component's element, annotations and concept identity."""
        el = _sub(parent, self.ns.s(tag), attrib)
        self.add_annotations(el, comp.annotations)
        self.add_ref(el, "ConceptIdentity", comp.concept)
        return el

    def add_dimension(self, parent: _El, dim: Dimension) -> None:
        el = self.add_component(
            parent, "Dimension", {"id": dim.id, "position": str(dim.position)}, dim
        )
        self.add_representation(el, "LocalRepresentation", dim.representation, simple=True)

    def add_time_dimension(self, parent: _El, dim: Dimension) -> None:
        attrib = {"id": TIME_PERIOD}
        if self.time_position:
            attrib["position"] = str(dim.position)
        el = self.add_component(parent, "TimeDimension", attrib, dim)
        add_time_representation(el, self.ns, dim.representation)

    def add_group(self, parent: _El, group: Group) -> None:
        el = _sub(parent, self.ns.s("Group"), {"id": group.id})
        self.add_annotations(el, group.annotations)
        for dim_id in group.dimensions:
            self.add_local_ref(_sub(el, self.ns.s("GroupDimension")), "DimensionReference", dim_id)

    # -- other structures -------------------------------------------------------------------

    def dataflow(self, el: _El, dataflow: Dataflow) -> None:
        self.add_ref(el, "Structure", dataflow.structure)

    def categorisation(self, el: _El, categorisation: Categorisation) -> None:
        self.add_ref(el, "Source", categorisation.source)
        self.add_ref(el, "Target", categorisation.target)

    def provision_agreement(self, el: _El, agreement: ProvisionAgreement) -> None:
        self.add_ref(el, self.agreement_dataflow, agreement.dataflow)
        self.add_ref(el, "DataProvider", agreement.provider)

    def constraint(self, el: _El, constraint: ContentConstraint) -> None:
        self.add_attachment(el, constraint.attachment)
        for region in self.cube_regions(constraint):
            self.add_cube_region(el, region)

    def add_attachment(self, parent: _El, refs: Sequence[Ref]) -> None:
        """ConstraintAttachment: one data provider, or data structures, dataflows or agreements.

        A constraint attaches to one kind of artefact: the kind of the first reference wins.
        """
        if not refs:
            return
        el = _sub(parent, self.ns.s("ConstraintAttachment"))
        kind = refs[0].cls
        for ref in refs if kind != "DataProvider" else refs[:1]:
            if ref.cls == kind:
                self.add_ref(el, kind, ref)

    def add_cube_region(self, parent: _El, region: CubeRegion) -> None:
        qualify = self.ns.c if self.common_key_values else self.ns.s
        el = _sub(parent, self.ns.s("CubeRegion"), {"include": bool_text(region.include)})
        for component, values in region.key_values.items():
            key_el = _sub(el, qualify("KeyValue"), {"id": component})
            for value in values:
                _sub(key_el, qualify("Value")).text = value
        if region.time_start or region.time_end:
            key_el = _sub(el, qualify("KeyValue"), {"id": TIME_PERIOD})
            add_time_range(key_el, qualify, region.time_start, region.time_end)
