"""Task pages: the list, a task (record the contact, book the visit, close it by hand), a
contact with a patient, and the acknowledgement of a worklist alert."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from coordinator.core.pagination import paginate
from coordinator.core.time import PARIS, local_today, utcnow
from coordinator.core.unitofwork import unit_of_work
from coordinator.core.viewhelpers import current_actor, safe_next_url
from coordinator.extensions import db
from coordinator.patients.banner import for_page as patient_banner
from coordinator.patients.models import Patient
from coordinator.permissions import (
    ALERT_HANDLER,
    TASK_STAFF,
    abort_if_hidden,
    can_acknowledge_alert,
    can_change_task,
    can_record_contact,
    can_view_task,
    require,
)
from coordinator.stays.models import Stay
from coordinator.tasks import lists, services
from coordinator.tasks.forms import AcknowledgeForm, CloseTaskForm, ContactForm
from coordinator.tasks.models import Task, TaskKind, TaskStatus

bp = Blueprint("tasks", __name__, url_prefix="/tasks")


def _task(task_id: int) -> Task:
    task = db.session.get(Task, task_id)
    abort_if_hidden(can_view_task(current_user, task))
    assert task is not None
    return task


def _naive(moment: datetime | None) -> datetime | None:
    """A form's local date-time: Paris time, no zone (the service interprets it)."""
    return moment.replace(tzinfo=None) if moment is not None else None


@bp.get("/")
@require(TASK_STAFF)
def index():
    """The tasks the user sees: by default the open ones assigned to them (all of them for an
    administrator), by due date."""
    status = request.args.get("status", TaskStatus.OPEN.value)
    if status not in (*TaskStatus, "all"):
        abort(400)
    mine = request.args.get("assignee", "me") == "me" and current_user.role != "admin"
    filters = lists.TaskFilter(status=None if status == "all" else status,
                               assignee_id=current_user.id if mine else None)
    page = paginate(db.session, lists.list_query(current_user, filters, local_today()))
    services.read_tasks(db.session, current_actor(), "task_list", len(page.items),
                        patients=[task.patient_id for task in page.items])
    db.session.commit()
    return render_template("tasks/index.html", page=page, status=status, mine=mine,
                           statuses=list(TaskStatus))


def _render_show(task: Task, *, contact_form: ContactForm | None = None,
                 close_form: CloseTaskForm | None = None, status: int = 200):
    services.read_task(db.session, current_actor(), task)
    db.session.commit()
    close_form = close_form or CloseTaskForm(formdata=None, version=task.version)
    contact_form = contact_form or _contact_form(task.id)
    book_url = url_for("scheduling.book", patient_id=task.patient_id, prefill="care_team",
                       next=url_for("tasks.show", task_id=task.id)) \
        if task.kind == TaskKind.DISCHARGE_VISIT else None
    return render_template("tasks/show.html", task=task, contact_form=contact_form,
                           banner=patient_banner(task.patient),
                           close_form=close_form, book_url=book_url,
                           may_change=can_change_task(current_user, task),
                           may_contact=can_record_contact(current_user, task.patient),
                           overdue=task.status == TaskStatus.OPEN and
                           task.due_on < local_today()), status


def _contact_form(task_id: int | None) -> ContactForm:
    form = ContactForm(formdata=None)
    form.occurred_at.data = utcnow().astimezone(PARIS).replace(tzinfo=None, second=0,
                                                               microsecond=0)
    form.task_id.data = task_id
    return form


@bp.get("/<int:task_id>")
@require(TASK_STAFF)
def show(task_id: int):
    return _render_show(_task(task_id))


@bp.post("/<int:task_id>/close")
@require(TASK_STAFF)
def close(task_id: int):
    task = _task(task_id)
    if not can_change_task(current_user, task):
        abort(403)
    form = CloseTaskForm()
    if form.validate_on_submit():
        version = int(form.version.data) if (form.version.data or "").isdigit() else None
        with unit_of_work(form) as work:
            services.close_task(db.session, current_actor(), task, form.status.data,
                                form.note.data, version)
        if work.conflict:
            flash(_("The task was changed meanwhile: check it, then try again."), "warning")
            return redirect(url_for("tasks.show", task_id=task.id))
        if work.ok:
            flash(_("Task closed."), "success")
            return redirect(url_for("tasks.show", task_id=task.id))
    return _render_show(task, close_form=form, status=400)


@bp.route("/patients/<int:patient_id>/contact", methods=["GET", "POST"])
@require(TASK_STAFF)
def record_contact(patient_id: int):
    """Record a contact with the patient (from their record, a task or an alert): the tasks it
    answers resolve."""
    patient = db.session.get(Patient, patient_id)
    abort_if_hidden(can_record_contact(current_user, patient))
    assert patient is not None
    form = _contact_form(_task_arg(patient)) if request.method == "GET" else ContactForm()
    status = 200
    if form.validate_on_submit():
        data = {"occurred_at": _naive(form.occurred_at.data), "channel": form.channel.data,
                "outcome": form.outcome.data, "note": form.note.data}
        with unit_of_work(form) as work:
            services.record_contact(db.session, current_actor(), patient, data)
        if work.ok:
            flash(_("Contact recorded."), "success")
            task_id = _task_arg(patient, form.task_id.data)
            if task_id is not None:
                return redirect(url_for("tasks.show", task_id=task_id))
            return redirect(safe_next_url(request.args.get("next")) or
                            url_for("patients.show", patient_id=patient.id))
    if request.method == "POST":
        status = 400
    services.read_tasks(db.session, current_actor(), "contact_form", 0, patient.id)
    db.session.commit()
    return render_template("tasks/contact.html", form=form, patient=patient,
                           banner=patient_banner(patient)), status


def _task_arg(patient: Patient, value: object = None) -> int | None:
    """The task a contact form comes from (`?task=`), when it is one of this patient's that the
    user sees; else None."""
    raw = value if value is not None else request.args.get("task", "")
    task_id = raw if isinstance(raw, int) else int(raw) if str(raw).isdigit() else None
    if task_id is None or task_id > 2**31 - 1:
        return None
    task = db.session.get(Task, task_id)
    if task is None or task.patient_id != patient.id or not can_view_task(current_user, task):
        return None
    return task.id


@bp.post("/alerts/acknowledge")
@require(ALERT_HANDLER)
def acknowledge():
    """Hide a worklist alert (audited), then back to the worklist."""
    form = AcknowledgeForm()
    if not form.validate_on_submit():
        abort(400)
    stay = db.session.get(Stay, form.stay_id.data)
    abort_if_hidden(can_acknowledge_alert(current_user, stay))
    assert stay is not None
    with unit_of_work() as work:
        services.acknowledge_alert(db.session, current_actor(), form.kind.data, stay,
                                   form.note.data)
    if work.ok:
        flash(_("Alert acknowledged."), "success")
    return redirect(url_for("home.home", _anchor="alerts-title"))
