"""Scheduling pages: book, generate a series from a template or a plan action (preview, adjust,
create), record outcomes (one or a whole day), chase no-shows, reschedule, move a round."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import partial

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext, ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from coordinator.core.bounds import MAX_ID, date_problem
from coordinator.core.errors import ValidationError
from coordinator.core.messages import in_languages
from coordinator.core.pagination import paginate
from coordinator.core.time import as_utc, local_today, utcnow
from coordinator.core.unitofwork import checked, unit_of_work
from coordinator.core.viewhelpers import current_actor, safe_next_url
from coordinator.extensions import db
from coordinator.patients.banner import for_page as patient_banner
from coordinator.patients.models import Patient
from coordinator.permissions import (
    CASE_MANAGER,
    PATIENT_STAFF,
    abort_if_hidden,
    can_record_outcomes_in_bulk,
    can_view_patient,
    require,
)
from coordinator.providers import picking
from coordinator.providers import services as provider_services
from coordinator.providers.forms import KIND_LABELS as PROVIDER_KIND_LABELS
from coordinator.scheduling import rules, series, services, worklists
from coordinator.scheduling.forms import (
    AppointmentForm,
    DayOutcomesForm,
    MoveRoundForm,
    OutcomeForm,
    OutreachForm,
    RebookForm,
    RescheduleForm,
    SeriesForm,
    SeriesSourceForm,
)
from coordinator.scheduling.labels import STATUS_LABELS
from coordinator.scheduling.models import Appointment, AppointmentKind, FollowUpRound

bp = Blueprint("scheduling", __name__, url_prefix="/scheduling")
CHANGED_MEANWHILE = _l("The appointment was changed meanwhile: check it, then try again.")
ROW_ERROR = re.compile(r"^rows-(?P<row>\d+)-(?P<field>\w+)$")


def _patient(patient_id: int) -> Patient:
    patient = db.session.get(Patient, patient_id)
    abort_if_hidden(patient is not None and can_view_patient(current_user, patient))
    return patient


def _appointment(appointment_id: int) -> Appointment:
    appointment = db.session.get(Appointment, appointment_id)
    abort_if_hidden(appointment is not None and
                    can_view_patient(current_user, appointment.patient))
    return appointment


def _naive(moment: datetime | None) -> datetime | None:
    """A form's local date-time: Paris time, no zone (the service interprets it)."""
    return moment.replace(tzinfo=None) if moment is not None else None


# -- Booking one appointment -----------------------------------------------------------------

def _care_team(patient: Patient) -> list[int]:
    """The providers of the care team of the patient's active plan, in the plan's order."""
    from coordinator.careplans.models import CarePlan, CarePlanMember, PlanStatus

    return list(db.session.scalars(
        select(CarePlanMember.provider_id)
        .join(CarePlan, CarePlan.id == CarePlanMember.plan_id)
        .where(CarePlan.patient_id == patient.id, CarePlan.status == PlanStatus.ACTIVE)
        .order_by(CarePlanMember.position, CarePlanMember.id)))


@bp.route("/patients/<int:patient_id>/new", methods=["GET", "POST"])
@require(PATIENT_STAFF)
def book(patient_id: int):
    """Book one appointment. The providers of the active plan's care team come first;
    `?prefill=care_team` chooses the first of them (a follow-up visit booked from a task or an
    alert), `?next=` is where to go once booked."""
    patient = _patient(patient_id)
    form = AppointmentForm()
    team = _care_team(patient)
    providers = provider_services.active_providers(db.session, patient.territory_id)
    form.provider_id.choices = picking.choices(providers, first=team, first_group=_("Care team"))
    picking.searchable(form.provider_id, patient.territory_id)
    if request.method == "GET" and request.args.get("prefill") == "care_team":
        present = {p.id for p in providers}
        form.provider_id.data = next((i for i in team if i in present), None)
    overlaps, status = [], 200

    def booking() -> dict:
        return {"patient_id": patient.id, "provider_id": form.provider_id.data,
                "kind": form.kind.data, "starts_at": _naive(form.starts_at.data),
                "duration_minutes": form.duration_minutes.data, "place": form.place.data,
                "notes": form.notes.data}

    if checked(form, lambda: services.clean(
            db.session, booking(), allow_non_working_day=form.allow_non_working_day.data)):
        data = booking()
        with unit_of_work(form, expected=(services.OverlapWarning,)) as work:
            services.create_appointment(db.session, current_actor(), data,
                                        overlap_reason=form.overlap_reason.data,
                                        allow_non_working_day=form.allow_non_working_day.data)
        if isinstance(work.failure, services.OverlapWarning):
            overlaps, status = work.failure.overlaps, 409
        if work.ok:
            flash(_("Appointment booked."), "success")
            return redirect(safe_next_url(request.args.get("next")) or
                            url_for("scheduling.patient_appointments", patient_id=patient.id))
    if request.method == "POST" and status == 200:
        status = 400
    services.read_appointments(db.session, current_actor(), "booking_form", 0, patient.id)
    db.session.commit()
    return render_template("scheduling/book.html", form=form, patient=patient,
                           banner=patient_banner(patient),
                           overlaps=overlaps), status


