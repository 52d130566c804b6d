"""The ILMS demo data set: valid, labelled, consistent totals, deterministic, small enough."""

from __future__ import annotations

import filecmp
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from service.demo.ilms import (
    MEANS,
    SYNTHETIC_NOTE,
    SYNTHETIC_SOURCE,
    YEARS,
    demo_rows,
    flow_rows,
    write_demo,
)
from service.demo.profiles import REPORTERS
from service.demo.structures import IlmsStructures
from service.formats.readers.sdmx_csv_data import read_rows
from service.ilms.tables import TABLES
from service.model.data import Action, DataRow
from service.validation import RowValidator, ValidationContext

#: Countries whose totals are checked: both variants (THA, MYS), citizenship only (SGP),
#: place of birth only (PHL).
SAMPLE = ("THA", "MYS", "SGP", "PHL")
Files = list[tuple[str, Path]]


def _read(structures: IlmsStructures, flow_id: str, path: Path) -> Iterator[DataRow]:
    with path.open("rb") as stream:
        yield from read_rows(stream, structures.flow(flow_id).dsd)


def test_one_file_per_dataflow(structures: IlmsStructures, demo_files: Files) -> None:
    assert [flow for flow, _ in demo_files] == [f"DF_ILMS_{t.code}" for t in TABLES]
    assert [f.flow.id for f in structures.flows] == [flow for flow, _ in demo_files]
    for flow, path in demo_files:
        header = path.read_text(encoding="utf-8").split("\n", 2)[:2]
        dims = ",".join(d.id for d in structures.flow(flow).dsd.key_dimensions)
        assert header[0].startswith(f"STRUCTURE,STRUCTURE_ID,ACTION,{dims},TIME_PERIOD,OBS_VALUE,")
        assert header[1].startswith(f"dataflow,ILO:{flow}(1.0),I,")


def test_every_row_is_valid_labelled_and_once_per_file(
    structures: IlmsStructures, demo_files: Files
) -> None:
    total = 0
    for flow_id, path in demo_files:
        flow = structures.flow(flow_id)
        context = ValidationContext.build(flow.dsd, structures.codelists, [flow.constraint])
        validator = RowValidator(context)
        seen: set[tuple[str, ...]] = set()
        areas: set[str] = set()
        for row in _read(structures, flow_id, path):
            assert validator.check(row) == (), (flow_id, row)
            assert row.attrs["SOURCE"] == SYNTHETIC_SOURCE
            assert row.attrs["NOTE_SOURCE"] == SYNTHETIC_NOTE
            assert row.action is Action.INFORMATION
            identity = validator.row_identity(row)
            assert identity not in seen, (flow_id, identity)
            seen.add(identity)
            areas.add(row.key["REF_AREA"])
        assert areas == set(REPORTERS), flow_id
        total += len(seen)
    assert 200_000 < total < 300_000


def test_a_shared_series_is_written_once_per_dsd(
    structures: IlmsStructures, demo_files: Files
) -> None:
    owner: dict[tuple[str, tuple[str, ...]], str] = {}
    for flow_id, path in demo_files:
        dsd = structures.flow(flow_id).dsd.id
        for row in _read(structures, flow_id, path):
            series = (dsd, tuple(row.key.values()))
            assert owner.setdefault(series, flow_id) == flow_id, (series, owner[series], flow_id)


def test_tables_sharing_a_key_give_it_the_same_value(structures: IlmsStructures) -> None:
    """Without deduplication (each table whole), a key two tables show has one value."""
    values: dict[tuple[str, ...], tuple[str, str | None, dict[str, str]]] = {}
    shared: defaultdict[str, int] = defaultdict(int)
    for flow in structures.flows:
        for row in flow_rows(flow.flow.id, structures, areas=("THA", "PHL")):
            key = (flow.dsd.id, *row.key.values(), row.time or "")
            before = values.setdefault(key, (flow.flow.id, row.value, row.attrs))
            if before[0] != flow.flow.id:
                assert (before[1], before[2]) == (row.value, row.attrs), (key, before[0])
                shared[f"{before[0]}+{flow.flow.id}"] += 1
    # the totals of tables 5-7 are table 1's; table 12's is 11's; 16-17's are 15's
    for pair in ("DF_ILMS_A01+DF_ILMS_A05", "DF_ILMS_A01+DF_ILMS_A07", "DF_ILMS_A01+DF_ILMS_A02"):
        assert shared[pair] > 0, pair
    assert shared["DF_ILMS_B11+DF_ILMS_B12"] > 0
    assert shared["DF_ILMS_C15+DF_ILMS_C16"] > 0


def _prefix(code: str) -> str:
    return code.rsplit("_", 1)[0]


def _is_total(code: str) -> bool:
    return code == "SEX_T" or code.endswith("_TOTAL")


def _check_totals(
    values: dict[tuple[str, ...], Decimal], dims: tuple[str, ...], checks: defaultdict[str, int]
) -> None:
    """For every total code of every dimension: it equals the sum of the codes of its
    classification (same prefix) shown beside it, all else equal."""
    for axis, dim in enumerate(dims):
        slices: defaultdict[tuple[str, ...], dict[str, Decimal]] = defaultdict(dict)
        for key, value in values.items():
            slices[(*key[:axis], *key[axis + 1 :])][key[axis]] = value
        for cells in slices.values():
            for code, total in cells.items():
                if not _is_total(code):
                    continue
                parts = [v for c, v in cells.items() if c != code and _prefix(c) == _prefix(code)]
                if parts:
                    assert sum(parts) == total, (dim, code, cells)
                    checks[dim] += 1


