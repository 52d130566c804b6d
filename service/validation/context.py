"""What row validation needs, computed once per upload from the DSD, codelists and constraints."""

from __future__ import annotations

import enum
import re
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from service.model import (
    Attribute,
    Codelist,
    ContentConstraint,
    DataStructure,
    Dimension,
    Measure,
    Representation,
)
from service.model.data import DataRow
from service.validation.periods import FrequencyRule, canonical_period, frequency_rule
from service.validation.report import Rule

#: The DSD annotation that caps free-text attribute values (ILOSTAT's DSDs say 1024).
MAX_TEXT_ANNOTATION = "MAXTEXTATTRIBUTELENGTH"
FREQUENCY_DIMENSION = "FREQ"
STATUS_ATTRIBUTE = "OBS_STATUS"
#: Words in an OBS_STATUS code's name that say the value is absent for a reason. In ILOSTAT's
#: CL_OBS_STATUS these pick N (Not available) and X (Not applicable); ILOSTAT's M is
#: "Model-based extrapolation" (a value), unlike SDMX's M "Missing value", so it is not one.
MISSING_STATUS_WORDS = ("missing", "not available", "not applicable")


_ANY_PERIOD = frequency_rule(None)


class ValidationSetupError(ValueError):
    """The structures given cannot support validation (a codelist or component is missing)."""


class ValueKind(enum.StrEnum):
    """How a measure or attribute value is written, from its representation."""

    NUMBER = "number"  # xs:double / xs:float: 1.5, -2e3, INF, -INF, NaN
    DECIMAL = "decimal"  # xs:decimal: 1.5, no exponent
    INTEGER = "integer"
    DIGITS = "digits"  # SDMX Numeric: a string of digits, leading zeros kept
    CODED = "coded"
    TEXT = "text"


_KIND_OF_TYPE = {
    **dict.fromkeys(
        ("Double", "Float", "Incremental", "InclusiveValueRange", "ExclusiveValueRange"),
        ValueKind.NUMBER,
    ),
    "Decimal": ValueKind.DECIMAL,
    **dict.fromkeys(("Integer", "Long", "Short", "BigInteger", "Count"), ValueKind.INTEGER),
    "Numeric": ValueKind.DIGITS,
}
_FINITE = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_PATTERNS: dict[ValueKind, re.Pattern[str]] = {
    ValueKind.NUMBER: re.compile(rf"{_FINITE}|[+-]?INF|NaN"),
    ValueKind.DECIMAL: re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"),
    ValueKind.INTEGER: re.compile(r"[+-]?\d+"),
    ValueKind.DIGITS: re.compile(r"\d+"),
}
#: What a valid value looks like on the fast path (no special values: NaN means "missing").
FAST_PATTERNS: dict[ValueKind, re.Pattern[str]] = {
    **_PATTERNS,
    ValueKind.NUMBER: re.compile(_FINITE),
}


@dataclass(frozen=True, slots=True)
class CodeRule:
    """The codes one component may take: its codelist, each constraint's, the provider's scope.

    ``allowed`` is all of them at once, for the fast path: a frozenset in the usual case.
    """

    component: str
    codelist: frozenset[str] | None
    codelist_label: str | None
    #: (constraint label, codes it includes or None, codes it excludes) per restricting constraint
    constraints: tuple[tuple[str, frozenset[str] | None, frozenset[str]], ...]
    scope: frozenset[str] | None
    allowed: Container[str]

    def problem(self, code: str) -> tuple[Rule, str] | None:
        """None if ``code`` is allowed, else (rule, message), the most basic rule first."""
        if self.codelist is not None and code not in self.codelist:
            return Rule.CODE_NOT_IN_CODELIST, (
                f"{self.component} {code!r} is not in codelist {self.codelist_label}."
            )
        for label, included, excluded in self.constraints:
            if (included is not None and code not in included) or code in excluded:
                return Rule.CODE_NOT_ALLOWED, (
                    f"{self.component} {code!r} is not allowed for this dataflow "
                    f"(content constraint {label})."
                )
        if self.scope is not None and code not in self.scope:
            return Rule.PROVIDER_AREA_NOT_ALLOWED, (
                f"The data provider is not authorised for {self.component} {code}."
            )
        return None


