"""Data upload: read a message as it streams, validate every row, stage, then apply atomically.

Nothing is written unless the whole message is valid: rows are validated while they stream
and staged into temporary tables (memory stays flat), duplicates are found in SQL, and only
then does one transaction apply the staged rows to the history. A rejected or dry-run upload
rolls that transaction back and is recorded on its own, so the audit trail has every attempt.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import msgspec
from sqlalchemy.orm import Session, sessionmaker

from service.db import SQLITE_IMMEDIATE
from service.errors import Forbidden, SdmxError, UnreadableMessage
from service.formats.readers import sdmx_csv_data, sdmx_ml_columns, sdmx_ml_data
from service.formats.readers.data import reader_for
from service.model import AttributeRelationship, DataStructure, Ref
from service.model.data import ACTION_CODES, Action, DataReadError, DataRow
from service.storage.observations import (
    ApplyCounts,
    ObservationStore,
    StagedAttr,
    StagedObs,
    like_pattern,
)
from service.storage.structures import StructureRepository
from service.storage.submissions import SubmissionRepository
from service.usecases import columnar
from service.usecases.attachment import attach_key, dimensions_of
from service.usecases.flows import FlowContext, resolve_flow, resolve_structure
from service.validation import (
    Problem,
    RowValidator,
    ValidationContext,
    ValidationReport,
    canonical_period,
    duplicate_problem,
)

log = logging.getLogger("ilms.ingest")


BATCH = 5000


@dataclass(frozen=True)
class Upload:
    """One upload: where it goes, what it is, who sends it."""

    agency: str
    flow_id: str
    version: str
    body: BinaryIO
    media_type: str
    content_sha256: str
    size_bytes: int
    #: "AGENCY:PROVIDER_ID" of the sending provider; None for an admin or the local CLI.
    provider: str | None = None
    token_pk: int | None = None
    dry_run: bool = False
    #: ``dataflow`` or ``datastructure``: what agency/flow_id/version name.
    context: str = "dataflow"
    #: Who the submission record names when no provider or token does ("demo", "local").
    submitter: str | None = None


@dataclass
class Outcome:
    status: str  # accepted, rejected, dry_run
    dataflow: str
    report: ValidationReport
    counts: ApplyCounts = field(default_factory=ApplyCounts)
    submission_id: int | None = None
    rows: int = 0
    actions: set[str] = field(default_factory=set)
    duration_ms: float = 0.0
    error: SdmxError | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.submission_id,
            "status": self.status,
            "dataflow": self.dataflow,
            "rows": self.rows,
            "actions": sorted(self.actions),
            "counts": self.counts.as_dict(),
            "durationMs": round(self.duration_ms, 1),
            "validation": self.report.to_dict(),
        }


class _Rollback(Exception):
    """Raised inside the upload transaction to undo it (rejected or dry run)."""


def ingest(
    factory: sessionmaker[Session],
    upload: Upload,
    progress: Callable[[int], None] | None = None,
) -> Outcome:
    """Validate and (unless rejected or a dry run) apply an upload; record the submission."""
    started = time.perf_counter()
    received = dt.datetime.now(dt.UTC)
    outcome = Outcome(status="rejected", dataflow="", report=ValidationReport())
    try:
        with factory() as session, session.begin():
            _run(session, upload, outcome, received, progress)
            if not outcome.report.ok or upload.dry_run:
                raise _Rollback
            outcome.status = "accepted"
    except _Rollback:
        outcome.status = "dry_run" if upload.dry_run and outcome.report.ok else "rejected"
    except DataReadError as exc:
        outcome.error = UnreadableMessage(str(exc))
        outcome.report.add(_unreadable(exc))
    except SdmxError as exc:  # unknown dataflow, provider out of scope, unsupported type...
        outcome.error = exc
        outcome.report.add(_refused(exc))
    outcome.duration_ms = (time.perf_counter() - started) * 1000
    if outcome.status != "accepted":
        _record(factory, upload, outcome, received)
    return outcome


def record_refusal(factory: sessionmaker[Session], upload: Upload, error: SdmxError) -> int | None:
    """Record an upload refused before it could be read (too big, bad gzip): the audit trail
    has every attempt. Returns the submission id."""
    outcome = Outcome(status="rejected", dataflow="", report=ValidationReport(), error=error)
    outcome.report.add(_refused(error))
    _record(factory, upload, outcome, dt.datetime.now(dt.UTC))
    return outcome.submission_id


def _run(
    session: Session,
    upload: Upload,
    outcome: Outcome,
    received: dt.datetime,
    progress: Callable[[int], None] | None,
) -> None:
    session.connection(execution_options={SQLITE_IMMEDIATE: True})  # writers queue, not fail
    repo = StructureRepository(session)
    resolve = resolve_structure if upload.context == "datastructure" else resolve_flow
    flow = resolve(repo, upload.agency, upload.flow_id, upload.version)
    outcome.dataflow = flow.label
    areas = _provider_scope(flow, upload.provider)
    context = ValidationContext.build(flow.dsd, flow.codelists, flow.constraints, areas)
    store = ObservationStore(session)
    store.dataset(flow.dsd)
    # PostgreSQL: one upload at a time writes to a DSD (SQLite: BEGIN IMMEDIATE), and its
    # versions are stamped once it holds that lock: a harvest that reads under the lock's
    # shared mode sees every version stamped before it, or waits (docs/storage.md).
    dataset_pk = store.dataset(flow.dsd, lock=True)
    recorded = dt.datetime.now(dt.UTC)
    store.begin_staging()
    submission = SubmissionRepository(session).create(
        **_submission_fields(upload, outcome, received, status="accepted")
    )
    outcome.submission_id = submission.pk
    target = columnar.Target(store, dataset_pk, submission.pk, recorded)
    if not _stage_columnar(upload, context, target, outcome, progress):
        rows = reader_for(upload.media_type)(upload.body, flow.dsd)
        _stage_all(rows, flow, context, store, outcome, progress)
        _check_staged(store, outcome)
    if not outcome.report.ok:
        return
    outcome.counts = store.apply(dataset_pk, submission.pk, recorded)
    submission.actions = ",".join(sorted(outcome.actions))
    submission.counts = msgspec.json.encode(outcome.counts.as_dict()).decode()
    # stamped in the same transaction as the data: an accepted upload is never half-recorded
    submission.finished_at = dt.datetime.now(dt.UTC)
    submission.duration_ms = (submission.finished_at - received).total_seconds() * 1000
    store.drop_staging()


def _provider_scope(flow: FlowContext, provider: str | None) -> frozenset[str] | None:
    """The REF_AREA codes a provider may send; refuse providers without an agreement."""
    if provider is None:
        return None
    if not flow.agreements and flow.label.startswith("datastructure"):
        raise Forbidden("data providers upload to a dataflow they have an agreement for")
    agency, _, provider_id = provider.partition(":")
    ref = Ref(cls="DataProvider", agency=agency, id="DATA_PROVIDERS", item=provider_id)
    if not flow.has_agreement(ref):
        raise Forbidden(f"provider {provider} has no provision agreement for {flow.label}")
    return flow.provider_areas(ref)


def _stage_all(
    rows: Iterator[DataRow],
    flow: FlowContext,
    context: ValidationContext,
    store: ObservationStore,
    outcome: Outcome,
    progress: Callable[[int], None] | None,
) -> None:
    validator = RowValidator(context)
    stager = _Stager(flow.dsd, context, flow)
    report = outcome.report
    for row in rows:
        outcome.rows += 1
        outcome.actions.add(ACTION_CODES[row.action])
        problems = validator.check(row)
        report.record(problems)
        if problems:
            continue
        problem = stager.add(row, outcome.rows)
        if problem is not None:
            report.add(problem)
        if len(stager.obs) >= BATCH:
            stager.flush(store)
            if progress is not None:
                progress(outcome.rows)
    stager.flush(store)
    if progress is not None:
        progress(outcome.rows)


def _stage_columnar(
    upload: Upload,
    context: ValidationContext,
    target: columnar.Target,
    outcome: Outcome,
    progress: Callable[[int], None] | None,
) -> bool:
    """Stage a plain upload column by column (``usecases.columnar``).

    False when the columnar path cannot decide it, or wrote rows that the checks over every
    row would report: what it wrote is then rolled back and the body rewound, for the row path
    to read it and report each problem where it is.
    """
    body = upload.body
    if not body.seekable():
        return False
    reader = reader_for(upload.media_type)
    store = target.store
    start = body.tell()

    def on_batch(rows: int, actions: set[str]) -> None:
        outcome.rows += rows
        outcome.report.rows_checked += rows
        outcome.actions |= actions
        if progress is not None:
            progress(outcome.rows)

    store.savepoint()
    try:
        if reader is sdmx_csv_data.read_rows:
            columnar.stage_csv(body, context, target, on_batch)
        elif reader is sdmx_ml_data.read_rows and sdmx_ml_columns.is_structure_specific(body):
            columnar.stage_xml(body, context, target, on_batch)
        else:
            columnar.stage_rows(reader(body, context.dsd), context, target, on_batch)
        if not store.duplicate_observations(1) and not store.conflicting_attributes(1):
            return True
        why = "duplicates or conflicting attribute values"
    except columnar.Fallback as exc:
        why = str(exc)
    log.info("upload read row by row: %s", why)
    store.rollback_to_savepoint()
    outcome.rows = outcome.report.rows_checked = 0
    outcome.actions.clear()
    body.seek(start)
    return False


def _check_staged(store: ObservationStore, outcome: Outcome) -> None:
    report = outcome.report
    for series_key, period, count, location in store.duplicate_observations(1000):
        identity = (*series_key.split("."), period)
        report.add(duplicate_problem(identity, location, None))
        log.debug("duplicate %s %s sent %d times", series_key, period, count)
    for attribute, key, values, location in store.conflicting_attributes(1000):
        report.add(
            Problem(
                rule="conflicting_attribute_values",
                location=location,
                series_key=key.split("@")[0],
                time=key.partition("@")[2] or None,
                component=attribute,
                value=None,
                message=f"{attribute} is sent with {values} different values for the same key",
            )
        )


class _Stager:
    """Turns validated rows into staged observation and attribute rows, in batches."""

    def __init__(self, dsd: DataStructure, context: ValidationContext, flow: FlowContext) -> None:
        self.dims = context.dimension_ids
        self.series_key = lambda row: context.series_key(row.key)
        self.time_dim = context.time_dimension
        self.numeric = numeric_measure(dsd)
        self.obs_attrs: set[str] = set()
        self.higher: dict[str, AttributeRelationship] = {}
        for attribute in dsd.attributes:
            if attribute.relationship.level == "observation":
                self.obs_attrs.add(attribute.id)
            else:
                self.higher[attribute.id] = dimensions_of(attribute.relationship, dsd)
        self.obs: list[StagedObs] = []
        self.attrs: list[StagedAttr] = []
        self._last_attrs: dict[tuple[str, str], str | None] = {}
        self._periods: dict[str, str] = {}
        self._positions: dict[str, tuple[int, ...]] = {}
        self._last_series = ""
        self._last_static: dict[str, str] = {}
        #: attributes attached to the time dimension: their attachment changes every period
        self.timed = {
            name
            for name, rel in self.higher.items()
            if self.time_dim is not None and self.time_dim in rel.dimensions
        }
        self._attach_keys: dict[tuple[str | None, ...], str | None] = {}

    def add(self, row: DataRow, seq: int) -> Problem | None:
        key = row.key
        parts = [key.get(d) for d in self.dims]
        wildcard = None in parts or "" in parts
        series_key = ".".join(p or "" for p in parts) if wildcard else ".".join(parts)  # type: ignore[arg-type]
        time = row.time
        period = self._period(time) if time else None
        action = ACTION_CODES[row.action]
        # a LIKE pattern only where one is used: Delete rows without a period (series, slices)
        pattern = like_pattern(parts) if action == "D" and period is None else ""
        value, text, marked = self._value(row)
        obs_attrs, higher = self._split_attrs(row) if row.attrs else (None, None)
        if (
            action == "D"
            and higher
            and obs_attrs is None
            and not marked
            and self.timed & higher.keys()
        ):
            # a Delete that marks an attribute attached to the period (SOURCE of 2020) deletes
            # that value, not the observation: no observation row (readers never copy such a
            # value from a series, so it was sent for this row)
            return self._stage_higher(higher, parts, period, action, row)
        self.obs.append(
            (
                seq,
                series_key,
                pattern,
                wildcard,
                period,
                value,
                text,
                marked,
                obs_attrs,
                action,
                row.location,
            )
        )
        if higher:
            return self._stage_higher(
                self._changed(higher, series_key, action), parts, period, action, row
            )
        return None

    def _changed(self, higher: dict[str, str], series_key: str, action: str) -> dict[str, str]:
        """The attribute values that need staging: readers copy series- and data-set-level
        values onto every observation, so within a series only those attached to the period,
        or that differ from the previous row's, are new."""
        if action == "D" or series_key != self._last_series:
            self._last_series = series_key
            self._last_static = {n: v for n, v in higher.items() if n not in self.timed}
            return higher
        last = self._last_static
        changed = {n: v for n, v in higher.items() if n in self.timed or last.get(n) != v}
        for name, value in changed.items():
            if name not in self.timed:
                last[name] = value
        return changed

    def _period(self, time: str) -> str:
        """The period spelled one way (2023-A1 is 2023); memoised, periods repeat."""
        found = self._periods.get(time)
        if found is None:
            if len(self._periods) > 10_000:
                self._periods.clear()
            found = self._periods[time] = canonical_period(time)
        return found

    def _value(self, row: DataRow) -> tuple[float | None, str | None, bool]:
        raw = row.value
        if raw is None or raw == "":
            return None, None, False
        if row.action is Action.DELETE:
            return None, None, True
        if self.numeric:
            number = float(raw)
            # NaN is SDMX's "no value" (its OBS_STATUS says why): stored as missing everywhere
            return (None if number != number else number), None, False
        return None, raw, False

    def _split_attrs(self, row: DataRow) -> tuple[str | None, dict[str, str]]:
        obs: dict[str, str | None] = {}
        higher: dict[str, str] = {}
        delete = row.action is Action.DELETE
        for name, value in row.attrs.items():
            if name in self.obs_attrs:
                obs[name] = None if delete else value
            else:
                higher[name] = value
        encoded = msgspec.json.encode(dict(sorted(obs.items()))).decode() if obs else None
        return encoded, higher

    def _stage_higher(
        self,
        higher: dict[str, str],
        parts: list[str | None],
        period: str | None,
        action: str,
        row: DataRow,
    ) -> Problem | None:
        for name, value in higher.items():
            relationship = self.higher.get(name)
            if relationship is None:
                continue
            key = self._attach(name, relationship, parts, period)
            if key is None:
                return _attachment_problem(name, relationship, row, self.series_key)
            stored = None if action == "D" else value
            if self._last_attrs.get((name, key), "\0") == stored and action != "D":
                continue  # the same series-level value copied onto every observation
            self._last_attrs[(name, key)] = stored
            self.attrs.append((name, key, stored, action, row.location))
        return None

    def _attach(
        self, name: str, rel: AttributeRelationship, parts: list[str | None], period: str | None
    ) -> str | None:
        """Where a value of ``name`` attaches for this row (memoised per codes and period)."""
        positions = self._positions.get(name)
        if positions is None:
            wanted = set(rel.dimensions)
            positions = self._positions[name] = tuple(
                i for i, d in enumerate(self.dims) if d in wanted
            )
        memo = (name, period, *(parts[i] for i in positions))
        found = self._attach_keys.get(memo, "\0")
        if found == "\0":
            if len(self._attach_keys) > 100_000:
                self._attach_keys.clear()
            found = self._attach_keys[memo] = attach_key(
                rel, self.dims, parts, period, self.time_dim
            )
        return found

    def flush(self, store: ObservationStore) -> None:
        store.stage_observations(self.obs)
        store.stage_attributes(self.attrs)
        self.obs = []
        self.attrs = []
        if len(self._last_attrs) > 100_000:
            self._last_attrs.clear()


