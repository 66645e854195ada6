"""Template globals: permission checks, roles, navigation, locale-aware formatting."""

from __future__ import annotations

from flask import Flask
from flask_babel import format_date, format_datetime, format_decimal, get_locale

from coordinator import permissions
from coordinator.auth.roles import Role
from coordinator.core.time import local_today


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        can=permissions.can,
        policies=permissions,
        Role=Role,
        current_locale=lambda: str(get_locale()),
        today=local_today,
    )
    app.jinja_env.filters.update(
        date=format_date, datetime=format_datetime, number=format_decimal,
    )
