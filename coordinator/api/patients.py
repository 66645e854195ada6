"""/api/v1/patients."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("api_patients", __name__, url_prefix="/api/v1/patients", description="Patients")
