"""Data queries: resolve what is asked for, check the query against its data structure, then
stream the matching observations as data sets for a writer.

Data are stored per data structure; a dataflow shows the series its Allowed constraint allows
(ILMS tables share DSDs), a data provider (v1 ``providerRef``, v2 ``provisionagreement``) the
REF_AREA codes its own constraint allows. A query produces, lazily:

- current data, or the data as they stood at ``asOf``: one Information data set;
- ``updatedAfter``: a Replace data set of what changed after it (observations whose value,
  observation attributes or higher-level attribute values were recorded later), a Delete data
  set of the observations deleted since, and one of the higher-level attribute values deleted
  since (the observations they applied to, with those attributes);
- ``includeHistory``: every version, grouped by validity: a Replace data set per (recorded,
  superseded) pair of instants, valid from the first until the second, and a Delete data set
  per deletion instant, valid until then. Attribute values above observation level are those
  of the instant each version was recorded; when such a value changes while a version is
  valid (an attribute-only revision), the version is shown again from that instant, with the
  new value, and its earlier stretch ends there.

SQL (``service.storage.data_reads``) narrows by key, constraint, provider and year and sorts;
the exact filters (``c[...]``, period overlap) and the per-series limits run here on the
stream, so memory holds one series at most (and, for ``firstNObservations`` with a
non-time-series packaging, one cut-off per series). Whether anything matches, and whether the
result is within the configured cap, is known before the first byte.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import itertools
import math
import uuid
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final, Literal

import msgspec
from sqlalchemy.orm import Session

from service.errors import (
    NoResultsFound,
    NotAcceptable,
    NotImplementedYet,
    QuerySyntaxError,
    ResultTooLarge,
)
from service.formats.base import Lang
from service.formats.writers.data_common import (
    DataFormat,
    DataMessage,
    DataSetInfo,
    DataSetPart,
    OutRow,
    Structure,
)
from service.model import (
    DataStructure,
    Localised,
    ProvisionAgreement,
)
from service.model.types import StructureType
from service.query.data import (
    ALL_DIMENSIONS,
    SERIES_KEY,
    Bounds,
    ComponentFilter,
    DataParams,
    KeyFilter,
    SortTerm,
    csv_options,
    parse_flow_ref,
    parse_key,
    parse_provider_ref,
    period_bounds,
)
from service.query.structure import ApiVersion, parse_v2
from service.storage.data_reads import (
    DEFAULT_ORDER,
    AttributeHistory,
    DataReads,
    OrderTerm,
    Scope,
    VersionRow,
)
from service.storage.structures import IndexEntry, StructureRepository
from service.usecases.attachment import dimensions_of
from service.usecases.flows import FlowContext, resolve_flow, resolve_structure
from service.usecases.ingest import numeric_measure
from service.usecases.rendering import ResponseCache
from service.usecases.structure import Selection, select_entries
from service.validation.periods import PeriodError

#: The dimension providers' constraints restrict.
AREA: Final = "REF_AREA"
_CONTEXTS: Final = {
    "dataflow": (StructureType.DATAFLOW,),
    "datastructure": (StructureType.DATASTRUCTURE,),
    "provisionagreement": (StructureType.PROVISIONAGREEMENT,),
    "*": (StructureType.DATAFLOW, StructureType.DATASTRUCTURE, StructureType.PROVISIONAGREEMENT),
}


# --- what is asked for ----------------------------------------------------------------------


@dataclass(frozen=True)
class DataTarget:
    """The dataflow (or data structure, or provision agreement) a data query reads."""

    flow: FlowContext
    structure: Structure
    ref: tuple[str, str, str]
    names: Localised
    #: The REF_AREA codes the data providers asked for may report (None: any).
    areas: frozenset[str] | None = None


def locate_v1(
    repo: StructureRepository, flow_ref: str, provider_ref: str | None = None
) -> DataTarget:
    """``/data/{flowRef}/{key}/{providerRef}``: the dataflow, and the providers' REF_AREAs."""
    agency, flow_id, version = parse_flow_ref(flow_ref)
    providers = parse_provider_ref(provider_ref)
    flow = resolve_flow(repo, agency, flow_id, version)
    target = _flow_target(flow)
    if providers is None:
        return target
    found = [
        pa.provider
        for pa in flow.agreements
        if any(
            pa.provider.item == provider_id and provider_agency in (None, pa.provider.agency)
            for provider_agency, provider_id in providers
        )
    ]
    if not found:
        raise NoResultsFound(f"no provider {provider_ref} reports data for {flow.label}")
    return replace(target, areas=_any_of([flow.provider_areas(p, AREA) for p in found]))


def _flow_target(flow: FlowContext) -> DataTarget:
    df = flow.dataflow
    kind: Structure = "datastructure" if flow.label.startswith("datastructure") else "dataflow"
    names = flow.dsd.names if kind == "datastructure" else df.names
    return DataTarget(flow, kind, (df.agency, df.id, df.version), names)


def locate_v2(
    repo: StructureRepository,
    context: str,
    agency: str,
    resource_id: str,
    version: str | None,
) -> DataTarget:
    """``/data/{context}/{agencyID}/{resourceID}/{version}``: lists (``,``) and wildcards
    (``*``, and the version operators ``+``, ``~``, ``1.+.0``...) must select exactly one
    dataflow, data structure or provision agreement; left out, the version is ``*``."""
    types = _CONTEXTS.get(context)
    if types is None:
        raise QuerySyntaxError(
            f"context {context!r}: expected dataflow, datastructure, provisionagreement or *"
        )
    query = parse_v2("dataflow", agency, resource_id, version or "*", None, {})
    selection = Selection(types, query.agencies, query.ids, query.version)
    entries = select_entries(repo.index(types), selection)
    if not entries:
        what = f"{context} {agency}/{resource_id}/{version or '*'}"
        raise NoResultsFound(f"no {what} in this service")
    if len(entries) > 1:
        return _agreements_of_one_flow(repo, entries)
    return _target_of(repo, entries[0])


