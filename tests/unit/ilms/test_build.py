"""The ILMS artefacts built on ILOSTAT's codelists: DSDs, dataflows, constraints, providers."""

from __future__ import annotations

from collections import Counter
from typing import TypeVar

import msgspec
import pytest

from service.ilms.build import (
    ATTRIBUTES,
    INDICATOR_ANNOTATION,
    MODULE_ANNOTATION,
    TABLE_ANNOTATION,
    IlmsBuildError,
    build_ilms_structures,
)
from service.ilms.tables import ASEAN, CANONICAL_TOTALS, MODULES, TABLES, IlmsTable
from service.model import (
    AgencyScheme,
    Artefact,
    Categorisation,
    CategoryScheme,
    Code,
    Codelist,
    ConceptScheme,
    ContentConstraint,
    Dataflow,
    DataProviderScheme,
    DataStructure,
    ItemScheme,
    MaintainableArtefact,
    ProvisionAgreement,
)
from tests.unit.ilms.conftest import MdTable

LANGS = {"en", "fr", "es"}


_A = TypeVar("_A", bound=MaintainableArtefact)


def _of(artefacts: list[Artefact], cls: type[_A]) -> dict[str, _A]:
    return {a.id: a for a in artefacts if isinstance(a, cls)}


def _table(dataflow: Dataflow) -> IlmsTable:
    return next(t for t in TABLES if f"DF_ILMS_{t.code}" == dataflow.id)


def _constraint_of(structures: list[Artefact], dataflow: Dataflow) -> ContentConstraint:
    (found,) = (
        c
        for c in _of(structures, ContentConstraint).values()
        if any(ref.cls == "Dataflow" and ref.id == dataflow.id for ref in c.attachment)
    )
    return found


def test_ids_are_unique(structures: list[Artefact]) -> None:
    keys = Counter((type(a).__name__, a.key) for a in structures)
    assert [k for k, n in keys.items() if n > 1] == []


def test_what_is_built(structures: list[Artefact]) -> None:
    counts = Counter(type(a).__name__ for a in structures)
    assert counts == {
        "DataStructure": 3,
        "Dataflow": 18,
        "ContentConstraint": 18 + 10,
        "Categorisation": 18,
        "CategoryScheme": 1,
        "AgencyScheme": 1,
        "DataProviderScheme": 1,
        "ProvisionAgreement": 10 * 18,
    }
    assert sorted(_of(structures, DataStructure)) == [
        "DSD_ILMS_ABROAD",
        "DSD_ILMS_FLOW",
        "DSD_ILMS_STOCK",
    ]
    dataflows = sorted(_of(structures, Dataflow))
    assert dataflows[0] == "DF_ILMS_A01"
    assert dataflows[-1] == "DF_ILMS_C18_XRET"


def test_every_artefact_is_ilo_1_0_final_in_three_languages(structures: list[Artefact]) -> None:
    for artefact in structures:
        assert set(artefact.names) == LANGS, artefact.urn
        assert all(artefact.names.values()), artefact.urn
        assert artefact.version == "1.0"
        expected_agency = "SDMX" if isinstance(artefact, AgencyScheme) else "ILO"
        assert artefact.agency == expected_agency
        # SDMX 2.1 fixes isFinal="false" on organisation schemes.
        organisation = isinstance(artefact, AgencyScheme | DataProviderScheme)
        assert artefact.is_final is not organisation, artefact.urn


def test_items_are_named_in_three_languages(structures: list[Artefact]) -> None:
    schemes = [a for a in structures if isinstance(a, ItemScheme)]
    assert len(schemes) == 3
    for scheme in schemes:
        assert scheme.items
        for item in scheme.items:
            assert set(item.names) == LANGS, f"{scheme.urn}.{item.id}"


