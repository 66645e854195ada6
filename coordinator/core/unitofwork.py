"""One unit of work for a page: the page twin of the API's `api.common.service_errors`.

A view parses its form, checks who may act, then calls its services inside `unit_of_work()`:

    if form.validate_on_submit():
        with unit_of_work(form) as work:
            program = services.create_program(db.session, current_actor(), form.service_data())
        if work.ok:
            flash(_("Program created."), "success")
            return redirect(...)
    return render_template(...), 400

- success: the session is committed once, at the end of the block (a concurrent change found
  at commit time is an edit conflict too);
- a service's `ValidationError`: rolled back, every message shown on its field of the form (or
  flashed when no field matches, or shown by `show`), `work.error` set;
- an edit conflict (`ConflictError`, or SQLAlchemy's `StaleDataError` at flush or commit):
  rolled back, `work.conflict` set; the view answers with its conflict page (`conflict_page`)
  or a message;
- any exception listed in `expected` (a domain's own outcomes: overlapping appointments, a
  refused transition, a unique index that refused a second draft): rolled back, kept in
  `work.failure` for the view to answer.

Anything else propagates (a 500, the request's session then rolled back by Flask-SQLAlchemy).

Every problem in one round: `checked(form, check)` stands for `form.validate_on_submit()`; when
the form's own checks (WTForms) fail, it still runs the service's checks (`check`, a service
function that raises a `ValidationError` gathering every problem and writes nothing) and shows
their messages too, so that the user sees every field error and every rule of the service at
once, not one after re-submitting:

    if checked(form, lambda: services.check_program(db.session, form.service_data())):
        with unit_of_work(form) as work:
            ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import flash, render_template
from sqlalchemy.orm.exc import StaleDataError

from coordinator.core.errors import ConflictError, ValidationError
from coordinator.core.viewhelpers import form_errors
from coordinator.extensions import db


@dataclass
class Work:
    """What came of a unit of work."""

    error: ValidationError | None = None
    conflict: bool = False
    failure: Exception | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.conflict and self.failure is None


def show_errors(form: Any, error: ValidationError, aliases: dict[str, str] | None = None,
                rows: dict[str, list] | None = None) -> None:
    """A service's messages on the form's fields; flashed without a form."""
    if form is not None:
        form_errors(form, error, aliases, rows)
        return
    for messages in error.messages().values():
        flash(" ".join(messages), "danger")


def checked(form: Any, check: Callable[[], object], *, aliases: dict[str, str] | None = None,
            rows: Callable[[], dict[str, list]] | dict[str, list] | None = None,
            show: Callable[[ValidationError], None] | None = None) -> bool:
    """The form submitted and valid (`validate_on_submit`); when it is not, the service's
    problems (`check()`) are shown beside the form's (or by `show`), nothing written (see the
    module)."""
    if form.validate_on_submit():
        return True
    csrf = getattr(form, "csrf_token", None)
    if not form.is_submitted() or (csrf is not None and csrf.errors):
        return False
    try:
        with db.session.no_autoflush:
            check()
    except ValidationError as error:
        if show is not None:
            show(error)
        else:
            form_errors(form, error, aliases, rows() if callable(rows) else rows,
                        beside_form=True)
    return False


@contextmanager
def unit_of_work(form: Any = None, *, show: Callable[[ValidationError], None] | None = None,
                 expected: tuple[type[Exception], ...] = (),
                 aliases: dict[str, str] | None = None,
                 rows: dict[str, list] | None = None) -> Iterator[Work]:
    """Run the services of a page and commit once (see the module's description)."""
    work = Work()
    try:
        yield work
        db.session.commit()
    except ValidationError as error:
        db.session.rollback()
        work.error = error
        if show is not None:
            show(error)
        else:
            show_errors(form, error, aliases, rows)
    except (ConflictError, StaleDataError):
        db.session.rollback()
        work.conflict = True
    except expected as failure:
        db.session.rollback()
        work.failure = failure


def conflict_page(template: str, form: Any, record: Any, *, message: str | None = None,
                  **context: Any) -> tuple[str, int]:
    """Someone saved `record` meanwhile: show it as it is now with the user's input kept in the
    form, which takes the current version so that saving again (knowingly) replaces it. 409."""
    db.session.refresh(record)
    if getattr(form, "version", None) is not None:
        form.version.data = record.version
    if message:
        flash(message, "warning")
    return render_template(template, form=form, conflict=True, **context), 409
