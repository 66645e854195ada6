"""Outbox delivery: e-mail through SMTP when configured, otherwise kept in the application."""

from __future__ import annotations

import smtplib
from datetime import timedelta

import pytest
from sqlalchemy import select

from coordinator.core.time import utcnow
from coordinator.jobs import tasks
from coordinator.scheduling import outbox
from coordinator.scheduling.models import OutboxMessage
from tests import factories
from tests.jobs.conftest import make_appointment

REFUSED = "refused@example.test"


class FakeSMTP:
    """Stands in for smtplib.SMTP: records what would have been sent."""

    instances: list[FakeSMTP] = []

    def __init__(self, host, port, timeout=None):
        self.host, self.port, self.timeout = host, port, timeout
        self.tls = False
        self.credentials = None
        self.sent = []
        self.closed = False
        FakeSMTP.instances.append(self)

    def starttls(self):
        self.tls = True

    def login(self, username, password):
        self.credentials = (username, password)

    def send_message(self, message):
        if message["To"] == REFUSED:
            raise smtplib.SMTPRecipientsRefused({REFUSED: (550, b"no such user")})
        self.sent.append(message)

    def quit(self):
        self.closed = True


@pytest.fixture
def smtp(app, monkeypatch):
    FakeSMTP.instances = []
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    for key, value in {"SMTP_HOST": "smtp.example.test", "SMTP_PORT": 2525,
                       "SMTP_USERNAME": "coordinator", "SMTP_PASSWORD": "secret",
                       "SMTP_SENDER": "rappels@example.test"}.items():
        monkeypatch.setitem(app.config, key, value)
    return FakeSMTP


def _by_recipient(session) -> dict:
    return {m.recipient: m for m in session.scalars(select(OutboxMessage))}


def test_reminders_are_e_mailed_when_smtp_is_configured(session, smtp):
    now = utcnow()
    for email in ("odile@example.test", REFUSED, None):
        make_appointment(factories.make_patient(email=email),
                         starts_at=now + timedelta(hours=3))

    assert tasks.appointment_reminders(session, now) == {"created": 3, "sent": 1}
    (server,) = smtp.instances
    assert (server.host, server.port, server.tls, server.closed) == (
        "smtp.example.test", 2525, True, True)
    assert server.credentials == ("coordinator", "secret")
    (email,) = server.sent
    assert email["From"] == "rappels@example.test" and email["To"] == "odile@example.test"
    assert email["Subject"].startswith("Rappel : rendez-vous le ")
    assert "Nous vous rappelons votre rendez-vous" in email.get_content()

    messages = _by_recipient(session)
    assert messages["odile@example.test"].status == "sent"
    assert messages["odile@example.test"].sent_at == now
    assert messages[REFUSED].status == "failed"
    assert "SMTPRecipientsRefused" in messages[REFUSED].error
    assert messages[None].status == "pending"  # no address: shown in the application only

    assert tasks.appointment_reminders(session, now) == {"created": 0, "sent": 0}
    assert len(smtp.instances) == 1  # nothing left to send: no connection


def test_an_unreachable_server_leaves_the_messages_pending(session, smtp, monkeypatch):
    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("connection refused")

    monkeypatch.setattr(smtplib, "SMTP", refuse)
    make_appointment(factories.make_patient(email="a@example.test"),
                     starts_at=utcnow() + timedelta(hours=3))
    assert tasks.appointment_reminders(session, utcnow()) == {"created": 1, "sent": 0}
    assert _by_recipient(session)["a@example.test"].status == "pending"


def test_without_smtp_nothing_is_sent(app, session):
    assert outbox.SmtpSettings.from_config(app.config) is None
    outbox.add(session, key="k", kind="test", subject="s", body="b", recipient="x@example.test")
    assert outbox.deliver(session, app.config) == 0
    assert session.scalar(select(OutboxMessage.status).where(OutboxMessage.key == "k")) == \
        "pending"
