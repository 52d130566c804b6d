"""Data availability (sdmx-rest ``availability``, v1 ``availableconstraint``): what a data query
would return, without the data, as an SDMX *Actual* content constraint (SDMX 3.0: a data
constraint with role Actual) attached to the dataflow, data structure or provision agreement.

The query is a data query (key, ``providerRef``, ``startPeriod``/``endPeriod``, ``c[...]``,
``updatedAfter``), parsed and checked by the data query code. Its answer has one cube region:

- ``mode=exact`` (the default): per dimension, the codes of the series the query matches (those
  with at least one matching observation); the time range from the first to the last matching
  period (inclusive ``StartPeriod``/``EndPeriod``);
- ``mode=available``: per dimension, the codes that remain valid selections given the *other*
  dimensions' selections (key and ``c[...]``; the time filters hold for every dimension): a
  code is listed when adding it to the query would return data. The time range is that of the
  data the key and component selections match, whatever the time filters say;
- ``componentID`` keeps only that dimension (v2: those dimensions) in the cube region.

Both modes carry the number of series and observations the data query returns as
``sdmx_metrics`` annotations (ids ``series_count`` and ``obs_count``, the count in the title),
as sdmx-rest ``doc/availability.md`` (SDMX 3.0) describes. A query that matches no data has no
availability: the API answers it as the data API answers an empty result.

The store sums current observations up per series (``service.storage.availability``); queries
the store cannot filter exactly (``updatedAfter``, which reports deletions and attribute
changes too, and ``c[...]`` on attributes or the measure) are run through the data query itself
and summed up here, series by series.

``references`` adds what the constraint refers to, as the availability documentation asks:
the dataflow, its data structure, and partial item schemes holding only what the constraint
uses (codelists: the available codes and their parents; concept schemes: the concepts of the
constrained dimensions; data provider schemes: the providers whose reference areas have data).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal, TypeVar, cast

import msgspec
from sqlalchemy.orm import Session

from service.errors import QuerySyntaxError
from service.model import (
    Annotation,
    Artefact,
    ContentConstraint,
    CubeRegion,
    ItemScheme,
    Ref,
)
from service.model.types import StructureType
from service.query.data import ComponentFilter, DataParams, check_parameter_name
from service.query.structure import ApiVersion
from service.storage.availability import (
    AvailabilityReads,
    PeriodSelection,
    SeriesSummary,
)
from service.storage.structures import StructureRepository
from service.usecases.data import (
    AREA,
    DataPlan,
    DataState,
    DataTarget,
    period_range,
    plan_query,
    run_query,
)
from service.usecases.data import accepts as data_accepts
from service.usecases.data import scope_of as data_scope

Mode = Literal["exact", "available"]
Scheme = TypeVar("Scheme", bound=ItemScheme)
_MODES: Final = ("exact", "available")
#: What ``references`` may name (v1; v2 adds ``valuelist``, of which this service has none).
REFERENCE_TYPES: Final = ("datastructure", "conceptscheme", "codelist", "dataproviderscheme")
_REFERENCES: Final = {
    ApiVersion.V1: ("none", "all", *REFERENCE_TYPES, "dataflow"),
    ApiVersion.V2: ("none", "all", *REFERENCE_TYPES, "dataflow", "valuelist"),
}
#: The data query parameters an availability query takes (and ``c[...]``).
_DATA_PARAMETERS: Final = ("startPeriod", "endPeriod", "updatedAfter", "reportingYearStartDay")
#: The annotation type of the metrics, and its ids (sdmx-rest ``doc/availability.md``).
METRICS: Final = "sdmx_metrics"
SERIES_COUNT: Final = "series_count"
OBS_COUNT: Final = "obs_count"
_ATTACHMENT_CLASS: Final = {
    "dataflow": "Dataflow",
    "datastructure": "DataStructure",
    "provisionagreement": "ProvisionAgreement",
}


# --- the query --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AvailabilityQuery:
    """An availability query's own parameters, and the data query it is about."""

    key: str | None
    params: DataParams
    mode: Mode = "exact"
    #: The dimensions the cube region shows (None: every one).
    components: tuple[str, ...] | None = None
    #: The referenced structure types to return as well (``all`` expanded).
    references: frozenset[str] = frozenset()

    @classmethod
    def parse(
        cls,
        key: str | None,
        component_id: str | None,
        items: Iterable[tuple[str, str]],
        api: ApiVersion,
    ) -> AvailabilityQuery:
        """From the path's key and componentID and the query string's (name, value) pairs.

        Raises:
            QuerySyntaxError: a parameter with a value the availability API does not define.
        """
        own: dict[str, str] = {}
        data: list[tuple[str, str]] = []
        for name, value in items:
            if name in ("mode", "references"):
                if name in own:
                    raise QuerySyntaxError(f"{name} is given more than once")
                own[name] = value
            elif name in _DATA_PARAMETERS or name.startswith("c["):
                data.append((name, value))
            else:
                check_parameter_name(name)
        mode = own.get("mode", "exact")
        if mode not in _MODES:
            raise QuerySyntaxError(f"mode={mode!r}: expected exact or available")
        return cls(
            key=key,
            params=DataParams.parse(data),
            mode=cast(Mode, mode),
            components=_component_ids(component_id, api),
            references=_references(own.get("references"), api),
        )


