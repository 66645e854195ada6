"""Who may use what: every rule of access lives in this module, and only here.

Each view declares a policy with `@require(POLICY)`; a test walks the URL map and fails on a view
without one. Record-level rules (`can_view_patient`, `can_read_plan`, `can_record_outcome`...) and
the SQL scopes that select the same records in lists (`patient_scope`, `readable_plan_scope`...)
are used by pages, the API, imports, calendar feeds, printing and templates alike: none of them
decides on its own. A forbidden page answers 403; a record the user may not see answers 404 so
that its existence does not leak (see `abort_if_hidden`).

The module sits above every domain's models, which it reads, and below every service and view,
which ask it (`pyproject.toml`, import-linter contracts): it imports models only.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from functools import wraps
from typing import TYPE_CHECKING, Any, Protocol

from flask import Flask, abort, current_app
from flask_login import current_user
from sqlalchemy import ColumnElement, false, select, true, union
from sqlalchemy.orm import aliased, object_session

from coordinator.auth.roles import Role
from coordinator.careplans.models import CarePlan, CarePlanMember, PlanStatus
from coordinator.hl7.models import Hl7Message
from coordinator.patients.models import Patient
from coordinator.printing.models import PrintKind
from coordinator.providers.models import Provider

if TYPE_CHECKING:
    from coordinator.auth.models import User
    from coordinator.scheduling.models import Appointment
    from coordinator.stays.models import Stay
    from coordinator.tasks.models import Task


class Acting(Protocol):
    """Who acts: a signed-in `User`, or the `core.context.Actor` a service receives (the
    command line and jobs act with no role)."""

    @property
    def role(self) -> str | None: ...

    @property
    def territory_id(self) -> int | None: ...


# -- Policies of routes ------------------------------------------------------------------------

@dataclass(frozen=True)
class Policy:
    """A named rule on the current user. `login=False` marks a public route."""

    name: str
    allows: Callable[[Any], bool] = field(compare=False)
    login: bool = True

    def permits(self, user: Any) -> bool:
        if not self.login:
            return True
        return bool(user and user.is_authenticated and self.allows(user))


def roles(*allowed: Role) -> Policy:
    names = {role.value for role in allowed}
    return Policy("role:" + ",".join(sorted(names)), lambda user: user.role in names)


PUBLIC = Policy("public", lambda user: True, login=False)
# Any signed-in person: an integration account (a hospital system) is not one (see `# --- hl7`).
AUTHENTICATED = Policy("authenticated", lambda user: not is_integration(user))
ADMIN = roles(Role.ADMIN)
CASE_MANAGER = roles(Role.CASE_MANAGER)
PATIENT_STAFF = roles(Role.CASE_MANAGER, Role.ADMIN)  # may list and open patient records
AUDIT_READER = ADMIN
# Programs are common to the territories (the FHF experiment's "same clinical program for
# all"): administrators define them; a council sets its own territory's targets (metrics).
PROGRAM_EDITOR = roles(Role.ADMIN)
IMPORTER = roles(Role.ADMIN, Role.CASE_MANAGER)  # CSV imports (case managers: own territory)
# Care plans: case managers write them; administrators, GPs and care-team professionals read
# (each record then checked by `can_read_plan`); councils read aggregates only.
PLAN_READER = roles(Role.CASE_MANAGER, Role.ADMIN, Role.GP, Role.PROFESSIONAL)
PLAN_EDITOR = CASE_MANAGER
SHARED_PLAN_READER = roles(Role.GP, Role.PROFESSIONAL)
STAFF_ROLES = frozenset({Role.CASE_MANAGER, Role.ADMIN})


def require(policy: Policy) -> Callable:
    """Declare the policy of a view and enforce it: 401/login when anonymous, 403 when refused."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if policy.login and not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
            if not policy.permits(current_user):
                abort(403)
            return view(*args, **kwargs)

        guarded.policy = policy  # type: ignore[attr-defined]
        return guarded

    return decorator


def declare(app: Flask, endpoint: str, policy: Policy) -> None:
    """Attach a policy to a view registered by a third-party extension."""
    app.view_functions[endpoint] = require(policy)(app.view_functions[endpoint])


def policy_of(view: Any) -> Policy | None:
    """The policy a view declared (for function views and MethodViews alike)."""
    policy = getattr(view, "policy", None)
    if policy is not None:
        return policy
    view_class = getattr(view, "view_class", None)
    if view_class is None:
        return None
    methods = [getattr(view_class, m.lower(), None) for m in (view_class.methods or ())]
    policies = {getattr(m, "policy", None) for m in methods if m is not None}
    if not policies or None in policies:
        return None
    return next(iter(policies)) if len(policies) == 1 else Policy("per-method", lambda u: True)


