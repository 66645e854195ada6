"""The Europe/Paris local days of a stay's admission and discharge (`stay.admitted_on`,
`stay.discharged_on`), which the readmission window and the LACE length of stay count in SQL.
Existing stays get theirs from their instants (zoneinfo, as the application computes them).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 09:00:00.000000

"""
from datetime import UTC
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

PARIS = ZoneInfo("Europe/Paris")


def _day(moment):
    if moment is None:
        return None
    if isinstance(moment, str):  # SQLite without type information
        from datetime import datetime
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC).astimezone(PARIS).date()


def upgrade():
    with op.batch_alter_table('stay', schema=None) as batch_op:
        batch_op.add_column(sa.Column('admitted_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('discharged_on', sa.Date(), nullable=True))

    stay = sa.table('stay', sa.column('id', sa.Integer()), sa.column('admitted_at', sa.DateTime()),
                    sa.column('discharged_at', sa.DateTime()),
                    sa.column('admitted_on', sa.Date()), sa.column('discharged_on', sa.Date()))
    connection = op.get_bind()
    rows = connection.execute(sa.select(stay.c.id, stay.c.admitted_at, stay.c.discharged_at))
    values = [{"row_id": row.id, "admitted_on": _day(row.admitted_at),
               "discharged_on": _day(row.discharged_at)} for row in rows]
    if values:
        connection.execute(
            stay.update().where(stay.c.id == sa.bindparam("row_id"))
            .values(admitted_on=sa.bindparam("admitted_on"),
                    discharged_on=sa.bindparam("discharged_on")),
            values)

    with op.batch_alter_table('stay', schema=None) as batch_op:
        batch_op.alter_column('admitted_on', existing_type=sa.Date(), nullable=False)
        batch_op.create_check_constraint(
            'discharge_day_known', '(discharged_at IS NULL) = (discharged_on IS NULL)')


def downgrade():
    with op.batch_alter_table('stay', schema=None) as batch_op:
        batch_op.drop_constraint('discharge_day_known', type_='check')
        batch_op.drop_column('discharged_on')
        batch_op.drop_column('admitted_on')
