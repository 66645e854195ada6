"""What the periodic jobs do: each a plain function of (session, now) returning its counts,
idempotent (a second run in the same conditions changes nothing), flushing but never committing
(the runner owns the transaction).

Not here yet: "patients discharged without a follow-up" needs hospital stays, which do not exist
in the application yet (`coordinator/stays/` is still to build); that job is to be added to the
registry with the stays.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from babel.dates import format_date, format_datetime
from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session, contains_eager

from coordinator.audit import services as audit
from coordinator.audit.models import AuditAction
from coordinator.auth.models import User
from coordinator.auth.roles import Role
from coordinator.careplans.lists import review_overdue
from coordinator.core.context import Actor
from coordinator.core.time import PARIS
from coordinator.patients.models import Patient
from coordinator.scheduling import outbox, rules
from coordinator.scheduling.models import Appointment

JOB_ACTOR = Actor.system("jobs")
REMINDER_HORIZON = timedelta(hours=48)
# Patients have no language of their own yet: their messages are in French.
PATIENT_LOCALE = "fr"
KIND_FR = {"consultation": "consultation", "home_visit": "visite à domicile",
           "teleconsultation": "téléconsultation", "group_session": "séance collective"}


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
    return ", ".join(part for part in parts if part) or "à préciser avec le professionnel"


def reminder_text(appointment: Appointment) -> tuple[str, str]:
    """The reminder's subject and plain-text body, in French, times in Europe/Paris."""
    when = format_datetime(appointment.starts_at, "EEEE d MMMM y 'à' HH:mm", tzinfo=PARIS,
                           locale=PATIENT_LOCALE)
    patient = appointment.patient
    subject = f"Rappel : rendez-vous le {when}"
    body = "\n".join([
        f"Bonjour {patient.first_names} {(patient.used_name or patient.birth_name).upper()},",
        "",
        "Nous vous rappelons votre rendez-vous :",
        f"- le {when} (heure de Paris), durée {appointment.duration_minutes} min ;",
        f"- {KIND_FR.get(appointment.kind, appointment.kind)} avec {appointment.provider.name} ;",
        f"- lieu : {_place(appointment)}.",
        "",
        "En cas d’empêchement, merci de prévenir le professionnel ou votre gestionnaire de cas.",
        "",
        "Message automatique, merci de ne pas y répondre.",
    ])
    return subject, body


def _due_appointments(session: Session, now: datetime) -> list[Appointment]:
    return list(session.scalars(
        select(Appointment)
        .join(Appointment.patient).join(Appointment.provider)
        .options(contains_eager(Appointment.patient), contains_eager(Appointment.provider))
        .where(Appointment.status == "scheduled", Appointment.starts_at > now,
               Appointment.starts_at <= now + REMINDER_HORIZON,
               Patient.deceased_date.is_(None))
        .order_by(Appointment.starts_at, Appointment.id)))


def appointment_reminders(session: Session, now: datetime) -> dict[str, int]:
    """One reminder per scheduled appointment starting in (now, now + 48 h] (not for a deceased
    patient), to the patient's e-mail when known; then the outbox is delivered."""
    due = {reminder_key(appointment): appointment
           for appointment in _due_appointments(session, now)}
    existing = outbox.existing_keys(session, due)
    new = [key for key in due if key not in existing]
    for key in new:
        appointment = due[key]
        subject, body = reminder_text(appointment)
        message = outbox.add(session, key=key, kind="appointment_reminder", subject=subject,
                             body=body, recipient=appointment.patient.email,
                             patient_id=appointment.patient_id)
        session.flush()
        audit.record(session, JOB_ACTOR, AuditAction.CREATE, "outbox_message", message.id,
                     patient_id=appointment.patient_id, summary="Appointment reminder")
    sent = outbox.deliver(session, current_app.config, now)
    return {"created": len(new), "sent": sent}


def _case_managers(session: Session) -> list[User]:
    return list(session.scalars(
        select(User).where(User.role == Role.CASE_MANAGER.value, User.is_active.is_(True),
                           User.territory_id.is_not(None))
        .order_by(User.id)))


def review_notice_text(user: User, plans: list) -> tuple[str, str]:
    """The notice's subject and body, in the case manager's language."""
    locale = user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        subject = ngettext("%(num)d plan to review", "%(num)d plans to review", len(plans))
        lines = [_("Active care plans of your caseload past their review date:"), ""]
        lines += [_("- %(patient)s: review due on %(date)s", patient=plan.patient.display_name,
                    date=format_date(plan.review_date, "medium", locale=locale))
                  for plan in plans]
    return subject, "\n".join(lines)


def review_overdue_plans(session: Session, now: datetime) -> dict[str, int]:
    """Each active case manager with active plans of their caseload past the review date gets
    one notice per Europe/Paris day listing those patients."""
    today = now.astimezone(PARIS).date()
    keys = {f"review:{user.id}:{today.isoformat()}": user for user in _case_managers(session)}
    done = outbox.existing_keys(session, keys)
    notices = plans_count = 0
    for key, user in keys.items():
        plans = [] if key in done else list(session.scalars(review_overdue(user, today)))
        if not plans:
            continue
        subject, body = review_notice_text(user, plans)
        message = outbox.add(session, key=key, kind="review_overdue", subject=subject,
                             body=body, recipient=user.email, user_id=user.id)
        session.flush()
        audit.record(session, JOB_ACTOR, AuditAction.CREATE, "outbox_message", message.id,
                     summary=subject, details={"patient_ids": [p.patient_id for p in plans]})
        notices, plans_count = notices + 1, plans_count + len(plans)
    sent = outbox.deliver(session, current_app.config, now)
    return {"notices": notices, "plans": plans_count, "sent": sent}


def purge_printed_documents(session: Session, now: datetime) -> dict[str, int]:
    """Patient documents do not pile up: old cached PDFs and batch PDFs are deleted."""
    from coordinator.printing import services as printing

    return printing.purge(session, now)