def _agreements_of_one_flow(repo: StructureRepository, entries: Sequence[IndexEntry]) -> DataTarget:
    """Several provision agreements of one dataflow: that dataflow, for the REF_AREAs of any
    of them. Anything else over several artefacts is not supported (501, naming a few)."""
    targets = (
        [_target_of(repo, e) for e in entries]
        if all(e.type is StructureType.PROVISIONAGREEMENT for e in entries)
        else []
    )
    flows = {t.flow.dataflow.key for t in targets}
    if len(flows) != 1:
        shown = ", ".join(f"{e.type.value} {e.agency}:{e.id}({e.version})" for e in entries[:5])
        more = f" and {len(entries) - 5} more" if len(entries) > 5 else ""
        raise NotImplementedYet(
            f"the query selects {len(entries)} artefacts ({shown}{more}); data queries over "
            "several dataflows are not supported: select one (several provision agreements of "
            "one dataflow are fine)"
        )
    return replace(_flow_target(targets[0].flow), areas=_any_of([t.areas for t in targets]))


def _any_of(areas: Sequence[frozenset[str] | None]) -> frozenset[str] | None:
    """The REF_AREAs any of several providers may report (None: any)."""
    return None if None in areas else frozenset().union(*(a for a in areas if a is not None))


def _target_of(repo: StructureRepository, entry: IndexEntry) -> DataTarget:
    if entry.type is StructureType.DATAFLOW:
        return _flow_target(resolve_flow(repo, entry.agency, entry.id, entry.version))
    if entry.type is StructureType.DATASTRUCTURE:
        return _flow_target(resolve_structure(repo, entry.agency, entry.id, entry.version))
    agreement = repo.load([entry])[entry.pk]
    assert isinstance(agreement, ProvisionAgreement)
    df = agreement.dataflow
    flow = resolve_flow(repo, df.agency, df.id, df.version)
    ref = (agreement.agency, agreement.id, agreement.version)
    areas = flow.provider_areas(agreement.provider, AREA)
    return DataTarget(flow, "provisionagreement", ref, agreement.names, areas)


# --- the query checked against its data structure ---------------------------------------------


@dataclass(frozen=True)
class _Component:
    """How a filter reads one component from a row: a key position, the period, the value,
    or an attribute."""

    kind: Literal["dimension", "time", "value", "attribute"]
    position: int
    filter: ComponentFilter


@dataclass(frozen=True)
class DataPlan:
    """A data query checked against its data structure, ready to run."""

    target: DataTarget
    params: DataParams
    api: ApiVersion
    keys: tuple[KeyFilter, ...]
    dimension_at_observation: str
    order: tuple[OrderTerm, ...]
    #: Rows of one time series (every key dimension) are consecutive.
    time_series_order: bool
    components: tuple[_Component, ...]
    #: The attributes written (``attributes``, ``detail``).
    attributes: frozenset[str]
    #: Whether the measure is written (``measures``, ``detail``).
    values: bool
    #: The ``startPeriod``/``endPeriod`` window (None: none).
    window: Bounds | None

    @property
    def dsd(self) -> DataStructure:
        return self.target.flow.dsd

    @property
    def time(self) -> str | None:
        time = self.dsd.time_dimension
        return time.id if time is not None else None

    @property
    def dimensions(self) -> tuple[str, ...]:
        return tuple(d.id for d in self.dsd.key_dimensions)


def plan_query(
    target: DataTarget, key: str | None, params: DataParams, api: ApiVersion
) -> DataPlan:
    """Check the key and the parameters against the data structure.

    Raises:
        QuerySyntaxError: a key, component, dimension or attribute the DSD does not have.
        NotImplementedYet: a combination this service does not answer.
    """
    dsd = target.flow.dsd
    dims = tuple(d.id for d in dsd.key_dimensions)
    time = dsd.time_dimension.id if dsd.time_dimension is not None else None
    at_obs = _dimension_at_observation(params.dimension_at_observation, dims, time)
    order = _order(params.sort, dsd, at_obs)
    time_series = at_obs == time and time is not None
    if params.include_history and (params.first_n or params.last_n) and not time_series:
        raise NotImplementedYet(
            "firstNObservations/lastNObservations with includeHistory need the time "
            "dimension at observation level"
        )
    return DataPlan(
        target=target,
        params=params,
        api=api,
        keys=tuple(parse_key(key, dims, api)),
        dimension_at_observation=at_obs,
        order=order,
        time_series_order=time_series,
        components=tuple(_component(f, dsd, dims, time) for f in params.components.values()),
        attributes=_attributes(params, dsd),
        values=params.detail in ("full", "dataonly") and _measures(params, dsd),
        window=params.period_window(),
    )


def _dimension_at_observation(asked: str | None, dims: Sequence[str], time: str | None) -> str:
    if asked is None:
        return time or ALL_DIMENSIONS
    if asked in (ALL_DIMENSIONS, time) or asked in dims:
        return asked
    every = ", ".join([*dims, *([time] if time else []), ALL_DIMENSIONS])
    raise QuerySyntaxError(f"dimensionAtObservation={asked!r}: expected one of {every}")


