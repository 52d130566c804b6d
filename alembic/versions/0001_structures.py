"""Structural metadata: artefacts and the references between them.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "artefact",
        sa.Column("pk", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("agency", sa.String(255), nullable=False),
        sa.Column("artefact_id", sa.String(255), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("is_final", sa.Boolean(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("type", "agency", "artefact_id", "version", name="uq_artefact_key"),
    )
    op.create_index("ix_artefact_type_id", "artefact", ["type", "artefact_id"])
    op.create_table(
        "artefact_reference",
        sa.Column(
            "source_pk",
            sa.Integer(),
            sa.ForeignKey("artefact.pk", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("target_type", sa.String(32), primary_key=True),
        sa.Column("target_agency", sa.String(255), primary_key=True),
        sa.Column("target_id", sa.String(255), primary_key=True),
        sa.Column("target_version", sa.String(64), primary_key=True),
    )
    op.create_index(
        "ix_reference_target",
        "artefact_reference",
        ["target_type", "target_agency", "target_id", "target_version"],
    )


def downgrade() -> None:
    op.drop_index("ix_reference_target", table_name="artefact_reference")
    op.drop_table("artefact_reference")
    op.drop_index("ix_artefact_type_id", table_name="artefact")
    op.drop_table("artefact")
