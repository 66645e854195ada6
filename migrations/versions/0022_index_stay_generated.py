"""`stay.is_index_stay` becomes a stored generated column (the database computes it on every
write: discharged, not cancelled, destination neither death nor transfer), so that the
readmission recompute writes only the stays whose links change; on PostgreSQL the table keeps
a quarter of each page free (fillfactor 75) so that rewriting derived columns is a heap-only
update. The downgrade puts back a plain column holding the same values.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02 17:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

# The text of coordinator.stays.models.IS_INDEX_STAY_SQL when this revision was written.
IS_INDEX_STAY_SQL = (
    "discharged_at IS NOT NULL AND cancelled_at IS NULL AND (discharge_destination IS NULL OR "
    "discharge_destination NOT IN ('death', 'transfer'))")


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    with op.batch_alter_table('stay', recreate='auto') as batch_op:
        batch_op.drop_column('is_index_stay')
    with op.batch_alter_table('stay', recreate='always' if not _postgres() else 'auto') \
            as batch_op:
        # SQLite adds a stored generated column only by rebuilding the table.
        batch_op.add_column(sa.Column('is_index_stay', sa.Boolean(),
                                      sa.Computed(IS_INDEX_STAY_SQL, persisted=True),
                                      nullable=False))
    if _postgres():
        op.execute("ALTER TABLE stay SET (fillfactor = 75)")


def downgrade():
    if _postgres():
        op.execute("ALTER TABLE stay RESET (fillfactor)")
    with op.batch_alter_table('stay', recreate='auto') as batch_op:
        batch_op.drop_column('is_index_stay')
    with op.batch_alter_table('stay') as batch_op:
        batch_op.add_column(sa.Column('is_index_stay', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    op.execute(f"UPDATE stay SET is_index_stay = ({IS_INDEX_STAY_SQL})")
    with op.batch_alter_table('stay') as batch_op:
        batch_op.alter_column('is_index_stay', server_default=None)
