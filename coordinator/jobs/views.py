"""Administrators see the periodic jobs, their runs (time, counts, errors) and the outbox, and
may run a job by hand."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from coordinator.audit import services as audit
from coordinator.audit.models import AuditAction
from coordinator.core.pagination import paginate
from coordinator.core.viewhelpers import current_actor
from coordinator.extensions import db
from coordinator.jobs import registry, runner
from coordinator.jobs.labels import OUTBOX_STATUS_LABELS, RUN_STATUS_LABELS, TRIGGER_LABELS
from coordinator.jobs.models import JobStatus
from coordinator.outbox import services as outbox
from coordinator.permissions import ADMIN, require

bp = Blueprint("jobs", __name__, url_prefix="/admin/jobs")
RECENT_RUNS = 50


@bp.get("/")
@require(ADMIN)
def index():
    return render_template("jobs/index.html", jobs=registry.jobs(),
                           last=runner.last_runs(db.session),
                           runs=runner.recent_runs(db.session, RECENT_RUNS),
                           format_counts=runner.format_counts, status_labels=RUN_STATUS_LABELS,
                           trigger_labels=TRIGGER_LABELS)


@bp.get("/outbox")
@require(ADMIN)
def outbox_messages():
    page = paginate(db.session, outbox.newest_first())
    audit.record_shown(db.session, current_actor(), "outbox",
                       [message.patient_id for message in page.items],
                       summary=f"{len(page.items)} message(s)")
    db.session.commit()
    return render_template("jobs/outbox.html", page=page, status_labels=OUTBOX_STATUS_LABELS)


@bp.post("/<name>/run")
@require(ADMIN)
def run(name: str):
    if registry.get(name) is None:
        abort(404)
    job_run = runner.run_manually(current_app._get_current_object(), name)
    audit.record(db.session, current_actor(), AuditAction.CREATE, "job_run",
                 job_run.id if job_run else None, summary=f"Ran {name} by hand")
    db.session.commit()
    if job_run is not None and job_run.status == JobStatus.SUCCEEDED:
        counts = runner.format_counts(job_run.counts)
        flash(_("%(job)s ran: %(counts)s.", job=name, counts=counts), "success")
    else:
        flash(_("%(job)s failed: %(error)s", job=name,
                error=job_run.error if job_run else "-"), "danger")
    return redirect(url_for(".index"))
