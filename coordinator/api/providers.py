"""/api/v1/providers."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("api_providers", __name__, url_prefix="/api/v1/providers", description="Providers")
