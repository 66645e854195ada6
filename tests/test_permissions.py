"""The rules of coordinator/permissions.py, each for whom it allows and whom it refuses.

Every SQL scope is checked against its predicate on the same rows: a list never shows a record
its page would hide, nor hides one it would show."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from flask import Flask
from flask.views import MethodView, View
from flask_login import AnonymousUserMixin, login_user
from sqlalchemy import select
from werkzeug.exceptions import Forbidden

from coordinator import permissions as p
from coordinator.auth.roles import Role
from coordinator.careplans.models import CarePlan
from coordinator.core.context import Actor
from coordinator.extensions import db
from coordinator.patients.models import Patient
from coordinator.providers.models import Provider
from coordinator.scheduling.models import Appointment
from tests.factories import make_care_plan, make_patient, make_provider, territory


@pytest.fixture
def mine(case_manager):
    return make_patient(case_manager_id=case_manager.id)


@pytest.fixture
def colleague_patient(make_user):
    colleague = make_user(role="case_manager", territory_code="DOUAISIS")
    return make_patient(case_manager_id=colleague.id)


@pytest.fixture
def elsewhere():
    return make_patient(territory_code="CORNOUAILLE")


def listed(condition, model=Patient) -> set[int]:
    return set(db.session.scalars(select(model.id).where(condition)))


def appointment_of(patient) -> Appointment:
    provider = make_provider(kind="nurse")
    appointment = Appointment(patient_id=patient.id, provider_id=provider.id,
                              starts_at=p_time(), ends_at=p_time(30), created_by="test")
    db.session.add(appointment)
    db.session.commit()
    return appointment


def p_time(minutes: int = 0):
    from datetime import UTC, datetime, timedelta

    return datetime(2026, 6, 1, 8, tzinfo=UTC) + timedelta(minutes=minutes)


# -- Policies of routes ------------------------------------------------------------------------

def test_a_role_policy_permits_its_roles_only(admin, case_manager, council):
    policy = p.roles(Role.COUNCIL, Role.ADMIN)
    assert policy.permits(admin) and policy.permits(council)
    assert not policy.permits(case_manager)
    assert not policy.permits(AnonymousUserMixin())
    # Policies compare by name: the same roles make the same policy, in any order.
    assert policy == p.roles(Role.ADMIN, Role.COUNCIL) and policy.name == "role:admin,council"
    assert p.roles(Role.ADMIN) != policy


def test_a_guarded_view_answers_its_policy(app, admin, case_manager):
    view = p.require(p.ADMIN)(lambda: "shown")
    assert p.policy_of(view) is p.ADMIN
    with app.test_request_context("/"):
        assert view().status_code == 302  # anonymous: to the sign-in page
        login_user(case_manager)
        with pytest.raises(Forbidden):
            view()
        login_user(admin)
        assert view() == "shown"


def test_a_third_party_view_gets_its_declared_policy(app, admin, case_manager):
    other = Flask("third_party")
    other.add_url_rule("/spec", "spec", lambda: "spec")
    p.declare(other, "spec", p.ADMIN)
    view = other.view_functions["spec"]
    assert p.policy_of(view) is p.ADMIN
    with app.test_request_context("/"):
        login_user(case_manager)
        with pytest.raises(Forbidden):
            view()
        login_user(admin)
        assert view() == "spec"


def test_a_class_view_has_a_policy_only_when_every_method_declares_one():
    class Undeclared(MethodView):
        def get(self): ...

    class Declared(MethodView):
        get = p.require(p.ADMIN)(lambda self: None)
        post = p.require(p.ADMIN)(lambda self: None)

    class PerMethod(MethodView):
        get = p.require(p.PATIENT_STAFF)(lambda self: None)
        post = p.require(p.ADMIN)(lambda self: None)

    class HalfDeclared(MethodView):
        get = p.require(p.ADMIN)(lambda self: None)

        def post(self): ...

    class Dispatching(View):
        methods = ["GET"]

        def dispatch_request(self): ...

    assert p.policy_of(lambda: None) is None
    assert p.policy_of(Undeclared.as_view("undeclared")) is None
    assert p.policy_of(Declared.as_view("declared")) is p.ADMIN
    assert p.policy_of(PerMethod.as_view("per_method")).name == "per-method"
    assert p.policy_of(HalfDeclared.as_view("half")) is None
    assert p.policy_of(Dispatching.as_view("dispatching")) is None


def test_templates_ask_policies_for_the_signed_in_user_or_a_given_one(app, admin,
                                                                       case_manager):
    assert p.can(p.ADMIN, admin)
    assert not p.can(p.ADMIN, case_manager)
    with app.test_request_context("/"):
        assert not p.can(p.ADMIN)
        login_user(admin)
        assert p.can(p.ADMIN)
        assert not p.can(p.ADMIN, case_manager)
        login_user(case_manager)
        assert not p.can(p.ADMIN)
        assert p.can(p.ADMIN, admin)


# -- Patients --------------------------------------------------------------------------------

def test_a_case_manager_opens_the_patients_of_their_territory_only(case_manager, mine,
                                                                   colleague_patient,
                                                                   elsewhere):
    assert p.can_view_patient(case_manager, mine)
    assert p.can_view_patient(case_manager, colleague_patient)
    assert not p.can_view_patient(case_manager, elsewhere)
    assert listed(p.patient_scope(case_manager)) >= {mine.id, colleague_patient.id}
    assert elsewhere.id not in listed(p.patient_scope(case_manager))


def test_administrators_open_every_patient_but_a_merged_away_record(admin, mine, elsewhere):
    merged = make_patient(merged_into_id=mine.id)
    assert p.can_view_patient(admin, elsewhere)
    assert not p.can_view_patient(admin, merged)
    assert {mine.id, elsewhere.id} <= listed(p.patient_scope(admin))
    assert merged.id not in listed(p.patient_scope(admin))


def test_gps_councils_and_anonymous_open_no_record(make_user, council, mine):
    gp = make_user(role="gp", territory_code=None)
    for user in (gp, council, AnonymousUserMixin()):
        assert not p.can_view_patient(user, mine)
    for user in (gp, council):
        assert listed(p.patient_scope(user)) == set()


def test_the_caseload_is_the_patients_one_manages_in_ones_territory(case_manager, mine,
                                                                    colleague_patient):
    moved = make_patient(territory_code="CORNOUAILLE", case_manager_id=case_manager.id)
    caseload = listed(p.caseload_scope(case_manager))
    assert mine.id in caseload
    assert colleague_patient.id not in caseload
    assert moved.id not in caseload


# -- Care plans ------------------------------------------------------------------------------

def test_plan_history_is_for_staff_who_read_the_plan(case_manager, admin, other_case_manager,
                                                     make_user):
    gp_record = make_provider(kind="gp")
    patient = make_patient(gp_id=gp_record.id, consent_share=True)
    plan = make_care_plan(patient, status="active")
    gp = make_user(role="gp", provider_id=gp_record.id, territory_code=None)
    assert p.can_read_plan(gp, plan)
    assert not p.can_read_plan_history(gp, plan)
    assert p.can_read_plan_history(case_manager, plan)
    assert p.can_read_plan_history(admin, plan)
    assert not p.can_read_plan_history(other_case_manager, plan)
    assert not p.can_read_plan_history(case_manager, None)


def test_a_shared_plan_is_read_through_ones_own_provider_record_only(make_user):
    """A GP account linked to no provider record is nobody's GP (not the GP of the patients
    without one), and a role other than GP or professional reads no shared plan even when its
    account names a provider of the care team."""
    nurse = make_provider(kind="nurse")
    no_gp = make_patient(gp_id=None, consent_share=True)
    plan = make_care_plan(no_gp, status="active", team=[{"provider_id": nurse.id}])
    unlinked_gp = make_user(role="gp", provider_id=None, territory_code=None)
    council = make_user(role="council", territory_code="DOUAISIS", provider_id=nurse.id)
    nurse_user = make_user(role="professional", provider_id=nurse.id, territory_code=None)
    assert p.can_read_plan(nurse_user, plan)
    for user in (unlinked_gp, council):
        assert not p.can_read_plan(user, plan), user.role
        query = select(CarePlan.id).join(Patient, Patient.id == CarePlan.patient_id) \
            .where(p.shared_plan_scope(user), CarePlan.id == plan.id)
        assert list(db.session.scalars(query)) == [], user.role


def test_only_a_case_manager_who_opens_the_record_starts_a_plan(case_manager, admin,
                                                                other_case_manager, mine):
    assert p.can_start_plan(case_manager, mine)
    assert not p.can_start_plan(admin, mine)
    assert not p.can_start_plan(other_case_manager, mine)
    assert not p.can_start_plan(case_manager, None)


def test_readable_plan_scope_lists_what_can_read_plan_allows(case_manager, other_case_manager,
                                                              admin, make_user, elsewhere):
    gp_record = make_provider(kind="gp")
    shared = make_care_plan(make_patient(gp_id=gp_record.id, consent_share=True),
                            status="active")
    draft = make_care_plan(make_patient(gp_id=gp_record.id, consent_share=True))
    other = make_care_plan(elsewhere)
    gp = make_user(role="gp", provider_id=gp_record.id, territory_code=None)
    plans = [shared, draft, other]
    for user in (case_manager, other_case_manager, admin, gp):
        query = select(CarePlan.id).join(Patient, Patient.id == CarePlan.patient_id) \
            .where(p.readable_plan_scope(user), CarePlan.id.in_([x.id for x in plans]))
        assert set(db.session.scalars(query)) == \
            {plan.id for plan in plans if p.can_read_plan(user, plan)}, user.role
    assert p.can_read_plans(admin, plans)
    assert not p.can_read_plans(case_manager, plans)


def test_a_print_batch_is_its_owners(case_manager, admin):
    batch = SimpleNamespace(user_id=case_manager.id)
    assert p.can_see_print_batch(case_manager, batch)
    assert not p.can_see_print_batch(admin, batch)
    assert not p.can_see_print_batch(case_manager, None)
    assert p.can_cancel_print_batch(case_manager, batch)
    assert not p.can_cancel_print_batch(admin, batch)


# -- Providers, bookings, outcomes, calendars ------------------------------------------------

def test_case_managers_manage_their_territorys_providers_only(case_manager, admin, council):
    own, other = territory("DOUAISIS").id, territory("CORNOUAILLE").id
    assert p.may_manage_providers_of(case_manager, {own})
    assert not p.may_manage_providers_of(case_manager, {own, other})
    assert p.may_manage_providers_of(admin, {own, other})
    assert p.may_manage_providers_of(Actor.system("cli"), {other})
    assert not p.may_manage_providers_of(council, {own})
    provider_here, provider_there = make_provider(), make_provider(territory_code="CORNOUAILLE")
    assert p.can_edit_provider(case_manager, provider_here)
    assert p.can_edit_provider(case_manager)
    assert not p.can_edit_provider(case_manager, provider_there)
    assert p.can_edit_provider(admin, provider_there)
    assert not p.can_edit_provider(council, provider_here)
    assert not p.can_edit_provider(AnonymousUserMixin(), provider_here)
    assert p.can_open_provider_calendar(case_manager, provider_here)
    assert not p.can_open_provider_calendar(case_manager, provider_there)
    assert not p.can_open_provider_calendar(case_manager, None)


def test_a_series_proposes_the_active_providers_of_the_patients_territory(mine):
    here = make_provider(kind="nurse")
    inactive = make_provider(kind="nurse", is_active=False)
    there = make_provider(kind="nurse", territory_code="CORNOUAILLE")
    found = listed(p.bookable_provider_scope(mine) & Provider.id.in_(
        [here.id, inactive.id, there.id]), Provider)
    assert found == {here.id}


def test_outcomes_are_recorded_by_staff_who_open_the_record(case_manager, other_case_manager,
                                                             admin, council, mine):
    appointment = appointment_of(mine)
    assert p.can_record_outcome(case_manager, appointment)
    assert p.can_record_outcome(admin, appointment)
    assert not p.can_record_outcome(other_case_manager, appointment)
    assert not p.can_record_outcome(council, appointment)
    assert not p.can_record_outcome(case_manager, None)


def test_a_days_list_records_the_outcomes_of_ones_own_caseload(case_manager, mine,
                                                                colleague_patient):
    own, colleagues = appointment_of(mine), appointment_of(colleague_patient)
    assert p.in_caseload(case_manager, mine)
    assert not p.in_caseload(case_manager, colleague_patient)
    assert p.can_record_outcomes_in_bulk(case_manager, own)
    assert p.can_record_outcome(case_manager, colleagues)
    assert not p.can_record_outcomes_in_bulk(case_manager, colleagues)
    assert not p.can_record_outcomes_in_bulk(case_manager, None)


def test_calendars_name_only_the_patients_one_may_open(case_manager, mine, elsewhere):
    assert p.can_open_patient_calendar(case_manager, mine)
    assert not p.can_open_patient_calendar(case_manager, elsewhere)
    assert p.shows_appointment_patient(case_manager, appointment_of(mine))
    assert not p.shows_appointment_patient(case_manager, appointment_of(elsewhere))
    douaisis = territory("DOUAISIS").id
    assert p.feed_names_patient(douaisis, mine)
    assert not p.feed_names_patient(douaisis, elsewhere)


# -- Imports ---------------------------------------------------------------------------------

def test_import_scope_and_reports(case_manager, admin, make_user):
    from coordinator.imports.models import ImportReport

    assert p.import_territory(admin) is None
    assert p.import_territory(case_manager) == case_manager.territory_id
    assert p.import_territory(SimpleNamespace(role="case_manager", territory_id=None)) == 0
    own = SimpleNamespace(user_id=case_manager.id)
    theirs = SimpleNamespace(user_id=admin.id)
    assert p.can_read_import_report(case_manager, own)
    assert not p.can_read_import_report(case_manager, theirs)
    assert p.can_read_import_report(admin, own)
    assert not p.can_read_import_report(make_user(role="gp", territory_code=None), own)
    assert not p.can_read_import_report(case_manager, None)
    assert p.can_cancel_import(case_manager, own) and p.can_cancel_import(admin, own)
    assert not p.can_cancel_import(case_manager, theirs)
    rows = []
    for owner in (case_manager, admin):
        report = ImportReport(user_id=owner.id, kind="patients", file_name="x.csv",
                              actor_label=owner.email, status="succeeded")
        db.session.add(report)
        rows.append(report)
    db.session.flush()
    ids = [r.id for r in rows]
    scope = lambda user: listed(  # noqa: E731
        p.import_report_scope(user, ImportReport.user_id) & ImportReport.id.in_(ids),
        ImportReport)
    assert scope(admin) == set(ids)
    assert scope(case_manager) == {rows[0].id}
    assert scope(make_user(role="council", territory_code="DOUAISIS")) == set()


def test_staff_are_case_managers_and_administrators(case_manager, admin, council):
    assert p.is_staff(case_manager) and p.is_staff(admin)
    assert not p.is_staff(council)
    assert not p.is_staff(AnonymousUserMixin())
