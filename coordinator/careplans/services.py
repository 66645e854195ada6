"""Care plan rules: create from the program's suggestions, save with a revision, activate,
close, revise as a new version, comment, read (audited)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from coordinator import permissions
from coordinator.audit import services as audit
from coordinator.audit.models import AuditAction
from coordinator.auth.models import User
from coordinator.auth.roles import Role
from coordinator.careplans import documents, limits
from coordinator.careplans.models import (
    ACTION_STATUSES,
    AGREEMENT_METHODS,
    ASSESSMENT_DOMAINS,
    GOAL_STATUSES,
    LEGAL_PROTECTIONS,
    RESPONSIBLES,
    ActionStatus,
    CarePlan,
    CarePlanAction,
    CarePlanAssessment,
    CarePlanComment,
    CarePlanGoal,
    CarePlanMember,
    CarePlanRevision,
    GoalStatus,
    PlanStatus,
    Responsible,
)
from coordinator.core import extending, messages
from coordinator.core.context import Actor
from coordinator.core.errors import ConflictError, ValidationError, raise_problems
from coordinator.core.time import local_today, utcnow
from coordinator.patients import assignments
from coordinator.patients import services as patient_services
from coordinator.patients.models import Patient
from coordinator.providers.models import Provider
from coordinator.strata.models import Stratum

TEXTS = ("expectations", "priorities", "life_project", "current_help")
OPTIONAL_TEXTS = ("caregiver_name", "caregiver_relation", "caregiver_phone",
                  "legal_protection_details", "agreement_method")
MAX_COMMENT = limits.COMMENT


# -- Suggestions from the program -----------------------------------------------------------------

def current_strata(session: Session, patient: Patient) -> list[Stratum]:
    """The strata the patient is in today, those asking for a care plan first."""
    strata = assignments.current_strata(session, patient.id,
                                        options=(selectinload(Stratum.followup_items),
                                                 selectinload(Stratum.goals)))
    return sorted(strata, key=lambda s: (not s.requires_care_plan, -s.level, s.code))


def suggestions(session: Session, patient: Patient, stratum: Stratum | None) -> dict:
    """A draft's starting content from the stratum: the goals it suggests, each in its domain,
    and its follow-up template as the actions of a follow-up goal (the patient's GP for the GP's
    visits), in the reader's language. All of it is editable before saving."""
    review = local_today().replace(day=1)
    data: dict = {"plan_date": local_today(), "stratum_id": stratum.id if stratum else None,
                  "review_date": _add_months(review, 6), "sharing_agreed": patient.consent_share,
                  "goals": [], "team": []}
    if stratum is None:
        return data
    for goal in stratum.goals:
        data["goals"].append({"domain": goal.domain, "description": goal.display_description,
                              "status": GoalStatus.OPEN, "actions": []})
    actions = [{"description": item.display_label, "responsible": Responsible.PROVIDER,
                "provider_id": patient.gp_id if item.provider_kind == "gp" else None,
                "interval_days": item.interval_days, "occurrences": item.occurrences,
                "status": ActionStatus.PLANNED, "provider_kind": item.provider_kind}
               for item in stratum.followup_items]
    if actions:
        data["goals"].append({
            "domain": "health", "status": GoalStatus.OPEN, "actions": actions,
            "description": str(followup_goal(stratum))})
    return data


