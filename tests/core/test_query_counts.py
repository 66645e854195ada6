"""Bounded queries: every list page and API list runs as many SQL statements for 50 rows as for
5 (eager loading, one query per kind of row, counts in SQL, no lazy load in a template).

Each case builds 5 rows of what its page lists (with the relations the page shows), requests
the page once to warm up, counts the statements of a second request, builds 45 rows more and
counts again. The counts must be equal; the report of both requests is shown when they are not.
See tests/querycount.py for what is counted.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from coordinator.audit.models import AuditEntry
from coordinator.auth import services as auth_services
from coordinator.auth.models import User
from coordinator.careplans.models import (
    CarePlan,
    CarePlanAction,
    CarePlanComment,
    CarePlanGoal,
    CarePlanMember,
    CarePlanRevision,
)
from coordinator.core.context import Actor
from coordinator.core.time import as_utc, local_today, utcnow
from coordinator.extensions import db
from coordinator.imports.models import ImportReport
from coordinator.jobs.models import JobRun
from coordinator.outbox.models import OutboxMessage
from coordinator.patients.models import ConsentEvent
from coordinator.providers.models import Provider
from coordinator.scheduling import feeds
from coordinator.scheduling.models import Appointment, FollowUpRound
from coordinator.stays.models import Stay
from coordinator.strata.models import (
    FollowUpTemplateItem,
    Program,
    ProgramIndicator,
    Stratum,
    StratumAssignment,
)
from coordinator.tasks import protocol
from coordinator.tasks import services as task_services
from coordinator.tasks.models import Contact
from tests import factories

SMALL, LARGE = 5, 50
_serial = itertools.count(1)
TODAY = local_today()
# A fixed Wednesday far from the clock changes: day lists and calendars look at it.
DAY = date(2031, 3, 12)
STRATA = ("HF-1", "DIAB-2", "COPD-3")


@dataclass
class World:
    """What a case built, by id (the counted requests start from an empty session)."""

    user_id: int
    ids: dict = field(default_factory=dict)
    rows: int = 0

    @property
    def user(self) -> User:
        return db.session.get(User, self.user_id)


@dataclass(frozen=True)
class Case:
    name: str
    role: str
    add: Callable[[World, int], None]  # add `count` rows more
    url: str | Callable[[World], str]
    setup: Callable[[World], None] | None = None
    api: bool = False


# -- Builders ------------------------------------------------------------------------------------

def _tag() -> int:
    return next(_serial)


def _patient(**overrides):
    overrides.setdefault("birth_name", f"Querycount{_tag()}")
    return factories.make_patient(**overrides)


def _assign(patient_id: int, stratum_code: str, effective: date, end: date | None = None):
    stratum = factories.stratum(stratum_code)
    db.session.add(StratumAssignment(patient_id=patient_id, program_id=stratum.program_id,
                                     stratum_id=stratum.id, effective_date=effective,
                                     end_date=end, author_label="test"))


def _appointment(patient_id: int, provider_id: int, starts_at: datetime,
                 status: str = "scheduled", **overrides) -> Appointment:
    appointment = Appointment(patient_id=patient_id, provider_id=provider_id,
                              kind="consultation", starts_at=starts_at, duration_minutes=30,
                              ends_at=starts_at + timedelta(minutes=30), status=status,
                              created_by="test", **overrides)
    db.session.add(appointment)
    return appointment


def _on(day: date, hour: int, minute: int = 0) -> datetime:
    return as_utc(datetime.combine(day, time(hour, minute)))


def _provider(world: World, key: str = "provider", kind: str = "nurse") -> int:
    if key not in world.ids:
        world.ids[key] = factories.make_provider(kind).id
    return world.ids[key]


def _stay(patient_id: int, admitted: datetime, discharged: datetime | None = None,
          lace: int | None = None, **extra) -> Stay:
    """A hospital stay, announced to the transition-of-care protocol as the stays' service
    does (its tasks made)."""
    stay = Stay(patient_id=patient_id, facility_name="CH de Douai", admitted_at=admitted,
                admission_mode="emergency", discharged_at=discharged,
                discharge_destination="home" if discharged else None, lace_score=lace,
                created_by="test", **extra)
    db.session.add(stay)
    db.session.flush()
    protocol.on_stay_changed(db.session, stay, "discharged" if discharged else "admitted")
    return stay


def add_caseload(world: World, count: int) -> None:
    """The case manager's worklist: patients of the caseload whose stratum went up, each with
    an active plan past its review, a no-show, an appointment without its outcome and overdue
    tasks of a discharge ten days ago; a patient discharged yesterday (without a follow-up:
    an alert, and open tasks); a patient readmitted today (two alerts); and as many patients
    of the territory without a stratum."""
    nurse = _provider(world)
    now = utcnow()
    for _i in range(count):
        patient = _patient(case_manager_id=world.user_id)
        _assign(patient.id, "HF-1", TODAY - timedelta(days=100), TODAY - timedelta(days=11))
        _assign(patient.id, "HF-2", TODAY - timedelta(days=10))
        plan = factories.make_care_plan(patient, status="active")
        plan.review_date = TODAY - timedelta(days=30)  # past its review since
        _appointment(patient.id, nurse, utcnow() - timedelta(days=3), "no_show")
        _appointment(patient.id, nurse, utcnow() - timedelta(days=2))
        _stay(patient.id, now - timedelta(days=14), now - timedelta(days=10), lace=11)
        discharged = _patient(case_manager_id=world.user_id)
        _stay(discharged.id, now - timedelta(days=5), now - timedelta(days=1), lace=6)
        readmitted = _patient(case_manager_id=world.user_id)
        index = _stay(readmitted.id, now - timedelta(days=25), now - timedelta(days=20))
        _stay(readmitted.id, now - timedelta(hours=2), readmission_of_id=index.id)
        _patient()
    db.session.commit()


def add_tasks(world: World, count: int) -> None:
    """Tasks of the case manager (two per discharge), one of each pair done by a contact."""
    now = utcnow()
    for _i in range(count):
        patient = _patient(case_manager_id=world.user_id)
        _stay(patient.id, now - timedelta(days=8), now - timedelta(days=4), lace=12)
        db.session.add(Contact(patient_id=patient.id, user_id=world.user_id,
                               occurred_at=now - timedelta(days=3), channel="phone",
                               outcome="no_answer"))
        db.session.flush()
        task_services.resolve_open_tasks(db.session, Actor.system("test"), [patient.id])
    db.session.commit()


def add_shared_plans(world: World, count: int) -> None:
    """Active plans shared with the GP (their patients, who consented)."""
    coordinator = factories.make_user(role="case_manager")
    for _i in range(count):
        patient = _patient(gp_id=world.ids["provider"], consent_share=True)
        factories.make_care_plan(patient, status="active", coordinator_id=coordinator.id)


def add_team_plans(world: World, count: int) -> None:
    """Active plans whose care team includes the professional."""
    for _i in range(count):
        patient = _patient(consent_share=True)
        factories.make_care_plan(patient, status="active",
                                 team=[{"provider_id": world.ids["provider"], "role": "IDE"}])


def add_programs(world: World, count: int) -> None:
    """Programs with two strata (each with a follow-up item) and an indicator."""
    for _i in range(count):
        tag = _tag()
        program = Program(code=f"QC{tag}", name=f"Programme {tag}", name_en=f"Program {tag}")
        for level in (1, 2):
            stratum = Stratum(code=f"QC{tag}-{level}", level=level, name=f"Niveau {level}",
                              requires_care_plan=level == 2)
            stratum.followup_items.append(FollowUpTemplateItem(
                provider_kind="nurse", label="Visite", interval_days=30, occurrences=2))
            program.strata.append(stratum)
        program.indicators.append(ProgramIndicator(code="followed", label="Suivis",
                                                   target_percent=80))
        db.session.add(program)
    db.session.commit()


def add_strata(world: World, count: int) -> None:
    """Strata of one program (its detail page), with follow-up items, and indicators."""
    if "program" not in world.ids:
        program = Program(code=f"QC{_tag()}", name="Programme", name_en="Program")
        db.session.add(program)
        db.session.commit()
        world.ids["program"] = program.id
    program = db.session.get(Program, world.ids["program"])
    for _i in range(count):
        world.rows += 1
        stratum = Stratum(program_id=program.id, code=f"{program.code}-{world.rows}",
                          level=world.rows, name=f"Niveau {world.rows}")
        stratum.followup_items.append(FollowUpTemplateItem(
            provider_kind="nurse", label="Visite", interval_days=30, occurrences=2))
        db.session.add(stratum)
        db.session.add(ProgramIndicator(program_id=program.id, code=f"i{world.rows}",
                                        label="Indicateur", target_percent=50))
    db.session.commit()


def add_search_patients(world: World, count: int) -> None:
    """Patients named Querycount…, each with a GP and a case manager of their own territory,
    across two territories (the administrator sees both)."""
    for index in range(count):
        territory = "DOUAISIS" if index % 2 == 0 or world.user.role != "admin" else "CORNOUAILLE"
        manager = factories.make_user(role="case_manager", territory_code=territory)
        gp = factories.make_provider("gp", territory_code=territory)
        _patient(territory_code=territory, case_manager_id=manager.id, gp_id=gp.id)


def add_patient_history(world: World, count: int) -> None:
    """One patient's record: consent events, closed plans, timeline rows in programs."""
    if "patient" not in world.ids:
        world.ids["patient"] = _patient(case_manager_id=world.user_id).id
    patient_id = world.ids["patient"]
    for _i in range(count):
        world.rows += 1
        day = TODAY - timedelta(days=1000 - world.rows)
        db.session.add(ConsentEvent(patient_id=patient_id, consent_share=world.rows % 2 == 0,
                                    effective_date=day, actor_label="test"))
        _assign(patient_id, STRATA[world.rows % len(STRATA)], day)
        db.session.add(CarePlan(patient_id=patient_id, plan_number=world.rows, status="closed",
                                plan_date=day, closed_on=day, close_reason="test"))
        db.session.add(Contact(patient_id=patient_id, user_id=world.user_id,
                               occurred_at=utcnow() - timedelta(days=world.rows),
                               channel="phone", outcome="reached"))
        moment = utcnow() - timedelta(days=2 * world.rows)
        _stay(patient_id, moment - timedelta(hours=20), moment - timedelta(hours=2), lace=9)
    db.session.commit()


