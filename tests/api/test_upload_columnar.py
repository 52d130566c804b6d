"""The columnar upload path (usecases/columnar.py) stores exactly what the row path stores.

Each scenario is a sequence of SDMX-CSV uploads, sent once as the service takes them (plain
messages go the columnar way) and once with the columnar path switched off; the stored
history, current data, attribute values and reported counts must be the same. Other tests
check that what the columnar path cannot decide falls back to the row path, which reports
every problem where it is, and that nothing it wrote before falling back remains.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterator
from itertools import groupby
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import pytest

from service.formats.writers import sdmx_json_20_data, sdmx_ml_21_ss_data
from service.model import DataStructure
from service.storage.observations import ObservationStore
from service.usecases import columnar
from tests.api.upload_helpers import (
    A05_TOTALS,
    CSV20,
    JSON20,
    ML21_SS,
    STORES,
    Env,
    fresh_settings,
    open_env,
    problems,
)

FLOW = "ILO:DF_ILMS_A05(1.0)"
DIMS = ("REF_AREA", "FREQ", "MEASURE", "SEX", "AGE", "EDU", "ECO", "OCU", "STE", "CBR", "CCT")
TOTALS = A05_TOTALS
ATTRS = (
    "OBS_STATUS",
    "UNIT_MEASURE_TYPE",
    "UNIT_MEASURE",
    "UNIT_MULT",
    "SOURCE",
    "NOTE_CLASSIF",
    "DECIMALS",
)
HEADER = ("STRUCTURE", "STRUCTURE_ID", "ACTION", *DIMS, "TIME_PERIOD", "OBS_VALUE", *ATTRS)
ROW_PATH_LOG = "upload read row by row"


def message(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for row in rows:
        cells = {"STRUCTURE": "dataflow", "STRUCTURE_ID": FLOW, "ACTION": "I", **TOTALS, **row}
        writer.writerow([cells.get(column, "") for column in HEADER])
    return out.getvalue().encode()


def obs(area: str, sex: str, eco: str, period: str, value: str, **attrs: str) -> dict[str, str]:
    return {
        "REF_AREA": area,
        "SEX": sex,
        "ECO": eco,
        "TIME_PERIOD": period,
        "OBS_VALUE": value,
        "UNIT_MEASURE": "PS",
        "SOURCE": f"Labour force survey {area}",
        **attrs,
    }


def first_rows() -> list[dict[str, str]]:
    rows = [
        obs(area, sex, eco, str(year), f"{year - 2000}.5")
        for area in ("THA", "VNM")
        for sex in ("SEX_T", "SEX_M", "SEX_F")
        for eco in ("ECO_ISIC4_TOTAL", "ECO_ISIC4_A")
        for year in range(2015, 2021)
    ]
    rows[0]["NOTE_CLASSIF"] = 'Quoted "text", a back\\slash, Thái, 中文'
    rows[1].update(OBS_VALUE="", OBS_STATUS="N")  # missing, and the status says why
    rows[2].update(OBS_VALUE="NaN", OBS_STATUS="N")  # SDMX's "no value"
    rows[3].update(OBS_STATUS="P", DECIMALS="1", UNIT_MULT="3")
    rows[4]["TIME_PERIOD"] = "2019-A1"  # another spelling of 2019: stored as 2019
    rows[4]["OBS_VALUE"] = "-1.25e3"
    rows[5]["NOTE_CLASSIF"] = "two\nlines"
    return rows


def first_load() -> bytes:
    return message(first_rows())


def written(fmt: str, dsd: DataStructure) -> bytes:
    """``first_rows`` as an SDMX-ML 2.1 structure-specific or SDMX-JSON 2.0 message."""
    rows = [
        (
            [{**TOTALS, **row}[d] for d in DIMS],
            row["TIME_PERIOD"],
            row["OBS_VALUE"],
            {a: row[a] for a in ATTRS if row.get(a)},
        )
        for row in first_rows()
    ]
    writer = sdmx_ml_21_ss_data if fmt == "xml" else sdmx_json_20_data
    return b"".join(writer.write_data("dataflow", ("ILO", "DF_ILMS_A05", "1.0"), dsd, rows))


SS_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<message:StructureSpecificData
    xmlns:message="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message"
    xmlns:common="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common"
    xmlns:ss="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/structurespecific">
<message:Header><message:ID>X</message:ID><message:Test>false</message:Test>
<message:Prepared>2026-01-01T00:00:00</message:Prepared><message:Sender id="ILO"/>
<message:Structure structureID="S" dimensionAtObservation="TIME_PERIOD">
<common:StructureUsage><Ref agencyID="ILO" id="DF_ILMS_A05" version="1.0"/></common:StructureUsage>
</message:Structure></message:Header>
"""