def _component(
    found: ComponentFilter, dsd: DataStructure, dims: Sequence[str], time: str | None
) -> _Component:
    name = found.component
    if name in dims:
        return _Component("dimension", dims.index(name), found)
    if name == time:
        return _Component("time", 0, found.on_periods())
    if any(m.id == name for m in dsd.measures):
        # a numeric measure compares numbers: eq:abc or gt:nan is a mistake, not "no data"
        return _Component("value", 0, found.on_numbers() if numeric_measure(dsd) else found)
    if any(a.id == name for a in dsd.attributes):
        return _Component("attribute", 0, found)
    raise QuerySyntaxError(f"c[{name}]: {dsd.id} has no component {name}")


def _level(dsd: DataStructure, attribute_id: str) -> str:
    """dataset, series (attached to dimensions or a group) or obs (the time dimension too)."""
    attribute = next(a for a in dsd.attributes if a.id == attribute_id)
    rel = dimensions_of(attribute.relationship, dsd)
    time = dsd.time_dimension.id if dsd.time_dimension is not None else None
    if rel.level == "dataset":
        return "dataset"
    if rel.level == "observation" or time in rel.dimensions:
        return "obs"
    return "series"


def _attributes(params: DataParams, dsd: DataStructure) -> frozenset[str]:
    if params.detail in ("dataonly", "serieskeysonly"):
        return frozenset()
    every = [a.id for a in dsd.attributes]
    kept: set[str] = set()
    for token in params.attributes:
        if token in ("dsd", "all"):
            kept.update(every)
        elif token in ("dataset", "series", "obs"):
            kept.update(a for a in every if _level(dsd, a) == token)
        elif token in every:
            kept.add(token)
        elif token not in ("none", "msd"):
            raise QuerySyntaxError(
                f"attributes={token!r}: expected dsd, msd, dataset, series, obs, all, none or "
                f"attribute ids of {dsd.id} ({', '.join(every)})"
            )
    return frozenset(kept)


def _measures(params: DataParams, dsd: DataStructure) -> bool:
    every = [m.id for m in dsd.measures]
    for token in params.measures:
        if token not in ("all", "none", *every):
            raise QuerySyntaxError(
                f"measures={token!r}: expected all, none or {', '.join(every) or 'no measure'}"
            )
    return any(t == "all" or t in every for t in params.measures)


def _order(sort: Sequence[SortTerm], dsd: DataStructure, at_obs: str) -> tuple[OrderTerm, ...]:
    """The rows' order: ``sort`` as far as packaging allows. Series (the dimensions not at
    observation level) stay whole: sort terms on them order the series, the others (the
    dimension at observation, the measure) order observations within a series."""
    dims = [d.id for d in dsd.key_dimensions]
    time = dsd.time_dimension.id if dsd.time_dimension is not None else None
    every = [*dims, *([time] if time else [])]
    if not sort and at_obs == time:
        return DEFAULT_ORDER
    flat = at_obs == ALL_DIMENSIONS
    series = every if flat else [d for d in every if d != at_obs]
    expanded: dict[str, bool] = {}
    for term in sort:
        for name in _sort_names(term, dsd, every, series):
            expanded.setdefault(name, term.descending)
    rest = [(n, False) for n in every if n not in expanded]
    if flat:  # no series to keep whole: the sort, then the other dimensions
        terms = [*expanded.items(), *rest]
    else:
        terms = [(n, d) for n, d in expanded.items() if n in series]
        terms += [(n, d) for n, d in rest if n in series]
        terms += [(n, d) for n, d in expanded.items() if n not in series]
        terms += [(n, d) for n, d in rest if n not in series]
    return tuple(_order_term(n, d, dims, time) for n, d in terms)


def _sort_names(
    term: SortTerm, dsd: DataStructure, every: Sequence[str], series: Sequence[str]
) -> Sequence[str]:
    if term.component == "*":
        return every
    if term.component == SERIES_KEY:
        return series
    if term.component in every or any(m.id == term.component for m in dsd.measures):
        return (term.component,)
    if any(a.id == term.component for a in dsd.attributes):
        raise NotImplementedYet(f"sort={term.component}: sorting by attributes is not supported")
    raise QuerySyntaxError(f"sort={term.component!r}: {dsd.id} has no such component")


def _order_term(name: str, descending: bool, dims: Sequence[str], time: str | None) -> OrderTerm:
    if name == time:
        return OrderTerm("time", descending=descending)
    if name in dims:
        return OrderTerm("dimension", dims.index(name), descending)
    return OrderTerm("value", descending=descending)


def check_format(plan: DataPlan, fmt: DataFormat) -> None:
    """Refuse, before the first byte, what the negotiated format cannot write (406)."""
    if fmt.time_series_only and plan.dimension_at_observation != plan.time:
        raise NotAcceptable(
            f"{fmt.media_type} presents only {plan.time or 'the time dimension'} at observation "
            f"level, not {plan.dimension_at_observation}"
        )
    if plan.target.structure not in fmt.structures:
        raise NotAcceptable(f"{fmt.media_type} cannot identify data by {plan.target.structure}")


# --- rows -------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8192)
def period_range(period: str) -> Bounds | None:
    try:
        return period_bounds(period)
    except PeriodError:
        return None


