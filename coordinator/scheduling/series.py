"""Series of follow-ups from a stratum's template or a plan action's frequency: proposed first
(dates the user can adjust, a provider chosen per kind), then booked in one transaction."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator import permissions
from coordinator.careplans.models import CarePlanAction, PlanStatus
from coordinator.core.workdays import next_working_day, subdivision_for
from coordinator.patients.models import Patient
from coordinator.providers.models import Provider
from coordinator.scheduling.models import AppointmentKind
from coordinator.strata.models import Stratum

FIRST_HOUR = 9
MAX_SERIES = 200


@dataclass(frozen=True)
class Proposal:
    """One appointment of a series, before it is booked (local Paris date and time)."""

    provider_kind: str
    label: str
    starts_at: datetime  # naive: Paris local time
    duration_minutes: int = 30
    kind: str = AppointmentKind.CONSULTATION
    provider_id: int | None = None
    action_id: int | None = None


def _series(kind: str, label: str, start: date, every: int, times: int, hour: int,
            provider_id: int | None = None, action_id: int | None = None,
            visit: str = AppointmentKind.CONSULTATION,
            subdivision: str | None = None) -> list[Proposal]:
    """Every `every` days from `start`, each date on a working day: a weekend or a French
    public holiday (of the patient's department) moves to the next working day; the
    following dates keep counting from the theoretical ones, so a series does not drift."""
    return [Proposal(kind, label,
                     datetime.combine(next_working_day(start + timedelta(days=every * n),
                                                       subdivision), time(hour)),
                     kind=visit, provider_id=provider_id, action_id=action_id)
            for n in range(min(times, MAX_SERIES))]


def from_template(stratum: Stratum, start: date,
                  subdivision: str | None = None) -> list[Proposal]:
    """Each line of the stratum's follow-up template as a series from `start` (each kind of
    provider at its own hour, so that one patient's visits of a day do not overlap), on the
    working days of `subdivision` (`workdays.subdivision_for` the patient's postal code)."""
    proposals: list[Proposal] = []
    for index, item in enumerate(stratum.followup_items):
        visit = AppointmentKind.HOME_VISIT \
            if item.provider_kind in ("nurse", "home_care_service") \
            else AppointmentKind.CONSULTATION
        proposals += _series(item.provider_kind, item.display_label, start, item.interval_days,
                             item.occurrences, FIRST_HOUR + index, visit=visit,
                             subdivision=subdivision)
    return sorted(proposals, key=lambda p: p.starts_at)


def from_action(session: Session, action: CarePlanAction, start: date,
                subdivision: str | None = None) -> list[Proposal]:
    """A plan action with a frequency (every N days, M times) as a series for its provider."""
    if not action.interval_days or not action.occurrences or action.provider_id is None:
        return []
    provider = session.get_one(Provider, action.provider_id)
    return _series(provider.kind, action.description, start, action.interval_days,
                   action.occurrences, FIRST_HOUR, provider_id=provider.id,
                   action_id=action.id, subdivision=subdivision)


def sources(session: Session, patient: Patient) -> tuple[list[Stratum], list[CarePlanAction]]:
    """What a series can come from: the follow-up templates of the patient's current strata,
    and the actions with a frequency and a provider of their active plan."""
    from coordinator.careplans import services as plan_services
    from coordinator.careplans.models import CarePlan, CarePlanGoal

    strata = [s for s in plan_services.current_strata(session, patient) if s.followup_items]
    actions = list(session.scalars(
        select(CarePlanAction).join(CarePlanGoal).join(CarePlan)
        .where(CarePlan.patient_id == patient.id, CarePlan.status == PlanStatus.ACTIVE,
               CarePlanAction.interval_days.is_not(None),
               CarePlanAction.provider_id.is_not(None))))
    return strata, actions


def proposals(session: Session, patient: Patient, source: str,
              start: date) -> list[Proposal] | None:
    """The series of `source` ("stratum-<id>" or "action-<id>"), None when it is not one of
    the patient's sources."""
    strata, actions = sources(session, patient)
    subdivision = subdivision_for(patient.postal_code)
    for stratum in strata:
        if source == f"stratum-{stratum.id}":
            return from_template(stratum, start, subdivision)
    for action in actions:
        if source == f"action-{action.id}":
            return from_action(session, action, start, subdivision)
    return None


def plan_team(session: Session, patient: Patient) -> set[int]:
    """The providers of the care team of the patient's active plan."""
    from coordinator.careplans.models import CarePlan, CarePlanMember

    return set(session.scalars(
        select(CarePlanMember.provider_id).join(CarePlan)
        .where(CarePlan.patient_id == patient.id, CarePlan.status == PlanStatus.ACTIVE)))


def provider_choices(session: Session, patient: Patient,
                     kinds: set[str]) -> dict[str, list[Provider]]:
    """The active providers of the patient's territory for each kind, in one query."""
    choices: dict[str, list[Provider]] = {kind: [] for kind in kinds}
    for provider in session.scalars(
            select(Provider).where(permissions.bookable_provider_scope(patient),
                                   Provider.kind.in_(kinds))
            .order_by(Provider.name_folded)):
        choices[provider.kind].append(provider)
    return choices


def default_providers(patient: Patient, choices: dict[str, list[Provider]],
                      plan_team: Collection[int] = frozenset()) -> dict[str, int | None]:
    """A first choice per kind: the patient's GP for the GP, a care-team member of that kind,
    else the directory's first; the user can change each."""
    chosen: dict[str, int | None] = {}
    for kind, providers in choices.items():
        ids = [p.id for p in providers]
        if kind == "gp" and patient.gp_id in ids:
            chosen[kind] = patient.gp_id
        else:
            chosen[kind] = next((i for i in ids if i in plan_team), ids[0] if ids else None)
    return chosen


def with_providers(proposals: list[Proposal], chosen: dict[str, int | None]) -> list[Proposal]:
    return [p if p.provider_id else replace(p, provider_id=chosen.get(p.provider_kind))
            for p in proposals]


def as_rows(patient: Patient, proposals: list[Proposal]) -> list[dict]:
    """The proposals as the booking service's rows."""
    return [{"patient_id": patient.id, "provider_id": p.provider_id, "kind": p.kind,
             "starts_at": p.starts_at, "duration_minutes": p.duration_minutes,
             "action_id": p.action_id, "notes": p.label} for p in proposals]
