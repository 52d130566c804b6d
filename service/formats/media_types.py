"""The registry of structure writers, keyed by canonical media type."""

from __future__ import annotations

from service.formats.base import StructureWriter
from service.formats.writers.sdmx_json_10_structure import SdmxJson10StructureWriter
from service.formats.writers.sdmx_json_20_structure import SdmxJson20StructureWriter
from service.formats.writers.sdmx_ml_21_structure import SdmxMl21StructureWriter
from service.formats.writers.sdmx_ml_30_structure import SdmxMl30StructureWriter

SDMX_ML_21_STRUCTURE = SdmxMl21StructureWriter.media_type
SDMX_ML_30_STRUCTURE = SdmxMl30StructureWriter.media_type
SDMX_JSON_10_STRUCTURE = SdmxJson10StructureWriter.media_type
SDMX_JSON_20_STRUCTURE = SdmxJson20StructureWriter.media_type

#: One instance per format: writers are stateless. Order = preference when a client accepts
#: several equally.
STRUCTURE_WRITERS: dict[str, StructureWriter] = {
    w.media_type: w
    for w in (
        SdmxMl21StructureWriter(),
        SdmxMl30StructureWriter(),
        SdmxJson20StructureWriter(),
        SdmxJson10StructureWriter(),
    )
}