#: The characters XML 1.0 cannot hold (nor PostgreSQL text, for U+0000): no value may have them.
CONTROL_CHARACTER: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass(frozen=True, slots=True)
class ValueRule:
    """How one measure or attribute value is checked: its kind, codes or length limit."""

    component: str
    kind: ValueKind
    codes: CodeRule | None = None
    max_length: int | None = None
    too_long: Rule = Rule.ATTRIBUTE_TOO_LONG

    def problem(self, value: str) -> tuple[Rule, str] | None:
        """None if ``value`` is valid, else (rule, message)."""
        if self.codes is not None:
            return self.codes.problem(value)
        if self.kind is ValueKind.TEXT:
            if self.max_length is not None and len(value) > self.max_length:
                return self.too_long, (
                    f"{self.component} is {len(value):,} characters long; "
                    f"at most {self.max_length:,} are allowed."
                )
            if CONTROL_CHARACTER.search(value) is not None:
                return Rule.CONTROL_CHARACTER, (
                    f"{self.component} holds a control character (U+0000 to U+001F other than "
                    "tab, line feed and carriage return), which SDMX-ML cannot carry."
                )
            return None
        if _PATTERNS[self.kind].fullmatch(value) is not None:
            return None
        return Rule.NOT_A_NUMBER, f"{self.component} {value!r} {_number_hint(self.kind, value)}."


def _number_hint(kind: ValueKind, value: str) -> str:
    if kind is ValueKind.DIGITS:
        return "is not a string of digits"
    if kind is ValueKind.INTEGER:
        return "is not a whole number"
    if "," in value:
        return "is not a number: use '.' as the decimal mark and no thousands separators"
    return "is not a number"


class _AnyCode:
    """A container holding every non-empty code (an uncoded, unconstrained component)."""

    __slots__ = ()

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code != ""


class _NotExcluded:
    """The codes an uncoded component may take when constraints only exclude some."""

    __slots__ = ("excluded",)

    def __init__(self, excluded: frozenset[str]) -> None:
        self.excluded = excluded

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code != "" and code not in self.excluded


@dataclass(frozen=True, slots=True)
class ValidationContext:
    """Everything a ``RowValidator`` looks up, precomputed once per upload.

    Build it with ``ValidationContext.build``.
    """

    dsd: DataStructure
    #: The key dimensions (TIME_PERIOD excluded), in DSD order.
    dimension_ids: tuple[str, ...]
    dimension_rules: dict[str, CodeRule]
    time_dimension: str | None
    frequency_dimension: str | None
    #: The period rule of every FREQ code of the codelist (allowed by the dataflow or not).
    frequency_rules: dict[str, FrequencyRule]
    measure: ValueRule | None
    attribute_rules: dict[str, ValueRule]
    #: Mandatory attributes every data row must carry (data set, group and series level).
    mandatory_series: tuple[str, ...]
    #: Mandatory attributes observation rows must carry besides (observation level).
    mandatory_observation: tuple[str, ...]
    status_attribute: str | None
    #: The OBS_STATUS codes that explain a missing value, with their names.
    missing_statuses: dict[str, str]
    area_dimension: str
    provider_areas: frozenset[str] | None

    @classmethod
    def build(
        cls,
        dsd: DataStructure,
        codelists: Mapping[tuple[str, str, str], Codelist],
        constraints: Sequence[ContentConstraint],
        provider_areas: frozenset[str] | None = None,
        area_dimension: str = "REF_AREA",
    ) -> ValidationContext:
        """Precompute the checks for rows of ``dsd`` under ``constraints`` (Allowed ones).

        ``provider_areas``, when given, are the REF_AREA codes the uploading provider may
        report (``area_dimension`` names that dimension).
        """
        allowed = [c for c in constraints if c.role == "Allowed"]
        dims = dsd.key_dimensions
        if provider_areas is not None and area_dimension not in {d.id for d in dims}:
            raise ValidationSetupError(f"{dsd.id} has no dimension {area_dimension}")
        rules = {
            d.id: _code_rule(
                d.id,
                d.representation,
                codelists,
                allowed,
                provider_areas if d.id == area_dimension else None,
            )
            for d in dims
        }
        time = dsd.time_dimension
        freq = FREQUENCY_DIMENSION if FREQUENCY_DIMENSION in rules else None
        mandatory_series, mandatory_observation = _mandatory(dsd.attributes, time)
        status = _status_attribute(dsd.attributes)
        return cls(
            dsd=dsd,
            dimension_ids=tuple(d.id for d in dims),
            dimension_rules=rules,
            time_dimension=time.id if time is not None else None,
            frequency_dimension=freq,
            frequency_rules=_frequency_rules(rules.get(freq) if freq else None),
            measure=_measure_rule(dsd.measures, codelists, allowed),
            attribute_rules=_attribute_rules(dsd, codelists, allowed),
            mandatory_series=mandatory_series,
            mandatory_observation=mandatory_observation,
            status_attribute=status.id if status is not None else None,
            missing_statuses=_missing_statuses(status, codelists),
            area_dimension=area_dimension,
            provider_areas=provider_areas,
        )

    def series_key(self, key: Mapping[str, str]) -> str:
        """The row's series key in DSD order (``THA.A.MST_TEMP_NB...``), missing parts empty."""
        return ".".join([key.get(d, "") for d in self.dimension_ids])

    def row_identity(self, row: DataRow) -> tuple[str, ...]:
        """What makes an observation unique: its key codes in DSD order, then its period.

        The period is spelled one way (``canonical_period``: 2023-A1 is 2023); "" when the
        row has none (a whole-series statement). The loader finds duplicates on this.
        """
        key = row.key
        time = row.time
        return (
            *[key.get(d, "") for d in self.dimension_ids],
            canonical_period(time) if time else "",
        )

    def period_rule(self, key: Mapping[str, str]) -> FrequencyRule:
        """The period rule for a row's FREQ code; any valid period when FREQ is not usable."""
        code = key.get(self.frequency_dimension) if self.frequency_dimension else None
        found = self.frequency_rules.get(code) if code is not None else None
        return found if found is not None else _ANY_PERIOD


