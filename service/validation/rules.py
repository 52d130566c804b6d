"""Checks each uploaded data row against its DSD, codelists, constraints and provider scope."""

from __future__ import annotations

import sys
from collections.abc import Callable, Container, Iterable, Iterator

from service.model.data import Action, DataRow
from service.validation.context import (
    CONTROL_CHARACTER,
    FAST_PATTERNS,
    ValidationContext,
    ValueKind,
)
from service.validation.report import Problem, Rule, ValidationReport, shown

#: What ``check`` returns for a valid row: one shared, immutable empty result.
NO_PROBLEMS: tuple[Problem, ...] = ()
#: Distinct valid periods remembered per FREQ code before the memory is reset.
_PERIOD_MEMORY = 10_000

# (rule, component, value, message) before the row's location and key are added
_Found = tuple[Rule, str | None, str | None, str]
_NUMERIC = frozenset(set(ValueKind) - {ValueKind.CODED, ValueKind.TEXT})


class RowValidator:
    """Validates data rows, one at a time, against a ``ValidationContext``.

    ``check`` has a fast path: a few set look-ups decide that a row is valid. Only a row that
    fails one of them is examined rule by rule (``diagnose``) to say exactly what is wrong.
    """

    __slots__ = (
        "_attr_codes",
        "_attr_limits",
        "_attribute_ids",
        "_ctx",
        "_dimension_ids",
        "_freq_id",
        "_key_checks",
        "_mandatory",
        "_nan",
        "_periods",
        "_status_id",
        "_value_ok",
    )

    def __init__(self, context: ValidationContext) -> None:
        self._ctx = context
        rules = context.dimension_rules
        self._dimension_ids = frozenset(context.dimension_ids)
        self._key_checks: tuple[tuple[str, Container[str]], ...] = tuple(
            (d, rules[d].allowed) for d in context.dimension_ids
        )
        # valid periods already seen, per FREQ code ("" when the DSD has no FREQ)
        self._freq_id = context.frequency_dimension or ""
        self._periods: dict[str, set[str]] = {code: set() for code in context.frequency_rules}
        if context.frequency_dimension is None:
            self._periods[""] = set()
        self._value_ok = _fast_value_check(context)
        measure = context.measure
        self._nan = "NaN" if measure is not None and measure.kind in _NUMERIC else None
        self._status_id = context.status_attribute or ""
        self._attribute_ids = frozenset(context.attribute_rules)
        self._attr_codes: dict[str, Container[str]] = {}
        self._attr_limits: dict[str, int] = {}
        for aid, rule in context.attribute_rules.items():
            if rule.codes is not None and isinstance(rule.codes.allowed, frozenset):
                self._attr_codes[aid] = rule.codes.allowed
            elif rule.kind is ValueKind.TEXT:
                self._attr_limits[aid] = rule.max_length or sys.maxsize
        self._mandatory = frozenset(context.mandatory_series + context.mandatory_observation)

    @property
    def context(self) -> ValidationContext:
        return self._ctx

    def row_identity(self, row: DataRow) -> tuple[str, ...]:
        """The row's key codes in DSD order and its period (see ``ValidationContext``)."""
        return self._ctx.row_identity(row)

    def check(self, row: DataRow) -> tuple[Problem, ...]:
        """The row's problems; the shared empty ``NO_PROBLEMS`` when it is valid."""
        key, time, value, attrs, action, _, _ = row
        if key.keys() != self._dimension_ids:
            return self.diagnose(row)
        for dim, allowed in self._key_checks:
            if key[dim] not in allowed:
                return self.diagnose(row)
        seen = self._periods.get(key.get(self._freq_id, ""))
        if action is Action.DELETE:
            ok = (time is None or (seen is not None and time in seen)) and (
                attrs.keys() <= self._attribute_ids
            )
        else:
            ok = (
                seen is not None
                and time in seen
                and (
                    (value is not None and bool(self._value_ok(value)))
                    or self._explained_missing(value, attrs)
                )
                and self._attributes_ok(attrs)
            )
        return NO_PROBLEMS if ok else self.diagnose(row)

    def _explained_missing(self, value: str | None, attrs: dict[str, str]) -> bool:
        """Whether the value is missing (absent, empty, NaN) with an OBS_STATUS saying why."""
        if value is not None and value != "" and value != self._nan:
            return False
        status = attrs.get(self._status_id)
        return status is not None and status in self._ctx.missing_statuses

    def _attributes_ok(self, attrs: dict[str, str]) -> bool:
        codes = self._attr_codes
        limits = self._attr_limits
        control = CONTROL_CHARACTER.search
        for aid, value in attrs.items():
            allowed = codes.get(aid)
            if allowed is not None:
                if value not in allowed:
                    return False
            else:
                limit = limits.get(aid)
                if limit is None or not value or len(value) > limit or control(value):
                    return False
        return not self._mandatory or attrs.keys() >= self._mandatory

    # -- the slow path: every rule, with what exactly is wrong ----------------------------------

    def diagnose(self, row: DataRow) -> tuple[Problem, ...]:
        """Every problem of the row, rule by rule (what ``check`` falls back to)."""
        found: list[_Found] = []
        self._diagnose_key(row, found)
        self._diagnose_time(row, found)
        if row.action is not Action.DELETE:
            self._diagnose_value(row, found)
        self._diagnose_attributes(row, found)
        if not found:
            return NO_PROBLEMS
        series = self._ctx.series_key(row.key)
        return tuple(
            Problem(
                rule=rule.value,
                location=row.location,
                series_key=series,
                time=shown(row.time),
                component=component,
                value=shown(value),
                message=message,
            )
            for rule, component, value, message in found
        )

    def _diagnose_key(self, row: DataRow, found: list[_Found]) -> None:
        ctx = self._ctx
        key = row.key
        missing = [d for d in ctx.dimension_ids if not key.get(d)]
        # A Delete may leave dimensions out (wildcards), and so may an attribute statement
        # without a period or value (an SDMX-ML group, a partial-key SDMX-CSV 2.0 row): its
        # key is as partial as the attributes' attachment. Never REF_AREA from a provider,
        # whose wildcard would reach other providers' areas.
        partial = row.action is Action.DELETE or (row.time is None and not row.value)
        if partial:
            if ctx.provider_areas is not None and ctx.area_dimension in missing:
                message = (
                    f"A data provider's partial key must give {ctx.area_dimension}: "
                    "a wildcard would reach other providers' data."
                )
                found.append((Rule.MISSING_DIMENSION, ctx.area_dimension, None, message))
        elif missing:
            found.append(_missing_dimensions(ctx, missing))
        for dim, code in key.items():
            rule = ctx.dimension_rules.get(dim)
            if rule is None:
                message = f"{dim} is not a dimension of {_dsd_label(ctx)}."
                found.append((Rule.UNKNOWN_COMPONENT, dim, code, message))
            elif code:
                problem = rule.problem(code)
                if problem is not None:
                    found.append((problem[0], dim, code, problem[1]))

    def _diagnose_time(self, row: DataRow, found: list[_Found]) -> None:
        ctx = self._ctx
        time = row.time or None
        time_id = ctx.time_dimension
        if time is None:
            has_value = row.value not in (None, "")
            if time_id is not None and has_value and row.action is not Action.DELETE:
                message = f"The observation has a value but no {time_id}."
                found.append((Rule.MISSING_TIME_PERIOD, time_id, None, message))
            return
        if time_id is None:
            message = f"{_dsd_label(ctx)} has no time dimension, yet the row gives a period."
            found.append((Rule.UNKNOWN_COMPONENT, "TIME_PERIOD", time, message))
            return
        problem = ctx.period_rule(row.key).problem(time)
        if problem is not None:
            found.append((Rule(problem[0]), time_id, time, problem[1]))
            return
        seen = self._periods.get(row.key.get(self._freq_id, ""))
        if seen is not None:  # a FREQ code of the codelist, or no FREQ: remember the period
            if len(seen) >= _PERIOD_MEMORY:
                seen.clear()
            seen.add(time)

    def _diagnose_value(self, row: DataRow, found: list[_Found]) -> None:
        measure = self._ctx.measure
        value = row.value
        if measure is None or (row.time is None and value is None):
            return  # no measure, or a series-level statement (attributes only)
        if value is None or value == "" or (value == "NaN" and measure.kind in _NUMERIC):
            problem = self._missing_value_problem(row.attrs)
            if problem is not None:
                found.append((Rule.MISSING_VALUE_WITHOUT_STATUS, measure.component, value, problem))
            return
        checked = measure.problem(value)
        if checked is not None:
            found.append((checked[0], measure.component, value, checked[1]))

    def _missing_value_problem(self, attrs: dict[str, str]) -> str | None:
        ctx = self._ctx
        reasons = ctx.missing_statuses
        status_id = ctx.status_attribute
        status = attrs.get(status_id) if status_id is not None else None
        if status in reasons:
            return None
        measure = ctx.measure.component if ctx.measure is not None else "OBS_VALUE"
        if not reasons or status_id is None:
            return f"{measure} is missing and {_dsd_label(ctx)} has no status to explain why."
        codes = " or ".join(f"{code} ({name})" for code, name in reasons.items())
        given = f"{status_id} {status!r} does not say why" if status else f"no {status_id} says why"
        return f"{measure} is missing and {given}; give {status_id} {codes}."

    def _diagnose_attributes(self, row: DataRow, found: list[_Found]) -> None:
        ctx = self._ctx
        deleting = row.action is Action.DELETE
        for aid, value in row.attrs.items():
            rule = ctx.attribute_rules.get(aid)
            if rule is None:
                message = f"{aid} is not an attribute of {_dsd_label(ctx)}."
                found.append((Rule.UNKNOWN_COMPONENT, aid, value, message))
            elif value and not deleting:
                problem = rule.problem(value)
                if problem is not None:
                    found.append((problem[0], aid, value, problem[1]))
        if not deleting:
            found.extend(_missing_mandatory(ctx, row))