def test_every_total_is_the_sum_of_its_parts(structures: IlmsStructures, demo_files: Files) -> None:
    checks: defaultdict[str, int] = defaultdict(int)
    for dsd_id in ("DSD_ILMS_STOCK", "DSD_ILMS_FLOW", "DSD_ILMS_ABROAD"):
        flows = [(f, p) for f, p in demo_files if structures.flow(f).dsd.id == dsd_id]
        dims = (*(d.id for d in structures.flow(flows[0][0]).dsd.key_dimensions), "TIME_PERIOD")
        values: dict[tuple[str, ...], Decimal] = {}
        for flow_id, path in flows:
            for row in _read(structures, flow_id, path):
                if row.key["REF_AREA"] in SAMPLE and row.key["MEASURE"] not in MEANS:
                    key = (*row.key.values(), row.time or "")
                    values[key] = Decimal(row.value or "NaN")
        _check_totals(values, dims, checks)
    for dim in ("SEX", "AGE", "EDU", "ECO", "OCU", "STE", "CBR", "CCT", "CRS", "CDS", "CPR"):
        assert checks[dim] > 100, (dim, dict(checks))


def test_mean_wages_lie_between_their_parts(structures: IlmsStructures) -> None:
    wages = {
        (row.key["REF_AREA"], row.key["SEX"], row.key["CBR"], row.key["CCT"], row.time): int(
            row.value or 0
        )
        for row in flow_rows("A08", structures)
    }
    assert wages
    for (area, sex, cbr, cct, time), total in wages.items():
        if sex == "SEX_T":
            parts = [wages[(area, s, cbr, cct, time)] for s in ("SEX_M", "SEX_F")]
            assert min(parts) - 1 <= total <= max(parts) + 1
    first, last = str(YEARS[0]), str(YEARS[-1])
    everyone = ("SEX_T", "CBR_BIR_TOTAL", "CCT_CIT_TOTAL")
    idn = [wages[("IDN", *everyone, str(year))] for year in YEARS]
    assert all(1_000_000 < v < 10_000_000 for v in idn)  # rupiah, not thousands
    for area in REPORTERS:
        assert wages[(area, *everyone, last)] > wages[(area, *everyone, first)], area


def _total(rows: Iterator[DataRow], measure: str, year: str) -> dict[str, float]:
    """SEX_T, every other breakdown at its total: by reporting country."""
    return {
        row.key["REF_AREA"]: float(row.value or 0)
        for row in rows
        if row.key["MEASURE"] == measure
        and row.time == year
        and all(_is_total(code) for dim, code in row.key.items() if dim not in _NOT_BREAKDOWNS)
    }


_NOT_BREAKDOWNS = ("REF_AREA", "FREQ", "MEASURE")


def test_magnitudes_are_plausible(structures: IlmsStructures) -> None:
    year = "2019"
    adults = _total(flow_rows("A01", structures), "MST_XWAP_NB", year)
    inflows = _total(flow_rows("B09", structures), "MFL_XWAP_NB", year)
    abroad = _total(flow_rows("C13", structures), "MNA_TPOP_NB", year)
    leaving = _total(flow_rows("C14", structures), "MNA_OPOP_NB", year)
    assert 150_000 < adults["IDN"] < 250_000  # thousands
    assert 250 < adults["BRN"] < 450
    assert sorted(adults, key=adults.__getitem__)[-3:] == ["VNM", "PHL", "IDN"]
    for area in REPORTERS:
        assert inflows[area] < adults[area] / 10
        assert leaving[area] < abroad[area]
    assert max(abroad, key=abroad.__getitem__) == "PHL"


def test_only_the_latest_year_is_provisional(structures: IlmsStructures) -> None:
    for row in flow_rows("A03", structures, areas=("MYS",)):
        assert (row.attrs.get("OBS_STATUS") == "P") == (row.time == str(YEARS[-1]))
        assert (row.attrs["UNIT_MEASURE"], row.attrs["UNIT_MULT"]) == ("PS", "3")
    for row in flow_rows("A08", structures, areas=("MYS",)):
        assert (row.attrs["UNIT_MEASURE"], row.attrs["UNIT_MULT"]) == ("LC", "0")


def test_demo_rows_takes_the_structures_it_is_given(structures: IlmsStructures) -> None:
    flow = structures.flow("C18_XRET")
    rows = list(
        demo_rows(flow.flow, flow.dsd, flow.constraint, structures.codelists, areas=("LAO",))
    )
    assert len(rows) == len({(tuple(r.key.values()), r.time) for r in rows})
    assert {r.key["CPR"] for r in rows} >= {"CPR_PRV_TOTAL", "CPR_PRV_THA", "CPR_PRV_X"}
    assert all(r.structure is not None and r.structure.id == flow.flow.id for r in rows)


def test_unknown_dataflows_are_refused(structures: IlmsStructures) -> None:
    with pytest.raises(KeyError, match="no ILMS dataflow"):
        structures.flow("DF_NOT_ILMS")


def test_two_runs_write_the_same_bytes(
    structures: IlmsStructures, demo_files: Files, tmp_path: Path
) -> None:
    again = write_demo(tmp_path, structures)
    assert [flow for flow, _ in again] == [flow for flow, _ in demo_files]
    for (_, first), (_, second) in zip(demo_files, again, strict=True):
        assert filecmp.cmp(first, second, shallow=False), first.name
