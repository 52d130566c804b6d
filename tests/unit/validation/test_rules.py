"""RowValidator: each rule with a row that breaks it and one that passes."""

from __future__ import annotations

import random

import msgspec
import pytest

from service.model import (
    ContentConstraint,
    CubeRegion,
    DataStructure,
    Dimension,
    Measure,
    Representation,
)
from service.model.data import Action
from service.validation import (
    NO_PROBLEMS,
    Problem,
    RowValidator,
    ValidationContext,
    ValidationSetupError,
    provider_areas,
)
from tests.unit.validation.conftest import CODELISTS, CONSTRAINT, DSD, coded, make_row


def only(problems: tuple[Problem, ...]) -> Problem:
    assert len(problems) == 1, problems
    return problems[0]


def rules_of(problems: tuple[Problem, ...]) -> list[tuple[str, str | None]]:
    return [(p.rule, p.component) for p in problems]


def test_a_valid_row_has_no_problems(validator: RowValidator) -> None:
    assert validator.check(make_row()) is NO_PROBLEMS
    assert validator.check(make_row()) is NO_PROBLEMS  # the period is remembered now
    assert validator.diagnose(make_row()) == ()


class TestKey:
    def test_missing_dimension(self, validator: RowValidator) -> None:
        problem = only(validator.check(make_row(drop_key=["MEASURE"])))
        assert (problem.rule, problem.component) == ("missing_dimension", "MEASURE")
        assert problem.series_key == "THA.A."
        assert problem.message == "The key has no code for dimension MEASURE."

    def test_empty_code_is_a_missing_dimension(self, validator: RowValidator) -> None:
        problem = only(validator.check(make_row(key={"FREQ": ""})))
        assert (problem.rule, problem.component) == ("missing_dimension", "FREQ")

    def test_wrong_number_of_dimensions_is_one_problem(self, validator: RowValidator) -> None:
        problem = only(validator.check(make_row(key={}, drop_key=["FREQ", "MEASURE"])))
        assert (problem.rule, problem.component) == ("missing_dimension", "FREQ, MEASURE")
        assert problem.message == (
            "The key gives 1 of the 3 dimensions of TEST:DSD_T(1.0); missing: FREQ, MEASURE."
        )

    def test_unknown_dimension(self, validator: RowValidator) -> None:
        problems = validator.check(make_row(key={"SEXE": "F"}))
        assert rules_of(problems) == [("unknown_component", "SEXE")]
        assert problems[0].value == "F"

    def test_misspelt_dimension(self, validator: RowValidator) -> None:
        problems = validator.check(make_row(key={"MEASUR": "M1"}, drop_key=["MEASURE"]))
        assert rules_of(problems) == [
            ("missing_dimension", "MEASURE"),
            ("unknown_component", "MEASUR"),
        ]

    def test_code_not_in_codelist(self, validator: RowValidator) -> None:
        problem = only(validator.check(make_row(key={"REF_AREA": "XXX"})))
        assert (problem.rule, problem.component, problem.value) == (
            "code_not_in_codelist",
            "REF_AREA",
            "XXX",
        )
        assert problem.message == "REF_AREA 'XXX' is not in codelist TEST:CL_AREA(1.0)."

    def test_code_not_allowed_for_the_dataflow(self, validator: RowValidator) -> None:
        problem = only(validator.check(make_row(key={"MEASURE": "M3"})))
        assert (problem.rule, problem.component) == ("code_not_allowed", "MEASURE")
        assert problem.message == (
            "MEASURE 'M3' is not allowed for this dataflow (content constraint TEST:CR_T(1.0))."
        )
        assert validator.check(make_row(key={"MEASURE": "M2"})) == ()

    def test_code_excluded_by_the_dataflow(self, validator: RowValidator) -> None:
        problem = only(validator.check(make_row(key={"REF_AREA": "FRA"})))
        assert (problem.rule, problem.component) == ("code_not_allowed", "REF_AREA")

    def test_provider_area_not_allowed(self, validator: RowValidator) -> None:
        problem = only(validator.check(make_row(key={"REF_AREA": "VNM"})))
        assert (problem.rule, problem.component) == ("provider_area_not_allowed", "REF_AREA")
        assert problem.message == "The data provider is not authorised for REF_AREA VNM."

    def test_without_provider_scope_any_allowed_area_passes(self) -> None:
        context = ValidationContext.build(DSD, {c.key: c for c in CODELISTS}, [CONSTRAINT])
        assert RowValidator(context).check(make_row(key={"REF_AREA": "VNM"})) == ()

    def test_a_delete_may_leave_dimensions_out(self, validator: RowValidator) -> None:
        row = make_row(action=Action.DELETE, time=None, value=None, drop_key=["MEASURE"])
        assert validator.check(row) == ()  # a wildcard: every measure of THA.A
        assert validator.row_identity(row) == ("THA", "A", "", "")

    def test_a_providers_delete_must_name_its_area(self, validator: RowValidator) -> None:
        row = make_row(action=Action.DELETE, time=None, value=None, drop_key=["REF_AREA"])
        problem = only(validator.check(row))
        assert (problem.rule, problem.component) == ("missing_dimension", "REF_AREA")
        assert problem.message == (
            "A data provider's partial key must give REF_AREA: a wildcard would reach other "
            "providers' data."
        )
        context = ValidationContext.build(DSD, {c.key: c for c in CODELISTS}, [CONSTRAINT])
        assert RowValidator(context).check(row) == ()  # no provider scope: an ILO upload

    def test_an_attribute_statement_may_give_a_partial_key(self, validator: RowValidator) -> None:
        # an SDMX-ML group: no period, no value, only the group's dimensions
        row = make_row(time=None, value=None, drop_key=["MEASURE"])
        assert "missing_dimension" not in {p.rule for p in validator.check(row)}
        observation = make_row(drop_key=["MEASURE"])  # an observation still needs all
        assert "missing_dimension" in {p.rule for p in validator.check(observation)}

    def test_series_key_in_dsd_order(self, validator: RowValidator) -> None:
        row = make_row(key={"MEASURE": "M3", "REF_AREA": "THA"})
        row.key.pop("REF_AREA")
        row.key["REF_AREA"] = "THA"  # dict order differs from the DSD's
        assert only(validator.check(row)).series_key == "THA.A.M3"


