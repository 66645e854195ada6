"""The readmission links of a stay (`readmission_of_id`, `readmitted_by_id`) lose their foreign
keys and `readmission_of_id` its index: they are derived from the stay table itself by
`stays.readmissions.recompute`, which is their only writer, and no stay is ever deleted.

On PostgreSQL each foreign-key check of a link locks the stay it points to (a write to that
row), and each link written into an indexed column needs a new index entry: writing the 838,652
links of 2 million freshly loaded stays took 30-53 s with them, 24 s without, against a floor
of 24 s for the same query with nothing written (docs/performance.md, readmission flags). The
only reader filtering on `readmission_of_id`, the worklist's readmission alert, selects a
caseload's stays of the last 30 days first (`ix_stay_patient_admitted`).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 14:20:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


# The text of coordinator.stays.models.IS_INDEX_STAY_SQL when this revision was written.
IS_INDEX_STAY_SQL = (
    "discharged_at IS NOT NULL AND cancelled_at IS NULL AND (discharge_destination IS NULL OR "
    "discharge_destination NOT IN ('death', 'transfer'))")


def _alter_stay(change) -> None:
    """PostgreSQL alters the table in place. SQLite rebuilds it, and a rebuild cannot copy a
    generated column: `is_index_stay` is dropped first and added back (computed again)."""
    if op.get_bind().dialect.name == "postgresql":
        with op.batch_alter_table('stay') as batch_op:
            change(batch_op)
        return
    with op.batch_alter_table('stay') as batch_op:
        batch_op.drop_column('is_index_stay')
    with op.batch_alter_table('stay', recreate='always') as batch_op:
        change(batch_op)
    with op.batch_alter_table('stay', recreate='always') as batch_op:
        batch_op.add_column(sa.Column('is_index_stay', sa.Boolean(),
                                      sa.Computed(IS_INDEX_STAY_SQL, persisted=True),
                                      nullable=False))


def upgrade():
    def change(batch_op):
        batch_op.drop_index('ix_stay_readmission_of_id')
        batch_op.drop_constraint('fk_stay_readmission_of_id_stay', type_='foreignkey')
        batch_op.drop_constraint('fk_stay_readmitted_by_id_stay', type_='foreignkey')
    _alter_stay(change)


def downgrade():
    def change(batch_op):
        batch_op.create_foreign_key('fk_stay_readmitted_by_id_stay', 'stay',
                                    ['readmitted_by_id'], ['id'])
        batch_op.create_foreign_key('fk_stay_readmission_of_id_stay', 'stay',
                                    ['readmission_of_id'], ['id'])
        batch_op.create_index('ix_stay_readmission_of_id', ['readmission_of_id'])
    _alter_stay(change)
