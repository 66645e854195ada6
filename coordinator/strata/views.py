"""Programs, strata, follow-up templates and indicators pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("programs", __name__, url_prefix="/programs")
