"""The ILMS tables as data, against ILMS.md and ILOSTAT's codelists."""

from __future__ import annotations

import re

import pytest

from service.ilms.tables import ASEAN, CANONICAL_TOTALS, MODULES, TABLES, IlmsTable, Module
from service.model import Codelist
from tests.unit.ilms.conftest import MdTable, parse_md_tables

STANDARD = [t for t in TABLES if t.standard]


def test_the_17_standard_tables_and_returned_nationals() -> None:
    assert [t.number for t in STANDARD] == list(range(1, 18))
    extra = [t for t in TABLES if not t.standard]
    assert [(t.code, t.measures, t.breakdowns) for t in extra] == [
        ("C18_XRET", ("MNA_XRET_NB",), ("SEX", "CPR"))
    ]


def test_table_codes_are_systematic() -> None:
    codes = [t.code for t in TABLES]
    assert len(set(codes)) == len(codes)
    for table in STANDARD:
        assert table.code == f"{table.module.value}{table.number:02d}"


@pytest.mark.parametrize("table", STANDARD, ids=lambda t: t.code)
def test_table_matches_ilms_md(table: IlmsTable, md_tables: dict[int, MdTable]) -> None:
    row = md_tables[table.number]
    assert table.module.value == row.module
    assert table.titles["en"] == row.title
    assert set(table.measures) == row.measures
    assert set(table.breakdowns) == row.breakdowns


def test_ilms_md_lists_17_tables(md_tables: dict[int, MdTable]) -> None:
    assert sorted(md_tables) == list(range(1, 18))


def test_returned_nationals_as_ilms_md_says(ilms_md: str) -> None:
    sentence = re.search(r"MNA_XRET_NB \(([^)]*)\)", ilms_md)
    assert sentence is not None
    assert "CPR" in sentence.group(1)
    (xret,) = (t for t in TABLES if "MNA_XRET_NB" in t.measures)
    assert xret.module is Module.ABROAD
    assert xret.breakdowns == ("SEX", "CPR")


def test_ilms_md_example_indicators_are_derived(ilms_md: str) -> None:
    examples = set(re.findall(r"DF_((?:MST|MFL|MNA)_[A-Z0-9_]+_NB)\b", ilms_md))
    assert examples == {"MST_TEMP_SEX_ECO_CBR_NB", "MNA_TPOP_SEX_CRS_NB"}
    derived = {i for t in TABLES for i in t.indicators}
    assert examples <= derived


def test_parse_md_tables_maps_every_breakdown() -> None:
    text = (
        "| 9 | B flow | Inflows | MFL_XWAP_NB, MFL_FPOP_NB | SEX, country of birth / citizenship |"
    )
    assert parse_md_tables(text) == {
        9: MdTable(
            9,
            "B",
            "Inflows",
            frozenset({"MFL_XWAP_NB", "MFL_FPOP_NB"}),
            frozenset({"SEX", "CBR", "CCT"}),
        )
    }


@pytest.mark.parametrize("module", list(Module))
def test_module_dsd_covers_its_tables(module: Module) -> None:
    breakdowns = MODULES[module].breakdowns
    used = {dim for t in TABLES if t.module is module for dim in t.breakdowns}
    assert used == set(breakdowns)
    assert set(breakdowns) <= set(CANONICAL_TOTALS)


def test_module_breakdowns_as_proposed() -> None:
    assert MODULES[Module.STOCK].breakdowns == (
        "SEX",
        "AGE",
        "EDU",
        "ECO",
        "OCU",
        "STE",
        "CBR",
        "CCT",
    )
    assert MODULES[Module.FLOW].breakdowns == ("SEX", "EDU", "ECO", "OCU", "CBR", "CCT")
    assert MODULES[Module.ABROAD].breakdowns == ("SEX", "ECO", "OCU", "CRS", "CDS", "CPR")


@pytest.mark.parametrize(
    ("code", "indicators"),
    [
        ("A01", {"MST_TEMP_SEX_AGE_CBR_NB", "MST_TUNE_SEX_AGE_CCT_NB"}),
        ("A03", {"MST_FORP_SEX_CBR_NB", "MST_NCTP_SEX_CCT_NB"}),
        ("A05", {"MST_TEMP_SEX_ECO_CBR_NB", "MST_TEMP_SEX_ECO_CCT_NB"}),
        ("B11", {"MFL_FEMP_SEX_ECO_NB", "MFL_NEMP_SEX_ECO_NB"}),
        ("C13", {"MNA_TPOP_SEX_CRS_NB"}),
        ("C18_XRET", {"MNA_XRET_SEX_CPR_NB"}),
    ],
)
def test_indicator_ids_follow_ilostat(code: str, indicators: set[str]) -> None:
    (table,) = (t for t in TABLES if t.code == code)
    assert indicators <= set(table.indicators)


