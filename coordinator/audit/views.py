"""Administrators browse, filter and export the audit trail. There is no route that changes it."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask_babel import lazy_gettext as _l

from coordinator.audit import services
from coordinator.audit.forms import AuditFilterForm
from coordinator.audit.labels import ACTION_LABELS
from coordinator.audit.models import AuditAction
from coordinator.core import extending
from coordinator.core.pagination import paginate
from coordinator.core.time import local_today
from coordinator.core.viewhelpers import current_actor
from coordinator.extensions import db
from coordinator.permissions import AUDIT_READER, require

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")


def _patient_ids(patient_id: int | None) -> tuple[int, ...]:
    """The patient and every record merged into it: the trail follows a merge."""
    if patient_id is None:
        return ()
    return tuple(extending.first(services.PATIENT_ALIASES, [patient_id], session=db.session,
                                 patient_id=patient_id))


def _criteria(form: AuditFilterForm) -> services.AuditFilter:
    if not form.validate():
        return services.AuditFilter()
    return services.AuditFilter(
        actor=form.actor.data or None,
        action=form.action.data or None,
        entity_type=(form.entity_type.data or "").strip() or None,
        patient_ids=_patient_ids(form.patient_id.data),
        date_from=form.date_from.data,
        date_to=form.date_to.data,
    )


@bp.get("/")
@require(AUDIT_READER)
def index():
    form = AuditFilterForm(request.args)
    criteria = _criteria(form)
    page = paginate(db.session, services.filtered_query(criteria))
    status = 400 if form.errors else 200
    return render_template("audit/index.html", form=form, page=page,
                           action_labels=ACTION_LABELS), status


@bp.get("/export.csv")
@require(AUDIT_READER)
def export():
    form = AuditFilterForm(request.args)
    criteria = _criteria(form)
    services.record(db.session, current_actor(), AuditAction.EXPORT, "audit_entry",
                    summary=_l("Audit trail export"), details={"filters": request.args.to_dict()})
    db.session.commit()
    filename = f"audit-{local_today().isoformat()}.csv"
    return Response(
        stream_with_context(services.export_csv(db.session, criteria)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/patients/<int:patient_id>")
@require(AUDIT_READER)
def patient_log(patient_id: int):
    """A patient's access log: every read, print, export and change of their data (the records
    merged into theirs included), newest first, paginated."""
    page = paginate(db.session, services.patient_log(_patient_ids(patient_id)))
    return render_template("audit/patient.html", patient_id=patient_id, page=page,
                           action_labels=ACTION_LABELS)
