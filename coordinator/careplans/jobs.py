"""The periodic job of care plans (listed in `web.register_jobs`): a plain function of
(session, now) returning its counts, idempotent, flushing but never committing."""

from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.audit import services as audit
from coordinator.audit.models import AuditAction
from coordinator.auth.models import User
from coordinator.auth.roles import Role
from coordinator.careplans.lists import review_overdue
from coordinator.core.context import Actor
from coordinator.core.dates import format_date
from coordinator.core.i18n import recipient_locale
from coordinator.core.time import PARIS
from coordinator.outbox import services as outbox

JOB_ACTOR = Actor.system("jobs")


def _case_managers(session: Session) -> list[User]:
    return list(session.scalars(
        select(User).where(User.role == Role.CASE_MANAGER.value, User.is_active.is_(True),
                           User.territory_id.is_not(None))
        .order_by(User.id)))


def review_notice_text(plans: list, locale: str) -> tuple[str, str]:
    """The notice's subject and body, in `locale` (the case manager's language)."""
    with force_locale(locale):
        subject = ngettext("%(num)d plan to review", "%(num)d plans to review", len(plans))
        lines = [_("Active care plans of your caseload past their review date:"), ""]
        lines += [_("- %(patient)s: review due on %(date)s", patient=plan.patient.display_name,
                    date=format_date(plan.review_date, "medium", locale=locale))
                  for plan in plans]
    return subject, "\n".join(lines)


def review_overdue_plans(session: Session, now: datetime) -> dict[str, int]:
    """Each active case manager with active plans of their caseload past the review date gets
    one notice per Europe/Paris day listing those patients, into the outbox (`deliver_outbox`
    sends it)."""
    today = now.astimezone(PARIS).date()
    keys = {f"review:{user.id}:{today.isoformat()}": user for user in _case_managers(session)}
    done = outbox.existing_keys(session, keys)
    notices = plans_count = 0
    for key, user in keys.items():
        plans = [] if key in done else list(session.scalars(review_overdue(user, today)))
        if not plans:
            continue
        locale = recipient_locale(user.locale)
        subject, body = review_notice_text(plans, locale)
        message = outbox.add(session, key=key, kind="review_overdue", subject=subject,
                             body=body, locale=locale, recipient=user.email, user_id=user.id)
        session.flush()
        audit.record(session, JOB_ACTOR, AuditAction.CREATE, "outbox_message", message.id,
                     summary=subject, details={"patient_ids": [p.patient_id for p in plans]})
        notices, plans_count = notices + 1, plans_count + len(plans)
    return {"notices": notices, "plans": plans_count}