def _number(value: float | None) -> str:
    """A stored number as SDMX writes it (xs:double): ``1.5``, ``12``, ``INF``, ``-INF``."""
    if value is None:
        return ""
    if not math.isfinite(value):  # 1e309 overflows to INF, which xs:double spells so
        return "NaN" if value != value else ("INF" if value > 0 else "-INF")
    shown = repr(value)
    return shown[:-2] if shown.endswith(".0") else shown


#: The value of an attribute above observation level at an attach key (None: none).
Lookup = Callable[[str, str], str | None]
#: Per (attribute, attach key without the period), the values of an attribute attached to the
#: period, by period.
ByPeriod = dict[tuple[str, str], dict[str, str]]


#: After how many series the values attached to the period are indexed (a query of a few
#: series looks up the values of its rows).
_INDEXED_AFTER: Final = 16


class _Values:
    """The attribute values above observation level that rows take, as of one instant."""

    def __init__(self, get: Lookup, state: Mapping[tuple[str, str], str | None] | None = None):
        self.get = get
        self._state = state
        self._by_period: ByPeriod | None = None

    def by_period(self) -> ByPeriod | None:
        """Those attached to the period, for a series to find once (None: look each up with
        ``get``); indexed on first use, for queries of many series."""
        if self._by_period is None and self._state is not None:
            self._by_period = {}
            for (name, key), value in self._state.items():
                base, at, period = key.rpartition("@")
                if at and value is not None:
                    self._by_period.setdefault((name, base), {})[period] = value
        return self._by_period


class _Shaper:
    """Turns stored rows into :data:`OutRow` with every attribute value that applies.

    The attach keys of the higher-level attributes depend on the series key alone (and the
    period, for those attached to the time dimension): they are worked out once per series,
    and so are the values that do not depend on the period.
    """

    def __init__(self, plan: DataPlan) -> None:
        dsd = plan.dsd
        self.dims = plan.dimensions
        time = plan.time
        #: Per higher-level attribute: its id, the positions of the key dimensions it attaches
        #: to (None: the data set), and whether it attaches to the period too.
        self.higher: list[tuple[str, tuple[int, ...] | None, bool]] = []
        for attribute in dsd.attributes:
            rel = dimensions_of(attribute.relationship, dsd)
            if rel.level == "observation":
                continue
            if rel.level == "dataset":
                self.higher.append((attribute.id, None, False))
                continue
            wanted = set(rel.dimensions)
            positions = tuple(n for n, d in enumerate(self.dims) if d in wanted)
            self.higher.append((attribute.id, positions, time is not None and time in wanted))
        self._series = ""
        self._codes: list[str] = []
        #: Per higher-level attribute of the current series: (id, attach key, with period).
        self._bases: list[tuple[str, str, bool]] = []
        #: The values of the current series' attributes that do not depend on the period, and
        #: how to find those that do, as ``_values`` gave them.
        self._fixed: dict[str, str] = {}
        self._timed: list[tuple[str, str, dict[str, str] | None]] = []
        self._values: _Values | None = None
        self._series_seen = 0

    def codes(self, series_key: str) -> list[str]:
        """The codes of a series key, and its attach keys worked out when it changes."""
        if series_key != self._series:
            codes = series_key.split(".")
            if len(codes) != len(self.dims):
                raise ValueError(f"series key {series_key!r}: {len(self.dims)} codes expected")
            self._series, self._codes, self._values = series_key, codes, None
            self._bases = []
            keys: dict[tuple[int, ...], str | None] = {}  # attributes share attachments
            for name, positions, timed in self.higher:
                if positions is None:
                    self._bases.append((name, "", False))
                    continue
                if positions not in keys:
                    keys[positions] = _attach_key(codes, positions)
                key = keys[positions]
                if key is not None:
                    self._bases.append((name, key, timed))
        return self._codes

    def keys(self, series_key: str, period: str) -> Iterator[tuple[str, str]]:
        """(attribute id, attach key) of the higher-level attributes that apply to a row."""
        self.codes(series_key)
        for name, base, timed in self._bases:
            yield name, f"{base}@{period}" if timed else base

    def _take(self, values: _Values) -> None:
        """The current series' values from ``values``."""
        self._values = values
        fixed = ((name, values.get(name, base)) for name, base, timed in self._bases if not timed)
        self._fixed = {name: found for name, found in fixed if found is not None}
        self._timed = []
        self._series_seen += 1
        indexed = values.by_period() if self._series_seen > _INDEXED_AFTER else None
        for name, base, timed in self._bases:
            if not timed:
                continue
            if indexed is None:
                self._timed.append((name, base, None))
            elif periods := indexed.get((name, base)):
                self._timed.append((name, base, periods))

    def row(
        self,
        series_key: str,
        period: str,
        value: float | None,
        text: str | None,
        attrs: str | None,
        values: _Values,
    ) -> OutRow:
        codes = self.codes(series_key)
        if values is not self._values:
            self._take(values)
        if attrs:
            found: dict[str, str] = msgspec.json.decode(attrs)
            found.update(self._fixed)
        else:
            found = self._fixed.copy()
        for name, base, periods in self._timed:
            higher = (
                periods.get(period) if periods is not None else values.get(name, f"{base}@{period}")
            )
            if higher is not None:
                found[name] = higher
        return codes, period, text if text is not None else _number(value), found


def _attach_key(codes: list[str], positions: tuple[int, ...]) -> str | None:
    """The attach key (without the period) of the codes at ``positions`` (the others empty);
    None when one of them is empty (``attachment.attach_key``)."""
    parts = [""] * len(codes)
    for n in positions:
        if not codes[n]:
            return None
        parts[n] = codes[n]
    return ".".join(parts)


