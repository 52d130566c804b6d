"""Module for writing generated ILMS messages: SDMX-CSV 2.0, SDMX-ML 2.1 SS, SDMX-JSON 2.0."""

# Each writer turns a ``Plan`` into text chunks of a few MB from string templates (every code
# and attribute value escaped once, up front), so memory stays flat however big the message.

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Final, TextIO
from xml.sax.saxutils import quoteattr

from service.demo.plan import LATEST_STATUS, SERIES_ATTRIBUTES, SYNTHETIC_SOURCE, Plan
from service.formats.xml_common import SDMX_ML_21
from service.model import DataStructure
from service.model.data import DataRow

#: Observations gathered before a chunk is handed out (a chunk is a few MB at most).
FLUSH_EVERY: Final = 4096
#: When every generated message says it was prepared: messages are byte-for-byte repeatable.
PREPARED: Final = "2025-01-01T00:00:00Z"
SENDER: Final = "ILO"
STRUCTURE_SPECIFIC_21: Final = (
    "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/structurespecific"
)
XSI: Final = "http://www.w3.org/2001/XMLSchema-instance"
JSON_SCHEMA_20: Final = (
    "https://raw.githubusercontent.com/sdmx-twg/sdmx-json/master/data-message/tools/schemas/"
    "2.0.0/sdmx-json-data-schema.json"
)
TIME: Final = "TIME_PERIOD"
#: How the JSON head ends: the data set object, the dataSets array, data, the message.
_DATASET_END: Final = "}]}}"

ChunkWriter = Callable[[Plan], Iterator[str]]
_SPECIAL: Final = re.compile(r'[,"\r\n]')
_MAX_CACHED: Final = 100_000


# -- SDMX-CSV 2.0 from rows (the demo) ---------------------------------------------------------


def write_csv(
    stream: TextIO,
    structure_id: str,
    dsd: DataStructure,
    attributes: Sequence[str],
    rows: Iterable[DataRow],
) -> int:
    """Writes ``rows`` of ``dsd`` as SDMX-CSV 2.0 to a text ``stream``; returns how many.

    Columns: STRUCTURE, STRUCTURE_ID, ACTION, the dimensions, TIME_PERIOD, OBS_VALUE and
    ``attributes``; STRUCTURE is ``dataflow``, ``structure_id`` e.g. ``ILO:DF_ILMS_A03(1.0)``.
    """
    dims = [d.id for d in dsd.key_dimensions]
    fixed = ["STRUCTURE", "STRUCTURE_ID", "ACTION"]
    stream.write(_line([*fixed, *dims, "TIME_PERIOD", "OBS_VALUE", *attributes]))
    start = f"dataflow,{csv_cell(structure_id)},"
    tails: dict[tuple[str, ...], str] = {}  # attribute cells, encoded once per combination
    heads: dict[tuple[str, ...], str] = {}  # action and key cells, encoded once per series
    count = 0
    for row in rows:
        key, attrs = row.key, row.attrs
        values = tuple(attrs.get(a, "") for a in attributes)
        tail = tails.get(values)
        if tail is None:
            tail = tails[values] = _line(values)
        series = (row.action.value, *[key[d] for d in dims])
        head = heads.get(series)
        if head is None:
            head = heads[series] = start + ",".join(map(csv_cell, series))
            if len(heads) > _MAX_CACHED:
                heads.clear()
        stream.write(f"{head},{csv_cell(row.time or '')},{csv_cell(row.value or '')},{tail}")
        count += 1
    return count


def csv_cell(text: str) -> str:
    """A CSV cell: quoted (quotes doubled) when it holds a comma, quote or line break."""
    if _SPECIAL.search(text) is None:
        return text
    return '"' + text.replace('"', '""') + '"'


def _line(cells: Iterable[str]) -> str:
    return ",".join(map(csv_cell, cells)) + "\n"


# -- generated messages ------------------------------------------------------------------------


def _batches(plan: Plan, series: Callable[[int, int, int, int], str]) -> Iterator[str]:
    """``series(index, area, template, count)`` for every series, joined into chunks."""
    batch: list[str] = []
    pending = 0
    for index, area, template, count in plan.series():
        batch.append(series(index, area, template, count))
        pending += count
        if pending >= FLUSH_EVERY:
            yield "".join(batch)
            batch.clear()
            pending = 0
    if batch:
        yield "".join(batch)


def _message_id(plan: Plan) -> str:
    return f"ILMS_SYNTHETIC_{plan.flow.flow.id}_{plan.observations}"


# -- SDMX-CSV 2.0 ------------------------------------------------------------------------------


