"""Extension points: what a higher layer adds to a lower domain's pages.

The packages are layered (docs/architecture.md): a lower one never imports a higher one. Yet a
lower domain's page may show what a higher one knows: a patient's record lists their care plans,
a plan page the coming appointments, a calendar the no-show rate of the metrics. The lower page
names an extension point and asks it for template context; the higher package provides a
function for it, registered explicitly from the application factory (`coordinator/web.py`),
never by an import's side effect.

    # lower: careplans/views.py
    context = extending.context(CARE_PLAN_PAGE, session=db.session, plan=plan, now=now)
    # wiring: web.py
    extending.provide(app, CARE_PLAN_PAGE, scheduling.pages.upcoming_for_plan)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app

EXTENSION = "coordinator.extension_points"

Provider = Callable[..., Any]


class ExtensionPoints:
    """The functions provided for each named extension point, in registration order."""

    def __init__(self) -> None:
        self._providers: dict[str, list[Provider]] = defaultdict(list)

    def provide(self, point: str, function: Provider) -> None:
        if function not in self._providers[point]:
            self._providers[point].append(function)

    def providers(self, point: str) -> list[Provider]:
        return list(self._providers.get(point, ()))


def init_app(app: Flask) -> ExtensionPoints:
    return app.extensions.setdefault(EXTENSION, ExtensionPoints())


def provide(app: Flask, point: str, function: Provider) -> None:
    """Register `function` for the extension point `point` (idempotent)."""
    init_app(app).provide(point, function)


def providers(point: str) -> list[Provider]:
    points: ExtensionPoints | None = current_app.extensions.get(EXTENSION)
    return points.providers(point) if points else []


def context(point: str, **subject: Any) -> dict[str, Any]:
    """The template context every provider of `point` adds (their dicts merged, in order)."""
    merged: dict[str, Any] = {}
    for function in providers(point):
        merged.update(function(**subject))
    return merged


def first(point: str, default: Any = None, **subject: Any) -> Any:
    """The answer of the first provider of `point` (one that answers a question)."""
    found = providers(point)
    return found[0](**subject) if found else default
