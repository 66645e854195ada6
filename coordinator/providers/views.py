"""Provider directory pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("providers", __name__, url_prefix="/providers")