def can(policy: Policy, user: Any = None) -> bool:
    """For templates: may the (current) user use what this policy guards?"""
    return policy.permits(user if user is not None else current_user)


def abort_if_hidden(visible: bool) -> None:
    """A record the user may not see answers 404, never 403: its existence must not leak."""
    if not visible:
        abort(404)


def is_staff(user: User) -> bool:
    """Case managers and administrators: they open patient records (and plans through them)."""
    return bool(user.is_authenticated and user.role in STAFF_ROLES)


# -- Patients: who sees which ----------------------------------------------------------------

def can_view_patient(user: User, patient: Patient | None) -> bool:
    """Administrators see every patient; case managers the patients of their territory.

    GPs and councils do not open registry records (GPs read shared care plans; councils read
    aggregates). A merged-away record is seen through the record it was merged into.
    """
    if not user.is_authenticated or patient is None or patient.merged_into_id is not None:
        return False
    if user.role == Role.ADMIN:
        return True
    return user.role == Role.CASE_MANAGER and patient.territory_id == user.territory_id


def patient_scope(user: User) -> ColumnElement[bool]:
    """The SQL condition selecting the patients `user` may list (the rule of
    `can_view_patient`)."""
    live = Patient.merged_into_id.is_(None)
    if user.role == Role.ADMIN:
        return live & true()
    if user.role == Role.CASE_MANAGER and user.territory_id is not None:
        return live & (Patient.territory_id == user.territory_id)
    return false()


def caseload_rule_of(patient: Any, user_id: int) -> ColumnElement[bool]:
    """`caseload_rule` over an alias of `Patient`, for a user's id, with no subquery on the
    alias itself: the patient's case manager is the user (the coordinated plans are added by
    the caller's UNION)."""
    return patient.case_manager_id == user_id


def caseload_rule(user_id: Any) -> ColumnElement[bool]:
    """THE caseload rule, over `Patient`: the patient's case manager is `user_id`, or
    `user_id` coordinates one of the patient's active care plans. `user_id` is a user's id or
    a column (the job that notifies every case manager at once joins `User` on it)."""
    plan = aliased(CarePlan)  # the query asking may have its own CarePlan
    coordinated = select(plan.patient_id).where(plan.coordinator_id == user_id,
                                                plan.status == PlanStatus.ACTIVE)
    if isinstance(user_id, int):
        # One IN over a UNION, not an OR with a subquery: PostgreSQL makes it a semi-join,
        # where "a OR id IN (...)" is a SubPlan evaluated for each patient.
        managed = aliased(Patient)
        return Patient.id.in_(union(
            select(managed.id).where(managed.case_manager_id == user_id), coordinated))
    return (Patient.case_manager_id == user_id) | \
        coordinated.where(plan.patient_id == Patient.id).exists()


def in_caseload(user: User, patient: Patient | None) -> bool:
    """One patient of the caseload (the rule of `caseload_rule`): their case manager, or the
    coordinator of one of their active plans."""
    if patient is None or not can_view_patient(user, patient):
        return False
    if patient.case_manager_id == user.id:
        return True
    session = object_session(patient)
    return session is not None and session.scalar(
        select(CarePlan.id).where(CarePlan.patient_id == patient.id,
                                  CarePlan.coordinator_id == user.id,
                                  CarePlan.status == PlanStatus.ACTIVE).limit(1)) is not None


def caseload_scope(user: User) -> ColumnElement[bool]:
    """The patients of a case manager's caseload (worklists, caseload calendar, no-shows, day
    list, batch print, alerts, metrics): the patients they may open that `caseload_rule`
    puts in their caseload."""
    return patient_scope(user) & caseload_rule(user.id)


# -- Care plans --------------------------------------------------------------------------------

def can_read_plan(user: User, plan: CarePlan | None) -> bool:
    """Staff read the plans of the patients they may open. A GP reads the active plan of a
    patient whose GP they are now, and a care-team professional the active plans whose care
    team includes them; only while the plan says the patient agreed to share it and the
    patient's consent to share stands."""
    if not user.is_authenticated or plan is None:
        return False
    if user.role in STAFF_ROLES:
        return can_view_patient(user, plan.patient)
    if user.role not in (Role.GP, Role.PROFESSIONAL) or user.provider_id is None:
        return False
    patient = plan.patient
    if plan.status != PlanStatus.ACTIVE or not plan.sharing_agreed or not patient.consent_share or \
            patient.merged_into_id:
        return False
    if user.role == Role.GP:
        return patient.gp_id == user.provider_id
    return any(member.provider_id == user.provider_id for member in plan.team)


