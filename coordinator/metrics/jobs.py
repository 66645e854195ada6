"""The periodic jobs of the metrics (listed in `web.register_jobs`): every night, the dashboard's
counts of the closed periods counted again (`refresh_metric_counts`, `metrics.stored`); when a
month closes, a notice to a territory's council for each indicator of a program below its target
that month (`metrics_target_alerts`).

For the calendar month before `now` (Paris), the figures of each program are computed for every
territory at once by the metrics service (one grouped statement per figure, for all the
territories: nothing per patient, nor per territory), each territory's indicators carrying its
effective target (`metrics.targets`). An indicator whose exact rate is below its target gives
each active council account of the territory one notice in the outbox, keyed by territory,
program, indicator, month and account: the job run again for the same month writes nothing
more. Councils read aggregates only: the notice says the indicator, the month, the target, and
the rate as the council reads it (withheld when its counts are small).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from babel.dates import format_date
from babel.numbers import format_percent
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.audit import services as audit
from coordinator.audit.models import AuditAction
from coordinator.auth.models import User
from coordinator.core.context import Actor
from coordinator.core.i18n import recipient_locale
from coordinator.core.time import PARIS
from coordinator.metrics import services, stored, targets
from coordinator.metrics.periods import Period
from coordinator.metrics.results import Indicator
from coordinator.outbox import services as outbox
from coordinator.permissions import target_alert_recipients
from coordinator.strata.models import Program, Territory

JOB_ACTOR = Actor.system("jobs")
KIND = targets.ALERT_KIND


def closed_month(now: datetime) -> Period:
    """The calendar month (Paris) that ended before `now`'s day."""
    first_of_this_month = now.astimezone(PARIS).date().replace(day=1)
    last = first_of_this_month - timedelta(days=1)
    return Period(last.replace(day=1), last)


def alert_key(territory: str, program: str, indicator: str, month: date, user_id: int) -> str:
    """One notice per territory, program, indicator, month and council account."""
    return f"target:{territory}:{program}:{indicator}:{month:%Y-%m}:{user_id}"


@dataclass(frozen=True)
class Shortfall:
    """An indicator of a program below its target in a territory for a month."""

    territory: str
    program: Program
    exact: Indicator
    seen: Indicator  # as the council reads it (its rate may be withheld)
    month: Period


def shortfalls(session: Session, month: Period, now: datetime) -> list[Shortfall]:
    """Every (territory, program, indicator) whose exact rate is below its effective target for
    the month: per program, the figures of every territory at once."""
    codes = {row.id: row.code for row in session.execute(select(Territory.id, Territory.code))}
    found = []
    for program in session.scalars(select(Program).order_by(Program.code)).all():
        selection = services.Selection(month, program=program)
        for territory_id, exact, withheld in services.territories_exact_and_withheld(
                session, selection, now=now):
            seen = {indicator.code: indicator for indicator in withheld.indicators}
            for indicator in exact.indicators:
                if indicator.computed and indicator.gap is not None and indicator.gap > 0:
                    found.append(Shortfall(codes[territory_id], program, indicator,
                                           seen[indicator.code], month))
    return found


def notice_text(shortfall: Shortfall, locale: str) -> tuple[str, str]:
    """The notice's subject and body, in `locale` (the account's language): aggregates
    only."""
    with force_locale(locale):
        month = format_date(shortfall.month.first, "MMMM y", locale=locale)
        indicator = shortfall.seen
        target = format_percent(indicator.target or 0, "#,##0.#%", locale=locale)
        rate = _("withheld (small numbers)") if indicator.rate is None or \
            indicator.rate.value is None else \
            format_percent(indicator.rate.value, "#,##0.#%", locale=locale)
        # the indicator's label in the recipient's language (the figures were computed once
        # for every recipient, in the job's)
        label = next((own.display_label for own in shortfall.program.indicators
                      if own.code == indicator.code), indicator.label)
        subject = _("Target not met in %(month)s: %(indicator)s (%(program)s)", month=month,
                    indicator=label, program=shortfall.program.code)
        body = "\n".join([
            _("An indicator of your territory was below its target last month."), "",
            _("Territory: %(code)s", code=shortfall.territory),
            _("Program: %(code)s", code=shortfall.program.code),
            _("Indicator: %(label)s (%(code)s)", label=label, code=indicator.code),
            _("Month: %(month)s", month=month),
            _("Rate: %(rate)s", rate=rate),
            _("Target: %(target)s", target=target),
        ])
    return subject, body


def metrics_target_alerts(session: Session, now: datetime) -> dict[str, int]:
    """For the month just closed, a notice into the outbox for each council account of a
    territory with an indicator below its target (`deliver_outbox` e-mails it); idempotent."""
    month = closed_month(now)
    councils: dict[int, list[User]] = {}
    for user in session.scalars(select(User).where(target_alert_recipients())
                                .order_by(User.id)):
        assert user.territory_id is not None
        councils.setdefault(user.territory_id, []).append(user)
    if not councils:
        return {"below_target": 0, "notices": 0}
    territory_ids = {row.code: row.id
                     for row in session.execute(select(Territory.code, Territory.id))}
    found = shortfalls(session, month, now)
    wanted = {alert_key(s.territory, s.program.code, s.exact.code, month.first, user.id):
              (s, user)
              for s in found for user in councils.get(territory_ids[s.territory], [])}
    done = outbox.existing_keys(session, wanted)
    notices = 0
    for key, (shortfall, user) in wanted.items():
        if key in done:
            continue
        locale = recipient_locale(user.locale)
        subject, body = notice_text(shortfall, locale)
        message = outbox.add(session, key=key, kind=KIND, subject=subject, body=body,
                             locale=locale, recipient=user.email, user_id=user.id)
        session.flush()
        audit.record(session, JOB_ACTOR, AuditAction.CREATE, "outbox_message", message.id,
                     summary=subject, details={"territory": shortfall.territory,
                                               "program": shortfall.program.code,
                                               "indicator": shortfall.exact.code,
                                               "month": f"{month.first:%Y-%m}"})
        notices += 1
    return {"below_target": len(found), "notices": notices}


def refresh_metric_counts(session: Session, now: datetime) -> dict[str, int]:
    """The counts the dashboard reads for the closed periods, counted again as of `now`
    (`metrics.stored.refresh`): written in one transaction, in place of the previous ones."""
    return {"rows": stored.refresh(session, now)}
