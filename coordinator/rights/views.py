"""The record's "Patient's rights" section (administrators) and its two downloads: everything
held about the patient, as JSON and as a readable PDF (coordinator/rights/services.py). The
section is provided for `patients.services.RECORD_SECTIONS` in `coordinator/web.py`."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import Session

from coordinator.core.viewhelpers import current_actor
from coordinator.extensions import db
from coordinator.patients.models import Patient
from coordinator.permissions import (
    RIGHTS_EXPORTER,
    abort_if_hidden,
    can_export_patient_record,
    require,
)
from coordinator.printing.pdf import PrintFailed
from coordinator.rights import services
from coordinator.rights.services import Exported

bp = Blueprint("rights", __name__)


def record_section(session: Session, patient: Patient) -> dict | None:
    """The record's "Patient's rights" section, for administrators (no query)."""
    if not can_export_patient_record(current_user, patient):
        return None
    return {"template": "rights/_record_section.html"}


def _exportable(patient_id: int) -> Patient:
    patient = db.session.get(Patient, patient_id)
    abort_if_hidden(patient is not None and can_export_patient_record(current_user, patient))
    return patient


def _download(exported: Exported) -> Response:
    response = Response(exported.content, mimetype=exported.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{exported.filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/patients/<int:patient_id>/rights/export.json")
@require(RIGHTS_EXPORTER)
def export_json(patient_id: int):
    exported = services.export_json(db.session, current_actor(), _exportable(patient_id))
    db.session.commit()
    return _download(exported)


@bp.get("/patients/<int:patient_id>/rights/export.pdf")
@require(RIGHTS_EXPORTER)
def export_pdf(patient_id: int):
    patient = _exportable(patient_id)
    try:
        exported = services.export_pdf(
            db.session, current_actor(), patient, current_user.full_name,
            current_app.config["PRINT_REQUEST_TIMEOUT_SECONDS"] or None)
    except PrintFailed as error:  # too long, or failed: nothing written
        db.session.rollback()
        headers = {"Retry-After": str(error.retry_after)} if error.retry_after else {}
        return render_template("errors/error.html", code=503, title=_("Service unavailable"),
                               message=error.user_message()
                               + " " + _("The command line exports without a time limit: "
                                         "flask --app wsgi patients export %(id)d --format pdf.",
                                         id=patient.id)), 503, headers
    db.session.commit()
    return _download(exported)
