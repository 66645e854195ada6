"""The shell of the application: role home pages, language choice, health check."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, session
from flask_login import current_user
from sqlalchemy import text

from coordinator.auth import services as auth_services
from coordinator.core.errors import ValidationError
from coordinator.core.forms import LanguageForm
from coordinator.core.permissions import AUTHENTICATED, PUBLIC, require
from coordinator.core.viewhelpers import safe_next_url
from coordinator.extensions import db
from coordinator.strata import services as strata_services

bp = Blueprint("core", __name__)

HOME_TEMPLATES = {
    "case_manager": "core/home_case_manager.html",
    "gp": "core/home_gp.html",
    "council": "core/home_council.html",
    "admin": "core/home_admin.html",
}


@bp.get("/")
@require(AUTHENTICATED)
def home():
    """Each role lands on its own page (worklist, shared plans, dashboard, administration)."""
    return render_template(
        HOME_TEMPLATES[current_user.role],
        programs=strata_services.list_programs(db.session),
        territories=strata_services.list_territories(db.session),
        user_count=auth_services.count_users(db.session),
    )


@bp.post("/language")
@require(PUBLIC)
def set_language():
    form = LanguageForm()
    if form.validate_on_submit():
        locale = form.locale.data
        session["locale"] = locale
        if current_user.is_authenticated:
            try:
                auth_services.set_locale(current_user, locale, current_app.config["LANGUAGES"])
            except ValidationError:
                pass
            else:
                db.session.commit()
    return redirect(safe_next_url(request.form.get("next")) or "/")


@bp.get("/healthz")
@require(PUBLIC)
def healthz():
    """200 when the database answers, 503 otherwise (for load balancers and monitoring)."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any database failure means "not healthy"
        db.session.rollback()
        return jsonify({"status": "unavailable", "database": "unreachable"}), 503
    return jsonify({"status": "ok", "database": "ok"})

