"""Small helpers for views."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import request
from flask_wtf import FlaskForm

from coordinator.core.context import Actor
from coordinator.core.errors import ValidationError


def safe_next_url(target: str | None) -> str | None:
    """A redirect target only when it stays on this site (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def current_actor() -> Actor:
    """The signed-in user and their address, for services and the audit trail."""
    from flask_login import current_user

    return Actor.for_user(current_user, request.remote_addr)


ROW_KEY = re.compile(r"^(?P<list>\w+)-(?P<index>\d+)-(?P<field>\w+)$")


def form_errors(form: FlaskForm, error: ValidationError, aliases: dict[str, str] | None = None,
                rows: dict[str, list] | None = None) -> None:
    """Show a service's ValidationError on the form's fields; a key like `items-2-label` names
    a field of row 2 of the table `rows["items"]` (subforms of a FieldList). Messages for no
    field of the form are flashed."""
    from flask import flash

    aliases, rows = aliases or {}, rows or {}
    for key, messages in error.messages().items():
        key = aliases.get(key, key)
        target = None if key in rows else getattr(form, key, None)
        match = ROW_KEY.match(key)
        if match and match["list"] in rows and int(match["index"]) < len(rows[match["list"]]):
            target = getattr(rows[match["list"]][int(match["index"])], match["field"], None)
        if target is not None and hasattr(target, "errors"):
            target.errors = [*target.errors, *messages]
        else:
            flash(" ".join(messages), "danger")
    for name in rows:
        field_list = getattr(form, name)
        errors = [entry.errors for entry in field_list.entries]
        field_list.errors = errors if any(errors) else []