def followup_goal(stratum: Stratum) -> LazyString:
    """The goal the system writes for a stratum's follow-up template: saved unchanged, it is
    kept as this message's code and each reader reads it in their language."""
    return _l("Regular follow-up of the %(stratum)s program",
              stratum=messages.in_languages(stratum.name, stratum.name_en))


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return day.replace(year=day.year + month // 12, month=month % 12 + 1)


# -- Cleaning and checking a plan's content -----------------------------------------------------

def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _clean_scalars(data: dict) -> dict:
    values = {name: _strip(data[name]) for name in documents.SCALARS if name in data}
    for name in TEXTS:
        if name in values:
            values[name] = values[name] or ""
    for name in OPTIONAL_TEXTS:
        if name in values:
            values[name] = values[name] or None
    if "legal_protection" in values:
        values["legal_protection"] = values["legal_protection"] or "none"
    if "sharing_agreed" in values:
        values["sharing_agreed"] = bool(values["sharing_agreed"])
    return values


def _goal_is_blank(goal: dict) -> bool:
    return all(_blank(goal.get(name)) for name in ("problem", "description", "measure",
                                                   "target_date")) and \
        all(_action_is_blank(action) for action in goal.get("actions") or [])


def _action_is_blank(action: dict) -> bool:
    return all(_blank(action.get(name)) for name in ("description", "provider_id",
                                                     "interval_days", "occurrences",
                                                     "due_date"))


def _check_scalars(values: dict, problems: list) -> None:
    plan_date, review_date = values.get("plan_date"), values.get("review_date")
    if plan_date is None:
        problems.append(("plan_date", _l("Give the date of the plan.")))
    if plan_date and review_date and review_date < plan_date:
        problems.append(("review_date", _l("The review date cannot be before the plan date.")))
    if values.get("legal_protection") not in LEGAL_PROTECTIONS:
        problems.append(("legal_protection", _l("Choose a legal protection measure, or none.")))
    method = values.get("agreement_method")
    if method is not None and method not in AGREEMENT_METHODS:
        problems.append(("agreement_method", _l("Choose how the patient agreed.")))
    if values.get("agreement_on") and values["agreement_on"] > local_today():
        problems.append(("agreement_on", _l("The agreement date cannot be in the future.")))


def _check_provider(session: Session, key: str, provider_id: int, previous_id: int | None,
                    problems: list, territory_id: int | None) -> None:
    """A provider newly chosen for the plan is active and of the patient's territory (the
    rule of `permissions.provider_serves`: the form offers only those, the API accepts only
    those); one already on the plan stays allowed."""
    provider = session.get(Provider, provider_id)
    if provider is None:
        problems.append((key, _l("Choose a provider of the directory.")))
    elif provider_id == previous_id:
        return
    elif not provider.is_active:
        problems.append((key, _l("This provider is inactive in the directory: choose an "
                                 "active one.")))
    elif not permissions.provider_serves(provider, territory_id):
        problems.append((key, _l("This provider works in another territory: choose one of "
                                 "the patient's territory.")))


def _check_goals(session: Session, plan: CarePlan | None, goals: list, plan_date: date | None,
                 problems: list, kept_on: frozenset = frozenset(),
                 territory_id: int | None = None) -> list[tuple[int, dict]]:
    """The goals kept (blank rows dropped), with their row number; problems keyed
    `goals-<row>-<field>` and `goals-<row>-actions-<row>-<field>`."""
    known_goals = {goal.id: goal for goal in plan.goals} if plan else {}
    known_actions = {action.id: action for goal in known_goals.values()
                     for action in goal.actions}
    kept, seen_goals, seen_actions = [], set(), set()
    for row, goal in enumerate(goals):
        if _goal_is_blank(goal):
            continue
        key = f"goals-{row}-"
        if goal.get("id") is not None and goal["id"] not in known_goals:
            problems.append((key + "id", _l("This goal is not part of the plan.")))
        elif goal.get("id") is not None and goal["id"] in seen_goals:
            problems.append((key + "id", _l("This goal is given twice.")))
        seen_goals.add(goal.get("id"))
        for action_row, action in enumerate(goal.get("actions") or []):
            if action.get("id") is not None and action["id"] in seen_actions:
                problems.append((f"{key}actions-{action_row}-id",
                                 _l("This action is given twice.")))
            seen_actions.add(action.get("id"))
        if _blank(goal.get("description")):
            problems.append((key + "description", _l("Describe goal %(goal)d.", goal=row + 1)))
        if goal.get("domain") not in (None, "", *ASSESSMENT_DOMAINS):
            problems.append((key + "domain", _l("Choose a domain of the assessment for goal "
                                                "%(goal)d.", goal=row + 1)))
        status = goal.get("status") or GoalStatus.OPEN
        if status not in GOAL_STATUSES:
            problems.append((key + "status", _l("Choose open, achieved or abandoned for goal "
                                                "%(goal)d.", goal=row + 1)))
        if status == GoalStatus.ABANDONED and _blank(goal.get("status_reason")):
            problems.append((key + "status_reason", _l("Say why goal %(goal)d was abandoned.",
                                                       goal=row + 1)))
        target = goal.get("target_date")
        if target and plan_date and target < plan_date:
            problems.append((key + "target_date",
                             _l("The target date of goal %(goal)d cannot be before the plan "
                                "date.", goal=row + 1)))
        for action_row, action in enumerate(goal.get("actions") or []):
            if _action_is_blank(action):
                continue
            _check_action(session, f"{key}actions-{action_row}-", action,
                          known_actions, problems, kept_on, territory_id,
                          {"action": action_row + 1, "goal": row + 1})
        kept.append((row, goal))
    return kept


def _check_action(session: Session, key: str, action: dict, known: dict, problems: list,
                  kept_on: frozenset, territory_id: int | None, where: dict) -> None:
    """An action's problems, each naming the action (`where`: its number and its goal's)."""
    if action.get("id") is not None and action["id"] not in known:
        problems.append((key + "id", _l("This action is not part of the plan.")))
    if _blank(action.get("description")):
        problems.append((key + "description", _l("Say what is to be done in action %(action)d "
                                                 "of goal %(goal)d.", **where)))
    responsible = action.get("responsible") or Responsible.PROVIDER
    if responsible not in RESPONSIBLES:
        problems.append((key + "responsible",
                         _l("Choose a provider, the patient or the caregiver as responsible "
                            "for action %(action)d of goal %(goal)d.", **where)))
    if responsible == Responsible.PROVIDER and action.get("provider_id") is not None:
        previous = known.get(action.get("id"))
        previous_id = previous.provider_id if previous else None
        if action["provider_id"] in kept_on:
            previous_id = action["provider_id"]
        _check_provider(session, key + "provider_id", action["provider_id"], previous_id,
                        problems, territory_id)
    if responsible != Responsible.PROVIDER and action.get("provider_id") is not None:
        problems.append((key + "provider_id",
                         _l("Leave the provider of action %(action)d of goal %(goal)d empty "
                            "when the patient or the caregiver is responsible.", **where)))
    interval, occurrences = action.get("interval_days"), action.get("occurrences")
    for name, value in (("interval_days", interval), ("occurrences", occurrences)):
        if value is not None and (not isinstance(value, int) or value < 1):
            problems.append((key + name, _l("Give a whole number of at least 1.")))
    if (interval is None) != (occurrences is None):
        problems.append((key + ("occurrences" if occurrences is None else "interval_days"),
                         _l("Give both the interval in days and the number of times of action "
                            "%(action)d of goal %(goal)d.", **where)))
    if (action.get("status") or ActionStatus.PLANNED) not in ACTION_STATUSES:
        problems.append((key + "status", _l("Choose a known status.")))


def _check_team(session: Session, plan: CarePlan | None, team: list,
                problems: list, kept_on: frozenset = frozenset(),
                territory_id: int | None = None) -> list[dict]:
    previous = ({m.provider_id for m in plan.team} if plan else set()) | kept_on
    kept, seen = [], set()
    for row, member in enumerate(team):
        provider_id = member.get("provider_id")
        if provider_id is None:
            if not _blank(member.get("role")):
                problems.append((f"team-{row}-provider_id",
                                 _l("Choose the provider of team line %(line)d.",
                                    line=row + 1)))
            continue
        if provider_id in seen:
            continue
        seen.add(provider_id)
        _check_provider(session, f"team-{row}-provider_id", provider_id,
                        provider_id if provider_id in previous else None, problems,
                        territory_id)
        kept.append(member)
    return kept


# -- Sizes (careplans/limits.py) -----------------------------------------------------------------

def _check_counts(goals: list | None, team: list | None) -> None:
    """At most MAX_GOALS goals, MAX_ACTIONS_PER_GOAL actions in each and MAX_ACTIONS in all,
    MAX_TEAM team rows (blank rows not counted): a plan over them is refused at once, before
    anything of it is looked at."""
    problems: list = []
    kept = [(row, goal) for row, goal in enumerate(goals or []) if not _goal_is_blank(goal)]
    if len(kept) > limits.MAX_GOALS:
        raise_problems([("goals", _l("At most %(max)d goals in a plan.",
                                     max=limits.MAX_GOALS))])
    total = 0
    for row, goal in kept:
        actions = [a for a in goal.get("actions") or [] if not _action_is_blank(a)]
        total += len(actions)
        if len(actions) > limits.MAX_ACTIONS_PER_GOAL:
            problems.append((f"goals-{row}-actions",
                             _l("At most %(max)d actions per goal.",
                                max=limits.MAX_ACTIONS_PER_GOAL)))
    if total > limits.MAX_ACTIONS:
        problems.append(("goals", _l("At most %(max)d actions in a plan, all goals together.",
                                     max=limits.MAX_ACTIONS)))
    if len({m.get("provider_id") for m in team or []} - {None}) > limits.MAX_TEAM:
        problems.append(("team", _team_too_large()))
    raise_problems(problems)


def _team_too_large() -> object:
    return _l("At most %(max)d members in the care team, the patient's GP and the providers of "
              "the actions included.", max=limits.MAX_TEAM)


def _too_long(key: str, text: object, limit: int, problems: list) -> None:
    if limits.too_long(text, limit):
        problems.append((key, _l("At most %(max)d characters: this text has %(length)d.",
                                 max=limit, length=len(str(text).strip()))))


def _check_lengths(values: dict, assessment: dict | None, goals: list | None,
                   team: list | None, problems: list) -> None:
    """The length of every text sent, keyed like the other problems of its field
    (`priorities`, `assessment-health-summary`, `goals-2-actions-0-description`, `team-1-role`)."""
    for name, limit in limits.PLAN_TEXT.items():
        _too_long(name, values.get(name), limit, problems)
    for domain, parts in (assessment or {}).items():
        for part, limit in limits.ASSESSMENT_TEXT.items():
            _too_long(f"assessment-{domain}-{part}", (parts or {}).get(part), limit, problems)
    for row, goal in enumerate(goals or []):
        for name, limit in limits.GOAL_TEXT.items():
            _too_long(f"goals-{row}-{name}", goal.get(name), limit, problems)
        for action_row, action in enumerate(goal.get("actions") or []):
            for name, limit in limits.ACTION_TEXT.items():
                _too_long(f"goals-{row}-actions-{action_row}-{name}", action.get(name), limit,
                          problems)
    for row, member in enumerate(team or []):
        for name, limit in limits.MEMBER_TEXT.items():
            _too_long(f"team-{row}-{name}", member.get(name), limit, problems)


def _check_team_size(plan: CarePlan | None, patient: Patient,
                     goals: list[tuple[int, dict]] | None, team: list[dict] | None,
                     problems: list) -> None:
    """The care team as it will be saved (see `_apply_team`): the members given (or kept),
    the patient's GP and every provider of an action."""
    members = {m["provider_id"] for m in team} if team is not None else \
        {m.provider_id for m in plan.team} if plan is not None else set()
    if patient.gp_id:
        members.add(patient.gp_id)
    if goals is not None:
        members |= {action.get("provider_id") for _row, goal in goals
                    for action in goal.get("actions") or [] if not _action_is_blank(action)}
    elif plan is not None:
        members |= {action.provider_id for goal in plan.goals for action in goal.actions}
    if len(members - {None}) > limits.MAX_TEAM:
        problems.append(("team", _team_too_large()))


def _check_coordinator(session: Session, values: dict, patient: Patient, problems: list) -> None:
    coordinator_id = values.get("coordinator_id")
    if coordinator_id is None:
        return
    user = session.get(User, coordinator_id)
    if user is None or user.role != Role.CASE_MANAGER or not user.is_active:
        problems.append(("coordinator_id", _l("Choose an active case manager.")))
    elif user.territory_id != patient.territory_id:
        problems.append(("coordinator_id", _l("The case manager works in another territory.")))


# -- Applying content --------------------------------------------------------------------------

def _apply(session: Session, plan: CarePlan, values: dict,
           goals: list[tuple[int, dict]] | None, team: list[dict] | None) -> None:
    for name, value in values.items():
        setattr(plan, name, value)
    if goals is not None:
        _apply_goals(session, plan, goals)
    _apply_team(plan, team if team is not None else
                [{"provider_id": m.provider_id, "role": m.role} for m in plan.team])


def _apply_assessment(plan: CarePlan, assessment: dict | None) -> None:
    for domain in ASSESSMENT_DOMAINS:
        values = (assessment or {}).get(domain)
        if values is None:
            continue
        row = plan.assessment(domain)
        if row is None:
            row = CarePlanAssessment(domain=domain, summary="", needs="")
            plan.assessments.append(row)
        row.summary = (values.get("summary") or "").strip()
        row.needs = (values.get("needs") or "").strip()


def _description_code(session: Session, plan: CarePlan, goal: CarePlanGoal,
                      description: str) -> dict | None:
    """The code of a goal the system wrote (`followup_goal`) while the text is the one it
    wrote, in the language of the one saving it; None once it is someone's own words."""
    text = description.strip()
    if goal.description_code and text == goal.display_description.strip():
        return goal.description_code
    stratum = session.get(Stratum, plan.stratum_id) if plan.stratum_id else None
    generated = followup_goal(stratum) if stratum is not None else None
    if generated is not None and text == str(generated).strip():
        return messages.stored(generated)
    return None


def _apply_goals(session: Session, plan: CarePlan, goals: list[tuple[int, dict]]) -> None:
    existing: dict[int | None, CarePlanGoal] = {goal.id: goal for goal in plan.goals}
    kept = []
    for position, (_row, data) in enumerate(goals):
        goal = existing.get(data.get("id")) or CarePlanGoal()
        goal.position = position
        goal.domain = data.get("domain") or None
        goal.problem = (data.get("problem") or "").strip()
        goal.description_code = _description_code(session, plan, goal, data["description"])
        goal.description = data["description"].strip()
        goal.measure = _strip(data.get("measure")) or None
        goal.target_date = data.get("target_date")
        goal.status = data.get("status") or GoalStatus.OPEN
        goal.status_reason = _strip(data.get("status_reason")) or None
        _apply_actions(goal, [a for a in data.get("actions") or [] if not _action_is_blank(a)])
        kept.append(goal)
    plan.goals[:] = kept


def _apply_actions(goal: CarePlanGoal, actions: list[dict]) -> None:
    existing: dict[int | None, CarePlanAction] = {action.id: action for action in goal.actions}
    kept = []
    for position, data in enumerate(actions):
        action = existing.get(data.get("id")) or CarePlanAction()
        action.position = position
        action.description = data["description"].strip()
        action.responsible = data.get("responsible") or Responsible.PROVIDER
        action.provider_id = data.get("provider_id")
        action.interval_days = data.get("interval_days")
        action.occurrences = data.get("occurrences")
        action.due_date = data.get("due_date")
        action.status = data.get("status") or ActionStatus.PLANNED
        kept.append(action)
    goal.actions[:] = kept


def _apply_team(plan: CarePlan, team: list[dict]) -> None:
    """The care team as given, plus the patient's GP (always on it) and every provider of an
    action."""
    existing = {member.provider_id: member for member in plan.team}
    wanted = {data["provider_id"]: (data.get("role") or "").strip() for data in team}
    required = [plan.patient.gp_id] if plan.patient.gp_id else []
    required += [action.provider_id for goal in plan.goals for action in goal.actions
                 if action.provider_id is not None]
    for provider_id in required:
        if provider_id not in wanted:
            wanted[provider_id] = existing[provider_id].role if provider_id in existing else ""
    kept = []
    for position, (provider_id, role) in enumerate(wanted.items()):
        member = existing.get(provider_id) or CarePlanMember(provider_id=provider_id)
        member.role = role
        member.position = position
        kept.append(member)
    plan.team[:] = kept


def _content(data: dict) -> tuple:
    values = _clean_scalars(data)
    return values, data.get("goals"), data.get("team")


def _validate(session: Session, patient: Patient, plan: CarePlan | None, values: dict,
              goals: list | None, team: list | None,
              kept_on: frozenset = frozenset(), assessment: dict | None = None,
              problems: list | None = None) -> tuple:
    """Check the content, its size first (`limits.py`); `kept_on` are providers already chosen
    on the plan a new version continues (they stay allowed even if inactive since). Every
    problem is raised at once, with those already found (`problems`)."""
    problems = list(problems or [])
    if problems:  # a plan over the limits is refused at once, with what was found before
        try:
            _check_counts(goals, team)
        except ValidationError as error:
            raise_problems([*problems, *((key, message) for key, messages in
                                         error.errors.items() for message in messages)])
    else:
        _check_counts(goals, team)
    _check_lengths(values, assessment, goals, team, problems)
    merged = {name: getattr(plan, name) for name in documents.SCALARS} if plan else {}
    merged |= values
    merged.setdefault("legal_protection", "none")
    _check_scalars(merged, problems)
    _check_coordinator(session, values, patient, problems)
    kept_goals = _check_goals(session, plan, goals, merged.get("plan_date"), problems,
                              kept_on, patient.territory_id) if goals is not None else None
    if goals is None and plan is not None and "plan_date" in values:
        _check_goals(session, plan, _goals_input(plan), merged.get("plan_date"), problems)
    kept_team = _check_team(session, plan, team, problems, kept_on, patient.territory_id) \
        if team is not None else None
    if goals is not None or team is not None:
        _check_team_size(plan, patient, kept_goals, kept_team, problems)
    raise_problems(problems)
    return kept_goals, kept_team


def _goals_input(plan: CarePlan) -> list[dict]:
    return [{"id": goal.id, "description": goal.display_description, "domain": goal.domain,
             "status": goal.status, "status_reason": goal.status_reason,
             "target_date": goal.target_date, "problem": goal.problem, "measure": goal.measure,
             "actions": []} for goal in plan.goals]


# -- Revisions ------------------------------------------------------------------------------

def _revise(session: Session, actor: Actor, plan: CarePlan, event: str,
            before: dict | None) -> CarePlanRevision | None:
    """Write the revision of a saved change; bump the plan's version (so that a concurrent
    writer gets a conflict). Nothing is written when nothing changed."""
    if before is not None:
        with session.no_autoflush:
            changes = documents.compare(before, documents.document(session, plan))
        if not changes:
            return None
        plan.updated_at = utcnow()  # the plan's row always changes: its version goes up by one
    else:
        changes = []
    changed = documents.changed_fields(changes)
    session.flush()
    after = documents.document(session, plan)
    revision = CarePlanRevision(plan_id=plan.id, number=plan.version, event=event,
                                author_user_id=actor.user_id, author_label=actor.label,
                                changed=changed,
                                changed_codes=documents.changed_codes(changes) or None,
                                snapshot=after)
    session.add(revision)
    session.flush()
    audit.record(session, actor, AuditAction.CREATE if event == "created" else AuditAction.UPDATE,
                 "care_plan", plan.id, patient_id=plan.patient_id,
                 summary=f"{event} (revision {plan.version})",
                 details={"fields": changed[:50]} if changed else None)
    return revision


def _providers_of(plan: CarePlan) -> set[int]:
    return {m.provider_id for m in plan.team} | {
        a.provider_id for g in plan.goals for a in g.actions if a.provider_id is not None}


def _check_version(plan: CarePlan, expected_version: int | None) -> None:
    if expected_version is not None and plan.version != expected_version:
        raise ConflictError(plan.version)


# -- Operations ---------------------------------------------------------------------------------

def _check_new_plan(session: Session, actor: Actor, patient: Patient, data: dict) -> tuple:
    """Every problem of a new plan at once (the patient's, the content's); its values."""
    problems = []
    if patient.deceased_date is not None:
        problems.append(("patient", _l("The patient has died: no new plan.")))
    draft = session.scalar(select(CarePlan.id).where(CarePlan.patient_id == patient.id,
                                                     CarePlan.status == PlanStatus.DRAFT))
    if draft is not None:
        problems.append(("patient", _l("A draft plan already exists for this patient: open "
                                       "it.")))
    values, goals, team = _content(data)
    values.setdefault("plan_date", local_today())
    if "coordinator_id" not in values:
        values["coordinator_id"] = actor.user_id if actor.role == Role.CASE_MANAGER \
            else patient.case_manager_id
    previous = session.get(CarePlan, data["supersedes_id"]) if data.get("supersedes_id") else None
    if previous is not None and previous.patient_id != patient.id:
        problems.append(("supersedes_id", _l("This plan belongs to another patient.")))
    if data.get("stratum_id") is not None and session.get(Stratum, data["stratum_id"]) is None:
        problems.append(("stratum_id", _l("Unknown stratum.")))
    kept_on = frozenset(_providers_of(previous)) if previous is not None else frozenset()
    kept_goals, kept_team = _validate(session, patient, None, values, goals or [], team or [],
                                      kept_on, data.get("assessment"), problems)
    return values, kept_goals, kept_team


def check_plan(session: Session, actor: Actor, patient: Patient, plan: CarePlan | None,
               data: dict) -> None:
    """The problems `create_plan` (no `plan`) or `save_plan` would find in `data`, all in one
    ValidationError; nothing written (a form shows them beside its own errors)."""
    if plan is None:
        _check_new_plan(session, actor, patient, data)
        return
    _check_saved_plan(session, plan, data)


def create_plan(session: Session, actor: Actor, patient: Patient, data: dict) -> CarePlan:
    """Start a draft plan for a living patient (one draft at a time per patient)."""
    values, kept_goals, kept_team = _check_new_plan(session, actor, patient, data)
    number = (session.scalar(select(func.max(CarePlan.plan_number))
                             .where(CarePlan.patient_id == patient.id)) or 0) + 1
    supersedes_id = data.get("supersedes_id")
    plan = CarePlan(patient=patient, plan_number=number, status=PlanStatus.DRAFT,
                    stratum_id=data.get("stratum_id"), supersedes_id=supersedes_id)
    session.add(plan)
    _apply(session, plan, values, kept_goals, kept_team)
    _apply_assessment(plan, data.get("assessment"))
    session.flush()
    _revise(session, actor, plan, "created", None)
    return plan


def _check_saved_plan(session: Session, plan: CarePlan, data: dict) -> tuple:
    """Every problem of a change to a saved plan at once; its values."""
    if plan.status == PlanStatus.CLOSED:
        raise ValidationError({"status": [_l("A closed plan cannot be changed: revise it as "
                                             "a new version.")]})
    values, goals, team = _content(data)
    if plan.status == PlanStatus.ACTIVE:
        _check_follow_up_only(plan, values, goals, team, data.get("assessment"))
    kept_goals, kept_team = _validate(session, plan.patient, plan, values, goals, team,
                                      assessment=data.get("assessment"))
    return values, kept_goals, kept_team


def save_plan(session: Session, actor: Actor, plan: CarePlan, data: dict,
              expected_version: int | None) -> CarePlanRevision | None:
    """Save changes to a draft, or the follow-up of an active plan (`_check_follow_up_only`);
    a stale `expected_version` is a conflict and nothing is written. Keys absent from `data`
    keep their value."""
    _check_version(plan, expected_version)
    before = documents.document(session, plan)
    values, kept_goals, kept_team = _check_saved_plan(session, plan, data)
    _apply(session, plan, values, kept_goals, kept_team)
    _apply_assessment(plan, data.get("assessment"))
    if plan.status == PlanStatus.ACTIVE:
        _check_active_content(plan)
    return _revise(session, actor, plan, "edited", before)


# -- The follow-up of an active plan --------------------------------------------------------
# The patient agreed to the active plan's content: on it, an update changes only the follow-up
# (how each goal and action is going). A change of content is a new version (`revise_as_new_
# version`), a draft the patient agrees to again before it replaces the plan. This is the one
# rule; the form (a follow-up form on an active plan) and the API's PATCH both come through it.

FOLLOW_UP_GOAL_FIELDS = ("status", "status_reason")
FOLLOW_UP_ACTION_FIELDS = ("status",)
CONTENT_GOAL_FIELDS = tuple(f for f in documents.GOAL_FIELDS if f not in FOLLOW_UP_GOAL_FIELDS)
CONTENT_ACTION_FIELDS = tuple(f for f in documents.ACTION_FIELDS
                              if f not in FOLLOW_UP_ACTION_FIELDS)


def _revise_instead() -> object:
    return _l("On an active plan only the follow-up changes (the status of goals and "
              "actions): to change this, use “Revise as a new version”, which needs the "
              "patient’s agreement again.")


def _same(old: Any, new: Any) -> bool:
    """A stored value and an input as the save would store it (blank texts are empty)."""
    return (_strip(old) or None) == (_strip(new) or None)


def _action_value(action: dict, name: str) -> Any:
    if name == "responsible":
        return action.get(name) or Responsible.PROVIDER
    return action.get(name)


def content_changes(plan: CarePlan, values: dict, goals: list | None, team: list | None,
                    assessment: dict | None) -> list[str]:
    """The keys (as the plan's other problems are keyed) of what an update would change of the
    plan's content, as opposed to its follow-up."""
    keys = [name for name, value in values.items() if not _same(getattr(plan, name), value)]
    for domain, parts in (assessment or {}).items():
        row = plan.assessment(domain)
        for part in ("summary", "needs"):
            if not _same(getattr(row, part) if row else "", (parts or {}).get(part)):
                keys.append(f"assessment-{domain}-{part}")
    if goals is not None:
        keys += _goal_changes(plan, goals)
    if team is not None and _team_changed(plan, team):
        keys.append("team")
    return keys


def _goal_changes(plan: CarePlan, goals: list) -> list[str]:
    keys: list[str] = []
    kept = [(row, goal) for row, goal in enumerate(goals) if not _goal_is_blank(goal)]
    existing = list(plan.goals)
    if [goal.get("id") for _row, goal in kept if goal.get("id") in
            {g.id for g in existing}] != [g.id for g in existing]:
        keys.append("goals")  # a goal removed, or the goals in another order
    known = {goal.id: goal for goal in existing}
    for row, data in kept:
        goal = known.get(data.get("id"))
        if goal is None:
            keys.append(f"goals-{row}-description")  # a goal added
            continue
        keys += [f"goals-{row}-{name}" for name in CONTENT_GOAL_FIELDS
                 if not _same(getattr(goal, name), data.get(name))]
        actions = [(n, a) for n, a in enumerate(data.get("actions") or [])
                   if not _action_is_blank(a)]
        known_actions = {action.id: action for action in goal.actions}
        if [a.get("id") for _n, a in actions if a.get("id") in known_actions] != \
                [action.id for action in goal.actions]:
            keys.append(f"goals-{row}-actions")
        for number, action_data in actions:
            action = known_actions.get(action_data.get("id"))
            key = f"goals-{row}-actions-{number}-"
            if action is None:
                keys.append(key + "description")
                continue
            keys += [key + name for name in CONTENT_ACTION_FIELDS
                     if not _same(getattr(action, name), _action_value(action_data, name))]
    return keys


def _team_changed(plan: CarePlan, team: list) -> bool:
    """The care team as `_apply_team` would save it differs from the plan's."""
    wanted: dict[int, str] = {}
    for member in team:
        if member.get("provider_id") is not None:
            wanted.setdefault(member["provider_id"], (member.get("role") or "").strip())
    current = {member.provider_id: member.role or "" for member in plan.team}
    required = ({plan.patient.gp_id} if plan.patient.gp_id else set()) | {
        action.provider_id for goal in plan.goals for action in goal.actions
        if action.provider_id is not None}
    return any(current.get(pid) != role for pid, role in wanted.items()) or \
        any(pid not in wanted and pid not in required for pid in current)


def _check_follow_up_only(plan: CarePlan, values: dict, goals: list | None,
                          team: list | None, assessment: dict | None) -> None:
    """An update of an active plan changes only its follow-up: else a ValidationError naming
    each field of content it would change (nothing written)."""
    raise_problems([(key, _revise_instead())
                    for key in content_changes(plan, values, goals, team, assessment)])


def save_follow_up(session: Session, actor: Actor, plan: CarePlan, follow_up: list[dict],
                   expected_version: int | None) -> CarePlanRevision | None:
    """The follow-up of a plan's goals and actions, given as [{id, status, status_reason,
    actions: [{id, status}]}] (goals and actions absent keep theirs): saved through
    `save_plan`, the plan's content as it is."""
    given = {row.get("id"): row for row in follow_up}
    unknown = set(given) - {goal.id for goal in plan.goals}
    if unknown:
        raise_problems([("goals", _l("This goal is not part of the plan."))])
    goals = []
    for goal in plan.goals:
        row = given.get(goal.id) or {}
        statuses = {a.get("id"): a for a in row.get("actions") or []}
        goals.append({
            "id": goal.id, **{name: getattr(goal, name) for name in CONTENT_GOAL_FIELDS},
            **{name: row.get(name, getattr(goal, name)) for name in FOLLOW_UP_GOAL_FIELDS},
            "actions": [{"id": action.id,
                         **{name: getattr(action, name) for name in CONTENT_ACTION_FIELDS},
                         **{name: (statuses.get(action.id) or {}).get(name, getattr(action, name))
                            for name in FOLLOW_UP_ACTION_FIELDS}}
                        for action in goal.actions]})
    return save_plan(session, actor, plan, {"goals": goals}, expected_version)


def _check_active_content(plan: CarePlan, problems: list | None = None) -> None:
    """What an active plan needs, every problem at once (with those already found)."""
    problems = list(problems or [])
    if plan.agreement_on is None:
        problems.append(("agreement_on", _l("Record the date the patient agreed to the plan "
                                            "before activating it.")))
    if plan.agreement_method is None:
        problems.append(("agreement_method", _l("Record how the patient agreed to the plan "
                                                "before activating it.")))
    if plan.review_date is None:
        problems.append(("review_date", _l("An active plan needs a review date.")))
    if not plan.goals:
        problems.append(("goals", _l("An active plan needs at least one goal.")))
    for row, goal in enumerate(plan.goals):
        for action_row, action in enumerate(goal.actions):
            if action.responsible == Responsible.PROVIDER and action.provider_id is None:
                problems.append((f"goals-{row}-actions-{action_row}-provider_id",
                                 _l("Choose the provider of action %(action)d of goal %(goal)d, "
                                    "or make the patient or the caregiver responsible.",
                                    action=action_row + 1, goal=row + 1)))
    raise_problems(problems)


def activate_plan(session: Session, actor: Actor, plan: CarePlan,
                  expected_version: int | None) -> CarePlan:
    """A draft becomes the patient's active plan once the patient's agreement is recorded; it
    supersedes the plan it revises. A second active plan is refused."""
    _check_version(plan, expected_version)
    if plan.status != PlanStatus.DRAFT:
        raise ValidationError({"status": [_l("Only a draft plan can be activated.")]})
    problems: list = []
    if plan.review_date is not None and plan.review_date < local_today():
        problems.append(("review_date", _l("The review date has passed: set a new one before "
                                           "activating the plan.")))
    if plan.patient.deceased_date is not None:
        problems.append(("status", _l("The patient has died: the plan cannot be activated.")))
    active = session.scalar(select(CarePlan).where(CarePlan.patient_id == plan.patient_id,
                                                   CarePlan.status == PlanStatus.ACTIVE))
    if active is not None and active.id != plan.supersedes_id:
        problems.append(("status", _l(
            "This patient already has an active plan (no. %(number)d): revise it as a new "
            "version, or close it first.", number=active.plan_number)))
    _check_active_content(plan, problems)
    before = documents.document(session, plan)
    if active is not None:
        _close(session, actor, active, _l("Superseded by plan no. %(number)d",
                                          number=plan.plan_number), local_today())
        session.flush()  # the old plan leaves "active" before the new one enters it
    plan.status = PlanStatus.ACTIVE
    plan.activated_on = local_today()
    patient = plan.patient
    assert plan.agreement_on is not None  # _check_active_content refused a plan without it
    withdrawn_since = patient.consent_date is not None and \
        patient.consent_date > plan.agreement_on
    if plan.sharing_agreed and not patient.consent_share and not withdrawn_since:
        # the agreement to share is recorded as the patient's consent, unless the patient
        # withdrew it after agreeing to the plan (the later decision wins)
        patient_services.record_consent(session, actor, patient, True, plan.agreement_on)
    _revise(session, actor, plan, "activated", before)
    return plan


def _close(session: Session, actor: Actor, plan: CarePlan, reason: str | LazyString,
           closed_on: date) -> None:
    """Close `plan`; a reason the system gives (lazy) is kept as its code too, read in each
    reader's language."""
    before = documents.document(session, plan)
    plan.status = PlanStatus.CLOSED
    plan.closed_on = closed_on
    plan.close_reason = str(reason)
    plan.close_reason_code = messages.stored(reason)
    _revise(session, actor, plan, "closed", before)


def close_plan(session: Session, actor: Actor, plan: CarePlan, reason: str | None,
               expected_version: int | None, closed_on: date | None = None) -> CarePlan:
    """Close a draft or active plan, with a reason."""
    _check_version(plan, expected_version)
    problems = []
    if plan.status == PlanStatus.CLOSED:
        problems.append(("status", _l("The plan is already closed.")))
    if _blank(reason):
        problems.append(("close_reason", _l("Say why the plan is closed.")))
    _too_long("close_reason", reason, limits.CLOSE_REASON, problems)
    closed_on = closed_on or local_today()
    if closed_on < plan.plan_date:
        problems.append(("closed_on", _l("The plan cannot close before its date.")))
    elif closed_on > local_today():
        problems.append(("closed_on", _l("The closing date cannot be in the future.")))
    raise_problems(problems)
    _close(session, actor, plan, (reason or "").strip(), closed_on)
    return plan


def change_status(session: Session, actor: Actor, plan: CarePlan, status: str | None,
                  reason: str | None = None) -> None:
    """The lifecycle asked as a status (the API's PATCH): `active` activates a draft, `closed`
    closes the plan with `reason`; the current status changes nothing; a plan never goes back
    to draft (revise it as a new version). Each step checks the then-current version."""
    if reason and status != PlanStatus.CLOSED:
        raise ValidationError({"close_reason": [_l("Send the reason with the status closed.")]})
    if status is None or status == plan.status:
        return
    if status == PlanStatus.ACTIVE:
        activate_plan(session, actor, plan, plan.version)
    elif status == PlanStatus.CLOSED:
        close_plan(session, actor, plan, reason, plan.version)
    else:
        raise ValidationError({"status": [_l("A plan cannot go back to draft: revise it as a "
                                             "new version.")]})


def revise_as_new_version(session: Session, actor: Actor, plan: CarePlan) -> CarePlan:
    """Start the next version of a plan as a draft holding the same content; it supersedes the
    previous one when it is activated. The patient's agreement is asked again."""
    data = documents.document(session, plan)
    copy = {name: getattr(plan, name) for name in documents.SCALARS}
    copy |= {"plan_date": local_today(), "agreement_on": None, "agreement_method": None,
             "sharing_agreed": plan.patient.consent_share, "supersedes_id": plan.id,
             "stratum_id": plan.stratum_id, "assessment": data["assessment"]}
    if copy["review_date"] is not None and copy["review_date"] < local_today():
        copy["review_date"] = None
    copy["goals"] = [
        {**{name: getattr(goal, name) for name in documents.GOAL_FIELDS},
         "target_date": goal.target_date if goal.target_date is None
         or goal.target_date >= local_today() else None,
         "actions": [{name: getattr(action, name) for name in documents.ACTION_FIELDS}
                     for action in goal.actions]}
        for goal in plan.goals]
    copy["team"] = [{"provider_id": m.provider_id, "role": m.role} for m in plan.team]
    return create_plan(session, actor, plan.patient, copy)


def read_plan(session: Session, actor: Actor, plan: CarePlan) -> CarePlan:
    """Opening a plan is an audited read of the patient's data."""
    audit.record(session, actor, AuditAction.READ, "care_plan", plan.id,
                 patient_id=plan.patient_id)
    return plan


def read_new_plan_form(session: Session, actor: Actor, patient_id: int) -> None:
    """The new-plan form shows the patient and their stratum's suggestions: an audited read."""
    audit.record(session, actor, AuditAction.READ, "care_plan_form", patient_id,
                 patient_id=patient_id, summary="new plan form")


def read_plans(session: Session, actor: Actor, plans: list[CarePlan]) -> None:
    """Plans returned whole (an API list): one audited read per plan, written at once."""
    audit.record_each(session, actor, AuditAction.READ, "care_plan",
                      [(plan.id, plan.patient_id) for plan in plans])


def add_comment(session: Session, actor: Actor, plan: CarePlan, body: str) -> CarePlanComment:
    """A reader of the care team leaves a dated note for the case manager (audited)."""
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": [_l("Write your comment.")]})
    if len(body) > MAX_COMMENT:
        raise ValidationError({"body": [_l("At most %(max)d characters.", max=MAX_COMMENT)]})
    comment = CarePlanComment(plan_id=plan.id, author_user_id=actor.user_id,
                              author_label=actor.label, body=body)
    session.add(comment)
    session.flush()
    audit.record(session, actor, AuditAction.CREATE, "care_plan_comment", comment.id,
                 patient_id=plan.patient_id, summary=f"comment on plan {plan.id}")
    return comment


def comments(session: Session, plan: CarePlan) -> list[CarePlanComment]:
    return comments_of(session, [plan.id])[plan.id]


def comments_of(session: Session, plan_ids: list[int]) -> dict[int, list[CarePlanComment]]:
    """The comments of each plan, oldest first (one query for all the plans)."""
    found: dict[int, list[CarePlanComment]] = {plan_id: [] for plan_id in plan_ids}
    if plan_ids:
        for comment in session.scalars(
                select(CarePlanComment).where(CarePlanComment.plan_id.in_(plan_ids))
                .order_by(CarePlanComment.created_at, CarePlanComment.id)):
            found[comment.plan_id].append(comment)
    return found


def revisions(session: Session, plan: CarePlan) -> list[CarePlanRevision]:
    return list(session.scalars(select(CarePlanRevision)
                                .where(CarePlanRevision.plan_id == plan.id)
                                .order_by(CarePlanRevision.number.desc())))


def revision(session: Session, plan: CarePlan, number: int) -> CarePlanRevision | None:
    return session.scalar(select(CarePlanRevision).where(CarePlanRevision.plan_id == plan.id,
                                                         CarePlanRevision.number == number))


def plans_of(session: Session, patient: Patient) -> list[CarePlan]:
    return list(session.scalars(select(CarePlan).where(CarePlan.patient_id == patient.id)
                                .order_by(CarePlan.plan_number.desc())))


def record_page_context(session: Session, patient: Patient) -> dict:
    """What the patient's record shows of their care plans (extension point of the record)."""
    return {"plans": plans_of(session, patient)}


def move_plans(session: Session, keep: Patient, merged: Patient) -> dict:
    """At the merge of two records, the merged record's plans go to the kept one, numbered
    after its own; if both had an active plan, the merged record's one is closed."""
    actor = Actor.system("merge")
    number = session.scalar(select(func.max(CarePlan.plan_number))
                            .where(CarePlan.patient_id == keep.id)) or 0
    keeps_active = session.scalar(select(CarePlan.id).where(
        CarePlan.patient_id == keep.id, CarePlan.status == PlanStatus.ACTIVE)) is not None
    keeps_draft = session.scalar(select(CarePlan.id).where(
        CarePlan.patient_id == keep.id, CarePlan.status == PlanStatus.DRAFT)) is not None
    moved = closed = 0
    for plan in session.scalars(select(CarePlan).where(CarePlan.patient_id == merged.id)
                                .order_by(CarePlan.plan_number)):
        if (plan.status == PlanStatus.ACTIVE and keeps_active) or \
                (plan.status == PlanStatus.DRAFT and keeps_draft):
            _close(session, actor, plan, _l("Closed at the merge of two records of the "
                                            "patient"), local_today())
            closed += 1
        number += 1
        plan.patient_id, plan.plan_number = keep.id, number
        moved += 1
    session.flush()
    return {"care_plans": moved, "care_plans_closed": closed}


# -- What higher layers add (extension points, wired in coordinator/web.py) -----------------

PLAN_APPOINTMENTS = "care_plan.appointments"


def upcoming_appointments(session: Session, patient_id: int, now: datetime,
                          days: int = 90) -> list:
    """The patient's scheduled appointments of the coming `days` days, shown on the plan page and
    its printed summary: the scheduling domain (above this one) provides them."""
    return extending.first(PLAN_APPOINTMENTS, [], session=session, patient_id=patient_id,
                           now=now, days=days)
