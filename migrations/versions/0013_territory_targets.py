"""Targets of a territory for its programs' indicators (territory_target), and their history
(territory_target_change: who, when, the old and the new value).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 03:07:06.746993

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('territory_target',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('territory_id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('target_percent', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_user_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('target_percent >= 0 AND target_percent <= 100', name=op.f('ck_territory_target_target_range')),
    sa.ForeignKeyConstraint(['indicator_id'], ['program_indicator.id'], name=op.f('fk_territory_target_indicator_id_program_indicator'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['territory_id'], ['territory.id'], name=op.f('fk_territory_target_territory_id_territory')),
    sa.ForeignKeyConstraint(['updated_by_user_id'], ['user_account.id'], name=op.f('fk_territory_target_updated_by_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_territory_target')),
    sa.UniqueConstraint('territory_id', 'indicator_id', name=op.f('uq_territory_target_territory_id_indicator_id'))
    )
    with op.batch_alter_table('territory_target', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_territory_target_indicator_id'), ['indicator_id'], unique=False)

    op.create_table('territory_target_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('territory_id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('old_percent', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('new_percent', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.Column('changed_by_user_id', sa.Integer(), nullable=True),
    sa.Column('changed_by_label', sa.String(length=254), nullable=False),
    sa.CheckConstraint('new_percent IS NULL OR (new_percent >= 0 AND new_percent <= 100)', name=op.f('ck_territory_target_change_new_range')),
    sa.CheckConstraint('old_percent IS NULL OR (old_percent >= 0 AND old_percent <= 100)', name=op.f('ck_territory_target_change_old_range')),
    sa.ForeignKeyConstraint(['changed_by_user_id'], ['user_account.id'], name=op.f('fk_territory_target_change_changed_by_user_id_user_account')),
    sa.ForeignKeyConstraint(['indicator_id'], ['program_indicator.id'], name=op.f('fk_territory_target_change_indicator_id_program_indicator'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['territory_id'], ['territory.id'], name=op.f('fk_territory_target_change_territory_id_territory')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_territory_target_change'))
    )
    with op.batch_alter_table('territory_target_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_territory_target_change_indicator_id'), ['indicator_id'], unique=False)
        batch_op.create_index('ix_territory_target_change_territory', ['territory_id', 'changed_at'], unique=False)



def downgrade():
    with op.batch_alter_table('territory_target_change', schema=None) as batch_op:
        batch_op.drop_index('ix_territory_target_change_territory')
        batch_op.drop_index(batch_op.f('ix_territory_target_change_indicator_id'))

    op.drop_table('territory_target_change')
    with op.batch_alter_table('territory_target', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_territory_target_indicator_id'))

    op.drop_table('territory_target')
