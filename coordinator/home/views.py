"""The shell of the application: role home pages, language choice, health check."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, session
from flask_login import current_user

from coordinator.auth import services as auth_services
from coordinator.auth.roles import Role
from coordinator.careplans import lists as plan_lists
from coordinator.core import database, health
from coordinator.core.forms import LanguageForm, WorklistFilterForm
from coordinator.core.pagination import count, paginate
from coordinator.core.time import local_today, utcnow
from coordinator.core.unitofwork import unit_of_work
from coordinator.core.viewhelpers import current_actor, safe_next_url
from coordinator.extensions import db
from coordinator.metrics import targets as metric_targets
from coordinator.patients import worklists
from coordinator.permissions import AUTHENTICATED, PUBLIC, require
from coordinator.scheduling import services as appointment_services
from coordinator.scheduling import worklists as appointment_lists
from coordinator.scheduling.models import Appointment
from coordinator.strata import services as strata_services
from coordinator.tasks import alerts as task_alerts
from coordinator.tasks import lists as task_lists

bp = Blueprint("home", __name__)

HOME_TEMPLATES = {
    "case_manager": "home/home_case_manager.html",
    "gp": "home/home_gp.html",
    "professional": "home/home_gp.html",
    "council": "home/home_council.html",
    "admin": "home/home_admin.html",
}


@bp.get("/")
@require(AUTHENTICATED)
def home():
    """Each role lands on its own page (worklist, shared plans, dashboard, administration)."""
    context = {"programs": strata_services.list_programs(db.session)}
    if current_user.role == Role.CASE_MANAGER:
        context.update(_worklists(context["programs"]))
    elif current_user.role in (Role.GP, Role.PROFESSIONAL):
        context.update(_shared_plans())
    elif current_user.role == Role.COUNCIL:
        context.update(notices=metric_targets.notices(db.session, current_user.id))
    elif current_user.role == Role.ADMIN:
        context.update(territories=strata_services.list_territories(db.session),
                       user_count=auth_services.count_users(db.session))
    return render_template(HOME_TEMPLATES[current_user.role], **context)


def _worklists(programs) -> dict:
    form = WorklistFilterForm(request.args)
    form.program_id.choices = [("", "—")] + [(p.id, p.display_name) for p in programs]
    form.stratum_id.choices = [("", "—")] + [
        (s.id, f"{s.code} — {s.display_name}") for p in programs for s in p.strata]
    form.validate()
    filters = worklists.WorklistFilter(program_id=form.program_id.data,
                                       stratum_id=form.stratum_id.data)
    caseload = paginate(db.session, worklists.caseload(current_user, filters), per_page=50)
    unstratified = paginate(db.session, worklists.unstratified(current_user), per_page=20)
    went_up = db.session.execute(
        worklists.stratum_went_up(current_user, filters, local_today()).limit(50)).all()
    reviews = paginate(db.session, plan_lists.review_overdue(current_user, local_today()),
                       per_page=20)
    followups = {
        "outcome_missing": count(db.session, appointment_lists.outcome_missing(
            current_user, utcnow())),
        "no_shows": count(db.session, appointment_lists.no_shows(
            current_user, local_today()).where(Appointment.outreach_at.is_(None)))}
    # The transition of care: alerts about stays, then the tasks, overdue first (by LACE).
    today = local_today()
    alerts = task_alerts.worklist_alerts(db.session, current_user, today)
    tasks = paginate(db.session, task_lists.worklist(current_user, today), per_page=50)
    overdue_count = count(db.session, task_lists.worklist(current_user, today)
                          .where(task_lists.overdue(today)))
    worklists.audit_view(
        db.session, current_actor(),
        len(caseload.items) + len(unstratified.items) + len(went_up)
        + len(reviews.items) + len(tasks.items) + task_alerts.count(alerts),
        [*(patient.id for patient in caseload.items),
         *(patient.id for patient in unstratified.items),
         *(row[0].id for row in went_up), *(plan.patient_id for plan in reviews.items),
         *(task.patient_id for task in tasks.items),
         *(alert.stay.patient_id for rows in alerts.values() for alert in rows)])
    db.session.commit()
    return {"filter_form": form, "caseload": caseload, "unstratified": unstratified,
            "went_up": went_up, "reviews": reviews, "followups": followups,
            "alerts": alerts, "alert_count": task_alerts.count(alerts), "tasks": tasks,
            "overdue_count": overdue_count}


def _shared_plans() -> dict:
    """A GP's (or care-team professional's) home: the active plans shared with them, each with
    what is new for them (review overdue, comments since they last opened it) and its
    patient's next appointments; a constant number of queries whatever the page holds."""
    plans = paginate(db.session, plan_lists.shared_with(current_user))
    now = utcnow()
    news = plan_lists.what_is_new(db.session, current_user, plans.items, local_today(), now)
    coming = appointment_services.next_appointments(
        db.session, {plan.patient_id for plan in plans.items}, now)
    plan_lists.audit_list(db.session, current_actor(), plans.items)
    shown = [a for rows in coming.values() for a in rows]
    if shown:  # the appointments are the patients' data too
        appointment_services.read_appointments(
            db.session, current_actor(), "shared_plan_list", len(shown),
            patients=[a.patient_id for a in shown])
    db.session.commit()
    return {"plans": plans, "news": news, "coming": coming,
            "new_comment_days": plan_lists.NEW_COMMENT_DAYS}


@bp.post("/language")
@require(PUBLIC)
def set_language():
    form = LanguageForm()
    if form.validate_on_submit():
        locale = form.locale.data
        session["locale"] = locale
        if current_user.is_authenticated:
            with unit_of_work(show=lambda error: None):  # an unknown language: not kept
                auth_services.set_locale(current_user, locale, current_app.config["LANGUAGES"])
    return redirect(safe_next_url(request.form.get("next")) or "/")


@bp.get("/healthz")
@require(PUBLIC)
def healthz():
    """Readiness, for load balancers and monitoring: 200 when the database answers and accepts
    writes and no other part (the background workers' heartbeat) fails, else 503; the body
    gives the status of each part (see core/health.py)."""
    config = current_app.config
    parts = {"database": database.probe_writes(db.session, config["HEALTHZ_TIMEOUT"],
                                               config["SQLITE_BUSY_TIMEOUT"])}
    parts.update(health.statuses(current_app))
    ready = health.healthy(parts)
    return jsonify({"status": "ok" if ready else "unavailable", **parts}), 200 if ready else 503
