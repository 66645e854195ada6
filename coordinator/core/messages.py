"""Texts the system writes once and people read later, each in their own language.

A message written with Flask-Babel's lazy functions (`_l`, `lazy_ngettext`, `lazy_pgettext`)
is stored as its code: the function, its English msgid(s) and its parameters, the parameters
themselves stored the same way when they are lazy too, or kept in both languages with
`in_languages` (reference data with a French and an English name). `render` translates the
stored code in the reader's language at read time; a text stored before the codes existed,
or a message that was not lazy (a user's own words), stays the literal text it was.

    code = messages.stored(_l("Unknown territory “%(code)s”.", code="75"))
    messages.render(code, fallback=row.message)   # French or English, for the reader
"""

from __future__ import annotations

from typing import Any

import flask_babel
from flask_babel import get_locale
from flask_babel.speaklater import LazyString

# The lazy functions whose codes can be stored: their names in flask_babel.
FUNCTIONS = ("gettext", "ngettext", "pgettext", "npgettext")
MAX_DEPTH = 4  # a message nested in the parameters of another, at most this deep


class InLanguages:
    """A parameter that is kept in each language (`fr`, `en`): the reader's is shown."""

    def __init__(self, fr: str, en: str | None = None) -> None:
        self.texts = {"fr": fr, "en": en or fr}

    def __str__(self) -> str:
        return _pick(self.texts)


def in_languages(fr: str, en: str | None = None) -> InLanguages:
    return InLanguages(fr, en)


def _pick(texts: dict) -> str:
    locale = get_locale()
    language = locale.language if locale is not None else "fr"
    return str(texts.get(language) or texts.get("fr") or next(iter(texts.values()), ""))


def is_lazy(message: object) -> bool:
    return isinstance(message, LazyString) and \
        getattr(message._func, "__name__", None) in FUNCTIONS


def stored(message: object, _depth: int = 0) -> dict | None:
    """The code of a lazy message (JSON-ready), None for any other value (a literal text)."""
    if not is_lazy(message) or _depth > MAX_DEPTH:
        return None
    assert isinstance(message, LazyString)
    return {"f": message._func.__name__,
            "a": [_param(arg, _depth) for arg in message._args],
            "p": {name: _param(value, _depth) for name, value in message._kwargs.items()}}


def stored_value(value: Any) -> Any:
    """A piece of text as stored beside others (a label's parts): a lazy message as its code,
    a text in both languages as both, anything else as its text (JSON-ready)."""
    return _param(value, 0)


def render_value(value: Any) -> str:
    """A piece stored by `stored_value`, in the reader's language."""
    try:
        return str(_value(value))
    except (KeyError, TypeError, ValueError, AttributeError):
        return ""


def _param(value: Any, depth: int) -> Any:
    if isinstance(value, InLanguages):
        return {"languages": dict(value.texts)}
    code = stored(value, depth + 1)
    if code is not None:
        return {"message": code}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def render(code: dict | None, fallback: str | None = "") -> str:
    """The stored message in the reader's language; `fallback` (the text stored with it, or
    before codes existed) when there is no code or it cannot be read any more."""
    if not code:
        return fallback or ""
    try:
        return _render(code)
    except (KeyError, TypeError, ValueError, AttributeError):
        return fallback or ""


def _render(code: dict) -> str:
    name = code["f"]
    if name not in FUNCTIONS:
        raise ValueError(name)
    function = getattr(flask_babel, name)
    args = [_value(arg) for arg in code.get("a") or []]
    params = {key: _value(value) for key, value in (code.get("p") or {}).items()}
    return str(function(*args, **params))


def _value(value: Any) -> Any:
    if isinstance(value, dict) and "message" in value:
        return _render(value["message"])
    if isinstance(value, dict) and "languages" in value:
        return _pick(value["languages"])
    return value

