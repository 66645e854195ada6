"""/api/v1/metrics: the registry's figures (docs/metrics.md), and the territories
side by side.

Councils read their territory's figures with small cells withheld, case managers their
territory's exact figures, administrators any territory's or the whole registry's. Every read is
audited with what was asked.
"""

from __future__ import annotations

from dataclasses import replace

from flask.views import MethodView
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import abort
from sqlalchemy import select

from coordinator.api.common import ApiBlueprint, ErrorsSchema, unprocessable
from coordinator.core.errors import ValidationError
from coordinator.core.viewhelpers import current_actor
from coordinator.extensions import db
from coordinator.metrics import services
from coordinator.metrics import targets as territory_targets
from coordinator.metrics.schemas import (
    ComparisonArgsSchema,
    ComparisonSchema,
    MetricsArgsSchema,
    MetricsSchema,
    TargetsArgsSchema,
    TargetsPatchSchema,
    TargetsSchema,
)
from coordinator.permissions import (
    METRICS_READER,
    TARGET_EDITOR,
    TARGET_READER,
    can_compare_territories,
    can_read_targets,
    can_read_territory_metrics,
    can_set_targets,
    metrics_default_territory,
    reads_exact_metrics,
    require,
    targets_default_territory,
)
from coordinator.strata.models import Territory

blp = ApiBlueprint(
    "api_metrics", __name__, url_prefix="/api/v1/metrics",
    description="The registry's figures as docs/metrics.md defines them, for a period "
                "(at most five years) and optionally a territory, a program and one of its "
                "strata. Councils read their own territory's figures with small cells withheld "
                "(a count from 1 to 10, and what would let one be recomputed, is null with "
                "\"suppressed\": true); case managers their own territory's exact figures; "
                "administrators any territory's, or without one the whole registry's. Another "
                "territory's detail answers 403; every reader may compare the territories' "
                "headline figures. GPs and care-team professionals: 403. Reads are audited.")


def _selection(args: dict, *, territory: bool = True) -> services.Selection:
    code = args.get("territory") if territory else None
    try:
        return services.select_figures(
            db.session, first=args.get("first"), last=args.get("last"), territory=code,
            program=args.get("program"), stratum=args.get("stratum"))
    except ValidationError as error:
        unprocessable(error.messages())


@blp.route("")
class Metrics(MethodView):

    @require(METRICS_READER)
    @blp.arguments(MetricsArgsSchema, location="query")
    @blp.response(200, MetricsSchema)
    @blp.alt_response(403, schema=ErrorsSchema,
                      description="Another territory's figures (councils and case managers), "
                                  "or a role that reads no figures.")
    @blp.alt_response(422, schema=ErrorsSchema,
                      description="A date that is not an ISO date, a period ending before it "
                                  "starts or longer than five years, an unknown territory, "
                                  "program or stratum, a stratum of another program.")
    def get(self, args):
        """The registry's figures for a period"""
        selection = _selection(args)
        if selection.territory is None:
            default = metrics_default_territory(current_user)
            if default is not None:
                selection = replace(selection, territory=db.session.get(Territory, default))
        territory_id = selection.territory.id if selection.territory else None
        if not can_read_territory_metrics(current_user, territory_id):
            abort(403, messages={"territory": [
                _("You may read the figures of your own territory only.")]})
        result = services.registry_metrics(db.session, selection,
                                           exact=reads_exact_metrics(current_user))
        services.audit_read(db.session, current_actor(), selection, "metrics")
        db.session.commit()
        return result.to_json()


@blp.route("/territories")
class Comparison(MethodView):

    @require(METRICS_READER)
    @blp.arguments(ComparisonArgsSchema, location="query")
    @blp.response(200, ComparisonSchema)
    @blp.alt_response(403, schema=ErrorsSchema, description="A role that reads no figures.")
    @blp.alt_response(422, schema=ErrorsSchema,
                      description="The same checks as /api/v1/metrics.")
    def get(self, args):
        """The territories' headline figures side by side"""
        selection = _selection(args, territory=False)
        if not can_compare_territories(current_user):
            abort(403)
        results = services.compare_territories(db.session, selection,
                                               exact=reads_exact_metrics(current_user))
        services.audit_read(db.session, current_actor(), selection, "metrics_comparison")
        db.session.commit()
        period = selection.period
        return {"period": {"from": period.first.isoformat(), "to": period.last.isoformat()},
                "program": selection.program.code if selection.program else None,
                "stratum": selection.stratum.code if selection.stratum else None,
                "territories": [result.headline_json() for result in results]}


