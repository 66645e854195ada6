"""The patient banner (issue #16): on every patient page, who the patient is (names, age and
birth date, sex), their GP, case manager and current strata, and flags (deceased, consent
withdrawn, plan review overdue, recent no-shows), in a number of queries that does not grow
with the patient's rows; a GP reading a shared plan sees the identity part only."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from coordinator.audit.models import AuditEntry
from coordinator.auth.models import User
from coordinator.core.context import Actor
from coordinator.core.time import local_today
from coordinator.extensions import db
from coordinator.patients import services as patient_services
from coordinator.patients.banner import age_on, banner_of
from coordinator.patients.models import Patient
from coordinator.providers.models import Provider
from coordinator.scheduling.models import AppointmentStatus
from tests import factories
from tests.timeline.conftest import appointment, stay, stratum, task

ACTOR = Actor.system("test")


def banner_html(page: str) -> str:
    """The banner's section of a page (the test fails when there is none, or two)."""
    found = re.findall(r'<section class="patient-banner.*?</section>', page, re.S)
    assert len(found) == 1, page
    return found[0]


@pytest.fixture
def gp():
    return factories.make_provider(kind="gp", name="Docteur Martin")


@pytest.fixture
def patient(case_manager, gp):
    return factories.make_patient(birth_name="Lefebvre", used_name="Durand",
                                  first_names="Marie Jeanne", sex="F",
                                  birth_date=date(1950, 6, 15), gp_id=gp.id,
                                  case_manager_id=case_manager.id, consent_share=True,
                                  consent_date=date(2025, 1, 1))


def overdue(plan) -> None:
    """The plan's review date has passed (a fixture: the plan form refuses such a date)."""
    plan.review_date = local_today() - timedelta(days=1)
    db.session.commit()


# -- Age ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("birth", "day", "age"), [
    (date(1950, 6, 15), date(2026, 6, 14), 75),
    (date(1950, 6, 15), date(2026, 6, 15), 76),
    (date(1952, 2, 29), date(2026, 2, 28), 73),  # reached on 1 March in other years
    (date(1952, 2, 29), date(2026, 3, 1), 74),
    (date(2026, 1, 1), date(2026, 12, 31), 0),
])
def test_age_is_counted_in_full_years(birth, day, age):
    assert age_on(birth, day) == age


# -- Contents -------------------------------------------------------------------------------

def test_the_banner_holds_the_identity_the_care_team_and_the_current_strata(
        app, session, patient, case_manager):
    today = local_today()
    stratum(patient, "HF-2", today - timedelta(days=400))
    stratum(patient, "HF-3", today - timedelta(days=30))  # the one in force today
    stratum(patient, "DIAB-1", today - timedelta(days=10))
    stratum(patient, "DIAB-2", today + timedelta(days=10))  # not current yet
    with app.test_request_context():
        banner = banner_of(session, patient, today)
    assert (banner.birth_name, banner.used_name, banner.first_names) == \
        ("Lefebvre", "Durand", "Marie Jeanne")
    assert banner.age == age_on(date(1950, 6, 15), today)
    assert banner.sex == "F" and banner.gp_name == "Docteur Martin"
    assert banner.case_manager_name == case_manager.full_name
    assert [(s.code, s.program) for s in banner.strata] == \
        [("DIAB-1", "Diabète"), ("HF-3", "Insuffisance cardiaque")]
    assert not (banner.deceased or banner.consent_withdrawn or banner.review_overdue
                or banner.recent_no_shows)


def test_the_record_page_shows_the_banner_in_french(client, logged_in, patient, case_manager):
    stratum(patient, "HF-3", local_today() - timedelta(days=30))
    logged_in(case_manager)
    html = banner_html(client.get(f"/patients/{patient.id}").get_data(as_text=True))
    assert 'aria-label="Bandeau patient"' in html
    assert "DURAND Marie Jeanne" in html and "nom de naissance LEFEBVRE" in html
    age = age_on(date(1950, 6, 15), local_today())
    assert f"{age} ans" in html and "15 juin 1950" in html and "Féminin" in html
    assert "Docteur Martin" in html and case_manager.full_name in html
    assert "Insuffisance cardiaque" in html and "HF-3" in html
    assert 'data-testid="banner-flags"' not in html  # no flag holds


