"""Registration of the API's resources with flask-smorest (which generates the OpenAPI file)."""

from __future__ import annotations

from flask import Flask
from flask_login import current_user
from flask_smorest import Blueprint

from coordinator.auth.schemas import CurrentUserSchema
from coordinator.extensions import api
from coordinator.permissions import AUTHENTICATED, require

account = Blueprint("api_account", __name__, url_prefix="/api/v1",
                    description="The signed-in user")


@account.route("/me")
@require(AUTHENTICATED)
@account.response(200, CurrentUserSchema)
def me():
    """The account of the caller (session or bearer token)."""
    return current_user


def register(app: Flask) -> None:
    from coordinator.api import (
        appointments,
        careplans,
        enrollments,
        events,
        metrics,
        patients,
        programs,
        providers,
        stays,
        tasks,
    )

    api.register_blueprint(account)
    for module in (patients, providers, programs, enrollments, careplans, appointments,
                   tasks):
        api.register_blueprint(module.blp)
    # --- stays ---
    for module in (stays, events):
        api.register_blueprint(module.blp)
    # --- hl7 ---
    from coordinator.api import hl7v2

    api.register_blueprint(hl7v2.blp)
    # --- metrics ---
    api.register_blueprint(metrics.blp)
