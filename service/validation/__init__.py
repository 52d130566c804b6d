"""Upload validation: a context per upload, a RowValidator per row, a ValidationReport."""

from service.validation.context import (
    CodeRule,
    ValidationContext,
    ValidationSetupError,
    ValueKind,
    ValueRule,
    provider_areas,
)
from service.validation.periods import (
    FREQUENCY_RULES,
    FrequencyRule,
    Period,
    PeriodError,
    PeriodKind,
    canonical_period,
    frequency_rule,
    parse_period,
)
from service.validation.report import (
    MAX_DETAILED_PROBLEMS,
    Problem,
    Rule,
    ValidationReport,
    duplicate_problem,
)
from service.validation.rules import NO_PROBLEMS, RowValidator, validate_rows

__all__ = [
    "FREQUENCY_RULES",
    "MAX_DETAILED_PROBLEMS",
    "NO_PROBLEMS",
    "CodeRule",
    "FrequencyRule",
    "Period",
    "PeriodError",
    "PeriodKind",
    "Problem",
    "RowValidator",
    "Rule",
    "ValidationContext",
    "ValidationReport",
    "ValidationSetupError",
    "ValueKind",
    "ValueRule",
    "canonical_period",
    "duplicate_problem",
    "frequency_rule",
    "parse_period",
    "provider_areas",
    "validate_rows",
]
