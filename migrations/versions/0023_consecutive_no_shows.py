"""`appointment.consecutive_no_shows`: the patient's no-shows in a row as of each appointment
with an outcome (a no-show: one more than the appointment with an outcome before it, in start
order; attended: 0; cancelled: the count before it), stored so that it stays what it was when
it was recorded. The upgrade fills it for every appointment with an outcome in one statement.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02 18:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

# What coordinator.scheduling.services.count_consecutive_no_shows computes, for every patient,
# when this revision was written: within a patient, the rows with an outcome in start order are
# cut after each attended one; the count is the running number of no-shows within a cut.
BACKFILL = """
UPDATE appointment SET consecutive_no_shows = counted.n
FROM (
    SELECT id, SUM(CASE WHEN status = 'no_show' THEN 1 ELSE 0 END) OVER (
               PARTITION BY patient_id, cut ORDER BY starts_at, id) AS n
    FROM (
        SELECT id, patient_id, status, starts_at,
               SUM(CASE WHEN status = 'attended' THEN 1 ELSE 0 END) OVER (
                   PARTITION BY patient_id ORDER BY starts_at, id) AS cut
        FROM appointment WHERE status <> 'scheduled'
    ) AS marked
) AS counted
WHERE counted.id = appointment.id
"""


def upgrade():
    with op.batch_alter_table('appointment') as batch_op:
        batch_op.add_column(sa.Column('consecutive_no_shows', sa.Integer(), nullable=True))
    op.execute(BACKFILL)


def downgrade():
    with op.batch_alter_table('appointment') as batch_op:
        batch_op.drop_column('consecutive_no_shows')
