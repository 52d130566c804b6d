"""SQLAlchemy 2 tables. Alembic migrations (``alembic/versions``) are what create them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class ArtefactRow(Base):
    """One maintainable artefact, its body the msgspec JSON of its model object."""

    __tablename__ = "artefact"
    __table_args__ = (
        UniqueConstraint("type", "agency", "artefact_id", "version", name="uq_artefact_key"),
        Index("ix_artefact_type_id", "type", "artefact_id"),
    )

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(32))
    agency: Mapped[str] = mapped_column(String(255))
    artefact_id: Mapped[str] = mapped_column(String(255))
    version: Mapped[str] = mapped_column(String(64))
    is_final: Mapped[bool] = mapped_column(Boolean)
    body: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ReferenceRow(Base):
    """A reference from one stored artefact to another (stored or not): for ``parents``."""

    __tablename__ = "artefact_reference"
    __table_args__ = (
        Index("ix_reference_target", "target_type", "target_agency", "target_id", "target_version"),
    )

    source_pk: Mapped[int] = mapped_column(
        ForeignKey("artefact.pk", ondelete="CASCADE"), primary_key=True
    )
    target_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    target_agency: Mapped[str] = mapped_column(String(255), primary_key=True)
    target_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    target_version: Mapped[str] = mapped_column(String(64), primary_key=True)
