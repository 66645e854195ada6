"""Template globals and filters, every one of them registered here (from the application
factory, `web.init_app`), none by a blueprint: permission checks, roles, navigation,
locale-aware formatting, and the labels the domains' templates share. A blueprint may add
helpers for its own templates only (`bp.context_processor`)."""

from __future__ import annotations

from flask import Flask
from flask_babel import format_decimal, get_locale

from coordinator import permissions
from coordinator.auth.roles import Role
from coordinator.careplans.labels import DOMAIN_LABELS, TEMPLATE_LABELS
from coordinator.core.dates import format_date, format_datetime, format_time, in_paris
from coordinator.core.i18n import LANGUAGE_NAMES
from coordinator.core.time import local_today
from coordinator.providers.forms import KIND_LABELS as PROVIDER_KIND_LABELS
from coordinator.scheduling import labels as appointment_labels
from coordinator.stays.labels import STAY_LABELS
from coordinator.tasks.labels import TaskLabels


def initial_capital(text: str) -> str:
    """A title's first letter in capitals, the rest as written ("novembre 2026" → "Novembre
    2026"; Jinja's `capitalize` would also lower "30 November" to "30 november")."""
    return text[:1].upper() + text[1:]


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        can=permissions.can,
        policies=permissions,
        Role=Role,
        current_locale=lambda: str(get_locale()),
        language_names=LANGUAGE_NAMES,
        today=local_today,
        paris=in_paris,
        # appointments (pages, calendars, worklists)
        appointment_kinds=appointment_labels.KIND_LABELS,
        appointment_statuses=appointment_labels.STATUS_LABELS,
        no_show_reasons=appointment_labels.REASON_LABELS,
        consecutive_no_show=appointment_labels.consecutive_no_show,
        # care plans (pages and printed summary)
        kind_labels=PROVIDER_KIND_LABELS,
        domain_labels=DOMAIN_LABELS,
        plan_labels=TEMPLATE_LABELS,
        # hospital stays and clinical events (the record's section, their forms)
        stay_labels=STAY_LABELS,
        # tasks, contacts and alerts (worklist, patient record, task pages)
        task_labels=TaskLabels,
    )
    app.jinja_env.filters.update(
        date=format_date, datetime=format_datetime, time=format_time, number=format_decimal,
        initial_capital=initial_capital,
    )