def can_read_plans(user: User, plans: Iterable[CarePlan]) -> bool:
    """Every one of these plans (a batch print is downloaded only while all are readable)."""
    return all(can_read_plan(user, plan) for plan in plans)


def can_read_plan_history(user: User, plan: CarePlan | None) -> bool:
    """Revisions and their differences: staff who may read the plan (not the care team)."""
    return is_staff(user) and can_read_plan(user, plan)


def can_edit_plan(user: User, plan: CarePlan | None) -> bool:
    """Case managers change the plans of the patients of their territory."""
    return plan is not None and user.is_authenticated and user.role == Role.CASE_MANAGER and \
        can_view_patient(user, plan.patient)


def can_start_plan(user: User, patient: Patient | None) -> bool:
    """A case manager starts a plan for a patient they may open (the care plan service then
    refuses a deceased patient, or a second draft)."""
    return patient is not None and user.is_authenticated and \
        user.role == Role.CASE_MANAGER and can_view_patient(user, patient)


def can_see_print_batch(user: User, batch: Any) -> bool:
    """A batch print (its progress and its PDF) is its owner's only."""
    return batch is not None and user.is_authenticated and batch.user_id == user.id


def can_cancel_print_batch(user: User, batch: Any) -> bool:
    """Its owner cancels a batch print (no one else sees it)."""
    return can_see_print_batch(user, batch)


def shared_plan_scope(user: User) -> ColumnElement[bool]:
    """The SQL condition selecting the plans a GP or care-team professional may read (the
    rule of `can_read_plan`)."""
    if user.role not in (Role.GP, Role.PROFESSIONAL) or user.provider_id is None:
        return false()
    in_team = CarePlan.id.in_(select(CarePlanMember.plan_id)
                              .where(CarePlanMember.provider_id == user.provider_id))
    mine = (Patient.gp_id == user.provider_id) if user.role == Role.GP else in_team
    return (CarePlan.status == PlanStatus.ACTIVE) & CarePlan.sharing_agreed.is_(True) & \
        Patient.consent_share.is_(True) & Patient.merged_into_id.is_(None) & mine


def readable_plan_scope(user: User) -> ColumnElement[bool]:
    """The SQL condition selecting every plan `user` may read (over CarePlan joined to its
    Patient): `can_read_plan` as a query."""
    return patient_scope(user) if is_staff(user) else shared_plan_scope(user)


# -- Providers and bookings --------------------------------------------------------------------

def may_manage_providers_of(who: Acting, territory_ids: Collection[int | None]) -> bool:
    """Case managers keep the directory of their own territory only; administrators and the
    command line (no role) every territory's."""
    if who.role != Role.CASE_MANAGER:
        return who.role in (None, Role.ADMIN)
    return who.territory_id is not None and set(territory_ids) <= {who.territory_id}


def can_edit_provider(user: User, provider: Provider | None = None) -> bool:
    """Administrators edit every provider, case managers those of their territory (and add
    providers there)."""
    if not user.is_authenticated or user.role not in STAFF_ROLES:
        return False
    return may_manage_providers_of(user, {provider.territory_id} if provider else set())


def can_open_provider_calendar(user: User, provider: Provider | None) -> bool:
    """A provider's calendar (and its feeds): whoever may edit the provider."""
    return provider is not None and can_edit_provider(user, provider)


def can_open_patient_calendar(user: User, patient: Patient | None) -> bool:
    """A patient's calendar (and its feeds): whoever may open the record."""
    return can_view_patient(user, patient)


def shows_appointment_patient(user: User, appointment: Appointment) -> bool:
    """A calendar names the patient of an appointment only to whom may open the record;
    others see a busy slot."""
    return can_view_patient(user, appointment.patient)


def feed_names_patient(feed_territory_id: int | None, patient: Patient) -> bool:
    """A provider's calendar feed is given out by the provider's territory: it names the
    patients of that territory, and shows the others as busy slots."""
    return patient.territory_id == feed_territory_id


