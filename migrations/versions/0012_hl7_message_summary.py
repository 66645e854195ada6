"""HL7 messages: the ACK answered (a resent message gets it again, whole) and who the message is
about as the hospital sent it (name, birth date, sex, identifiers, visit number), shown by the
reconciliation list.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 12:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('hl7_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ack', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('patient_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('patient_birth_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('patient_sex', sa.String(length=1), nullable=True))
        batch_op.add_column(sa.Column('patient_identifiers', sa.String(length=300),
                                      nullable=True))
        batch_op.add_column(sa.Column('visit_number', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('hl7_message', schema=None) as batch_op:
        batch_op.drop_column('visit_number')
        batch_op.drop_column('patient_identifiers')
        batch_op.drop_column('patient_sex')
        batch_op.drop_column('patient_birth_date')
        batch_op.drop_column('patient_name')
        batch_op.drop_column('ack')
