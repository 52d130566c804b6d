"""Module for writing SDMX-ML 2.1 StructureSpecificData and StructureSpecificTimeSeriesData.

A structure specific message spells every component as an XML attribute named by its id:
``<Series REF_AREA="THA" ... UNIT_MEASURE="NB"><Obs TIME_PERIOD="2020" OBS_VALUE="1.5"
OBS_STATUS="E"/></Series>``, data set level attributes on ``message:DataSet``. The data set's
``xsi:type`` names the type the data structure specific schema defines for it, in the namespace
the header declares: the structure's URN followed by ``:ObsLevelDim:`` and the dimension at
observation (SDMX 2.1 Section 3B). The time series flavour (time at observation only) uses the
same namespace; its data set type is ``TimeSeriesDataSetType``, derived from the base schema's
type of that name (``DataSetType`` cannot derive from both).

Several data sets may follow one another, each with its ``action`` and validity dates.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import ClassVar, Final, cast

from service.formats.writers.data_common import (
    ACTION_NAMES_21,
    ALL_DIMENSIONS,
    STRUCTURE_CLASSES,
    DataFormat,
    DataMessage,
    DataSetInfo,
    DataSetPart,
    OutRow,
    Structure,
)
from service.formats.writers.sdmx_ml_data_common import (
    XML_DECLARATION,
    XSI,
    SdmxMlDataWriter,
    escape,
    first_values,
    header_start,
    structure_namespace,
    validity,
)
from service.formats.xml_common import SDMX_ML_21, Namespaces
from service.model import DataStructure
from service.model.urn import package_of

MEDIA_TYPE: Final = "application/vnd.sdmx.structurespecificdata+xml;version=2.1"
TIME_SERIES_MEDIA_TYPE: Final = (
    "application/vnd.sdmx.structurespecifictimeseriesdata+xml;version=2.1"
)
STRUCTURE_SPECIFIC_21: Final = (
    "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/structurespecific"
)
#: The header's reference element per structure kind (``ProvisionAgrement``: sic, SDMX 2.1).
_REF_TAGS: Final = {
    "dataflow": "StructureUsage",
    "datastructure": "Structure",
    "provisionagreement": "ProvisionAgrement",
}


def structure_ref_21(message: DataMessage) -> str:
    """The SDMX-ML 2.1 header's reference to the structure: a ``Ref`` element."""
    cls = STRUCTURE_CLASSES[message.structure]
    tag = _REF_TAGS[message.structure]
    agency, resource_id, version = (escape(part) for part in message.ref)
    return (
        f'<common:{tag}><Ref agencyID="{agency}" id="{resource_id}" version="{version}" '
        f'class="{cls}" package="{package_of(cls)}"/></common:{tag}>'
    )