def provider_serves(provider: Any, territory_id: int | None) -> bool:
    """The one rule for the providers chosen for a patient, whatever the path (a form, the API,
    an import): the patient's GP, the professionals of their care plan and the providers booked
    for them work in the patient's territory. The forms offer only those; the services refuse
    the others (422 naming the field). A provider already linked before this rule keeps the
    link until someone changes it. `provider`: a Provider, or a row with its `territory_id`."""
    return provider.territory_id == territory_id


def bookable_provider_scope(patient: Patient) -> ColumnElement[bool]:
    """The providers a series for `patient` proposes and accepts: the active providers of the
    patient's territory (`provider_serves`, in SQL)."""
    return Provider.is_active.is_(True) & (Provider.territory_id == patient.territory_id)


def can_record_outcome(user: User, appointment: Appointment | None) -> bool:
    """An appointment's outcome is recorded, on its page, by staff who may open the patient's
    record."""
    return appointment is not None and is_staff(user) and \
        can_view_patient(user, appointment.patient)


def can_record_outcomes_in_bulk(user: User, appointment: Appointment | None) -> bool:
    """A day's list records the outcomes of the case manager's own caseload only."""
    return can_record_outcome(user, appointment) and appointment is not None and \
        in_caseload(user, appointment.patient)


# -- Imports -----------------------------------------------------------------------------------

def import_territory(user: User) -> int | None:
    """The territory whose rows `user` may import: None for every territory (administrators);
    a case manager imports only rows of their own territory (0, none at all, without one)."""
    if user.role == Role.ADMIN:
        return None
    return user.territory_id or 0


def can_read_import_report(user: User, report: Any) -> bool:
    """Administrators read every import report, case managers their own."""
    if report is None or not user.is_authenticated:
        return False
    return user.role == Role.ADMIN or (user.role == Role.CASE_MANAGER
                                       and report.user_id == user.id)


def can_cancel_import(user: User, report: Any) -> bool:
    """Who reads an import's report may cancel the import (its owner, an administrator)."""
    return can_read_import_report(user, report)


def import_report_scope(user: User, owner_column: Any) -> ColumnElement[bool]:
    """The reports `user` may list, given the report's owner column (rule above)."""
    if user.role == Role.ADMIN:
        return true()
    if user.role == Role.CASE_MANAGER:
        return owner_column == user.id
    return false()



# --- stays ---
# Hospital stays and clinical events are patient data: staff who may open the record read and
# change them; a GP reads those of their own patients who consented to share; councils never
# (they read aggregates), nor care-team professionals, nor integration accounts (they only send
# HL7 messages).

STAY_READER = roles(Role.CASE_MANAGER, Role.ADMIN, Role.GP)
STAY_EDITOR = PATIENT_STAFF


def can_read_stays(user: User, patient: Patient | None) -> bool:
    """Who reads a patient's stays and clinical events: staff who may open the record, and the
    patient's GP while the patient's consent to share stands."""
    if not user.is_authenticated or patient is None or patient.merged_into_id is not None:
        return False
    if user.role in STAFF_ROLES:
        return can_view_patient(user, patient)
    return user.role == Role.GP and user.provider_id is not None and \
        patient.gp_id == user.provider_id and bool(patient.consent_share)


def can_edit_stays(user: User, patient: Patient | None) -> bool:
    """Who records and changes a patient's stays and events: staff who may open the record."""
    return is_staff(user) and can_view_patient(user, patient)


def stay_reader_scope(user: User) -> ColumnElement[bool]:
    """The SQL condition (over Patient) selecting the patients whose stays and events `user`
    may list: the rule of `can_read_stays` as a query."""
    if user.role in STAFF_ROLES:
        return patient_scope(user)
    if user.role == Role.GP and user.provider_id is not None:
        return Patient.merged_into_id.is_(None) & (Patient.gp_id == user.provider_id) & \
            Patient.consent_share.is_(True)
    return false()
# --- tasks ---
# Tasks (the transition-of-care protocol), contacts with patients and worklist alerts. Who may
# open a patient's record sees their tasks and contacts: case managers those of their
# territory's patients, administrators all; GPs, care-team professionals, councils and
# integration accounts none (403 on the lists, 404 on a record).

TASK_STAFF = PATIENT_STAFF  # the task pages and /api/v1/tasks
ALERT_HANDLER = CASE_MANAGER  # the worklist's alerts are a case manager's


def can_view_task(user: User, task: Task | None) -> bool:
    """A task is seen by the staff who may open its patient's record."""
    return task is not None and is_staff(user) and can_view_patient(user, task.patient)


