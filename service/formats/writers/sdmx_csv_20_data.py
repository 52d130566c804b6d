"""Module for writing SDMX-CSV 2.0 data messages, streamed row by row."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from service.model import DataStructure

MEDIA_TYPE = "application/vnd.sdmx.data+csv;version=2.0.0"

#: One observation: key codes in DSD order, period, value as text, attribute values by id.
CsvRow = tuple[list[str], str, str, dict[str, str]]


def columns(dsd: DataStructure) -> list[str]:
    """The header: structure columns, key dimensions, TIME_PERIOD, measure, attributes."""
    time = dsd.time_dimension
    return [
        "STRUCTURE",
        "STRUCTURE_ID",
        "ACTION",
        *(d.id for d in dsd.key_dimensions),
        *([time.id] if time is not None else []),
        *(m.id for m in dsd.measures[:1]),
        *(a.id for a in dsd.attributes),
    ]


def write_data(
    structure: str, structure_id: str, dsd: DataStructure, rows: Iterable[CsvRow]
) -> Iterator[bytes]:
    """The message in chunks of about 64 kB; ``structure`` is dataflow or datastructure."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns(dsd))
    attributes = [a.id for a in dsd.attributes]
    lead = [structure, structure_id, "I"]
    for codes, period, value, attrs in rows:
        writer.writerow([*lead, *codes, period, value, *(attrs.get(a, "") for a in attributes)])
        if buffer.tell() > 65536:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()
