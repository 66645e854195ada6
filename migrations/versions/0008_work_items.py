"""Background work as items in the database (work_item, and work_blob for an item's input): an
import report and a print batch point at the item that runs them, a print batch's progress is
its item's (its `done` goes), both can end "cancelled". Reports and batches still "running"
were run by threads of a process that the upgrade stops: they are failed.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 19:37:23.261861

"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

INTERRUPTED = ('[{"line": null, "column": null, "message": '
               '"Interrupted by an upgrade of the application: nothing was written."}]')


def _execute(sql):
    """`sql` with :now, the current instant as the columns store it (naive UTC)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    op.get_bind().execute(sa.text(sql), {"now": now})


def upgrade():
    op.create_table('work_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('done', sa.BigInteger(), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=True),
    sa.Column('counts', sa.JSON(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('claimed_by', sa.String(length=200), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(), nullable=True),
    sa.Column('cancel_requested', sa.Boolean(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')", name=op.f('ck_work_item_status_known')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_work_item_created_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_item'))
    )
    with op.batch_alter_table('work_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_item_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index('ix_work_item_status_id', ['status', 'id'], unique=False)

    op.create_table('work_blob',
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['work_item.id'], name=op.f('fk_work_blob_item_id_work_item'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('item_id', 'seq', name=op.f('pk_work_blob'))
    )

    _execute("UPDATE import_report SET status = 'failed', finished_at = :now, "
             f"error_count = error_count + 1, errors = '{INTERRUPTED}' "
             "WHERE status = 'running'")
    with op.batch_alter_table('import_report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('work_item_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_import_report_work_item_id'), ['work_item_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_import_report_work_item_id_work_item'), 'work_item', ['work_item_id'], ['id'], ondelete='SET NULL')
        batch_op.drop_constraint('status_known', type_='check')
        batch_op.create_check_constraint(
            'status_known', "status IN ('running', 'succeeded', 'failed', 'rejected', 'cancelled')")

    _execute("UPDATE print_batch SET status = 'failed', error = 'interrupted by an upgrade', "
             "finished_at = :now WHERE status = 'running'")
    with op.batch_alter_table('print_batch', schema=None) as batch_op:
        batch_op.add_column(sa.Column('work_item_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_print_batch_work_item_id'), ['work_item_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_print_batch_work_item_id_work_item'), 'work_item', ['work_item_id'], ['id'], ondelete='SET NULL')
        batch_op.drop_column('done')
        batch_op.drop_constraint('status_known', type_='check')
        batch_op.create_check_constraint(
            'status_known', "status IN ('running', 'succeeded', 'failed', 'cancelled')")


def downgrade():
    # Without the work items nothing runs a queued report or batch: they are failed, and
    # "cancelled" becomes "failed" (the older statuses).
    _execute("UPDATE print_batch SET status = 'failed', finished_at = :now "
             "WHERE status IN ('running', 'cancelled')")
    with op.batch_alter_table('print_batch', schema=None) as batch_op:
        batch_op.drop_constraint('status_known', type_='check')
        batch_op.create_check_constraint(
            'status_known', "status IN ('running', 'succeeded', 'failed')")
        batch_op.add_column(sa.Column('done', sa.Integer(), nullable=False, server_default='0'))
        batch_op.drop_constraint(batch_op.f('fk_print_batch_work_item_id_work_item'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_print_batch_work_item_id'))
        batch_op.drop_column('work_item_id')
    _execute("UPDATE print_batch SET done = total WHERE status = 'succeeded'")
    with op.batch_alter_table('print_batch', schema=None) as batch_op:
        batch_op.alter_column('done', server_default=None)

    _execute("UPDATE import_report SET status = 'failed', finished_at = :now "
             "WHERE status IN ('running', 'cancelled')")
    with op.batch_alter_table('import_report', schema=None) as batch_op:
        batch_op.drop_constraint('status_known', type_='check')
        batch_op.create_check_constraint(
            'status_known', "status IN ('running', 'succeeded', 'failed', 'rejected')")
        batch_op.drop_constraint(batch_op.f('fk_import_report_work_item_id_work_item'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_import_report_work_item_id'))
        batch_op.drop_column('work_item_id')

    op.drop_table('work_blob')
    with op.batch_alter_table('work_item', schema=None) as batch_op:
        batch_op.drop_index('ix_work_item_status_id')
        batch_op.drop_index(batch_op.f('ix_work_item_created_by_id'))

    op.drop_table('work_item')
