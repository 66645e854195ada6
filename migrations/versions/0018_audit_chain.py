"""The audit trail becomes a hash chain: each entry's sequence, the previous entry's hash and
its own (coordinator/audit/chain.py); the chain's head and the retention anchor in one row; the
existing entries chained in id order; the database lets only purged entries (at or before the
anchor) be deleted.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 04:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

from coordinator.audit.chain import GENESIS, entry_hash

# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

BATCH = 1000

entries = sa.table(
    'audit_entry', sa.column('id', sa.Integer), sa.column('occurred_at', sa.DateTime),
    sa.column('actor_user_id', sa.Integer), sa.column('actor_label', sa.String),
    sa.column('ip_address', sa.String), sa.column('action', sa.String),
    sa.column('entity_type', sa.String), sa.column('entity_id', sa.String),
    sa.column('patient_id', sa.Integer), sa.column('summary', sa.String),
    sa.column('details', sa.JSON), sa.column('sequence', sa.BigInteger),
    sa.column('previous_hash', sa.String), sa.column('entry_hash', sa.String),
)


def _drop_guards():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_entry_no_truncate ON audit_entry")
        op.execute("DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_entry")
        op.execute("DROP FUNCTION IF EXISTS audit_entry_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_entry_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_entry_no_delete")


def _create_guards(purgeable: bool):
    """No update ever; a delete only of an entry at or before the anchor (when `purgeable`)."""
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        allow = (
            "IF TG_OP = 'DELETE' THEN IF OLD.sequence <= COALESCE((SELECT anchor_sequence "
            "FROM audit_chain_head WHERE id = 1), 0) THEN RETURN OLD; END IF; END IF; "
        ) if purgeable else ""
        op.execute(
            "CREATE FUNCTION audit_entry_append_only() RETURNS trigger AS $$ "
            f"BEGIN {allow}RAISE EXCEPTION 'audit entries are append-only'; END; $$ "
            "LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry "
            "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()"
        )
        return
    op.execute("CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry "
               "BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END")
    when = (" WHEN OLD.sequence > COALESCE((SELECT anchor_sequence FROM audit_chain_head "
            "WHERE id = 1), 0)") if purgeable else ""
    op.execute(f"CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry{when} "
               "BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END")


def _chain_existing(connection) -> tuple[int, str]:
    """The entries already written, chained in id order, a batch at a time."""
    sequence, previous, last_id = 0, GENESIS, 0
    fields = [c for c in entries.c if c.name not in ('sequence', 'previous_hash', 'entry_hash')]
    while True:
        rows = connection.execute(sa.select(*fields).where(entries.c.id > last_id)
                                  .order_by(entries.c.id).limit(BATCH)).all()
        if not rows:
            return sequence, previous
        changes = []
        for row in rows:
            sequence += 1
            digest = entry_hash(row._mapping, sequence, previous)
            changes.append({"row_id": row.id, "sequence": sequence, "previous_hash": previous,
                            "entry_hash": digest})
            previous, last_id = digest, row.id
        connection.execute(
            entries.update().where(entries.c.id == sa.bindparam("row_id"))
            .values(sequence=sa.bindparam("sequence"),
                    previous_hash=sa.bindparam("previous_hash"),
                    entry_hash=sa.bindparam("entry_hash")),
            changes)


def upgrade():
    _drop_guards()
    head = op.create_table(
        'audit_chain_head',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('sequence', sa.BigInteger(), nullable=False),
        sa.Column('entry_hash', sa.String(length=64), nullable=False),
        sa.Column('anchor_sequence', sa.BigInteger(), nullable=False),
        sa.Column('anchor_hash', sa.String(length=64), nullable=False),
        sa.Column('anchor_occurred_at', sa.DateTime(), nullable=True),
        sa.Column('purged_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_head')),
    )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sequence', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('previous_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('entry_hash', sa.String(length=64), nullable=True))
    connection = op.get_bind()
    sequence, last_hash = _chain_existing(connection)
    connection.execute(head.insert().values(id=1, sequence=sequence, entry_hash=last_hash,
                                            anchor_sequence=0, anchor_hash=GENESIS))
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.alter_column('sequence', existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column('previous_hash', existing_type=sa.String(length=64),
                              nullable=False)
        batch_op.alter_column('entry_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_audit_entry_sequence'), ['sequence'])
    _create_guards(purgeable=True)


def downgrade():
    _drop_guards()
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_entry_sequence'), type_='unique')
        batch_op.drop_column('entry_hash')
        batch_op.drop_column('previous_hash')
        batch_op.drop_column('sequence')
    op.drop_table('audit_chain_head')
    _create_guards(purgeable=False)