def numeric_measure(dsd: DataStructure) -> bool:
    """Whether the DSD's measure holds numbers (stored as such; compared as such by
    ``c[...]`` filters)."""
    if not dsd.measures:
        return True
    rep = dsd.measures[0].representation
    text_type = rep.text_type if rep is not None else None
    return rep is None or rep.enumeration is None and text_type not in _TEXT_TYPES


_TEXT_TYPES = {"String", "Alpha", "AlphaNumeric", "Numeric", "URI", "XHTML"}


def _attachment_problem(
    name: str, rel: AttributeRelationship, row: DataRow, series_key: Callable[[DataRow], str]
) -> Problem:
    needs = ", ".join(rel.dimensions) or "the data set"
    return Problem(
        rule="attribute_attachment_incomplete",
        location=row.location,
        series_key=series_key(row),
        time=row.time,
        component=name,
        value=row.attrs.get(name),
        message=f"{name} attaches to {needs}; this row does not give all of them",
    )


def _unreadable(exc: DataReadError) -> Problem:
    return Problem(
        rule="unreadable_message",
        location=exc.location or "",
        series_key="",
        time=None,
        component=None,
        value=None,
        message=str(exc),
    )


def _refused(exc: SdmxError) -> Problem:
    return Problem(
        rule="refused",
        location="",
        series_key="",
        time=None,
        component=None,
        value=None,
        message=exc.message,
    )


