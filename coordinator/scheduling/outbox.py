"""The outbox: messages written by the jobs (reminders, review notices), keyed so that a job run
twice writes nothing new; e-mailed through SMTP when `SMTP_HOST` is configured, otherwise left
pending and shown to administrators in the application (`/admin/jobs/outbox`)."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from coordinator.core.time import utcnow
from coordinator.scheduling.models import OutboxMessage

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send e-mail (from the `SMTP_*` settings)."""

    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = True
    timeout: float = 30.0

    @classmethod
    def from_config(cls, config: Mapping) -> SmtpSettings | None:
        """The settings, or None when SMTP is not configured (no `SMTP_HOST`)."""
        if not config.get("SMTP_HOST"):
            return None
        return cls(host=config["SMTP_HOST"], port=int(config.get("SMTP_PORT") or 587),
                   sender=config.get("SMTP_SENDER") or "coordinator@localhost",
                   username=config.get("SMTP_USERNAME") or None,
                   password=config.get("SMTP_PASSWORD") or None,
                   starttls=bool(config.get("SMTP_STARTTLS", True)),
                   timeout=float(config.get("SMTP_TIMEOUT") or 30))


def existing_keys(session: Session, keys: Iterable[str]) -> set[str]:
    """The keys among `keys` that already have a message (one query)."""
    keys = list(keys)
    if not keys:
        return set()
    return set(session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.in_(keys))))


def add(session: Session, *, key: str, kind: str, subject: str, body: str,
        recipient: str | None = None, user_id: int | None = None,
        patient_id: int | None = None) -> OutboxMessage:
    """Queue one pending message (the caller checked its key is new)."""
    message = OutboxMessage(key=key, kind=kind, subject=subject[:300], body=body,
                            recipient=recipient or None, user_id=user_id,
                            patient_id=patient_id, status="pending")
    session.add(message)
    return message


def newest_first() -> Select:
    """Every message, newest first (the administrators' outbox page)."""
    return select(OutboxMessage).order_by(OutboxMessage.created_at.desc(),
                                          OutboxMessage.id.desc())


def _email(message: OutboxMessage, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = format_datetime(utcnow())
    email["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    email.set_content(message.body)
    return email


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    if settings.starttls:
        smtp.starttls()
    if settings.username:
        smtp.login(settings.username, settings.password or "")
    return smtp


def _claim(session: Session) -> list[OutboxMessage]:
    """Take the pending messages with a recipient for this delivery: each is moved to
    `sending` by a conditional update, so two deliveries running at once never both send it;
    committed before anything is sent."""
    candidates = list(session.scalars(
        select(OutboxMessage.id)
        .where(OutboxMessage.status == "pending", OutboxMessage.recipient.is_not(None))
        .order_by(OutboxMessage.id)))
    claimed = [message_id for message_id in candidates if session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message_id,
                                    OutboxMessage.status == "pending")
        .values(status="sending")).rowcount == 1]
    session.commit()
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(claimed))
                                .order_by(OutboxMessage.id))) if claimed else []


def _release(session: Session, messages: list[OutboxMessage]) -> None:
    """Messages not sent go back to pending, for the next delivery."""
    for message in messages:
        if message.status == "sending":
            message.status = "pending"
    session.commit()


def _send_each(session: Session, smtp: smtplib.SMTP, messages: list[OutboxMessage],
               sender: str, now: datetime) -> int:
    """Send one by one, recording each outcome at once (a later failure loses nothing)."""
    sent = 0
    for message in messages:
        try:
            smtp.send_message(_email(message, sender))
        except smtplib.SMTPServerDisconnected as error:
            logger.warning("outbox: SMTP connection lost: %s", error)
            break  # the rest go back to pending for the next run
        except smtplib.SMTPException as error:  # refused by the server: this message only
            message.status, message.error = "failed", f"{type(error).__name__}: {error}"
            session.commit()
            continue
        except OSError as error:
            logger.warning("outbox: SMTP connection lost: %s", error)
            break
        message.status, message.sent_at, message.error = "sent", now, None
        session.commit()
        sent += 1
    return sent


def deliver(session: Session, config: Mapping, now: datetime | None = None) -> int:
    """E-mail the pending messages that have a recipient when SMTP is configured; each becomes
    `sent` or `failed` (with the error). The messages are committed before the first e-mail
    goes, and each outcome right after its e-mail, so that nothing is sent twice. Without
    SMTP, or when the server cannot be reached, they stay pending (visible in the application;
    tried again by the next run). Returns the number sent."""
    settings = SmtpSettings.from_config(config)
    if settings is None:
        return 0
    session.commit()
    messages = _claim(session)
    if not messages:
        return 0
    try:
        smtp = _connect(settings)
    except (OSError, smtplib.SMTPException) as error:
        logger.warning("outbox: SMTP server %s:%s unreachable: %s", settings.host,
                       settings.port, error)
        _release(session, messages)
        return 0
    try:
        sent = _send_each(session, smtp, messages, settings.sender, now or utcnow())
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()
        _release(session, messages)
    return sent