def test_a_deceased_patient_is_flagged_with_the_date_and_the_age_at_death(
        client, logged_in, case_manager, patient):
    patient.deceased_date = date(2025, 3, 1)
    db.session.commit()
    logged_in(case_manager)
    html = banner_html(client.get(f"/patients/{patient.id}").get_data(as_text=True))
    assert 'data-testid="flag-deceased"' in html and "Décédé(e) le 1 mars 2025" in html
    assert "74 ans" in html  # at death, not what they would be today


def test_consent_withdrawn_is_flagged_but_never_given_is_not(client, logged_in, case_manager,
                                                               patient):
    never = factories.make_patient(case_manager_id=case_manager.id, consent_share=False)
    logged_in(case_manager)
    assert "flag-consent-withdrawn" not in banner_html(
        client.get(f"/patients/{patient.id}").get_data(as_text=True))  # given
    assert "flag-consent-withdrawn" not in banner_html(
        client.get(f"/patients/{never.id}").get_data(as_text=True))  # never given
    patient_services.record_consent(db.session, ACTOR, patient, False, expressed_as="oral")
    db.session.commit()
    html = banner_html(client.get(f"/patients/{patient.id}").get_data(as_text=True))
    assert 'data-testid="flag-consent-withdrawn"' in html and "Consentement retiré" in html
    patient_services.record_consent(db.session, ACTOR, patient, True)
    db.session.commit()
    assert "flag-consent-withdrawn" not in banner_html(
        client.get(f"/patients/{patient.id}").get_data(as_text=True))  # given again


def test_plan_review_overdue_follows_the_care_plans_rule(client, logged_in, case_manager,
                                                          patient):
    logged_in(case_manager)
    plan = factories.make_care_plan(patient, user=case_manager, status="active")
    assert "flag-review-overdue" not in banner_html(
        client.get(f"/patients/{patient.id}").get_data(as_text=True))  # review to come
    overdue(plan)
    html = banner_html(client.get(f"/patients/{patient.id}").get_data(as_text=True))
    assert 'data-testid="flag-review-overdue"' in html
    assert "Réévaluation du plan en retard" in html
    # the same rule as the worklist's plans due for review: an active plan only
    plan.status = "closed"
    plan.closed_on = local_today()
    db.session.commit()
    assert "flag-review-overdue" not in banner_html(
        client.get(f"/patients/{patient.id}").get_data(as_text=True))


def test_recent_no_shows_are_counted_over_90_days(client, logged_in, case_manager, patient,
                                                   gp):
    today = local_today()
    logged_in(case_manager)
    appointment(patient, gp, today - timedelta(days=120), AppointmentStatus.NO_SHOW)  # too old
    appointment(patient, gp, today - timedelta(days=20), AppointmentStatus.ATTENDED)
    appointment(patient, gp, today - timedelta(days=15), AppointmentStatus.CANCELLED_PATIENT)
    assert "flag-no-shows" not in banner_html(
        client.get(f"/patients/{patient.id}").get_data(as_text=True))
    appointment(patient, gp, today - timedelta(days=89), AppointmentStatus.NO_SHOW)
    html = banner_html(client.get(f"/patients/{patient.id}").get_data(as_text=True))
    assert "1 rendez-vous manqué en 90 jours" in html
    appointment(patient, gp, today - timedelta(days=3), AppointmentStatus.NO_SHOW)
    html = banner_html(client.get(f"/patients/{patient.id}").get_data(as_text=True))
    assert 'data-testid="flag-no-shows"' in html and "2 rendez-vous manqués en 90 jours" in html


def test_the_banner_speaks_english_to_an_english_reader(client, logged_in, case_manager,
                                                        patient, gp):
    appointment(patient, gp, local_today() - timedelta(days=3), AppointmentStatus.NO_SHOW)
    overdue(factories.make_care_plan(patient, user=case_manager, status="active"))
    case_manager.locale = "en"
    db.session.commit()
    logged_in(case_manager)
    html = banner_html(client.get(f"/patients/{patient.id}",
                                  headers={"Accept-Language": "en"}).get_data(as_text=True))
    assert "1 missed appointment in 90 days" in html and "Plan review overdue" in html
    assert 'aria-label="Patient banner"' in html