def test_dsd_attributes_are_ilostats(structures: list[Artefact], specimen: list[Artefact]) -> None:
    (imf_ilostat,) = (a for a in specimen if isinstance(a, DataStructure) and a.id == "IMF_ILOSTAT")
    assert imf_ilostat.attributes == ATTRIBUTES
    levels = {a.id: (a.relationship.level, a.relationship.dimensions) for a in ATTRIBUTES}
    assert levels["UNIT_MULT"] == ("dimensions", ("MEASURE",))
    assert levels["SOURCE"] == ("dimensions", ("REF_AREA", "MEASURE", "TIME_PERIOD"))
    assert levels["OBS_STATUS"] == ("observation", ())
    for dsd in _of(structures, DataStructure).values():
        assert dsd.attributes == imf_ilostat.attributes
        assert dsd.measures == imf_ilostat.measures
        assert all(not a.mandatory for a in dsd.attributes)


def test_dsd_dimensions_reuse_ilostat_concepts_and_codelists(
    structures: list[Artefact], specimen: list[Artefact]
) -> None:
    (imf_ilostat,) = (a for a in specimen if isinstance(a, DataStructure) and a.id == "IMF_ILOSTAT")
    theirs = {d.id: d for d in imf_ilostat.dimensions}
    for dsd in _of(structures, DataStructure).values():
        module = next(m for m in MODULES.values() if m.dsd_id == dsd.id)
        ids = [d.id for d in dsd.dimensions]
        assert ids == ["REF_AREA", "FREQ", "MEASURE", *module.breakdowns, "TIME_PERIOD"]
        assert [d.position for d in dsd.dimensions] == list(range(1, len(ids) + 1))
        assert dsd.time_dimension == msgspec.structs.replace(
            theirs["TIME_PERIOD"], position=len(ids)
        )
        for dim in dsd.key_dimensions:
            assert dim.representation is not None
            assert dim.representation.enumeration is not None
            assert dim.representation.enumeration.id == (
                "CL_AREA" if dim.id == "REF_AREA" else f"CL_{dim.id}"
            )
            scheme = (
                "CS_ILOSTAT" if dim.id in ("REF_AREA", "FREQ", "MEASURE") else "CS_CLASSIF_TYPE"
            )
            assert (dim.concept.id, dim.concept.item) == (scheme, dim.id)
            if dim.id in theirs:
                assert dim == msgspec.structs.replace(theirs[dim.id], position=dim.position)
        modules = [a.title for a in dsd.annotations if a.type == MODULE_ANNOTATION]
        assert modules == [module.module.value]


def test_every_concept_is_ilostats(
    structures: list[Artefact], ilo_concept_schemes: list[ConceptScheme]
) -> None:
    schemes = {cs.id: cs for cs in ilo_concept_schemes}
    assert set(schemes) >= {"CS_ILOSTAT", "CS_CLASSIF_TYPE", "CS_NOTE_TYPE"}
    for dsd in _of(structures, DataStructure).values():
        for component in (*dsd.dimensions, *dsd.attributes, *dsd.measures):
            ref = component.concept
            assert (ref.cls, ref.agency, ref.version) == ("Concept", "ILO", "1.0")
            assert schemes[ref.id].item(ref.item or "") is not None, f"{dsd.id}: {ref}"


def _codelist_of(dsd: DataStructure, dimension: str, by_id: dict[str, Codelist]) -> Codelist:
    component = dsd.component(dimension)
    assert component is not None
    assert component.representation is not None
    assert component.representation.enumeration is not None
    return by_id[component.representation.enumeration.id]


def test_every_constraint_code_is_in_its_codelist(
    structures: list[Artefact], ilo_codelists: list[Codelist]
) -> None:
    by_id = {cl.id: cl for cl in ilo_codelists}
    dsds = _of(structures, DataStructure)
    checked = 0
    for dataflow in _of(structures, Dataflow).values():
        dsd = dsds[dataflow.structure.id]
        (region,) = _constraint_of(structures, dataflow).cube_regions
        assert region.include
        for dimension, values in region.key_values.items():
            codes = {c.id for c in _codelist_of(dsd, dimension, by_id).items}
            assert set(values) <= codes, (dataflow.id, dimension, set(values) - codes)
            assert len(set(values)) == len(values)
            checked += len(values)
    assert checked > 18 * 10


