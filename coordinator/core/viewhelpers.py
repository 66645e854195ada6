"""Small helpers for views."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import request

from coordinator.core.context import Actor


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


def form_errors(form, error, aliases: dict[str, str] | None = None) -> None:
    """Show a service's ValidationError on the form's fields (unknown fields: a message)."""
    from flask import flash

    aliases = aliases or {}
    for field, messages in error.messages().items():
        target = getattr(form, aliases.get(field, field), None)
        if target is not None and hasattr(target, "errors"):
            target.errors = [*target.errors, *messages]
        else:
            flash(" ".join(messages), "danger")
