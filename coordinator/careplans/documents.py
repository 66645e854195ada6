"""A plan as a plain document (the API's body, a revision's snapshot) and the readable diff
between two documents."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, joinedload, selectinload

from coordinator.careplans.labels import CHOICE_LABELS, DOMAIN_LABELS
from coordinator.careplans.models import (
    ASSESSMENT_DOMAINS,
    CHANGE_SEPARATOR,
    CarePlan,
    CarePlanAction,
    CarePlanGoal,
    CarePlanMember,
)
from coordinator.core import messages
from coordinator.core.dates import format_date
from coordinator.patients.models import Patient
from coordinator.providers.models import Provider

# Loader options for a plan shown whole (page, print, API): its patient and the patient's GP,
# coordinator, assessments, goals and their actions, care team, with the providers they name:
# one query per kind, however many goals, actions and members the plan has.
WHOLE_PLAN = (
    joinedload(CarePlan.patient).joinedload(Patient.gp),
    joinedload(CarePlan.coordinator),
    selectinload(CarePlan.assessments),
    selectinload(CarePlan.goals).selectinload(CarePlanGoal.actions)
    .selectinload(CarePlanAction.provider),
    selectinload(CarePlan.team).selectinload(CarePlanMember.provider),
)

SCALARS = (
    "plan_date", "review_date", "coordinator_id", "caregiver_name", "caregiver_relation",
    "caregiver_phone", "legal_protection", "legal_protection_details", "expectations",
    "priorities", "life_project", "current_help", "agreement_on", "agreement_method",
    "sharing_agreed",
)
STATE = ("status", "activated_on", "closed_on", "close_reason")
GOAL_FIELDS = ("domain", "problem", "description", "measure", "target_date", "status",
               "status_reason")
ACTION_FIELDS = ("description", "responsible", "provider_id", "interval_days", "occurrences",
                 "due_date", "status")

LABELS = {
    "plan_date": _l("Plan date"), "review_date": _l("Review date"),
    "coordinator_id": _l("Coordinator"), "caregiver_name": _l("Main caregiver"),
    "caregiver_relation": _l("Caregiver's relation"), "caregiver_phone": _l("Caregiver's phone"),
    "legal_protection": _l("Legal protection"),
    "legal_protection_details": _l("Legal protection details"),
    "expectations": _l("Expectations"), "priorities": _l("Priorities"),
    "life_project": _l("Life project"), "current_help": _l("Help and services in place"),
    "agreement_on": _l("Date of the patient's agreement"),
    "agreement_method": _l("Way the patient agreed"),
    "sharing_agreed": _l("Agreed to sharing with the care team"),
    "status": _l("Status"), "activated_on": _l("Activated on"), "closed_on": _l("Closed on"),
    "close_reason": _l("Reason for closing"),
    "domain": _l("Domain"), "problem": _l("Need or problem"), "description": _l("Description"),
    "measure": _l("Measure"), "target_date": _l("Target date"),
    "status_reason": _l("Reason"), "responsible": _l("Responsible"),
    "provider_id": _l("Provider"), "interval_days": _l("Every (days)"),
    "occurrences": _l("Times"), "due_date": _l("Due date"), "role": _l("Role"),
    "summary": _l("Summary"), "needs": _l("Needs identified"), "position": _l("Order"),
}


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def provider_name(session: Session, provider_id: int | None) -> str | None:
    if provider_id is None:
        return None
    provider = session.get(Provider, provider_id)
    return provider.name if provider is not None else None


def document(session: Session, plan: CarePlan) -> dict:
    """The whole plan as JSON-ready data (dates as ISO strings, provider names alongside ids)."""
    doc: dict[str, Any] = {"id": plan.id, "patient_id": plan.patient_id,
                           "plan_number": plan.plan_number, "version": plan.version,
                           "stratum_id": plan.stratum_id, "supersedes_id": plan.supersedes_id}
    for name in (*SCALARS, *STATE):
        doc[name] = _iso(getattr(plan, name))
    doc["close_reason"] = plan.display_close_reason  # in the reader's language
    doc["assessment"] = {
        domain: {"summary": a.summary if a else "", "needs": a.needs if a else ""}
        for domain in ASSESSMENT_DOMAINS for a in [plan.assessment(domain)]}
    doc["goals"] = [
        {"id": goal.id, **{name: _iso(getattr(goal, name)) for name in GOAL_FIELDS},
         "description": goal.display_description,  # in the reader's language
         "actions": [{"id": action.id,
                      **{name: _iso(getattr(action, name)) for name in ACTION_FIELDS},
                      "provider_name": provider_name(session, action.provider_id)}
                     for action in goal.actions]}
        for goal in plan.goals]
    doc["team"] = [{"provider_id": member.provider_id,
                    "provider_name": provider_name(session, member.provider_id),
                    "role": member.role} for member in plan.team]
    return doc


def from_input(session: Session, current: dict, data: dict) -> dict:
    """A save's input (the service's dict, blank rows included) as a document, to compare it
    with `current`; what the input does not edit (the state) is taken from `current`."""
    doc = {name: _iso(data.get(name)) for name in SCALARS}
    doc |= {name: current.get(name) for name in STATE}
    doc["assessment"] = data.get("assessment") or {}
    doc["goals"] = [
        {**{name: _iso(goal.get(name)) for name in ("id", *GOAL_FIELDS)},
         "actions": [{**{name: _iso(action.get(name)) for name in ("id", *ACTION_FIELDS)},
                      "provider_name": provider_name(session, action.get("provider_id"))}
                     for action in goal.get("actions") or [] if action.get("description")]}
        for goal in data.get("goals") or [] if goal.get("description")]
    doc["team"] = [{"provider_id": member["provider_id"],
                    "provider_name": provider_name(session, member["provider_id"]),
                    "role": member.get("role") or ""}
                   for member in data.get("team") or [] if member.get("provider_id")]
    return doc


# -- Diff ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Change:
    """One difference between two documents, for people: where, before, after."""

    where: tuple  # label parts, e.g. (Goal 2, Target date)
    before: str
    after: str
    pieces: tuple = ()  # for long texts: (op, words) with op in "same", "del", "ins"

    @property
    def kind(self) -> str:
        if not self.before:
            return "added"
        if not self.after:
            return "removed"
        return "changed"


DATES = ("plan_date", "review_date", "agreement_on", "activated_on", "closed_on",
         "target_date", "due_date")
ENUMERATIONS = ("status", "legal_protection", "agreement_method", "responsible")


def _text(value: Any, name: str = "") -> str:
    """A value as people read it: dates in the reader's format, choices by their label."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return str(_l("yes") if value else _l("no"))
    if name in DATES:
        return format_date(date.fromisoformat(str(value)), "short")
    if name in ENUMERATIONS or name == "domain":
        label = CHOICE_LABELS.get(value) if name != "domain" else DOMAIN_LABELS.get(value)
        return str(label) if label is not None else str(value)
    return str(value)


