"""Module for writing SDMX-JSON 2.0 data messages, streamed series by series.

The data set comes first, the structure last: a series key and an attribute value are indexes
into the structure's ``values``, which are numbered in order of first use as the rows stream
by, so the structure can only be written once every row is out. Memory holds the distinct
codes and attribute values (their indexes), never the observations. SDMX-JSON objects are
unordered; readers that stream (the service's own upload reader) read the structure first.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Iterable, Iterator
from typing import Any, Final

from service.formats.writers.sdmx_csv_20_data import CsvRow
from service.model import DataStructure

MEDIA_TYPE: Final = "application/vnd.sdmx.data+json;version=2.0.0"
JSON_SCHEMA_20: Final = (
    "https://raw.githubusercontent.com/sdmx-twg/sdmx-json/master/data-message/tools/schemas/"
    "2.0.0/sdmx-json-data-schema.json"
)
SENDER: Final = "ILO"
_FLUSH: Final = 65536
_CLASSES: Final = {"dataflow": "Dataflow", "datastructure": "DataStructure"}
_NUMBER: Final = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def write_data(
    structure: str, ref: tuple[str, str, str], dsd: DataStructure, rows: Iterable[CsvRow]
) -> Iterator[bytes]:
    """The message in chunks of about 64 kB: one data set whose series (key dimensions) hold
    their observations (the time dimension) as ``[value, attribute indexes...]``; every
    attribute of the data structure is presented at observation level.

    ``structure`` is dataflow or datastructure, ``ref`` its (agency, id, version); ``rows``
    come grouped by series key (the CSV writer's rows).
    """
    agency, resource_id, version = ref
    urn = (
        f"urn:sdmx:org.sdmx.infomodel.datastructure.{_CLASSES[structure]}="
        f"{agency}:{resource_id}({version})"
    )
    link = {"rel": structure, "urn": urn}
    meta = {
        "schema": JSON_SCHEMA_20,
        "id": f"IREF{uuid.uuid4().hex}",
        "test": False,
        "prepared": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "contentLanguages": ["en"],
        "sender": {"id": SENDER},
    }
    dataset = {"structure": 0, "action": "Information", "links": [link]}
    head = _dumps({"meta": meta}).removesuffix("}")
    parts = [head, ',"data":{"dataSets":[', _dumps(dataset).removesuffix("}"), ',"series":{']
    dims = [d.id for d in dsd.key_dimensions]
    attributes = [a.id for a in dsd.attributes]
    codes_of: list[dict[str, int]] = [{} for _ in dims]
    periods: dict[str, int] = {}
    values_of: dict[str, dict[str, int]] = {a: {} for a in attributes}
    last: list[str] | None = None
    size = 0
    comma = ""
    for codes, period, value, attrs in rows:
        if codes != last:
            key = ":".join(
                str(seen.setdefault(code, len(seen)))
                for seen, code in zip(codes_of, codes, strict=True)
            )
            lead = "" if last is None else "}},"
            parts.append(f'{lead}"{key}":{{"observations":{{')
            comma = ""
            last = codes
        obs = [_value(value)]
        for name in attributes:
            text = attrs.get(name)
            if text:
                seen = values_of[name]
                obs.append(str(seen.setdefault(text, len(seen))))
            else:
                obs.append("null")
        position = periods.setdefault(period, len(periods))
        text = f'{comma}"{position}":[{",".join(obs)}]'
        comma = ","
        parts.append(text)
        size += len(text)
        if size > _FLUSH:
            yield "".join(parts).encode()
            parts.clear()
            size = 0
    if last is not None:
        parts.append("}}")
    described = _structure(dsd, structure, link, codes_of, periods, values_of)
    parts.append('}}],"structures":[' + _dumps(described) + "]}}\n")
    yield "".join(parts).encode()


def _value(text: str) -> str:
    if not text:
        return "null"
    return text if _NUMBER.fullmatch(text) else _dumps(text)


def _structure(
    dsd: DataStructure,
    structure: str,
    link: dict[str, str],
    codes_of: list[dict[str, int]],
    periods: dict[str, int],
    values_of: dict[str, dict[str, int]],
) -> dict[str, Any]:
    series = [
        {
            "id": d.id,
            "name": d.id,
            "keyPosition": position,
            "values": [{"id": code, "name": code} for code in seen],
        }
        for position, (d, seen) in enumerate(zip(dsd.key_dimensions, codes_of, strict=True))
    ]
    observation = []
    if dsd.time_dimension is not None:
        time = dsd.time_dimension.id
        observation.append(
            {
                "id": time,
                "name": time,
                "keyPosition": len(series),
                "roles": ["TIME_PERIOD"],
                "values": [{"id": p, "name": p} for p in periods],
            }
        )
    measure = dsd.measures[0].id if dsd.measures else "OBS_VALUE"
    attributes: list[dict[str, Any]] = []
    for name, seen in values_of.items():
        attribute: dict[str, Any] = {"id": name, "name": name, "relationship": {"observation": {}}}
        if seen:  # the schema wants values non-empty when present
            attribute["values"] = [{"value": v} for v in seen]
        attributes.append(attribute)
    return {
        "links": [link],
        "name": f"{structure} {link['urn'].rpartition('=')[2]}",
        "dimensions": {"dataSet": [], "series": series, "observation": observation},
        "measures": {"observation": [{"id": measure, "name": measure}]},
        "attributes": {"dataSet": [], "series": [], "observation": attributes},
        "dataSets": [0],
    }
