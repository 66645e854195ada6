"""Scheduling pages: book, generate a series from a template, record outcomes, chase no-shows,
reschedule."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("scheduling", __name__, url_prefix="/scheduling")
