"""Writing and reading the outbox. Messages are keyed so that a job run twice writes nothing
new; they are e-mailed by the `deliver_outbox` job (`outbox.jobs`), never by the job that writes
them."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from coordinator.outbox.models import OutboxMessage, OutboxStatus


def existing_keys(session: Session, keys: Iterable[str]) -> set[str]:
    """The keys among `keys` that already have a message (one query)."""
    keys = list(keys)
    if not keys:
        return set()
    return set(session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.in_(keys))))


def add(session: Session, *, key: str, kind: str, subject: str, body: str, locale: str,
        recipient: str | None = None, user_id: int | None = None,
        patient_id: int | None = None) -> OutboxMessage:
    """Queue one pending message (the caller checked its key is new), written in `locale`:
    its recipient's language (`core.i18n.recipient_locale`)."""
    message = OutboxMessage(key=key, kind=kind, subject=subject[:300], body=body,
                            locale=locale, recipient=recipient or None, user_id=user_id,
                            patient_id=patient_id, status=OutboxStatus.PENDING)
    session.add(message)
    return message


def newest_first() -> Select:
    """Every message, newest first (the administrators' outbox page)."""
    return select(OutboxMessage).order_by(OutboxMessage.created_at.desc(),
                                          OutboxMessage.id.desc())


def for_user(user_id: int, kind: str | None = None) -> Select:
    """The messages addressed to one account (of one kind), newest first: what the application
    shows them (a council's notices)."""
    query = select(OutboxMessage).where(OutboxMessage.user_id == user_id)
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    return query.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
