"""Corrections of stratum assignments (`stratum_correction`): a mistyped date or stratum, or a
row cancelled, with what it said, who corrected it and why.

Revision ID: 0021
Revises: 0018
Create Date: 2026-12-02 05:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stratum_correction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('program_id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('cancelled', sa.Boolean(), nullable=False),
    sa.Column('old_stratum_id', sa.Integer(), nullable=True),
    sa.Column('old_effective_date', sa.Date(), nullable=False),
    sa.Column('new_stratum_id', sa.Integer(), nullable=True),
    sa.Column('new_effective_date', sa.Date(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('author_user_id', sa.Integer(), nullable=True),
    sa.Column('author_label', sa.String(length=254), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_user_id'], ['user_account.id'], name=op.f('fk_stratum_correction_author_user_id_user_account')),
    sa.ForeignKeyConstraint(['new_stratum_id'], ['stratum.id'], name=op.f('fk_stratum_correction_new_stratum_id_stratum')),
    sa.ForeignKeyConstraint(['old_stratum_id'], ['stratum.id'], name=op.f('fk_stratum_correction_old_stratum_id_stratum')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_stratum_correction_patient_id_patient')),
    sa.ForeignKeyConstraint(['program_id'], ['program.id'], name=op.f('fk_stratum_correction_program_id_program')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stratum_correction'))
    )
    with op.batch_alter_table('stratum_correction', schema=None) as batch_op:
        batch_op.create_index('ix_stratum_correction_timeline', ['patient_id', 'program_id'], unique=False)


def downgrade():
    with op.batch_alter_table('stratum_correction', schema=None) as batch_op:
        batch_op.drop_index('ix_stratum_correction_timeline')
    op.drop_table('stratum_correction')
