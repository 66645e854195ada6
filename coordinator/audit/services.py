"""Writing and reading the audit trail. Every service that reads, creates, changes, prints or
exports patient data calls `record`."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, insert, select
from sqlalchemy.orm import Session

from coordinator.audit.models import AuditAction, AuditEntry
from coordinator.core.context import Actor
from coordinator.core.csvutil import safe_cell
from coordinator.core.time import PARIS


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: object | None = None,
    *,
    patient_id: int | None = None,
    summary: str | None = None,
    details: dict | None = None,
) -> AuditEntry:
    """Append one audit entry to the session; it is written with the caller's unit of work."""
    if action not in AuditAction.ALL:
        raise ValueError(f"unknown audit action {action!r}")
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
    session.add(entry)
    session.flush()
    return entry


def record_each(session: Session, actor: Actor, action: str, entity_type: str,
                records: Iterable[tuple[object, int | None]]) -> None:
    """Append one entry per `(entity_id, patient_id)` (the rows of a list, say), in that order,
    in one statement (an executemany), with the caller's unit of work."""
    if action not in AuditAction.ALL:
        raise ValueError(f"unknown audit action {action!r}")
    rows = [{"actor_user_id": actor.user_id, "actor_label": actor.label,
             "ip_address": actor.ip_address, "action": action, "entity_type": entity_type,
             "entity_id": None if entity_id is None else str(entity_id),
             "patient_id": patient_id, "summary": None, "details": None}
            for entity_id, patient_id in records]
    if rows:
        session.execute(insert(AuditEntry), rows)


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    entity_type: str | None = None
    patient_ids: tuple[int, ...] = ()  # a patient and the records merged into it
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
    if criteria.patient_ids:
        query = query.where(AuditEntry.patient_id.in_(criteria.patient_ids))
    if criteria.date_from:
        query = query.where(AuditEntry.occurred_at >= _local_midnight_utc(criteria.date_from))
    if criteria.date_to:
        end = _local_midnight_utc(criteria.date_to + timedelta(days=1))
        query = query.where(AuditEntry.occurred_at < end)
    return query.order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc())


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
                entry.summary or "",
            ]
        )
        yield buffer.getvalue()


# The ids under which a patient's entries were written: theirs and those of every record merged
# into it (the registry, above this package, provides them: f(session, patient_id) -> ids).
PATIENT_ALIASES = "audit.patient_aliases"
