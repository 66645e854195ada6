"""Texts the system writes kept as message codes, read in each reader's language
(coordinator/core/messages.py, issue #16): the name of a follow-up round given by its series'
source (`followup_round.label_code`), the labels of what changed in a care-plan revision
(`care_plan_revision.changed_codes`), a goal the system wrote (`care_plan_goal.
description_code`) and the reason it gave when it closed a plan (`care_plan.close_reason_code`:
superseded, records merged). The existing rows keep their text, read as it was written (no code).
An import's errors keep theirs in the JSON entries they already are (no schema change).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-03 14:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


# Plain ADD / DROP COLUMN (SQLite has both): no copy of the tables, so that
# care_plan_revision keeps its append-only triggers.
COLUMNS = (
    ('followup_round', 'label_code'),
    ('care_plan', 'close_reason_code'),
    ('care_plan_goal', 'description_code'),
    ('care_plan_revision', 'changed_codes'),
)


def upgrade():
    for table, column in COLUMNS:
        op.add_column(table, sa.Column(column, sa.JSON(), nullable=True))


def downgrade():
    for table, column in reversed(COLUMNS):
        op.drop_column(table, column)