def add_plan_content(world: World, count: int) -> None:
    """One plan's goals (an action each, at its own provider), team members and comments."""
    if "plan" not in world.ids:
        patient = _patient(case_manager_id=world.user_id, consent_share=True)
        world.ids["plan"] = factories.make_care_plan(patient, goals=[]).id
    plan_id = world.ids["plan"]
    for _i in range(count):
        world.rows += 1
        goal = CarePlanGoal(plan_id=plan_id, position=world.rows, domain="health",
                            description=f"Objectif {world.rows}")
        goal.actions.append(CarePlanAction(description="Action",
                                           provider_id=factories.make_provider("nurse").id))
        db.session.add(goal)
        if world.rows <= 30:  # a care team stays under its limit (careplans/limits.py)
            db.session.add(CarePlanMember(plan_id=plan_id, position=world.rows, role="IDE",
                                          provider_id=factories.make_provider("nurse").id))
        db.session.add(CarePlanComment(plan_id=plan_id, author_label="test", body="Vu"))
    db.session.commit()


def add_providers(world: World, count: int) -> None:
    for index in range(count):
        factories.make_provider("nurse" if index % 2 else "gp",
                                territory_code="DOUAISIS" if index % 3 else "CORNOUAILLE",
                                name=f"Querycount {_tag()}")