def _breakdowns(constraint: ContentConstraint) -> set[str]:
    (region,) = constraint.cube_regions
    return {
        dim
        for dim, values in region.key_values.items()
        if dim in CANONICAL_TOTALS and set(values) != {CANONICAL_TOTALS[dim]}
    }


def test_dataflows_match_ilms_md(structures: list[Artefact], md_tables: dict[int, MdTable]) -> None:
    seen = set()
    for dataflow in _of(structures, Dataflow).values():
        table = _table(dataflow)
        constraint = _constraint_of(structures, dataflow)
        if not table.standard:
            assert _breakdowns(constraint) == {"SEX", "CPR"}
            continue
        row = md_tables[table.number]
        assert _breakdowns(constraint) == row.breakdowns, dataflow.id
        assert set(constraint.allowed_codes("MEASURE") or ()) == row.measures, dataflow.id
        assert dataflow.structure.id == MODULES[table.module].dsd_id
        seen.add(table.number)
    assert seen == set(md_tables)


def test_constraints_fix_frequency_and_leave_area_and_time_open(structures: list[Artefact]) -> None:
    for dataflow in _of(structures, Dataflow).values():
        constraint = _constraint_of(structures, dataflow)
        assert constraint.role == "Allowed"
        assert constraint.id == dataflow.id.replace("DF_", "CR_", 1)
        assert constraint.allowed_codes("FREQ") == ("A",)
        assert constraint.allowed_codes("REF_AREA") is None
        assert constraint.allowed_codes("TIME_PERIOD") is None


@pytest.mark.parametrize(
    ("dataflow_id", "dimension", "expected"),
    [
        ("DF_ILMS_A01", "CBR", {"CBR_BIR_TOTAL", "CBR_BIR_NATIVE", "CBR_BIR_FOREIGN", "CBR_BIR_X"}),
        ("DF_ILMS_A01", "CCT", {"CCT_CIT_TOTAL", "CCT_CIT_CITIZEN", "CCT_CIT_NONCIT", "CCT_CIT_X"}),
        ("DF_ILMS_A01", "SEX", {"SEX_T", "SEX_M", "SEX_F"}),
        ("DF_ILMS_A01", "ECO", {"ECO_ISIC4_TOTAL"}),
        ("DF_ILMS_B10", "CBR", {"CBR_BIR_TOTAL"}),
        ("DF_ILMS_C16", "CDS", {"CDS_DES_TOTAL"}),
    ],
)
def test_constraint_codes(
    structures: list[Artefact], dataflow_id: str, dimension: str, expected: set[str]
) -> None:
    constraint = _constraint_of(structures, _of(structures, Dataflow)[dataflow_id])
    assert set(constraint.allowed_codes(dimension) or ()) == expected


def _codes_of(codelists: list[Codelist], codelist_id: str) -> list[Code]:
    return list(next(cl for cl in codelists if cl.id == codelist_id).items)


