"""Outbox delivery, a job of its own (`deliver_outbox`): e-mail through SMTP when configured,
otherwise kept in the application; each message claimed and committed before its e-mail goes,
its outcome committed after it, never sent twice."""

from __future__ import annotations

import smtplib
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from coordinator.core.time import utcnow
from coordinator.jobs import runner
from coordinator.outbox import delivery
from coordinator.outbox import services as outbox
from coordinator.outbox.models import OutboxMessage
from tests import factories
from tests.jobs.conftest import make_appointment

REFUSED = "refused@example.test"
BROKEN = "broken@example.test"
SMTP_SETTINGS = {"SMTP_HOST": "smtp.example.test", "SMTP_PORT": 2525,
                 "SMTP_USERNAME": "coordinator", "SMTP_PASSWORD": "secret",
                 "SMTP_SENDER": "rappels@example.test"}


class FakeSMTP:
    """Stands in for smtplib.SMTP: records what would have been sent."""

    instances: list[FakeSMTP] = []
    drop_after: int | None = None  # the connection is lost at this e-mail (0: the first)

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
        if FakeSMTP.drop_after is not None and len(self.sent) >= FakeSMTP.drop_after:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        if message["To"] == REFUSED:
            raise smtplib.SMTPRecipientsRefused({REFUSED: (550, b"no such user")})
        if message["To"] == BROKEN:
            raise RuntimeError("the e-mail could not be built")
        self.sent.append(message)

    def quit(self):
        self.closed = True


@pytest.fixture
def smtp(app, monkeypatch):
    FakeSMTP.instances, FakeSMTP.drop_after = [], None
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    for key, value in SMTP_SETTINGS.items():
        monkeypatch.setitem(app.config, key, value)
    return FakeSMTP


def _by_recipient(session) -> dict:
    session.expire_all()
    return {m.recipient: m for m in session.scalars(select(OutboxMessage))}


def _message(session, recipient: str | None, key: str | None = None) -> OutboxMessage:
    message = outbox.add(session, key=key or f"test:{recipient}", kind="test",
                         subject="Sujet", body="Corps", locale="fr",
                         recipient=recipient)
    session.commit()
    return message


def _deliver(app, now=None) -> dict:
    job_run = runner.run_manually(app, "deliver_outbox", now=now)
    assert job_run.status == "succeeded", job_run.error
    return job_run.counts


def test_reminders_wait_in_the_outbox_and_deliver_outbox_e_mails_them(app, session, smtp):
    now = utcnow()
    for email in ("odile@example.test", REFUSED, None):
        make_appointment(factories.make_patient(email=email),
                         starts_at=now + timedelta(hours=3))

    assert runner.run_manually(app, "appointment_reminders", now=now).counts == {"created": 3}
    assert smtp.instances == []  # writing a message never sends it
    assert {m.status for m in _by_recipient(session).values()} == {"pending"}

    assert _deliver(app, now) == {"sent": 1, "failed": 1}
    (server,) = smtp.instances
    assert (server.host, server.port, server.tls, server.closed) == (
        "smtp.example.test", 2525, True, True)
    assert server.credentials == ("coordinator", "secret")
    (email,) = server.sent
    assert email["From"] == "rappels@example.test" and email["To"] == "odile@example.test"
    assert email["Subject"].startswith("Rappel : rendez-vous le ")
    assert "Nous vous rappelons votre rendez-vous" in email.get_content()
    assert email["Content-Language"] == "fr"  # the language it was written in

    messages = _by_recipient(session)
    assert messages["odile@example.test"].status == "sent"
    assert messages["odile@example.test"].sent_at == now
    assert messages[REFUSED].status == "failed"
    assert "SMTPRecipientsRefused" in messages[REFUSED].error
    assert messages[None].status == "pending"  # no address: shown in the application only

    assert _deliver(app) == {"sent": 0, "failed": 0}
    assert len(smtp.instances) == 1  # nothing left to send: no connection


def test_an_e_mail_says_the_language_its_message_was_written_in(app, session, smtp):
    now = utcnow()
    make_appointment(factories.make_patient(email="ann@example.test", language="en"),
                     starts_at=now + timedelta(hours=3))
    runner.run_manually(app, "appointment_reminders", now=now)
    _message(session, "unknown@example.test")
    session.execute(update(OutboxMessage).where(OutboxMessage.recipient ==
                                                "unknown@example.test").values(locale=None))
    session.commit()  # a message written before its language was recorded
    assert _deliver(app, now) == {"sent": 2, "failed": 0}
    english, unknown = sorted(smtp.instances[0].sent, key=lambda email: email["To"])
    assert english["Content-Language"] == "en"
    assert english["Subject"].startswith("Reminder: appointment on ")
    assert "Content-Language" not in unknown