def _submission_fields(
    upload: Upload, outcome: Outcome, received: dt.datetime, status: str
) -> dict[str, object]:
    return {
        "received_at": received,
        "finished_at": None,
        "status": status,
        "provider": upload.provider
        or upload.submitter
        or ("admin" if upload.token_pk else "local"),
        "token_pk": upload.token_pk,
        "dataflow": outcome.dataflow or f"{upload.agency}:{upload.flow_id}({upload.version})",
        "actions": ",".join(sorted(outcome.actions)),
        "media_type": upload.media_type,
        "content_sha256": upload.content_sha256,
        "size_bytes": upload.size_bytes,
        "counts": "{}",
        "report": None,
        "duration_ms": None,
    }


def _record(
    factory: sessionmaker[Session], upload: Upload, outcome: Outcome, received: dt.datetime
) -> None:
    """Record a rejected or dry-run submission (its own transaction: the upload's rolled back)."""
    fields = _submission_fields(upload, outcome, received, outcome.status)
    fields["finished_at"] = dt.datetime.now(dt.UTC)
    fields["counts"] = msgspec.json.encode(outcome.counts.as_dict()).decode()
    fields["report"] = msgspec.json.encode(outcome.report.to_dict()).decode()
    fields["duration_ms"] = outcome.duration_ms
    with factory() as session, session.begin():
        session.connection(execution_options={SQLITE_IMMEDIATE: True})
        outcome.submission_id = SubmissionRepository(session).create(**fields).pk
