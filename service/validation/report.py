"""Validation problems and the upload's validation report (JSON for the API, text for the CLI)."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

import msgspec

#: How many problems a report keeps in detail; past that it only counts them per rule.
MAX_DETAILED_PROBLEMS = 1000
#: Values longer than this are shortened in problems (a free-text note can be kilobytes long).
_MAX_VALUE_SHOWN = 100


class Rule(enum.StrEnum):
    """The stable ids of the validation rules, as reports and API clients see them."""

    MISSING_DIMENSION = "missing_dimension"
    UNKNOWN_COMPONENT = "unknown_component"
    CODE_NOT_IN_CODELIST = "code_not_in_codelist"
    CODE_NOT_ALLOWED = "code_not_allowed"
    PROVIDER_AREA_NOT_ALLOWED = "provider_area_not_allowed"
    MISSING_TIME_PERIOD = "missing_time_period"
    BAD_TIME_PERIOD = "bad_time_period"
    PERIOD_FREQUENCY_MISMATCH = "period_frequency_mismatch"
    NOT_A_NUMBER = "not_a_number"
    VALUE_TOO_LONG = "value_too_long"
    MISSING_VALUE_WITHOUT_STATUS = "missing_value_without_status"
    ATTRIBUTE_TOO_LONG = "attribute_too_long"
    CONTROL_CHARACTER = "control_character"
    MISSING_MANDATORY_ATTRIBUTE = "missing_mandatory_attribute"
    DUPLICATE_OBSERVATION = "duplicate_observation"
    # reported by the loader (usecases/ingest.py), listed here so every id is in one place
    CONFLICTING_ATTRIBUTE_VALUES = "conflicting_attribute_values"
    ATTRIBUTE_ATTACHMENT_INCOMPLETE = "attribute_attachment_incomplete"
    UNREADABLE_MESSAGE = "unreadable_message"


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    """One thing wrong with one row of an upload.

    ``series_key`` is the row's key in DSD order (``THA.A.MST_TEMP_NB.SEX_T...``, missing parts
    empty); ``component`` the dimension, attribute or measure at fault (several dimensions are
    comma-separated); ``value`` the offending text, shortened when long.
    """

    rule: str
    location: str
    series_key: str
    time: str | None
    component: str | None
    value: str | None
    message: str


def shown(value: str | None) -> str | None:
    """A value as problems show it: at most 100 characters."""
    if value is None or len(value) <= _MAX_VALUE_SHOWN:
        return value
    return value[: _MAX_VALUE_SHOWN - 1] + "…"


def duplicate_problem(
    identity: tuple[str, ...], location: str, first_location: str | None = None
) -> Problem:
    """The problem for a repeated observation, from its ``row_identity`` (key codes, period).

    The loader finds duplicates (in SQL, so memory stays flat) and reports them with this, so
    they read like every other problem.
    """
    *codes, period = identity
    where = f" (first given at {first_location})" if first_location else ""
    what = f"for period {period}" if period else "for the whole series"
    return Problem(
        rule=Rule.DUPLICATE_OBSERVATION,
        location=location,
        series_key=".".join(codes),
        time=period or None,
        component=None,
        value=None,
        message=f"The message gives this series key {what} more than once{where}.",
    )


class ValidationReport:
    """Every problem of one upload: the first 1,000 in detail, all of them counted per rule."""

    __slots__ = ("_counts", "max_details", "problems", "rows_checked", "total")

    def __init__(self, max_details: int = MAX_DETAILED_PROBLEMS) -> None:
        self.max_details = max_details
        self.problems: list[Problem] = []
        self._counts: dict[str, int] = {}
        self.total = 0
        self.rows_checked = 0

    def add(self, problem: Problem) -> None:
        """Record one problem (kept in detail while there are fewer than ``max_details``)."""
        self.total += 1
        self._counts[problem.rule] = self._counts.get(problem.rule, 0) + 1
        if len(self.problems) < self.max_details:
            self.problems.append(problem)

    def record(self, problems: Iterable[Problem]) -> None:
        """Record one checked row and its problems (what ``RowValidator.check`` returned)."""
        self.rows_checked += 1
        for problem in problems:
            self.add(problem)

    @property
    def ok(self) -> bool:
        return self.total == 0

    @property
    def truncated(self) -> bool:
        """Whether problems were left out of the detail (they are still counted)."""
        return self.total > len(self.problems)

    @property
    def counts(self) -> dict[str, int]:
        """Problems per rule, most frequent first."""
        return dict(sorted(self._counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def to_dict(self) -> dict[str, Any]:
        """The report as the API returns it (JSON-ready)."""
        return {
            "valid": self.ok,
            "problems": msgspec.to_builtins(self.problems),
            "counts": self.counts,
            "truncated": self.truncated,
            "rows_checked": self.rows_checked,
        }

    def to_text(self) -> str:
        """The report for people: a summary line, one line per problem, then counts per rule."""
        lines = [self._summary()]
        lines.extend(_problem_line(p) for p in self.problems)
        if self.total:
            lines.append("Problems per rule:")
            lines.extend(f"  {rule}: {count:,}" for rule, count in self.counts.items())
        return "\n".join(lines)

    def _summary(self) -> str:
        rows = f"{self.rows_checked:,} row{'' if self.rows_checked == 1 else 's'} checked"
        if self.ok:
            return f"Valid: {rows}, no problems."
        found = f"{self.total:,} problem{'' if self.total == 1 else 's'}"
        if self.truncated:
            found += f" (the first {len(self.problems):,} are listed; all are counted per rule)"
        return f"Invalid: {found} in {rows}."


def _problem_line(problem: Problem) -> str:
    where = [problem.location, f"[{problem.series_key}]"]
    if problem.time:
        where.append(problem.time)
    if problem.component:
        where.append(problem.component)
    return f"{' '.join(where)}: {problem.rule}: {problem.message}"
