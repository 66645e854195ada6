"""Rules on territories, programs and strata."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from coordinator.audit import services as audit
from coordinator.audit.models import AuditAction
from coordinator.core.context import Actor
from coordinator.core.errors import ConflictError, raise_problems
from coordinator.strata import reference
from coordinator.strata.models import (
    FollowUpTemplateItem,
    Program,
    ProgramIndicator,
    Stratum,
    StratumGoal,
    Territory,
)
from coordinator.strata.vocabulary import ASSESSMENT_DOMAINS, PROVIDER_KINDS

CARE_PLAN_LEVEL = 3


@dataclass
class ReferenceLoad:
    territories: int = 0
    programs: int = 0
    strata: int = 0


def load_reference_data(session: Session) -> ReferenceLoad:
    """Insert the reference territories, programs and strata that are missing (idempotent).

    Existing rows are left as administrators and councils edited them.
    """
    added = ReferenceLoad()
    territories = set(session.scalars(select(Territory.code)))
    for code, name in reference.TERRITORIES:
        if code not in territories:
            session.add(Territory(code=code, name=name))
            added.territories += 1
    programs = {p.code: p for p in session.scalars(select(Program))}
    strata = set(session.scalars(select(Stratum.code)))
    for code, name, name_en, description, description_en, levels in reference.PROGRAMS:
        program = programs.get(code)
        if program is None:
            program = Program(code=code, name=name, name_en=name_en, description=description,
                              description_en=description_en)
            session.add(program)
            added.programs += 1
        for level, s_name, s_name_en, s_desc, s_desc_en in levels:
            stratum_code = f"{code}-{level}"
            if stratum_code in strata:
                continue
            boundary, boundary_en = reference.STRATUM_BOUNDARIES.get(stratum_code, ("", None))
            stratum = Stratum(code=stratum_code, level=level, name=s_name, name_en=s_name_en,
                              description=s_desc, description_en=s_desc_en,
                              boundary_criteria=boundary, boundary_criteria_en=boundary_en,
                              requires_care_plan=level >= CARE_PLAN_LEVEL)
            for position, (domain, goal, goal_en) in enumerate(
                    reference.STRATUM_GOALS.get(stratum_code, [])):
                stratum.goals.append(StratumGoal(position=position, domain=domain,
                                                 description=goal, description_en=goal_en))
            for position, (kind, label, label_en, interval, count) in enumerate(
                    reference.FOLLOWUP_TEMPLATES.get(level, [])):
                stratum.followup_items.append(FollowUpTemplateItem(
                    position=position, provider_kind=kind, label=label, label_en=label_en,
                    interval_days=interval, occurrences=count))
            program.strata.append(stratum)
            added.strata += 1
        existing = {indicator.code for indicator in program.indicators}
        for indicator_code, label, label_en, target in reference.BUILTIN_INDICATORS:
            if indicator_code not in existing:
                program.indicators.append(ProgramIndicator(
                    code=indicator_code, label=label, label_en=label_en, target_percent=target,
                    is_builtin=True))
    session.flush()
    return added


def list_territories(session: Session) -> list[Territory]:
    return list(session.scalars(select(Territory).order_by(Territory.code)))


def list_programs(session: Session) -> list[Program]:
    """The programs by code, with their strata and indicators (three queries in all)."""
    return list(session.scalars(select(Program)
                                .options(selectinload(Program.strata),
                                         selectinload(Program.indicators))
                                .order_by(Program.code)))


# --- Editing programs, strata, follow-up templates and indicators (admins and councils) ---

CODE_RE = re.compile(r"^[A-Z0-9](?:[A-Z0-9-]*[A-Z0-9])?$")
INDICATOR_CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
CODE_MAX = 32
INDICATOR_CODE_MAX = 64
NAME_MAX = 200
MAX_LEVEL = 10
INTERVAL_DAYS = (1, 365)
OCCURRENCES = (1, 52)
MAX_TEMPLATE_ITEMS = 30
MAX_STRATUM_GOALS = 20
GOAL_TEXT_MAX = 2_000  # as a care plan's goal (careplans.limits.GOAL_TEXT)
PROGRAM_FIELDS = ("name", "name_en", "description", "description_en", "inclusion_criteria",
                  "inclusion_criteria_en")
STRATUM_FIELDS = ("level", "code", "name", "name_en", "description", "description_en",
                  "boundary_criteria", "boundary_criteria_en", "requires_care_plan")
OPTIONAL_TEXT = ("name_en", "description_en", "inclusion_criteria_en", "boundary_criteria_en",
                 "label_en")
ITEM_FIELDS = ("provider_kind", "label", "label_en", "interval_days", "occurrences")
GOAL_FIELDS = ("domain", "description", "description_en")

Problems = list[tuple[str, object]]


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _whole(value: object) -> int | None:
    """A whole number from an int or its decimal writing; anything else is None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _percent(value: object) -> Decimal | None:
    """A percentage from 0 to 100 with at most two decimals (a comma is read as the point)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        return None
    if not number.is_finite() or not 0 <= number <= 100:
        return None
    return number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _clean_texts(data: dict, fields: tuple[str, ...]) -> dict:
    values: dict[str, str | None] = {key: _text(data[key]) for key in fields if key in data}
    for key in OPTIONAL_TEXT:
        if key in values:
            values[key] = values[key] or None
    return values


def _check_name(problems: Problems, values: dict) -> None:
    if "name" in values and not values["name"]:
        problems.append(("name", _l("The name is required.")))
    for key in ("name", "name_en"):
        if len(values.get(key) or "") > NAME_MAX:
            problems.append((key, _l("At most %(n)d characters.", n=NAME_MAX)))


def _check_code(session: Session, problems: Problems, model: type[Program] | type[Stratum],
                code: str, own_id: int | None) -> None:
    if not code:
        problems.append(("code", _l("The code is required.")))
    elif len(code) > CODE_MAX or not CODE_RE.match(code):
        problems.append(("code", _l("Use upper-case letters, digits and hyphens "
                                    "(at most %(n)d characters).", n=CODE_MAX)))
    elif session.scalar(select(model.id).where(model.code == code, model.id != (own_id or 0))):
        problems.append(("code", _l("Code %(code)s is already used.", code=code)))


def _flush_versioned(session: Session, expected_version: int) -> None:
    """Flush; a row another transaction updated meanwhile is a conflict, as a stale form is.

    The session must then be rolled back; the current version is at least the next one.
    """
    try:
        session.flush()
    except StaleDataError as error:
        raise ConflictError(expected_version + 1) from error


def get_program(session: Session, code: str) -> Program | None:
    """The program with its strata, their follow-up templates and goals, and its indicators."""
    return session.scalar(
        select(Program).where(Program.code == code)
        .options(selectinload(Program.strata).selectinload(Stratum.followup_items),
                 selectinload(Program.strata).selectinload(Stratum.goals),
                 selectinload(Program.indicators)))


def create_program(session: Session, actor: Actor, data: dict) -> Program:
    """A new program, with a unique upper-case code and the built-in indicators."""
    values = _clean_texts(data, PROGRAM_FIELDS)
    values.setdefault("name", "")
    code = _text(data.get("code")).upper()
    problems: Problems = []
    _check_code(session, problems, Program, code, None)
    _check_name(problems, values)
    raise_problems(problems)
    program = Program(code=code, **values)
    for indicator_code, label, label_en, target in reference.BUILTIN_INDICATORS:
        program.indicators.append(ProgramIndicator(
            code=indicator_code, label=label, label_en=label_en, target_percent=target,
            is_builtin=True))
    session.add(program)
    session.flush()
    audit.record(session, actor, AuditAction.CREATE, "program", program.id, summary=code)
    return program


def update_program(session: Session, actor: Actor, program: Program, data: dict,
                   expected_version: int) -> Program:
    """Change a program's texts; a stale `expected_version` is a conflict, nothing is saved."""
    if program.version != expected_version:
        raise ConflictError(program.version)
    values = _clean_texts(data, PROGRAM_FIELDS)
    problems: Problems = []
    _check_name(problems, values)
    raise_problems(problems)
    changed = sorted(key for key, value in values.items() if getattr(program, key) != value)
    for key in changed:
        setattr(program, key, values[key])
    if changed:
        _flush_versioned(session, expected_version)
        audit.record(session, actor, AuditAction.UPDATE, "program", program.id,
                     summary=program.code, details={"fields": changed})
    return program