def add_territory_plans(world: World, count: int) -> None:
    """Plans of the territory's patients, coordinated by several case managers."""
    for _i in range(count):
        coordinator = factories.make_user(role="case_manager")
        patient = _patient(case_manager_id=coordinator.id)
        factories.make_care_plan(patient, status="active", coordinator_id=coordinator.id,
                                 goals=[{"description": "Objectif", "domain": "health",
                                         "actions": [{"description": "Action",
                                                      "responsible": "provider",
                                                      "provider_id": _provider(world)}]}])


def add_revisions(world: World, count: int) -> None:
    """Revisions of one plan (its history page and the API's revisions)."""
    if "plan" not in world.ids:
        plan = factories.make_care_plan(_patient(case_manager_id=world.user_id))
        world.ids["plan"] = plan.id
    plan = db.session.get(CarePlan, world.ids["plan"])
    snapshot = db.session.scalar(select(CarePlanRevision.snapshot)
                                 .where(CarePlanRevision.plan_id == plan.id)
                                 .order_by(CarePlanRevision.number.desc()).limit(1))
    for _i in range(count):
        plan.version += 1
        db.session.flush()
        author = factories.make_user(role="case_manager")
        db.session.add(CarePlanRevision(plan_id=plan.id, number=plan.version, event="edited",
                                        author_user_id=author.id, author_label=author.email,
                                        changed=["priorities"], snapshot=snapshot))
        db.session.commit()