def _state_values(state: Mapping[tuple[str, str], str | None]) -> _Values:
    def lookup(name: str, key: str) -> str | None:
        return state.get((name, key))

    return _Values(lookup, state)


def _history_values(history: AttributeHistory, when: dt.datetime) -> _Values:
    def lookup(name: str, key: str) -> str | None:
        versions = history.get((name, key))
        if not versions:
            return None
        at = bisect.bisect_right(versions, when, key=lambda v: v[0])
        return versions[at - 1][1] if at else None

    return _Values(lookup)


def accepts(plan: DataPlan, row: OutRow, *, values: bool = True) -> bool:
    """The exact filters: period window and ``c[...]`` (only key and time without values,
    for deletions)."""
    if plan.window is None and not plan.components:
        return True
    codes, period, value, attrs = row
    bounds = period_range(period) if period else None
    window = plan.window
    if window is not None and (
        bounds is None or not (bounds[0] < window[1] and bounds[1] > window[0])
    ):
        return False
    for c in plan.components:
        if c.kind == "dimension":
            ok = c.filter.accepts(codes[c.position])
        elif c.kind == "time":
            ok = c.filter.accepts_period(period, bounds)
        elif not values:
            continue
        elif c.kind == "value":
            ok = c.filter.accepts(value or None, numeric=True)
        else:
            ok = c.filter.accepts(attrs.get(c.filter.component))
        if not ok:
            return False
    return True


def _first_last(plan: DataPlan, rows: Iterable[OutRow]) -> Iterator[OutRow]:
    """``firstNObservations``/``lastNObservations`` on rows whose time series are consecutive:
    per series, the observations among the first N or the last N periods, in stream order."""
    first, last = plan.params.first_n or 0, plan.params.last_n or 0
    for _, group in itertools.groupby(rows, key=lambda r: tuple(r[0])):
        members = list(group)
        ranked = sorted(range(len(members)), key=lambda i: _start(members[i][1]))
        kept = set(ranked[:first]) | set(ranked[len(ranked) - last :] if last else ())
        yield from (row for i, row in enumerate(members) if i in kept)


def _start(period: str) -> dt.datetime:
    bounds = period_range(period)
    return bounds[0] if bounds is not None else dt.datetime.min.replace(tzinfo=dt.UTC)


#: Per time series, the last start kept by firstNObservations and the first kept by
#: lastNObservations.
_Cuts = dict[tuple[str, ...], tuple[dt.datetime | None, dt.datetime | None]]


def _cuts(plan: DataPlan, rows: Iterable[OutRow]) -> _Cuts:
    """The per-series cut-offs of the first/last N observations, from rows in time-series
    order (a first pass, for packagings whose series are not time series)."""
    first, last = plan.params.first_n, plan.params.last_n
    cuts: _Cuts = {}
    for key, group in itertools.groupby(rows, key=lambda r: tuple(r[0])):
        starts = sorted(_start(r[1]) for r in group)
        cuts[key] = (
            starts[min(first, len(starts)) - 1] if first else None,
            starts[max(len(starts) - last, 0)] if last else None,
        )
    return cuts


def _within(cuts: _Cuts, row: OutRow) -> bool:
    cut = cuts.get(tuple(row[0]))
    if cut is None:
        return False
    start = _start(row[1])
    return (cut[0] is not None and start <= cut[0]) or (cut[1] is not None and start >= cut[1])


def _per_series(
    plan: DataPlan, source: Callable[[Sequence[OrderTerm]], Iterator[OutRow]]
) -> Iterator[OutRow]:
    """The rows of ``source`` (a query in a given order) after the per-series limits."""
    if not (plan.params.first_n or plan.params.last_n):
        return source(plan.order)
    if plan.time_series_order:
        return _first_last(plan, source(plan.order))
    cuts = _cuts(plan, source(DEFAULT_ORDER))
    return (row for row in source(plan.order) if _within(cuts, row))


def _shown(plan: DataPlan, rows: Iterable[OutRow]) -> Iterator[OutRow]:
    """Rows as written: the attributes and measure asked for; one row per series for
    ``serieskeysonly`` and ``nodata`` (writers read a series from its first row)."""
    every = {a.id for a in plan.dsd.attributes}
    strip = plan.attributes != every
    shaped: Iterable[OutRow] = rows
    if strip or not plan.values:  # else the rows are as written
        shaped = (
            (
                codes,
                period,
                value if plan.values else "",
                {k: v for k, v in attrs.items() if k in plan.attributes} if strip else attrs,
            )
            for codes, period, value, attrs in rows
        )
    if (
        plan.params.detail in ("full", "dataonly")
        or plan.dimension_at_observation == ALL_DIMENSIONS
    ):
        return iter(shaped)
    at_obs = plan.dimension_at_observation
    positions = [i for i, d in enumerate(plan.dimensions) if d != at_obs]
    with_time = at_obs != plan.time

    def series(row: OutRow) -> tuple[str, ...]:
        return (*(row[0][i] for i in positions), row[1] if with_time else "")

    return (next(group) for _, group in itertools.groupby(shaped, key=series))