def _lines(doc: dict) -> dict[tuple, tuple[tuple, str]]:
    """The document flattened to {stable key: (label parts, text)}."""
    lines: dict[tuple, tuple[tuple, str]] = {}
    for name in (*SCALARS, *STATE):
        if name in doc:
            lines[(name,)] = ((LABELS[name],), _text(doc[name], name))
    for domain, values in (doc.get("assessment") or {}).items():
        for part in ("summary", "needs"):
            lines[("assessment", domain, part)] = (
                (DOMAIN_LABELS.get(domain, domain), LABELS[part]), _text(values.get(part)))
    for index, goal in enumerate(doc.get("goals") or [], start=1):
        goal_key = goal.get("id") or f"new-{index}"
        goal_label = _l("Goal %(number)d", number=index)
        for name in GOAL_FIELDS:
            lines[("goal", goal_key, name)] = ((goal_label, LABELS[name]),
                                                _text(goal.get(name), name))
        for number, action in enumerate(goal.get("actions") or [], start=1):
            key = ("action", goal_key, action.get("id") or f"new-{number}")
            label = (goal_label, _l("action %(number)d", number=number))
            for name in ACTION_FIELDS:
                value = _provider(action) if name == "provider_id" else action.get(name)
                lines[(*key, name)] = ((*label, LABELS[name]), _text(value, name))
    for member in doc.get("team") or []:
        lines[("team", member.get("provider_id"))] = (
            (_l("Care team"), member.get("provider_name") or ""), _text(member.get("role")) or "✓")
    return lines


