"""Data queries (a first increment): a dataflow's current observations, filtered by key.

The dataflow's Allowed constraint selects which of its DSD's series it shows (ILMS tables share
a DSD), then the query key narrows them. Rows stream from a server-side cursor; nothing is
held in memory but the current row and the attribute values above observation level.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import msgspec
from sqlalchemy.orm import Session

from service.errors import NoResultsFound
from service.formats.writers import sdmx_csv_20_data, sdmx_json_20_data, sdmx_ml_21_ss_data
from service.formats.writers.sdmx_csv_20_data import CsvRow
from service.model import AttributeRelationship, DataStructure
from service.model.structures import allowed_codes
from service.query.data import KeyFilter, matches
from service.storage.observations import ObservationStore
from service.usecases.attachment import attach_key, dimensions_of
from service.usecases.flows import FlowContext


@dataclass(frozen=True)
class DataFormat:
    """A data message format: its media type, file extension and streaming writer."""

    media_type: str
    extension: str
    write: Callable[[str, tuple[str, str, str], DataStructure, Iterator[CsvRow]], Iterator[bytes]]


def _csv(
    structure: str, ref: tuple[str, str, str], dsd: DataStructure, rows: Iterator[CsvRow]
) -> Iterator[bytes]:
    agency, resource_id, version = ref
    return sdmx_csv_20_data.write_data(structure, f"{agency}:{resource_id}({version})", dsd, rows)


CSV = DataFormat(sdmx_csv_20_data.MEDIA_TYPE, "csv", _csv)
STRUCTURE_SPECIFIC = DataFormat(sdmx_ml_21_ss_data.MEDIA_TYPE, "xml", sdmx_ml_21_ss_data.write_data)
JSON = DataFormat(sdmx_json_20_data.MEDIA_TYPE, "json", sdmx_json_20_data.write_data)
#: The formats data queries answer in, the default (SDMX-CSV 2.0) first.
DATA_FORMATS: tuple[DataFormat, ...] = (CSV, STRUCTURE_SPECIFIC, JSON)


@dataclass(frozen=True)
class DataAnswer:
    chunks: Iterator[bytes]
    last_modified: dt.datetime | None
    etag: str
    filename: str


def query_data(
    session: Session,
    flow: FlowContext,
    filters: Sequence[KeyFilter],
    request_key: str,
    fmt: DataFormat = CSV,
) -> DataAnswer:
    """The matching observations in ``fmt``; NoResultsFound (100) when there are none."""
    store = ObservationStore(session)
    found = store.find_dataset(flow.dsd)
    if found is None:
        raise NoResultsFound(f"no data for {flow.label} yet")
    dataset_pk, changed = found
    rows = _rows(store, dataset_pk, flow, filters)
    first = next(rows, None)
    if first is None:
        raise NoResultsFound(f"no data for {flow.label} matches the query")
    structure, ref = _structure(flow)
    tag = f"{dataset_pk}|{changed}|{request_key}|{fmt.media_type}"
    digest = hashlib.sha256(tag.encode()).hexdigest()
    return DataAnswer(
        chunks=fmt.write(structure, ref, flow.dsd, _chain(first, rows)),
        last_modified=changed,
        etag=f'"{digest[:32]}"',
        filename=f"{flow.dataflow.agency}_{flow.dataflow.id}_{flow.dataflow.version}.{fmt.extension}",
    )


def _structure(flow: FlowContext) -> tuple[str, tuple[str, str, str]]:
    ref = flow.dataflow
    kind = "datastructure" if flow.label.startswith("datastructure") else "dataflow"
    return kind, (ref.agency, ref.id, ref.version)


def _chain(first: CsvRow, rest: Iterator[CsvRow]) -> Iterator[CsvRow]:
    yield first
    yield from rest


def _rows(
    store: ObservationStore, dataset_pk: int, flow: FlowContext, filters: Sequence[KeyFilter]
) -> Iterator[CsvRow]:
    dsd = flow.dsd
    dims = tuple(d.id for d in dsd.key_dimensions)
    allowed = [allowed_codes(flow.constraints, d) for d in dims]
    higher = _higher(dsd)
    values = store.attribute_values(dataset_pk)
    time = dsd.time_dimension.id if dsd.time_dimension is not None else None
    last_key, keep = "", False
    last_codes: list[str] = []
    parts: list[str | None] = []
    for series_key, period, value, text, attrs in store.stream_current(dataset_pk):
        if series_key != last_key:
            last_key, last_codes = series_key, series_key.split(".")
            parts = list(last_codes)
            keep = _in_constraint(last_codes, allowed) and matches(last_codes, filters)
        if not keep:
            continue
        row_attrs: dict[str, str] = msgspec.json.decode(attrs) if attrs else {}
        for name, rel in higher:
            found = values.get((name, attach_key(rel, dims, parts, period, time) or "\0"))
            if found is not None:
                row_attrs[name] = found
        yield last_codes, period, text if text is not None else _number(value), row_attrs


def _in_constraint(codes: Sequence[str], allowed: Sequence[frozenset[str] | None]) -> bool:
    return all(a is None or c in a for c, a in zip(codes, allowed, strict=True))


def _higher(dsd: DataStructure) -> list[tuple[str, AttributeRelationship]]:
    return [
        (a.id, dimensions_of(a.relationship, dsd))
        for a in dsd.attributes
        if a.relationship.level != "observation"
    ]


def _number(value: float | None) -> str:
    if value is None:
        return ""
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text