# -- Series from a template or a plan action ---------------------------------------------------

def _source_labels(patient: Patient) -> dict:
    """The series' sources and their names (lazy messages: a round named after its source is
    stored as that message's code, read later in each reader's language)."""
    strata, actions = series.sources(db.session, patient)
    return {f"stratum-{s.id}": _l("Template of %(code)s — %(name)s", code=s.code,
                                  name=in_languages(s.name, s.name_en))
            for s in strata} | \
        {f"action-{a.id}": _l("Plan action: %(what)s (%(every)s, %(times)s)",
                              what=a.description,
                              every=lazy_ngettext("every day", "every %(num)d days",
                                                  a.interval_days),
                              times=lazy_ngettext("%(num)d time", "%(num)d times",
                                                  a.occurrences))
         for a in actions}


def _sources(patient: Patient) -> list[tuple[str, str]]:
    """The choices of the series' source, labelled for the reader."""
    return [(key, str(label)) for key, label in _source_labels(patient).items()]


def _round_label(patient: Patient, source: str | None, written: str | None):
    """The round's name as the user left it: their own words, or the source's name unchanged
    (then as its message, in each reader's language)."""
    default = _source_labels(patient).get(source or "")
    if default is not None and (written or "").strip() == str(default).strip():
        return default
    return written


@bp.get("/patients/<int:patient_id>/series")
@require(PATIENT_STAFF)
def series_preview(patient_id: int):
    """Choose the source and the first day; see the proposed series, adjust it, book it."""
    patient = _patient(patient_id)
    source_form = SeriesSourceForm(request.args)
    source_form.source.choices = _sources(patient)
    if not request.args.get("start"):
        source_form.start.data = local_today() + timedelta(days=1)
    form = SeriesForm(formdata=None)
    choices: dict = {}
    if request.args.get("source") and source_form.validate():
        proposals = series.proposals(db.session, patient, source_form.source.data,
                                     source_form.start.data)
        if proposals is None:
            abort(404)
        choices = series.provider_choices(db.session, patient,
                                          {p.provider_kind for p in proposals})
        chosen = series.default_providers(patient, choices,
                                          series.plan_team(db.session, patient))
        form.round_label.data = dict(source_form.source.choices).get(source_form.source.data)
        now = utcnow()
        for proposal in proposals:
            entry = form.rows.append_entry()
            entry.form.process(None, data=proposal.__dict__ | {"keep": True})
            past = rules.in_the_past_problem(as_utc(proposal.starts_at), now)
            if past:  # said before booking: move it or leave it out
                entry.form.starts_at.errors = [past]
        return _render_series(patient, source_form, form, choices, chosen)
    return _render_series(patient, source_form, form, choices, {})


def _render_series(patient, source_form, form, choices, selected, overlaps=(), status=200):
    """The series page shows the patient and their proposed appointments: an audited read."""
    services.read_appointments(db.session, current_actor(), "series_preview",
                               len(form.rows.entries), patient.id)
    db.session.commit()
    return render_template("scheduling/series.html", patient=patient,
                           banner=patient_banner(patient), source_form=source_form,
                           form=form, choices=choices, selected=selected,
                           kind_labels=PROVIDER_KIND_LABELS, overlaps=overlaps,
                           provider_label=picking.label,
                           search_attributes={
                               kind: picking.search_attributes(patient.territory_id, kind)
                               for kind in choices}), status


