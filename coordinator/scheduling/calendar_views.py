"""Calendars: week and month views per patient, per provider and for a caseload; iCalendar
feeds behind secret, revocable addresses."""

from __future__ import annotations

from datetime import date
from functools import partial

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from coordinator.core.bounds import date_problem
from coordinator.core.time import local_today
from coordinator.core.viewhelpers import current_actor
from coordinator.extensions import db
from coordinator.patients.banner import for_page as patient_banner
from coordinator.patients.models import Patient
from coordinator.permissions import (
    CASE_MANAGER,
    PATIENT_STAFF,
    PUBLIC,
    abort_if_hidden,
    can_open_patient_calendar,
    can_open_provider_calendar,
    require,
    shows_appointment_patient,
)
from coordinator.providers.models import Provider
from coordinator.scheduling import calendar, feeds, services
from coordinator.scheduling.labels import KIND_LABELS, STATUS_LABELS
from coordinator.scheduling.models import CalendarFeed

bp = Blueprint("calendar", __name__, url_prefix="/calendar")


def _period() -> calendar.Period:
    """The period asked for by `?view=week|month&date=YYYY-MM-DD` (this week by default)."""
    view = request.args.get("view") or "week"
    if view not in calendar.VIEWS:
        abort(400, description=_("Choose the week or the month view."))
    try:
        anchor = date.fromisoformat(request.args["date"]) if request.args.get("date") \
            else local_today()
    except ValueError:
        anchor = None
    if anchor is None:
        abort(400, description=_("Give the date as YYYY-MM-DD."))
    if date_problem(anchor):  # beyond, a date is a typo (and a grid would overflow `date`)
        abort(400, description=str(date_problem(anchor)))
    return calendar.period(view, anchor)


def _visible_provider(provider_id: int) -> Provider:
    """A provider's calendar, if the user may open it; any other provider answers 404."""
    provider = db.session.get(Provider, provider_id)
    abort_if_hidden(can_open_provider_calendar(current_user, provider))
    return provider


def _visible_patient(patient_id: int) -> Patient:
    patient = db.session.get(Patient, patient_id)
    abort_if_hidden(can_open_patient_calendar(current_user, patient))
    return patient


def _per_day(shown: calendar.Period) -> int | None:
    """A month cell lists the first appointments of its day; a week lists them all."""
    return calendar.MAX_PER_DAY if shown.view == "month" else None


def _render(scope: str, shown: calendar.Period, listing: calendar.Listing, *, endpoint: str,
            owner=None, status: int = 200, **context):
    """Render a calendar; showing it is an audited read, committed once the page is rendered
    (a commit would expire the loaded rows). Appointments of patients the user may not open
    (another territory's, at a provider of theirs) appear as busy slots only."""
    user = current_user._get_current_object()
    hidden = {a.id for a in listing.appointments if not shows_appointment_patient(user, a)}
    services.read_appointments(
        db.session, current_actor(), f"{scope}_calendar",
        len(listing.appointments) - len(hidden),
        patient_id=owner.id if scope == "patient" else None,
        patients=[a.patient_id for a in listing.appointments if a.id not in hidden])
    grid = calendar.week_grid(shown, listing) if shown.view == "week" else \
        calendar.month_grid(shown, listing)
    nav = partial(url_for, endpoint, **({"owner_id": owner.id} if owner else {}))
    page = render_template(
        "calendar/show.html", scope=scope, owner=owner, shown=shown, grid=grid, hidden=hidden,
        nav=nav, local_time=calendar.local_time, kinds=KIND_LABELS,
        statuses=STATUS_LABELS, max_per_day=calendar.MAX_PER_DAY, **context)
    db.session.commit()
    return page, status