class TestTime:
    def test_missing_time_period(self, validator: RowValidator) -> None:
        problem = only(validator.check(make_row(time=None)))
        assert (problem.rule, problem.component) == ("missing_time_period", "TIME_PERIOD")

    def test_series_statement_without_time_or_value_passes(self, validator: RowValidator) -> None:
        row = make_row(time=None, value=None, attrs={"OBS_CONF": ""})
        assert validator.check(row) == ()

    def test_bad_time_period(self, validator: RowValidator) -> None:
        problem = only(validator.check(make_row(key={"FREQ": "M"}, time="2023-13")))
        assert (problem.rule, problem.component, problem.time) == (
            "bad_time_period",
            "TIME_PERIOD",
            "2023-13",
        )
        assert problem.message == (
            "'2023-13' is not a valid SDMX time period: month 13 does not exist."
        )

    def test_period_frequency_mismatch(self, validator: RowValidator) -> None:
        problem = only(validator.check(make_row(key={"FREQ": "A"}, time="2023-Q1")))
        assert (problem.rule, problem.component) == ("period_frequency_mismatch", "TIME_PERIOD")
        assert problem.message == (
            "'2023-Q1' is a quarter but FREQ A expects a year such as 2023 or 2023-A1."
        )

    @pytest.mark.parametrize(
        ("freq", "time"),
        [("A", "2023-A1"), ("S", "2023-S2"), ("Q", "2023-Q1"), ("M", "2023-01"),
         ("M", "2023-M01"), ("W", "2023-W05"), ("D", "2023-01-31"), ("T", "2023-T3"),
         ("B", "2022"), ("O", "2023-W05")],
    )  # fmt: skip
    def test_periods_matching_their_frequency_pass(
        self, validator: RowValidator, freq: str, time: str
    ) -> None:
        assert validator.check(make_row(key={"FREQ": freq}, time=time)) == ()
        assert validator.check(make_row(key={"FREQ": freq}, time=time)) == ()  # remembered

    @pytest.mark.parametrize(
        ("freq", "time"),
        [("Q", "2023-Q5"), ("D", "2023-02-29"), ("D", "2023-04-31"), ("W", "2023-W53"),
         ("S", "2023-S3")],
    )  # fmt: skip
    def test_impossible_dates_fail(self, validator: RowValidator, freq: str, time: str) -> None:
        problem = only(validator.check(make_row(key={"FREQ": freq}, time=time)))
        assert problem.rule == "bad_time_period"

    def test_period_is_checked_even_when_freq_is_not_valid(self, validator: RowValidator) -> None:
        problems = validator.check(make_row(key={"FREQ": "Z"}, time="2023-13"))
        assert rules_of(problems) == [
            ("code_not_in_codelist", "FREQ"),
            ("bad_time_period", "TIME_PERIOD"),
        ]