def _component_ids(segment: str | None, api: ApiVersion) -> tuple[str, ...] | None:
    """v1: one dimension id or ``all``; v2: ids separated by ``,``, or ``*``."""
    if segment is None or segment in ("all", "*"):
        return None
    ids = segment.split(",") if api is ApiVersion.V2 else [segment]
    if "*" in ids:
        return None
    return tuple(dict.fromkeys(ids))


def _references(value: str | None, api: ApiVersion) -> frozenset[str]:
    """v1: one value; v2: values separated by ``,``. ``all`` names every referenced type."""
    if value is None:
        return frozenset()
    allowed = _REFERENCES[api]
    values = value.split(",") if api is ApiVersion.V2 else [value]
    for v in values:
        if v not in allowed:
            raise QuerySyntaxError(f"references={v!r}: expected one of {', '.join(allowed)}")
    if "all" in values:
        return frozenset((*REFERENCE_TYPES, "dataflow"))
    return frozenset(v for v in values if v not in ("none", "valuelist"))


# --- the selections -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Selections:
    """What a query selects: per dimension (key alternatives, ``c[...]`` on dimensions) and
    on periods (``startPeriod``/``endPeriod``, ``c[TIME_PERIOD]``: the data query's own
    filters, applied to a period alone)."""

    keys: tuple[tuple[frozenset[str] | None, ...], ...]
    dimension_filters: tuple[tuple[int, ComponentFilter], ...]
    #: The data plan with only its time filters.
    periods: DataPlan

    @classmethod
    def of(cls, plan: DataPlan) -> _Selections:
        return cls(
            keys=plan.keys,
            dimension_filters=tuple(
                (c.position, c.filter) for c in plan.components if c.kind == "dimension"
            ),
            periods=dataclasses.replace(
                plan, components=tuple(c for c in plan.components if c.kind == "time")
            ),
        )

    @property
    def on_periods(self) -> bool:
        return self.periods.window is not None or bool(self.periods.components)

    def misses(self, codes: Sequence[str]) -> list[frozenset[int]]:
        """Per key alternative, the positions of the dimensions whose selection refuses
        ``codes`` (a series matches when one alternative misses nothing)."""
        refused = {p for p, f in self.dimension_filters if not f.accepts(codes[p])}
        return [
            frozenset(
                refused | {p for p, ok in enumerate(key) if ok is not None and codes[p] not in ok}
            )
            for key in self.keys
        ]

    def accepts_period(self, period: str) -> bool:
        return data_accepts(self.periods, ((), period, "", {}), values=False)


# --- summing up -------------------------------------------------------------------------------


@dataclass
class _TimeRange:
    """The earliest-starting and the latest-ending period seen."""

    first: tuple[dt.datetime, str] | None = None
    last: tuple[dt.datetime, str] | None = None

    def add(self, first: str | None, last: str | None) -> None:
        start = period_range(first) if first else None
        end = period_range(last) if last else None
        if start is not None and (self.first is None or start[0] < self.first[0]):
            self.first = (start[0], cast(str, first))
        if end is not None and (self.last is None or end[1] > self.last[0]):
            self.last = (end[1], cast(str, last))