def provider_areas(
    constraints: Iterable[ContentConstraint], area_dimension: str = "REF_AREA"
) -> frozenset[str] | None:
    """The areas a data provider may report, from the Allowed constraints attached to it
    (every one of them must allow the area); None when none restricts ``area_dimension``."""
    areas: frozenset[str] | None = None
    for c in constraints:
        codes = c.allowed_codes(area_dimension) if c.role == "Allowed" else None
        if codes is not None:
            areas = frozenset(codes) if areas is None else areas & frozenset(codes)
    return areas


# -- codes ----------------------------------------------------------------------------------------


def _codelist(
    rep: Representation | None, codelists: Mapping[tuple[str, str, str], Codelist]
) -> tuple[frozenset[str] | None, str | None]:
    if rep is None or rep.enumeration is None:
        return None, None
    ref = rep.enumeration
    found = codelists.get(ref.maintainable_key)
    if found is None:
        raise ValidationSetupError(f"codelist {ref} is not among the codelists given")
    return frozenset(c.id for c in found.items), str(ref)


def _constraint_codes(
    component: str, constraints: Iterable[ContentConstraint]
) -> tuple[tuple[str, frozenset[str] | None, frozenset[str]], ...]:
    """Per constraint that restricts ``component``: the codes it includes and excludes.

    Exclude regions count only when they name this component alone; an exclude region over
    several components rules out combinations, which a per-row code check cannot express.
    """
    found = []
    for c in constraints:
        included = c.allowed_codes(component)
        excluded = frozenset(
            code
            for region in c.cube_regions
            if not region.include and set(region.key_values) == {component}
            for code in region.key_values[component]
        )
        if included is not None or excluded:
            label = f"{c.agency}:{c.id}({c.version})"
            found.append((label, frozenset(included) if included is not None else None, excluded))
    return tuple(found)


def _code_rule(
    component: str,
    rep: Representation | None,
    codelists: Mapping[tuple[str, str, str], Codelist],
    constraints: Sequence[ContentConstraint],
    scope: frozenset[str] | None = None,
) -> CodeRule:
    codelist, label = _codelist(rep, codelists)
    restrictions = _constraint_codes(component, constraints)
    return CodeRule(
        component=component,
        codelist=codelist,
        codelist_label=label,
        constraints=restrictions,
        scope=scope,
        allowed=_allowed(codelist, restrictions, scope),
    )


