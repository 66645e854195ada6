"""Programs, strata, follow-up templates and indicators pages.

Everyone signed in reads them; administrators edit them (programs are common to the
territories; councils set their territory's targets in the metrics).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from coordinator.core.unitofwork import conflict_page, unit_of_work
from coordinator.core.viewhelpers import current_actor
from coordinator.extensions import db
from coordinator.permissions import AUTHENTICATED, PROGRAM_EDITOR, require
from coordinator.strata import services
from coordinator.strata.forms import (
    BLANK_GOAL_ROWS,
    BLANK_TEMPLATE_ROWS,
    PROVIDER_KIND_LABELS,
    FollowUpTemplateForm,
    IndicatorCreateForm,
    IndicatorTargetsForm,
    ProgramCreateForm,
    ProgramForm,
    StratumForm,
)
from coordinator.strata.models import Program, Stratum
from coordinator.strata.vocabulary import DOMAIN_LABELS

bp = Blueprint("programs", __name__, url_prefix="/programs")

def kind_label(kind: str) -> str:
    return str(PROVIDER_KIND_LABELS.get(kind, kind))


@bp.context_processor
def _helpers():
    return {"kind_label": kind_label, "domain_label": domain_label}


def domain_label(domain: str) -> str:
    return str(DOMAIN_LABELS.get(domain, domain))


def _program(code: str) -> Program:
    program = services.get_program(db.session, code)
    if program is None:
        abort(404)
    return program


def _stratum(program: Program, code: str) -> Stratum:
    stratum = services.get_stratum(program, code)
    if stratum is None:
        abort(404)
    return stratum


def _status() -> int:
    return 400 if request.method == "POST" else 200


@bp.get("/")
@require(AUTHENTICATED)
def index():
    return render_template("strata/index.html", programs=services.list_programs(db.session))


@bp.route("/new", methods=["GET", "POST"])
@require(PROGRAM_EDITOR)
def create():
    form = ProgramCreateForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            program = services.create_program(db.session, current_actor(), form.service_data())
        if work.ok:
            flash(_("Program %(code)s created.", code=program.code), "success")
            return redirect(url_for("programs.detail", code=program.code))
    return render_template("strata/program_form.html", form=form, program=None), _status()


@bp.get("/<code>")
@require(AUTHENTICATED)
def detail(code: str):
    return render_template("strata/detail.html", program=_program(code))


@bp.route("/<code>/edit", methods=["GET", "POST"])
@require(PROGRAM_EDITOR)
def edit(code: str):
    program = _program(code)
    form = ProgramForm(obj=program if request.method == "GET" else None)
    if request.method == "GET":
        form.version.data = program.version
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            services.update_program(db.session, current_actor(), program, form.service_data(),
                                    expected_version=form.expected_version())
        if work.conflict:
            return conflict_page("strata/program_form.html", form, program, program=program)
        if work.ok:
            flash(_("Program %(code)s saved.", code=program.code), "success")
            return redirect(url_for("programs.detail", code=program.code))
    return render_template("strata/program_form.html", form=form, program=program), _status()


@bp.route("/<code>/strata/new", methods=["GET", "POST"])
@require(PROGRAM_EDITOR)
def create_stratum(code: str):
    program = _program(code)
    if request.method == "GET":
        form = StratumForm(data={"goals": [{}] * BLANK_GOAL_ROWS})
        form.level.data = max((s.level for s in program.strata), default=0) + 1
    else:
        form = StratumForm()
    if form.validate_on_submit():
        with unit_of_work(form, rows={"goals": form.kept_goals()}) as work:
            stratum = services.add_stratum(db.session, current_actor(), program,
                                           form.service_data())
        if work.ok:
            flash(_("Stratum %(code)s added.", code=stratum.code), "success")
            return redirect(url_for("programs.detail", code=program.code))
    return render_template("strata/stratum_form.html", form=form, program=program,
                           stratum=None), _status()


def _stratum_data(stratum: Stratum) -> dict:
    """The stratum form's data read from the stratum: its fields, its goals and blank rows."""
    return {name: getattr(stratum, name) for name in services.STRATUM_FIELDS} | {
        "version": stratum.version,
        "goals": [{name: getattr(goal, name) for name in services.GOAL_FIELDS}
                  for goal in stratum.goals] + [{}] * BLANK_GOAL_ROWS}


