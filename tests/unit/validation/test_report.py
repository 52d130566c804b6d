"""ValidationReport: counts, the 1,000-problem cap, and its JSON and text shapes."""

from __future__ import annotations

import json

from service.validation import (
    MAX_DETAILED_PROBLEMS,
    Problem,
    RowValidator,
    ValidationReport,
    duplicate_problem,
    validate_rows,
)
from tests.unit.validation.conftest import make_row

PROBLEM_FIELDS = {"rule", "location", "series_key", "time", "component", "value", "message"}


def _problem(n: int, rule: str = "not_a_number") -> Problem:
    return Problem(
        rule=rule,
        location=f"line {n}",
        series_key="THA.A.M1",
        time="2023",
        component="OBS_VALUE",
        value="1,5",
        message="OBS_VALUE '1,5' is not a number.",
    )


def test_an_empty_report_is_valid() -> None:
    report = ValidationReport()
    report.record(())
    assert report.ok
    assert report.to_dict() == {
        "valid": True,
        "problems": [],
        "counts": {},
        "truncated": False,
        "rows_checked": 1,
    }
    assert report.to_text() == "Valid: 1 row checked, no problems."


def test_problems_are_counted_per_rule() -> None:
    report = ValidationReport()
    report.record([_problem(1), _problem(1, "code_not_allowed")])
    report.record([_problem(2)])
    assert not report.ok
    assert report.counts == {"not_a_number": 2, "code_not_allowed": 1}
    assert report.rows_checked == 2
    assert len(report.problems) == 3


def test_past_1000_problems_only_counts_are_kept() -> None:
    report = ValidationReport()
    for n in range(1500):
        report.add(_problem(n, "not_a_number" if n % 3 else "bad_time_period"))
    assert MAX_DETAILED_PROBLEMS == 1000
    assert len(report.problems) == 1000
    assert report.problems[-1].location == "line 999"
    assert report.truncated
    assert report.total == 1500
    assert report.counts == {"not_a_number": 1000, "bad_time_period": 500}
    out = report.to_dict()
    assert (out["truncated"], len(out["problems"]), sum(out["counts"].values())) == (
        True,
        1000,
        1500,
    )
    summary = report.to_text().splitlines()[0]
    assert summary == (
        "Invalid: 1,500 problems (the first 1,000 are listed; all are counted per rule) "
        "in 0 rows checked."
    )


def test_json_shape(validator: RowValidator) -> None:
    report = ValidationReport()
    for row in (make_row(), make_row(value="12a", location="line 9")):
        report.record(validator.check(row))
    out = json.loads(json.dumps(report.to_dict()))
    assert set(out) == {"valid", "problems", "counts", "truncated", "rows_checked"}
    assert out["valid"] is False
    assert out["rows_checked"] == 2
    assert out["counts"] == {"not_a_number": 1}
    assert out["truncated"] is False
    assert out["problems"] == [
        {
            "rule": "not_a_number",
            "location": "line 9",
            "series_key": "THA.A.M1",
            "time": "2023",
            "component": "OBS_VALUE",
            "value": "12a",
            "message": "OBS_VALUE '12a' is not a number.",
        }
    ]


def test_text_shape(validator: RowValidator) -> None:
    report = ValidationReport()
    rows = [make_row(value="12a", location="line 9"), make_row(key={"REF_AREA": "XXX"})]
    assert list(validate_rows(rows, validator, report)) == rows
    assert report.to_text().splitlines() == [
        "Invalid: 2 problems in 2 rows checked.",
        "line 9 [THA.A.M1] 2023 OBS_VALUE: not_a_number: OBS_VALUE '12a' is not a number.",
        "line 7 [XXX.A.M1] 2023 REF_AREA: code_not_in_codelist: "
        "REF_AREA 'XXX' is not in codelist TEST:CL_AREA(1.0).",
        "Problems per rule:",
        "  code_not_in_codelist: 1",
        "  not_a_number: 1",
    ]


def test_duplicates_read_like_other_problems(validator: RowValidator) -> None:
    identity = validator.row_identity(make_row(time="2023-A1"))
    problem = duplicate_problem(identity, "line 12", first_location="line 3")
    assert problem == Problem(
        rule="duplicate_observation",
        location="line 12",
        series_key="THA.A.M1",
        time="2023",
        component=None,
        value=None,
        message="The message gives this series key for period 2023 more than once "
        "(first given at line 3).",
    )
    report = ValidationReport()
    report.add(problem)
    assert report.to_dict()["counts"] == {"duplicate_observation": 1}
    assert set(report.to_dict()["problems"][0]) == PROBLEM_FIELDS
    assert report.to_text().splitlines()[1] == (
        "line 12 [THA.A.M1] 2023: duplicate_observation: The message gives this series key for "
        "period 2023 more than once (first given at line 3)."
    )


def test_duplicate_whole_series() -> None:
    problem = duplicate_problem(("THA", "A", "M1", ""), "line 4")
    assert (problem.time, problem.message) == (
        None,
        "The message gives this series key for the whole series more than once.",
    )
