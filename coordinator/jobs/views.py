"""Administrators see the periodic jobs, their runs (time, counts, errors) and the outbox."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("jobs", __name__, url_prefix="/admin/jobs")