def _allowed(
    codelist: frozenset[str] | None,
    restrictions: Iterable[tuple[str, frozenset[str] | None, frozenset[str]]],
    scope: frozenset[str] | None,
) -> Container[str]:
    """Codelist ∩ every constraint's codes ∩ scope, as one set when it can be enumerated."""
    codes = codelist
    excluded: frozenset[str] = frozenset()
    for _, included, out in (*restrictions, ("", scope, frozenset())):
        if included is not None:
            codes = included if codes is None else codes & included
        excluded |= out
    if codes is None:
        return _NotExcluded(excluded) if excluded else _AnyCode()
    return codes - excluded


# -- periods, measure, attributes ----------------------------------------------------------------


def _frequency_rules(freq: CodeRule | None) -> dict[str, FrequencyRule]:
    """The period rule of every FREQ code of the codelist (allowed by the dataflow or not)."""
    if freq is None:
        return {}
    codes = freq.codelist if freq.codelist is not None else freq.allowed
    return {code: frequency_rule(code) for code in codes} if isinstance(codes, frozenset) else {}


def _value_kind(rep: Representation | None, default: ValueKind) -> ValueKind:
    if rep is None:
        return default
    if rep.enumeration is not None:
        return ValueKind.CODED
    if rep.text_type is None:
        return default
    return _KIND_OF_TYPE.get(rep.text_type, ValueKind.TEXT)


def _max_length(rep: Representation | None, default: int | None) -> int | None:
    text = rep.facets.get("maxLength") if rep is not None else None
    return int(text) if text is not None and text.isdigit() else default


def _measure_rule(
    measures: Sequence[Measure],
    codelists: Mapping[tuple[str, str, str], Codelist],
    constraints: Sequence[ContentConstraint],
) -> ValueRule | None:
    """The primary measure's rule: numeric unless its representation says otherwise."""
    if not measures:
        return None
    measure = measures[0]
    rep = measure.representation
    kind = _value_kind(rep, ValueKind.NUMBER)
    codes = _code_rule(measure.id, rep, codelists, constraints) if kind is ValueKind.CODED else None
    return ValueRule(measure.id, kind, codes, _max_length(rep, None), Rule.VALUE_TOO_LONG)


def _text_limit(dsd: DataStructure) -> int | None:
    """The DSD's MAXTEXTATTRIBUTELENGTH annotation (title, value or text), if it has one."""
    for ann in dsd.annotations:
        if ann.type == MAX_TEXT_ANNOTATION:
            for text in (ann.title, ann.value, *ann.text.values()):
                if text is not None and text.strip().isdigit():
                    return int(text.strip())
    return None


def _attribute_rules(
    dsd: DataStructure,
    codelists: Mapping[tuple[str, str, str], Codelist],
    constraints: Sequence[ContentConstraint],
) -> dict[str, ValueRule]:
    default_limit = _text_limit(dsd)
    rules = {}
    for attr in dsd.attributes:
        rep = attr.representation
        kind = _value_kind(rep, ValueKind.TEXT)
        codes = (
            _code_rule(attr.id, rep, codelists, constraints) if kind is ValueKind.CODED else None
        )
        limit = _max_length(rep, default_limit if kind is ValueKind.TEXT else None)
        rules[attr.id] = ValueRule(attr.id, kind, codes, limit)
    return rules


def _mandatory(
    attributes: Iterable[Attribute], time: Dimension | None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Mandatory attributes at series level (data set, group, dimensions) and at observation
    level (observation, or dimensions that include the time dimension)."""
    series: list[str] = []
    observation: list[str] = []
    for attr in attributes:
        if not attr.mandatory:
            continue
        rel = attr.relationship
        at_obs = rel.level == "observation" or (time is not None and time.id in rel.dimensions)
        (observation if at_obs else series).append(attr.id)
    return tuple(series), tuple(observation)


def _status_attribute(attributes: Iterable[Attribute]) -> Attribute | None:
    return next((a for a in attributes if a.id == STATUS_ATTRIBUTE), None)


def _missing_statuses(
    status: Attribute | None, codelists: Mapping[tuple[str, str, str], Codelist]
) -> dict[str, str]:
    rep = status.representation if status is not None else None
    if rep is None or rep.enumeration is None:
        return {}
    found = codelists.get(rep.enumeration.maintainable_key)
    codes = found.items if found is not None else ()
    return {
        c.id: c.names.get("en", c.id)
        for c in sorted(codes, key=lambda c: c.id)
        if any(word in c.names.get("en", "").lower() for word in MISSING_STATUS_WORDS)
    }