#: ILOSTAT indicator ids seen in lists of ILOSTAT indicators published online.
PUBLISHED_INDICATORS = {
    *(f"MST_{m}_SEX_AGE_{s}_NB" for m in ("XWAP", "TEAP", "TEMP", "TUNE") for s in ("CBR", "CCT")),
    "MST_TEIP_SEX_AGE_CBR_NB",
    "MST_XWAP_SEX_EDU_CBR_NB", "MST_XWAP_SEX_EDU_CCT_NB",
    "MST_FORP_SEX_CBR_NB", "MST_NCTP_SEX_CCT_NB", "MST_FORE_SEX_CBR_NB", "MST_NCTE_SEX_CCT_NB",
    *(f"MST_TEMP_SEX_{c}_{s}_NB" for c in ("ECO", "OCU", "STE") for s in ("CBR", "CCT")),
    "MST_EARA_SEX_CBR_NB",
    "MFL_FPOP_SEX_CBR_NB", "MFL_NCIT_SEX_CCT_NB", "MFL_FWAP_SEX_EDU_NB", "MFL_NWAP_SEX_EDU_NB",
    "MFL_FEMP_SEX_ECO_NB", "MFL_NEMP_SEX_ECO_NB", "MFL_FEMP_SEX_OCU_NB", "MFL_NEMP_SEX_OCU_NB",
    "MNA_TPOP_SEX_CRS_NB", "MNA_OPOP_SEX_CDS_NB", "MNA_OEMP_SEX_CDS_NB", "MNA_OEMP_SEX_ECO_NB",
    "MNA_OEMP_SEX_OCU_NB", "MNA_XRET_SEX_CPR_NB",
}  # fmt: skip
#: Derived by ILOSTAT's naming convention only (documented in service/ilms/tables.py).
DERIVED_ONLY = {
    "MST_TEIP_SEX_AGE_CCT_NB", "MST_EARA_SEX_CCT_NB", "MFL_XWAP_SEX_CBR_NB", "MFL_XWAP_SEX_CCT_NB"
}  # fmt: skip


def test_indicators_are_ilostats_or_documented_as_derived() -> None:
    derived = [i for t in TABLES for i in t.indicators]
    assert set(derived) == PUBLISHED_INDICATORS | DERIVED_ONLY
    assert not PUBLISHED_INDICATORS & DERIVED_ONLY
    # Each indicator belongs to exactly one table.
    assert len(derived) == len(set(derived))


def test_series_classify_by_sex_first() -> None:
    for table in TABLES:
        for series in table.series:
            assert series.dimensions[0] == "SEX"
            assert series.indicator.startswith(series.measure.removesuffix("_NB") + "_SEX")


def test_canonical_totals_are_ilostat_totals(ilo_codelists: list[Codelist]) -> None:
    by_id = {cl.id: cl for cl in ilo_codelists}
    for dimension, total in CANONICAL_TOTALS.items():
        code = by_id[f"CL_{dimension}"].item(total)
        assert code is not None, total
        flags = {a.title for a in code.annotations if a.type == "IS_TOTAL"}
        assert flags == {"Y"}, f"{total} is not flagged IS_TOTAL=Y by ILOSTAT"


def test_asean_member_states(ilo_codelists: list[Codelist]) -> None:
    area = next(cl for cl in ilo_codelists if cl.id == "CL_AREA")
    iso3 = [c.iso3 for c in ASEAN]
    assert sorted(iso3) == sorted(
        ["BRN", "KHM", "IDN", "LAO", "MYS", "MMR", "PHL", "SGP", "THA", "VNM"]
    )
    assert all(area.item(code) is not None for code in iso3)
    assert all(set(c.names) == {"en", "fr", "es"} for c in ASEAN)


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.code)
def test_titles_in_three_languages(table: IlmsTable) -> None:
    assert list(table.titles) == ["en", "fr", "es"]
    assert len(set(table.titles.values())) == 3
