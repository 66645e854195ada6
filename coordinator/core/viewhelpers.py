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


ROW_KEY = re.compile(r"^(?P<list>[^-]+)-(?P<index>\d+)-(?P<field>.+)$")


def _row_field(row: object, name: str) -> object:
    """The field `name` of a row's subform; `actions-1-provider_id` names a field of row 1 of
    the row's own table (a FieldList inside the row: a plan's goal and its actions)."""
    match = ROW_KEY.match(name)
    inner = getattr(row, match["list"], None) if match else None
    if match and inner is not None and hasattr(inner, "entries"):
        index = int(match["index"])
        if index >= len(inner.entries):
            return None
        return _row_field(inner.entries[index].form, match["field"])
    return getattr(row, name, None)


def _has_messages(errors: object) -> bool:
    return isinstance(errors, list) and any(isinstance(e, str) for e in errors)


def form_errors(form: FlaskForm, error: ValidationError, aliases: dict[str, str] | None = None,
                rows: dict[str, list] | None = None, *, beside_form: bool = False) -> None:
    """Show a service's ValidationError on the form's fields; a key like `items-2-label` names
    a field of row 2 of the table `rows["items"]` (subforms of a FieldList), and
    `goals-0-actions-1-provider_id` a field of a table inside that row. Messages for no field
    of the form are flashed. `beside_form`: the form's own checks found errors too (see
    `unitofwork.checked`): a field already in error keeps the form's message alone (its value
    did not reach the service)."""
    from flask import flash

    aliases, rows = aliases or {}, rows or {}
    for key, messages in error.messages().items():
        key = aliases.get(key, key)
        target = None if key in rows else getattr(form, key, None)
        match = ROW_KEY.match(key)
        if match and match["list"] in rows and int(match["index"]) < len(rows[match["list"]]):
            target = _row_field(rows[match["list"]][int(match["index"])], match["field"])
        if target is not None and hasattr(target, "errors"):
            if beside_form and _has_messages(target.errors):
                continue
            target.errors = [*target.errors, *messages]
        else:
            flash(" ".join(messages), "danger")
    for name in rows:
        _refresh_errors(getattr(form, name))


def _refresh_errors(field_list: object) -> None:
    """A table's errors are its rows' (WTForms sets them in `validate`): the rows' tables
    first, then the table's own messages kept."""
    for entry in field_list.entries:  # type: ignore[attr-defined]
        for inner in entry.form:
            if hasattr(inner, "entries"):
                _refresh_errors(inner)
    own = [e for e in field_list.errors if isinstance(e, str)]  # type: ignore[attr-defined]
    rows = [entry.errors for entry in field_list.entries]  # type: ignore[attr-defined]
    field_list.errors = (rows if any(rows) else []) + own  # type: ignore[attr-defined]
