"""One table of observation versions: ``superseded_at`` marks the versions that are no longer
current, and ``observation_current`` becomes a view of the current ones.

Why: a bulk load then writes each observation once (one COPY into ``observation``) instead of a
history row and a copy in ``observation_current``; a partial unique index keeps exactly one
current version per (series, period) and serves current-data queries; another partial index
serves the history of superseded versions (``asOf``, ``includeHistory``). Nothing accepted is
rewritten: a version's value, attributes, stamp and submission never change; only the instant
it stopped being current is set, once.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

import sqlalchemy as sa

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
CURRENT_VIEW = (
    "CREATE VIEW observation_current AS SELECT series_pk, time_period, pk AS observation_pk, "
    "value, value_text, attrs, recorded_at FROM observation "
    "WHERE superseded_at IS NULL AND NOT deleted"
)


def upgrade() -> None:
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True))
    # every version but the latest of its key was superseded when the next one was recorded
    op.execute(
        "UPDATE observation SET superseded_at = (SELECT MIN(n.recorded_at) FROM observation n "
        "WHERE n.series_pk = observation.series_pk AND n.time_period = observation.time_period "
        "AND n.pk > observation.pk) WHERE EXISTS (SELECT 1 FROM observation n "
        "WHERE n.series_pk = observation.series_pk AND n.time_period = observation.time_period "
        "AND n.pk > observation.pk)"
    )
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.drop_index("ix_observation_key")
        batch_op.create_index(
            "ix_observation_current",
            ["series_pk", "time_period"],
            unique=True,
            postgresql_where=sa.text("superseded_at IS NULL"),
            sqlite_where=sa.text("superseded_at IS NULL"),
        )
        batch_op.create_index(
            "ix_observation_superseded",
            ["series_pk", "time_period", "pk"],
            unique=False,
            postgresql_where=sa.text("superseded_at IS NOT NULL"),
            sqlite_where=sa.text("superseded_at IS NOT NULL"),
        )
    op.drop_table("observation_current")
    op.execute(CURRENT_VIEW)


def downgrade() -> None:
    op.execute("DROP VIEW observation_current")
    op.create_table(
        "observation_current",
        sa.Column("series_pk", BIG_ID, nullable=False),
        sa.Column("time_period", sa.String(length=64), nullable=False),
        sa.Column("observation_pk", BIG_ID, nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("value_text", sa.Text(), nullable=True),
        sa.Column("attrs", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("series_pk", "time_period"),
    )
    op.execute(
        "INSERT INTO observation_current SELECT series_pk, time_period, pk, value, value_text, "
        "attrs, recorded_at FROM observation WHERE superseded_at IS NULL AND NOT deleted"
    )
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.drop_index("ix_observation_superseded")
        batch_op.drop_index("ix_observation_current")
        batch_op.create_index("ix_observation_key", ["series_pk", "time_period", "pk"])
        batch_op.drop_column("superseded_at")