# -- Every patient page -----------------------------------------------------------------------

def patient_pages(patient, case_manager, gp) -> dict[str, str]:
    today = local_today()
    row = stratum(patient, "HF-3", today - timedelta(days=30))
    plan = factories.make_care_plan(patient, user=case_manager, status="active")
    draft = factories.make_care_plan(factories.make_patient(case_manager_id=case_manager.id),
                                     user=case_manager)
    booked = appointment(patient, gp, today - timedelta(days=3), AppointmentStatus.NO_SHOW)
    recorded = stay(patient, today - timedelta(days=40), today - timedelta(days=35))
    follow_up = task(patient, case_manager, today + timedelta(days=2))
    return {
        "record": f"/patients/{patient.id}",
        "record edit": f"/patients/{patient.id}/edit",
        "consent withdrawal": f"/patients/{patient.id}/consent/withdraw",
        "assignment correction": f"/patients/{patient.id}/strata/{row.id}/correct",
        "plan": f"/careplans/{plan.id}",
        "plan follow-up edit": f"/careplans/{plan.id}/edit",
        "plan history": f"/careplans/{plan.id}/history",
        "draft plan edit": f"/careplans/{draft.id}/edit",
        "appointments": f"/scheduling/patients/{patient.id}",
        "booking": f"/scheduling/patients/{patient.id}/new",
        "series": f"/scheduling/patients/{patient.id}/series",
        "appointment": f"/scheduling/appointments/{booked.id}",
        "calendar": f"/calendar/patient/{patient.id}",
        "timeline": f"/patients/{patient.id}/timeline",
        "new stay": f"/stays/patients/{patient.id}/new",
        "stay edit": f"/stays/{recorded.id}/edit",
        "new event": f"/stays/patients/{patient.id}/events/new",
        "contact": f"/tasks/patients/{patient.id}/contact",
        "task": f"/tasks/{follow_up.id}",
    }


def test_every_patient_page_shows_the_banner_of_its_patient(client, logged_in, case_manager,
                                                             patient, gp):
    pages = patient_pages(patient, case_manager, gp)
    logged_in(case_manager)
    for name, path in pages.items():
        response = client.get(path)
        assert response.status_code == 200, (name, path)
        html = banner_html(response.get_data(as_text=True))
        if name == "draft plan edit":  # another patient's plan: their banner
            assert "DURAND" not in html, name
            continue
        assert "DURAND Marie Jeanne" in html, name
        assert "HF-3" in html and case_manager.full_name in html, name
        assert "1 rendez-vous manqué en 90 jours" in html, name
    # a new plan's form too (a patient with no plan yet)
    fresh = factories.make_patient(case_manager_id=case_manager.id, birth_name="Nouveau")
    html = banner_html(client.get(f"/careplans/new/{fresh.id}").get_data(as_text=True))
    assert "NOUVEAU" in html


def test_pages_of_no_patient_have_no_banner(client, logged_in, case_manager, patient):
    logged_in(case_manager)
    for path in ("/", "/patients/", "/careplans/", "/scheduling/no-shows", "/tasks/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert 'data-testid="patient-banner"' not in response.get_data(as_text=True), path


def test_reading_the_banner_adds_no_audit_entry(client, logged_in, case_manager, patient):
    plan = factories.make_care_plan(patient, user=case_manager, status="active")
    logged_in(case_manager)
    for path, entity in ((f"/patients/{patient.id}", "patient"),
                         (f"/careplans/{plan.id}", "care_plan")):
        before = db.session.scalar(select(func.count(AuditEntry.id)))
        assert client.get(path).status_code == 200
        entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())
                                     .limit(db.session.scalar(
                                         select(func.count(AuditEntry.id))) - before)).all()
        assert [(e.action, e.entity_type) for e in entries] == [("read", entity)], path


# -- Permissions --------------------------------------------------------------------------------

