"""Consent history: how the patient expressed a consent or its withdrawal (oral, written, by
e-mail or a message, through their representative, other), asked when it is withdrawn.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 04:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('consent_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expressed_as', sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('consent_event', schema=None) as batch_op:
        batch_op.drop_column('expressed_as')
