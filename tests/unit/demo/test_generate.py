"""Big synthetic messages: valid keys, exact round trips through the readers, constant memory."""

from __future__ import annotations

import io
import json
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import pytest
from lxml import etree

from service.demo.generate import Format, generate, generated_rows, plan
from service.demo.structures import IlmsStructures
from service.formats.readers import sdmx_csv_data, sdmx_json_data, sdmx_ml_data
from service.model import DataStructure
from service.model.data import DataRow
from service.validation import RowValidator, ValidationContext
from tests.jsonschemas import validate_sdmx_json

FORMATS: tuple[Format, ...] = ("csv", "xml", "json")
READERS: dict[str, Callable[[BinaryIO, DataStructure], Iterator[DataRow]]] = {
    "csv": sdmx_csv_data.read_rows,
    "xml": sdmx_ml_data.read_rows,
    "json": sdmx_json_data.read_rows,
}


class _Null(io.RawIOBase):
    """A sink that keeps nothing."""

    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        return len(data)  # type: ignore[arg-type]


def _comparable(rows: Iterator[DataRow]) -> list[tuple[object, ...]]:
    return [(r.key, r.time, r.value, r.attrs, r.action, r.structure) for r in rows]


def _message(structures: IlmsStructures, fmt: Format, n: int, flow: str = "DF_ILMS_A03") -> bytes:
    out = io.BytesIO()
    written = generate(n, fmt, out, flow, structures=structures)
    assert written == len(out.getvalue())
    return out.getvalue()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("n", [0, 1, 2_999, 4_500])
def test_the_readers_read_back_exactly_the_generated_rows(
    structures: IlmsStructures, fmt: Format, n: int
) -> None:
    expected = _comparable(generated_rows(plan(n, "DF_ILMS_A03", structures)))
    assert len(expected) == n
    message = _message(structures, fmt, n)
    dsd = structures.flow("A03").dsd
    assert _comparable(READERS[fmt](io.BytesIO(message), dsd)) == expected


@pytest.mark.parametrize("flow", ["DF_ILMS_A01", "DF_ILMS_B09", "DF_ILMS_C17"])
def test_other_dataflows_round_trip_too(structures: IlmsStructures, flow: str) -> None:
    expected = _comparable(generated_rows(plan(1_000, flow, structures)))
    dsd = structures.flow(flow).dsd
    for fmt in FORMATS:
        message = _message(structures, fmt, 1_000, flow)
        assert _comparable(READERS[fmt](io.BytesIO(message), dsd)) == expected, fmt


def test_generated_rows_are_valid_and_distinct(structures: IlmsStructures) -> None:
    for flow in structures.flows:
        generated = plan(600, flow.flow.id, structures)
        validator = RowValidator(
            ValidationContext.build(flow.dsd, structures.codelists, [flow.constraint])
        )
        seen = set()
        for row in generated_rows(generated):
            assert validator.check(row) == (), (flow.flow.id, row)
            seen.add(validator.row_identity(row))
        assert len(seen) == 600, flow.flow.id


def test_five_million_distinct_keys_fit_in_fifteen_years(structures: IlmsStructures) -> None:
    big = plan(5_000_000, "DF_ILMS_A03", structures)
    assert big.years == tuple(str(y) for y in range(2010, 2025))
    assert len(set(big.templates)) == len(big.templates)
    assert len(set(big.areas)) == len(big.areas)
    assert big.series_count <= len(big.areas) * len(big.templates)
    assert all(len(area) == 3 and area.isalpha() for area in big.areas)
    longer = plan(6_000_000, "DF_ILMS_A03", structures)  # more than 5.16 million keys x years
    assert len(longer.years) > 15
    assert longer.years[-1] == "2024"
    assert longer.series_count <= len(longer.areas) * len(longer.templates)
    with pytest.raises(ValueError, match="holds 0 to"):
        plan(10**10, "DF_ILMS_A03", structures)


def test_the_json_message_follows_the_official_schema(structures: IlmsStructures) -> None:
    message = _message(structures, "json", 1_234)
    validate_sdmx_json(message, "data", "2.0")
    doc = json.loads(message)
    structure = doc["data"]["structures"][0]
    assert [d["id"] for d in structure["dimensions"]["observation"]] == ["TIME_PERIOD"]
    assert structure["links"][0]["urn"].endswith("Dataflow=ILO:DF_ILMS_A03(1.0)")
    series = doc["data"]["dataSets"][0]["series"]
    assert sum(len(s["observations"]) for s in series.values()) == 1_234


def test_the_xml_message_is_structure_specific_data(structures: IlmsStructures) -> None:
    root = etree.fromstring(_message(structures, "xml", 100))
    ns = {
        "m": "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message",
        "c": "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common",
        "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    }
    assert etree.QName(root).localname == "StructureSpecificData"
    (usage,) = root.findall("m:Header/m:Structure", ns)
    assert usage.get("dimensionAtObservation") == "TIME_PERIOD"
    urn = "urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow=ILO:DF_ILMS_A03(1.0)"
    assert usage.get("namespace") == f"{urn}:ObsLevelDim:TIME_PERIOD"
    ref = usage.find("c:StructureUsage/Ref", ns)
    assert ref is not None
    assert (ref.get("id"), ref.get("agencyID")) == ("DF_ILMS_A03", "ILO")
    (dataset,) = root.findall("m:DataSet", ns)
    assert dataset.get(f"{{{ns['xsi']}}}type") == "ns1:DataSetType"
    assert len(dataset.findall("Series/Obs")) == 100


@pytest.mark.parametrize("fmt", FORMATS)
def test_generation_is_repeatable(structures: IlmsStructures, fmt: Format, tmp_path: Path) -> None:
    path = tmp_path / f"message.{fmt}"
    written = generate(2_000, fmt, path, structures=structures)
    assert path.stat().st_size == written
    assert path.read_bytes() == _message(structures, fmt, 2_000)


@pytest.mark.parametrize("fmt", FORMATS)
def test_memory_stays_flat_while_writing(structures: IlmsStructures, fmt: Format) -> None:
    generate(10, fmt, _Null(), structures=structures)  # warm the caches
    tracemalloc.start()
    try:
        written = generate(200_000, fmt, _Null(), structures=structures)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert written > 4_000_000  # at least 20 bytes per observation
    assert peak < 8_000_000, f"{fmt}: peak {peak:,} bytes for {written:,} bytes written"


def test_unknown_formats_and_flows_are_refused(structures: IlmsStructures) -> None:
    with pytest.raises(ValueError, match="unknown format 'parquet'"):
        generate(10, "parquet", _Null(), structures=structures)  # type: ignore[arg-type]
    with pytest.raises(KeyError, match="no ILMS dataflow"):
        generate(10, "csv", _Null(), "DF_NOPE", structures=structures)
