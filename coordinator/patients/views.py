"""Patient registry pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("patients", __name__, url_prefix="/patients")
