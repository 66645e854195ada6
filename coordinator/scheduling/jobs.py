"""The periodic jobs of scheduling (listed in `web.register_jobs`): plain functions of
(session, now) returning their counts, idempotent (a second run in the same conditions changes
nothing), flushing but never committing (the runner owns the transaction)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session, contains_eager

from coordinator.audit import services as audit
from coordinator.audit.models import AuditAction
from coordinator.core.context import Actor
from coordinator.core.dates import format_date, format_time
from coordinator.core.i18n import recipient_locale
from coordinator.outbox import services as outbox
from coordinator.patients.models import Patient
from coordinator.scheduling import rules
from coordinator.scheduling.labels import KIND_LABELS
from coordinator.scheduling.models import Appointment, AppointmentStatus

JOB_ACTOR = Actor.system("jobs")
REMINDER_HORIZON = timedelta(hours=48)


def mark_outcome_missing(session: Session, now: datetime) -> dict[str, int]:
    """Appointments still `scheduled` after their end get `outcome_missing_since = now`, once
    (one UPDATE; the version is left alone so that a user's open form does not conflict)."""
    marked = session.execute(
        update(Appointment)
        .where(rules.outcome_missing(now), Appointment.outcome_missing_since.is_(None))
        .values(outcome_missing_since=now)
        .returning(Appointment.id)
        .execution_options(synchronize_session=False)).scalars().all()
    if marked:
        audit.record(session, JOB_ACTOR, AuditAction.UPDATE, "appointment",
                     summary=f"{len(marked)} appointment(s) marked outcome missing",
                     details={"appointment_ids": sorted(marked)})
    return {"marked": len(marked)}


def reminder_key(appointment: Appointment) -> str:
    """One reminder per appointment and start time: a moved appointment is reminded again."""
    return f"reminder:{appointment.id}:{appointment.starts_at.isoformat()}"


def _place(appointment: Appointment) -> str:
    if appointment.place:
        return appointment.place
    provider = appointment.provider
    parts = [provider.address, " ".join(filter(None, [provider.postal_code, provider.city]))]
    return ", ".join(part for part in parts if part) or _("to be agreed with the provider")


def reminder_text(appointment: Appointment, locale: str) -> tuple[str, str]:
    """The reminder's subject and plain-text body in `locale` (the patient's language), times
    in Europe/Paris."""
    with force_locale(locale):
        day = format_date(appointment.starts_at, "EEEE d MMMM y", locale=locale)
        time = format_time(appointment.starts_at, locale=locale)
        kind = str(KIND_LABELS.get(appointment.kind, appointment.kind))
        patient = appointment.patient
        subject = _("Reminder: appointment on %(day)s at %(time)s", day=day, time=time)
        body = "\n".join([
            _("Hello %(first_names)s %(name)s,", first_names=patient.first_names,
              name=(patient.used_name or patient.birth_name).upper()),
            "",
            _("This is a reminder of your appointment:"),
            _("- on %(day)s at %(time)s (Paris time), %(minutes)d min long;", day=day,
              time=time, minutes=appointment.duration_minutes),
            _("- %(kind)s with %(provider)s;", kind=kind, provider=appointment.provider.name),
            _("- place: %(place)s.", place=_place(appointment)),
            "",
            _("If you cannot come, please let the provider or your case manager know."),
            "",
            _("Automatic message, please do not reply."),
        ])
    return subject, body


def _due_appointments(session: Session, now: datetime) -> list[Appointment]:
    return list(session.scalars(
        select(Appointment)
        .join(Appointment.patient).join(Appointment.provider)
        .options(contains_eager(Appointment.patient), contains_eager(Appointment.provider))
        .where(Appointment.status == AppointmentStatus.SCHEDULED, Appointment.starts_at > now,
               Appointment.starts_at <= now + REMINDER_HORIZON,
               Patient.deceased_date.is_(None))
        .order_by(Appointment.starts_at, Appointment.id)))


def appointment_reminders(session: Session, now: datetime) -> dict[str, int]:
    """One reminder per scheduled appointment starting in (now, now + 48 h] (not for a deceased
    patient) into the outbox, in the patient's language, to their e-mail when known
    (`deliver_outbox` sends it)."""
    due = {reminder_key(appointment): appointment
           for appointment in _due_appointments(session, now)}
    existing = outbox.existing_keys(session, due)
    new = [key for key in due if key not in existing]
    for key in new:
        appointment = due[key]
        locale = recipient_locale(appointment.patient.language)
        subject, body = reminder_text(appointment, locale)
        message = outbox.add(session, key=key, kind="appointment_reminder", subject=subject,
                             body=body, locale=locale, recipient=appointment.patient.email,
                             patient_id=appointment.patient_id)
        session.flush()
        audit.record(session, JOB_ACTOR, AuditAction.CREATE, "outbox_message", message.id,
                     patient_id=appointment.patient_id, summary="Appointment reminder")
    return {"created": len(new)}
