"""Observation storage: staging an upload, then applying it to the history in one transaction.

``observation`` holds every version of every observation; the current one of a (series,
period) is the version not superseded (``superseded_at`` null; a unique partial index keeps it
single), and the ``observation_current`` view shows the current non-deleted ones. An upload's
rows for series it creates are written straight into ``observation`` (one COPY per batch on
PostgreSQL: nothing to compare with); its other rows are staged (COPY into temporary tables;
batched inserts on SQLite) and set-based statements compare them with the current versions,
append new versions and mark the versions they replace as superseded. Nothing accepted is
rewritten: a deletion is a tombstone version.

Action semantics (see README, "Actions"):
- I, A, M: insert or update; a value or attribute the row leaves out keeps its stored value.
- R: the observations sent replace the stored ones whole (observation attributes left out are
  removed); attribute values sent at higher levels replace the stored ones.
- D: delete at the lowest level the row gives: a whole series or slice (time left out, no
  attributes), one observation (full key and time), only the attributes marked, or only the
  measure when the value is marked.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.csv as pcsv
from sqlalchemy import Connection, insert, text
from sqlalchemy.orm import Session

from service.model import DataStructure
from service.storage.tables import ObservationRow

#: One staged observation row, in ``stage_obs`` column order.
StagedObs = tuple[
    int,  # seq
    str,  # series_key: the codes in DSD order joined by "." (empty parts when wildcarded)
    str,  # pattern: the key as a LIKE pattern (escaped codes, "%" for wildcarded parts)
    bool,  # wildcard: some key parts are missing (only allowed on Delete rows)
    str | None,  # time_period
    float | None,  # value
    str | None,  # value_text
    bool,  # value_marked: a Delete row marking the measure for deletion
    str | None,  # attrs: JSON object (a merge patch: null deletes a key)
    str,  # action
    str,  # location
]
#: One staged attribute value above observation level, in ``stage_attr`` column order.
StagedAttr = tuple[str, str, str | None, str, str]  # attribute, attach_key, value, action, loc

_OBS_COLUMNS = (
    "seq, series_key, pattern, wildcard, time_period, value, value_text, value_marked, attrs, "
    "action, location"
)
_ATTR_COLUMNS = "attribute_id, attach_key, value, action, location"
#: Observations written straight into the history past which PostgreSQL's statistics are
#: refreshed before the statements that read them.
_ANALYZE_AFTER = 50_000
_FRESH_COLUMNS = (
    "series_pk, time_period, value, value_text, attrs, deleted, recorded_at, submission_pk"
)


@dataclass
class ApplyCounts:
    series_inserted: int = 0
    observations_inserted: int = 0
    observations_updated: int = 0
    observations_deleted: int = 0
    observations_unchanged: int = 0
    attributes_inserted: int = 0
    attributes_updated: int = 0
    attributes_deleted: int = 0
    attributes_unchanged: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


class _Dialect:
    """The few statements that differ between PostgreSQL and SQLite."""

    def __init__(self, name: str) -> None:
        self.pg = name == "postgresql"
        self.temp = "CREATE TEMP TABLE"
        self.on_commit = " ON COMMIT DROP" if self.pg else ""
        self.bool_true = "TRUE" if self.pg else "1"
        self.bool_false = "FALSE" if self.pg else "0"
        self.double = "DOUBLE PRECISION" if self.pg else "REAL"

    def same(self, a: str, b: str) -> str:
        return f"{a} IS NOT DISTINCT FROM {b}" if self.pg else f"{a} IS {b}"

    def merge(self, current: str, patch: str) -> str:
        """JSON merge patch of flat objects (a null in ``patch`` removes the key)."""
        if self.pg:
            return (
                f"NULLIF(jsonb_strip_nulls(COALESCE({current}::jsonb, '{{}}'::jsonb) "
                f"|| COALESCE({patch}::jsonb, '{{}}'::jsonb))::text, '{{}}')"
            )
        return f"NULLIF(json_patch(COALESCE({current}, '{{}}'), COALESCE({patch}, '{{}}')), '{{}}')"

    def strip_nulls(self, attrs: str) -> str:
        if self.pg:
            return f"NULLIF(jsonb_strip_nulls({attrs}::jsonb)::text, '{{}}')"
        return f"NULLIF(json_patch('{{}}', COALESCE({attrs}, '{{}}')), '{{}}')"

    def same_json(self, a: str, b: str) -> str:
        if self.pg:
            return f"{a}::jsonb IS NOT DISTINCT FROM {b}::jsonb"
        return f"{a} IS {b}"


class ObservationStore:
    """All SQL on data. Never commits: the caller owns the transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.conn: Connection = session.connection()
        self.d = _Dialect(self.conn.dialect.name)
        #: What ``insert_fresh`` wrote (series created, observations inserted): ``apply`` adds it.
        self.fresh = ApplyCounts()
        self._fresh_at_savepoint = ApplyCounts()

    # --- data sets ---------------------------------------------------------------------------

    def dataset(self, dsd: DataStructure, *, lock: bool = False) -> int:
        """The data set of a DSD (created on first use); ``lock`` serialises writers on it."""
        params = {"a": dsd.agency, "i": dsd.id, "v": dsd.version}
        dims = msgspec.json.encode([d.id for d in dsd.key_dimensions]).decode()
        self._exec(
            "INSERT INTO dataset (agency, dsd_id, version, dimensions) "
            "VALUES (:a, :i, :v, :dims) ON CONFLICT (agency, dsd_id, version) DO NOTHING",
            {**params, "dims": dims},
        )
        lock_sql = " FOR UPDATE" if lock and self.d.pg else ""
        found = self._exec(
            "SELECT pk FROM dataset WHERE agency = :a AND dsd_id = :i AND version = :v" + lock_sql,
            params,
        ).scalar_one()
        return int(found)

    # --- staging -----------------------------------------------------------------------------

    def begin_staging(self) -> None:
        d = self.d
        self._exec("DROP TABLE IF EXISTS stage_obs")
        self._exec("DROP TABLE IF EXISTS stage_attr")
        self._exec(
            f"{d.temp} stage_obs (seq INTEGER, series_key TEXT, pattern TEXT, wildcard BOOLEAN, "
            f"time_period TEXT, value {d.double}, value_text TEXT, value_marked BOOLEAN, "
            f"attrs TEXT, action CHAR(1), location TEXT){d.on_commit}"
        )
        self._exec(
            f"{d.temp} stage_attr (attribute_id TEXT, attach_key TEXT, value TEXT, "
            f"action CHAR(1), location TEXT){d.on_commit}"
        )

    def stage_observations(self, rows: Sequence[StagedObs]) -> None:
        self._stage("stage_obs", _OBS_COLUMNS, rows)

    def stage_attributes(self, rows: Sequence[StagedAttr]) -> None:
        self._stage("stage_attr", _ATTR_COLUMNS, rows)

    def savepoint(self) -> None:
        """Remember this point of the transaction (the columnar path may have to undo)."""
        self.conn.exec_driver_sql("SAVEPOINT columnar")
        self._fresh_at_savepoint = ApplyCounts(**self.fresh.as_dict())

    def rollback_to_savepoint(self) -> None:
        self.conn.exec_driver_sql("ROLLBACK TO SAVEPOINT columnar")
        self.fresh = self._fresh_at_savepoint

    # --- series an upload creates: their observations go straight into the history ------------

    def create_series(self, dataset_pk: int, keys: list[str]) -> dict[str, int]:
        """Create the series among ``keys`` that do not exist yet: their pks by key."""
        if not keys:
            return {}
        # one statement, the keys as one array parameter (PostgreSQL) or JSON text (SQLite)
        param: list[str] | str = keys
        if self.d.pg:
            keys_sql = "SELECT unnest(CAST(:keys AS TEXT[])) AS series_key"
        else:
            keys_sql = "SELECT value AS series_key FROM json_each(:keys)"
            param = msgspec.json.encode(keys).decode()
        rows = self._exec(
            "INSERT INTO series (dataset_pk, series_key) SELECT :ds, k.series_key "
            f"FROM ({keys_sql}) k WHERE NOT EXISTS (SELECT 1 FROM series x "
            "WHERE x.dataset_pk = :ds AND x.series_key = k.series_key) "
            "RETURNING pk, series_key",
            {"ds": dataset_pk, "keys": param},
        ).all()
        self.fresh.series_inserted += len(rows)
        return {r[1]: int(r[0]) for r in rows}

    def insert_fresh(self, rows: pa.Table, recorded: dt.datetime, submission_pk: int) -> None:
        """Insert first versions of observations of series this upload created: columns
        series_pk, time_period, value, value_text, attrs. A key sent twice violates the unique
        index of current versions (the caller falls back to the row path, which reports it)."""
        n = rows.num_rows
        if n == 0:
            return
        self.fresh.observations_inserted += n
        if self.d.pg:
            table = (
                rows.append_column("deleted", pa.repeat(False, n))
                .append_column("recorded_at", pa.repeat(recorded.isoformat(), n))
                .append_column("submission_pk", pa.repeat(submission_pk, n))
            )
            cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            sql = f"COPY observation ({_FRESH_COLUMNS}) FROM STDIN (FORMAT csv)"
            with cursor.copy(sql) as copy:
                copy.write(_csv_bytes(table))
            cursor.close()
            return
        fixed = {"deleted": False, "recorded_at": recorded, "submission_pk": submission_pk}
        self.conn.execute(insert(ObservationRow), [{**row, **fixed} for row in rows.to_pylist()])

    def refresh_statistics(self) -> None:
        """PostgreSQL: update the planner's statistics after a bulk write, inside the
        transaction (ANALYZE counts its own uncommitted rows), so that the statements that
        follow look rows up by index instead of scanning a table it believes is small."""
        if self.d.pg and self.fresh.observations_inserted >= _ANALYZE_AFTER:
            self._exec("ANALYZE observation")
            self._exec("ANALYZE series")
        if self.d.pg:
            self._exec("ANALYZE stage_obs")

    def staged_meets_fresh(self, dataset_pk: int, submission_pk: int) -> bool:
        """Whether a staged row has the key of an observation ``insert_fresh`` wrote: the
        same key sent twice in one message (the row path reports it)."""
        found = self._exec(
            "SELECT 1 FROM stage_obs s JOIN series sr ON sr.dataset_pk = :ds "
            "AND sr.series_key = s.series_key JOIN observation o ON o.series_pk = sr.pk "
            "AND o.time_period = s.time_period AND o.superseded_at IS NULL "
            "AND o.submission_pk = :sub LIMIT 1",
            {"ds": dataset_pk, "sub": submission_pk},
        ).first()
        return found is not None

    def stage_columns(self, obs: pa.Table, attrs: pa.Table) -> None:
        """Stage Arrow tables whose columns are ``stage_obs``'s and ``stage_attr``'s, in order
        (the columnar upload path): one COPY each on PostgreSQL."""
        for table, columns, rows in (
            ("stage_obs", _OBS_COLUMNS, obs),
            ("stage_attr", _ATTR_COLUMNS, attrs),
        ):
            if rows.num_rows == 0:
                continue
            if self.d.pg:
                cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
                sql = f"COPY {table} ({columns}) FROM STDIN (FORMAT csv)"
                with cursor.copy(sql) as copy:
                    copy.write(_csv_bytes(rows))
                cursor.close()
            else:
                values = list(zip(*(c.to_pylist() for c in rows.columns), strict=True))
                self._stage(table, columns, values)

    def _stage(self, table: str, columns: str, rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if self.d.pg:
            cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.close()
            return
        marks = ", ".join("?" for _ in columns.split(","))
        self.conn.exec_driver_sql(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)

    # --- checks that need every staged row -----------------------------------------------------

    def duplicate_observations(self, limit: int) -> list[tuple[str, str, int, str]]:
        """(series key, period, count, first location) of keys sent more than once."""
        rows = self._exec(
            "SELECT d.series_key, d.time_period, d.n, s.location FROM ("
            "SELECT series_key, time_period, COUNT(*) AS n, MIN(seq) AS first FROM stage_obs "
            "WHERE time_period IS NOT NULL AND NOT wildcard "
            "GROUP BY series_key, time_period HAVING COUNT(*) > 1 "
            "ORDER BY MIN(seq) LIMIT :n) d JOIN stage_obs s ON s.seq = d.first "
            "ORDER BY d.first",
            {"n": limit},
        )
        return [(r[0], r[1], int(r[2]), r[3]) for r in rows]

    def conflicting_attributes(self, limit: int) -> list[tuple[str, str, int, str]]:
        """(attribute, attach key, distinct values, a location) sent with different values."""
        rows = self._exec(
            "SELECT attribute_id, attach_key, COUNT(DISTINCT COALESCE(value, '')), "
            "MIN(location) FROM stage_attr GROUP BY attribute_id, attach_key, action "
            "HAVING COUNT(DISTINCT COALESCE(value, '')) > 1 LIMIT :n",
            {"n": limit},
        )
        return [(r[0], r[1], int(r[2]), r[3]) for r in rows]

    # --- apply -------------------------------------------------------------------------------

    def apply(self, dataset_pk: int, submission_pk: int, now: dt.datetime) -> ApplyCounts:
        """Apply everything staged to the history and the current state. One transaction."""
        counts = ApplyCounts()
        p = {"ds": dataset_pk, "sub": submission_pk, "now": now}
        counts.series_inserted = self._insert_series(p) + self.fresh.series_inserted
        counts.observations_inserted = self.fresh.observations_inserted
        self._observation_changes(p)
        self._count_observation_changes(counts)
        self._supersede("SELECT latest_pk FROM changes WHERE kind IN ('i', 'c', 'd')", p)
        self._write_observation_versions(p)
        counts.observations_deleted += self._delete_slices(p)
        self._apply_attributes(p, counts)
        self._exec("UPDATE dataset SET last_changed = :now WHERE pk = :ds", p)
        if self.d.pg and counts.attributes_inserted >= _ANALYZE_AFTER // 50:
            self._exec("ANALYZE attribute_current")  # queries join it on computed keys
        return counts

    def _insert_series(self, p: dict[str, Any]) -> int:
        result = self._exec(
            "INSERT INTO series (dataset_pk, series_key) "
            "SELECT DISTINCT :ds, s.series_key FROM stage_obs s "
            "WHERE NOT s.wildcard AND s.action <> 'D' AND s.time_period IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM series x WHERE x.dataset_pk = :ds "
            "AND x.series_key = s.series_key)",
            p,
        )
        return int(result.rowcount or 0)

    def _observation_changes(self, p: dict[str, Any]) -> None:
        """``changes``: one row per staged observation with its new version and its kind."""
        d = self.d
        new_value = (
            "CASE WHEN s.action = 'R' THEN s.value "
            "WHEN s.action = 'D' THEN CASE WHEN s.value_marked THEN NULL ELSE c.value END "
            "WHEN s.value IS NULL AND s.value_text IS NULL THEN c.value ELSE s.value END"
        )
        new_text = (
            "CASE WHEN s.action = 'R' THEN s.value_text "
            "WHEN s.action = 'D' THEN CASE WHEN s.value_marked THEN NULL ELSE c.value_text END "
            "WHEN s.value IS NULL AND s.value_text IS NULL THEN c.value_text "
            "ELSE s.value_text END"
        )
        new_attrs = (
            f"CASE WHEN s.action = 'R' THEN {d.strip_nulls('s.attrs')} "
            f"ELSE {d.merge('c.attrs', 's.attrs')} END"
        )
        tombstone = "(s.action = 'D' AND NOT s.value_marked AND s.attrs IS NULL)"
        unchanged = (
            f"{d.same('x.value', 'x.cur_value')} AND {d.same('x.value_text', 'x.cur_text')} "
            f"AND {d.same_json('x.attrs', 'x.cur_attrs')}"
        )
        kind = (
            "CASE WHEN x.tombstone AND x.current_pk IS NULL THEN 'n' "  # nothing to delete
            "WHEN x.tombstone THEN 'd' "
            "WHEN x.current_pk IS NULL AND x.action = 'D' THEN 'n' "
            "WHEN x.current_pk IS NULL THEN 'i' "
            f"WHEN {unchanged} THEN 'u' ELSE 'c' END"
        )
        self._exec("DROP TABLE IF EXISTS changes")
        self._exec(
            f"{d.temp} changes{d.on_commit} AS SELECT x.*, {kind} AS kind FROM ("
            f"SELECT sr.pk AS series_pk, s.time_period, s.action, {tombstone} AS tombstone, "
            f"o.pk AS latest_pk, c.pk AS current_pk, c.value AS cur_value, "
            "c.value_text AS cur_text, "
            f"c.attrs AS cur_attrs, {new_value} AS value, {new_text} AS value_text, "
            f"{new_attrs} AS attrs "
            "FROM stage_obs s JOIN series sr ON sr.dataset_pk = :ds "
            "AND sr.series_key = s.series_key "
            "LEFT JOIN observation o ON o.series_pk = sr.pk "
            "AND o.time_period = s.time_period AND o.superseded_at IS NULL "
            f"LEFT JOIN observation c ON c.pk = o.pk AND c.deleted = {d.bool_false} "
            "WHERE s.time_period IS NOT NULL AND NOT s.wildcard) x",
            p,
        )

    def _count_observation_changes(self, counts: ApplyCounts) -> None:
        for kind, n in self._exec("SELECT kind, COUNT(*) FROM changes GROUP BY kind"):
            if kind == "i":
                counts.observations_inserted += int(n)
            elif kind == "c":
                counts.observations_updated = int(n)
            elif kind == "d":
                counts.observations_deleted = int(n)
            else:
                counts.observations_unchanged += int(n)

    def _write_observation_versions(self, p: dict[str, Any]) -> None:
        d = self.d
        self._exec(
            "INSERT INTO observation (series_pk, time_period, value, value_text, attrs, "
            "deleted, recorded_at, submission_pk) "
            f"SELECT series_pk, time_period, CASE WHEN kind = 'd' THEN NULL ELSE value END, "
            f"CASE WHEN kind = 'd' THEN NULL ELSE value_text END, "
            f"CASE WHEN kind = 'd' THEN NULL ELSE attrs END, "
            f"CASE WHEN kind = 'd' THEN {d.bool_true} ELSE {d.bool_false} END, :now, :sub "
            "FROM changes WHERE kind IN ('i', 'c', 'd')",
            p,
        )

    def _supersede(self, pks: str, p: dict[str, Any]) -> None:
        """Mark the versions whose pks ``pks`` selects as no longer current."""
        self._exec(
            f"UPDATE observation SET superseded_at = :now WHERE pk IN ({pks}) "
            "AND superseded_at IS NULL",
            p,
        )

    def _delete_slices(self, p: dict[str, Any]) -> int:
        """Delete rows without a period: whole series, or every series a wildcard key matches."""
        d = self.d
        self._exec("DROP TABLE IF EXISTS doomed")
        self._exec(
            f"{d.temp} doomed{d.on_commit} AS SELECT c.pk, c.series_pk, c.time_period "
            "FROM observation c WHERE c.superseded_at IS NULL "
            f"AND c.deleted = {d.bool_false} AND c.series_pk IN ("
            "SELECT sr.pk FROM stage_obs s JOIN series sr ON sr.dataset_pk = :ds AND ("
            "(NOT s.wildcard AND sr.series_key = s.series_key) OR "
            "(s.wildcard AND sr.series_key LIKE s.pattern ESCAPE '\\')) "
            "WHERE s.action = 'D' AND s.time_period IS NULL AND s.attrs IS NULL "
            "AND NOT s.value_marked) "
            "AND NOT EXISTS (SELECT 1 FROM changes x WHERE x.series_pk = c.series_pk "
            "AND x.time_period = c.time_period AND x.kind IN ('i', 'c', 'd'))",
            p,
        )
        self._supersede("SELECT pk FROM doomed", p)
        result = self._exec(
            "INSERT INTO observation (series_pk, time_period, value, value_text, attrs, "
            "deleted, recorded_at, submission_pk) "
            f"SELECT series_pk, time_period, NULL, NULL, NULL, {d.bool_true}, :now, :sub "
            "FROM doomed",
            p,
        )
        return int(result.rowcount or 0)

    # --- attribute values above observation level ----------------------------------------------

    def _apply_attributes(self, p: dict[str, Any], counts: ApplyCounts) -> None:
        d = self.d
        self._exec("DROP TABLE IF EXISTS attr_changes")
        self._exec(
            f"{d.temp} attr_changes{d.on_commit} AS "
            # a value is set the same way by every action but Delete: one row per value
            "SELECT DISTINCT s.attribute_id, s.attach_key, s.value, "
            "CASE WHEN s.action = 'D' THEN 'D' ELSE 'I' END AS action, "
            "c.attribute_value_pk AS current_pk, c.value AS cur_value "
            "FROM stage_attr s LEFT JOIN attribute_current c ON c.dataset_pk = :ds "
            "AND c.attribute_id = s.attribute_id AND c.attach_key = s.attach_key",
            p,
        )
        self._exec("ALTER TABLE attr_changes ADD COLUMN kind CHAR(1)")
        self._exec(
            "UPDATE attr_changes SET kind = CASE "
            "WHEN action = 'D' AND current_pk IS NULL THEN 'n' WHEN action = 'D' THEN 'd' "
            "WHEN current_pk IS NULL THEN 'i' "
            f"WHEN {d.same('value', 'cur_value')} THEN 'u' ELSE 'c' END"
        )
        self._attribute_slices(p)
        for kind, n in self._exec("SELECT kind, COUNT(*) FROM attr_changes GROUP BY kind"):
            setattr(counts, _ATTR_COUNT[kind], getattr(counts, _ATTR_COUNT[kind]) + int(n))
        self._exec(
            "INSERT INTO attribute_value (dataset_pk, attribute_id, attach_key, value, deleted, "
            "recorded_at, submission_pk) "
            "SELECT :ds, attribute_id, attach_key, CASE WHEN kind = 'd' THEN NULL ELSE value END, "
            f"CASE WHEN kind = 'd' THEN {d.bool_true} ELSE {d.bool_false} END, :now, :sub "
            "FROM attr_changes WHERE kind IN ('i', 'c', 'd')",
            p,
        )
        if counts.attributes_deleted:
            self._exec(
                "DELETE FROM attribute_current WHERE dataset_pk = :ds AND "
                "(attribute_id, attach_key) IN (SELECT attribute_id, attach_key FROM "
                f"attribute_value WHERE submission_pk = :sub AND deleted = {d.bool_true})",
                p,
            )
        self._exec(
            "INSERT INTO attribute_current (dataset_pk, attribute_id, attach_key, "
            "attribute_value_pk, value, recorded_at) "
            "SELECT v.dataset_pk, v.attribute_id, v.attach_key, v.pk, v.value, v.recorded_at "
            f"FROM attribute_value v WHERE v.submission_pk = :sub AND v.deleted = {d.bool_false} "
            "ON CONFLICT (dataset_pk, attribute_id, attach_key) DO UPDATE SET "
            "attribute_value_pk = excluded.attribute_value_pk, value = excluded.value, "
            "recorded_at = excluded.recorded_at",
            p,
        )

    def _attribute_slices(self, p: dict[str, Any]) -> None:
        """A series or slice deletion also deletes the attribute values inside that slice."""
        self._exec(
            "INSERT INTO attr_changes (attribute_id, attach_key, value, action, current_pk, "
            "cur_value, kind) "
            "SELECT c.attribute_id, c.attach_key, NULL, 'D', c.attribute_value_pk, c.value, 'd' "
            "FROM attribute_current c JOIN stage_obs s ON s.action = 'D' "
            "AND s.time_period IS NULL AND s.attrs IS NULL AND NOT s.value_marked "
            "AND c.attach_key LIKE s.pattern || '%' ESCAPE '\\' "
            "WHERE c.dataset_pk = :ds AND NOT EXISTS (SELECT 1 FROM attr_changes x "
            "WHERE x.attribute_id = c.attribute_id AND x.attach_key = c.attach_key)",
            p,
        )

    # --- reading (tests and the CLI; data queries read through storage.data_reads) ----------

    def current(
        self, dsd: DataStructure
    ) -> list[tuple[str, str, float | None, str | None, str | None]]:
        """Every current observation of a DSD: (series key, period, value, text, attrs JSON)."""
        rows = self._exec(
            "SELECT sr.series_key, c.time_period, c.value, c.value_text, c.attrs "
            "FROM observation_current c JOIN series sr ON sr.pk = c.series_pk "
            "JOIN dataset ds ON ds.pk = sr.dataset_pk "
            "WHERE ds.agency = :a AND ds.dsd_id = :i AND ds.version = :v "
            "ORDER BY sr.series_key, c.time_period",
            {"a": dsd.agency, "i": dsd.id, "v": dsd.version},
        )
        return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def history(
        self, dsd: DataStructure
    ) -> list[tuple[str, str, float | None, str | None, bool, int]]:
        """Every version of every observation: (key, period, value, attrs, deleted, submission)."""
        rows = self._exec(
            "SELECT sr.series_key, o.time_period, o.value, o.attrs, o.deleted, o.submission_pk "
            "FROM observation o JOIN series sr ON sr.pk = o.series_pk "
            "JOIN dataset ds ON ds.pk = sr.dataset_pk "
            "WHERE ds.agency = :a AND ds.dsd_id = :i AND ds.version = :v "
            "ORDER BY sr.series_key, o.time_period, o.pk",
            {"a": dsd.agency, "i": dsd.id, "v": dsd.version},
        )
        return [(r[0], r[1], r[2], r[3], bool(r[4]), int(r[5])) for r in rows]

    def current_attributes(self, dsd: DataStructure) -> list[tuple[str, str, str | None]]:
        """Current attribute values above observation level: (attribute, attach key, value)."""
        rows = self._exec(
            "SELECT c.attribute_id, c.attach_key, c.value FROM attribute_current c "
            "JOIN dataset ds ON ds.pk = c.dataset_pk "
            "WHERE ds.agency = :a AND ds.dsd_id = :i AND ds.version = :v "
            "ORDER BY c.attribute_id, c.attach_key",
            {"a": dsd.agency, "i": dsd.id, "v": dsd.version},
        )
        return [(r[0], r[1], r[2]) for r in rows]

    def drop_staging(self) -> None:
        for table in ("stage_obs", "stage_attr", "changes", "doomed", "attr_changes"):
            self._exec(f"DROP TABLE IF EXISTS {table}")

    def _exec(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        return self.conn.execute(text(sql), params or {})


_ATTR_COUNT = {
    "i": "attributes_inserted",
    "c": "attributes_updated",
    "d": "attributes_deleted",
    "u": "attributes_unchanged",
    "n": "attributes_unchanged",
}


def like_pattern(parts: Iterable[str | None]) -> str:
    """A LIKE pattern for a key whose missing parts (None or "") match any code."""
    return ".".join(
        "%" if not p else p.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        for p in parts
    )


def _csv_bytes(table: pa.Table) -> bytes:
    """A table as headerless CSV for ``COPY ... (FORMAT csv)``: strings quoted, nulls empty."""
    sink = io.BytesIO()
    # (one chunk per column: Arrow 25 writes garbage for empty chunks of some arrays)
    pcsv.write_csv(table.combine_chunks(), sink, pcsv.WriteOptions(include_header=False))
    return sink.getvalue()