@pytest.mark.parametrize(
    ("dataflow_id", "dimension", "prefix", "codelist_id"),
    [
        ("DF_ILMS_A01", "AGE", "AGE_AGGREGATE_", "CL_AGE"),
        ("DF_ILMS_A02", "EDU", "EDU_ISCED11_", "CL_EDU"),
        ("DF_ILMS_A05", "ECO", "ECO_ISIC4_", "CL_ECO"),
        ("DF_ILMS_A06", "OCU", "OCU_ISCO08_", "CL_OCU"),
        ("DF_ILMS_A07", "STE", "STE_ICSE93_", "CL_STE"),
        ("DF_ILMS_A03", "CBR", "CBR_BRT_", "CL_CBR"),
        ("DF_ILMS_B09", "CCT", "CCT_CTZ_", "CL_CCT"),
        ("DF_ILMS_C13", "CRS", "CRS_RES_", "CL_CRS"),
        ("DF_ILMS_C15", "CDS", "CDS_DES_", "CL_CDS"),
        ("DF_ILMS_C18_XRET", "CPR", "CPR_PRV_", "CL_CPR"),
    ],
)
def test_breakdown_takes_every_code_of_its_version(
    structures: list[Artefact],
    ilo_codelists: list[Codelist],
    dataflow_id: str,
    dimension: str,
    prefix: str,
    codelist_id: str,
) -> None:
    constraint = _constraint_of(structures, _of(structures, Dataflow)[dataflow_id])
    allowed = set(constraint.allowed_codes(dimension) or ())
    version = {c.id for c in _codes_of(ilo_codelists, codelist_id) if c.id.startswith(prefix)}
    assert {f"{prefix}TOTAL", f"{prefix}X"} & version  # the version has its total / "other"
    assert version <= allowed
    assert allowed - version <= {CANONICAL_TOTALS[dimension]}


def test_the_same_total_is_shared(structures: list[Artefact]) -> None:
    """All employed persons (MST_TEMP_NB, every total) is one key allowed by tables 1, 5, 6, 7."""
    dataflows = _of(structures, Dataflow)
    totals = {
        dim: CANONICAL_TOTALS[dim]
        for dim in MODULES[_table(dataflows["DF_ILMS_A05"]).module].breakdowns
    }
    for dataflow_id in ("DF_ILMS_A01", "DF_ILMS_A05", "DF_ILMS_A06", "DF_ILMS_A07"):
        constraint = _constraint_of(structures, dataflows[dataflow_id])
        assert "MST_TEMP_NB" in (constraint.allowed_codes("MEASURE") or ())
        for dim, total in totals.items():
            assert total in (constraint.allowed_codes(dim) or ()), (dataflow_id, dim)


def test_dataflow_annotations(structures: list[Artefact]) -> None:
    for dataflow in _of(structures, Dataflow).values():
        table = _table(dataflow)
        by_type: dict[str | None, list[str | None]] = {}
        for annotation in dataflow.annotations:
            by_type.setdefault(annotation.type, []).append(annotation.title)
        assert by_type[INDICATOR_ANNOTATION] == list(table.indicators)
        assert by_type[TABLE_ANNOTATION] == [str(table.number)]
        assert by_type[MODULE_ANNOTATION] == [table.module.value]
        assert len(table.indicators) >= len(table.measures)
        for indicator in table.indicators:
            assert indicator.rsplit("_", 1)[0].split("_SEX")[0] + "_NB" in table.measures


def test_provision_agreements(structures: list[Artefact]) -> None:
    agreements = _of(structures, ProvisionAgreement)
    dataflows = _of(structures, Dataflow)
    (providers,) = _of(structures, DataProviderScheme).values()
    pairs = {(pa.provider.item, pa.dataflow.id) for pa in agreements.values()}
    assert pairs == {(c.iso3, df) for c in ASEAN for df in dataflows}
    for pa in agreements.values():
        assert pa.id == f"PA_{pa.provider.item}_{pa.dataflow.id.removeprefix('DF_')}"
        assert pa.provider.id == providers.id == "DATA_PROVIDERS"
        assert providers.item(pa.provider.item or "") is not None


def test_providers_may_report_only_their_own_country(structures: list[Artefact]) -> None:
    (providers,) = _of(structures, DataProviderScheme).values()
    assert [p.id for p in providers.items] == [c.iso3 for c in ASEAN]
    assert providers.items[0].names["en"] == "Brunei Darussalam: national ILMS focal point"
    by_provider = {
        ref.item: c
        for c in _of(structures, ContentConstraint).values()
        for ref in c.attachment
        if ref.cls == "DataProvider"
    }
    assert set(by_provider) == {c.iso3 for c in ASEAN}
    for iso3, constraint in by_provider.items():
        assert constraint.role == "Allowed"
        (region,) = constraint.cube_regions
        assert region.key_values == {"REF_AREA": (iso3,)}
        assert constraint.attachment[0].id == "DATA_PROVIDERS"