def csv_chunks(plan: Plan) -> Iterator[str]:
    """An SDMX-CSV 2.0 message: one record per observation, every attribute a column."""
    columns = ["STRUCTURE", "STRUCTURE_ID", "ACTION", *plan.dimensions, TIME, "OBS_VALUE"]
    yield ",".join([*columns, "OBS_STATUS", *SERIES_ATTRIBUTES, "SOURCE"]) + "\n"
    start = f"dataflow,{csv_cell(plan.flow.structure_id)},I,"
    after = ",".join([*SERIES_ATTRIBUTES.values(), csv_cell(SYNTHETIC_SOURCE)]) + "\n"
    latest = len(plan.years) - 1
    mids = [f",{year}," for year in plan.years]
    tails = [f",{LATEST_STATUS if t == latest else ''},{after}" for t in range(len(plan.years))]
    areas = [f"{start}{area}," for area in plan.areas]
    templates = [",".join(codes) for codes in plan.templates]
    values, span = plan.values, len(plan.years)

    def series(index: int, area: int, template: int, count: int) -> str:
        head = areas[area] + templates[template]
        base = index * span
        return "".join(
            [f"{head}{mids[t]}{values[(base + t) % len(values)]}{tails[t]}" for t in range(count)]
        )

    yield from _batches(plan, series)


# -- SDMX-ML 2.1 structure-specific ------------------------------------------------------------


def xml_chunks(plan: Plan) -> Iterator[str]:
    """An SDMX-ML 2.1 StructureSpecificData message: a Series per key (its dimensions and the
    unit attributes), an Obs per period (TIME_PERIOD, OBS_VALUE, OBS_STATUS, SOURCE)."""
    yield _xml_header(plan)
    latest = len(plan.years) - 1
    source = f" SOURCE={quoteattr(SYNTHETIC_SOURCE)}/>\n"
    status = f" OBS_STATUS={quoteattr(LATEST_STATUS)}"
    heads = [f'<Obs {TIME}={quoteattr(year)} OBS_VALUE="' for year in plan.years]
    tails = [f'"{status if t == latest else ""}{source}' for t in range(len(plan.years))]
    values = [v.replace("&", "&amp;").replace('"', "&quot;") for v in plan.values]
    units = "".join(f" {k}={quoteattr(v)}" for k, v in SERIES_ATTRIBUTES.items())
    names = plan.dimensions
    areas = [f"<Series {names[0]}={quoteattr(area)}" for area in plan.areas]
    templates = [_xml_attributes(names[1:], codes) + units + ">\n" for codes in plan.templates]
    span = len(plan.years)

    def series(index: int, area: int, template: int, count: int) -> str:
        base = index * span
        obs = [f"{heads[t]}{values[(base + t) % len(values)]}{tails[t]}" for t in range(count)]
        return "".join([areas[area], templates[template], *obs, "</Series>\n"])

    yield from _batches(plan, series)
    yield "</message:DataSet>\n</message:StructureSpecificData>\n"


def _xml_attributes(names: Sequence[str], values: Sequence[str]) -> str:
    return "".join(f" {n}={quoteattr(v)}" for n, v in zip(names, values, strict=True))


def _xml_header(plan: Plan) -> str:
    flow = plan.flow.flow
    urn = (
        "urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow="
        f"{flow.agency}:{flow.id}({flow.version}):ObsLevelDim:{TIME}"
    )
    structure_id = f"{flow.agency}_{flow.id}_{flow.version.replace('.', '_')}"
    ref = _xml_attributes(("agencyID", "id", "version"), (flow.agency, flow.id, flow.version))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<message:StructureSpecificData xmlns:message="{SDMX_ML_21.message}" '
        f'xmlns:common="{SDMX_ML_21.common}" xmlns:ss="{STRUCTURE_SPECIFIC_21}" '
        f'xmlns:xsi="{XSI}" xmlns:ns1={quoteattr(urn)}>\n'
        "<message:Header>\n"
        f"<message:ID>{_message_id(plan)}</message:ID>\n"
        "<message:Test>true</message:Test>\n"
        f"<message:Prepared>{PREPARED}</message:Prepared>\n"
        f'<message:Sender id="{SENDER}"/>\n'
        f"<message:Structure structureID={quoteattr(structure_id)} namespace={quoteattr(urn)} "
        f'dimensionAtObservation="{TIME}">\n'
        f'<common:StructureUsage><Ref{ref} class="Dataflow"/></common:StructureUsage>\n'
        "</message:Structure>\n"
        "<message:DataSetAction>Information</message:DataSetAction>\n"
        f"<message:DataSetID>{flow.id}</message:DataSetID>\n"
        "</message:Header>\n"
        f"<message:DataSet ss:structureRef={quoteattr(structure_id)} "
        'ss:dataScope="DataStructure" xsi:type="ns1:DataSetType">\n'
    )


# -- SDMX-JSON 2.0 -----------------------------------------------------------------------------


