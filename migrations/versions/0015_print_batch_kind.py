"""A batch print says what it holds: care plans (as before) or a council report of the
registry's figures, with what was asked (checked again when it is downloaded).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 03:20:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('print_batch', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=32), nullable=False,
                                      server_default='care_plans'))
        batch_op.add_column(sa.Column('parameters', sa.JSON(), nullable=True))
        batch_op.create_check_constraint('kind_known',
                                         "kind IN ('care_plans', 'metrics_report')")


def downgrade():
    op.execute("DELETE FROM print_batch WHERE kind <> 'care_plans'")
    with op.batch_alter_table('print_batch', schema=None) as batch_op:
        batch_op.drop_constraint('kind_known', type_='check')
        batch_op.drop_column('parameters')
        batch_op.drop_column('kind')