class TestValue:
    @pytest.mark.parametrize(
        "value", ["12", "-1.5", "+3", ".5", "5.", "1e3", "2.5E-2", "INF", "-INF"]
    )
    def test_numbers_pass(self, validator: RowValidator, value: str) -> None:
        assert validator.check(make_row(value=value)) == ()

    @pytest.mark.parametrize(
        "value", ["1,5", "12a", "1 000", " 12", "1_000", "inf", "nan", "0x10", "--1"]
    )
    def test_not_a_number(self, validator: RowValidator, value: str) -> None:
        problem = only(validator.check(make_row(value=value)))
        assert (problem.rule, problem.component, problem.value) == (
            "not_a_number",
            "OBS_VALUE",
            value,
        )

    def test_decimal_comma_gets_a_hint(self, validator: RowValidator) -> None:
        problem = only(validator.check(make_row(value="1,5")))
        assert problem.message == (
            "OBS_VALUE '1,5' is not a number: use '.' as the decimal mark and no thousands "
            "separators."
        )

    @pytest.mark.parametrize("value", [None, "", "NaN"])
    def test_missing_value_without_status(self, validator: RowValidator, value: str | None) -> None:
        problem = only(validator.check(make_row(value=value)))
        assert (problem.rule, problem.component) == ("missing_value_without_status", "OBS_VALUE")
        assert problem.message == (
            "OBS_VALUE is missing and no OBS_STATUS says why; give OBS_STATUS N (Not available) "
            "or X (Not applicable)."
        )

    @pytest.mark.parametrize("status", ["N", "X"])
    @pytest.mark.parametrize("value", [None, "", "NaN"])
    def test_missing_value_with_a_missing_status_passes(
        self, validator: RowValidator, value: str | None, status: str
    ) -> None:
        assert validator.check(make_row(value=value, attrs={"OBS_STATUS": status})) == ()

    @pytest.mark.parametrize("status", ["E", "M"])
    def test_missing_value_with_another_status(self, validator: RowValidator, status: str) -> None:
        problem = only(validator.check(make_row(value=None, attrs={"OBS_STATUS": status})))
        assert (problem.rule, problem.component) == ("missing_value_without_status", "OBS_VALUE")
        assert f"OBS_STATUS '{status}' does not say why" in problem.message

    def test_missing_statuses_come_from_the_codelist_names(
        self, test_context: ValidationContext
    ) -> None:
        assert test_context.missing_statuses == {"N": "Not available", "X": "Not applicable"}

    def test_delete_rows_need_no_value(self, validator: RowValidator) -> None:
        row = make_row(value=None, action=Action.DELETE, attrs={}, drop_attrs=["TITLE"])
        assert validator.check(row) == ()
        assert validator.check(row._replace(time=None)) == ()  # a whole series


