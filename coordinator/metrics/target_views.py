"""The targets page: a territory's targets per program by indicator, set by its council (or an
administrator), with their history and the council's notices of targets not met.

Who reads and who sets them is decided by `coordinator.permissions` (`can_read_targets`,
`can_set_targets`: another territory's answers 403); the rule of the effective target and the
changes are `metrics.targets`'."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from coordinator.auth.roles import Role
from coordinator.core.unitofwork import unit_of_work
from coordinator.core.viewhelpers import current_actor
from coordinator.extensions import db
from coordinator.metrics import targets as service
from coordinator.metrics.target_forms import TargetsForm
from coordinator.permissions import (
    TARGET_READER,
    can_read_targets,
    can_set_targets,
    require,
    targets_default_territory,
)
from coordinator.strata.models import Territory

bp = Blueprint("metric_targets", __name__, url_prefix="/metrics/targets")


def _territory(code: str) -> Territory:
    territory = db.session.scalar(select(Territory).where(Territory.code == code))
    if territory is None:
        abort(404)
    if not can_read_targets(current_user, territory.id):
        abort(403)
    return territory


@bp.get("/")
@require(TARGET_READER)
def index():
    """A reader's own territory; an administrator chooses one."""
    default = targets_default_territory(current_user)
    if default is not None:
        territory = db.session.get(Territory, default)
        if territory is not None:
            return redirect(url_for(".territory", code=territory.code))
    if current_user.role != Role.ADMIN:
        abort(403)  # a council or case manager without a territory
    territories = db.session.scalars(select(Territory).order_by(Territory.code)).all()
    return render_template("metrics/targets_index.html", territories=territories)


def _page(territory: Territory, form: TargetsForm | None = None, status: int = 200):
    rows = service.target_rows(db.session, territory.id)
    if form is None:
        form = TargetsForm(data={"targets": [
            {"program": row.program_code, "indicator": row.indicator_code,
             "target_percent": row.territory_percent} for row in rows]})
    by_key = {(row.program_code, row.indicator_code): row for row in rows}
    lines = [(entry.form, by_key.get((entry.form.program.data, entry.form.indicator.data)))
             for entry in form.targets]
    return render_template(
        "metrics/targets.html", territory=territory, form=form, lines=lines,
        may_edit=can_set_targets(current_user, territory.id),
        history=service.history(db.session, territory.id),
        notices=service.notices(db.session, current_user.id)), status


@bp.route("/<code>", methods=["GET", "POST"])
@require(TARGET_READER)
def territory(code: str):
    found = _territory(code)
    if request.method == "GET":
        return _page(found)
    if not can_set_targets(current_user, found.id):
        abort(403)
    form = TargetsForm()
    if form.validate_on_submit():
        entries = [entry.form for entry in form.targets]
        with unit_of_work(form, rows={"targets": entries}) as work:
            changed = service.set_targets(db.session, current_actor(), found, [
                service.TargetChange(entry.program.data or "", entry.indicator.data or "",
                                     entry.target_percent.data) for entry in entries])
        if work.ok:
            flash(_("Targets of %(territory)s saved (%(count)d changed).",
                    territory=found.code, count=changed), "success")
            return redirect(url_for(".territory", code=found.code))
    return _page(found, form, 400)
