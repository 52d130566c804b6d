"""Module for writing SDMX-JSON 1.0.0 data messages, streamed series by series.

The layout follows the SDMX-JSON 1.0 data field guide (``data-message/docs`` of
sdmx-twg/sdmx-json, tag ``v1.0``), written by the engine the 2.0.0 writer shares
(:class:`~service.formats.writers.sdmx_json_20_data.JsonDataWriter`, whose docstring says how
series, attributes, details, actions and names are written). What 1.0 does differently:

- ``data.structure`` is one object (2.0: a ``structures`` array), written after
  ``data.dataSets`` like 2.0's, so that the message streams in one pass: the structure lists
  the values the data sets used, numbered as they came. A first pass over the rows is not
  possible (they are a stream from the store) and would double the query's cost.
- 1.0 has no ``measures``: an observation array starts with the primary measure's value.
- Every attribute value is an index into the attribute's ``values`` (1.0 has no inline
  values), an uncoded one spelled ``{"name": text}`` as the guide's TITLE example does:
  memory holds every distinct attribute value of the message, which for uncoded attributes
  that differ per observation grows with the message (2.0 does not).
- Relationships are ``none`` (data set), ``dimensions`` or ``primaryMeasure``; time periods
  are ``{"id", "name"}`` values (1.0 has no ``value``), and a component may list no values.
- A code's value has ``name`` but no ``names``: sdmx1, which reads SDMX-JSON 1.0 data, builds
  its codes from these objects and refuses the key.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Final

from service.formats.writers.data_common import (
    DataFormat,
    DataMessage,
    DataSetPart,
    attribute_dimensions,
)
from service.formats.writers.json_common import JsonObj
from service.formats.writers.sdmx_json_20_data import JsonDataWriter
from service.model import Attribute

MEDIA_TYPE: Final = "application/vnd.sdmx.data+json;version=1.0.0"
JSON_SCHEMA_10: Final = (
    "https://raw.githubusercontent.com/sdmx-twg/sdmx-json/master/data-message/tools/schemas/"
    "1.0/sdmx-json-data-schema.json"
)


class Json10DataWriter(JsonDataWriter):
    schema_url = JSON_SCHEMA_10
    structure_key = "structure"
    inline_values = False
    empty_values = True
    value_names = False

    def dataset_object(self) -> JsonObj:
        return {}

    def structure_part(self, structure: JsonObj) -> Any:
        return structure

    def attribute_extras(self, attribute: Attribute) -> JsonObj:
        dims = attribute_dimensions(self.message.dsd, attribute.id)
        if attribute.relationship.level == "dataset":
            return {"relationship": {"none": {}}}
        if dims:
            return {"relationship": {"dimensions": list(dims)}}
        return {"relationship": {"primaryMeasure": self.message.measure}}

    def uncoded_dimension_value(self, text: str) -> JsonObj:
        return {"id": text, "name": text}

    def uncoded_attribute_value(self, text: str) -> JsonObj:
        return {"name": text}


def write(message: DataMessage, datasets: Iterable[DataSetPart]) -> Iterator[bytes]:
    """An SDMX-JSON 1.0.0 data message."""
    return Json10DataWriter(message).chunks(datasets)


FORMATS: Final = (
    DataFormat(
        media_type=MEDIA_TYPE,
        extension="json",
        format_names=("jsondata_1_0",),
        accept={"application/vnd.sdmx.data+json": ("1.0.0", "1.0")},
        write=write,
    ),
)