def get_stratum(program: Program, code: str) -> Stratum | None:
    return next((stratum for stratum in program.strata if stratum.code == code), None)


def _stratum_values(data: dict) -> dict:
    values = _clean_texts(data, tuple(f for f in STRATUM_FIELDS
                                      if f not in ("level", "code", "requires_care_plan")))
    if "level" in data:
        values["level"] = _whole(data["level"])
    if "code" in data:
        values["code"] = _text(data["code"]).upper()
    if "requires_care_plan" in data:
        values["requires_care_plan"] = bool(data["requires_care_plan"])
    return values


def _goal_rows(goals: object) -> tuple[list[dict], Problems]:
    """The stratum's suggested goals as given (rows with no text dropped), each checked; errors
    name the row given and the field (`goals-1-domain`)."""
    problems: Problems = []
    rows: list[dict] = []
    if not isinstance(goals, list):
        return rows, [("goals", _l("Give the goals as a list."))]
    for index, goal in enumerate(goals):
        goal = goal if isinstance(goal, dict) else {}
        prefix = f"goals-{index}-"
        values = {"domain": _text(goal.get("domain")),
                  "description": _text(goal.get("description")),
                  "description_en": _text(goal.get("description_en")) or None}
        if not values["description"] and not values["description_en"]:
            continue
        if values["domain"] not in ASSESSMENT_DOMAINS:
            problems.append((prefix + "domain", _l("Choose a domain of the assessment.")))
        if not values["description"]:
            problems.append((prefix + "description", _l("Describe the goal.")))
        for key in ("description", "description_en"):
            if len(values[key] or "") > GOAL_TEXT_MAX:
                problems.append((prefix + key, _l("At most %(n)d characters.", n=GOAL_TEXT_MAX)))
        rows.append(values)
    if len(rows) > MAX_STRATUM_GOALS:
        problems.insert(0, ("goals", _l("At most %(n)d goals.", n=MAX_STRATUM_GOALS)))
    return rows, problems