def add_import_reports(world: World, count: int) -> None:
    for _i in range(count):
        db.session.add(ImportReport(kind="patients", file_name=f"file{_tag()}.csv",
                                    user_id=world.user_id, actor_label="test",
                                    status="succeeded", rows_read=10))
    db.session.commit()


def add_audit_entries(world: World, count: int) -> None:
    for _i in range(count):
        db.session.add(AuditEntry(actor_user_id=world.user_id, actor_label="test",
                                  action="read", entity_type="patient", entity_id=str(_tag()),
                                  patient_id=None, summary="querycount"))
    db.session.commit()


def add_job_runs(world: World, count: int) -> None:
    for _i in range(count):
        db.session.add(JobRun(name="outcome_missing", slot=f"manual-{_tag()}",
                              trigger="manual", host="test", status="succeeded",
                              counts={"flagged": 1}, duration_ms=3))
    db.session.commit()


def add_outbox(world: World, count: int) -> None:
    for _i in range(count):
        patient = _patient()
        db.session.add(OutboxMessage(key=f"querycount-{_tag()}", kind="reminder",
                                     recipient="someone@example.test", patient_id=patient.id,
                                     subject="Rappel", body="Rendez-vous demain"))
    db.session.commit()


def add_users(world: World, count: int) -> None:
    for index in range(count):
        factories.make_user(role="case_manager",
                            territory_code="DOUAISIS" if index % 2 else "CORNOUAILLE")


def add_no_shows(world: World, count: int) -> None:
    """No-shows of the caseload (some patients with a streak) and appointments without their
    outcome, at several providers."""
    for _i in range(count):
        patient = _patient(case_manager_id=world.user_id, phone="0600000000")
        provider = factories.make_provider("nurse").id
        _appointment(patient.id, provider, utcnow() - timedelta(days=20), "no_show")
        _appointment(patient.id, provider, utcnow() - timedelta(days=10), "no_show")
        _appointment(patient.id, provider, utcnow() - timedelta(days=1),
                     outcome_missing_since=utcnow())
    db.session.commit()


def add_day(world: World, count: int) -> None:
    """Appointments of the caseload on DAY, at several providers."""
    for index in range(count):
        patient = _patient(case_manager_id=world.user_id)
        provider = factories.make_provider("nurse").id
        _appointment(patient.id, provider, _on(DAY, 8 + index % 10, index % 60))
    db.session.commit()


def _one_patient(world: World) -> int:
    if "patient" not in world.ids:
        world.ids["patient"] = _patient(case_manager_id=world.user_id).id
    return world.ids["patient"]


