"""The reconciliation list: the HL7 messages whose patient matched no record or several, for
the case managers of their territory (administrators: every one, and the messages of every
status). Open one, link it to a record (it is applied then) or reject it; all audited."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from coordinator.auth.roles import Role
from coordinator.core.pagination import paginate
from coordinator.core.unitofwork import unit_of_work
from coordinator.core.viewhelpers import current_actor
from coordinator.extensions import db
from coordinator.hl7 import services
from coordinator.hl7.forms import LinkForm, RejectForm
from coordinator.hl7.models import Hl7Message, MessageStatus
from coordinator.patients.models import Patient
from coordinator.permissions import (
    HL7_RECONCILER,
    abort_if_hidden,
    can_link_message,
    can_reconcile,
    require,
)

bp = Blueprint("hl7", __name__, url_prefix="/hl7")

def _labels() -> dict:
    return {
        "status": {MessageStatus.PENDING: _("Waiting"), MessageStatus.LINKED: _("Linked"),
                   MessageStatus.REJECTED: _("Rejected"), MessageStatus.APPLIED: _("Applied"),
                   MessageStatus.ERROR: _("Error")},
        "reason": {key: str(value) for key, value in services.REASONS.items()},
    }


@bp.context_processor
def _hl7_labels() -> dict:
    return {"hl7_labels": _labels()}


def _status_filter() -> MessageStatus | None:
    """The list's status: waiting ones by default; administrators may choose any (`all`)."""
    wanted = request.args.get("status", MessageStatus.PENDING.value)
    if current_user.role != Role.ADMIN:
        return MessageStatus.PENDING
    if wanted == "all":
        return None
    try:
        return MessageStatus(wanted)
    except ValueError:
        return MessageStatus.PENDING


@bp.get("/")
@require(HL7_RECONCILER)
def index():
    status = _status_filter()
    page = paginate(db.session, services.reconciliation_query(current_user, status=status))
    services.read_list(db.session, current_actor(), page.items, page.total)
    db.session.commit()
    return render_template("hl7/reconciliation.html", page=page, status=status,
                           statuses=list(MessageStatus) if current_user.role == Role.ADMIN else [])


def _message(message_id: int) -> Hl7Message:
    message = db.session.get(Hl7Message, message_id)
    abort_if_hidden(message is not None and can_reconcile(current_user, message))
    return message


def _show(message: Hl7Message, link_form: LinkForm, reject_form: RejectForm, status: int = 200):
    suggestions = services.suggestions(db.session, current_user, message) \
        if message.status == MessageStatus.PENDING else []
    return render_template("hl7/message.html", message=message, link_form=link_form,
                           reject_form=reject_form, suggestions=suggestions,
                           segments=message.raw.split("\r")), status


@bp.get("/<int:message_id>")
@require(HL7_RECONCILER)
def show(message_id: int):
    message = _message(message_id)
    services.read_message(db.session, current_actor(), message)
    db.session.commit()
    return _show(message, LinkForm(), RejectForm())


@bp.post("/<int:message_id>/link")
@require(HL7_RECONCILER)
def link(message_id: int):
    message = _message(message_id)
    form = LinkForm()
    if form.validate_on_submit():
        patient = db.session.get(Patient, form.patient_id.data)
        if not can_link_message(current_user, message, patient):
            form.patient_id.errors = [_("No record with this number that you may open.")]
        else:
            with unit_of_work(form) as work:
                services.link(db.session, current_actor(), message, patient, form.note.data)
            if work.ok:
                flash(_("The message is linked to the record of %(name)s and applied.",
                        name=patient.display_name), "success")
                return redirect(url_for("hl7.index"))
    return _show(message, form, RejectForm(), 400)


@bp.post("/<int:message_id>/reject")
@require(HL7_RECONCILER)
def reject(message_id: int):
    message = _message(message_id)
    form = RejectForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            services.reject(db.session, current_actor(), message, form.note.data)
        if work.ok:
            flash(_("The message is rejected: it will not be applied."), "success")
            return redirect(url_for("hl7.index"))
    return _show(message, LinkForm(), form, 400)