class TestAttributes:
    def test_coded_attribute_not_in_codelist(self, validator: RowValidator) -> None:
        problem = only(validator.check(make_row(attrs={"UNIT_MULT": "9"})))
        assert (problem.rule, problem.component, problem.value) == (
            "code_not_in_codelist",
            "UNIT_MULT",
            "9",
        )

    def test_coded_attribute_passes(self, validator: RowValidator) -> None:
        assert validator.check(make_row(attrs={"UNIT_MULT": "0", "OBS_STATUS": "E"})) == ()

    def test_text_within_its_max_length_facet(self, validator: RowValidator) -> None:
        assert validator.check(make_row(attrs={"COMMENT": "x" * 10})) == ()
        problem = only(validator.check(make_row(attrs={"COMMENT": "x" * 11})))
        assert (problem.rule, problem.component) == ("attribute_too_long", "COMMENT")
        assert problem.message == "COMMENT is 11 characters long; at most 10 are allowed."

    def test_text_within_the_dsd_annotation_limit(self, validator: RowValidator) -> None:
        assert validator.check(make_row(attrs={"NOTE": "x" * 20})) == ()
        problem = only(validator.check(make_row(attrs={"NOTE": "x" * 2000})))
        assert (problem.rule, problem.component) == ("attribute_too_long", "NOTE")
        assert problem.value == "x" * 99 + "…"  # shortened in reports

    def test_typed_attribute(self, validator: RowValidator) -> None:
        assert validator.check(make_row(attrs={"UPPER": "13.1"})) == ()
        problem = only(validator.check(make_row(attrs={"UPPER": "high"})))
        assert (problem.rule, problem.component) == ("not_a_number", "UPPER")

    def test_unknown_attribute(self, validator: RowValidator) -> None:
        problem = only(validator.check(make_row(attrs={"FOOTNOTE": "x"})))
        assert (problem.rule, problem.component) == ("unknown_component", "FOOTNOTE")
        assert problem.message == "FOOTNOTE is not an attribute of TEST:DSD_T(1.0)."

    @pytest.mark.parametrize(
        ("aid", "level"),
        [("UNIT_MULT", "series"), ("TITLE", "series"), ("OBS_CONF", "observation")],
    )
    def test_missing_mandatory_attribute(
        self, validator: RowValidator, aid: str, level: str
    ) -> None:
        problem = only(validator.check(make_row(drop_attrs=[aid])))
        assert (problem.rule, problem.component) == ("missing_mandatory_attribute", aid)
        assert problem.message == f"Mandatory {level}-level attribute {aid} is missing."
        empty = only(validator.check(make_row(attrs={aid: ""})))
        assert (empty.rule, empty.component) == ("missing_mandatory_attribute", aid)

    @pytest.mark.parametrize(
        "action", [Action.INFORMATION, Action.APPEND, Action.REPLACE, Action.MERGE]
    )
    def test_mandatory_for_every_action_but_delete(
        self, validator: RowValidator, action: Action
    ) -> None:
        assert rules_of(validator.check(make_row(action=action, drop_attrs=["TITLE"]))) == [
            ("missing_mandatory_attribute", "TITLE")
        ]
        assert validator.check(make_row(action=Action.DELETE, drop_attrs=["TITLE"])) == ()

    def test_series_statement_needs_only_series_level_attributes(
        self, validator: RowValidator
    ) -> None:
        row = make_row(time=None, value=None, drop_attrs=["OBS_CONF", "UNIT_MULT"])
        assert rules_of(validator.check(row)) == [("missing_mandatory_attribute", "UNIT_MULT")]

    def test_delete_rows_still_name_known_components(self, validator: RowValidator) -> None:
        row = make_row(action=Action.DELETE, attrs={"FOOTNOTE": ""})
        assert rules_of(validator.check(row)) == [("unknown_component", "FOOTNOTE")]