def add_patient_appointments(world: World, count: int) -> None:
    """One patient's appointments at several providers, in rounds."""
    patient_id = _one_patient(world)
    for index in range(count):
        provider = factories.make_provider("nurse").id
        followup = FollowUpRound(patient_id=patient_id, label=f"Round {index}",
                                 created_by="test")
        db.session.add(followup)
        db.session.flush()
        _appointment(patient_id, provider, utcnow() + timedelta(days=1 + world.rows),
                     round_id=followup.id)
        world.rows += 1
    db.session.commit()


def add_round(world: World, count: int) -> None:
    """The appointments of one follow-up round, at several providers."""
    patient_id = _one_patient(world)
    if "round" not in world.ids:
        followup = FollowUpRound(patient_id=patient_id, label="Round", created_by="test")
        db.session.add(followup)
        db.session.commit()
        world.ids["round"] = followup.id
    for _i in range(count):
        provider = factories.make_provider("nurse").id
        world.rows += 1
        _appointment(patient_id, provider, utcnow() + timedelta(days=world.rows),
                     round_id=world.ids["round"])
    db.session.commit()


def add_provider_calendar(world: World, count: int) -> None:
    """The provider's appointments in DAY's week (and month): patients of the territory and,
    one in three, of another territory (shown as busy)."""
    provider = _provider(world)
    for index in range(count):
        territory = "CORNOUAILLE" if index % 3 == 0 else "DOUAISIS"
        patient = _patient(territory_code=territory)
        _appointment(patient.id, provider, _on(DAY + timedelta(days=index % 5), 8 + index % 10,
                                               index % 60))
    db.session.commit()


def add_patient_calendar(world: World, count: int) -> None:
    """One patient's appointments in DAY's week, at several providers."""
    patient_id = _one_patient(world)
    for index in range(count):
        provider = factories.make_provider("nurse").id
        _appointment(patient_id, provider, _on(DAY + timedelta(days=index % 5),
                                               8 + index % 10, index % 60))
    db.session.commit()


def add_caseload_calendar(world: World, count: int) -> None:
    """Appointments of the caseload's patients in DAY's week, at several providers."""
    for index in range(count):
        patient = _patient(case_manager_id=world.user_id)
        provider = factories.make_provider("nurse").id
        _appointment(patient.id, provider, _on(DAY + timedelta(days=index % 5),
                                               8 + index % 10, index % 60))
    db.session.commit()


def add_enrollments(world: World, count: int) -> None:
    """Timeline rows of the territory's patients, in several programs and strata."""
    for index in range(count):
        patient = _patient()
        _assign(patient.id, STRATA[index % len(STRATA)], TODAY - timedelta(days=10))
    db.session.commit()


def add_api_appointments(world: World, count: int) -> None:
    """Appointments of the territory's patients, at several providers."""
    for index in range(count):
        patient = _patient()
        provider = factories.make_provider("nurse").id
        _appointment(patient.id, provider, utcnow() + timedelta(days=1 + index))
    db.session.commit()


# -- Set-ups ---------------------------------------------------------------------------------

def gp_provider(world: World) -> None:
    world.ids["provider"] = db.session.get(User, world.user_id).provider_id


def provider_feed(world: World) -> None:
    provider = db.session.get(Provider, _provider(world))
    _feed, token = feeds.create_feed(db.session, Actor.system("test"), provider=provider)
    db.session.commit()
    world.ids["feed_token"] = token


# -- The cases ---------------------------------------------------------------------------------

def add_hl7_messages(world: World, count: int) -> None:
    """Messages waiting for reconciliation in the user's territory (as the listener keeps
    them)."""
    from coordinator.hl7.models import Hl7Message

    territory_id = world.user.territory_id
    for _i in range(count):
        tag = _tag()
        db.session.add(Hl7Message(
            control_id=f"QC{tag}", sending_application="SIH", sending_facility="CH",
            message_type="ADT^A01", trigger_event="A01", received_by="mllp", channel="mllp",
            raw="MSH|^~\\&|SIH|CH", status="pending", ack_code="AA", ack="MSA|AA",
            territory_id=territory_id, reconciliation_reason="no_match",
            patient_name=f"NAME{tag} MARIE", patient_identifiers=f"PI {tag}",
            visit_number=f"V{tag}"))
    db.session.commit()