def _statuses(session) -> list[str]:
    return [message.status for _, message in sorted(_by_recipient(session).items())]


def test_the_claim_is_made_before_any_e_mail_and_each_outcome_before_the_next(
        app, session, smtp, monkeypatch):
    monkeypatch.setattr(delivery, "BATCH", 2)
    for name in "abc":
        _message(session, f"{name}@example.test")
    steps = delivery.deliver(session, app.config, utcnow())

    next(steps)  # the runner commits at each step
    assert smtp.instances == []
    assert _statuses(session) == ["sending", "sending", "pending"]
    next(steps)
    assert [m["To"] for m in smtp.instances[0].sent] == ["a@example.test"]
    assert _statuses(session) == ["sent", "sending", "pending"]
    next(steps)
    assert _statuses(session) == ["sent", "sent", "pending"]
    next(steps)  # the next batch
    assert _statuses(session) == ["sent", "sent", "sending"]
    next(steps)
    assert _statuses(session) == ["sent", "sent", "sent"]
    with pytest.raises(StopIteration) as done:
        next(steps)
    assert done.value.value == {"sent": 3, "failed": 0}
    assert len(smtp.instances) == 1  # one connection for every batch


def test_a_message_being_delivered_is_not_taken_by_another_delivery(app, session, smtp):
    message = _message(session, "a@example.test")
    steps = delivery.deliver(session, app.config, utcnow())
    next(steps)  # claimed by the first delivery
    assert _deliver(app) == {"sent": 0, "failed": 0}  # a run by hand meanwhile: nothing to take
    for _ in steps:
        pass
    assert _by_recipient(session)[message.recipient].status == "sent"
    assert sum(len(server.sent) for server in smtp.instances) == 1


def test_a_lost_connection_puts_the_rest_back_to_pending(app, session, smtp):
    for name in "abc":
        _message(session, f"{name}@example.test")
    smtp.drop_after = 1
    assert _deliver(app) == {"sent": 1, "failed": 0}
    statuses = {recipient: m.status for recipient, m in _by_recipient(session).items()}
    assert statuses == {"a@example.test": "sent", "b@example.test": "pending",
                        "c@example.test": "pending"}
    smtp.drop_after = None
    assert _deliver(app) == {"sent": 2, "failed": 0}  # the next delivery sends them, once
    assert [m["To"] for server in smtp.instances for m in server.sent] == [
        "a@example.test", "b@example.test", "c@example.test"]


def test_an_unexpected_error_fails_that_message_only(app, session, smtp):
    _message(session, BROKEN)
    _message(session, "a@example.test")
    assert _deliver(app) == {"sent": 1, "failed": 1}
    broken = _by_recipient(session)[BROKEN]
    assert broken.status == "failed"
    assert broken.error == "RuntimeError: the e-mail could not be built"


def test_an_unreachable_server_leaves_the_messages_pending(app, session, smtp, monkeypatch):
    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("connection refused")

    monkeypatch.setattr(smtplib, "SMTP", refuse)
    _message(session, "a@example.test")
    assert _deliver(app) == {"sent": 0, "failed": 0}
    assert _by_recipient(session)["a@example.test"].status == "pending"


def test_without_smtp_nothing_is_sent(app, session):
    assert delivery.SmtpSettings.from_config(app.config) is None
    _message(session, "x@example.test", key="k")
    assert _deliver(app) == {"sent": 0, "failed": 0}
    assert session.scalar(select(OutboxMessage.status).where(OutboxMessage.key == "k")) == \
        "pending"


def test_an_address_with_a_line_break_fails_its_message_only_and_says_why(app, session, smtp):
    """#15, finding 5: an address with CR/LF stored before the API validated it must not stop
    the reminders: that message fails with the reason, the others go, later runs succeed."""
    now = utcnow()
    for email in ("odile@example.test", "x@example.test\r\nBcc: all@example.test"):
        make_appointment(factories.make_patient(email=email),
                         starts_at=now + timedelta(hours=3))
    assert runner.run_manually(app, "appointment_reminders", now=now).counts == {"created": 2}
    assert _deliver(app, now) == {"sent": 1, "failed": 1}
    (server,) = smtp.instances
    assert [email["To"] for email in server.sent] == ["odile@example.test"]
    failed = next(m for m in _by_recipient(session).values() if m.status == "failed")
    assert failed.error
    later = runner.run_manually(app, "appointment_reminders", now=now + timedelta(minutes=5))
    assert later.status == "succeeded", later.error
