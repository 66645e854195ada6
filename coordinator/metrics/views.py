"""The registry dashboard: the figures of metrics.md for councils (their territory, small cells
withheld), case managers (their territory or their caseload, exact) and administrators (any
territory, or all), with every table as CSV.

The view parses the selection (a GET form, no JavaScript needed), asks `permissions` who may
read what, calls `services.dashboard` (a fixed number of statements whatever the rows), audits
the read and renders `tables` and `charts`, the same tables the CSV files are written from.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from coordinator.core.errors import ValidationError
from coordinator.core.time import local_today
from coordinator.core.viewhelpers import current_actor
from coordinator.extensions import db
from coordinator.metrics import charts, exports, report, services, tables
from coordinator.metrics.forms import DashboardForm
from coordinator.permissions import (
    METRICS_READER,
    can_compare_territories,
    can_read_caseload_metrics,
    can_read_territory_metrics,
    metrics_default_territory,
    reads_exact_metrics,
    require,
)
from coordinator.strata import services as strata_services

bp = Blueprint("metrics", __name__, url_prefix="/metrics")

# The parameters of a selection, kept by every link of the page.
SELECTION_PARAMS = ("period", "year", "month", "quarter", "from", "to", "territory", "program",
                    "stratum", "caseload")


@dataclass
class Asked:
    form: DashboardForm
    selection: services.Selection | None
    territories: list
    programs: list


def _asked() -> Asked:
    """The selection of the query string, checked; 403 for a territory the reader may not read
    in detail (after the codes are known: an unknown code is a field error)."""
    territories = strata_services.list_territories(db.session)
    programs = strata_services.list_programs(db.session)
    form = DashboardForm(request.args, today=local_today())
    readable = [t for t in territories if can_read_territory_metrics(current_user, t.id)]
    form.territory.choices = ([("", _("All territories"))]
                              if can_read_territory_metrics(current_user, None) else []) + [
        (t.code, f"{t.code} — {t.name}") for t in readable]
    form.program.choices = [("", _("Whole registry"))] + [
        (p.code, f"{p.code} — {p.display_name}") for p in programs]
    form.stratum.choices = [("", _("All strata"))] + [
        (s.code, f"{s.code} — {s.display_name}") for p in programs for s in p.strata]
    asked = Asked(form, None, territories, programs)
    if not form.validate():
        return asked
    first, last = form.bounds()
    code = form.territory.data or None
    if code is None:
        default = metrics_default_territory(current_user)
        code = next((t.code for t in territories if t.id == default), None)
    caseload = bool(form.caseload.data) and can_read_caseload_metrics(current_user)
    try:
        selection = services.select_figures(
            db.session, first=first, last=last, territory=code,
            program=form.program.data or None, stratum=form.stratum.data or None,
            caseload_of=current_user if caseload else None)
    except ValidationError as error:
        form.errors_by_parameter(error.messages())
        return asked
    territory_id = selection.territory.id if selection.territory else None
    if not can_read_territory_metrics(current_user, territory_id):
        abort(403)
    asked.selection = selection
    return asked


def _params(**changes: Any) -> dict[str, Any]:
    """The page's query string with some parameters changed (None removes one)."""
    params = {name: value for name in SELECTION_PARAMS
              if (value := request.args.get(name)) not in (None, "")}
    for name, value in changes.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    return params


def _link(row: tables.Row, table: str, readable: dict[str, bool]) -> str | None:
    """Where a row of the drill-down or of the comparison leads: the same period with its
    program and stratum, or its territory (when the reader may open that territory)."""
    if table == "drilldown":
        return url_for("metrics.dashboard", **_params(program=row.params["program"],
                                                      stratum=row.params.get("stratum")))
    if table == "comparison" and readable.get(row.params.get("territory", "")):
        return url_for("metrics.dashboard", **_params(territory=row.params["territory"],
                                                      caseload=None))
    if table == "population" and "stratum" in row.params:
        return url_for("metrics.dashboard", **_params(stratum=row.params["stratum"]))
    return None


def _read(asked: Asked, parts: frozenset[str] = services.DASHBOARD_PARTS,
          what: str = "metrics_dashboard") -> services.Figures:
    """The figures, audited (the comparison as the API audits it), committed."""
    selection = asked.selection
    assert selection is not None
    compare = can_compare_territories(current_user) and selection.caseload_of is None
    if not compare:
        parts = parts - {"comparison"}
    figures = services.dashboard(db.session, selection, exact=reads_exact_metrics(current_user),
                                 parts=parts)
    services.audit_read(db.session, current_actor(), selection, what)
    if "comparison" in parts:
        services.audit_read(db.session, current_actor(), replace(selection, territory=None),
                            "metrics_comparison")
    db.session.commit()
    return figures


@bp.get("/")
@require(METRICS_READER)
def dashboard():
    """The dashboard of the selection (by default the last whole month, the reader's
    territory)."""
    asked = _asked()
    context: dict[str, Any] = {"form": asked.form, "params": _params,
                               "may_use_caseload": can_read_caseload_metrics(current_user)}
    if asked.selection is None:
        return render_template("metrics/dashboard.html", **context), 422
    figures = _read(asked)
    built = tables.dashboard_tables(figures)
    readable = {t.code: can_read_territory_metrics(current_user, t.id)
                for t in asked.territories}
    context.update(
        selection=asked.selection, result=figures.result, tables={t.key: t for t in built},
        charts={t.key: charts.chart(t) for t in built},
        links={t.key: [_link(row, t.key, readable) for row in t.rows] for t in built},
        exact=figures.result.exact, as_of=figures.as_of,
        print_url=url_for("metrics_report.pdf", **report.query(asked.selection)))
    return render_template("metrics/dashboard.html", **context)


@bp.get("/<key>.csv")
@require(METRICS_READER)
def export(key: str):
    """One table of the dashboard as CSV (UTF-8 with BOM; `;` and decimal comma in French)."""
    if key not in exports.TABLE_PARTS:
        abort(404)
    asked = _asked()
    if asked.selection is None:
        errors = {name: [str(m) for m in messages]
                  for name, messages in asked.form.errors.items()}
        return Response(exports.error_text(errors), status=422, mimetype="text/plain")
    figures = _read(asked, frozenset({exports.TABLE_PARTS[key]}), what=f"metrics_csv:{key}")
    table = {t.key: t for t in tables.dashboard_tables(figures)}.get(key)
    if table is None:  # the comparison, for a caseload: not compared
        abort(404)
    locale = str(get_locale() or "fr")
    selection = asked.selection
    filename = f"{key}-{selection.period.first.isoformat()}-{selection.period.last.isoformat()}"
    return Response(exports.table_csv(table, locale), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'})
