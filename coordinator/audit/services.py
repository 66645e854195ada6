"""Writing and reading the audit trail. Every service that reads, creates, changes, prints or
exports patient data calls `record`."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel.speaklater import LazyString
from sqlalchemy import Select, insert, select
from sqlalchemy.orm import Session

from coordinator.audit import chain
from coordinator.audit.models import SUMMARY_CODE, AuditAction, AuditEntry
from coordinator.core import messages
from coordinator.core.context import Actor
from coordinator.core.csvutil import safe_cell
from coordinator.core.time import PARIS, utcnow

DEFERRED = "audit_deferred"  # session.info: the entries `record` keeps for `deferred`'s end


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: object | None = None,
    *,
    patient_id: int | None = None,
    summary: str | LazyString | None = None,
    details: dict | None = None,
) -> AuditEntry:
    """Append one audit entry to the session; it is written with the caller's unit of work.
    A lazy `summary` (`_l`) is kept as its text and, in `details` (in the hash chain), as its
    code: each reader reads it in their language (`AuditEntry.display_summary`)."""
    if action not in AuditAction.ALL:
        raise ValueError(f"unknown audit action {action!r}")
    code = messages.stored(summary)
    if code is not None:
        details = {**(details or {}), SUMMARY_CODE: code}
    summary = str(summary) if summary is not None else None
    entry = AuditEntry(
        actor_user_id=actor.user_id,
        actor_label=actor.label,
        ip_address=actor.ip_address,
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        patient_id=patient_id,
        summary=summary[:500] if summary else None,
        details=details,
    )
    pending = session.info.get(DEFERRED)
    if pending is not None:
        pending.append(entry)
        return entry
    session.add(entry)
    session.flush()
    return entry


@contextmanager
def deferred(session: Session) -> Iterator[None]:
    """The entries `record`ed inside are written together when the block ends (one flush, the
    chain's head locked then: a writer that audits early in a long unit of work does not hold
    the other writers back for the rest of it, and its entries cost one lock). A block left by
    an exception drops what it recorded, as the rollback that follows drops what it did (a
    savepoint inside the block: put the block inside the savepoint's). Nested blocks hand
    their entries to the outer one."""
    outer = session.info.get(DEFERRED)
    pending: list[AuditEntry] = []
    session.info[DEFERRED] = pending
    try:
        yield
    finally:
        if outer is None:
            session.info.pop(DEFERRED, None)
        else:
            session.info[DEFERRED] = outer
    if outer is not None:
        outer.extend(pending)
    elif pending:
        session.add_all(pending)
        session.flush()


def record_each(session: Session, actor: Actor, action: str, entity_type: str,
                records: Iterable[tuple[object, int | None]]) -> None:
    """Append one entry per `(entity_id, patient_id)` (the rows of a list, say), in that order,
    in one statement (an executemany), with the caller's unit of work, chained in that order."""
    if action not in AuditAction.ALL:
        raise ValueError(f"unknown audit action {action!r}")
    rows = [{"actor_user_id": actor.user_id, "actor_label": actor.label,
             "ip_address": actor.ip_address, "action": action, "entity_type": entity_type,
             "entity_id": None if entity_id is None else str(entity_id),
             "patient_id": patient_id, "summary": None, "details": None}
            for entity_id, patient_id in records]
    if rows:
        session.execute(insert(AuditEntry), chain.chain_rows(session.connection(), rows))


def record_shown(session: Session, actor: Actor, what: str, patient_ids: Iterable[int | None],
                 *, entity_id: object | None = None, summary: str | None = None,
                 details: dict | None = None) -> int:
    """A list (a search, a worklist, a calendar...) showed these patients: one READ entry per
    patient shown, in that patient's trail, each carrying the list's summary and criteria (so
    that one entry answers "who saw this patient, where, how"); a list that showed nobody
    leaves one entry without a patient, with its criteria. One statement (an executemany),
    written with the caller's unit of work, whatever the number of rows. Returns the number of
    entries. Give only the patients actually shown (the current page), each once or not."""
    shown: list[int | None] = list(dict.fromkeys(pid for pid in patient_ids if pid is not None))
    now = utcnow()
    common = {"occurred_at": now, "actor_user_id": actor.user_id, "actor_label": actor.label,
              "ip_address": actor.ip_address, "action": AuditAction.READ, "entity_type": what,
              "entity_id": None if entity_id is None else str(entity_id),
              "summary": summary[:500] if summary else None,
              "details": details}
    rows = [{**common, "patient_id": patient_id} for patient_id in shown or [None]]
    session.execute(insert(AuditEntry), chain.chain_rows(session.connection(), rows))  # chained
    return len(rows)


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    entity_type: str | None = None
    patient_ids: tuple[int, ...] = ()  # a patient and the records merged into it
    actions: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None


def _local_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=PARIS)


def filtered_query(criteria: AuditFilter) -> Select:
    """Audit entries matching the criteria, newest first (dates are Paris local days)."""
    query = select(AuditEntry)
    if criteria.actor:
        query = query.where(AuditEntry.actor_label.ilike(f"%{criteria.actor.strip()}%"))
    if criteria.action:
        query = query.where(AuditEntry.action == criteria.action)
    if criteria.entity_type:
        query = query.where(AuditEntry.entity_type == criteria.entity_type)
    if criteria.actions:
        query = query.where(AuditEntry.action.in_(criteria.actions))
    if criteria.patient_ids:
        query = query.where(AuditEntry.patient_id.in_(criteria.patient_ids))
    if criteria.date_from:
        query = query.where(AuditEntry.occurred_at >= _local_midnight_utc(criteria.date_from))
    if criteria.date_to:
        end = _local_midnight_utc(criteria.date_to + timedelta(days=1))
        query = query.where(AuditEntry.occurred_at < end)
    return query.order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc())


# What a patient's access log lists: every read, print, export and change of their data.
PATIENT_ACTIONS = (AuditAction.READ, AuditAction.PRINT, AuditAction.EXPORT, AuditAction.CREATE,
                   AuditAction.UPDATE, AuditAction.DELETE, AuditAction.MERGE)


def patient_log(patient_ids: Iterable[int], since: date | None = None) -> Select:
    """A patient's access log (`patient_ids`: theirs and the records merged into it), newest
    first: who read, printed, exported or changed their data, when, and what."""
    return filtered_query(AuditFilter(patient_ids=tuple(patient_ids), actions=PATIENT_ACTIONS,
                                      date_from=since))


CSV_COLUMNS = (
    "id", "occurred_at", "actor_label", "actor_user_id", "ip_address", "action",
    "entity_type", "entity_id", "patient_id", "summary",
)


def export_csv(session: Session, criteria: AuditFilter, batch_size: int = 1000) -> Iterator[str]:
    """The matching entries as CSV text, streamed in batches (constant memory)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield buffer.getvalue()
    result = session.execute(
        filtered_query(criteria).execution_options(yield_per=batch_size)
    ).scalars()
    for entry in result:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(
            safe_cell(value) for value in [
                entry.id,
                entry.occurred_at.isoformat(),
                entry.actor_label,
                entry.actor_user_id or "",
                entry.ip_address or "",
                entry.action,
                entry.entity_type,
                entry.entity_id or "",
                entry.patient_id or "",
                entry.display_summary,
            ]
        )
        yield buffer.getvalue()


# The ids under which a patient's entries were written: theirs and those of every record merged
# into it (the registry, above this package, provides them: f(session, patient_id) -> ids).
PATIENT_ALIASES = "audit.patient_aliases"