class _Window:
    """``offset`` and ``limit``, counted over every data set of the message."""

    def __init__(self, offset: int, limit: int | None) -> None:
        self.skip = offset
        self.left = limit

    def __call__(self, rows: Iterable[OutRow]) -> Iterator[OutRow]:
        if not self.skip and self.left is None:
            return iter(rows)  # nothing to count
        return self._counted(rows)

    def _counted(self, rows: Iterable[OutRow]) -> Iterator[OutRow]:
        for row in rows:
            if self.left is not None and self.left <= 0:
                return
            if self.skip:
                self.skip -= 1
                continue
            if self.left is not None:
                self.left -= 1
            yield row


# --- data sets --------------------------------------------------------------------------------


#: Data sets with more attribute values than this are read each time (``_Run.current_values``).
_VALUES_KEPT_UP_TO: Final = 100_000
_CURRENT_VALUES: ResponseCache[Hashable, dict[tuple[str, str], str | None]] = ResponseCache(8)
_MOST_ROWS: ResponseCache[Hashable, int] = ResponseCache(64)


@dataclass(frozen=True)
class _Run:
    """One execution of a plan against a data set."""

    plan: DataPlan
    reads: DataReads
    scope: Scope
    shaper: _Shaper
    window: _Window
    #: When the data set last changed (None: not known).
    changed: dt.datetime | None = None

    @property
    def params(self) -> DataParams:
        return self.plan.params

    def current_values(self) -> Mapping[tuple[str, str], str | None]:
        """The attribute values as they stand (or stood at ``asOf``). Every data query needs
        them, and a small one would spend most of its time reading them: the current ones are
        kept per worker, by store, data set and its last change, for data sets with no more
        than ``_VALUES_KEPT_UP_TO``."""
        dataset, as_of = self.scope.dataset_pk, self.params.as_of
        if as_of is not None or self.changed is None:
            return self.reads.attribute_values(dataset, as_of)
        key = self.data_set_key()
        found = _CURRENT_VALUES.get(key)
        if found is None:
            found = self.reads.attribute_values(dataset)
            if len(found) <= _VALUES_KEPT_UP_TO:
                _CURRENT_VALUES.put(key, found)
        return found

    def data_set_key(self) -> Hashable:
        """The store, the data set and its last change: what answers may be kept under."""
        return (str(self.reads.conn.engine.url), self.scope.dataset_pk, self.changed)

    def most_rows(self) -> int:
        """At most how many observation versions the data set holds: the store's bound
        (``DataReads.most_rows``), kept while the data set is unchanged (it can only have
        grown with other data sets' uploads)."""
        if self.changed is None:
            return self.reads.most_rows()
        key = self.data_set_key()
        found = _MOST_ROWS.get(key)
        if found is None:
            found = self.reads.most_rows()
            _MOST_ROWS.put(key, found)
        return found

    def finish(self, rows: Iterable[OutRow]) -> Iterator[OutRow]:
        return self.window(_shown(self.plan, rows))

    def deleted_rows(self, rows: Iterable[tuple[str, str]]) -> Iterator[OutRow]:
        for series_key, period in rows:
            row: OutRow = (series_key.split("."), period, "", {})
            if accepts(self.plan, row, values=False):
                yield row


def _current(run: _Run) -> Iterator[DataSetPart]:
    """The data as they stand (or stood at ``asOf``): one data set."""
    as_of = run.params.as_of
    values = _state_values(run.current_values())
    shape = run.shaper.row
    exact = run.plan.window is not None or bool(run.plan.components)

    def source(order: Sequence[OrderTerm]) -> Iterator[OutRow]:
        rows = run.reads.observations(run.scope, order, as_of=as_of)
        shaped = (shape(r[0], r[1], r[2], r[3], r[4], values) for r in rows)
        return (row for row in shaped if accepts(run.plan, row)) if exact else shaped

    yield DataSetPart(DataSetInfo("I"), run.finish(_per_series(run.plan, source)))


def _changes(run: _Run, after: dt.datetime) -> Iterator[DataSetPart]:
    """What changed after ``after`` (up to ``asOf``): replaced, deleted, attributes deleted."""
    as_of, dataset = run.params.as_of, run.scope.dataset_pk
    run.reads.wait_for_writers(dataset)  # no upload stamped before now is still uncommitted
    state = run.reads.attributes(dataset, as_of)
    values = _state_values({key: value for key, (value, _) in state.items()})
    changed = {key for key, (_, when) in state.items() if when > after}

    def source(order: Sequence[OrderTerm]) -> Iterator[OutRow]:
        rows = run.reads.observations(
            run.scope, order, as_of=as_of, changed_after=None if changed else after, stamps=True
        )
        for r in rows:
            row = run.shaper.row(r[0], r[1], r[2], r[3], r[4], values)
            fresh = (r[5] is not None and r[5] > after) or any(
                k in changed for k in run.shaper.keys(r[0], r[1])
            )
            if fresh and accepts(run.plan, row):
                yield row

    yield DataSetPart(DataSetInfo("R"), run.finish(_per_series(run.plan, source)))
    deleted = run.reads.deletions(run.scope, after, run.plan.order, as_of=as_of)
    yield DataSetPart(DataSetInfo("D"), run.window(run.deleted_rows(deleted)))
    gone = run.reads.attribute_deletions(dataset, after, as_of)
    if gone:
        yield DataSetPart(DataSetInfo("D"), run.window(_attributes_gone(run, gone)))


