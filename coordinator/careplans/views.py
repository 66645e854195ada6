"""Care plan pages: list, create from the program's suggestions, read, edit (conflicts shown,
nothing lost), lifecycle, history and diff, comments, print preview and PDF, batch prints."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from coordinator.auth import services as auth_services
from coordinator.careplans import documents, limits, lists, services
from coordinator.careplans import printing as plan_printing
from coordinator.careplans.forms import (
    BLANK_ACTIONS,
    BLANK_GOALS,
    BLANK_MEMBERS,
    BatchPrintForm,
    CloseForm,
    CommentForm,
    CompareForm,
    FollowUpForm,
    PlanFilterForm,
    PlanForm,
    VersionForm,
)
from coordinator.careplans.models import ASSESSMENT_DOMAINS, CarePlan, PlanStatus
from coordinator.core.pagination import paginate
from coordinator.core.time import utcnow
from coordinator.core.unitofwork import checked, unit_of_work
from coordinator.core.viewhelpers import current_actor
from coordinator.extensions import db
from coordinator.patients.banner import for_page as patient_banner
from coordinator.patients.models import Patient
from coordinator.permissions import (
    PATIENT_STAFF,
    PLAN_EDITOR,
    PLAN_READER,
    abort_if_hidden,
    can_cancel_print_batch,
    can_edit_plan,
    can_read_plan,
    can_read_plan_history,
    can_see_print_batch,
    can_start_plan,
    is_staff,
    require,
)
from coordinator.printing.models import BatchStatus, PrintBatch, PrintKind
from coordinator.printing.pdf import PrintFailed
from coordinator.printing.responses import pdf_response, print_failed
from coordinator.providers import picking
from coordinator.providers import services as provider_services
from coordinator.work import queue as work

bp = Blueprint("careplans", __name__, url_prefix="/careplans")
CHANGED_MEANWHILE = _l("The plan was changed meanwhile: check it, then try again.")


def _readable_plan(plan_id: int) -> CarePlan:
    plan = db.session.get(CarePlan, plan_id, options=documents.WHOLE_PLAN)
    abort_if_hidden(plan is not None and can_read_plan(current_user, plan))
    return plan


def _editable_plan(plan_id: int) -> CarePlan:
    plan = db.session.get(CarePlan, plan_id, options=documents.WHOLE_PLAN)
    abort_if_hidden(plan is not None and can_edit_plan(current_user, plan))
    return plan


# -- Lists ---------------------------------------------------------------------------------------

@bp.get("/")
@require(PLAN_READER)
def index():
    """Plans the user may read; case managers select some (or all active) to print at once."""
    form = PlanFilterForm(request.args)
    query = lists.plans_query(current_user, status=form.status.data or None,
                              review_due=bool(form.review_due.data), mine=bool(form.mine.data))
    page = paginate(db.session, query)
    lists.audit_list(db.session, current_actor(), page.items)
    db.session.commit()
    return render_template("careplans/index.html", page=page, form=form,
                           batch_form=BatchPrintForm(formdata=None))


# -- Form helpers ------------------------------------------------------------------------------

def _provider_choices(patient: Patient, chosen: set[int]) -> list:
    return picking.choices(provider_services.active_providers(db.session, patient.territory_id,
                                                              chosen))


def _chosen_providers(form: PlanForm) -> set[int]:
    chosen = {entry.form.provider_id.data for entry in form.team}
    chosen |= {action.form.provider_id.data for goal in form.goals
               for action in goal.form.actions}
    return {provider_id for provider_id in chosen if provider_id}


def _prepare(form: PlanForm, patient: Patient, blanks: bool) -> None:
    """Blank rows to add goals, actions and team members; the choices of every select."""
    if blanks:  # as many as the limits leave room for
        room = limits.MAX_ACTIONS - sum(len(goal.form.actions) for goal in form.goals)
        for goal in form.goals:
            wanted = 1 if len(goal.form.actions) else BLANK_ACTIONS
            for _i in range(max(0, min(wanted, room, limits.MAX_ACTIONS_PER_GOAL
                                       - len(goal.form.actions)))):
                goal.form.actions.append_entry()
                room -= 1
        for _i in range(min(BLANK_GOALS, limits.MAX_GOALS - len(form.goals))):
            goal = form.goals.append_entry()
            for _j in range(max(0, min(BLANK_ACTIONS, room))):
                goal.form.actions.append_entry()
                room -= 1
        for _i in range(min(BLANK_MEMBERS, limits.MAX_TEAM - len(form.team))):
            form.team.append_entry()
    choices = _provider_choices(patient, _chosen_providers(form))
    fields = [action.form.provider_id for goal in form.goals for action in goal.form.actions]
    fields += [member.form.provider_id for member in form.team]
    for field in fields:
        field.choices = choices
        picking.searchable(field, patient.territory_id)
    form.coordinator_id.choices = [("", "—")] + [
        (user.id, user.full_name)
        for user in auth_services.case_managers(db.session, patient.territory_id)]


def _fill(form: PlanForm, data: dict) -> None:
    """Put a plan's content (a service dict or a document) into an empty form."""
    for name in documents.SCALARS:
        if name in data and name in form:
            form[name].data = _as_date(form[name], data[name])
    for domain in ASSESSMENT_DOMAINS:
        values = (data.get("assessment") or {}).get(domain) or {}
        form[f"assessment_{domain}"].summary.data = values.get("summary", "")
        form[f"assessment_{domain}"].needs.data = values.get("needs", "")
    for goal in data.get("goals") or []:
        entry = form.goals.append_entry()
        for name in ("id", *documents.GOAL_FIELDS):
            if name in goal:
                entry.form[name].data = _as_date(entry.form[name], goal[name])
        for action in goal.get("actions") or []:
            action_entry = entry.form.actions.append_entry()
            for name in ("id", *documents.ACTION_FIELDS):
                if name in action:
                    action_entry.form[name].data = _as_date(action_entry.form[name],
                                                            action[name])
    for member in data.get("team") or []:
        entry = form.team.append_entry()
        entry.form.provider_id.data = member["provider_id"]
        entry.form.role.data = member.get("role", "")


