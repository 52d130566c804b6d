"""Data: data sets, series, observations and attribute values with their full history,
submissions (the audit trail) and API tokens.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_token',
    sa.Column('pk', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('label', sa.String(length=255), nullable=True),
    sa.Column('provider', sa.String(length=255), nullable=True),
    sa.Column('is_admin', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('pk'),
    sa.UniqueConstraint('token_sha256')
    )
    op.create_table('dataset',
    sa.Column('pk', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('agency', sa.String(length=255), nullable=False),
    sa.Column('dsd_id', sa.String(length=255), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('dimensions', sa.Text(), nullable=False),
    sa.Column('last_changed', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('pk'),
    sa.UniqueConstraint('agency', 'dsd_id', 'version', name='uq_dataset_dsd')
    )
    op.create_table('submission',
    sa.Column('pk', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('provider', sa.String(length=255), nullable=True),
    sa.Column('token_pk', sa.Integer(), nullable=True),
    sa.Column('dataflow', sa.String(length=255), nullable=False),
    sa.Column('actions', sa.String(length=32), nullable=False),
    sa.Column('media_type', sa.String(length=255), nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('counts', sa.Text(), nullable=False),
    sa.Column('report', sa.Text(), nullable=True),
    sa.Column('duration_ms', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('pk')
    )
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.create_index('ix_submission_dataflow', ['dataflow'], unique=False)
        batch_op.create_index('ix_submission_received', ['received_at'], unique=False)

    op.create_table('attribute_current',
    sa.Column('dataset_pk', sa.Integer(), nullable=False),
    sa.Column('attribute_id', sa.String(length=255), nullable=False),
    sa.Column('attach_key', sa.Text(), nullable=False),
    sa.Column('attribute_value_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('value', sa.Text(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dataset_pk'], ['dataset.pk'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('dataset_pk', 'attribute_id', 'attach_key')
    )
    op.create_table('attribute_value',
    sa.Column('pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('dataset_pk', sa.Integer(), nullable=False),
    sa.Column('attribute_id', sa.String(length=255), nullable=False),
    sa.Column('attach_key', sa.Text(), nullable=False),
    sa.Column('value', sa.Text(), nullable=True),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submission_pk', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['dataset_pk'], ['dataset.pk'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submission_pk'], ['submission.pk'], ),
    sa.PrimaryKeyConstraint('pk')
    )
    with op.batch_alter_table('attribute_value', schema=None) as batch_op:
        batch_op.create_index('ix_attribute_value_key', ['dataset_pk', 'attribute_id', 'attach_key', 'pk'], unique=False)
        batch_op.create_index('ix_attribute_value_recorded', ['recorded_at'], unique=False, postgresql_using='brin')
        batch_op.create_index('ix_attribute_value_submission', ['submission_pk'], unique=False, postgresql_using='brin')

    op.create_table('series',
    sa.Column('pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('dataset_pk', sa.Integer(), nullable=False),
    sa.Column('series_key', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['dataset_pk'], ['dataset.pk'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pk'),
    sa.UniqueConstraint('dataset_pk', 'series_key', name='uq_series_key')
    )
    op.create_table('observation',
    sa.Column('pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('series_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('time_period', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('value_text', sa.Text(), nullable=True),
    sa.Column('attrs', sa.Text(), nullable=True),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submission_pk', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('pk')
    )
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.create_index('ix_observation_key', ['series_pk', 'time_period', 'pk'], unique=False)
        batch_op.create_index('ix_observation_recorded', ['recorded_at'], unique=False, postgresql_using='brin')
        batch_op.create_index('ix_observation_submission', ['submission_pk'], unique=False, postgresql_using='brin')

    op.create_table('observation_current',
    sa.Column('series_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('time_period', sa.String(length=64), nullable=False),
    sa.Column('observation_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('value_text', sa.Text(), nullable=True),
    sa.Column('attrs', sa.Text(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('series_pk', 'time_period')
    )


def downgrade() -> None:
    op.drop_table('observation_current')
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.drop_index('ix_observation_submission')
        batch_op.drop_index('ix_observation_recorded')
        batch_op.drop_index('ix_observation_key')

    op.drop_table('observation')
    op.drop_table('series')
    with op.batch_alter_table('attribute_value', schema=None) as batch_op:
        batch_op.drop_index('ix_attribute_value_submission')
        batch_op.drop_index('ix_attribute_value_recorded')
        batch_op.drop_index('ix_attribute_value_key')

    op.drop_table('attribute_value')
    op.drop_table('attribute_current')
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_index('ix_submission_received')
        batch_op.drop_index('ix_submission_dataflow')

    op.drop_table('submission')
    op.drop_table('dataset')
    op.drop_table('api_token')