def _provider(row: dict) -> str | None:
    """A provider as the diff shows it: the name, and the directory number that tells two
    namesakes apart."""
    if row.get("provider_id") is None:
        return None
    return f"{row.get('provider_name') or ''} (no. {row['provider_id']})"


def _pieces(before: str, after: str) -> tuple:
    old, new = before.split(), after.split()
    pieces = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new,
                                                      autojunk=False).get_opcodes():
        if op == "equal":
            pieces.append(("same", " ".join(old[i1:i2])))
            continue
        if i2 > i1:
            pieces.append(("del", " ".join(old[i1:i2])))
        if j2 > j1:
            pieces.append(("ins", " ".join(new[j1:j2])))
    return tuple(pieces)


def _reordered(where: tuple, before: list, after: list, key: Callable[[dict], object],
               label: Callable[[dict], str]) -> list[Change]:
    """One change when the rows present on both sides are not in the same order."""
    common = {key(row) for row in before} & {key(row) for row in after}
    old = [row for row in before if key(row) in common]
    new = [row for row in after if key(row) in common]
    if [key(row) for row in old] == [key(row) for row in new]:
        return []
    return [Change(where, " / ".join(label(row) for row in old),
                   " / ".join(label(row) for row in new))]


def _order_changes(before: dict, after: dict) -> list[Change]:
    changes = _reordered((_l("Goals"), LABELS["position"]), before.get("goals") or [],
                         after.get("goals") or [], lambda g: g.get("id") or id(g),
                         lambda g: g.get("description") or "")
    old_goals = {g.get("id"): g for g in before.get("goals") or [] if g.get("id")}
    for index, goal in enumerate(after.get("goals") or [], start=1):
        if goal.get("id") in old_goals:
            changes += _reordered(
                (_l("Goal %(number)d", number=index), LABELS["position"]),
                old_goals[goal["id"]].get("actions") or [], goal.get("actions") or [],
                lambda a: a.get("id") or id(a), lambda a: a.get("description") or "")
    changes += _reordered((_l("Care team"), LABELS["position"]), before.get("team") or [],
                          after.get("team") or [], lambda m: m.get("provider_id"),
                          lambda m: m.get("provider_name") or "")
    return changes


def compare(before: dict, after: dict) -> list[Change]:
    """What changed from `before` to `after`, in the order of the plan; a change of the order
    of goals, actions or care team members is one change each."""
    old, new = _lines(before), _lines(after)
    changes = _order_changes(before, after)
    for key in [*new, *[k for k in old if k not in new]]:
        where, after_text = new.get(key, (old.get(key, ((), ""))[0], ""))
        before_text = old.get(key, ((), ""))[1]
        if before_text == after_text:
            continue
        long_text = len(before_text) > 60 or len(after_text) > 60
        changes.append(Change(where, before_text, after_text,
                              _pieces(before_text, after_text) if long_text and before_text
                              and after_text else ()))
    return changes


def changed_fields(changes: list[Change]) -> list[str]:
    """The labels of what changed, as stored on a revision (in the author's language: the
    literal fallback of `changed_codes`)."""
    return [CHANGE_SEPARATOR.join(str(part) for part in change.where) for change in changes]


def changed_codes(changes: list[Change]) -> list[list]:
    """The labels of what changed as codes, part by part (core/messages.py): read later in
    each reader's language (`CarePlanRevision.display_changed`)."""
    return [[messages.stored_value(part) for part in change.where] for change in changes]