def _goal_values(stratum: Stratum) -> list[dict]:
    return [{key: getattr(goal, key) for key in GOAL_FIELDS} for goal in stratum.goals]


def _set_goals(stratum: Stratum, rows: list[dict]) -> None:
    stratum.goals.clear()
    for position, values in enumerate(rows):
        stratum.goals.append(StratumGoal(position=position, **values))


def _check_stratum(session: Session, program: Program, values: dict,
                   stratum: Stratum | None, problems: Problems | None = None) -> None:
    problems = list(problems or [])
    level = values.get("level")
    if level is None or not 1 <= level <= MAX_LEVEL:
        problems.append(("level", _l("The level is a whole number from 1 to %(n)d.",
                                     n=MAX_LEVEL)))
    elif any(other.level == level and other is not stratum for other in program.strata):
        problems.append(("level", _l("This program already has a stratum of level %(n)d.",
                                     n=level)))
    _check_code(session, problems, Stratum, values.get("code") or "",
                stratum.id if stratum else None)
    _check_name(problems, values)
    raise_problems(problems)


def add_stratum(session: Session, actor: Actor, program: Program, data: dict) -> Stratum:
    """A new level of the program's pyramid (code defaults to PROGRAM-LEVEL), with the goals it
    suggests (`data["goals"]`: domain, French and English text)."""
    values = _stratum_values(data)
    values.setdefault("name", "")
    if not values.get("code") and values.get("level") is not None:
        values["code"] = f"{program.code}-{values['level']}"
    goals, problems = _goal_rows(data.get("goals", []))
    _check_stratum(session, program, values, None, problems)
    stratum = Stratum(**values)
    _set_goals(stratum, goals)
    program.strata.append(stratum)
    session.flush()
    audit.record(session, actor, AuditAction.CREATE, "stratum", stratum.id,
                 summary=f"{program.code}: {stratum.code}")
    return stratum


