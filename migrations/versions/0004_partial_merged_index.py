"""Partial index on patient.merged_into_id (only merged records are indexed).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24

"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.drop_index('ix_patient_merged_into_id')
    op.create_index('ix_patient_merged_into_id', 'patient', ['merged_into_id'], unique=False,
                    sqlite_where=sa.text('merged_into_id IS NOT NULL'),
                    postgresql_where=sa.text('merged_into_id IS NOT NULL'))


def downgrade():
    op.drop_index('ix_patient_merged_into_id', table_name='patient')
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.create_index('ix_patient_merged_into_id', ['merged_into_id'], unique=False)
