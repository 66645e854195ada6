"""The council dashboard's stored counts (coordinator/metrics/stored.py, issue #14): the raw
counts of each territory for each closed calendar month, quarter and year of the last years,
for the whole registry and for each program, written again by the nightly job
`refresh_metric_counts`. Derived data, read by the dashboard instead of counting again.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 23:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'metric_stored_counts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('scope', sa.String(length=40), nullable=False),
        sa.Column('first_day', sa.Date(), nullable=False),
        sa.Column('last_day', sa.Date(), nullable=False),
        sa.Column('territory_id', sa.Integer(), nullable=False),
        sa.Column('counts', sa.JSON(), nullable=False),
        sa.Column('computed_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['territory_id'], ['territory.id'],
                                name=op.f('fk_metric_stored_counts_territory_id_territory'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_metric_stored_counts')),
        sa.UniqueConstraint('scope', 'first_day', 'last_day', 'territory_id',
                            name=op.f('uq_metric_stored_counts_scope_first_day_last_day_territory_id')),
    )


def downgrade():
    op.drop_table('metric_stored_counts')
