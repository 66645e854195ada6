"""E-mailing the outbox through SMTP (when `SMTP_HOST` is configured), never twice a message: a
message is claimed (`pending` → `sending`, one conditional UPDATE for a batch) and that claim
committed before its e-mail goes, and its outcome (`sent`, or `failed` with the error) committed
right after it. `deliver` is written as steps: it yields where what it did must be committed
before it goes on, and its caller (the job runner) commits there; it never commits itself.

Each step is a single write statement that reads nothing first, and the e-mails are built from
what the claim returned: on SQLite two deliveries at once simply wait for each other's write."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session

from coordinator.core.time import utcnow
from coordinator.outbox.models import OutboxMessage, OutboxStatus

logger = logging.getLogger(__name__)
Counts = dict[str, int]
# Messages claimed at a time: a process that dies mid-delivery leaves at most these `sending`
# (never sent again: the outbox page shows them).
BATCH = 50


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


def _email(message: Row, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = format_datetime(utcnow())
    email["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    email.set_content(message.body)
    if message.locale:  # the language it was written in: its recipient's (after the content,
        email["Content-Language"] = message.locale  # which resets the Content-* headers)
    return email


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    if settings.starttls:
        smtp.starttls()
    if settings.username:
        smtp.login(settings.username, settings.password or "")
    return smtp


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def _claim(session: Session, limit: int) -> list[Row]:
    """Take up to `limit` pending messages that have a recipient, oldest first: one UPDATE whose
    condition (still `pending`) lets a concurrent delivery take none of them. Returns what the
    e-mails need (id, recipient, subject, body, locale)."""
    oldest = (select(OutboxMessage.id)
              .where(OutboxMessage.status == OutboxStatus.PENDING,
                     OutboxMessage.recipient.is_not(None))
              .order_by(OutboxMessage.id).limit(limit).scalar_subquery())
    rows = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(oldest), OutboxMessage.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.SENDING)
        .returning(OutboxMessage.id, OutboxMessage.recipient, OutboxMessage.subject,
                   OutboxMessage.body, OutboxMessage.locale)).all()
    return sorted(rows, key=lambda row: row.id)


def _record(session: Session, message_id: int, **values) -> None:
    session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values))


def _release(session: Session, messages: list[Row]) -> None:
    """Messages of the batch not sent go back to pending, for the next delivery."""
    session.execute(update(OutboxMessage)
                    .where(OutboxMessage.id.in_([message.id for message in messages]),
                           OutboxMessage.status == OutboxStatus.SENDING)
                    .values(status=OutboxStatus.PENDING))


def _send(session: Session, smtp: smtplib.SMTP, message: Row, sender: str,
          now: datetime) -> OutboxStatus | None:
    """Send one message and record its outcome: "sent" or "failed"; None when the connection is
    lost (the message stays claimed, to be released: SMTP accepts a message only when the
    server answers its end, so it was not accepted)."""
    try:
        smtp.send_message(_email(message, sender))
    except smtplib.SMTPServerDisconnected as error:
        logger.warning("outbox: SMTP connection lost: %s", error)
        return None
    except smtplib.SMTPException as error:  # refused by the server: this message only
        _record(session, message.id, status=OutboxStatus.FAILED,
                error=f"{type(error).__name__}: {error}")
        return OutboxStatus.FAILED
    except OSError as error:
        logger.warning("outbox: SMTP connection lost: %s", error)
        return None
    except Exception as error:  # e.g. an address the e-mail headers refuse: never tried again
        logger.exception("outbox: message %s not sent", message.id)
        _record(session, message.id, status=OutboxStatus.FAILED,
                error=f"{type(error).__name__}: {error}")
        return OutboxStatus.FAILED
    _record(session, message.id, status=OutboxStatus.SENT, sent_at=now, error=None)
    return OutboxStatus.SENT


def deliver(session: Session, config: Mapping, now: datetime
            ) -> Generator[None, None, Counts]:
    """E-mail the pending messages that have a recipient when SMTP is configured, a batch at a
    time; each becomes `sent` or `failed` (with the error). Without SMTP, or when the server
    cannot be reached or the connection is lost, they stay pending (visible in the application;
    tried again by the next delivery). Steps: yields after each claim and after each e-mail
    (the caller commits there); returns the counts."""
    counts = {"sent": 0, "failed": 0}
    settings = SmtpSettings.from_config(config)
    if settings is None:
        return counts
    smtp: smtplib.SMTP | None = None
    try:
        while batch := _claim(session, BATCH):
            yield  # the claim is committed before any of its e-mails goes
            if smtp is None:
                try:
                    smtp = _connect(settings)
                except (OSError, smtplib.SMTPException) as error:
                    logger.warning("outbox: SMTP server %s:%s unreachable: %s", settings.host,
                                   settings.port, error)
                    _release(session, batch)
                    return counts
            for message in batch:
                outcome = _send(session, smtp, message, settings.sender, now)
                if outcome is None:  # this one and the rest wait for the next delivery
                    _release(session, batch)
                    return counts
                counts[outcome] += 1
                yield  # each outcome is committed before the next e-mail goes
    finally:
        if smtp is not None:
            _quit(smtp)
    return counts