def _attributes_gone(run: _Run, gone: dict[tuple[str, str], str | None]) -> Iterator[OutRow]:
    """The observations (as they stand) deleted attribute values applied to, each with the
    deleted attributes and the values they had."""
    rows = run.reads.observations(run.scope, run.plan.order, as_of=run.params.as_of)
    for series_key, period, *_ in rows:
        marked = {
            name: gone[(name, key)] or ""
            for name, key in run.shaper.keys(series_key, period)
            if (name, key) in gone and name in run.plan.attributes
        }
        row: OutRow = (series_key.split("."), period, "", marked)
        if marked and accepts(run.plan, row, values=False):
            yield row


class _AttributeCuts:
    """When the higher-level attribute values that apply to an observation changed while one
    of its versions was valid: such a change is a revision too, so it cuts that version's
    validity in two (``includeHistory``)."""

    def __init__(self, shaper: _Shaper, history: AttributeHistory) -> None:
        self.shaper = shaper
        #: Per (attribute id, attach key): the instants its value changed, oldest first.
        self.changes: dict[tuple[str, str], list[dt.datetime]] = {}
        for key, versions in history.items():
            previous: str | None = None
            instants = []
            for when, value in versions:
                if value != previous:
                    instants.append(when)
                previous = value
            if instants:
                self.changes[key] = instants
        #: Every such instant, oldest first.
        self.instants = sorted({c for found in self.changes.values() for c in found})

    def within(
        self, series_key: str, period: str, start: dt.datetime, end: dt.datetime | None
    ) -> list[dt.datetime]:
        """The instants, strictly between ``start`` and ``end`` (None: still valid), when a
        value that applies to the observation changed."""
        if not self.changes:
            return []
        found = {
            c
            for key in self.shaper.keys(series_key, period)
            for c in self.changes.get(key, ())
            if c > start and (end is None or c < end)
        }
        return sorted(found)


def _history(run: _Run) -> Iterator[DataSetPart]:
    """Every version, a data set per validity (see the module docstring). A version during
    whose validity higher-level attribute values that apply to it changed is shown once per
    stretch of unchanged values: until the first change here, from each change after."""
    params = run.params
    history = run.reads.attribute_history(run.scope.dataset_pk, params.as_of)
    cuts = _AttributeCuts(run.shaper, history)
    versions = run.reads.versions(
        run.scope, run.plan.order, after=params.updated_after, as_of=params.as_of
    )

    def validity(v: VersionRow) -> tuple[bool, dt.datetime, dt.datetime | None]:
        if v[6]:
            return True, v[5], None
        within = cuts.within(v[0], v[1], v[5], v[7])
        return False, v[5], within[0] if within else v[7]

    for (deleted, recorded, until), group in itertools.groupby(versions, key=validity):
        if deleted:
            info = DataSetInfo("D", valid_to=recorded)
            yield DataSetPart(info, run.window(run.deleted_rows((v[0], v[1]) for v in group)))
            continue
        yield _revision(run, recorded, until, group, _history_values(history, recorded))
    after = params.updated_after
    for instant in cuts.instants:
        if after is not None and instant <= after:
            continue
        valid = run.reads.versions(run.scope, run.plan.order, as_of=params.as_of, valid_at=instant)
        stretches = (
            (v, within)
            for v in valid
            if (within := cuts.within(v[0], v[1], v[5], v[7])) and instant in within
        )
        values = _history_values(history, instant)
        ends = functools.partial(_stretch_end, instant)
        for until, stretch in itertools.groupby(stretches, key=ends):
            yield _revision(run, instant, until, (v for v, _ in stretch), values)


def _stretch_end(
    start: dt.datetime, found: tuple[VersionRow, list[dt.datetime]]
) -> dt.datetime | None:
    """Until when a version shown from ``start`` stands: the next change, or its own end."""
    version, within = found
    later = [c for c in within if c > start]
    return later[0] if later else version[7]


def _revision(
    run: _Run,
    valid_from: dt.datetime,
    valid_to: dt.datetime | None,
    versions: Iterable[VersionRow],
    values: _Values,
) -> DataSetPart:
    """A Replace data set of versions valid from ``valid_from`` until ``valid_to``."""
    rows = (run.shaper.row(v[0], v[1], v[2], v[3], v[4], values) for v in versions)
    accepted = (row for row in rows if accepts(run.plan, row))
    params = run.params
    limited = _first_last(run.plan, accepted) if params.first_n or params.last_n else accepted
    return DataSetPart(DataSetInfo("R", valid_from, valid_to), run.finish(limited))


def _nonempty(parts: Iterable[DataSetPart]) -> Iterator[DataSetPart]:
    """The data sets that have rows (each checked when the previous one is written)."""
    for part in parts:
        rows = iter(part.rows)
        first = next(rows, None)
        if first is not None:
            yield DataSetPart(part.info, itertools.chain((first,), rows))


# --- running a query --------------------------------------------------------------------------


@dataclass(frozen=True)
class DataState:
    """The stored data set a query reads, and when it last changed (None: no data yet)."""

    dataset_pk: int | None
    last_changed: dt.datetime | None

    @property
    def tag(self) -> str:
        stamp = self.last_changed.isoformat() if self.last_changed else "-"
        return f"{self.dataset_pk}:{stamp}"

    @classmethod
    def of(cls, found: tuple[int, dt.datetime | None] | None) -> DataState:
        """From ``StructureRepository.state_and_dataset``'s data set (None: no data yet)."""
        return cls(None, None) if found is None else cls(*found)


def data_state(session: Session, plan: DataPlan) -> DataState:
    return DataState.of(StructureRepository(session).state_and_dataset(plan.dsd.key)[1])