@bp.post("/patients/<int:patient_id>/series")
@require(PATIENT_STAFF)
def series_create(patient_id: int):
    """Book the adjusted series in one transaction, as a follow-up round."""
    patient = _patient(patient_id)
    form = SeriesForm()
    kinds = {entry.form.provider_kind.data for entry in form.rows}
    choices = series.provider_choices(db.session, patient, kinds)
    chosen = {kind: _int(request.form.get(f"provider-{kind}")) for kind in kinds}
    source_form = SeriesSourceForm(request.args)
    source_form.source.choices = _sources(patient)
    allowed = {kind: {p.id for p in providers} for kind, providers in choices.items()}

    def booked_rows() -> list[dict]:
        proposals = [series.Proposal(
            provider_kind=e.form.provider_kind.data, label=e.form.label.data,
            starts_at=_naive(e.form.starts_at.data),
            kind=e.form.kind.data or AppointmentKind.CONSULTATION,
            duration_minutes=e.form.duration_minutes.data or 30,
            action_id=e.form.action_id.data) for e in form.rows if e.form.keep.data]
        return series.as_rows(patient, series.with_providers(proposals, {
            kind: provider_id for kind, provider_id in chosen.items()
            if provider_id in allowed.get(kind, set())}))

    if not checked(form, lambda: services.clean_all(
            db.session, booked_rows(), allow_non_working_day=form.allow_non_working_day.data),
            show=partial(_row_errors, form)):
        return _render_series(patient, source_form, form, choices, chosen, status=400)
    rows = booked_rows()
    with unit_of_work(show=partial(_row_errors, form),
                      expected=(services.OverlapWarning,)) as work:
        booked = services.create_appointments(db.session, current_actor(), rows,
                                              overlap_reason=form.overlap_reason.data,
                                              round_label=_round_label(
                                                  patient, source_form.source.data,
                                                  form.round_label.data),
                                              allow_non_working_day=form.allow_non_working_day
                                              .data)
    if isinstance(work.failure, services.OverlapWarning):
        return _render_series(patient, source_form, form, choices, chosen,
                              work.failure.overlaps, 409)
    if not work.ok:
        return _render_series(patient, source_form, form, choices, chosen, status=400)
    flash(ngettext("%(num)d appointment booked.", "%(num)d appointments booked.",
                   len(booked)), "success")
    return redirect(url_for("scheduling.patient_appointments", patient_id=patient.id))


def _int(value) -> int | None:
    return int(value) if value and str(value).isdigit() else None


def _row_errors(form: SeriesForm, error: ValidationError) -> None:
    """Errors keyed `rows-<n>-<field>` (n among the booked rows) shown on that row; a missing
    provider, or an error of no row, as a message at the top."""
    kept = [entry.form for entry in form.rows if entry.form.keep.data]
    for key, messages in error.messages().items():
        match = ROW_ERROR.match(key)
        row = kept[int(match["row"])] if match and int(match["row"]) < len(kept) else None
        field = getattr(row, match["field"], None) if row is not None else None
        if field is not None and match["field"] != "provider_id":
            field.errors = [*field.errors, *messages]
        else:
            label = f"{row.label.data}: " if row is not None else ""
            flash(label + " ".join(messages), "danger")


# -- A patient's appointments, one appointment -------------------------------------------------

@bp.get("/patients/<int:patient_id>")
@require(PATIENT_STAFF)
def patient_appointments(patient_id: int):
    patient = _patient(patient_id)
    page = paginate(db.session, select(Appointment).options(joinedload(Appointment.provider))
                    .where(Appointment.patient_id == patient.id)
                    .order_by(Appointment.starts_at.desc()), per_page=100)
    services.read_appointments(db.session, current_actor(), "patient_appointments",
                               len(page.items), patient.id)
    rounds = db.session.scalars(select(FollowUpRound).where(
        FollowUpRound.patient_id == patient.id).order_by(FollowUpRound.created_at.desc())).all()
    db.session.commit()
    return render_template("scheduling/patient.html", patient=patient, page=page,
                           banner=patient_banner(patient),
                           rounds=rounds, now=utcnow(),
                           rate=services.no_show_rate(db.session, "patient", patient.id))


@bp.get("/appointments/<int:appointment_id>")
@require(PATIENT_STAFF)
def show(appointment_id: int):
    return _render_show(_appointment(appointment_id))


def _render_show(appointment, outcome_form=None, reschedule_form=None, outreach_form=None,
                 rebook_form=None, overlaps=(), status=200):
    services.read_appointments(db.session, current_actor(), "appointment", 1,
                               appointment.patient_id)
    db.session.commit()
    return render_template(
        "scheduling/show.html", appointment=appointment, patient=appointment.patient,
        banner=patient_banner(appointment.patient),
        outcome_form=outcome_form or OutcomeForm(formdata=None, version=appointment.version),
        reschedule_form=reschedule_form or RescheduleForm(formdata=None,
                                                          version=appointment.version),
        outreach_form=outreach_form or OutreachForm(formdata=None),
        rebook_form=rebook_form or RebookForm(formdata=None), overlaps=overlaps,
        allowed=services.TRANSITIONS.get(appointment.status, ()),
        flag_from=worklists.FLAG_FROM), status