def task_scope(user: User) -> ColumnElement[bool]:
    """The tasks `user` may list (over Task joined to its Patient): `can_view_task` as SQL."""
    return patient_scope(user) if user.is_authenticated and user.role in STAFF_ROLES \
        else false()


def can_change_task(user: User, task: Task | None) -> bool:
    """Closing a task by hand (done or no longer needed, with a note): whoever sees it."""
    return can_view_task(user, task)


def can_record_contact(user: User, patient: Patient | None) -> bool:
    """A contact with a patient (a call, a visit...) is recorded by the staff who may open
    the record."""
    return patient is not None and is_staff(user) and can_view_patient(user, patient)


def can_acknowledge_alert(user: User, stay: Stay | None) -> bool:
    """A worklist alert about a stay is acknowledged by a case manager who may open the
    patient's record (the alerts are shown on the caseload's worklist)."""
    return stay is not None and user.is_authenticated and user.role == Role.CASE_MANAGER and \
        can_view_patient(user, stay.patient)


# --- timeline ---
# A patient's timeline (stays, appointments, strata, plan revisions, contacts, tasks on one
# page) is seen by exactly who may open the patient's record: administrators, and the case
# managers of the patient's territory. GPs do not open registry records (they read the shared
# plans), so they do not open the timeline either; councils never (they read aggregates).

TIMELINE_READER = PATIENT_STAFF


def can_view_timeline(user: User, patient: Patient | None) -> bool:
    """The patient's timeline: the rule of the record itself (`can_view_patient`)."""
    return can_view_patient(user, patient)


# --- hl7 ---
# An integration account is a hospital system: it sends HL7 v2 messages (POST /api/v1/hl7v2)
# and nothing else. Every other policy refuses it (AUTHENTICATED above; the role policies do not
# name it), it does not sign in to the pages, and the reconciliation list of the messages whose
# patient matched no record belongs to the territory's case managers (administrators: all).

HL7_SENDER = roles(Role.INTEGRATION)
HL7_RECONCILER = roles(Role.CASE_MANAGER, Role.ADMIN)


def is_integration(user: Any) -> bool:
    """An integration account (a hospital system sending HL7 messages)."""
    return getattr(user, "role", None) == Role.INTEGRATION


def may_sign_in_to_pages(user: User) -> bool:
    """People sign in to the pages; an integration account only sends messages, with its
    bearer token."""
    return not is_integration(user)


def may_send_for(territory_id: int | None, patient: Patient) -> bool:
    """An integration account limited to a territory sends messages about that territory's
    patients only (an unlimited one, or the MLLP listener, about any)."""
    return territory_id is None or patient.territory_id == territory_id


def can_reconcile(user: User, message: Any) -> bool:
    """A message of the reconciliation list: the case managers of its territory, and
    administrators (also those of no known territory)."""
    if message is None or not user.is_authenticated:
        return False
    if user.role == Role.ADMIN:
        return True
    return user.role == Role.CASE_MANAGER and user.territory_id is not None and \
        message.territory_id == user.territory_id


def reconciliation_scope(user: User) -> ColumnElement[bool]:
    """The SQL condition selecting the HL7 messages `user` may list (the rule of
    `can_reconcile`)."""
    if user.role == Role.ADMIN:
        return true()
    if user.role == Role.CASE_MANAGER and user.territory_id is not None:
        return Hl7Message.territory_id == user.territory_id
    return false()


def can_link_message(user: User, message: Any, patient: Patient | None) -> bool:
    """A waiting message is linked to a record by whoever reconciles it and may open that
    record (a case manager: a patient of their territory)."""
    return can_reconcile(user, message) and can_view_patient(user, patient)


# --- metrics ---
# The registry's figures (metrics.md): councils read their territory's with small cells
# withheld; case managers their territory's (and their caseload's), exact; administrators every
# territory's and the whole registry's. Every reader sees the comparison of the territories'
# headline figures (withheld alike for a council): the experiment's shared learning.

METRICS_READER = roles(Role.COUNCIL, Role.CASE_MANAGER, Role.ADMIN)


def metrics_default_territory(user: User) -> int | None:
    """The territory whose figures a reader gets when none is asked: their own; None (every
    territory) for an administrator."""
    return None if user.role == Role.ADMIN else user.territory_id


def can_read_territory_metrics(user: User, territory_id: int | None) -> bool:
    """Whose detailed figures a reader may read: an administrator any territory's and the whole
    registry's (None); a council or a case manager their own territory's only."""
    if not METRICS_READER.permits(user):
        return False
    if user.role == Role.ADMIN:
        return True
    return user.territory_id is not None and territory_id == user.territory_id


