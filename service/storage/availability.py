"""The SQL of availability queries: what the current observations of a scope hold, summed up
per series key by the store (``GROUP BY``), never read observation by observation.

An availability answer needs, per series key, how many observations it has and its first and
last periods; the codes available for each dimension follow from the distinct series keys. A
query's time filters (``startPeriod``/``endPeriod``, ``c[TIME_PERIOD]``) are exact on periods
only: the caller evaluates them on the scope's few distinct periods (:meth:`periods`) and
passes the periods they accept (or, when shorter, those they refuse), so each series is summed
up twice in one pass: within those periods and over all of them (``mode=available`` asks
which periods remain valid whatever the time filters say).

First and last periods are the smallest and largest period texts of a series: SDMX periods of
one format (one frequency, which is a dimension of the series key) sort as text in time order.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from service.storage.data_reads import Scope, ScopeSql, stream


@dataclass(frozen=True)
class PeriodSelection:
    """The periods a query's time filters keep: those listed, or all but those listed."""

    periods: Collection[str]
    included: bool = True


@dataclass(frozen=True)
class SeriesSummary:
    """One series key's current observations: those in the selected periods, and all."""

    series_key: str
    count: int
    first: str | None
    last: str | None
    first_overall: str | None
    last_overall: str | None


class AvailabilityReads:
    """Read-only statements for availability queries. Never commits."""

    def __init__(self, session: Session, yield_per: int = 5000) -> None:
        self.conn: Connection = session.connection()
        self.yield_per = yield_per

    def periods(self, scope: Scope) -> list[str]:
        """The distinct periods of the scope's current observations."""
        sql = ScopeSql(scope, "c")
        statement = sql.statement(
            "SELECT DISTINCT c.time_period FROM observation_current c "
            f"JOIN series s ON s.pk = c.series_pk WHERE {sql.series()}"
            f"{sql.periods('c.time_period')}"
        )
        return [str(r[0]) for r in self.conn.execute(statement, sql.params)]

    def series(self, scope: Scope, selection: PeriodSelection | None) -> Iterator[SeriesSummary]:
        """Per series key of the scope with current observations, their count, first and last
        period within ``selection`` (None: every period), and first and last period overall."""
        sql = ScopeSql(scope, "c")
        within = _within(sql, selection)
        statement = sql.statement(
            f"SELECT s.series_key, count(CASE WHEN {within} THEN 1 END), "
            f"min(CASE WHEN {within} THEN c.time_period END), "
            f"max(CASE WHEN {within} THEN c.time_period END), "
            "min(c.time_period), max(c.time_period) FROM observation_current c "
            f"JOIN series s ON s.pk = c.series_pk WHERE {sql.series()}"
            f"{sql.periods('c.time_period')} GROUP BY s.series_key"
        )
        for r in stream(self.conn, statement, sql.params, self.yield_per):
            yield SeriesSummary(str(r[0]), int(r[1]), r[2], r[3], str(r[4]), str(r[5]))


def _within(sql: ScopeSql, selection: PeriodSelection | None) -> str:
    """The condition on ``c.time_period`` that the selected periods meet."""
    if selection is None or (not selection.periods and not selection.included):
        return "1 = 1"
    if not selection.periods:
        return "1 = 0"
    listed = sql.bind(sorted(selection.periods), expanding=True)
    return f"c.time_period {'IN' if selection.included else 'NOT IN'} {listed}"
