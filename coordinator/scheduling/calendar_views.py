"""Calendars: week and month views per patient, per provider and for a caseload; iCalendar
feeds behind secret, revocable addresses."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("calendar", __name__, url_prefix="/calendar")