def _ids(key: str, template: str) -> Callable[[World], str]:
    return lambda world: template.format(world.ids[key])


CASES = [
    # Home pages of each role
    Case("home: case manager's worklist", "case_manager", add_caseload, "/"),
    Case("home: GP's shared plans", "gp", add_shared_plans, "/", setup=gp_provider),
    Case("home: professional's shared plans", "professional", add_team_plans, "/",
         setup=gp_provider),
    Case("home: council (programs)", "council", add_programs, "/"),
    Case("home: administrator (programs, users)", "admin", add_programs, "/"),
    # Registry
    Case("patient search (case manager)", "case_manager", add_search_patients,
         "/patients/?name=querycount"),
    Case("patient search (administrator)", "admin", add_search_patients,
         "/patients/?name=querycount"),
    Case("patient page (consents, timelines)", "case_manager", add_patient_history,
         _ids("patient", "/patients/{}")),
    Case("provider directory", "admin", add_providers, "/providers/?text=querycount"),
    Case("provider search box (every territory)", "admin", add_providers,
         "/providers/search?q=querycount"),
    Case("programs", "council", add_programs, "/programs/"),
    Case("program detail (strata, templates, indicators)", "council", add_strata,
         lambda world: "/programs/" + db.session.get(Program, world.ids["program"]).code),
    Case("program indicators", "admin", add_strata,
         lambda world: f"/programs/{db.session.get(Program, world.ids['program']).code}"
                       "/indicators"),
    # Care plans
    Case("care plans (case manager)", "case_manager", add_territory_plans, "/careplans/"),
    Case("care plans (administrator)", "admin", add_territory_plans, "/careplans/"),
    Case("care plans (GP)", "gp", add_shared_plans, "/careplans/", setup=gp_provider),
    Case("care plan page (goals, actions, team, comments)", "case_manager", add_plan_content,
         _ids("plan", "/careplans/{}")),
    Case("care plan print preview", "case_manager", add_plan_content,
         _ids("plan", "/careplans/{}/print")),
    Case("care plan form (goals, actions, team)", "case_manager", add_plan_content,
         _ids("plan", "/careplans/{}/edit")),
    Case("care plan history", "case_manager", add_revisions,
         _ids("plan", "/careplans/{}/history")),
    # Administration
    Case("imports", "admin", add_import_reports, "/imports/"),
    Case("audit trail", "admin", add_audit_entries, "/admin/audit/?entity_type=patient"),
    Case("audit export", "admin", add_audit_entries, "/admin/audit/export.csv"),
    Case("jobs", "admin", add_job_runs, "/admin/jobs/"),
    Case("outbox", "admin", add_outbox, "/admin/jobs/outbox"),
    Case("users", "admin", add_users, "/admin/users"),
    Case("HL7 messages to reconcile", "case_manager", add_hl7_messages, "/hl7/?per_page=100"),
    # Scheduling
    Case("no-shows", "case_manager", add_no_shows, "/scheduling/no-shows"),
    Case("day list", "case_manager", add_day, f"/scheduling/day?date={DAY.isoformat()}"),
    Case("a patient's appointments and rounds", "case_manager", add_patient_appointments,
         _ids("patient", "/scheduling/patients/{}")),
    Case("round", "case_manager", add_round, _ids("round", "/scheduling/rounds/{}")),
    Case("provider calendar, week", "case_manager", add_provider_calendar,
         _ids("provider", f"/calendar/provider/{{}}?view=week&date={DAY.isoformat()}")),
    Case("provider calendar, month", "case_manager", add_provider_calendar,
         _ids("provider", f"/calendar/provider/{{}}?view=month&date={DAY.isoformat()}")),
    Case("patient calendar, week", "case_manager", add_patient_calendar,
         _ids("patient", f"/calendar/patient/{{}}?view=week&date={DAY.isoformat()}")),
    Case("patient calendar, month", "case_manager", add_patient_calendar,
         _ids("patient", f"/calendar/patient/{{}}?view=month&date={DAY.isoformat()}")),
    Case("caseload calendar, week", "case_manager", add_caseload_calendar,
         f"/calendar/caseload?view=week&date={DAY.isoformat()}"),
    Case("caseload calendar, month", "case_manager", add_caseload_calendar,
         f"/calendar/caseload?view=month&date={DAY.isoformat()}"),
    Case("provider feed (iCalendar)", "case_manager", add_provider_calendar,
         _ids("feed_token", "/calendar/feed/{}.ics"), setup=provider_feed),
    # API lists
    Case("API patients", "case_manager", add_search_patients,
         "/api/v1/patients?name=querycount", api=True),
    Case("API patients (administrator)", "admin", add_search_patients,
         "/api/v1/patients?name=querycount", api=True),
    Case("API providers", "admin", add_providers, "/api/v1/providers?q=querycount", api=True),
    Case("API programs", "council", add_programs, "/api/v1/programs?per_page=100", api=True),
    Case("API enrollments", "case_manager", add_enrollments, "/api/v1/enrollments", api=True),
    Case("API care plans (case manager)", "case_manager", add_territory_plans,
         "/api/v1/careplans", api=True),
    Case("API care plans (GP)", "gp", add_shared_plans, "/api/v1/careplans", api=True,
         setup=gp_provider),
    Case("API care plan (goals, actions, team, comments)", "case_manager", add_plan_content,
         _ids("plan", "/api/v1/careplans/{}"), api=True),
    Case("API care plan revisions", "case_manager", add_revisions,
         _ids("plan", "/api/v1/careplans/{}/revisions"), api=True),
    Case("API appointments", "case_manager", add_api_appointments, "/api/v1/appointments",
         api=True),
    Case("tasks (case manager)", "case_manager", add_tasks, "/tasks/?status=all"),
    Case("tasks (administrator)", "admin", add_tasks, "/tasks/?status=all"),
    Case("API tasks", "case_manager", add_tasks, "/api/v1/tasks?per_page=500", api=True),
]


