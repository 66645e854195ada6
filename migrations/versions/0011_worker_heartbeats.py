"""The workers' heartbeats (work_worker): each worker writes its latest one, /healthz reads
them (PostgreSQL; on SQLite they are files beside the database).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 23:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('work_worker',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('beat_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_work_worker'))
    )
    with op.batch_alter_table('work_worker', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_worker_beat_at'), ['beat_at'], unique=False)


def downgrade():
    with op.batch_alter_table('work_worker', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_worker_beat_at'))
    op.drop_table('work_worker')
