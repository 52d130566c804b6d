"""Module for writing SDMX-CSV 2.0 data messages through the former writer interface.

The writer is :mod:`service.formats.writers.sdmx_csv_data`; this wrapper stays until the
callers use its ``FORMATS``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from service.formats.readers.data_common import parse_structure_id
from service.formats.writers.data_common import (
    DataSetInfo,
    DataSetPart,
    OutRow,
    time_series_message,
)
from service.formats.writers.sdmx_csv_data import MEDIA_TYPE_20, write_20
from service.model import DataStructure

MEDIA_TYPE = MEDIA_TYPE_20

#: One observation: key codes in DSD order, period, value as text, attribute values by id
#: (the former interface's rows; any :data:`OutRow` will do).
CsvRow = tuple[list[str], str, str, dict[str, str]]


def write_data(
    structure: str, structure_id: str, dsd: DataStructure, rows: Iterable[OutRow]
) -> Iterator[bytes]:
    """The message in chunks of about 64 kB: one Information data set, every attribute column.

    ``structure`` is dataflow or datastructure, ``structure_id`` its ``AGENCY:ID(VERSION)``.
    """
    ref = parse_structure_id(structure_id)
    if ref is None:
        raise ValueError(f"{structure_id!r} is not AGENCY:ID(VERSION)")
    message = time_series_message(structure, ref, dsd)
    return write_20(message, [DataSetPart(DataSetInfo(), rows)])
