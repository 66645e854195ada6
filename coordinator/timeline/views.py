"""The patient's timeline page (`/patients/<id>/timeline`), and the link the patient's record
shows to it (a section of the record, provided for `patients.services.RECORD_SECTIONS` in
`coordinator/web.py`)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, render_template, request
from flask_login import current_user
from sqlalchemy.orm import Session

from coordinator.core.dates import format_time
from coordinator.core.time import local_today
from coordinator.core.viewhelpers import current_actor
from coordinator.extensions import db
from coordinator.patients.banner import for_page as patient_banner
from coordinator.patients.models import Patient
from coordinator.permissions import TIMELINE_READER, abort_if_hidden, can_view_timeline, require
from coordinator.timeline import services
from coordinator.timeline.forms import TimelineFilterForm
from coordinator.timeline.labels import ENTRY_LABELS, KIND_LABELS, PLAN_EVENT_LABELS
from coordinator.timeline.services import Period, TimelineKind

bp = Blueprint("timeline", __name__)


@bp.context_processor
def _helpers() -> dict:
    """For the timeline's templates: its labels, and a time of day in the reader's locale
    (Paris time)."""
    return {"timeline_labels": {"kind": KIND_LABELS, "entry": ENTRY_LABELS,
                                "plan_event": PLAN_EVENT_LABELS},
            "time_of_day": lambda moment: format_time(moment, "short")}


def record_link(session: Session, patient: Patient) -> dict | None:
    """The record's link to the timeline, for whoever may open it (no query)."""
    if not can_view_timeline(current_user, patient):
        return None
    return {"template": "timeline/_record_link.html"}


@bp.get("/patients/<int:patient_id>/timeline")
@require(TIMELINE_READER)
def show(patient_id: int):
    patient = db.session.get(Patient, patient_id)
    abort_if_hidden(patient is not None and can_view_timeline(current_user, patient))
    today = local_today()
    form = TimelineFilterForm(request.args)
    chosen = bool(request.args)
    if not chosen:  # the first visit: every kind, the last 12 months and what is to come
        default = Period.default(today)
        form.start.data, form.kind.data = default.start, []
    shown = None
    if not chosen or form.validate():
        period = Period(form.start.data, form.end.data) if chosen else Period.default(today)
        shown = services.timeline(db.session, patient, period=period, today=today,
                                  kinds=[TimelineKind(kind) for kind in form.kind.data or ()])
    services.read_timeline(db.session, current_actor(), patient, shown)
    db.session.commit()
    quick = {"3": today - timedelta(days=91), "12": today - timedelta(days=365)}
    return render_template("timeline/show.html", patient=patient, form=form, timeline=shown,
                           banner=patient_banner(patient),
                           quick=quick), 200 if shown is not None else 400
