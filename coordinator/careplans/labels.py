"""The labels of the plan's enumerations, in the reader's language: one list for the forms,
the readable diff and the templates (as the `plan_labels` template global)."""

from __future__ import annotations

from types import SimpleNamespace

from flask_babel import lazy_gettext as _l

from coordinator.careplans.models import ActionStatus, GoalStatus, PlanStatus, Responsible
from coordinator.strata.vocabulary import DOMAIN_LABELS  # shared with the strata's goals

LEGAL_PROTECTION_LABELS = {
    "none": _l("None"), "safeguard": _l("Safeguard of justice"),
    "curatorship": _l("Curatorship"), "guardianship": _l("Guardianship"),
    "family_authorisation": _l("Family authorisation"),
    "future_protection": _l("Future protection mandate"),
}
AGREEMENT_LABELS = {"oral": _l("Orally"), "written": _l("In writing"),
                    "signed": _l("Signed plan"),
                    "representative": _l("Through their legal representative")}
GOAL_STATUS_LABELS = {GoalStatus.OPEN: _l("Ongoing"), GoalStatus.ACHIEVED: _l("Achieved"),
                      GoalStatus.ABANDONED: _l("Abandoned")}
ACTION_STATUS_LABELS = {ActionStatus.PLANNED: _l("Planned"),
                        ActionStatus.IN_PROGRESS: _l("In progress"),
                        ActionStatus.DONE: _l("Done"), ActionStatus.CANCELLED: _l("Cancelled")}
RESPONSIBLE_LABELS = {Responsible.PROVIDER: _l("A provider"),
                      Responsible.PATIENT: _l("The patient"),
                      Responsible.CAREGIVER: _l("The caregiver")}
PLAN_STATUS_LABELS = {PlanStatus.DRAFT: _l("Draft"), PlanStatus.ACTIVE: _l("Active"),
                      PlanStatus.CLOSED: _l("Closed")}
# The labels of every enumerated value, for the readable diff (no value belongs to two lists).
CHOICE_LABELS = {**LEGAL_PROTECTION_LABELS, **AGREEMENT_LABELS, **RESPONSIBLE_LABELS,
                 **ACTION_STATUS_LABELS, **GOAL_STATUS_LABELS, **PLAN_STATUS_LABELS}

# For templates: plan_labels.plan_status[value], plan_labels.legal[value], ...
TEMPLATE_LABELS = SimpleNamespace(
    plan_status=PLAN_STATUS_LABELS, goal_status=GOAL_STATUS_LABELS,
    action_status=ACTION_STATUS_LABELS, agreement=AGREEMENT_LABELS,
    legal=LEGAL_PROTECTION_LABELS, responsible=RESPONSIBLE_LABELS, domain=DOMAIN_LABELS)
