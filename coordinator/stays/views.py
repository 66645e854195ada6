"""Hospital stays and clinical events entered by hand, from the patient's record: record a stay,
change it, cancel its admission or its discharge; record an event, change it. The record shows
them in its "Hospital stays" section (`record_section`, provided for the record's extension
point in `coordinator/web.py`), with the readmission marks and LACE with its components."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import Session

from coordinator.core.time import PARIS
from coordinator.core.unitofwork import checked, conflict_page, unit_of_work
from coordinator.core.viewhelpers import current_actor
from coordinator.extensions import db
from coordinator.patients.banner import for_page as patient_banner
from coordinator.patients.models import Patient
from coordinator.permissions import STAY_EDITOR, abort_if_hidden, can_edit_stays, require
from coordinator.stays import lace, services
from coordinator.stays.forms import ConfirmForm, EventForm, StayForm
from coordinator.stays.models import ClinicalEvent, Stay, StaySource

bp = Blueprint("stays", __name__, url_prefix="/stays")


# -- The record's section (extension point patients.services.RECORD_SECTIONS) -----------------

def readmission_marks(stays: list[Stay]) -> dict[int, dict]:
    """For each stay, its marks: the index stay it readmits and after how many days, the stay
    that readmitted it (the patient's stays are all in `stays`: no query), and its LACE with
    its components (None while open or cancelled)."""
    by_id = {stay.id: stay for stay in stays}
    marks: dict[int, dict] = {}
    for stay in stays:
        mark: dict = {"lace": lace.components(stay),
                      "high_risk": lace.is_high_risk(stay.lace_score)}
        index = by_id.get(stay.readmission_of_id) if stay.readmission_of_id else None
        if index is not None and index.discharged_on is not None:
            mark["readmits"] = index
            mark["days"] = (stay.admitted_on - index.discharged_on).days
        if stay.readmitted_by_id and stay.readmitted_by_id in by_id:
            mark["readmitted_by"] = by_id[stay.readmitted_by_id]
        marks[stay.id] = mark
    return marks


def record_section(session: Session, patient: Patient) -> dict:
    """The "Hospital stays" section of the record (three queries whatever the rows): its stays,
    cancelled ones included, and clinical events. The record's read is audited by its page."""
    stays = services.stays_of(session, patient.id)
    return {"template": "stays/_record_section.html", "stays": stays,
            "marks": readmission_marks(stays), "events": services.events_of(session, patient.id),
            "may_edit": can_edit_stays(current_user, patient)}


# -- Pages ---------------------------------------------------------------------------------------

def _patient(patient_id: int) -> Patient:
    patient = db.session.get(Patient, patient_id)
    abort_if_hidden(patient is not None and can_edit_stays(current_user, patient))
    return patient


def _stay(stay_id: int) -> Stay:
    stay = db.session.get(Stay, stay_id)
    abort_if_hidden(stay is not None and can_edit_stays(current_user, stay.patient))
    return stay


def _event(event_id: int) -> ClinicalEvent:
    event = db.session.get(ClinicalEvent, event_id)
    abort_if_hidden(event is not None and can_edit_stays(current_user, event.patient))
    return event


def _record(patient_id: int, anchor: str = "stays"):
    return redirect(url_for("patients.show", patient_id=patient_id, _anchor=anchor))


def _local(moment):
    """A stored instant as the form's Paris wall-clock time."""
    return moment.astimezone(PARIS).replace(tzinfo=None) if moment is not None else None


def _fill(form: StayForm, stay: Stay) -> None:
    form.facility_name.data = stay.facility_name
    form.facility_finess.data = stay.facility_finess
    form.location.data = stay.location
    form.admitted_at.data = _local(stay.admitted_at)
    form.admission_mode.data = stay.admission_mode
    form.discharged_at.data = _local(stay.discharged_at)
    form.discharge_destination.data = stay.discharge_destination or ""
    form.main_diagnosis.data = stay.main_diagnosis
    form.diagnoses.data = " ".join(row.code for row in stay.diagnoses)
    form.version.data = stay.version


@bp.route("/patients/<int:patient_id>/new", methods=["GET", "POST"])
@require(STAY_EDITOR)
def create(patient_id: int):
    patient = _patient(patient_id)
    form = StayForm()
    if checked(form, lambda: services.check_stay(db.session, patient=patient,
                                                 values=form.service_values())):
        with unit_of_work(form) as work:
            services.record_stay(db.session, patient=patient, values=form.service_values(),
                                 source=StaySource.FORM, actor=current_actor())
        if work.ok:
            flash(_("Stay recorded."), "success")
            return _record(patient.id)
    status = 400 if request.method == "POST" else 200
    return render_template("stays/stay_form.html", form=form, patient=patient,
                           banner=patient_banner(patient), stay=None,
                           confirm=None), status


@bp.route("/<int:stay_id>/edit", methods=["GET", "POST"])
@require(STAY_EDITOR)
def edit(stay_id: int):
    stay = _stay(stay_id)
    patient = stay.patient
    form = StayForm()
    if request.method == "GET":
        _fill(form, stay)
        services.read_stay(db.session, current_actor(), stay)
        db.session.commit()
    elif checked(form, lambda: services.check_stay(db.session, patient=patient,
                                                   values=form.service_values(), stay=stay)):
        with unit_of_work(form) as work:
            services.record_stay(db.session, patient=patient, values=form.service_values(),
                                 source=StaySource.FORM, actor=current_actor(), stay=stay,
                                 expected_version=_version(form))
        if work.conflict:
            return _conflict(form, stay)
        if work.ok:
            flash(_("Stay saved."), "success")
            return _record(patient.id)
    status = 400 if request.method == "POST" else 200
    return render_template("stays/stay_form.html", form=form, patient=patient,
                           banner=patient_banner(patient), stay=stay,
                           marks=readmission_marks(services.stays_of(db.session, patient.id)),
                           confirm=ConfirmForm(formdata=None, version=stay.version)), status


def _version(form) -> int | None:
    try:
        return int(form.version.data)
    except (TypeError, ValueError):
        return None


def _conflict(form: StayForm, stay: Stay):
    services.read_stay(db.session, current_actor(), stay)  # shows the current values
    db.session.commit()
    return conflict_page("stays/stay_form.html", form, stay, patient=stay.patient, stay=stay,
                         marks=readmission_marks(services.stays_of(db.session, stay.patient_id)),
                         confirm=ConfirmForm(formdata=None, version=stay.version),
                         message=_("The stay was changed meanwhile: check it, then save "
                                   "again."))


def _cancel(stay_id: int, cancel, done: str):
    stay = _stay(stay_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash(_("Your form has expired or is missing its security token. Reload the page and "
                "submit it again."), "danger")
        return redirect(url_for(".edit", stay_id=stay.id))
    with unit_of_work(form) as work:
        cancel(db.session, stay, actor=current_actor(), source=StaySource.FORM,
               expected_version=_version(form))
    if work.conflict:
        flash(_("The stay was changed meanwhile: check it, then try again."), "warning")
        return redirect(url_for(".edit", stay_id=stay.id))
    if work.ok:
        flash(done, "success")
    return _record(stay.patient_id)


@bp.post("/<int:stay_id>/cancel")
@require(STAY_EDITOR)
def cancel_admission(stay_id: int):
    """The admission did not happen: the stay is kept, marked cancelled, and counts nowhere."""
    return _cancel(stay_id, services.cancel_admission,
                   _("Admission cancelled: the stay counts nowhere now."))


@bp.post("/<int:stay_id>/cancel-discharge")
@require(STAY_EDITOR)
def cancel_discharge(stay_id: int):
    """The discharge did not happen: the stay is open again."""
    return _cancel(stay_id, services.cancel_discharge,
                   _("Discharge cancelled: the stay is open again."))


# -- Clinical events -----------------------------------------------------------------------------

@bp.route("/patients/<int:patient_id>/events/new", methods=["GET", "POST"])
@require(STAY_EDITOR)
def create_event(patient_id: int):
    patient = _patient(patient_id)
    form = EventForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            services.record_event(db.session, patient=patient, values=form.service_values(),
                                  source=StaySource.FORM, actor=current_actor())
        if work.ok:
            flash(_("Event recorded."), "success")
            return _record(patient.id, "events")
    status = 400 if request.method == "POST" else 200
    return render_template("stays/event_form.html", form=form, patient=patient,
                           banner=patient_banner(patient), event=None), status


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@require(STAY_EDITOR)
def edit_event(event_id: int):
    event = _event(event_id)
    patient = event.patient
    form = EventForm()
    if request.method == "GET":
        form.event_type.data = event.event_type
        form.code.data = event.code
        form.occurred_on.data = event.occurred_on
        form.value.data = "" if event.value is None else f"{event.value.normalize():f}"
        form.label.data = event.label
        form.version.data = event.version
        services.read_event(db.session, current_actor(), event)
        db.session.commit()
    elif form.validate_on_submit():
        with unit_of_work(form) as work:
            services.record_event(db.session, patient=patient, values=form.service_values(),
                                  source=StaySource.FORM, actor=current_actor(), event=event,
                                  expected_version=_version(form))
        if work.conflict:
            services.read_event(db.session, current_actor(), event)
            db.session.commit()
            return conflict_page("stays/event_form.html", form, event, patient=patient,
                                 event=event,
                                 message=_("The event was changed meanwhile: check it, then "
                                           "save again."))
        if work.ok:
            flash(_("Event saved."), "success")
            return _record(patient.id, "events")
    status = 400 if request.method == "POST" else 200
    return render_template("stays/event_form.html", form=form, patient=patient,
                           banner=patient_banner(patient), event=event), status
