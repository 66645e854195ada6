"""Patient registry pages: search, create, view, edit, consent, strata, merge."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from coordinator.auth import services as auth_services
from coordinator.auth.roles import Role
from coordinator.core import extending
from coordinator.core.errors import DuplicateSuspected, ValidationError
from coordinator.core.forms import optional_int
from coordinator.core.pagination import paginate
from coordinator.core.time import local_today
from coordinator.core.unitofwork import checked, conflict_page, unit_of_work
from coordinator.core.viewhelpers import current_actor
from coordinator.extensions import db
from coordinator.patients import assignments, services
from coordinator.patients import merge as merge_services
from coordinator.patients.banner import for_page as patient_banner
from coordinator.patients.forms import (
    CONSENT_EXPRESSION_LABELS,
    AssignStratumForm,
    ConsentForm,
    CorrectAssignmentForm,
    ExitProgramForm,
    MergeForm,
    MergeNirSearchForm,
    MergeSearchForm,
    NirSearchForm,
    PatientForm,
    PatientSearchForm,
    WithdrawConsentForm,
)
from coordinator.patients.models import Patient
from coordinator.permissions import (
    PATIENT_MERGER,
    PATIENT_STAFF,
    abort_if_hidden,
    can_start_plan,
    can_view_patient,
    require,
)
from coordinator.providers import picking
from coordinator.providers import services as provider_services
from coordinator.strata import services as strata_services
from coordinator.strata.models import Program, Stratum, StratumAssignment

bp = Blueprint("patients", __name__, url_prefix="/patients")


def _visible_patient(patient_id: int) -> Patient:
    patient = db.session.get(Patient, patient_id)
    abort_if_hidden(patient is not None and can_view_patient(current_user, patient))
    return patient


def _territory_choices():
    territories = strata_services.list_territories(db.session)
    if current_user.role != Role.ADMIN:
        territories = [t for t in territories if t.id == current_user.territory_id]
    return [(t.id, t.name) for t in territories]


def _fill_choices(form: PatientForm, territory_id: int | None) -> None:
    form.territory_id.choices = _territory_choices()
    form.gp_id.choices = picking.choices(provider_services.active_gps(db.session, territory_id))
    picking.searchable(form.gp_id, territory_id, kind="gp")
    form.case_manager_id.choices = [("", "—")] + [
        (user.id, user.full_name) for user in auth_services.case_managers(db.session,
                                                                         territory_id)]


def _search_choices(form: PatientSearchForm) -> None:
    programs = strata_services.list_programs(db.session)
    form.territory_id.choices = [("", "—"), *_territory_choices()]
    form.program_id.choices = [("", "—")] + [(p.id, p.display_name) for p in programs]
    form.stratum_id.choices = [("", "—")] + [
        (s.id, f"{s.code} — {s.display_name}") for p in programs for s in p.strata]
    territory = None if current_user.role == Role.ADMIN else current_user.territory_id
    form.case_manager_id.choices = [("", "—")] + [
        (u.id, u.full_name) for u in auth_services.case_managers(db.session, territory)]


@bp.get("/")
@require(PATIENT_STAFF)
def index():
    form = PatientSearchForm(request.args)
    _search_choices(form)
    searched = bool(request.args) and form.validate()
    page = None
    if searched:
        criteria = services.PatientSearch(
            name=form.name.data, birth_date=form.birth_date.data,
            territory_id=form.territory_id.data, program_id=form.program_id.data,
            stratum_id=form.stratum_id.data, case_manager_id=form.case_manager_id.data)
        page = paginate(db.session, services.search_query(current_user, criteria))
        services.audit_search(db.session, current_actor(), criteria, page.total, page.items)
        db.session.commit()
    status = 400 if form.errors else 200
    return render_template("patients/index.html", form=form, nir_form=NirSearchForm(),
                           page=page), status


@bp.post("/nir")
@require(PATIENT_STAFF)
def search_nir():
    """The search by NIR, posted (#15, finding 10): one record found opens it; otherwise the
    list (without pages: a NIR names one person, or a few duplicates)."""
    form = PatientSearchForm(formdata=None)
    _search_choices(form)
    nir_form = NirSearchForm()
    page = None
    if nir_form.validate_on_submit():
        criteria = services.PatientSearch(nir=nir_form.nir.data)
        page = paginate(db.session, services.search_query(current_user, criteria), page=1,
                        per_page=50)
        services.audit_search(db.session, current_actor(), criteria, page.total, page.items)
        db.session.commit()
        if page.total == 1:
            return redirect(url_for("patients.show", patient_id=page.items[0].id))
    status = 400 if nir_form.errors else 200
    return render_template("patients/index.html", form=form, nir_form=nir_form, page=page,
                           nir_search=True), status


@bp.route("/new", methods=["GET", "POST"])
@require(PATIENT_STAFF)
def create():
    form = PatientForm()
    territory_id = form.territory_id.data if request.method == "POST" else \
        current_user.territory_id
    if request.method == "GET":
        form.territory_id.data = current_user.territory_id
        if current_user.role == Role.CASE_MANAGER:
            form.case_manager_id.data = current_user.id
    _fill_choices(form, territory_id)
    candidates, elsewhere, status = [], False, 200
    if checked(form, lambda: services.check_patient(db.session, current_actor(), None,
                                                    form.service_data())):
        with unit_of_work(form, expected=(DuplicateSuspected,)) as work:
            patient = services.create_patient(db.session, current_actor(), form.service_data(),
                                              confirm_duplicate=form.confirm_duplicate.data)
        if isinstance(work.failure, DuplicateSuspected):
            disclosed = services.disclose_duplicates(db.session, current_actor(), current_user,
                                                     work.failure.candidates)
            db.session.commit()
            candidates, elsewhere, status = disclosed.visible, disclosed.elsewhere, 409
        if work.ok:
            flash(_("Patient %(name)s registered.", name=patient.display_name), "success")
            return redirect(url_for("patients.show", patient_id=patient.id))
    if request.method == "POST" and status == 200:
        status = 400
    return render_template("patients/form.html", form=form, patient=None,
                           candidates=candidates, elsewhere=elsewhere), status


@bp.get("/<int:patient_id>")
@require(PATIENT_STAFF)
def show(patient_id: int):
    return _render_show(_visible_patient(patient_id))


def _render_show(patient, assign_form=None, exit_form=None, status=200):
    """The patient's page (after a refused form too): showing it is an audited read."""
    services.read_patient(db.session, current_actor(), patient)
    db.session.commit()
    timelines = assignments.timelines(db.session, patient)
    programs = strata_services.list_programs(db.session)
    assign_form = assign_form or AssignStratumForm(formdata=None)
    assign_form.stratum_id.choices = [
        (s.id, f"{p.display_name} — {s.code} {s.display_name}") for p in programs
        for s in p.strata]
    exit_form = exit_form or ExitProgramForm(formdata=None)
    exit_form.program_id.choices = [(t.program.id, t.program.display_name) for t in timelines
                                    if t.rows and not t.rows[-1].is_exit]
    return render_template(
        "patients/show.html", patient=patient, banner=patient_banner(patient),
        timelines=timelines, assign_form=assign_form,
        exit_form=exit_form, consent_form=ConsentForm(formdata=None),
        expression_labels=CONSENT_EXPRESSION_LABELS,
        consents=services.consent_history(db.session, patient),
        may_start_plan=can_start_plan(current_user, patient),
        record_sections=services.record_sections(db.session, patient),
        **extending.context(services.RECORD_PAGE, session=db.session, patient=patient),
    ), status


@bp.route("/<int:patient_id>/edit", methods=["GET", "POST"])
@require(PATIENT_STAFF)
def edit(patient_id: int):
    patient = _visible_patient(patient_id)
    form = PatientForm(obj=patient if request.method == "GET" else None)
    if request.method == "GET":
        form.version.data = patient.version
        services.read_patient(db.session, current_actor(), patient)
        db.session.commit()
    _fill_choices(form, form.territory_id.data or patient.territory_id)
    status = 200
    if checked(form, lambda: services.check_patient(db.session, current_actor(), patient,
                                                    form.service_data())):
        with unit_of_work(form) as work:
            services.update_patient(db.session, current_actor(), patient, form.service_data(),
                                    expected_version=int(form.version.data or 0))
        if work.conflict:
            services.read_patient(db.session, current_actor(), patient)  # shows current values
            db.session.commit()
            return conflict_page("patients/conflict.html", form, patient, patient=patient)
        if work.ok:
            flash(_("Record saved."), "success")
            return redirect(url_for("patients.show", patient_id=patient.id))
    if request.method == "POST":
        status = 400
    return render_template("patients/form.html", form=form, patient=patient,
                           banner=patient_banner(patient), candidates=[]), status


@bp.post("/<int:patient_id>/consent")
@require(PATIENT_STAFF)
def consent(patient_id: int):
    """Record the consent to share. A withdrawal is never one click: it goes through its
    confirmation page (`withdraw_consent`), which asks its date and how it was expressed."""
    patient = _visible_patient(patient_id)
    form = ConsentForm()
    if not form.validate_on_submit() or form.consent_share.data not in ("yes", "no"):
        abort(400)
    if form.consent_share.data == "no":
        return redirect(url_for("patients.withdraw_consent", patient_id=patient.id), 303)
    with unit_of_work() as work:
        services.record_consent(db.session, current_actor(), patient, True,
                                form.effective_date.data)
    if work.ok:  # else its message is flashed (a date in the future)
        flash(_("Consent to share recorded."), "success")
    return redirect(url_for("patients.show", patient_id=patient.id))


@bp.route("/<int:patient_id>/consent/withdraw", methods=["GET", "POST"])
@require(PATIENT_STAFF)
def withdraw_consent(patient_id: int):
    """Withdraw the consent to share: confirmed, dated (today by default, not in the future),
    with how the patient expressed it; audited, kept in the consent history."""
    patient = _visible_patient(patient_id)
    if not patient.consent_share:
        flash(_("The patient has not given their consent: there is nothing to withdraw."),
              "info")
        return redirect(url_for("patients.show", patient_id=patient.id))
    form = WithdrawConsentForm()
    if request.method == "GET":
        form.effective_date.data = local_today()
    status = 200
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            services.record_consent(db.session, current_actor(), patient, False,
                                    form.effective_date.data, form.expressed_as.data)
        if work.ok:
            flash(_("Consent withdrawn: the care team no longer sees the plan."), "success")
            return redirect(url_for("patients.show", patient_id=patient.id))
    if request.method == "POST":
        status = 400
    services.read_patient(db.session, current_actor(), patient)
    db.session.commit()
    return render_template("patients/withdraw_consent.html", form=form,
                           patient=patient, banner=patient_banner(patient)), status


@bp.post("/<int:patient_id>/strata")
@require(PATIENT_STAFF)
def assign(patient_id: int):
    patient = _visible_patient(patient_id)
    form = AssignStratumForm()
    stratum = db.session.get(Stratum, form.stratum_id.data) if form.stratum_id.data else None
    if form.validate_on_submit():
        with unit_of_work(form, aliases={"stratum": "stratum_id"}) as work:
            if stratum is None:
                raise ValidationError({"stratum_id": [_("Choose a stratum.")]})
            assignments.assign_stratum(db.session, current_actor(), patient, stratum,
                                       form.effective_date.data, form.reason.data)
        if work.ok:
            flash(_("Stratum %(code)s assigned.", code=stratum.code), "success")
            return redirect(url_for("patients.show", patient_id=patient.id))
    return _render_show(patient, assign_form=form, status=400)


@bp.post("/<int:patient_id>/exit")
@require(PATIENT_STAFF)
def exit_program(patient_id: int):
    patient = _visible_patient(patient_id)
    form = ExitProgramForm()
    program = db.session.get(Program, form.program_id.data) if form.program_id.data else None
    if form.validate_on_submit() and program is not None:
        with unit_of_work(form, aliases={"program": "program_id"}) as work:
            assignments.exit_program(db.session, current_actor(), patient, program,
                                     form.effective_date.data, form.reason.data)
        if work.ok:
            flash(_("Exit from %(program)s recorded.", program=program.display_name),
                  "success")
            return redirect(url_for("patients.show", patient_id=patient.id))
    return _render_show(patient, exit_form=form, status=400)


@bp.route("/<int:patient_id>/strata/<int:assignment_id>/correct", methods=["GET", "POST"])
@require(PATIENT_STAFF)
def correct_assignment(patient_id: int, assignment_id: int):
    """Correct a mistyped date or stratum of a timeline row, or cancel the row."""
    patient = _visible_patient(patient_id)
    row = db.session.get(StratumAssignment, assignment_id)
    if row is None or row.patient_id != patient.id:
        abort(404)
    form = CorrectAssignmentForm(formdata=request.form if request.method == "POST" else None)
    program = db.session.get(Program, row.program_id)
    form.stratum_id.choices = [("", _("Unchanged"))] + [
        (s.id, f"{s.code} {s.display_name}") for s in program.strata] \
        if not row.is_exit else [("", _("Unchanged"))]
    status = 200
    if request.method == "POST":
        status = 400
        stratum = db.session.get(Stratum, form.stratum_id.data) if form.stratum_id.data \
            else None
        if form.validate():
            with unit_of_work(form, aliases={"stratum": "stratum_id"}) as work:
                assignments.correct_assignment(
                    db.session, current_actor(), row, reason=form.reason.data,
                    stratum=stratum, effective_date=form.effective_date.data,
                    cancel=bool(form.cancel.data))
            if work.ok:
                flash(_("Assignment corrected."), "success")
                return redirect(url_for("patients.show", patient_id=patient.id))
    return render_template("patients/correct_assignment.html", patient=patient,
                           banner=patient_banner(patient), row=row,
                           program=program, form=form), status


def _picked(value: object) -> int | None:
    """A record number picked on the merge page (a hidden field or an address), or None."""
    try:
        return optional_int(value)
    except ValueError:
        return None


@bp.route("/merge", methods=["GET", "POST"])
@require(PATIENT_MERGER)
def merge():
    """Merge two records of the same person: the administrator finds them by name (here) or
    by NIR (`merge_search_nir`), picks the record to keep and the duplicate, compares them,
    then confirms."""
    form = MergeForm(request.form if request.method == "POST" else request.args)
    search_form = MergeSearchForm(request.args if request.method == "GET" else None)
    results = None
    if request.method == "GET" and request.args.get("name") is not None and \
            search_form.validate():
        criteria = services.PatientSearch(name=search_form.name.data)
        results = paginate(db.session, services.search_query(current_user, criteria))
        services.audit_search(db.session, current_actor(), criteria, results.total,
                              results.items)
        db.session.commit()
    keep, merged = _merge_records(form)
    if request.method == "POST" and keep and merged and form.validate_on_submit():
        if not form.confirm.data:
            form.confirm.errors = [_("Confirm that both records are the same person.")]
        else:
            with unit_of_work(form) as work:
                merge_services.merge_patients(db.session, current_actor(), keep, merged)
            if work.ok:
                flash(_("Record %(merged)d merged into record %(keep)d.", merged=merged.id,
                        keep=keep.id), "success")
                return redirect(url_for("patients.show", patient_id=keep.id))
    status = 400 if request.method == "POST" or search_form.errors else 200
    return _merge_page(form, keep, merged, search_form=search_form, results=results,
                       status=status)


@bp.post("/merge/nir")
@require(PATIENT_MERGER)
def merge_search_nir():
    """The merge page's search by NIR, posted (the NIR never appears in an address or a log):
    the records found are listed to be picked."""
    nir_form = MergeNirSearchForm()
    form = MergeForm(formdata=None, keep_id=_picked(nir_form.keep_id.data),
                     merged_id=_picked(nir_form.merged_id.data))
    results = None
    if nir_form.validate_on_submit():
        criteria = services.PatientSearch(nir=nir_form.nir.data)
        results = paginate(db.session, services.search_query(current_user, criteria), page=1,
                           per_page=50)
        services.audit_search(db.session, current_actor(), criteria, results.total,
                              results.items)
        db.session.commit()
    keep, merged = _merge_records(form)
    return _merge_page(form, keep, merged, nir_form=nir_form, results=results,
                       nir_search=True, status=400 if nir_form.errors else 200)


def _merge_records(form: MergeForm) -> tuple[Patient | None, Patient | None]:
    """The records picked so far (each shown, so each read is audited on a page's display)."""
    keep = db.session.get(Patient, form.keep_id.data) if form.keep_id.data else None
    merged = db.session.get(Patient, form.merged_id.data) if form.merged_id.data else None
    if form.keep_id.data and keep is None:
        form.keep_id.errors = [_("No patient with this number.")]
    if form.merged_id.data and merged is None:
        form.merged_id.errors = [_("No patient with this number.")]
    if request.method == "GET" or request.endpoint == "patients.merge_search_nir":
        for patient in (keep, merged):
            if patient is not None:
                services.read_patient(db.session, current_actor(), patient)
        if keep or merged:
            db.session.commit()
    return keep, merged


def _merge_page(form: MergeForm, keep: Patient | None, merged: Patient | None, *,
                search_form: MergeSearchForm | None = None,
                nir_form: MergeNirSearchForm | None = None, results=None,
                nir_search: bool = False, status: int = 200):
    picked = {"keep_id": keep.id if keep else None, "merged_id": merged.id if merged else None}
    search_form = search_form or MergeSearchForm(formdata=None)
    nir_form = nir_form or MergeNirSearchForm(formdata=None)
    for searching in (search_form, nir_form):
        searching.keep_id.data = picked["keep_id"] or ""
        searching.merged_id.data = picked["merged_id"] or ""
    return render_template("patients/merge.html", form=form, keep=keep, merged=merged,
                           search_form=search_form, nir_form=nir_form, results=results,
                           nir_search=nir_search, picked=picked,
                           name=search_form.name.data if not nir_search else None), status