def test_every_problem_of_a_row_is_reported(validator: RowValidator) -> None:
    row = make_row(
        key={"REF_AREA": "XXX", "MEASURE": "M3"},
        time="2023-02",
        value="1,5",
        attrs={"UNIT_MULT": "9", "FOOTNOTE": "?"},
        drop_attrs=["TITLE"],
    )
    problems = validator.check(row)
    assert rules_of(problems) == [
        ("code_not_in_codelist", "REF_AREA"),
        ("code_not_allowed", "MEASURE"),
        ("period_frequency_mismatch", "TIME_PERIOD"),
        ("not_a_number", "OBS_VALUE"),
        ("code_not_in_codelist", "UNIT_MULT"),
        ("unknown_component", "FOOTNOTE"),
        ("missing_mandatory_attribute", "TITLE"),
    ]
    assert {(p.location, p.series_key, p.time) for p in problems} == {
        ("line 7", "XXX.A.M3", "2023-02")
    }


class TestIdentity:
    def test_row_identity_is_the_key_in_dsd_order_and_the_period(
        self, validator: RowValidator
    ) -> None:
        row = make_row(key={"MEASURE": "M2"}, time="2023-A1")
        assert validator.row_identity(row) == ("THA", "A", "M2", "2023")
        assert validator.row_identity(make_row(key={"MEASURE": "M2"})) == validator.row_identity(
            row
        )

    def test_row_identity_of_partial_rows(self, validator: RowValidator) -> None:
        row = make_row(drop_key=["FREQ"], time=None)
        assert validator.row_identity(row) == ("THA", "", "M1", "")


class TestSetup:
    def test_a_missing_codelist_is_a_setup_error(self) -> None:
        codelists = {c.key: c for c in CODELISTS if c.id != "CL_AREA"}
        with pytest.raises(ValidationSetupError, match="TEST:CL_AREA"):
            ValidationContext.build(DSD, codelists, [CONSTRAINT])

    def test_provider_scope_needs_the_area_dimension(self) -> None:
        with pytest.raises(ValidationSetupError, match="no dimension COUNTRY"):
            ValidationContext.build(
                DSD, {c.key: c for c in CODELISTS}, [], frozenset({"THA"}), area_dimension="COUNTRY"
            )

    def test_allowed_sets_are_precomputed(self, test_context: ValidationContext) -> None:
        rules = test_context.dimension_rules
        assert rules["MEASURE"].allowed == frozenset({"M1", "M2"})
        assert rules["REF_AREA"].allowed == frozenset(
            {"THA"}
        )  # codelist - FRA (excluded) ∩ provider
        assert rules["FREQ"].allowed == frozenset("ABDFMOQSTW")
        assert test_context.mandatory_series == ("UNIT_MULT", "TITLE")
        assert test_context.mandatory_observation == ("OBS_CONF",)
        assert test_context.attribute_rules["NOTE"].max_length == 20
        assert test_context.attribute_rules["COMMENT"].max_length == 10


def _context(
    dsd: DataStructure, constraints: list[ContentConstraint] | None = None
) -> RowValidator:
    codelists = {c.key: c for c in CODELISTS}
    return RowValidator(ValidationContext.build(dsd, codelists, constraints or []))


def _measure(rep: Representation) -> DataStructure:
    measure = Measure(id="OBS_VALUE", concept=DSD.measures[0].concept, representation=rep)
    return msgspec.structs.replace(DSD, measures=(measure,))


