"""Module for writing SDMX-ML 3.0 StructureSpecificData messages.

The body is spelled as in SDMX-ML 2.1 (components as XML attributes named by their ids, any
dimension at observation or ``AllDimensions``); what differs is the header, whose structure
reference is a URN, and the data set, which has no ``dataScope``. SDMX-ML 3.0 knows no other
data message (the generic and time series flavours are gone).

Data set level attributes are XML attributes of ``message:DataSet``, as in 2.1: the 3.0 schema
still allows them there (``anyAttribute``), and pysdmx reads them. The schema's documentation
also offers an ``Atts`` element with an empty key for them, but neither sdmx1 (2.28: fails on
the element) nor pysdmx (1.21: nests it under an "Atts" attribute) reads ``Atts``.

Actions: the SDMX-ML 3.0.0 schema lists Append, Replace, Delete and Information only (Merge
arrives in 3.1), so a Merge data set is written as Replace, which 3.0.0 defines as replacing
at observation level and appending what is new: what Merge means.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Final

from service.formats.writers.data_common import (
    ACTION_NAMES_30,
    DataFormat,
    DataMessage,
    DataSetInfo,
    DataSetPart,
)
from service.formats.writers.sdmx_ml_21_ss_data import StructureSpecificWriter
from service.formats.writers.sdmx_ml_data_common import escape, structure_urn, validity
from service.formats.xml_common import SDMX_ML_30

MEDIA_TYPE: Final = "application/vnd.sdmx.data+xml;version=3.0.0"
STRUCTURE_SPECIFIC_30: Final = (
    "http://www.sdmx.org/resources/sdmxml/schemas/v3_0/data/structurespecific"
)
#: Data set actions as the SDMX-ML 3.0.0 schema names them (no Merge: see the module doc).
ACTIONS_30: Final = {**ACTION_NAMES_30, "M": "Replace"}
#: The header's reference element per structure kind.
_REF_TAGS: Final = {
    "dataflow": "StructureUsage",
    "datastructure": "Structure",
    "provisionagreement": "ProvisionAgreement",
}


class StructureSpecific30Writer(StructureSpecificWriter):
    """SDMX-ML 3.0 StructureSpecificData."""

    label = "SDMX-ML 3.0 StructureSpecificData"
    ns = SDMX_ML_30
    ss = STRUCTURE_SPECIFIC_30
    actions = ACTIONS_30

    def structure_ref(self) -> str:
        tag = _REF_TAGS[self.message.structure]
        return f"<common:{tag}>{escape(structure_urn(self.message))}</common:{tag}>"

    def dataset_attributes(self, info: DataSetInfo) -> str:
        return (
            f' ss:structureRef="{self.structure_id}" xsi:type="ns1:{self.dataset_type}"'
            f' ss:action="{self.actions[info.action]}"{validity(info, "ss:")}'
        )


def write(message: DataMessage, datasets: Iterable[DataSetPart]) -> Iterator[bytes]:
    """An SDMX-ML 3.0 StructureSpecificData message, any dimension at observation."""
    return StructureSpecific30Writer(message).chunks(datasets)


FORMATS: Final = (
    DataFormat(
        media_type=MEDIA_TYPE,
        extension="xml",
        format_names=("structurespecificdata_3_0", "xml_3_0"),
        accept={"application/vnd.sdmx.data+xml": ("3.0.0", "3.0")},
        write=write,
    ),
)