def reads_exact_metrics(user: User) -> bool:
    """Case managers and administrators see exact figures; a council's small cells are
    withheld (and anyone else's, should another role ever read them)."""
    return bool(user.is_authenticated and user.role in STAFF_ROLES)


def can_compare_territories(user: User) -> bool:
    """Every metrics reader sees the territories' headline figures side by side."""
    return METRICS_READER.permits(user)


# --- targets ---
# Targets per territory, program and indicator (and the notices of targets not met): a territory's
# council sets its own territory's, administrators any territory's; every metrics reader reads
# those of the territories whose figures they read (case managers: their own). GPs and
# care-team professionals neither (403).

TARGET_READER = METRICS_READER
TARGET_EDITOR = roles(Role.COUNCIL, Role.ADMIN)


def targets_default_territory(user: User) -> int | None:
    """The territory whose targets a reader opens when none is asked: their own (None for an
    administrator, who chooses one)."""
    return metrics_default_territory(user)


def can_read_targets(user: User, territory_id: int | None) -> bool:
    """A territory's targets and their history: whoever reads its figures."""
    return territory_id is not None and can_read_territory_metrics(user, territory_id)


def can_set_targets(user: User, territory_id: int | None) -> bool:
    """A territory's targets are set by its council, or by an administrator (any territory)."""
    if territory_id is None or not TARGET_EDITOR.permits(user):
        return False
    if user.role == Role.ADMIN:
        return True
    return user.territory_id is not None and user.territory_id == territory_id


def target_alert_recipients() -> ColumnElement[bool]:
    """The accounts a notice that a territory's indicator is below its target goes to (over
    User; with `User.territory_id` the territory's): the active council accounts."""
    from coordinator.auth.models import User

    return (User.role == Role.COUNCIL.value) & User.is_active.is_(True) & \
        User.territory_id.is_not(None)


# --- dashboard ---
# The registry dashboard (metrics/views.py) reads the figures by the rules above; a case
# manager may also narrow them to their own caseload (`caseload_scope`), exact as ever.

def can_read_caseload_metrics(user: User) -> bool:
    """A case manager's own caseload's figures: case managers only."""
    return bool(user.is_authenticated and user.role == Role.CASE_MANAGER)


# --- report ---
# The printed council report (metrics/report.py): printed by whoever reads those figures; a
# report rendered in the background is fetched by its owner only, while they may still read
# the figures it holds (their territory's; exact ones only while they read exact figures).

def can_fetch_metrics_report(user: User, batch: Any) -> bool:
    if batch is None or batch.kind != PrintKind.METRICS_REPORT or \
            not can_see_print_batch(user, batch):
        return False
    asked = batch.parameters or {}
    return can_read_territory_metrics(user, asked.get("territory_id")) and \
        (not asked.get("exact") or reads_exact_metrics(user)) and \
        (not asked.get("caseload_of") or can_read_caseload_metrics(user))


# --- rights ---
# Patients' rights (L1111-7, docs/patients-rights.md): the export of everything held about a
# patient, their access log included, is made by the registry's administrators, who answer the
# access requests. Not by the territory's case managers: the access log names every member of
# staff who read the record, and the request is the data controller's to answer, once, traced.

RIGHTS_EXPORTER = ADMIN


def can_export_patient_record(user: User, patient: Patient | None) -> bool:
    """An administrator, for a record they may open (not a record merged into another: its
    data and its access log are exported with the record it was merged into)."""
    return RIGHTS_EXPORTER.permits(user) and can_view_patient(user, patient)


# --- h-admin ---
# Administrators manage the accounts: they create them, change them (role, territory, directory
# record, enabled) and reset their passwords; and they merge two records of the same person,
# found by name or by NIR. Every signed-in person opens their own account page (the directory
# record their account is linked to shows there). The rules that keep the accounts manageable
# (nobody changes their own role nor disables themselves, the last enabled administrator stays
# one) are the account service's (auth/services.py), like every rule of a value.

USER_MANAGER = ADMIN
PATIENT_MERGER = ADMIN
ACCOUNT_HOLDER = AUTHENTICATED


# --- h-provsearch ---
# Whoever reads the directory (every signed-in person but an integration account) searches it
# from a form's provider box (GET /providers/search): directory data only. Which provider a
# form may then save stays the rule of `provider_serves`, checked by the service.

PROVIDER_PICKER = AUTHENTICATED
# --- end h-provsearch ---
