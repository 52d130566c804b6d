"""Choose the data reader for an upload's media type (Content-Type)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import BinaryIO

from service.errors import UnsupportedMediaType
from service.formats.readers.sdmx_csv_data import read_rows as read_csv
from service.formats.readers.sdmx_json_data import read_rows as read_json
from service.formats.readers.sdmx_ml_data import read_rows as read_xml
from service.model import DataStructure
from service.model.data import DataRow

Reader = Callable[[BinaryIO, DataStructure], Iterator[DataRow]]


#: Base media types (parameters aside) and the reader for each. The readers themselves tell
#: SDMX-CSV 1.0 from 2.0, SDMX-JSON 1.0 from 2.0 and the SDMX-ML flavours from the content.
READERS: dict[str, Reader] = {
    "application/vnd.sdmx.data+csv": read_csv,
    "text/csv": read_csv,  # what spreadsheets and curl --data-binary @x.csv send
    "application/vnd.sdmx.data+json": read_json,
    "application/json": read_json,
    "application/vnd.sdmx.genericdata+xml": read_xml,
    "application/vnd.sdmx.structurespecificdata+xml": read_xml,
    "application/vnd.sdmx.generictimeseriesdata+xml": read_xml,
    "application/vnd.sdmx.structurespecifictimeseriesdata+xml": read_xml,
    "application/vnd.sdmx.data+xml": read_xml,
    "application/xml": read_xml,  # generic XML: the root element tells
    "text/xml": read_xml,
}


def reader_for(media_type: str | None) -> Reader:
    """The reader for a Content-Type; UnsupportedMediaType (415) names the accepted ones."""
    base = (media_type or "").split(";", 1)[0].strip().lower()
    reader = READERS.get(base)
    if reader is None:
        accepted = ", ".join(sorted(READERS))
        got = f"'{media_type}'" if media_type else "no Content-Type"
        raise UnsupportedMediaType(f"cannot read {got} as SDMX data; send one of: {accepted}")
    return reader


def media_type_for_file(name: str) -> str:
    """A media type from a file name (the CLI's uploads): .csv, .json, .xml (also inside .gz)."""
    lower = name.lower().removesuffix(".gz")
    if lower.endswith(".csv"):
        return "application/vnd.sdmx.data+csv"
    if lower.endswith(".json"):
        return "application/vnd.sdmx.data+json"
    if lower.endswith(".xml"):
        return "application/xml"
    raise UnsupportedMediaType(f"cannot tell the format of {name}: expected .csv, .json or .xml")