def ss_message(
    datasets: list[tuple[str, list[dict[str, str]]]], first: str = "", last: str = ""
) -> bytes:
    """SDMX-ML 2.1 structure-specific data: a DataSet per (action, rows), a Series per run of
    rows with the same key (UNIT_MEASURE on it, the other attributes on the observations);
    ``first`` and ``last`` go at the start and the end of each data set."""
    out = [SS_HEAD]
    for action, rows in datasets:
        out.append(f'<message:DataSet ss:structureRef="S" action="{action}">{first}\n')
        cells = [{**TOTALS, **row} for row in rows]
        for key, group in groupby(cells, key=lambda c: tuple(c[d] for d in DIMS)):
            series = list(group)
            codes = " ".join(f"{d}={quoteattr(c)}" for d, c in zip(DIMS, key, strict=True))
            out.append(f"<Series {codes} UNIT_MEASURE={quoteattr(series[0]['UNIT_MEASURE'])}>\n")
            named = ("TIME_PERIOD", "OBS_VALUE", *(a for a in ATTRS if a != "UNIT_MEASURE"))
            for cell in series:
                sent = " ".join(f"{n}={quoteattr(cell[n])}" for n in named if cell.get(n))
                out.append(f"<Obs {sent}/>\n")
            out.append("</Series>\n")
        out.append(f"{last}</message:DataSet>\n")
    out.append("</message:StructureSpecificData>\n")
    return "".join(out).encode()


def ss_load() -> bytes:
    """``first_rows`` in one data set, new series in a second one that says Merge."""
    added = [
        obs("THA", "SEX_M", "ECO_ISIC4_B", str(year), str(year), OBS_STATUS="P")
        for year in range(2010, 2020)
    ]
    return ss_message([("Information", first_rows()), ("Merge", added)])


def revision() -> bytes:
    """Updates, unchanged rows, new series, Merge and Replace rows in one message."""
    rows = [
        obs("THA", "SEX_T", "ECO_ISIC4_TOTAL", "2015", "15.5"),  # unchanged
        obs("THA", "SEX_T", "ECO_ISIC4_TOTAL", "2016", "99"),  # updated
        obs("THA", "SEX_T", "ECO_ISIC4_TOTAL", "2021", "21.5"),  # new period
        obs("THA", "SEX_M", "ECO_ISIC4_B", "2020", "1", ACTION="M"),  # new series, merged
        {**obs("VNM", "SEX_F", "ECO_ISIC4_A", "2015", "7", OBS_STATUS="P"), "ACTION": "R"},
        obs("VNM", "SEX_F", "ECO_ISIC4_B", "2015", "8", NOTE_CLASSIF="new"),  # new series
    ]
    return message(rows)


@pytest.fixture(params=STORES)
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Env, Env]]:
    kind = str(request.param)
    with (
        open_env(fresh_settings(kind, tmp_path / "a", "columnar_a")) as fast,
        open_env(fresh_settings(kind, tmp_path / "b", "columnar_b")) as slow,
    ):
        yield fast, slow


