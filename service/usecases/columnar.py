"""The columnar path of data uploads: plain messages checked and staged a batch at a time.

Most uploads are plain: every row a full key, a period, a value, the same few actions. For
those, reading, checking and staging row by row in Python is what limits the load rate. This
path reads SDMX-CSV with Apache Arrow's multi-threaded CSV reader and SDMX-ML
structure-specific data with ``sdmx_ml_columns`` (the rows of other readers are gathered into
columns), checks each batch of rows with vectorised compute functions, and stages it with one
COPY.

It is exact by construction: it only decides that a batch passes every check of
``RowValidator.check``'s fast path (the same code sets, period rules, number pattern and
attribute limits, taken from the same ``ValidationContext``), and stages it as the row path's
``_Stager`` would. Anything it cannot decide (a failing check, a Delete row, a partial key,
labels, a delimiter other than ``,``, malformed CSV, XML that ``sdmx_ml_columns`` leaves to
the row reader) raises :class:`Fallback`; the upload is then read again by the row path,
which reports every problem with its location. So the columnar path never accepts what the
row path rejects, and never writes a report itself.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from itertools import islice
from operator import itemgetter
from queue import Full, Queue
from typing import TYPE_CHECKING, BinaryIO, TypeVar

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
from sqlalchemy.exc import IntegrityError

from service.formats.readers import sdmx_ml_columns
from service.formats.readers.data_common import Components, structure_ref
from service.formats.readers.sdmx_csv_data import DEFAULT_CUSTOM_COLUMNS, _Layout
from service.model.data import ACTION_CODES, DataReadError, DataRow
from service.usecases.attachment import dimensions_of
from service.validation import ValidationContext, canonical_period
from service.validation.context import FAST_PATTERNS, ValueKind

if TYPE_CHECKING:
    from service.storage.observations import ObservationStore

#: Arrow reads the CSV in blocks of this many bytes (about 1,000 ILMS rows): it reads up to 32
#: blocks ahead, so this sets the memory it takes (2 MB blocks cost some 100 MB more, 8 MB
#: blocks 300 MB), and smaller ones read no slower.
BLOCK_BYTES = 1 << 18
#: Blocks are put together into batches of at least this many rows before they are checked and
#: written (fewer, larger statements).
BATCH_ROWS = 15_000
#: Rows of other readers, and SDMX-ML read as columns, are gathered into batches of this many.
ROW_BATCH = 20_000
_BOM = b"\xef\xbb\xbf"
_MAX_HEADER = 1 << 20
#: The row path's action letters that insert or update (Delete rows take the row path).
_WRITE_ACTIONS = {"": "I", "I": "I", "A": "A", "M": "M", "R": "R"}
#: Control characters other than those _JSON_ESCAPES handles: the row path encodes them.
_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"
#: How msgspec (the row path's encoder) escapes characters in JSON strings; backslash first.
_JSON_ESCAPES = (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"))


def _use_jemalloc() -> None:
    """Arrow allocates from jemalloc unless ARROW_DEFAULT_MEMORY_POOL says otherwise: it gives
    freed memory back within a second, where mimalloc (pyarrow's default) keeps some 40 MB
    more through a big upload (measured with bench/upload.py)."""
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    with contextlib.suppress(NotImplementedError):  # a pyarrow built without it
        pa.set_memory_pool(pa.jemalloc_memory_pool())


_use_jemalloc()


class Fallback(Exception):  # noqa: N818 - a signal, not an error
    """The columnar path cannot decide this upload: the row path must read it."""


@dataclass(frozen=True)
class _Plan:
    """What each CSV column means and how each is checked, decided from the header."""

    names: list[str]
    kind_col: int
    id_col: int
    action_col: int
    time_col: int
    value_col: int
    dims: list[tuple[str, int, pa.Array]]  # dimension, column, allowed codes
    freq_col: int
    coded_attrs: list[tuple[str, int, pa.Array]]
    text_attrs: list[tuple[str, int, int | None]]  # attribute, column, length limit
    obs_attrs: list[tuple[str, int]]  # observation-level attributes, by id
    higher: list[tuple[str, int, tuple[int, ...], bool]]  # attribute, col, dim indexes, timed
    mandatory: list[int]
    value_pattern: str
    status_col: int
    missing: pa.Array
    nan: str | None


@dataclass(frozen=True)
class Target:
    """Where staged rows go: the data set, the submission and the instant its versions get."""

    store: ObservationStore
    dataset_pk: int
    submission_pk: int
    recorded: dt.datetime


def stage_csv(
    body: BinaryIO,
    context: ValidationContext,
    target: Target,
    on_batch: Callable[[int, set[str]], None],
) -> None:
    """Check and stage a whole SDMX-CSV message, or raise Fallback having written a part.

    Rows of series this upload creates go straight into the history (nothing to compare them
    with); the others are staged for ``ObservationStore.apply``. ``on_batch(rows, actions)`` is
    called after each batch with its row count and the action letters it used. The caller
    rolls back to before the first batch on Fallback.
    """
    plan = _csv_plan(_header(body), context)
    _stage_batches(_prepared(_csv_batches(body, plan), plan, context), target, on_batch)


def stage_rows(
    rows: Iterator[DataRow],
    context: ValidationContext,
    target: Target,
    on_batch: Callable[[int, set[str]], None],
) -> None:
    """``stage_csv`` for the rows of any reader (SDMX-ML, SDMX-JSON): the reader's rows are
    gathered into columns a batch at a time, then checked and staged the same way."""
    plan = _rows_plan(context)
    _stage_read(_row_batches(rows, plan), plan, context, target, on_batch)


def stage_xml(
    body: BinaryIO,
    context: ValidationContext,
    target: Target,
    on_batch: Callable[[int, set[str]], None],
) -> None:
    """``stage_rows`` for an SDMX-ML structure-specific message, whose columns are read
    straight from the XML (``sdmx_ml_columns``): no row objects in between."""
    plan = _rows_plan(context)
    batches = sdmx_ml_columns.read_columns(
        body, context.dsd, tuple(context.attribute_rules), batch_rows=ROW_BATCH
    )
    # parsing (Python) on a thread of its own overlaps checking (Arrow, without the GIL); the
    # reader is stopped before this returns, so that the row path may read the body again
    with contextlib.closing(ahead(batches, depth=1)) as read:
        _stage_read(read, plan, context, target, on_batch)


def _stage_read(
    batches: Iterator[pa.RecordBatch],
    plan: _Plan,
    context: ValidationContext,
    target: Target,
    on_batch: Callable[[int, set[str]], None],
) -> None:
    """Stage the batches of a reader in ``_rows_plan``'s columns; what the reader refuses
    falls back to the row path, which reads it again and reports it where it is."""
    try:
        _stage_batches(_prepared(batches, plan, context), target, on_batch)
    except (DataReadError, sdmx_ml_columns.NotColumnar) as exc:
        raise Fallback(str(exc)) from None


def _stage_batches(
    batches: Iterator[tuple[pa.Table, pa.Table, int, set[str]]],
    target: Target,
    on_batch: Callable[[int, set[str]], None],
) -> None:
    for obs, attrs, rows, actions in ahead(batches, depth=2):
        _write(obs, attrs, target)
        on_batch(rows, actions)
    target.store.refresh_statistics()
    if target.store.staged_meets_fresh(target.dataset_pk, target.submission_pk):
        raise Fallback("a key sent twice")


def _prepared(
    batches: Iterator[pa.RecordBatch], plan: _Plan, context: ValidationContext
) -> Iterator[tuple[pa.Table, pa.Table, int, set[str]]]:
    """Each batch checked and turned into staged rows: (observations, attribute values, row
    count, actions). Arrow compute releases the GIL, so this runs well in a thread."""
    seq = 1  # the header is row 1, as in the row path
    for batch in batches:
        rows = batch.num_rows
        if rows == 0:
            continue
        actions = _check(batch, plan, context)
        obs, attrs = _stage(batch, plan, context, seq)
        seq += rows
        yield obs, attrs, rows, actions


_T = TypeVar("_T")
_DONE = object()


def ahead(items: Iterator[_T], depth: int) -> Generator[_T, None, None]:
    """``items``, produced by a thread of its own up to ``depth`` items ahead of the consumer:
    reading and checking the next batch overlaps writing this one. The producer's exception is
    raised in the consumer; a consumer that stops early stops the producer."""
    queue: Queue[object] = Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        queue.put(item, timeout=0.1)
                        break
                    except Full:
                        continue
                if stop.is_set():
                    return
            queue.put(_DONE)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            queue.put(exc)

    thread = threading.Thread(target=produce, name="columnar-reader", daemon=True)
    thread.start()
    try:
        while (item := queue.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        thread.join()


def _write(obs: pa.Table, attrs: pa.Table, target: Target) -> None:
    store = target.store
    keys = obs.column("series_key")
    created = store.create_series(target.dataset_pk, pc.unique(keys).to_pylist())
    if created:
        index = pc.index_in(keys, value_set=pa.array(list(created), pa.string()))
        fresh = pc.is_valid(index)
        pks = pa.array(list(created.values()), pa.int64())
        direct = obs.filter(fresh)
        rows = pa.table(
            {
                "series_pk": pc.take(pks, index.filter(fresh)),
                "time_period": direct.column("time_period"),
                "value": direct.column("value"),
                "value_text": direct.column("value_text"),
                "attrs": direct.column("attrs"),
            }
        )
        try:
            store.insert_fresh(rows, target.recorded, target.submission_pk)
        except (IntegrityError, psycopg.errors.UniqueViolation):
            raise Fallback("a key sent twice") from None
        obs = obs.filter(pc.invert(fresh))
    store.stage_columns(obs, attrs)


def _header(body: BinaryIO) -> str:
    line = body.readline(_MAX_HEADER)
    if not line.endswith(b"\n"):
        raise Fallback("no complete header line")
    try:
        return line.removeprefix(_BOM).decode("utf-8")
    except UnicodeDecodeError:
        raise Fallback("header is not UTF-8") from None


def _csv_plan(header: str, ctx: ValidationContext) -> _Plan:
    layout = _layout(header, ctx)
    return _plan(
        ctx,
        ncols=layout.ncols,
        fixed=(*layout.structure_cols, layout.action_col, layout.time_col, layout.value_col),
        dims={c: col for col, c in layout.dims},
        attrs={c: col for col, c in layout.attrs},
    )


def _rows_plan(ctx: ValidationContext) -> _Plan:
    """The columns of ``_row_batches`` and ``sdmx_ml_columns.read_columns``: the action, the
    dimensions, time, measure, then the attributes in ``ctx.attribute_rules``' order."""
    if ctx.time_dimension is None:
        raise Fallback("no time dimension")
    dims = ctx.dimension_ids
    attrs = tuple(ctx.attribute_rules)
    first_attr = len(dims) + 3
    return _plan(
        ctx,
        ncols=first_attr + len(attrs),
        fixed=(-1, -1, 0, len(dims) + 1, len(dims) + 2),
        dims={d: 1 + i for i, d in enumerate(dims)},
        attrs={a: first_attr + i for i, a in enumerate(attrs)},
    )


def _plan(
    ctx: ValidationContext,
    *,
    ncols: int,
    fixed: tuple[int, int, int, int, int],
    dims: dict[str, int],
    attrs: dict[str, int],
) -> _Plan:
    """``fixed``: the columns of STRUCTURE, STRUCTURE_ID, ACTION, TIME_PERIOD and the measure
    (-1: none); ``dims`` and ``attrs``: the column of each component."""
    measure = ctx.measure
    if measure is None or measure.codes is not None or measure.kind is ValueKind.TEXT:
        raise Fallback("the measure is not a number")
    coded, text = _attribute_checks(attrs, ctx)
    mandatory = [*ctx.mandatory_series, *ctx.mandatory_observation]
    if not set(mandatory) <= set(attrs):
        raise Fallback("a mandatory attribute has no column")
    obs_attrs, higher = _attachments(attrs, ctx)
    status = ctx.status_attribute
    freq = ctx.frequency_dimension
    kind_col, id_col, action_col, time_col, value_col = fixed
    return _Plan(
        names=[f"c{i}" for i in range(ncols)],
        kind_col=kind_col,
        id_col=id_col,
        action_col=action_col,
        time_col=time_col,
        value_col=value_col,
        dims=_dimension_checks(dims, ctx),
        freq_col=dims[freq] if freq is not None else -1,
        coded_attrs=coded,
        text_attrs=text,
        obs_attrs=obs_attrs,
        higher=higher,
        mandatory=[attrs[a] for a in mandatory],
        value_pattern=f"^(?:{FAST_PATTERNS[measure.kind].pattern})$",
        status_col=attrs.get(status, -1) if status is not None else -1,
        missing=pa.array(sorted(ctx.missing_statuses), pa.string()),
        nan="NaN",  # SDMX's "no value", as RowValidator reads it for every numeric measure
    )


def _layout(header: str, ctx: ValidationContext) -> _Layout:
    """The header read exactly as the row path's reader reads it."""
    try:
        layout = _Layout.parse(header, Components.of(ctx.dsd), DEFAULT_CUSTOM_COLUMNS)
    except DataReadError as exc:
        raise Fallback(str(exc)) from None
    if layout.delimiter != "," or layout.labelled or layout.multi_coded_cols:
        raise Fallback("delimiter, labels or multi-valued cells")
    if layout.time_col < 0 or layout.value_col < 0 or ctx.time_dimension is None:
        raise Fallback("no TIME_PERIOD or measure column")
    return layout


def _dimension_checks(
    columns: dict[str, int], ctx: ValidationContext
) -> list[tuple[str, int, pa.Array]]:
    if set(columns) != set(ctx.dimension_ids):
        raise Fallback("a dimension column is missing")
    dims = []
    for dim in ctx.dimension_ids:
        allowed = ctx.dimension_rules[dim].allowed
        if not isinstance(allowed, frozenset):
            raise Fallback(f"{dim} has no finite code list")
        dims.append((dim, columns[dim], pa.array(sorted(allowed), pa.string())))
    return dims


def _attribute_checks(
    attr_cols: dict[str, int], ctx: ValidationContext
) -> tuple[list[tuple[str, int, pa.Array]], list[tuple[str, int, int | None]]]:
    """The coded attributes with their codes, the text ones with their length limits."""
    coded, text = [], []
    for aid, col in attr_cols.items():
        rule = ctx.attribute_rules[aid]
        if rule.codes is not None and isinstance(rule.codes.allowed, frozenset):
            coded.append((aid, col, pa.array(sorted(rule.codes.allowed), pa.string())))
        elif rule.kind is ValueKind.TEXT and rule.codes is None:
            text.append((aid, col, rule.max_length))
        else:
            raise Fallback(f"attribute {aid} is neither coded nor text")
    return coded, text


def _attachments(
    attr_cols: dict[str, int], ctx: ValidationContext
) -> tuple[list[tuple[str, int]], list[tuple[str, int, tuple[int, ...], bool]]]:
    """Observation-level attributes, and the others with the dimensions they attach to."""
    dsd = ctx.dsd
    levels = {a.id: dimensions_of(a.relationship, dsd) for a in dsd.attributes}
    obs_attrs, higher = [], []
    for aid in sorted(attr_cols):
        rel = levels[aid]
        if rel.level == "observation":
            obs_attrs.append((aid, attr_cols[aid]))
        else:
            wanted = set(rel.dimensions) if rel.level != "dataset" else set()
            index = tuple(i for i, d in enumerate(ctx.dimension_ids) if d in wanted)
            higher.append((aid, attr_cols[aid], index, ctx.time_dimension in wanted))
    return obs_attrs, higher


def _csv_batches(body: BinaryIO, plan: _Plan) -> Iterator[pa.RecordBatch]:
    options = pcsv.ConvertOptions(
        column_types={n: pa.string() for n in plan.names},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    try:
        reader = pcsv.open_csv(
            body,
            read_options=pcsv.ReadOptions(column_names=plan.names, block_size=BLOCK_BYTES),
            parse_options=pcsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=True),
            convert_options=options,
        )
        yield from _combined(reader)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise Fallback(f"not plain CSV: {exc}") from None


def _combined(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Consecutive batches put together into batches of at least BATCH_ROWS rows."""
    pending: list[pa.RecordBatch] = []
    rows = 0
    for batch in batches:
        pending.append(batch)
        rows += batch.num_rows
        if rows >= BATCH_ROWS:
            yield pa.concat_batches(pending)
            pending, rows = [], 0
    if pending:
        yield pa.concat_batches(pending)


def _row_batches(rows: Iterator[DataRow], plan: _Plan) -> Iterator[pa.RecordBatch]:
    """The reader's rows as batches of string columns in ``_rows_plan``'s order, an absent
    value an empty string. Rows that are not a whole observation with known components, and
    Delete rows, take the row path (an empty value sent is not an absent one: row path too)."""
    dims = [name for name, _, _ in plan.dims]
    attrs = [name for name, _ in sorted(_attr_columns(plan).items(), key=lambda item: item[1])]
    known = frozenset(attrs)
    codes = itemgetter(*dims)
    while chunk := list(islice(rows, ROW_BATCH)):
        n = len(chunk)
        keys = [r[0] for r in chunk]
        sent = [r[3] for r in chunk]
        present = set().union(*sent)
        if sum(map(len, keys)) != len(dims) * n or not present <= known:
            raise Fallback("a partial key, or a component the data structure does not have")
        try:
            key_columns = list(zip(*map(codes, keys), strict=True)) if len(dims) > 1 else None
        except KeyError:
            raise Fallback("a partial key") from None
        actions = pa.array([ACTION_CODES[r[4]] for r in chunk], pa.string())
        times = pa.array([r[1] for r in chunk], pa.string())
        if times.null_count or "D" in pc.unique(actions).to_pylist():
            raise Fallback("a Delete, or a row without a period")
        columns = [actions]
        if key_columns is None:
            columns.append(pa.array([k[dims[0]] for k in keys], pa.string()))
        else:
            columns += [pa.array(column, pa.string()) for column in key_columns]
        columns += [times, pa.array([r[2] or "" for r in chunk], pa.string())]
        empty = pa.repeat("", n)
        for name in attrs:
            if name not in present:
                columns.append(empty)
                continue
            cells = pa.array([a.get(name) for a in sent], pa.string())
            if _any(pc.equal(cells, "")):
                raise Fallback("an attribute sent empty")
            columns.append(pc.fill_null(cells, ""))
        yield pa.RecordBatch.from_arrays(columns, names=plan.names)


def _attr_columns(plan: _Plan) -> dict[str, int]:
    found = {name: col for name, col, _ in plan.coded_attrs}
    found.update((name, col) for name, col, _ in plan.text_attrs)
    return found


def _any(mask: pa.Array | pa.ChunkedArray) -> bool:
    return bool(pc.any(mask).as_py())


def _all(mask: pa.Array | pa.ChunkedArray) -> bool:
    return bool(pc.all(mask).as_py()) and mask.null_count == 0


def _check(batch: pa.RecordBatch, plan: _Plan, ctx: ValidationContext) -> set[str]:
    """Raise Fallback unless every row passes the row validator's fast path; the actions."""
    col = batch.column
    for _, index, allowed in plan.dims:
        if not _all(pc.is_in(col(index), value_set=allowed)):
            raise Fallback("a code the fast path does not allow")
    _check_structures(batch, plan)
    actions = _actions(batch, plan)
    _check_periods(batch, plan, ctx)
    value = col(plan.value_col)
    numeric = pc.match_substring_regex(value, plan.value_pattern)
    if not _all(numeric):
        missing = pc.equal(value, "")
        if plan.nan is not None:
            missing = pc.or_(missing, pc.equal(value, plan.nan))
        explained = (
            pc.is_in(col(plan.status_col), value_set=plan.missing)
            if plan.status_col >= 0
            else pa.repeat(False, batch.num_rows)
        )
        if not _all(pc.or_(numeric, pc.and_(missing, explained))):
            raise Fallback("a value that is not a number, or missing without a status")
    _check_attributes(batch, plan)
    return actions


def _check_attributes(batch: pa.RecordBatch, plan: _Plan) -> None:
    """Raise Fallback unless every attribute value passes the row validator's fast path."""
    col = batch.column
    for _, index, allowed in plan.coded_attrs:
        cells = col(index)
        if not _all(pc.or_(pc.equal(cells, ""), pc.is_in(cells, value_set=allowed))):
            raise Fallback("an attribute code the fast path does not allow")
    for _, index, limit in plan.text_attrs:
        if limit is not None and not _all(pc.less_equal(pc.utf8_length(col(index)), limit)):
            raise Fallback("an attribute longer than its limit")
        if _any(pc.match_substring_regex(pc.unique(col(index)), _CONTROL)):
            raise Fallback("a control character in an attribute value")
    for index in plan.mandatory:
        if not _all(pc.not_equal(col(index), "")):
            raise Fallback("a mandatory attribute is missing")


def _check_structures(batch: pa.RecordBatch, plan: _Plan) -> None:
    if plan.id_col < 0:
        return  # rows of a reader, which checked their structure references
    kinds = pc.unique(batch.column(plan.kind_col)).to_pylist() if plan.kind_col >= 0 else []
    for ident in pc.unique(batch.column(plan.id_col)).to_pylist():
        for kind in kinds or ["dataflow"]:
            if structure_ref(kind, ident) is None:
                raise Fallback("a STRUCTURE_ID the reader refuses")


def _actions(batch: pa.RecordBatch, plan: _Plan) -> set[str]:
    if plan.action_col < 0:
        return {"I"}
    found = set()
    for text in pc.unique(batch.column(plan.action_col)).to_pylist():
        letter = _WRITE_ACTIONS.get(text)
        if letter is None:
            raise Fallback(f"ACTION {text!r} takes the row path")
        found.add(letter)
    return found


def _check_periods(batch: pa.RecordBatch, plan: _Plan, ctx: ValidationContext) -> None:
    times = batch.column(plan.time_col)
    if plan.freq_col < 0:
        raise Fallback("no FREQ dimension")
    freqs = batch.column(plan.freq_col)
    distinct_freqs = pc.unique(freqs).to_pylist()
    if len(distinct_freqs) == 1:  # the usual case: one frequency, a few distinct periods
        found = [(distinct_freqs[0], t) for t in pc.unique(times).to_pylist()]
    else:
        pairs = pa.table({"f": freqs, "t": times}).group_by(["f", "t"]).aggregate([])
        found = [(row["f"], row["t"]) for row in pairs.to_pylist()]
    for freq, time in found:
        rule = ctx.frequency_rules.get(freq)
        if not time or rule is None or rule.problem(time) is not None:
            raise Fallback("a period the fast path does not accept")


def _stage(
    batch: pa.RecordBatch, plan: _Plan, ctx: ValidationContext, first_seq: int
) -> tuple[pa.Table, pa.Table]:
    """The batch as ``stage_obs`` and ``stage_attr`` rows (see ``storage.observations``)."""
    n = batch.num_rows
    col = batch.column
    codes = [col(index) for _, index, _ in plan.dims]
    series_key = pc.binary_join_element_wise(*codes, ".")
    period = _canonical(col(plan.time_col))
    value = col(plan.value_col)
    numbers = pc.if_else(
        pc.match_substring_regex(value, plan.value_pattern),
        value,
        pa.scalar(None, pa.string()),
    )
    action = _action_letters(col(plan.action_col)) if plan.action_col >= 0 else pa.repeat("I", n)
    null_text = pa.nulls(n, pa.string())
    obs = pa.table(
        {
            "seq": pa.array(range(first_seq + 1, first_seq + 1 + n), pa.int64()),
            "series_key": series_key,
            "pattern": null_text,
            "wildcard": pa.repeat(False, n),
            "time_period": period,
            "value": pc.cast(numbers, pa.float64()),
            "value_text": null_text,
            "value_marked": pa.repeat(False, n),
            "attrs": _obs_attrs_json(batch, plan, n),
            "action": action,
            "location": null_text,
        }
    )
    return obs, _higher_attributes(batch, plan, codes, period, action)


def _canonical(times: pa.Array) -> pa.Array:
    """Periods spelled one way (``canonical_period``), mapped over the distinct texts."""
    distinct = pc.unique(times)
    spelled = [canonical_period(t) for t in distinct.to_pylist()]
    if spelled == distinct.to_pylist():
        return times
    return pc.take(pa.array(spelled, pa.string()), pc.index_in(times, value_set=distinct))


def _action_letters(cells: pa.Array) -> pa.Array:
    distinct = pc.unique(cells)
    letters = pa.array([_WRITE_ACTIONS[a] for a in distinct.to_pylist()], pa.string())
    return pc.take(letters, pc.index_in(cells, value_set=distinct))


def _obs_attrs_json(batch: pa.RecordBatch, plan: _Plan, n: int) -> pa.Array:
    """Observation-level attributes as the row path encodes them: a JSON object, keys sorted,
    empty cells left out; null when a row has none."""
    if not plan.obs_attrs:
        return pa.nulls(n, pa.string())
    pieces = [_json_member(aid, batch.column(index)) for aid, index in plan.obs_attrs]
    # (Arrow's null_handling="skip" drops rows whose inputs are all null: join "" instead)
    joined = pc.utf8_rtrim(pc.binary_join_element_wise(*pieces, ""), ",")
    wrapped = pc.binary_join_element_wise("{", joined, "}", "")
    return pc.if_else(pc.equal(joined, ""), pa.scalar(None, pa.string()), wrapped)


def _json_member(aid: str, cells: pa.Array) -> pa.Array:
    """``"aid":"value",`` for each cell, JSON-escaped as the row path's encoder does; empty for
    an empty cell. Spelled once per distinct value: attribute values repeat."""
    encoded = pc.dictionary_encode(cells)
    distinct = encoded.dictionary
    if not _all(pc.invert(pc.match_substring_regex(distinct, _CONTROL))):
        raise Fallback("a control character in an attribute value")
    escaped = distinct
    for char, escape in _JSON_ESCAPES:
        escaped = pc.replace_substring(escaped, char, escape)
    text = pc.binary_join_element_wise(f'"{aid}":"', escaped, '",', "")
    return pc.if_else(pc.equal(distinct, ""), "", text).take(encoded.indices)


def _changed(columns: list[pa.Array], n: int) -> pa.Array:
    """Per row, whether any of ``columns`` differs from the row before (the first row does)."""
    if n < 2:
        return pa.repeat(True, n)
    changed = pa.repeat(False, n - 1)
    for column in columns:
        changed = pc.or_(changed, pc.not_equal(column.slice(1), column.slice(0, n - 1)))
    return pa.concat_arrays([pa.array([True]), pc.fill_null(changed, True)])


def _attach_keys(distinct: pa.Table, width: int, dims: tuple[int, ...], timed: bool) -> pa.Array:
    """Where each value attaches (``attachment.attach_key``): the codes of ``dims`` (columns
    ``d<i>``), the others left empty, then ``@`` and the period for values attached to it."""
    empty = pa.repeat("", distinct.num_rows)
    parts = [distinct.column(f"d{i}") if i in dims else empty for i in range(width)]
    key = pc.binary_join_element_wise(*parts, ".") if dims else empty
    if timed:
        key = pc.binary_join_element_wise(key, "@", distinct.column("period"), "")
    return key


def _higher_attributes(
    batch: pa.RecordBatch,
    plan: _Plan,
    codes: list[pa.Array],
    period: pa.Array,
    action: pa.Array,
) -> pa.Table:
    """Attribute values above observation level, once per distinct (attachment, value).

    Readers repeat series-level values on every observation: only the rows where the series,
    the action, the value (or the period, for values attached to it) change from the row
    before can bring a new (attachment, value, action), so only those go into the exact
    ``group_by``, and only the distinct ones get their attachment key spelled out.
    """
    parts: list[pa.Table] = []
    n = batch.num_rows
    moved = _changed([*codes, action], n)
    moved_timed = pc.or_(moved, _changed([period], n))
    for aid, index, dims, timed in plan.higher:
        cells = batch.column(index)
        starts = pc.or_(moved_timed if timed else moved, _changed([cells], n))
        starts = pc.and_(starts, pc.not_equal(cells, ""))
        if not _any(starts):
            continue
        sent = {f"d{i}": codes[i].filter(starts) for i in dims}
        if timed:
            sent["period"] = period.filter(starts)
        sent.update(value=cells.filter(starts), action=action.filter(starts))
        distinct = pa.table(sent).group_by(list(sent)).aggregate([])
        m = distinct.num_rows
        parts.append(
            pa.table(
                {
                    "attribute_id": pa.repeat(aid, m),
                    "attach_key": _attach_keys(distinct, len(codes), dims, timed),
                    "value": distinct.column("value"),
                    "action": distinct.column("action"),
                    "location": pa.nulls(m, pa.string()),
                }
            )
        )
    if not parts:
        return pa.table(
            {
                name: pa.array([], pa.string())
                for name in ("attribute_id", "attach_key", "value", "action", "location")
            }
        )
    return pa.concat_tables(parts)
