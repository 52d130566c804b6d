"""Submission records: who sent what, when, what it changed, and whether it was accepted."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Final

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.storage.tables import SubmissionRow, as_utc

#: The largest offset the stores take (a 64-bit signed integer): larger ones overflow
#: SQLite's INTEGER and PostgreSQL's BIGINT.
MAX_OFFSET: Final = 2**63 - 1
#: The range of submission ids (PostgreSQL's INTEGER, 32 bits): the stores cannot compare an
#: id beyond it with the key.
_IDS: Final = range(-(2**31), 2**31)


class SubmissionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(self, **fields: Any) -> SubmissionRow:
        row = SubmissionRow(**fields)
        self.session.add(row)
        self.session.flush()
        return row

    def get(self, pk: int) -> SubmissionRow | None:
        """The submission ``pk``; None if there is none (or ``pk`` is beyond any key)."""
        if pk not in _IDS:
            return None
        return self.session.get(SubmissionRow, pk)

    def search(
        self,
        *,
        provider: str | None = None,
        dataflow: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        status: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> Sequence[SubmissionRow]:
        """The submissions that match, newest first; ``since`` and ``until`` in UTC (SQLite
        keeps naive UTC instants, and would compare the clock of another offset)."""
        stmt = select(SubmissionRow).order_by(SubmissionRow.pk.desc())
        if provider is not None:
            stmt = stmt.where(SubmissionRow.provider == provider)
        if dataflow is not None:
            stmt = stmt.where(SubmissionRow.dataflow == dataflow)
        if since is not None:
            stmt = stmt.where(SubmissionRow.received_at >= since)
        if until is not None:
            stmt = stmt.where(SubmissionRow.received_at < until)
        if status is not None:
            stmt = stmt.where(SubmissionRow.status == status)
        return list(self.session.scalars(stmt.limit(limit).offset(offset)))


def as_dict(row: SubmissionRow) -> dict[str, Any]:
    """A submission record as the API shows it."""
    return {
        "id": row.pk,
        "status": row.status,
        "receivedAt": _instant(row.received_at),
        "finishedAt": _instant(row.finished_at),
        "provider": row.provider,
        "dataflow": row.dataflow,
        "actions": row.actions.split(",") if row.actions else [],
        "mediaType": row.media_type,
        "contentSha256": row.content_sha256,
        "sizeBytes": row.size_bytes,
        "counts": msgspec.json.decode(row.counts) if row.counts else {},
        "report": msgspec.json.decode(row.report) if row.report else None,
        "durationMs": row.duration_ms,
    }


def _instant(value: dt.datetime | None) -> str | None:
    """An instant in UTC with its offset, whatever the store (SQLite keeps naive UTC)."""
    found = as_utc(value)
    return None if found is None else found.isoformat()