def row_path_only(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: Any, **__: Any) -> None:
        raise columnar.Fallback("switched off by the test")

    for name in ("stage_csv", "stage_xml", "stage_rows"):
        monkeypatch.setattr(columnar, name, refuse)


def state(env: Env, dsd: DataStructure) -> tuple[Any, ...]:
    with env.session() as session:
        store = ObservationStore(session)
        # attributes as JSON values: PostgreSQL's jsonb spells a merged object its own way
        history = [(*r[:3], json.loads(r[3] or "{}"), *r[4:]) for r in store.history(dsd)]
        current = [(*r[:4], json.loads(r[4] or "{}")) for r in store.current(dsd)]
        return (history, current, store.current_attributes(dsd))


def assert_same_state(fast: Env, slow: Env, dsd: DataStructure) -> None:
    for name, a, b in zip(
        ("history", "current", "attributes"), state(fast, dsd), state(slow, dsd), strict=True
    ):
        only_fast = [row for row in a if row not in b]
        only_slow = [row for row in b if row not in a]
        assert (only_fast, only_slow) == ([], []), name
        assert a == b, name  # same rows, same order


def send_all(env: Env, bodies: list[bytes], media_type: str = CSV20) -> list[dict[str, int]]:
    counts = []
    for body in bodies:
        response = env.post(body, content_type=media_type)
        assert response.status_code == 201, response.text[:1000]
        counts.append(response.json()["submission"]["counts"])
    return counts


