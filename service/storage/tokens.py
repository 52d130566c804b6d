"""API tokens: created once (shown once), stored as SHA-256, revoked by token or prefix."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.storage.tables import TokenRow

PREFIX = "ilms_"


@dataclass(frozen=True)
class Principal:
    """Who a valid token speaks for."""

    token_pk: int
    provider: str | None  # "ILO:THA" (agency:provider id), None for admins
    is_admin: bool
    label: str | None

    @property
    def name(self) -> str:
        return "admin" if self.is_admin else str(self.provider)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(
        self, *, provider: str | None, is_admin: bool, label: str | None = None
    ) -> tuple[str, TokenRow]:
        """A new token (returned once, never stored) and its row."""
        token = PREFIX + secrets.token_urlsafe(32)
        row = TokenRow(
            token_sha256=digest(token),
            prefix=token[: len(PREFIX) + 6],
            label=label,
            provider=provider,
            is_admin=is_admin,
            created_at=dt.datetime.now(dt.UTC),
        )
        self.session.add(row)
        self.session.flush()
        return token, row

    def authenticate(self, token: str) -> Principal | None:
        """The principal of a valid, unrevoked token; None otherwise."""
        row = self.session.scalars(
            select(TokenRow).where(TokenRow.token_sha256 == digest(token))
        ).one_or_none()
        if row is None or row.revoked_at is not None:
            return None
        return Principal(row.pk, row.provider, row.is_admin, row.label)

    def revoke(self, token_or_prefix: str) -> int:
        """Revoke the token given whole, or every active token with that prefix; how many."""
        stmt = select(TokenRow).where(TokenRow.revoked_at.is_(None))
        if token_or_prefix.startswith(PREFIX) and len(token_or_prefix) > len(PREFIX) + 6:
            stmt = stmt.where(TokenRow.token_sha256 == digest(token_or_prefix))
        else:
            stmt = stmt.where(TokenRow.prefix == token_or_prefix)
        rows = list(self.session.scalars(stmt))
        now = dt.datetime.now(dt.UTC)
        for row in rows:
            row.revoked_at = now
        return len(rows)

    def list(self) -> list[TokenRow]:
        return list(self.session.scalars(select(TokenRow).order_by(TokenRow.pk)))