def _sign_in(client, world: World, case: Case):
    user = world.user
    if case.api:
        issued = auth_services.issue_token(db.session, user, Actor.system("test"))
        db.session.commit()
        headers = {"Authorization": f"Bearer {issued.secret}"}
        return lambda url: client.get(url, headers=headers)
    response = client.login(user.email)
    assert response.status_code == 302
    return client.get


def _user_for(role: str) -> User:
    if role in ("gp", "professional"):
        provider = factories.make_provider("gp" if role == "gp" else "nurse")
        return factories.make_user(role=role, provider_id=provider.id)
    return factories.make_user(role=role)


def _count(count_queries, get, url: str):
    with count_queries() as log:
        response = get(url)
        body = response.get_data(as_text=True)  # a streamed answer runs its queries here
    assert response.status_code == 200, body[:2000]
    return log, body


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_queries_do_not_grow_with_rows(client, count_queries, case):
    world = World(user_id=_user_for(case.role).id)
    if case.setup:
        case.setup(world)
    case.add(world, SMALL)
    get = _sign_in(client, world, case)
    url = case.url(world) if callable(case.url) else case.url
    get(url)  # warm-up: templates compiled, translations loaded
    small, small_body = _count(count_queries, get, url)
    case.add(world, LARGE - SMALL)
    large, large_body = _count(count_queries, get, url)
    assert len(large_body) > len(small_body), "the rows added are not shown"
    if case.api and "items" in json.loads(large_body):
        assert len(json.loads(large_body)["items"]) >= LARGE
    assert large.count == small.count, (
        f"{small.count} statements for {SMALL} rows, {large.count} for {LARGE}:\n"
        f"--- {SMALL} rows\n{small.report()}\n--- {LARGE} rows\n{large.report()}")