# -- Targets of a territory -----------------------------------------------------------------------

def _target_territory(args: dict) -> Territory:
    """The territory asked (`territory`), else the reader's own; 422 when unknown or when an
    administrator gives none."""
    code = args.get("territory")
    if code:
        found = db.session.scalar(select(Territory).where(Territory.code == code))
        if found is None:
            unprocessable({"territory": [_("Unknown territory %(code)s.", code=code)]})
        return found
    default = targets_default_territory(current_user)
    found = db.session.get(Territory, default) if default is not None else None
    if found is None:
        unprocessable({"territory": [_("Give a territory.")]})
    return found


def _targets_json(territory: Territory) -> dict:
    rows = territory_targets.target_rows(db.session, territory.id)
    changes = territory_targets.history(db.session, territory.id)
    return {"territory": territory.code,
            "targets": [{"program": row.program_code, "indicator": row.indicator_code,
                         "label": row.label, "is_builtin": row.is_builtin,
                         "program_target_percent": float(row.program_percent),
                         "territory_target_percent": None if row.territory_percent is None
                         else float(row.territory_percent),
                         "target_percent": float(row.effective_percent),
                         "updated_at": row.updated_at} for row in rows],
            "history": [{"changed_at": change.changed_at, "changed_by": change.changed_by,
                         "program": change.program_code, "indicator": change.indicator_code,
                         "old_percent": None if change.old_percent is None
                         else float(change.old_percent),
                         "new_percent": None if change.new_percent is None
                         else float(change.new_percent)} for change in changes]}


@blp.route("/targets")
class Targets(MethodView):

    @require(TARGET_READER)
    @blp.arguments(TargetsArgsSchema, location="query")
    @blp.response(200, TargetsSchema)
    @blp.alt_response(403, schema=ErrorsSchema,
                      description="Another territory's targets (councils and case managers), "
                                  "or a role that reads no figures.")
    @blp.alt_response(422, schema=ErrorsSchema,
                      description="An unknown territory, or none given by an administrator.")
    def get(self, args):
        """A territory's targets per program and indicator, with their history"""
        territory = _target_territory(args)
        if not can_read_targets(current_user, territory.id):
            abort(403, messages={"territory": [
                _("You may read the targets of your own territory only.")]})
        return _targets_json(territory)

    @require(TARGET_EDITOR)
    @blp.arguments(TargetsArgsSchema, location="query")
    @blp.arguments(TargetsPatchSchema)
    @blp.response(200, TargetsSchema)
    @blp.alt_response(403, schema=ErrorsSchema,
                      description="Another territory's targets (a council sets its own only), "
                                  "or a role that sets none.")
    @blp.alt_response(422, schema=ErrorsSchema,
                      description="A target outside 0 to 100, an unknown program or indicator "
                                  "(`errors` names the field, e.g. `targets.0.target_percent`); "
                                  "nothing is written.")
    def patch(self, args, body):
        """Set some of a territory's targets (null: the program's target again)"""
        territory = _target_territory(args)
        if not can_set_targets(current_user, territory.id):
            abort(403, messages={"territory": [
                _("You may set the targets of your own territory only.")]})
        changes = [territory_targets.TargetChange(item["program"], item["indicator"],
                                                  item["target_percent"])
                   for item in body["targets"]]
        try:
            territory_targets.set_targets(db.session, current_actor(), territory, changes)
        except ValidationError as error:
            db.session.rollback()
            messages = error.messages()
            unprocessable(messages, {key: key.replace("-", ".") for key in messages})
        db.session.commit()
        return _targets_json(territory)