def _fast_value_check(ctx: ValidationContext) -> Callable[[str], object]:
    """A one-call test that the primary measure's value is valid (truthy) on the fast path."""
    measure = ctx.measure
    if measure is None:
        return bool  # no measure: nothing to check (a value is ignored)
    if measure.codes is not None:
        return measure.codes.allowed.__contains__
    if measure.kind is ValueKind.TEXT:
        limit = measure.max_length or sys.maxsize
        control = CONTROL_CHARACTER.search
        return lambda value: 0 < len(value) <= limit and not control(value)
    return FAST_PATTERNS[measure.kind].fullmatch


def _dsd_label(ctx: ValidationContext) -> str:
    dsd = ctx.dsd
    return f"{dsd.agency}:{dsd.id}({dsd.version})"


def _missing_dimensions(ctx: ValidationContext, missing: list[str]) -> _Found:
    """One problem for all the dimensions a key lacks (or leaves empty)."""
    names = ", ".join(missing)
    if len(missing) == 1:
        message = f"The key has no code for dimension {names}."
    else:
        given = len(ctx.dimension_ids) - len(missing)
        message = (
            f"The key gives {given} of the {len(ctx.dimension_ids)} dimensions of "
            f"{_dsd_label(ctx)}; missing: {names}."
        )
    return (Rule.MISSING_DIMENSION, names if len(missing) > 1 else missing[0], None, message)


def _missing_mandatory(ctx: ValidationContext, row: DataRow) -> Iterator[_Found]:
    required = ctx.mandatory_series
    if row.time is not None:
        required += ctx.mandatory_observation
    for aid in required:
        if not row.attrs.get(aid):
            level = "observation" if aid in ctx.mandatory_observation else "series"
            message = f"Mandatory {level}-level attribute {aid} is missing."
            yield (Rule.MISSING_MANDATORY_ATTRIBUTE, aid, None, message)


def validate_rows(
    rows: Iterable[DataRow], validator: RowValidator, report: ValidationReport
) -> Iterator[DataRow]:
    """Yield each row after recording its problems in ``report`` (for streaming loaders)."""
    check = validator.check
    record = report.record
    for row in rows:
        record(check(row))
        yield row
