"""/api/v1/programs."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("api_programs", __name__, url_prefix="/api/v1/programs", description="Programs")