def _provider_page(provider: Provider, shown: calendar.Period, status: int = 200,
                   new_feed_url: str | None = None):
    listing = calendar.provider_appointments(db.session, provider.id, shown.starts_at,
                                             shown.ends_at, _per_day(shown))
    return _render("provider", shown, listing, endpoint="calendar.provider",
                   owner=provider, status=status, new_feed_url=new_feed_url,
                   rate=services.no_show_rate(db.session, "provider", provider.id),
                   feeds=feeds.active_feeds(db.session, provider_id=provider.id),
                   create_endpoint="calendar.create_provider_feed")


def _patient_page(patient: Patient, shown: calendar.Period, status: int = 200,
                  new_feed_url: str | None = None):
    listing = calendar.patient_appointments(db.session, patient.id, shown.starts_at,
                                            shown.ends_at, _per_day(shown))
    return _render("patient", shown, listing, endpoint="calendar.patient", owner=patient,
                   status=status, new_feed_url=new_feed_url, banner=patient_banner(patient),
                   rate=services.no_show_rate(db.session, "patient", patient.id),
                   feeds=feeds.active_feeds(db.session, patient_id=patient.id),
                   create_endpoint="calendar.create_patient_feed")


@bp.get("/provider/<int:owner_id>")
@require(PATIENT_STAFF)
def provider(owner_id: int):
    return _provider_page(_visible_provider(owner_id), _period())


@bp.get("/patient/<int:owner_id>")
@require(PATIENT_STAFF)
def patient(owner_id: int):
    return _patient_page(_visible_patient(owner_id), _period())


@bp.get("/caseload")
@require(CASE_MANAGER)
def caseload():
    shown = _period()
    listing = calendar.caseload_appointments(db.session, current_user, shown.starts_at,
                                             shown.ends_at, _per_day(shown))
    return _render("caseload", shown, listing, endpoint="calendar.caseload")


# -- Feeds -----------------------------------------------------------------------------------

def _feed_url(token: str) -> str:
    return url_for("calendar.feed", token=token, _external=True)


@bp.post("/provider/<int:owner_id>/feeds")
@require(PATIENT_STAFF)
def create_provider_feed(owner_id: int):
    """The new address is shown in this answer only (it is never stored)."""
    provider, shown = _visible_provider(owner_id), _period()
    _feed, token = feeds.create_feed(db.session, current_actor(), provider=provider)
    db.session.commit()
    return _provider_page(provider, shown, 201, _feed_url(token))


@bp.post("/patient/<int:owner_id>/feeds")
@require(PATIENT_STAFF)
def create_patient_feed(owner_id: int):
    """The new address is shown in this answer only (it is never stored)."""
    patient, shown = _visible_patient(owner_id), _period()
    _feed, token = feeds.create_feed(db.session, current_actor(), patient=patient)
    db.session.commit()
    return _patient_page(patient, shown, 201, _feed_url(token))


@bp.post("/feeds/<int:feed_id>/revoke")
@require(PATIENT_STAFF)
def revoke_feed(feed_id: int):
    """Whoever may open the owner's calendar may revoke its feeds."""
    feed = db.session.get(CalendarFeed, feed_id) or abort(404)
    if feed.provider_id is not None:
        _visible_provider(feed.provider_id)
        back = url_for("calendar.provider", owner_id=feed.provider_id)
    else:
        _visible_patient(feed.patient_id)
        back = url_for("calendar.patient", owner_id=feed.patient_id)
    feeds.revoke_feed(db.session, current_actor(), feed)
    db.session.commit()
    flash(_("Subscription address revoked: it no longer works."), "success")
    return redirect(back)


@bp.get("/feed/<token>.ics")
@require(PUBLIC)
def feed(token: str):
    """The token is the credential (no sign-in); unknown or revoked, it answers 404."""
    found = feeds.feed_for_token(db.session, token)
    abort_if_hidden(found is not None)
    body = feeds.build_ics(db.session, found, request.remote_addr)
    db.session.commit()
    return Response(body, mimetype="text/calendar",
                    headers={"Cache-Control": "private, no-store"})