def _as_date(field, value):
    from datetime import date

    if field.type == "DateField" and isinstance(value, str) and value:
        return date.fromisoformat(value)
    return value


def _rows(form: PlanForm) -> dict[str, list]:
    """The form's tables, for errors keyed `goals-1-actions-0-provider_id` or `team-2-...`."""
    return {"goals": [entry.form for entry in form.goals],
            "team": [entry.form for entry in form.team]}


# -- Create --------------------------------------------------------------------------------

@bp.route("/new/<int:patient_id>", methods=["GET", "POST"])
@require(PLAN_EDITOR)
def create(patient_id: int):
    """A new draft, prefilled with the suggestions of the patient's stratum."""
    patient = db.session.get(Patient, patient_id)
    abort_if_hidden(can_start_plan(current_user, patient))
    strata = services.current_strata(db.session, patient)
    chosen_id = request.args.get("stratum", type=int)
    stratum = next((s for s in strata if s.id == chosen_id), strata[0] if strata else None)
    form = PlanForm()
    if request.method == "GET":
        _fill(form, services.suggestions(db.session, patient, stratum) | {
            "coordinator_id": current_user.id})
    _prepare(form, patient, blanks=request.method == "GET")
    stratum_id = stratum.id if stratum else None
    if checked(form, lambda: services.check_plan(
            db.session, current_actor(), patient, None,
            form.data_for_service() | {"stratum_id": stratum_id}), rows=lambda: _rows(form)):
        data = form.data_for_service() | {"stratum_id": stratum_id}
        # IntegrityError: another draft was created at the same moment (a unique index).
        with unit_of_work(form, rows=_rows(form), expected=(IntegrityError,)) as work:
            plan = services.create_plan(db.session, current_actor(), patient, data)
            db.session.flush()
        if work.failure is not None:
            flash(_("A draft plan was just created for this patient: open it from the "
                    "patient's page."), "warning")
        if work.ok:
            flash(_("Draft plan saved."), "success")
            return redirect(url_for("careplans.show", plan_id=plan.id))
    status = 400 if request.method == "POST" else 200
    services.read_new_plan_form(db.session, current_actor(), patient.id)
    db.session.commit()
    return render_template("careplans/form.html", form=form, patient=patient,
                           banner=patient_banner(patient), plan=None,
                           strata=strata, stratum=stratum), status


# -- Read ------------------------------------------------------------------------------------

@bp.get("/<int:plan_id>")
@require(PLAN_READER)
def show(plan_id: int):
    return _render_show(_readable_plan(plan_id))


