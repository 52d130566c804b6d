"""Module for writing SDMX-ML 2.1 StructureSpecificData messages, streamed series by series."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Iterator
from typing import Final
from xml.sax.saxutils import escape, quoteattr

from service.formats.writers.sdmx_csv_20_data import CsvRow
from service.formats.xml_common import SDMX_ML_21
from service.model import DataStructure

MEDIA_TYPE: Final = "application/vnd.sdmx.structurespecificdata+xml;version=2.1"
STRUCTURE_SPECIFIC_21: Final = (
    "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/structurespecific"
)
XSI: Final = "http://www.w3.org/2001/XMLSchema-instance"
SENDER: Final = "ILO"
_FLUSH: Final = 65536
_CLASSES: Final = {"dataflow": "Dataflow", "datastructure": "DataStructure"}


def write_data(
    structure: str, ref: tuple[str, str, str], dsd: DataStructure, rows: Iterable[CsvRow]
) -> Iterator[bytes]:
    """The message in chunks of about 64 kB: a Series per series key (its key dimensions), an
    Obs per observation (the time dimension, the measure and every attribute with a value).

    ``structure`` is dataflow or datastructure, ``ref`` its (agency, id, version); ``rows``
    come grouped by series key (the CSV writer's rows).
    """
    dims = [d.id for d in dsd.key_dimensions]
    time = dsd.time_dimension.id if dsd.time_dimension is not None else "TIME_PERIOD"
    measure = dsd.measures[0].id if dsd.measures else "OBS_VALUE"
    parts = [_header(structure, ref, time)]
    size = 0
    last: list[str] | None = None
    for codes, period, value, attrs in rows:
        if codes != last:
            if last is not None:
                parts.append("</Series>\n")
            last = codes
            keys = "".join(f" {d}={quoteattr(c)}" for d, c in zip(dims, codes, strict=True))
            parts.append(f"<Series{keys}>\n")
        cells = [f"<Obs {time}={quoteattr(period)}"]
        if value:
            cells.append(f" {measure}={quoteattr(value)}")
        cells.extend(f" {k}={quoteattr(v)}" for k, v in attrs.items() if v)
        cells.append("/>\n")
        text = "".join(cells)
        parts.append(text)
        size += len(text)
        if size > _FLUSH:
            yield "".join(parts).encode()
            parts.clear()
            size = 0
    if last is not None:
        parts.append("</Series>\n")
    parts.append("</message:DataSet>\n</message:StructureSpecificData>\n")
    yield "".join(parts).encode()


def _header(structure: str, ref: tuple[str, str, str], time: str) -> str:
    agency, resource_id, version = ref
    cls = _CLASSES[structure]
    urn = (
        f"urn:sdmx:org.sdmx.infomodel.datastructure.{cls}="
        f"{agency}:{resource_id}({version}):ObsLevelDim:{time}"
    )
    structure_id = f"{agency}_{resource_id}_{version.replace('.', '_')}"
    names = zip(("agencyID", "id", "version"), ref, strict=True)
    attrs = "".join(f" {n}={quoteattr(v)}" for n, v in names)
    usage = (
        f'<common:StructureUsage><Ref{attrs} class="Dataflow"/></common:StructureUsage>'
        if structure == "dataflow"
        else f'<common:Structure><Ref{attrs} class="DataStructure"/></common:Structure>'
    )
    prepared = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<message:StructureSpecificData xmlns:message="{SDMX_ML_21.message}" '
        f'xmlns:common="{SDMX_ML_21.common}" xmlns:ss="{STRUCTURE_SPECIFIC_21}" '
        f'xmlns:xsi="{XSI}" xmlns:ns1={quoteattr(urn)}>\n'
        "<message:Header>\n"
        f"<message:ID>IREF{uuid.uuid4().hex}</message:ID>\n"
        "<message:Test>false</message:Test>\n"
        f"<message:Prepared>{prepared}</message:Prepared>\n"
        f'<message:Sender id="{SENDER}"/>\n'
        f"<message:Structure structureID={quoteattr(structure_id)} namespace={quoteattr(urn)} "
        f"dimensionAtObservation={quoteattr(time)}>\n"
        f"{usage}\n"
        "</message:Structure>\n"
        "<message:DataSetAction>Information</message:DataSetAction>\n"
        f"<message:DataSetID>{escape(resource_id)}</message:DataSetID>\n"
        "</message:Header>\n"
        f"<message:DataSet ss:structureRef={quoteattr(structure_id)} "
        'ss:dataScope="DataStructure" xsi:type="ns1:DataSetType">\n'
    )