def json_chunks(plan: Plan) -> Iterator[str]:
    """An SDMX-JSON 2.0 data message: the structure first (every dimension value it uses),
    then one data set whose series hold their observations as ``[value, status, source]``."""
    yield _json_head(plan)
    areas, template_keys = _json_series_keys(plan)
    latest = len(plan.years) - 1
    tails = [f",{0 if t == latest else 'null'},0]" for t in range(len(plan.years))]
    heads = [f'"{t}":[' for t in range(len(plan.years))]
    values = [json.dumps(v) for v in plan.values]
    span = len(plan.years)
    first = [True]

    def series(index: int, area: int, template: int, count: int) -> str:
        base = index * span
        obs = ",".join(
            [f"{heads[t]}{values[(base + t) % len(values)]}{tails[t]}" for t in range(count)]
        )
        comma = "" if first[0] else ","
        first[0] = False
        key = f"{areas[area]}:{template_keys[template]}"
        return f'{comma}"{key}":{{"attributes":[0,0,0],"observations":{{{obs}}}}}'

    yield from _batches(plan, series)
    yield "}" + _DATASET_END + "\n"


def _json_series_keys(plan: Plan) -> tuple[list[str], list[str]]:
    """The index text of each area, and of each template's other dimensions (``0:1:...``)."""
    positions = _dimension_values(plan)
    areas = [str(i) for i in range(len(plan.areas))]
    keys = [
        ":".join(
            str(positions[d][code]) for d, code in zip(plan.dimensions[1:], codes, strict=True)
        )
        for codes in plan.templates
    ]
    return areas, keys


def _dimension_values(plan: Plan) -> dict[str, dict[str, int]]:
    """Each key dimension's codes in the message, in order of first use, with their indexes."""
    values: dict[str, dict[str, int]] = {d: {} for d in plan.dimensions}
    values[plan.dimensions[0]] = {area: i for i, area in enumerate(plan.areas)}
    for codes in plan.templates:
        for dim, code in zip(plan.dimensions[1:], codes, strict=True):
            values[dim].setdefault(code, len(values[dim]))
    return values


def _json_head(plan: Plan) -> str:
    flow = plan.flow.flow
    urn = "urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow="
    link = {"rel": "dataflow", "urn": f"{urn}{flow.agency}:{flow.id}({flow.version})"}
    meta = {
        "schema": JSON_SCHEMA_20,
        "id": _message_id(plan),
        "test": True,
        "prepared": PREPARED,
        "contentLanguages": ["en"],
        "sender": {"id": SENDER},
    }
    structure = {
        "links": [link],
        "name": flow.names.get("en", flow.id),
        "dimensions": _json_dimensions(plan),
        "measures": {"observation": [{"id": "OBS_VALUE", "name": "Observation value"}]},
        "attributes": _json_attributes(plan),
        "dataSets": [0],
    }
    dataset = {"structure": 0, "links": [link], "action": "Information"}
    head = {"meta": meta, "data": {"structures": [structure], "dataSets": [dataset]}}
    text = json.dumps(head, ensure_ascii=False, separators=(",", ":"))
    # the data set is written last: reopen it for its series (closed by json_chunks' end)
    if not text.endswith(_DATASET_END):
        raise AssertionError(f"unexpected JSON layout: ...{text[-40:]}")
    return text.removesuffix(_DATASET_END) + ',"series":{'


def _json_dimensions(plan: Plan) -> dict[str, list[dict[str, object]]]:
    names = _code_names(plan)
    series = [
        {
            "id": dim,
            "name": dim,
            "keyPosition": position,
            "values": [{"id": code, "name": names.get(code, code)} for code in codes],
        }
        for position, (dim, codes) in enumerate(_dimension_values(plan).items())
    ]
    time = {
        "id": TIME,
        "name": "Time period",
        "keyPosition": len(plan.dimensions),
        "roles": [TIME],
        "values": [{"id": year, "name": year} for year in plan.years],
    }
    return {"dataSet": [], "series": series, "observation": [time]}


def _code_names(plan: Plan) -> dict[str, str]:
    """English names of the codes of the DSD's dimension codelists."""
    names: dict[str, str] = {}
    for dim in plan.flow.dsd.key_dimensions:
        rep = dim.representation
        enumeration = rep.enumeration if rep is not None else None
        found = plan.codelists.get(enumeration.maintainable_key) if enumeration else None
        if found is not None:
            names.update((c.id, c.names.get("en", c.id)) for c in found.items)
    return names


def _json_attributes(plan: Plan) -> dict[str, list[dict[str, object]]]:
    series: list[dict[str, object]] = [
        {
            "id": k,
            "name": k,
            "relationship": {"dimensions": ["MEASURE"]},
            "values": [{"id": v, "name": v}],
        }
        for k, v in SERIES_ATTRIBUTES.items()
    ]
    observation: list[dict[str, object]] = [
        {
            "id": "OBS_STATUS",
            "name": "OBS_STATUS",
            "relationship": {"observation": {}},
            "values": [{"id": LATEST_STATUS, "name": "Provisional"}],
        },
        {
            "id": "SOURCE",
            "name": "SOURCE",
            "relationship": {"dimensions": ["REF_AREA", "MEASURE", TIME]},
            "values": [{"value": SYNTHETIC_SOURCE}],
        },
    ]
    return {"dataSet": [], "series": series, "observation": observation}


CHUNK_WRITERS: Final[dict[str, ChunkWriter]] = {
    "csv": csv_chunks,
    "xml": xml_chunks,
    "json": json_chunks,
}
