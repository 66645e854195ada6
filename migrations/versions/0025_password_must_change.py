"""`user.must_change_password`: set when an administrator resets an account's password (a
generated password shown to them once); the account chooses its own at its next sign-in
before anything else. Existing accounts: false.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03 14:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account') as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('user_account') as batch_op:
        batch_op.drop_column('must_change_password')