def test_a_gp_reading_a_shared_plan_sees_the_identity_only(client, logged_in, make_user,
                                                           case_manager, patient, gp):
    stratum(patient, "HF-3", local_today() - timedelta(days=30))
    plan = factories.make_care_plan(patient, user=case_manager, status="active")
    overdue(plan)
    appointment(patient, gp, local_today() - timedelta(days=3), AppointmentStatus.NO_SHOW)
    logged_in(make_user(role="gp", provider_id=gp.id, territory_code=None))
    html = banner_html(client.get(f"/careplans/{plan.id}").get_data(as_text=True))
    assert "DURAND Marie Jeanne" in html and "15 juin 1950" in html
    assert "Docteur Martin" in html
    for hidden in ("banner-case-manager", "banner-strata", "flag-review-overdue",
                   "flag-no-shows", case_manager.full_name):
        assert hidden not in html, hidden


def test_a_gp_still_gets_404_for_a_plan_after_the_consent_is_withdrawn(
        client, logged_in, make_user, case_manager, patient, gp):
    plan = factories.make_care_plan(patient, user=case_manager, status="active")
    patient_services.record_consent(db.session, ACTOR, patient, False, expressed_as="oral")
    db.session.commit()
    logged_in(make_user(role="gp", provider_id=gp.id, territory_code=None))
    response = client.get(f"/careplans/{plan.id}")
    assert response.status_code == 404
    assert "patient-banner" not in response.get_data(as_text=True)


# -- Queries ------------------------------------------------------------------------------------

def grow(patient, case_manager, gp, count: int) -> None:
    """`count` more of every kind of row the banner looks at."""
    today = local_today()
    for number in range(count):
        appointment(patient, gp, today - timedelta(days=number % 80 + 1),
                    AppointmentStatus.NO_SHOW if number % 2 else AppointmentStatus.ATTENDED,
                    hour=8 + number % 10)
        patient_services.record_consent(db.session, ACTOR, patient,
                                        (count - number) % 2 == 0,
                                        today - timedelta(days=count - number),
                                        expressed_as="oral")
    for _number in range(count):
        plan = factories.make_care_plan(patient, user=case_manager, status="closed")
        overdue(plan)
    db.session.commit()


def test_the_banner_takes_as_many_queries_for_many_rows_as_for_few(
        app, count_queries, case_manager, patient, gp):
    ids = (patient.id, case_manager.id, gp.id)

    def loaded():
        return (db.session.get(Patient, ids[0]), db.session.get(User, ids[1]),
                db.session.get(Provider, ids[2]))

    def queries() -> tuple[int, str]:
        db.session.expunge_all()
        shown = db.session.get(Patient, ids[0])
        with app.test_request_context(), count_queries(fresh_session=False) as log:
            banner_of(db.session, shown, local_today())
        return log.count, log.report()

    start = local_today() - timedelta(days=300)
    stratum(patient, "HF-1", start)
    grow(patient, case_manager, gp, 2)
    small, small_report = queries()
    patient, case_manager, gp = loaded()
    for number in range(1, 12):
        stratum(patient, f"HF-{number % 3 + 1}", start + timedelta(days=number))
    for code in ("DIAB", "COPD", "POLY"):
        stratum(patient, f"{code}-1", start)
    grow(patient, case_manager, gp, 12)
    large, large_report = queries()
    assert small == large, f"few:\n{small_report}\n\nmany:\n{large_report}"
    # GP, case manager, current strata (with their program), a plan overdue, the no-shows,
    # the last consent event
    assert large <= 6, large_report


def test_a_patient_page_grows_by_no_query_with_the_banners_rows(
        client, logged_in, count_queries, case_manager, patient, gp):
    logged_in(case_manager)
    path = f"/scheduling/patients/{patient.id}"
    patient_id, manager_id, gp_id = patient.id, case_manager.id, gp.id
    grow(patient, case_manager, gp, 1)
    client.get(path)
    with count_queries() as few:
        assert client.get(path).status_code == 200
    grow(db.session.get(Patient, patient_id), db.session.get(User, manager_id),
         db.session.get(Provider, gp_id), 8)
    with count_queries() as many:
        assert client.get(path).status_code == 200
    assert few.count == many.count, f"few:\n{few.report()}\n\nmany:\n{many.report()}"