def _render_show(plan: CarePlan, close_form=None, comment_form=None, status=200):
    services.read_plan(db.session, current_actor(), plan)
    db.session.commit()
    editable = can_edit_plan(current_user, plan)
    version_form = VersionForm(formdata=None, version=plan.version)
    close_form = close_form or CloseForm(formdata=None, version=plan.version)
    return render_template(
        "careplans/show.html", plan=plan, patient=plan.patient,
        banner=patient_banner(plan.patient), editable=editable,
        appointments=services.upcoming_appointments(db.session, plan.patient_id, utcnow()),
        staff=is_staff(current_user),
        comments=services.comments(db.session, plan), version_form=version_form,
        close_form=close_form, comment_form=comment_form or CommentForm(formdata=None),
        other_plans=[p for p in services.plans_of(db.session, plan.patient) if p.id != plan.id]
        if is_staff(current_user) else [],
    ), status


# -- Edit ------------------------------------------------------------------------------------

@bp.route("/<int:plan_id>/edit", methods=["GET", "POST"])
@require(PLAN_EDITOR)
def edit(plan_id: int):
    plan = _editable_plan(plan_id)
    if plan.status == PlanStatus.CLOSED:
        flash(_("A closed plan cannot be changed: revise it as a new version."), "warning")
        return redirect(url_for("careplans.show", plan_id=plan.id))
    if _over_the_limits(plan):
        flash(_("This plan is larger than a plan may be (at most %(goals)d goals, %(actions)d "
                "actions, %(team)d care team members): it cannot be edited in this form. "
                "Reduce it through the API.", goals=limits.MAX_GOALS,
                actions=limits.MAX_ACTIONS, team=limits.MAX_TEAM), "warning")
        return redirect(url_for("careplans.show", plan_id=plan.id))
    if plan.status == PlanStatus.ACTIVE:
        return _edit_follow_up(plan)
    form = PlanForm()
    if request.method == "GET":
        _fill(form, documents.document(db.session, plan))
        form.version.data = plan.version
        services.read_plan(db.session, current_actor(), plan)
        db.session.commit()
    _prepare(form, plan.patient, blanks=request.method == "GET")
    if checked(form, lambda: services.check_plan(db.session, current_actor(), plan.patient,
                                                 plan, form.data_for_service()),
               rows=lambda: _rows(form)):
        mine = form.data_for_service()
        with unit_of_work(form, rows=_rows(form)) as work:
            services.save_plan(db.session, current_actor(), plan, mine,
                               expected_version=int(form.version.data or 0))
        if work.conflict:
            return _conflict(plan, form, mine)
        if work.ok:
            flash(_("Plan saved (revision %(number)d).", number=plan.version), "success")
            return redirect(url_for("careplans.show", plan_id=plan.id))
    if request.method == "POST":  # the page shows the plan again: an audited read
        services.read_plan(db.session, current_actor(), plan)
        db.session.commit()
    status = 400 if request.method == "POST" else 200
    return render_template("careplans/form.html", form=form, patient=plan.patient,
                           banner=patient_banner(plan.patient), plan=plan,
                           strata=[], stratum=None), status


def _edit_follow_up(plan: CarePlan):
    """An active plan's edit form: its follow-up only (the status of goals and actions); its
    content changes through "Revise as a new version" (services.save_follow_up)."""
    form = FollowUpForm()
    if request.method == "GET":
        form.fill(plan.goals)
        form.version.data = plan.version
    if form.validate_on_submit():
        with unit_of_work(form, rows={"goals": [entry.form for entry in form.goals]}) as work:
            services.save_follow_up(db.session, current_actor(), plan, form.data_for_service(),
                                    expected_version=int(form.version.data or 0))
        if work.conflict:
            flash(CHANGED_MEANWHILE, "warning")
            return redirect(url_for("careplans.edit", plan_id=plan.id))
        if work.ok:
            flash(_("Follow-up saved (revision %(number)d).", number=plan.version), "success")
            return redirect(url_for("careplans.show", plan_id=plan.id))
    services.read_plan(db.session, current_actor(), plan)
    db.session.commit()
    return render_template("careplans/followup.html", form=form, plan=plan, patient=plan.patient,
                           banner=patient_banner(plan.patient),
                           version_form=VersionForm(formdata=None, version=plan.version),
                           goals={goal.id: goal for goal in plan.goals},
                           actions={a.id: a for goal in plan.goals for a in goal.actions}), \
        400 if request.method == "POST" else 200


