"""SQLAlchemy 2 tables. Alembic migrations (``alembic/versions``) are what create them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from service.instants import in_utc


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """A stored timestamp in UTC: SQLite gives naive UTC, PostgreSQL the session's offset
    (clamped as :func:`service.instants.in_utc` does)."""
    return None if value is None else in_utc(value)


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


# --- data (observations, attributes, their full history) ---------------------------------------
# Data are stored per data structure, not per dataflow: dataflows over one DSD share
# observations (ILMS tables 5, 6 and 7 share the total of employed migrants). History is
# append-only (``observation``, ``attribute_value``): every accepted change is a new row with
# the instant it was recorded and the submission that made it; a deletion is a row with
# ``deleted`` set. A version is current until the next one of its key supersedes it
# (``observation.superseded_at``); ``attribute_current`` indexes the latest attribute values.
# The observation tables carry no foreign keys: PostgreSQL checks them row by row, which halves
# bulk-load speed, and the loader (storage/observations.py), their only writer, creates series
# and submissions before it refers to them.

BigId = BigInteger().with_variant(Integer(), "sqlite")


class DatasetRow(Base):
    __tablename__ = "dataset"
    __table_args__ = (UniqueConstraint("agency", "dsd_id", "version", name="uq_dataset_dsd"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agency: Mapped[str] = mapped_column(String(255))
    dsd_id: Mapped[str] = mapped_column(String(255))
    version: Mapped[str] = mapped_column(String(64))
    #: The key dimension ids in DSD order (JSON list): how series keys are spelled.
    dimensions: Mapped[str] = mapped_column(Text)
    last_changed: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class SeriesRow(Base):
    __tablename__ = "series"
    __table_args__ = (UniqueConstraint("dataset_pk", "series_key", name="uq_series_key"),)

    pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dataset_pk: Mapped[int] = mapped_column(ForeignKey("dataset.pk", ondelete="CASCADE"))
    #: The codes of the key dimensions in DSD order, joined by ".".
    series_key: Mapped[str] = mapped_column(Text)


class ObservationRow(Base):
    """One version of an observation. The current version of a (series, period) is the one
    not superseded (``superseded_at`` null); a deletion is a version with ``deleted`` set."""

    __tablename__ = "observation"
    __table_args__ = (
        # one current version per key; serves current data by series, in period order
        Index(
            "ix_observation_current",
            "series_pk",
            "time_period",
            unique=True,
            postgresql_where=text("superseded_at IS NULL"),
            sqlite_where=text("superseded_at IS NULL"),
        ),
        # the superseded versions of a key (asOf, includeHistory); empty after a first load
        Index(
            "ix_observation_superseded",
            "series_pk",
            "time_period",
            "pk",
            postgresql_where=text("superseded_at IS NOT NULL"),
            sqlite_where=text("superseded_at IS NOT NULL"),
        ),
        # insertion-ordered columns: BRIN on PostgreSQL (tiny, cheap to maintain on bulk loads)
        Index("ix_observation_recorded", "recorded_at", postgresql_using="brin"),
        Index("ix_observation_submission", "submission_pk", postgresql_using="brin"),
    )

    pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    series_pk: Mapped[int] = mapped_column(BigId)
    time_period: Mapped[str] = mapped_column(String(64))
    value: Mapped[float | None] = mapped_column(Float)
    #: The measure as sent when it is not a number (a DSD with a text measure).
    value_text: Mapped[str | None] = mapped_column(Text)
    #: Observation-level attribute values, JSON object.
    attrs: Mapped[str | None] = mapped_column(Text)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    submission_pk: Mapped[int] = mapped_column(Integer)
    #: When the next version of the key was recorded; null while this one is current.
    superseded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


#: The current, non-deleted version of every observation: a view over ``observation``
#: (migration 0003), declared on its own metadata so that schema comparisons leave it alone.
VIEWS = MetaData()
observation_current = Table(
    "observation_current",
    VIEWS,
    Column("series_pk", BigId),
    Column("time_period", String(64)),
    Column("observation_pk", BigId),
    Column("value", Float),
    Column("value_text", Text),
    Column("attrs", Text),
    Column("recorded_at", DateTime(timezone=True)),
)


class AttributeValueRow(Base):
    """An attribute value above observation level (data set, group, dimension subset)."""

    __tablename__ = "attribute_value"
    __table_args__ = (
        Index("ix_attribute_value_key", "dataset_pk", "attribute_id", "attach_key", "pk"),
        Index("ix_attribute_value_recorded", "recorded_at", postgresql_using="brin"),
        Index("ix_attribute_value_submission", "submission_pk", postgresql_using="brin"),
    )

    pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dataset_pk: Mapped[int] = mapped_column(ForeignKey("dataset.pk", ondelete="CASCADE"))
    attribute_id: Mapped[str] = mapped_column(String(255))
    #: The codes of the dimensions the attribute attaches to, in DSD order, "." joined, with
    #: empty parts for the others; "@" and the period when it attaches to TIME_PERIOD too;
    #: "" for the data set level.
    attach_key: Mapped[str] = mapped_column(Text)
    value: Mapped[str | None] = mapped_column(Text)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    submission_pk: Mapped[int] = mapped_column(ForeignKey("submission.pk"))


class AttributeCurrentRow(Base):
    __tablename__ = "attribute_current"

    dataset_pk: Mapped[int] = mapped_column(
        ForeignKey("dataset.pk", ondelete="CASCADE"), primary_key=True
    )
    attribute_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    attach_key: Mapped[str] = mapped_column(Text, primary_key=True)
    attribute_value_pk: Mapped[int] = mapped_column(BigId)
    value: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class SubmissionRow(Base):
    """Every data submission, accepted or not: the audit trail."""

    __tablename__ = "submission"
    __table_args__ = (
        Index("ix_submission_received", "received_at"),
        Index("ix_submission_dataflow", "dataflow"),
    )

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: accepted, rejected, dry_run or failed.
    status: Mapped[str] = mapped_column(String(16))
    #: Who: the provider ("ILO:DATA_PROVIDERS(1.0).THA") or "admin", and the token used.
    provider: Mapped[str | None] = mapped_column(String(255))
    token_pk: Mapped[int | None] = mapped_column(Integer)
    dataflow: Mapped[str] = mapped_column(String(255))
    actions: Mapped[str] = mapped_column(String(32))
    media_type: Mapped[str] = mapped_column(String(255))
    content_sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    #: JSON: series and observations inserted, updated, deleted, unchanged.
    counts: Mapped[str] = mapped_column(Text)
    #: JSON: the validation report (problems), when there were any.
    report: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[float | None] = mapped_column(Float)


class TokenRow(Base):
    """An API token. Only its SHA-256 is stored; the token itself is shown once, at creation."""

    __tablename__ = "api_token"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    #: The first characters of the token, to recognise it in lists and logs.
    prefix: Mapped[str] = mapped_column(String(16))
    label: Mapped[str | None] = mapped_column(String(255))
    #: The data provider it acts for ("ILO:DATA_PROVIDERS(1.0).THA"), or None for admins.
    provider: Mapped[str | None] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