def scope_of(plan: DataPlan, dataset_pk: int) -> Scope:
    flow = plan.target.flow
    allowed = []
    for dim in plan.dimensions:
        codes = flow.allowed(dim)
        if dim == AREA and plan.target.areas is not None:
            codes = plan.target.areas if codes is None else codes & plan.target.areas
        allowed.append(codes)
    keys, narrowed = _cut_to_allowed(plan.keys, allowed)
    return Scope(dataset_pk, keys, narrowed, _years(plan))


def _cut_to_allowed(
    keys: tuple[KeyFilter, ...], allowed: list[frozenset[str] | None]
) -> tuple[tuple[KeyFilter, ...], tuple[frozenset[str] | None, ...]]:
    """The keys cut to the allowed codes, where every key names the codes of a dimension: that
    dimension then needs no filter of its own (a query for one series binds its few codes, not
    the hundreds a constraint allows). A key left with no code for a dimension matches
    nothing and goes; when none is left, nothing is cut (the SQL then finds nothing)."""
    narrowed = list(allowed)
    for position, codes in enumerate(allowed):
        if codes is None or not keys or any(k[position] is None for k in keys):
            continue
        cut = tuple(
            k[:position] + ((k[position] or frozenset()) & codes,) + k[position + 1 :] for k in keys
        )
        kept = tuple(k for k in cut if k[position])
        if kept:
            keys, narrowed[position] = kept, None
    return keys, tuple(narrowed)


def _years(plan: DataPlan) -> tuple[int, int] | None:
    """The years whose periods may overlap the time window (ISO weeks may start a year early
    or end a year late)."""
    if plan.window is None:
        return None
    return max(plan.window[0].year - 1, 1), min(plan.window[1].year + 1, 9999)


def _estimate(run: _Run, cap: int) -> int:
    """At most how many observations (series, without observations) the query returns, as SQL
    counts them before the exact filters; no more than ``cap + 1`` are counted, and nothing
    when the store holds no more than ``cap`` observation versions in all (counting a million
    takes a fifth of a second before the first byte)."""
    bound = run.most_rows()
    if bound <= cap:
        return bound
    params = run.params
    found = run.reads.count(
        run.scope,
        as_of=params.as_of,
        changed_after=params.updated_after,
        history=params.include_history,
        up_to=cap + 1,
    )
    per_series = (params.first_n or 0) + (params.last_n or 0)
    if per_series or params.detail in ("serieskeysonly", "nodata"):
        series = run.reads.series_count(run.scope)
        found = min(found, series * (per_series or 1))
    return min(found, params.limit) if params.limit is not None else found


def too_large(cap: int, detail: str = "full") -> ResultTooLarge:
    """Over the cap: of observations, or of series when the answer holds none."""
    what = "series" if detail in ("serieskeysonly", "nodata") else "observations"
    return ResultTooLarge(
        f"the query matches more than {cap} {what} (this service's limit); narrow "
        "it with a key, c[...] or a period range, or page through it with offset and limit"
    )


def run_query(
    session: Session, plan: DataPlan, state: DataState, *, cap: int, yield_per: int = 5000
) -> Iterator[DataSetPart] | None:
    """The data sets of the answer, None when nothing matches. The first row is read here, so
    that an empty answer and one over ``cap`` (ResultTooLarge) are known before the first
    byte."""
    if state.dataset_pk is None:
        return None
    run = _Run(
        plan,
        DataReads(session, yield_per),
        scope_of(plan, state.dataset_pk),
        _Shaper(plan),
        _Window(plan.params.offset, plan.params.limit),
        state.last_changed,
    )
    if _estimate(run, cap) > cap:
        raise too_large(cap, plan.params.detail)
    params = plan.params
    if params.include_history:
        parts = _history(run)
    elif params.updated_after is not None:
        parts = _changes(run, params.updated_after)
    else:
        parts = _current(run)
    found = _nonempty(parts)
    first = next(found, None)
    return None if first is None else itertools.chain((first,), found)


# --- the message ------------------------------------------------------------------------------


def content_language(lang: Lang, target: DataTarget) -> str:
    """The language names are given in: the first accepted one the structures have."""
    available = set(target.names) | set(target.flow.dsd.names)
    for tag in lang.preferred:
        for candidate in (tag, tag.split("-")[0]):
            if candidate in available:
                return candidate
    return "en"


@dataclass(frozen=True)
class MessageOptions:
    """Message-level choices made by the API layer."""

    lang: Lang
    sender: str
    #: SDMX-CSV options from the media type (``labels=``...), overridden by the parameters.
    csv: dict[str, str]


def build_message(plan: DataPlan, options: MessageOptions) -> DataMessage:
    """The message header and options for the writer."""
    target, lang, params = plan.target, options.lang, plan.params
    concepts = target.flow.concept_names
    codes = target.flow.code_names

    def component_name(component: str) -> str | None:
        return lang.pick(concepts.get(component, {}))

    def code_name(component: str, code: str) -> str | None:
        return lang.pick(codes.get(component, {}).get(code, {}))

    labels, time_format, keys = csv_options(options.csv, params)
    return DataMessage(
        structure=target.structure,
        ref=target.ref,
        dsd=plan.dsd,
        dimension_at_observation=plan.dimension_at_observation,
        detail=params.detail,
        measures=_measures(params, plan.dsd),
        message_id=f"IREF{uuid.uuid4().hex[:24]}",
        sender=options.sender,
        language=content_language(lang, target),
        component_name=component_name,
        code_name=code_name,
        structure_name=lang.pick(target.names),
        labels=labels,
        time_format=time_format,
        keys=keys,
    )
