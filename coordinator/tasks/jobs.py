"""The periodic job of the transition-of-care protocol (listed in `web.register_jobs`): a plain
function of (session, now) returning its counts, idempotent, flushing but never committing."""

from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from coordinator.audit import services as audit
from coordinator.audit.models import AuditAction
from coordinator.auth.models import User
from coordinator.auth.roles import Role
from coordinator.core.context import Actor
from coordinator.core.dates import format_date
from coordinator.core.i18n import recipient_locale
from coordinator.core.time import PARIS
from coordinator.outbox import services as outbox
from coordinator.patients.models import Patient
from coordinator.permissions import caseload_rule
from coordinator.stays.models import Stay
from coordinator.tasks import alerts

JOB_ACTOR = Actor.system("jobs")
KIND = "discharge_without_followup"


def notice_text(stays: list[Stay], locale: str) -> tuple[str, str]:
    """The notice's subject and body, in `locale` (the case manager's language)."""
    with force_locale(locale):
        subject = ngettext("%(num)d patient discharged without a follow-up",
                           "%(num)d patients discharged without a follow-up", len(stays))
        lines = [_("Patients of your caseload discharged in the last 7 days with neither a "
                   "contact that reached them nor an appointment booked since:"), ""]
        for stay in stays:
            assert stay.discharged_at is not None
            lines.append(_("- %(patient)s: discharged on %(date)s from %(facility)s",
                           patient=stay.patient.display_name,
                           date=format_date(stay.discharged_at.astimezone(PARIS).date(),
                                            "medium", locale=locale),
                           facility=stay.facility_name))
    return subject, "\n".join(lines)


def discharged_without_followup(session: Session, now: datetime) -> dict[str, int]:
    """Each active case manager with patients of their caseload discharged without a
    follow-up (the worklist alert of that name, not acknowledged) gets one notice per
    Europe/Paris day listing them, into the outbox (`deliver_outbox` sends it). One query for
    every case manager; keyed by case manager and day, so running it again writes nothing."""
    today = now.astimezone(PARIS).date()
    # The caseload of each case manager (`permissions.caseload_scope`, for all of them).
    scope = (Patient.merged_into_id.is_(None) & (User.role == Role.CASE_MANAGER.value) &
             User.is_active.is_(True) & (User.territory_id == Patient.territory_id))
    query = alerts.discharged_without_followup(scope, today) \
        .join(User, caseload_rule(User.id)).add_columns(User)
    by_user: dict[int, tuple[User, list[Stay]]] = {}
    for stay, _plan_id, user in session.execute(query):
        by_user.setdefault(user.id, (user, []))[1].append(stay)
    keys = {f"discharge_followup:{user_id}:{today.isoformat()}": user_id
            for user_id in sorted(by_user)}
    done = outbox.existing_keys(session, keys)
    notices = patients = 0
    for key, user_id in keys.items():
        if key in done:
            continue
        user, stays = by_user[user_id]
        locale = recipient_locale(user.locale)
        subject, body = notice_text(stays, locale)
        message = outbox.add(session, key=key, kind=KIND, subject=subject, body=body,
                             locale=locale, recipient=user.email, user_id=user.id)
        session.flush()
        audit.record(session, JOB_ACTOR, AuditAction.CREATE, "outbox_message", message.id,
                     summary=subject, details={"patient_ids": [s.patient_id for s in stays],
                                               "stay_ids": [s.id for s in stays]})
        notices, patients = notices + 1, patients + len(stays)
    return {"notices": notices, "patients": patients}
