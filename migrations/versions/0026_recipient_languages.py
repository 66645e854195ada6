"""Messages in their recipient's language: `patient.language` (the language of the patient's
reminders, 'fr' for every existing patient) and `outbox_message.locale` (the language a message
was written in). The reminders written before were all in French; the other messages' language
was not recorded (it stays NULL).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03 14:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=False,
                                      server_default='fr'))
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=8), nullable=True))
    op.execute("UPDATE outbox_message SET locale = 'fr' WHERE kind = 'appointment_reminder'")


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('locale')
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.drop_column('language')