def _refused(appointment, error: services.TransitionRefused):
    flash(_("The appointment is already “%(current)s”: its outcome cannot change. Allowed "
            "from here: %(allowed)s.", current=STATUS_LABELS[error.current],
            allowed=", ".join(str(STATUS_LABELS[s]) for s in error.allowed) or _("none")),
          "danger")
    return _render_show(appointment, status=409)


@bp.post("/appointments/<int:appointment_id>/outcome")
@require(PATIENT_STAFF)
def outcome(appointment_id: int):
    appointment = _appointment(appointment_id)
    form = OutcomeForm()
    if not form.validate_on_submit():
        return _render_show(appointment, outcome_form=form, status=400)
    with unit_of_work(form, expected=(services.TransitionRefused,)) as work:
        services.record_outcome(db.session, current_actor(), appointment, form.status.data,
                                int(form.version.data or 0))
    if isinstance(work.failure, services.TransitionRefused):
        return _refused(appointment, work.failure)
    if work.error is not None:
        return _render_show(appointment, outcome_form=form, status=400)
    if work.conflict:
        flash(CHANGED_MEANWHILE, "warning")
        return redirect(url_for("scheduling.show", appointment_id=appointment.id))
    flash(_("Outcome recorded: %(status)s.", status=STATUS_LABELS[appointment.status]),
          "success")
    return redirect(url_for("scheduling.show", appointment_id=appointment.id))


def _book_anew(appointment, form, form_name: str, book, success: str):
    """Run a booking that replaces `appointment` (move, book again) and answer as the page
    does for each outcome: overlaps shown (409), refused transition (409), bad input (400),
    a concurrent change (back to the appointment), or the new appointment."""
    with unit_of_work(form, expected=(services.TransitionRefused,
                                      services.OverlapWarning)) as work:
        new = book()
    if isinstance(work.failure, services.TransitionRefused):
        return _refused(appointment, work.failure)
    if isinstance(work.failure, services.OverlapWarning):
        return _render_show(appointment, **{form_name: form}, overlaps=work.failure.overlaps,
                            status=409)
    if work.error is not None:
        return _render_show(appointment, **{form_name: form}, status=400)
    if work.conflict:
        flash(CHANGED_MEANWHILE, "warning")
        return redirect(url_for("scheduling.show", appointment_id=appointment.id))
    flash(success, "success")
    return redirect(url_for("scheduling.show", appointment_id=new.id))


@bp.post("/appointments/<int:appointment_id>/reschedule")
@require(PATIENT_STAFF)
def reschedule(appointment_id: int):
    appointment = _appointment(appointment_id)
    form = RescheduleForm()
    if not form.validate_on_submit():
        return _render_show(appointment, reschedule_form=form, status=400)
    return _book_anew(appointment, form, "reschedule_form", lambda: services.reschedule(
        db.session, current_actor(), appointment, _naive(form.starts_at.data),
        cancelled_by=form.cancelled_by.data, overlap_reason=form.overlap_reason.data,
        expected_version=int(form.version.data or 0),
        allow_non_working_day=form.allow_non_working_day.data),
        _("Appointment moved; the previous one is cancelled."))


@bp.post("/appointments/<int:appointment_id>/outreach")
@require(PATIENT_STAFF)
def outreach(appointment_id: int):
    appointment = _appointment(appointment_id)
    form = OutreachForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            services.record_outreach(db.session, current_actor(), appointment,
                                     form.reason.data, form.note.data)
        if work.ok:
            flash(_("Call recorded."), "success")
            return redirect(url_for("scheduling.no_shows"))
    return _render_show(appointment, outreach_form=form, status=400)


@bp.post("/appointments/<int:appointment_id>/rebook")
@require(PATIENT_STAFF)
def rebook(appointment_id: int):
    """Book again a missed appointment (linked to it)."""
    appointment = _appointment(appointment_id)
    form = RebookForm()
    if not form.validate_on_submit():
        return _render_show(appointment, rebook_form=form, status=400)
    return _book_anew(appointment, form, "rebook_form", lambda: services.reschedule_no_show(
        db.session, current_actor(), appointment, _naive(form.starts_at.data),
        overlap_reason=form.overlap_reason.data,
        allow_non_working_day=form.allow_non_working_day.data), _("New appointment booked."))