@dataclass
class Tally:
    """What the series of a query add up to."""

    mode: Mode
    selections: _Selections
    codes: list[set[str]]
    series: int = 0
    observations: int = 0
    time: _TimeRange = field(default_factory=_TimeRange)

    def add(self, summary: SeriesSummary) -> None:
        codes = summary.series_key.split(".")
        misses = self.selections.misses(codes)
        matched = any(not m for m in misses)
        if matched and summary.count:
            self.series += 1
            self.observations += summary.count
        if self.mode == "exact":
            if matched and summary.count:
                self.time.add(summary.first, summary.last)
                for position, code in enumerate(codes):
                    self.codes[position].add(code)
            return
        if matched:
            self.time.add(summary.first_overall, summary.last_overall)
        if summary.count:
            for position, code in enumerate(codes):
                if any(m <= {position} for m in misses):
                    self.codes[position].add(code)


@dataclass
class _Running:
    """One series' observations, as the data query returns them."""

    count: int = 0
    within: _TimeRange = field(default_factory=_TimeRange)
    overall: _TimeRange = field(default_factory=_TimeRange)

    def summary(self, series_key: str) -> SeriesSummary:
        def text(end: tuple[dt.datetime, str] | None) -> str | None:
            return None if end is None else end[1]

        return SeriesSummary(
            series_key,
            self.count,
            text(self.within.first),
            text(self.within.last),
            text(self.overall.first),
            text(self.overall.last),
        )


# --- planning and running ---------------------------------------------------------------------


@dataclass(frozen=True)
class AvailabilityPlan:
    """An availability query checked against the data structure of its target."""

    query: AvailabilityQuery
    data: DataPlan
    api: ApiVersion

    @property
    def target(self) -> DataTarget:
        return self.data.target


def plan_availability(
    target: DataTarget, query: AvailabilityQuery, api: ApiVersion
) -> AvailabilityPlan:
    """Check the key, the filters and ``componentID`` against the data structure.

    Raises:
        QuerySyntaxError: a key, component or dimension the data structure does not have.
        NotImplementedYet: a data query combination the service does not answer.
    """
    data = plan_query(target, query.key, query.params, api)
    known = [*data.dimensions, *([data.time] if data.time else [])]
    for component in query.components or ():
        if component not in known:
            raise QuerySyntaxError(
                f"componentID {component!r}: expected a dimension of {data.dsd.id} "
                f"({', '.join(known)}), or {'all' if api is ApiVersion.V1 else '*'}"
            )
    return AvailabilityPlan(query, data, api)


def _period_selection(periods: Sequence[str], selections: _Selections) -> PeriodSelection:
    """The periods the time filters keep, as the shorter list: those kept, or those refused."""
    kept: list[str] = []
    refused: list[str] = []
    for period in periods:
        (kept if selections.accepts_period(period) else refused).append(period)
    if len(kept) <= len(refused):
        return PeriodSelection(kept, included=True)
    return PeriodSelection(refused, included=False)


def _from_store(
    session: Session, plan: AvailabilityPlan, dataset_pk: int
) -> Iterator[SeriesSummary]:
    """Per series, summed up by the store. The scope narrows by key and years in ``exact``
    mode; ``available`` mode needs every series the constraints and providers allow."""
    scope = data_scope(plan.data, dataset_pk)
    if plan.query.mode == "available":
        scope = dataclasses.replace(scope, keys=(), years=None)
    reads = AvailabilityReads(session)
    selections = _Selections.of(plan.data)
    selection = None
    if selections.on_periods:
        selection = _period_selection(reads.periods(scope), selections)
    return reads.series(scope, selection)


def _needs_rows(plan: DataPlan) -> bool:
    """Whether the query filters what the store cannot sum up exactly."""
    return plan.params.updated_after is not None or any(
        c.kind in ("value", "attribute") for c in plan.components
    )