def update_stratum(session: Session, actor: Actor, stratum: Stratum, data: dict,
                   expected_version: int) -> Stratum:
    """Change a stratum and, when `data` has "goals", replace its suggested goals by them, in
    that order; a stale `expected_version` is a conflict, nothing is saved."""
    if stratum.version != expected_version:
        raise ConflictError(stratum.version)
    values = _stratum_values(data)
    goals, problems = _goal_rows(data["goals"]) if "goals" in data else (None, [])
    merged = {key: getattr(stratum, key) for key in STRATUM_FIELDS} | values
    _check_stratum(session, stratum.program, merged, stratum, problems)
    changed = sorted(key for key, value in values.items() if getattr(stratum, key) != value)
    for key in changed:
        setattr(stratum, key, values[key])
    if goals is not None and goals != _goal_values(stratum):
        _set_goals(stratum, goals)
        stratum.version = expected_version + 1  # the goals are part of the stratum's state
        changed.append("goals")
    if changed:
        _flush_versioned(session, expected_version)
        audit.record(session, actor, AuditAction.UPDATE, "stratum", stratum.id,
                     summary=f"{stratum.program.code}: {stratum.code}",
                     details={"fields": changed})
    return stratum


def _check_item(index: int, item: dict) -> tuple[dict, Problems]:
    prefix = f"items-{index}-"
    problems: Problems = []
    kind = _text(item.get("provider_kind"))
    label = _text(item.get("label"))
    label_en = _text(item.get("label_en")) or None
    interval = _whole(item.get("interval_days"))
    occurrences = _whole(item.get("occurrences"))
    if kind not in PROVIDER_KINDS:
        problems.append((prefix + "provider_kind", _l("Choose a kind of provider.")))
    if not label:
        problems.append((prefix + "label", _l("The label is required.")))
    elif len(label) > NAME_MAX:
        problems.append((prefix + "label", _l("At most %(n)d characters.", n=NAME_MAX)))
    if len(label_en or "") > NAME_MAX:
        problems.append((prefix + "label_en", _l("At most %(n)d characters.", n=NAME_MAX)))
    if interval is None or not INTERVAL_DAYS[0] <= interval <= INTERVAL_DAYS[1]:
        problems.append((prefix + "interval_days", _l(
            "The interval is a whole number of days from %(min)d to %(max)d.",
            min=INTERVAL_DAYS[0], max=INTERVAL_DAYS[1])))
    if occurrences is None or not OCCURRENCES[0] <= occurrences <= OCCURRENCES[1]:
        problems.append((prefix + "occurrences", _l(
            "The number of occurrences is a whole number from %(min)d to %(max)d.",
            min=OCCURRENCES[0], max=OCCURRENCES[1])))
    values = {"provider_kind": kind, "label": label, "label_en": label_en,
              "interval_days": interval, "occurrences": occurrences}
    return values, problems


def set_followup_template(session: Session, actor: Actor, stratum: Stratum, items: list[dict],
                          expected_version: int | None = None) -> Stratum:
    """Replace the stratum's follow-up template by `items`, in that order: all or nothing.

    Errors name the row and the field (`items-2-interval_days`). The template belongs to the
    stratum, so a change counts as a new version of the stratum.
    """
    if expected_version is not None and stratum.version != expected_version:
        raise ConflictError(stratum.version)
    problems: Problems = []
    if len(items) > MAX_TEMPLATE_ITEMS:
        problems.append(("items", _l("At most %(n)d lines.", n=MAX_TEMPLATE_ITEMS)))
    rows = []
    for index, item in enumerate(items):
        values, row_problems = _check_item(index, item)
        rows.append(values)
        problems.extend(row_problems)
    raise_problems(problems)
    before = [{key: getattr(item, key) for key in ITEM_FIELDS} for item in stratum.followup_items]
    if before == rows:
        return stratum
    stratum.followup_items.clear()
    for position, values in enumerate(rows):
        stratum.followup_items.append(FollowUpTemplateItem(position=position, **values))
    current = stratum.version
    stratum.version = current + 1  # the template is part of the stratum's state
    _flush_versioned(session, current)
    audit.record(session, actor, AuditAction.UPDATE, "stratum", stratum.id,
                 summary=f"{stratum.program.code}: {stratum.code}: follow-up template",
                 details={"followup_template": rows})
    return stratum