def _over_the_limits(plan: CarePlan) -> bool:
    """A plan saved before the limits of `limits.py` may hold more rows than the form takes
    (WTForms would drop the rest without a word)."""
    return len(plan.goals) > limits.MAX_GOALS or len(plan.team) > limits.MAX_TEAM or any(
        len(goal.actions) > limits.MAX_ACTIONS_PER_GOAL for goal in plan.goals) or \
        sum(len(goal.actions) for goal in plan.goals) > limits.MAX_ACTIONS


def _conflict(plan: CarePlan, form: PlanForm, mine: dict):
    """Someone saved meanwhile: show what differs between the saved plan and the user's input,
    keep the input in the form (now based on the current version) so that nothing is lost."""
    db.session.refresh(plan)
    services.read_plan(db.session, current_actor(), plan)
    db.session.commit()
    current = documents.document(db.session, plan)
    _forget_removed_rows(form, current)
    proposed = documents.from_input(db.session, current, mine)
    form.version.data = plan.version
    return render_template("careplans/form.html", form=form, patient=plan.patient,
                           banner=patient_banner(plan.patient), plan=plan,
                           strata=[], stratum=None, conflict=True,
                           differences=documents.compare(current, proposed)), 409


def _forget_removed_rows(form: PlanForm, current: dict) -> None:
    """Goals or actions the other writer removed come back as new rows if the user keeps
    them (their old ids no longer name anything)."""
    goal_ids = {goal["id"] for goal in current["goals"]}
    action_ids = {action["id"] for goal in current["goals"] for action in goal["actions"]}
    for entry in form.goals:
        if entry.form.id.data not in goal_ids:
            entry.form.id.data = None
        for action in entry.form.actions:
            if action.form.id.data not in action_ids:
                action.form.id.data = None


# -- Lifecycle -------------------------------------------------------------------------------

def _lifecycle(plan: CarePlan, step, success: str):
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    with unit_of_work() as work:  # each message names the goal and action it is about
        step(int(form.version.data or 0))
    if work.conflict:
        flash(CHANGED_MEANWHILE, "warning")
    if work.ok:
        flash(success, "success")
    return redirect(url_for("careplans.show", plan_id=plan.id))


@bp.post("/<int:plan_id>/activate")
@require(PLAN_EDITOR)
def activate(plan_id: int):
    plan = _editable_plan(plan_id)
    return _lifecycle(plan, lambda version: services.activate_plan(
        db.session, current_actor(), plan, version), _("The plan is active."))


@bp.post("/<int:plan_id>/close")
@require(PLAN_EDITOR)
def close(plan_id: int):
    plan = _editable_plan(plan_id)
    form = CloseForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            services.close_plan(db.session, current_actor(), plan, form.close_reason.data,
                                int(form.version.data or 0), form.closed_on.data)
        if work.conflict:
            flash(CHANGED_MEANWHILE, "warning")
        if work.ok:
            flash(_("The plan is closed."), "success")
        if work.ok or work.conflict:
            return redirect(url_for("careplans.show", plan_id=plan.id))
    return _render_show(plan, close_form=form, status=400)


@bp.post("/<int:plan_id>/revise")
@require(PLAN_EDITOR)
def revise(plan_id: int):
    plan = _editable_plan(plan_id)
    with unit_of_work() as work:
        draft = services.revise_as_new_version(db.session, current_actor(), plan)
    if work.conflict:
        flash(CHANGED_MEANWHILE, "warning")
    if not work.ok:
        return redirect(url_for("careplans.show", plan_id=plan.id))
    flash(_("New version started as a draft: it replaces the current plan once the patient "
            "agrees and you activate it."), "success")
    return redirect(url_for("careplans.edit", plan_id=draft.id))


# -- Comments ------------------------------------------------------------------------------------

@bp.post("/<int:plan_id>/comments")
@require(PLAN_READER)
def comment(plan_id: int):
    plan = _readable_plan(plan_id)
    form = CommentForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            services.add_comment(db.session, current_actor(), plan, form.body.data)
        if work.ok:
            flash(_("Comment added for the case manager."), "success")
            return redirect(url_for("careplans.show", plan_id=plan.id, _anchor="comments"))
    return _render_show(plan, comment_form=form, status=400)


# -- History and diff ----------------------------------------------------------------------