class TestOtherStructures:
    def test_integer_measure(self) -> None:
        validator = _context(_measure(Representation(text_type="Integer")))
        assert validator.check(make_row(value="-12")) == ()
        problem = only(validator.check(make_row(value="12.5")))
        assert (problem.rule, problem.message) == (
            "not_a_number",
            "OBS_VALUE '12.5' is not a whole number.",
        )

    def test_text_measure(self) -> None:
        rep = Representation(text_type="String", facets={"maxLength": "3"})
        validator = _context(_measure(rep))
        assert validator.check(make_row(value="abc")) == ()
        problem = only(validator.check(make_row(value="abcd")))
        assert (problem.rule, problem.component) == ("value_too_long", "OBS_VALUE")

    def test_coded_measure(self) -> None:
        validator = _context(_measure(coded("CL_CONF")))
        assert validator.check(make_row(value="C")) == ()
        problem = only(validator.check(make_row(value="Z")))
        assert (problem.rule, problem.component) == ("code_not_in_codelist", "OBS_VALUE")

    def test_uncoded_dimension_with_an_excluding_constraint(self) -> None:
        free = Dimension(id="REF_AREA", position=1, concept=DSD.dimensions[0].concept)
        dsd = msgspec.structs.replace(DSD, dimensions=(free, *DSD.dimensions[1:]))
        validator = _context(dsd, [CONSTRAINT])
        assert validator.check(make_row(key={"REF_AREA": "ANY"})) == ()
        problem = only(validator.check(make_row(key={"REF_AREA": "FRA"})))
        assert (problem.rule, problem.component) == ("code_not_allowed", "REF_AREA")
        assert only(validator.check(make_row(key={"REF_AREA": ""}))).rule == "missing_dimension"

    def test_dsd_without_freq_accepts_any_valid_period(self) -> None:
        dims = tuple(d for d in DSD.dimensions if d.id != "FREQ")
        validator = _context(msgspec.structs.replace(DSD, dimensions=dims))
        row = make_row(drop_key=["FREQ"], time="2023-W05")
        assert validator.check(row) == ()
        assert validator.check(row) == ()
        assert only(validator.check(row._replace(time="2023-W60"))).rule == "bad_time_period"

    def test_actual_constraints_do_not_restrict(self) -> None:
        actual = msgspec.structs.replace(CONSTRAINT, role="Actual")
        assert _context(DSD, [actual]).check(make_row(key={"MEASURE": "M3"})) == ()


def test_provider_areas_from_provider_constraints() -> None:
    def area_constraint(areas: tuple[str, ...]) -> ContentConstraint:
        region = CubeRegion(key_values={"REF_AREA": areas})
        return ContentConstraint(agency="TEST", id="CR_P", cube_regions=(region,))

    assert provider_areas([area_constraint(("THA",))]) == frozenset({"THA"})
    both = [area_constraint(("THA", "VNM")), area_constraint(("VNM",))]
    assert provider_areas(both) == frozenset({"VNM"})
    assert provider_areas([CONSTRAINT]) is None


def test_fast_path_agrees_with_the_full_diagnosis(test_context: ValidationContext) -> None:
    """Random rows: ``check`` finds a row valid exactly when ``diagnose`` finds no problem."""
    rng = random.Random(2026)
    choices: dict[str, list[str | None]] = {
        "REF_AREA": ["THA", "VNM", "FRA", "XXX", ""],
        "FREQ": ["A", "Q", "M", "Z"],
        "MEASURE": ["M1", "M3"],
        "time": ["2023", "2023-Q1", "2023-01", "2023-13", None],
        "value": ["1.5", "1,5", "NaN", "", None],
        "OBS_STATUS": ["N", "E", "", None],
        "UNIT_MULT": ["3", "9", "", None],
        "COMMENT": ["short", "far too long", None],
        "FOOTNOTE": [None, None, "x"],
    }
    fast = RowValidator(test_context)
    valid = 0
    for _ in range(3000):
        pick = {name: rng.choice(values) for name, values in choices.items()}
        key = {d: pick[d] for d in ("REF_AREA", "FREQ", "MEASURE")}
        attrs = {a: pick[a] for a in ("OBS_STATUS", "UNIT_MULT", "COMMENT", "FOOTNOTE")}
        row = make_row(
            key=key,
            attrs={a: v for a, v in attrs.items() if v is not None},
            drop_key=["MEASURE"] if rng.random() < 0.05 else [],
            time=pick["time"],
            value=pick["value"],
            action=rng.choice([Action.INFORMATION, Action.DELETE]),
        )
        full = RowValidator(test_context).diagnose(row)
        assert fast.check(row) == full, row
        valid += not full
    assert valid > 20  # both paths were taken