def _from_rows(
    session: Session, plan: AvailabilityPlan, state: DataState, cap: int
) -> Iterator[SeriesSummary]:
    """Per series, summed up from the rows the data query returns, run without its time
    filters (applied here) and, in ``available`` mode, without its dimension selections."""
    exact = plan.query.mode == "exact"
    kinds = {c.filter.component: c.kind for c in plan.data.components}
    kept = {
        name: found
        for name, found in plan.data.params.components.items()
        if kinds[name] in ("value", "attribute") or (exact and kinds[name] == "dimension")
    }
    params = dataclasses.replace(plan.data.params, start=None, end=None, components=kept)
    unfiltered = plan_query(plan.target, plan.query.key if exact else None, params, plan.api)
    selections = _Selections.of(plan.data)
    found: dict[str, _Running] = {}
    for part in run_query(session, unfiltered, state, cap=cap) or ():
        for codes, period, _, _ in part.rows:
            running = found.setdefault(".".join(codes), _Running())
            running.overall.add(period, period)
            if selections.accepts_period(period):
                running.count += 1
                running.within.add(period, period)
    return (running.summary(key) for key, running in found.items())


def tally(session: Session, plan: AvailabilityPlan, state: DataState, *, cap: int) -> Tally:
    """What the query's series add up to (nothing when the data structure has no data).

    Raises:
        ResultTooLarge: a query summed up from its rows returns more than ``cap``
            observations.
    """
    found = Tally(plan.query.mode, _Selections.of(plan.data), [set() for _ in plan.data.dimensions])
    if state.dataset_pk is None:
        return found
    if _needs_rows(plan.data):
        summaries = _from_rows(session, plan, state, cap)
    else:
        summaries = _from_store(session, plan, state.dataset_pk)
    for summary in summaries:
        found.add(summary)
    return found


# --- the answer -------------------------------------------------------------------------------


def _metric(name: str, count: int) -> Annotation:
    return Annotation(id=name, title=str(count), type=METRICS)


def constraint(plan: AvailabilityPlan, found: Tally) -> ContentConstraint:
    """The Actual constraint: one cube region (the dimensions ``componentID`` keeps), the
    metrics, attached to the query's dataflow, data structure or provision agreement."""
    target, data = plan.target, plan.data
    shown = plan.query.components
    key_values = {
        dim: tuple(sorted(codes))
        for dim, codes in zip(data.dimensions, found.codes, strict=True)
        if codes and (shown is None or dim in shown)
    }
    with_time = data.time is not None and (shown is None or data.time in shown)
    first, last = found.time.first, found.time.last
    region = CubeRegion(
        include=True,
        key_values=key_values,
        time_start=first[1] if with_time and first else None,
        time_end=last[1] if with_time and last else None,
    )
    agency, resource_id, version = target.ref
    name = target.names.get("en") or resource_id
    return ContentConstraint(
        agency=agency,
        id=f"CR_A_{resource_id}",
        version="1.0",
        names={"en": f"Data availability: {name}"},
        annotations=(_metric(SERIES_COUNT, found.series), _metric(OBS_COUNT, found.observations)),
        is_final=False,
        role="Actual",
        attachment=(
            Ref(
                cls=_ATTACHMENT_CLASS[target.structure],
                agency=agency,
                id=resource_id,
                version=version,
            ),
        ),
        cube_regions=(region,),
    )


def availability(
    session: Session,
    repo: StructureRepository,
    plan: AvailabilityPlan,
    state: DataState,
    *,
    cap: int,
) -> list[Artefact] | None:
    """The Actual constraint and the structures ``references`` asks for; None when the query
    matches no data."""
    found = tally(session, plan, state, cap=cap)
    if not found.series:
        return None
    main = constraint(plan, found)
    return [main, *referenced(repo, plan, found, main)]


# --- references -------------------------------------------------------------------------------


def _partial(scheme: Scheme, keep: set[str], *, with_parents: bool) -> Scheme:
    """The scheme with only the items in ``keep`` (and, ``with_parents``, their ancestors);
    ``isPartial`` when items were left out. A kept item's parent left out is dropped."""
    parents = {item.id: item.parent for item in scheme.items}
    wanted = set(keep)
    for item_id in keep if with_parents else ():
        parent = parents.get(item_id)
        while parent is not None and parent in parents and parent not in wanted:
            wanted.add(parent)
            parent = parents[parent]
    items = tuple(
        item
        if item.parent is None or item.parent in wanted
        else msgspec.structs.replace(item, parent=None)
        for item in scheme.items
        if item.id in wanted
    )
    return msgspec.structs.replace(
        scheme, items=items, is_partial=scheme.is_partial or len(items) < len(scheme.items)
    )