@bp.route("/<code>/strata/<stratum_code>/edit", methods=["GET", "POST"])
@require(PROGRAM_EDITOR)
def edit_stratum(code: str, stratum_code: str):
    program = _program(code)
    stratum = _stratum(program, stratum_code)
    form = StratumForm(data=_stratum_data(stratum)) if request.method == "GET" else StratumForm()
    if form.validate_on_submit():
        with unit_of_work(form, rows={"goals": form.kept_goals()}) as work:
            services.update_stratum(db.session, current_actor(), stratum, form.service_data(),
                                    expected_version=form.expected_version())
        if work.conflict:
            return conflict_page("strata/stratum_form.html", form, stratum, program=program,
                                 stratum=stratum)
        if work.ok:
            flash(_("Stratum %(code)s saved.", code=stratum.code), "success")
            return redirect(url_for("programs.detail", code=program.code))
    return render_template("strata/stratum_form.html", form=form, program=program,
                           stratum=stratum), _status()


@bp.route("/<code>/strata/<stratum_code>/followup", methods=["GET", "POST"])
@require(PROGRAM_EDITOR)
def edit_followup(code: str, stratum_code: str):
    program = _program(code)
    stratum = _stratum(program, stratum_code)
    if request.method == "GET":
        form = FollowUpTemplateForm(data={"version": stratum.version, "items": [
            {"provider_kind": item.provider_kind, "label": item.label, "label_en": item.label_en,
             "interval_days": item.interval_days, "occurrences": item.occurrences}
            for item in stratum.followup_items] + [{}] * BLANK_TEMPLATE_ROWS})
    else:
        form = FollowUpTemplateForm()
    if form.validate_on_submit():
        rows = form.kept_rows()
        with unit_of_work(form, rows={"items": rows}) as work:
            services.set_followup_template(
                db.session, current_actor(), stratum,
                [{name: row[name].data for name in services.ITEM_FIELDS} for row in rows],
                expected_version=form.expected_version())
        if work.conflict:
            return conflict_page("strata/followup_form.html", form, stratum, program=program,
                                 stratum=stratum)
        if work.ok:
            flash(_("Follow-up template of %(code)s saved.", code=stratum.code), "success")
            return redirect(url_for("programs.detail", code=program.code,
                                    _anchor=f"stratum-{stratum.code}"))
    return render_template("strata/followup_form.html", form=form, program=program,
                           stratum=stratum), _status()


def _indicator_page(program: Program, targets_form=None, create_form=None, status=200):
    if targets_form is None:
        targets_form = IndicatorTargetsForm(data={"indicators": [
            {"code": indicator.code, "target_percent": indicator.target_percent}
            for indicator in program.indicators]})
    indicators = {indicator.code: indicator for indicator in program.indicators}
    rows = [(entry.form, indicators.get(entry.form.code.data))
            for entry in targets_form.indicators]
    return render_template(
        "strata/indicators.html", program=program, targets_form=targets_form, rows=rows,
        create_form=create_form or IndicatorCreateForm(formdata=None)), status


@bp.route("/<code>/indicators", methods=["GET", "POST"])
@require(PROGRAM_EDITOR)
def indicators(code: str):
    program = _program(code)
    if request.method == "GET":
        return _indicator_page(program)
    form = IndicatorTargetsForm()
    if form.validate_on_submit():
        rows = [entry.form for entry in form.indicators]
        with unit_of_work(form, rows={"indicators": rows}) as work:
            services.set_indicator_targets(
                db.session, current_actor(), program,
                [(row.code.data, row.target_percent.data) for row in rows])
        if work.ok:
            flash(_("Targets of %(code)s saved.", code=program.code), "success")
            return redirect(url_for("programs.detail", code=program.code))
    return _indicator_page(program, targets_form=form, status=400)


@bp.post("/<code>/indicators/new")
@require(PROGRAM_EDITOR)
def create_indicator(code: str):
    program = _program(code)
    form = IndicatorCreateForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            indicator = services.add_indicator(db.session, current_actor(), program,
                                               form.code.data, form.label.data,
                                               form.target_percent.data,
                                               label_en=form.label_en.data)
        if work.ok:
            flash(_("Indicator %(code)s added.", code=indicator.code), "success")
            return redirect(url_for("programs.indicators", code=program.code))
    return _indicator_page(program, create_form=form, status=400)


@bp.post("/<code>/indicators/<indicator_code>/delete")
@require(PROGRAM_EDITOR)
def delete_indicator(code: str, indicator_code: str):
    program = _program(code)
    indicator = next((i for i in program.indicators if i.code == indicator_code), None)
    if indicator is None:
        abort(404)
    with unit_of_work() as work:
        services.delete_indicator(db.session, current_actor(), indicator)
    if not work.ok:
        return _indicator_page(program, status=400)
    flash(_("Indicator %(code)s deleted.", code=indicator_code), "success")
    return redirect(url_for("programs.indicators", code=program.code))