@bp.get("/<int:plan_id>/history")
@require(PATIENT_STAFF)
def history(plan_id: int):
    """Every revision (who, when, what), and the differences between any two."""
    plan = db.session.get(CarePlan, plan_id)
    abort_if_hidden(can_read_plan_history(current_user, plan))
    revisions = services.revisions(db.session, plan)
    form = CompareForm(request.args)
    newest = revisions[0].number
    after = form.after.data or newest
    before = form.before.data or max(1, after - 1)
    old, new = services.revision(db.session, plan, before), services.revision(db.session, plan,
                                                                               after)
    if old is None or new is None:
        abort(404)
    services.read_plan(db.session, current_actor(), plan)
    db.session.commit()
    return render_template("careplans/history.html", plan=plan, patient=plan.patient,
                           banner=patient_banner(plan.patient),
                           revisions=revisions, before=old, after=new,
                           changes=documents.compare(old.snapshot, new.snapshot))


# -- Printing ------------------------------------------------------------------------------------

@bp.get("/<int:plan_id>/print")
@require(PLAN_READER)
def print_preview(plan_id: int):
    """The printed summary as HTML: the same template as the PDF."""
    plan = _readable_plan(plan_id)
    html = plan_printing.preview(db.session, current_actor(), plan, current_user.full_name)
    db.session.commit()
    return html


@bp.get("/<int:plan_id>/summary.pdf")
@require(PLAN_READER)
def print_pdf(plan_id: int):
    plan = _readable_plan(plan_id)
    try:
        printed = plan_printing.print_plan_or_batch(db.session, current_actor(), plan,
                                                    current_user.full_name)
    except PrintFailed as error:  # too long, failed, or not stored
        return print_failed(error)
    db.session.commit()
    if isinstance(printed, PrintBatch):  # too large to render in the request
        return redirect(url_for("careplans.batch", batch_id=printed.id))
    return pdf_response(printed.pdf, printed.filename)




@bp.post("/print")
@require(PLAN_EDITOR)
def print_batch():
    """Print the selected plans, or every active plan of the user's caseload, into one PDF in
    the background."""
    form = BatchPrintForm()
    if not form.validate_on_submit():
        abort(400)
    plans = plan_printing.plans_to_print(db.session, current_user,
                                         caseload=request.form.get("scope") == "caseload",
                                         plan_ids=form.plan_ids.data or [])
    if not plans:
        flash(_("Choose at least one plan to print."), "warning")
        return redirect(url_for("careplans.index"))
    batch = plan_printing.start_batch(db.session, current_actor(), plans, current_user.full_name)
    db.session.commit()
    return redirect(url_for("careplans.batch", batch_id=batch.id))


def _own_batch(batch_id: int) -> PrintBatch:
    batch = db.session.get(PrintBatch, batch_id)
    abort_if_hidden(_of_plans(batch) and can_see_print_batch(current_user, batch))
    return batch


def _of_plans(batch: PrintBatch | None) -> bool:
    """A print of care plans (a council report is printed and fetched by the metrics)."""
    return batch is not None and batch.kind == PrintKind.CARE_PLANS


# A batch is read by its owner only; a reader who is not an editor owns the batch of one
# that a large plan's print became (see print_pdf).
@bp.get("/print/<int:batch_id>")
@require(PLAN_READER)
def batch(batch_id: int):
    batch = _own_batch(batch_id)
    return render_template("careplans/batch.html", batch=batch,
                           progress=work.state(db.session, batch.work_item_id))


@bp.get("/print/<int:batch_id>/progress")
@require(PLAN_READER)
def batch_progress(batch_id: int):
    batch = _own_batch(batch_id)
    return render_template("careplans/_batch_progress.html", batch=batch,
                           progress=work.state(db.session, batch.work_item_id))


@bp.post("/print/<int:batch_id>/cancel")
@require(PLAN_READER)
def batch_cancel(batch_id: int):
    batch = db.session.get(PrintBatch, batch_id)
    abort_if_hidden(_of_plans(batch) and can_cancel_print_batch(current_user, batch))
    if batch.work_item_id is not None and batch.status == BatchStatus.RUNNING:
        work.cancel(db.session, batch.work_item_id)
        db.session.commit()
    return redirect(url_for("careplans.batch", batch_id=batch.id))


@bp.get("/print/<int:batch_id>/plans.pdf")
@require(PLAN_READER)
def batch_pdf(batch_id: int):
    batch = _own_batch(batch_id)
    pdf = plan_printing.batch_download(db.session, current_actor(), batch, current_user)
    if pdf is None:
        abort(404)
    db.session.commit()
    return pdf_response(pdf, f"care-plans-{batch.id}.pdf")
