"""/api/v1/enrollments."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("api_enrollments", __name__, url_prefix="/api/v1/enrollments", description="Enrollments")
