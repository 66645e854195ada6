"""A calendar feed knows the account that created it (`calendar_feed.created_by_id`): a feed
stops serving once that account is disabled. Existing feeds get theirs from the audit entry of
their creation.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 04:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('calendar_feed', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_calendar_feed_created_by_id_user_account',
                                    'user_account', ['created_by_id'], ['id'])
    op.execute(
        "UPDATE calendar_feed SET created_by_id = ("
        " SELECT MIN(audit_entry.actor_user_id) FROM audit_entry"
        " WHERE audit_entry.entity_type = 'calendar_feed'"
        " AND audit_entry.entity_id = CAST(calendar_feed.id AS VARCHAR(64))"
        " AND audit_entry.action = 'create')")


def downgrade():
    with op.batch_alter_table('calendar_feed', schema=None) as batch_op:
        batch_op.drop_constraint('fk_calendar_feed_created_by_id_user_account',
                                 type_='foreignkey')
        batch_op.drop_column('created_by_id')
