"""Validation against the real ILMS structures in dsd/ and ILOSTAT's codelists in codelists/."""

from __future__ import annotations

import msgspec
import pytest

from service.model import Annotation
from service.validation import RowValidator, ValidationContext
from tests.unit.validation.conftest import Ilms, ilms_row


@pytest.fixture(scope="module")
def a05(ilms: Ilms) -> RowValidator:
    return RowValidator(ilms.context("A05", provider_areas=frozenset({"THA"})))


def test_a_valid_table_5_row_passes(a05: RowValidator) -> None:
    assert a05.check(ilms_row()) == ()
    full = ilms_row(
        attrs={
            "OBS_STATUS": "P",
            "DECIMALS": "1",
            "SOURCE": "LFS - Labour Force Survey",
            "NOTE_SOURCE": "R1:2383_T2:84",
            "NOTE_INDICATOR": "T35:6",
            "NOTE_CLASSIF": "C6:1072",
            "UPPER_BOUND": "1300",
            "LOWER_BOUND": "1100",
        }
    )
    assert a05.check(full) == ()


def test_eco_code_outside_the_table_constraint(a05: RowValidator) -> None:
    (problem,) = a05.check(ilms_row(key={"ECO": "ECO_ISIC3_A"}))
    assert (problem.rule, problem.component) == ("code_not_allowed", "ECO")
    assert problem.message == (
        "ECO 'ECO_ISIC3_A' is not allowed for this dataflow "
        "(content constraint ILO:CR_ILMS_A05(1.0))."
    )


def test_bad_ref_area(a05: RowValidator) -> None:
    (problem,) = a05.check(ilms_row(key={"REF_AREA": "XYZ"}))
    assert (problem.rule, problem.component) == ("code_not_in_codelist", "REF_AREA")
    assert problem.message == "REF_AREA 'XYZ' is not in codelist ILO:CL_AREA(1.0)."
    assert problem.series_key.startswith("XYZ.A.MST_TEMP_NB.SEX_T.AGE_AGGREGATE_TOTAL.")


def test_another_providers_area(a05: RowValidator) -> None:
    (problem,) = a05.check(ilms_row(key={"REF_AREA": "VNM"}))
    assert (problem.rule, problem.component) == ("provider_area_not_allowed", "REF_AREA")


def test_other_tables_have_their_own_codes(ilms: Ilms) -> None:
    a06 = RowValidator(ilms.context("A06"))
    (problem,) = a06.check(ilms_row())  # an ECO breakdown is not table 6's
    assert (problem.rule, problem.component) == ("code_not_allowed", "ECO")
    assert a06.check(ilms_row(key={"ECO": "ECO_ISIC4_TOTAL", "OCU": "OCU_ISCO08_2"})) == ()


def test_ilms_tables_are_annual(a05: RowValidator) -> None:
    (problem,) = a05.check(ilms_row(key={"FREQ": "Q"}, time="2023-Q1"))
    assert (problem.rule, problem.component) == ("code_not_allowed", "FREQ")
    (problem,) = a05.check(ilms_row(time="2023-06"))
    assert problem.rule == "period_frequency_mismatch"
    assert a05.check(ilms_row(time="2023-A1")) == ()


def test_missing_values_in_ilostat_terms(a05: RowValidator) -> None:
    assert a05.context.missing_statuses == {"N": "Not available", "X": "Not applicable"}
    assert a05.check(ilms_row(value=None, attrs={"OBS_STATUS": "N"})) == ()
    (problem,) = a05.check(ilms_row(value=None, attrs={"OBS_STATUS": "M"}))
    assert problem.message == (
        "OBS_VALUE is missing and OBS_STATUS 'M' does not say why; "
        "give OBS_STATUS N (Not available) or X (Not applicable)."
    )


def test_coded_attributes_use_ilostat_codelists(a05: RowValidator) -> None:
    problems = a05.check(ilms_row(attrs={"UNIT_MULT": "2", "DECIMALS": "10"}))
    assert [(p.rule, p.component) for p in problems] == [
        ("code_not_in_codelist", "UNIT_MULT"),
        ("code_not_in_codelist", "DECIMALS"),
    ]


def test_free_text_limit_from_the_dsd_annotation(ilms: Ilms) -> None:
    dsd = msgspec.structs.replace(
        ilms.dsd,
        annotations=(
            *ilms.dsd.annotations,
            Annotation(type="MAXTEXTATTRIBUTELENGTH", title="1024"),
        ),
    )
    constraint = ilms.constraints["CR_ILMS_A05"]
    validator = RowValidator(ValidationContext.build(dsd, ilms.codelists, [constraint]))
    assert validator.check(ilms_row(attrs={"SOURCE": "x" * 1024})) == ()
    (problem,) = validator.check(ilms_row(attrs={"NOTE_SOURCE": "x" * 1025}))
    assert (problem.rule, problem.component) == ("attribute_too_long", "NOTE_SOURCE")