class StructureSpecificWriter(SdmxMlDataWriter):
    """SDMX-ML 2.1 StructureSpecificData; SDMX-ML 3.0 changes the header and data set."""

    label = "SDMX-ML 2.1 StructureSpecificData"
    root: ClassVar[str] = "StructureSpecificData"
    ns: ClassVar[Namespaces] = SDMX_ML_21
    ss: ClassVar[str] = STRUCTURE_SPECIFIC_21
    dataset_type: ClassVar[str] = "DataSetType"
    actions: ClassVar[Mapping[str, str]] = ACTION_NAMES_21

    def __init__(self, message: DataMessage) -> None:
        super().__init__(message)
        self.obs_attr_leads = tuple((a, f' {a}="') for a in self.layout.obs_attrs)
        self.measure_lead = f' {self.message.measure}="'

    def head(self) -> str:
        message = self.message
        namespace = escape(structure_namespace(message))
        return (
            f'{XML_DECLARATION}<message:{self.root} xmlns:message="{self.ns.message}" '
            f'xmlns:common="{self.ns.common}" xmlns:ss="{self.ss}" xmlns:xsi="{XSI}" '
            f'xmlns:ns1="{namespace}">\n'
            f"{header_start(message)}"
            f'<message:Structure structureID="{self.structure_id}" namespace="{namespace}" '
            f'dimensionAtObservation="{escape(message.dimension_at_observation)}">'
            f"{self.structure_ref()}</message:Structure>\n"
            "</message:Header>\n"
        )

    def structure_ref(self) -> str:
        """The header's reference to the dataflow, data structure or provision agreement."""
        return structure_ref_21(self.message)

    def dataset_attributes(self, info: DataSetInfo) -> str:
        """The data set's own XML attributes (structure reference, action, validity)."""
        return (
            f' ss:structureRef="{self.structure_id}" ss:dataScope="DataStructure"'
            f' xsi:type="ns1:{self.dataset_type}" ss:action="{self.actions[info.action]}"'
            f"{validity(info, 'ss:')}"
        )

    def dataset_start(self, info: DataSetInfo, first: OutRow | None) -> str:
        values = first_values([first], self.layout.dataset_attrs) if first else []
        return f"<message:DataSet{self.dataset_attributes(info)}{self._attrs(values)}>\n"

    def _attrs(self, pairs: Iterable[tuple[str, str]]) -> str:
        esc = self.esc
        return "".join(f' {name}="{esc[value]}"' for name, value in pairs)

    def series(self, key: tuple[str, ...], rows: Sequence[OutRow]) -> str:
        lay = self.layout
        start = "<Series" + self._attrs(zip(lay.series_dims, key, strict=True))
        start += self._attrs(first_values(rows, lay.series_attrs))
        if not lay.values:
            return start + "/>\n"
        [(dim, position)] = lay.obs_dims
        esc = self.esc
        measure = self.measure_lead
        leads = self.obs_attr_leads
        lines = [start, ">\n"]
        for codes, period, value, attrs in rows:
            line = f'<Obs {dim}="{esc[period if position < 0 else codes[position]]}"'
            if value:
                line += f'{measure}{escape(value)}"'
            for name, lead in leads:
                text = attrs.get(name)
                if text:
                    line += f'{lead}{esc[text]}"'
            lines.append(line + "/>\n")
        lines.append("</Series>\n")
        return "".join(lines)

    def flat(self, rows: Sequence[OutRow]) -> str:
        lay = self.layout
        esc = self.esc
        measure = self.measure_lead if lay.values else None
        leads = self.obs_attr_leads
        lines = []
        for codes, period, value, attrs in rows:
            line = "<Obs" + "".join(
                f' {dim}="{esc[period if position < 0 else codes[position]]}"'
                for dim, position in lay.obs_dims
            )
            if value and measure:
                line += f'{measure}{escape(value)}"'
            for name, lead in leads:
                text = attrs.get(name)
                if text:
                    line += f'{lead}{esc[text]}"'
            lines.append(line + "/>\n")
        return "".join(lines)

    def tail(self) -> str:
        return f"</message:{self.root}>\n"


class StructureSpecificTimeSeriesWriter(StructureSpecificWriter):
    """SDMX-ML 2.1 StructureSpecificTimeSeriesData: time at observation level only."""

    label = "SDMX-ML 2.1 StructureSpecificTimeSeriesData"
    time_series_only = True
    root = "StructureSpecificTimeSeriesData"
    dataset_type = "TimeSeriesDataSetType"


def write(message: DataMessage, datasets: Iterable[DataSetPart]) -> Iterator[bytes]:
    """An SDMX-ML 2.1 StructureSpecificData message, any dimension at observation."""
    return StructureSpecificWriter(message).chunks(datasets)


def write_time_series(message: DataMessage, datasets: Iterable[DataSetPart]) -> Iterator[bytes]:
    """An SDMX-ML 2.1 StructureSpecificTimeSeriesData message.

    Raises:
        NotAcceptable: when the dimension at observation is not the time dimension.
    """
    return StructureSpecificTimeSeriesWriter(message).chunks(datasets)


FORMATS: Final = (
    DataFormat(
        media_type=MEDIA_TYPE,
        extension="xml",
        format_names=("structurespecificdata", "compact_2_1", "structurespecific"),
        accept={"application/vnd.sdmx.structurespecificdata+xml": ("2.1",)},
        write=write,
    ),
    DataFormat(
        media_type=TIME_SERIES_MEDIA_TYPE,
        extension="xml",
        format_names=("structurespecifictimeseriesdata",),
        accept={"application/vnd.sdmx.structurespecifictimeseriesdata+xml": ("2.1",)},
        write=write_time_series,
        time_series_only=True,
    ),
)


def write_data(
    structure: str,
    ref: tuple[str, str, str],
    dsd: DataStructure,
    rows: Iterable[OutRow],
) -> Iterator[bytes]:
    """The former interface: one data set (action I), time at observation level.

    ``structure`` is dataflow or datastructure, ``ref`` its (agency, id, version); ``rows``
    come grouped by series key.
    """
    if structure not in STRUCTURE_CLASSES:
        raise ValueError(f"unknown structure kind {structure!r}")
    time = dsd.time_dimension
    message = DataMessage(
        structure=cast(Structure, structure),
        ref=ref,
        dsd=dsd,
        dimension_at_observation=time.id if time is not None else ALL_DIMENSIONS,
        message_id=f"IREF{uuid.uuid4().hex}",
    )
    return write(message, [DataSetPart(DataSetInfo(), rows)])