def _codelists(plan: AvailabilityPlan, main: ContentConstraint) -> list[Artefact]:
    """The codelists of the constrained dimensions, with the constraint's codes (and their
    parents) only."""
    dsd, flow = plan.data.dsd, plan.target.flow
    codes: dict[tuple[str, str, str], set[str]] = {}
    for region in main.cube_regions:
        for dim, values in region.key_values.items():
            component = dsd.component(dim)
            rep = component.representation if component is not None else None
            if rep is not None and rep.enumeration is not None:
                codes.setdefault(rep.enumeration.maintainable_key, set()).update(values)
    return [
        _partial(flow.codelists[key], wanted, with_parents=True)
        for key, wanted in sorted(codes.items())
        if key in flow.codelists
    ]


def _load_schemes(
    repo: StructureRepository, kind: StructureType, items: Mapping[tuple[str, str, str], set[str]]
) -> list[Artefact]:
    """The stored item schemes of a kind holding the wanted items, cut to them."""
    entries = [e for e in repo.index([kind]) if (e.agency, e.id, e.version) in items]
    loaded = repo.load(entries)
    found: list[Artefact] = []
    for entry in sorted(entries, key=lambda e: (e.agency, e.id, e.version)):
        scheme = loaded[entry.pk]
        if isinstance(scheme, ItemScheme):
            wanted = items[(entry.agency, entry.id, entry.version)]
            found.append(_partial(scheme, wanted, with_parents=False))
    return found


def _concepts(
    plan: AvailabilityPlan, main: ContentConstraint
) -> dict[tuple[str, str, str], set[str]]:
    """The concepts of the constrained dimensions (the time dimension too), by scheme."""
    dsd = plan.data.dsd
    used: dict[tuple[str, str, str], set[str]] = {}
    for region in main.cube_regions:
        ids = [*region.key_values, *([plan.data.time] if region.time_start else [])]
        for component_id in ids:
            component = dsd.component(component_id or "")
            if component is not None and component.concept.item:
                scheme = component.concept.maintainable_key
                used.setdefault(scheme, set()).add(component.concept.item)
    return used


def _providers(plan: AvailabilityPlan, found: Tally) -> dict[tuple[str, str, str], set[str]]:
    """The data providers whose agreements for the dataflow (the one agreement asked for)
    cover reference areas with data, by data provider scheme."""
    target = plan.target
    flow = target.flow
    dims = plan.data.dimensions
    areas = found.codes[dims.index(AREA)] if AREA in dims else None
    used: dict[tuple[str, str, str], set[str]] = {}
    for agreement in flow.agreements:
        if target.structure == "provisionagreement" and agreement.key != target.ref:
            continue
        allowed = flow.provider_areas(agreement.provider, AREA)
        if areas is None or allowed is None or allowed & areas:
            provider = agreement.provider
            used.setdefault(provider.maintainable_key, set()).add(provider.item or "")
    return used


def referenced(
    repo: StructureRepository, plan: AvailabilityPlan, found: Tally, main: ContentConstraint
) -> list[Artefact]:
    """The structures ``references`` asks for, in the order dataflow, data structure,
    codelists, concept schemes, data provider schemes."""
    wanted = plan.query.references
    flow = plan.target.flow
    out: list[Artefact] = []
    if "dataflow" in wanted and plan.target.structure != "datastructure":
        out.append(flow.dataflow)
    if "datastructure" in wanted:
        out.append(flow.dsd)
    if "codelist" in wanted:
        out.extend(_codelists(plan, main))
    if "conceptscheme" in wanted:
        out.extend(_load_schemes(repo, StructureType.CONCEPTSCHEME, _concepts(plan, main)))
    if "dataproviderscheme" in wanted:
        out.extend(_load_schemes(repo, StructureType.DATAPROVIDERSCHEME, _providers(plan, found)))
    return out