def test_columnar_and_row_paths_store_the_same(
    stores: tuple[Env, Env], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    fast, slow = stores
    dsd = fast.flow().dsd
    bodies = [first_load(), revision(), first_load()]
    with caplog.at_level(logging.INFO, logger="ilms.ingest"):
        fast_counts = send_all(fast, bodies)
    assert ROW_PATH_LOG not in caplog.text  # every message went the columnar way
    with monkeypatch.context() as patch:
        row_path_only(patch)
        slow_counts = send_all(slow, bodies)
    assert fast_counts == slow_counts
    assert fast_counts[0]["observations_inserted"] == 72
    assert fast_counts[1]["observations_updated"] >= 1
    assert_same_state(fast, slow, dsd)
    current = {(k, p): (v, a) for k, p, v, _, a in state(fast, dsd)[1]}
    assert (
        current[
            "THA.A.MST_TEMP_NB.SEX_T.AGE_AGGREGATE_TOTAL.EDU_ISCED11_TOTAL.ECO_ISIC4_TOTAL."
            "OCU_ISCO08_TOTAL.STE_ICSE93_TOTAL.CBR_BIR_TOTAL.CCT_CIT_TOTAL",
            "2019",
        ][0]
        == -1250.0
    )


@pytest.mark.parametrize(("fmt", "media_type"), [("xml", ML21_SS), ("json", JSON20)])
def test_other_readers_go_the_columnar_way_too(
    stores: tuple[Env, Env],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    fmt: str,
    media_type: str,
) -> None:
    fast, slow = stores
    dsd = fast.flow().dsd
    body = written(fmt, dsd)
    monkeypatch.setattr(columnar, "ROW_BATCH", 7)  # batches meet inside series
    with caplog.at_level(logging.INFO, logger="ilms.ingest"):
        response = fast.post(body, content_type=media_type)
    assert response.status_code == 201, response.text[:1000]
    assert ROW_PATH_LOG not in caplog.text
    row_path_only(monkeypatch)
    again = slow.post(body, content_type=media_type)
    assert again.json()["submission"]["counts"] == response.json()["submission"]["counts"]
    assert_same_state(fast, slow, dsd)


def test_structure_specific_xml_is_read_as_columns(
    stores: tuple[Env, Env], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Two data sets, series straddling batches, then the same again (staged, unchanged)."""
    fast, slow = stores
    dsd = fast.flow().dsd
    read_as_columns = []
    stage_xml = columnar.stage_xml
    monkeypatch.setattr(columnar, "stage_xml", lambda *a: read_as_columns.append(stage_xml(*a)))
    monkeypatch.setattr(columnar, "ROW_BATCH", 7)
    bodies = [ss_load(), ss_load()]
    with caplog.at_level(logging.INFO, logger="ilms.ingest"):
        fast_counts = send_all(fast, bodies, ML21_SS)
    assert ROW_PATH_LOG not in caplog.text
    assert len(read_as_columns) == 2
    row_path_only(monkeypatch)
    assert send_all(slow, bodies, ML21_SS) == fast_counts
    assert fast_counts[0]["observations_inserted"] == 82
    assert_same_state(fast, slow, dsd)


@pytest.mark.parametrize("where", ["first", "last"])
def test_what_the_xml_columns_do_not_read_takes_the_row_path(
    stores: tuple[Env, Env],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    where: str,
) -> None:
    """Annotations in a data set: refused before anything is staged, or once most is."""
    fast, slow = stores
    dsd = fast.flow().dsd
    monkeypatch.setattr(columnar, "ROW_BATCH", 7)
    annotated = (
        '<common:Annotations><common:Annotation><common:AnnotationText xml:lang="en">'
        "a note</common:AnnotationText></common:Annotation></common:Annotations>"
    )
    body = ss_message([("Information", first_rows())], **{where: annotated})
    with caplog.at_level(logging.INFO, logger="ilms.ingest"):
        counts = send_all(fast, [body], ML21_SS)
    assert f"{ROW_PATH_LOG}: a {{http://www.sdmx.org/" in caplog.text
    row_path_only(monkeypatch)
    assert send_all(slow, [body], ML21_SS) == counts
    assert_same_state(fast, slow, dsd)


def test_batches_meet_across_boundaries(
    stores: tuple[Env, Env], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small blocks: series straddle batches (their later rows are staged, not inserted)."""
    fast, slow = stores
    dsd = fast.flow().dsd
    monkeypatch.setattr(columnar, "BLOCK_BYTES", 2048)
    fast_counts = send_all(fast, [first_load(), revision()])
    row_path_only(monkeypatch)
    assert send_all(slow, [first_load(), revision()]) == fast_counts
    assert_same_state(fast, slow, dsd)


@pytest.mark.parametrize("block", [1 << 23, 2048])
def test_a_key_sent_twice_is_reported_by_the_row_path(
    stores: tuple[Env, Env], monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    fast, _ = stores
    monkeypatch.setattr(columnar, "BLOCK_BYTES", block)
    rows = [obs("THA", "SEX_T", "ECO_ISIC4_TOTAL", str(y), "1") for y in range(2000, 2040)]
    rows.append(obs("THA", "SEX_T", "ECO_ISIC4_TOTAL", "2001", "2"))  # row 42
    response = fast.post(message(rows))
    assert response.status_code in (400, 422), response.text[:500]
    found = problems(response)
    assert [p["rule"] for p in found] == ["duplicate_observation"]
    assert found[0]["location"] == "row 3"  # the first of the two, as the row path says
    assert set(fast.data_counts().values()) == {0}


def test_invalid_rows_are_reported_where_they_are(stores: tuple[Env, Env]) -> None:
    fast, _ = stores
    rows = [obs("THA", "SEX_T", "ECO_ISIC4_TOTAL", str(y), "1") for y in range(2000, 2010)]
    rows[7]["SEX"] = "SEX_X_UNKNOWN"
    rows[8]["OBS_VALUE"] = "1,5"
    response = fast.post(message(rows))
    found = problems(response)
    assert [(p["rule"], p["location"]) for p in found] == [
        ("code_not_in_codelist", "row 9"),
        ("not_a_number", "row 10"),
    ]
    assert set(fast.data_counts().values()) == {0}
