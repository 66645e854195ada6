"""An audited read commits without expiring what it loaded.

A page that shows patient data records an audit entry and commits it before it renders. By
default a commit expires every object of the session, so the template then reloads each row it
shows, one query per row (and per relation): 50 queries for a page of 50 patients. A transaction
that wrote nothing but new audit entries changed none of the loaded objects, so there is nothing
to expire: its commit keeps them as they were read (the page shows what it would have shown had
it rendered before the commit).

Any other write in the transaction keeps the default: a flush of anything but an `AuditEntry`,
or a statement other than a SELECT or an INSERT of audit entries sent through the session
(`update()`, `delete()`, text SQL), makes its commit expire everything as usual. Rollbacks
always expire.
"""

from __future__ import annotations

from itertools import chain

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction

from coordinator.audit.models import AuditEntry

WROTE = "coordinator.audit.wrote_other_rows"
RESTORE = "coordinator.audit.restore_expire_on_commit"


def _flushed(session: Session, flush_context: UOWTransaction) -> None:
    # In after_flush, new/dirty/deleted still list what this flush wrote.
    if any(not isinstance(obj, AuditEntry)
           for obj in chain(session.new, session.dirty, session.deleted)):
        session.info[WROTE] = True


def _appends_audit_entries(state: ORMExecuteState) -> bool:
    """An INSERT into the audit table (`audit.services.record_each`)."""
    table = getattr(state.statement, "table", None) if state.is_insert else None
    return table is not None and table.name == AuditEntry.__tablename__


def _executed(state: ORMExecuteState) -> None:
    if not (state.is_select or _appends_audit_entries(state)):
        state.session.info[WROTE] = True


def _committed(session: Session) -> None:
    if session.in_nested_transaction() or session.info.get(WROTE):
        return
    if session.expire_on_commit:  # read just after this event, by the same commit
        session.expire_on_commit = False
        session.info[RESTORE] = True


def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    session.info.pop(WROTE, None)
    if session.info.pop(RESTORE, False):
        session.expire_on_commit = True


LISTENERS = (("after_flush", _flushed), ("do_orm_execute", _executed),
             ("after_commit", _committed), ("after_transaction_end", _ended))


def install(session_class: type[Session] = Session) -> None:
    """Listen on every session (idempotent; called by the app factory)."""
    for name, listener in LISTENERS:
        if not event.contains(session_class, name, listener):
            event.listen(session_class, name, listener)
