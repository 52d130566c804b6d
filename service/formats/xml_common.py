"""Namespaces, tag helpers and shared element builders for SDMX-ML 2.1 and 3.0 messages.

Every SDMX-ML namespace string lives here. The element builders are the parts that SDMX-ML
2.1 and 3.0 spell the same way (header, error message, names and annotations, text formats,
time ranges, category nesting); the writers in ``service.formats.writers`` do the rest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Final, NamedTuple, TypeVar

from lxml import etree

from service.errors import SdmxError
from service.formats.base import Header
from service.model import Annotation, Category, CategoryScheme, Ref, Representation

XML_NS: Final = "http://www.w3.org/XML/1998/namespace"
#: The qualified name of the ``xml:lang`` attribute.
XML_LANG: Final = f"{{{XML_NS}}}lang"
#: The language written when a text has none (``xml:lang`` defaults to ``en`` in SDMX-ML).
DEFAULT_LANG: Final = "en"

URN_PREFIX: Final = "urn:sdmx:org.sdmx.infomodel"

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

#: The URN package (and SDMX-ML 2.1 ``Ref/@package``) of each SDMX class a reference may name.
PACKAGES: Final[Mapping[str, str]] = {
    "Agency": "base",
    "AgencyScheme": "base",
    "DataConsumer": "base",
    "DataConsumerScheme": "base",
    "DataProvider": "base",
    "DataProviderScheme": "base",
    "OrganisationUnit": "base",
    "OrganisationUnitScheme": "base",
    "Categorisation": "categoryscheme",
    "Category": "categoryscheme",
    "CategoryScheme": "categoryscheme",
    "ReportingTaxonomy": "categoryscheme",
    "Code": "codelist",
    "Codelist": "codelist",
    "HierarchicalCodelist": "codelist",
    "Hierarchy": "codelist",
    "ValueList": "codelist",
    "Concept": "conceptscheme",
    "ConceptScheme": "conceptscheme",
    "Dataflow": "datastructure",
    "DataStructure": "datastructure",
    "Dimension": "datastructure",
    "TimeDimension": "datastructure",
    "DataAttribute": "datastructure",
    "Measure": "datastructure",
    "PrimaryMeasure": "datastructure",
    "Metadataflow": "metadatastructure",
    "MetadataStructure": "metadatastructure",
    "AttachmentConstraint": "registry",
    "ContentConstraint": "registry",
    "DataConstraint": "registry",
    "MetadataConstraint": "registry",
    "ProvisionAgreement": "registry",
    "StructureSet": "mapping",
    "Process": "process",
}


def package_of(sdmx_class: str) -> str:
    """The URN package of an SDMX class.

    Raises:
        ValueError: for a class this service does not know.
    """
    try:
        return PACKAGES[sdmx_class]
    except KeyError:
        raise ValueError(f"no SDMX package known for class {sdmx_class!r}") from None


def urn(sdmx_class: str, agency: str, id_: str, version: str, item: str | None = None) -> str:
    """An SDMX URN: ``urn:sdmx:org.sdmx.infomodel.<package>.<Class>=<AG>:<ID>(<v>)[.<item>]``."""
    base = f"{URN_PREFIX}.{package_of(sdmx_class)}.{sdmx_class}={agency}:{id_}({version})"
    return f"{base}.{item}" if item else base


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
    etree.SubElement(el, ns.c("Text")).text = error.message
    return to_bytes(root)


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


def add_representation(
    parent: etree._Element,
    tag: str,
    rep: Representation | None,
    *,
    ns: Namespaces,
    add_enumeration: Callable[[etree._Element, Ref], None],
    simple: bool = False,
) -> None:
    """A Core/LocalRepresentation: Enumeration [EnumerationFormat], or TextFormat.

    ``add_enumeration`` writes the codelist reference the version's way; ``simple``
    components (SimpleComponentTextFormatType) may not be multilingual.
    """
    if rep is None or not (rep.enumeration or rep.text_type or rep.facets):
        return
    facets = {k: v for k, v in rep.facets.items() if not (simple and k == "isMultiLingual")}
    el = etree.SubElement(parent, tag)
    if rep.enumeration is not None:
        add_enumeration(el, rep.enumeration)
        if rep.text_type or facets:
            add_text_format(el, ns.s("EnumerationFormat"), rep.text_type, facets)
    else:
        add_text_format(el, ns.s("TextFormat"), rep.text_type, facets)


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
    """Where and how a writer puts one artefact class."""

    #: The ``message:Structures`` child holding the class.
    container: str
    #: The artefact's element.
    element: str
    #: Writes what follows names and descriptions (items, components, references).
    body: Callable[[etree._Element, Any], None]
    #: Written for stubs too: the XSD requires these children (a provision agreement's refs).
    body_required: bool = False