def _target_problem(field: str) -> tuple[str, object]:
    return field, _l("The target is a percentage from 0 to 100.")


def set_indicator_target(session: Session, actor: Actor, indicator: ProgramIndicator,
                         target: object) -> ProgramIndicator:
    """Change an indicator's target (0 to 100 %), built-in indicators included."""
    value = _percent(target)
    if value is None:
        raise_problems([_target_problem("target_percent")])
    else:
        _apply_target(session, actor, indicator, value)
    return indicator


def _apply_target(session: Session, actor: Actor, indicator: ProgramIndicator,
                  value: Decimal) -> None:
    previous = Decimal(indicator.target_percent).quantize(Decimal("0.01"))
    if previous == value:
        return
    indicator.target_percent = value
    session.flush()
    audit.record(session, actor, AuditAction.UPDATE, "program_indicator", indicator.id,
                 summary=f"{indicator.program.code}: {indicator.code}",
                 details={"target_percent": [str(previous), str(value)]})


def set_indicator_targets(session: Session, actor: Actor, program: Program,
                          targets: list[tuple[str, object]]) -> Program:
    """Change several targets of a program at once: all or nothing.

    `targets` are (indicator code, target) pairs; errors name the row
    (`indicators-1-target_percent`).
    """
    by_code = {indicator.code: indicator for indicator in program.indicators}
    problems: Problems = []
    changes = []
    for index, (code, target) in enumerate(targets):
        indicator = by_code.get(code)
        value = _percent(target)
        if indicator is None:
            problems.append((f"indicators-{index}-code", _l("Unknown indicator %(code)s.",
                                                             code=code)))
        elif value is None:
            problems.append(_target_problem(f"indicators-{index}-target_percent"))
        else:
            changes.append((indicator, value))
    raise_problems(problems)
    for indicator, value in changes:
        _apply_target(session, actor, indicator, value)
    return program


def add_indicator(session: Session, actor: Actor, program: Program, code: str, label: str,
                  target: object, label_en: str | None = None) -> ProgramIndicator:
    """A program's own indicator: a lower-case code unique in the program, a label (French,
    and English if given), a target."""
    code = _text(code).lower()
    label = _text(label)
    label_en = _text(label_en) or None
    value = _percent(target)
    problems: Problems = []
    if not code:
        problems.append(("code", _l("The code is required.")))
    elif len(code) > INDICATOR_CODE_MAX or not INDICATOR_CODE_RE.match(code):
        problems.append(("code", _l("Use lower-case letters, digits and underscores, starting "
                                    "with a letter (at most %(n)d characters).",
                                    n=INDICATOR_CODE_MAX)))
    elif any(indicator.code == code for indicator in program.indicators):
        problems.append(("code", _l("Code %(code)s is already used.", code=code)))
    if not label:
        problems.append(("label", _l("The label is required.")))
    elif len(label) > NAME_MAX:
        problems.append(("label", _l("At most %(n)d characters.", n=NAME_MAX)))
    if len(label_en or "") > NAME_MAX:
        problems.append(("label_en", _l("At most %(n)d characters.", n=NAME_MAX)))
    if value is None:
        problems.append(_target_problem("target_percent"))
    raise_problems(problems)
    indicator = ProgramIndicator(code=code, label=label, label_en=label_en, target_percent=value,
                                 is_builtin=False)
    program.indicators.append(indicator)
    session.flush()
    audit.record(session, actor, AuditAction.CREATE, "program_indicator", indicator.id,
                 summary=f"{program.code}: {code}", details={"target_percent": str(value)})
    return indicator


def delete_indicator(session: Session, actor: Actor, indicator: ProgramIndicator) -> None:
    """Remove a program's own indicator; the built-in ones stay (their target may change)."""
    if indicator.is_builtin:
        raise_problems([("indicator", _l("A built-in indicator cannot be deleted; change its "
                                         "target instead."))])
    program = indicator.program
    audit.record(session, actor, AuditAction.DELETE, "program_indicator", indicator.id,
                 summary=f"{program.code}: {indicator.code}")
    program.indicators.remove(indicator)
    session.flush()
