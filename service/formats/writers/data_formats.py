"""The registry of data message formats, and how data queries negotiate them.

Every writer module's ``FORMATS`` are listed here. Negotiation (``service.query.negotiation``)
follows the structure rules with the data :data:`CATALOGUE`: without Accept, SDMX REST v1
(SDMX 2.1) answers SDMX-ML 2.1 GenericData, as sdmx-rest 1.x specifies, and v2 (SDMX 3.0)
SDMX-JSON 2.0, the default of sdmx-rest ``doc/data.md``; a family without ``version`` means
the API's version of it (v1: SDMX-JSON 1.0 and SDMX-CSV 1.0; v2: 2.0); generic types stand
for a family (``application/xml`` is SDMX-ML: GenericData 2.1 on v1, SDMX-ML 3.0 on v2).
"""

from __future__ import annotations

from typing import Final

from service.formats.writers import (
    sdmx_csv_data,
    sdmx_json_10_data,
    sdmx_json_20_data,
    sdmx_ml_21_generic_data,
    sdmx_ml_21_ss_data,
    sdmx_ml_30_ss_data,
)
from service.formats.writers.data_common import DataFormat
from service.query.negotiation import (
    STRUCTURE_SDMX_JSON_1_0,
    STRUCTURE_SDMX_JSON_2_0,
    STRUCTURE_SDMX_ML_2_1,
    STRUCTURE_SDMX_ML_3_0,
    ApiProfile,
    Catalogue,
    MediaType,
)
from service.query.structure import ApiVersion

#: Every data format, the SDMX 2.1 ones first.
FORMATS: Final[tuple[DataFormat, ...]] = (
    *sdmx_ml_21_generic_data.FORMATS,
    *sdmx_ml_21_ss_data.FORMATS,
    *sdmx_ml_30_ss_data.FORMATS,
    *sdmx_json_10_data.FORMATS,
    *sdmx_json_20_data.FORMATS,
    *sdmx_csv_data.FORMATS,
)
BY_MEDIA_TYPE: Final = {f.media_type: f for f in FORMATS}
#: The media types data queries answer, canonical (with their version).
OFFERED: Final = tuple(BY_MEDIA_TYPE)

_GENERIC = "application/vnd.sdmx.genericdata+xml"
_SS = "application/vnd.sdmx.structurespecificdata+xml"
_XML = "application/vnd.sdmx.data+xml"
_JSON = "application/vnd.sdmx.data+json"
_CSV = "application/vnd.sdmx.data+csv"


def _profile(default: str, xml: str, versions: dict[str, str]) -> ApiProfile:
    # ``format=`` names: each writer's own names pick its exact format; the family names,
    # ILOSTAT's ``csv`` and ``jsondata`` included, pick the API's version of the family.
    names = {name: f.media_type for f in FORMATS for name in f.format_names}
    names |= dict.fromkeys(("csv", "sdmx-csv"), _CSV)
    names |= dict.fromkeys(("json", "jsondata", "sdmx-json"), _JSON)
    names |= dict.fromkeys(("xml", "sdmx-ml"), xml)
    aliases = {
        # Generic XML (and its older name): the API's SDMX-ML.
        "application/xml": xml,
        "text/xml": xml,
        # Generic JSON and CSV: SDMX-JSON and SDMX-CSV at the API's version.
        "application/json": _JSON,
        "text/csv": _CSV,
    }
    return ApiProfile(default, versions, aliases, names)


CATALOGUE: Final = Catalogue(
    {
        ApiVersion.V1: _profile(
            sdmx_ml_21_generic_data.MEDIA_TYPE,
            _GENERIC,
            {_GENERIC: "2.1", _SS: "2.1", _JSON: "1.0.0", _CSV: "1.0.0"},
        ),
        ApiVersion.V2: _profile(
            sdmx_json_20_data.MEDIA_TYPE, _XML, {_XML: "3.0.0", _JSON: "2.0.0", _CSV: "2.0.0"}
        ),
    }
)

#: The error message format of each data family: SDMX-ML and SDMX-JSON have one at the same
#: version (SDMX-CSV has none: errors then take the API's default).
_ERRORS: Final = {
    (_GENERIC, "2.1"): STRUCTURE_SDMX_ML_2_1,
    ("application/vnd.sdmx.generictimeseriesdata+xml", "2.1"): STRUCTURE_SDMX_ML_2_1,
    (_SS, "2.1"): STRUCTURE_SDMX_ML_2_1,
    ("application/vnd.sdmx.structurespecifictimeseriesdata+xml", "2.1"): STRUCTURE_SDMX_ML_2_1,
    (_XML, "3.0.0"): STRUCTURE_SDMX_ML_3_0,
    (_JSON, "1.0.0"): STRUCTURE_SDMX_JSON_1_0,
    (_JSON, "2.0.0"): STRUCTURE_SDMX_JSON_2_0,
}


def error_media_type(data_media_type: str) -> str | None:
    """The SDMX error message format that goes with a data format (None: SDMX-CSV)."""
    parsed = MediaType.parse(data_media_type)
    return _ERRORS.get((parsed.media_range, parsed.version))