# -- Worklists -------------------------------------------------------------------------------

@bp.get("/no-shows")
@require(CASE_MANAGER)
def no_shows():
    """The no-shows of the caseload to chase, with the count of consecutive no-shows."""
    rows = db.session.execute(worklists.no_shows(current_user, local_today()).limit(200)).all()
    missing = db.session.scalars(worklists.outcome_missing(current_user, utcnow())
                                 .limit(200)).all()
    services.read_appointments(db.session, current_actor(), "no_show_worklist",
                               len(rows) + len(missing),
                               patients=[*(row[0].patient_id for row in rows),
                                         *(appointment.patient_id for appointment in missing)])
    db.session.commit()
    return render_template("scheduling/no_shows.html", rows=rows, missing=missing,
                           flag_from=worklists.FLAG_FROM)


@bp.route("/day", methods=["GET", "POST"])
@require(CASE_MANAGER)
def day():
    """A day's appointments of the caseload, to record their outcomes at once."""
    try:
        chosen = date.fromisoformat(request.values.get("date", ""))
    except ValueError:
        chosen = local_today()
    if date_problem(chosen):
        abort(400, description=str(date_problem(chosen)))
    form = DayOutcomesForm()
    if form.validate_on_submit():
        outcomes = {int(key.removeprefix("outcome-")): value
                    for key, value in request.form.items()
                    if key.startswith("outcome-") and key[8:].isascii() and key[8:].isdigit()
                    and value}
        if any(appointment_id > MAX_ID for appointment_id in outcomes):
            abort(404)
        chosen_ones = db.session.scalars(select(Appointment).options(
            joinedload(Appointment.patient)).where(Appointment.id.in_(outcomes))).all()
        if len(chosen_ones) != len(outcomes) or \
                not all(can_record_outcomes_in_bulk(current_user, a) for a in chosen_ones):
            abort(404)
        with unit_of_work() as work:
            count = services.record_outcomes(db.session, current_actor(), outcomes)
        if work.ok:
            flash(ngettext("%(num)d outcome recorded.", "%(num)d outcomes recorded.", count),
                  "success")
            return redirect(url_for("scheduling.day", date=chosen.isoformat()))
    appointments = db.session.scalars(worklists.day_list(current_user, chosen)).all()
    services.read_appointments(db.session, current_actor(), "day_list", len(appointments),
                               patients=[appointment.patient_id for appointment in appointments])
    db.session.commit()
    return render_template("scheduling/day.html", day=chosen, appointments=appointments,
                           form=form, previous=chosen - timedelta(days=1),
                           following=chosen + timedelta(days=1))


# -- Rounds ----------------------------------------------------------------------------------

@bp.route("/rounds/<int:round_id>", methods=["GET", "POST"])
@require(PATIENT_STAFF)
def round_(round_id: int):
    """A follow-up round: its appointments together; move the scheduled ones at once."""
    followup = db.session.get(FollowUpRound, round_id, options=[
        selectinload(FollowUpRound.appointments).joinedload(Appointment.provider)])
    abort_if_hidden(followup is not None and
                    can_view_patient(current_user, db.session.get(Patient,
                                                                  followup.patient_id)))
    form = MoveRoundForm()
    overlaps, status = [], 200
    if form.validate_on_submit():
        with unit_of_work(form, expected=(services.OverlapWarning,)) as work:
            moved = services.move_round(db.session, current_actor(), followup, form.days.data,
                                        overlap_reason=form.overlap_reason.data,
                                        allow_non_working_day=form.allow_non_working_day.data)
        if isinstance(work.failure, services.OverlapWarning):
            overlaps, status = work.failure.overlaps, 409
        elif work.error is not None:
            status = 400
        if work.ok:
            flash(ngettext("%(num)d appointment moved.", "%(num)d appointments moved.", moved),
                  "success")
            return redirect(url_for("scheduling.round_", round_id=followup.id))
    services.read_appointments(db.session, current_actor(), "followup_round",
                               len(followup.appointments), followup.patient_id)
    db.session.commit()
    return render_template("scheduling/round.html", followup=followup, form=form,
                           patient=db.session.get(Patient, followup.patient_id),
                           overlaps=overlaps), status