def test_agency_scheme(structures: list[Artefact]) -> None:
    (scheme,) = _of(structures, AgencyScheme).values()
    assert (scheme.agency, scheme.id, scheme.version) == ("SDMX", "AGENCIES", "1.0")
    assert [a.id for a in scheme.items] == ["ILO"]
    assert scheme.items[0].names["fr"] == "Organisation internationale du Travail"


def test_categorisations_point_at_existing_categories(structures: list[Artefact]) -> None:
    (scheme,) = _of(structures, CategoryScheme).values()
    assert scheme.key == ("ILO", "CAS_ILMS", "1.0")
    assert [c.id for c in scheme.items] == ["A", "B", "C"]
    dataflows = _of(structures, Dataflow)
    categorised = set()
    for cat in _of(structures, Categorisation).values():
        assert (cat.target.cls, cat.target.agency, cat.target.id, cat.target.version) == (
            "Category",
            *scheme.key,
        )
        assert scheme.item(cat.target.item or "") is not None
        assert cat.source.cls == "Dataflow"
        assert cat.source.id in dataflows
        assert cat.id == f"CAT_{cat.source.id}"
        assert cat.target.item == _table(dataflows[cat.source.id]).module.value
        categorised.add(cat.source.id)
    assert categorised == set(dataflows)


def _without(codelists: list[Codelist], codelist_id: str, code_id: str | None) -> list[Codelist]:
    changed = []
    for cl in codelists:
        if cl.id == codelist_id:
            if code_id is None:
                continue
            cl = msgspec.structs.replace(cl, items=tuple(c for c in cl.items if c.id != code_id))
        changed.append(cl)
    return changed


@pytest.mark.parametrize(
    ("codelist_id", "code_id", "message"),
    [
        ("CL_ECO", "ECO_ISIC4_TOTAL", "CL_ECO(1.0) has no code ECO_ISIC4_TOTAL"),
        (
            "CL_MEASURE",
            "MNA_XRET_NB",
            "DF_ILMS_C18_XRET: ILO:CL_MEASURE(1.0) has no code MNA_XRET_NB",
        ),
        ("CL_AREA", "LAO", "data provider LAO: ILO:CL_AREA(1.0) has no code LAO"),
        ("CL_FREQ", "A", "CL_FREQ(1.0) has no code A"),
        ("CL_CPR", None, "codelist ILO:CL_CPR(1.0) is missing"),
        ("CL_UNIT_MULT", None, "codelist ILO:CL_UNIT_MULT(1.0) is missing"),
    ],
)
def test_missing_codes_are_reported(
    ilo_codelists: list[Codelist], codelist_id: str, code_id: str | None, message: str
) -> None:
    with pytest.raises(IlmsBuildError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build_ilms_structures(_without(ilo_codelists, codelist_id, code_id))


def test_a_version_without_codes_is_reported(ilo_codelists: list[Codelist]) -> None:
    codelists = ilo_codelists
    for country in {
        c.id for c in _codes_of(ilo_codelists, "CL_CBR") if c.id.startswith("CBR_BRT_")
    }:
        codelists = _without(codelists, "CL_CBR", country)
    with pytest.raises(
        IlmsBuildError, match=r"DF_ILMS_A03: ILO:CL_CBR\(1.0\) has no CBR_BRT_\* code"
    ):
        build_ilms_structures(codelists)


def test_build_is_deterministic(ilo_codelists: list[Codelist], structures: list[Artefact]) -> None:
    assert build_ilms_structures(ilo_codelists) == structures
