"""The patient's timeline: every kind on one dated page, newest first, grouped by month; the
readmission marks and LACE of the stays; the filters (kind, period) and their bad input; who may
open it (exactly who opens the record); the audit; French and English."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from coordinator.audit.models import AuditEntry
from coordinator.extensions import db
from coordinator.scheduling.models import AppointmentStatus
from coordinator.tasks.models import TaskKind
from coordinator.timeline import services
from coordinator.timeline.services import Period, TimelineKind
from tests import factories
from tests.timeline.conftest import TODAY, appointment, contact, stay, stratum, task

EN = {"Accept-Language": "en"}
FR = {"Accept-Language": "fr"}


def page(response) -> str:
    return response.get_data(as_text=True)


def entries(body: str) -> list[str]:
    """The entries' test ids, in the order the page shows them."""
    return re.findall(r'data-testid="(entry-[a-z]+-\d+)"', body)


def months(body: str) -> list[str]:
    return re.findall(r'<section class="mb-4" aria-labelledby="(month-\d{4}-\d{2})"', body)


@pytest.fixture
def patient(case_manager):
    return factories.make_patient(birth_date=date(1944, 2, 3), case_manager_id=case_manager.id,
                                  consent_share=True)


@pytest.fixture
def history(patient, case_manager):
    """A patient's last months: an index stay and its emergency readmission 10 days later
    (high LACE: heart failure, complicated diabetes, chronic kidney disease, 10 days), two
    appointments, a move up a stratum, an active plan, a contact and a task."""
    gp = factories.make_provider("gp")
    made = {
        "index": stay(patient, TODAY - timedelta(days=60), TODAY - timedelta(days=55)),
        "readmission": stay(patient, TODAY - timedelta(days=45), TODAY - timedelta(days=35),
                            diagnoses=["E11.2", "N18.4"]),
        "attended": appointment(patient, gp, TODAY - timedelta(days=20)),
        "no_show": appointment(patient, gp, TODAY - timedelta(days=10),
                               AppointmentStatus.NO_SHOW, no_show_reason="transport"),
        "coming": appointment(patient, gp, TODAY + timedelta(days=12),
                              AppointmentStatus.SCHEDULED),
        "included": stratum(patient, "HF-2", TODAY - timedelta(days=200)),
        "moved": stratum(patient, "HF-3", TODAY - timedelta(days=50), "aggravation"),
        "plan": factories.make_care_plan(patient, user=case_manager, status="active"),
        "contact": contact(patient, case_manager, TODAY - timedelta(days=3),
                           note="Va mieux, rendez-vous pris"),
        "task": task(patient, case_manager, TODAY + timedelta(days=4),
                     kind=TaskKind.DISCHARGE_VISIT),
        "overdue": task(patient, case_manager, TODAY - timedelta(days=2)),
    }
    db.session.commit()
    return made


@pytest.fixture
def staff(logged_in, case_manager):
    return logged_in(case_manager)


def url(patient, **query) -> str:
    return f"/patients/{patient.id}/timeline" + (
        "?" + "&".join(f"{key}={value}" for key, value in query.items()) if query else "")


def test_the_record_links_to_the_timeline(staff, patient):
    body = page(staff.get(f"/patients/{patient.id}", headers=EN))
    assert f'href="/patients/{patient.id}/timeline"' in body
    assert 'data-testid="timeline-link"' in body


def test_every_kind_on_one_page_newest_first_grouped_by_month(staff, patient, history):
    response = staff.get(url(patient), headers=EN)
    assert response.status_code == 200
    body = page(response)
    shown = entries(body)
    for name, kind in (("index", "stay"), ("readmission", "stay"), ("attended", "appointment"),
                       ("no_show", "appointment"), ("coming", "appointment"),
                       ("included", "stratum"), ("moved", "stratum"), ("contact", "contact"),
                       ("task", "task"), ("overdue", "task")):
        assert f"entry-{kind}-{history[name].id}" in shown, name
    revisions = [entry for entry in shown if entry.startswith("entry-plan-")]
    assert len(revisions) == 2  # created, activated
    # newest first: what is to come, then today's plan, then back in time
    order = [f"entry-task-{history['task'].id}", f"entry-appointment-{history['no_show'].id}",
             f"entry-appointment-{history['attended'].id}",
             f"entry-stay-{history['readmission'].id}", f"entry-stay-{history['index'].id}",
             f"entry-stratum-{history['included'].id}"]
    assert [entry for entry in shown if entry in order] == order
    assert shown.index(f"entry-appointment-{history['coming'].id}") < shown.index(revisions[0])
    headings = months(body)
    assert headings == sorted(headings, reverse=True) and len(headings) == len(set(headings))
    assert headings[0] == (TODAY + timedelta(days=12)).strftime("month-%Y-%m")
    assert (TODAY - timedelta(days=200)).strftime("month-%Y-%m") in headings


def test_stays_show_their_readmission_marks_and_lace_with_its_components(staff, patient,
                                                                          history):
    readmission = history["readmission"]
    body = page(staff.get(url(patient), headers=EN))
    assert "Readmission 10 days after the stay discharged on" in body
    assert "Readmitted on" in body
    assert readmission.lace_score >= 10
    assert f"LACE {readmission.lace_score} — high risk" in body
    assert (f"L {readmission.lace_length} · A {readmission.lace_acuity} · "
            f"C {readmission.lace_comorbidity} · E {readmission.lace_emergency_visits}") in body
    assert "E11.2" in body and "N18.4" in body


def test_the_other_kinds_show_what_they_are(staff, patient, history):
    body = page(staff.get(url(patient), headers=EN))
    assert "No-show" in body and "(Transport)" in body and "Attended" in body
    assert "HF-2 → HF-3" in body and "aggravation" in body and "inclusion in HF-2" in body
    assert "Plan no. 1" in body and "activated" in body
    assert "Phone call" in body and "Reached" in body and "Va mieux, rendez-vous pris" in body
    assert "Follow-up visit after discharge" in body and "overdue" in body


def test_an_open_stay_is_shown_whatever_the_period_start(staff, patient):
    open_stay = stay(patient, TODAY - timedelta(days=40), None)
    body = page(staff.get(url(patient, start=(TODAY - timedelta(days=7)).isoformat()),
                          headers=EN))
    assert f"entry-stay-{open_stay.id}" in entries(body)
    assert 'data-testid="stay-open"' in body


def test_filter_by_kind(staff, patient, history):
    body = page(staff.get(url(patient, kind="stay") + "&kind=contact", headers=EN))
    assert {entry.split("-")[1] for entry in entries(body)} == {"stay", "contact"}
    ticked = re.findall(r'<input[^>]*\bchecked\b[^>]*>', body)
    assert len(ticked) == 2 and any('value="stay"' in tag for tag in ticked)


def test_filter_by_period(staff, patient, history):
    """A stay is in a period it overlaps; the other entries, by their day."""
    start, end = TODAY - timedelta(days=50), TODAY - timedelta(days=15)
    body = page(staff.get(url(patient, start=start.isoformat(), end=end.isoformat()),
                          headers=EN))
    assert set(entries(body)) == {f"entry-appointment-{history['attended'].id}",
                                  f"entry-stratum-{history['moved'].id}",
                                  f"entry-stay-{history['readmission'].id}"}


def test_an_empty_period_start_shows_everything(staff, patient):
    gp = factories.make_provider("gp")
    old = appointment(patient, gp, TODAY - timedelta(days=800))
    assert f"entry-appointment-{old.id}" not in entries(page(staff.get(url(patient))))
    assert f"entry-appointment-{old.id}" in entries(page(staff.get(url(patient, start=""))))


@pytest.mark.parametrize(("query", "field", "message"), [
    ({"start": "2026-02-30"}, "start", "Not a valid date value."),
    ({"start": "1800-01-01"}, "start", "1900"),
    ({"start": "2026-03-10", "end": "2026-03-01"}, "end",
     "The end of the period is before its start."),
    ({"kind": "diagnosis"}, "kind", "is not a valid choice"),
])
def test_bad_filters_are_shown_on_their_field(staff, patient, history, query, field,
                                              message):
    response = staff.get(url(patient, **query), headers=EN)
    assert response.status_code == 400
    body = page(response)
    assert f'id="{field}-error"' in body and message in body
    assert entries(body) == []


def test_the_timeline_is_audited_as_a_read_of_patient_data(staff, patient, history,
                                                           case_manager):
    staff.get(url(patient, kind="stay"))
    entry = db.session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == "patient_timeline")).one()
    assert (entry.action, entry.patient_id, entry.entity_id) == ("read", patient.id,
                                                                str(patient.id))
    assert entry.actor_user_id == case_manager.id
    assert entry.details["kinds"] == ["stay"] and entry.summary == "2 entr(ies)"


# -- Who may ------------------------------------------------------------------------------------

def test_an_administrator_reads_any_timeline(client, logged_in, admin, patient, history):
    logged_in(admin)
    assert client.get(url(patient)).status_code == 200


def test_a_case_manager_of_another_territory_gets_404(client, logged_in, other_case_manager,
                                                      patient):
    logged_in(other_case_manager)
    assert client.get(url(patient)).status_code == 404


def test_unknown_and_merged_records_answer_404(staff, patient):
    kept = factories.make_patient()
    patient.merged_into_id = kept.id
    db.session.commit()
    assert staff.get(url(patient)).status_code == 404
    assert staff.get("/patients/999999/timeline").status_code == 404


@pytest.mark.parametrize("role", ["gp", "council", "professional"])
def test_roles_that_do_not_open_records_do_not_open_timelines(client, logged_in, make_user,
                                                              patient, role):
    gp = factories.make_provider("gp")
    patient.gp_id = gp.id
    db.session.commit()
    user = make_user(role=role, provider_id=gp.id if role == "gp" else None,
                     territory_code="DOUAISIS" if role == "council" else None)
    logged_in(user)
    assert client.get(url(patient)).status_code == 403
    assert db.session.scalar(select(AuditEntry.id).where(
        AuditEntry.entity_type == "patient_timeline")) is None


def test_anonymous_readers_are_sent_to_sign_in(client, patient):
    response = client.get(url(patient))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# -- Languages ----------------------------------------------------------------------------------

def test_french_and_english_with_dates_in_the_readers_locale(staff, patient):
    gp = factories.make_provider("gp")
    appointment(patient, gp, date(2025, 1, 15))
    french = page(staff.get(url(patient, start="2025-01-01", end="2025-01-31"), headers=FR))
    assert "Chronologie de" in french and "Janvier 2025" in french and "15 janv. 2025" in french
    english = page(staff.get(url(patient, start="2025-01-01", end="2025-01-31"), headers=EN))
    assert "Timeline of" in english and "January 2025" in english and "15 Jan 2025" in english


# -- The service --------------------------------------------------------------------------------

def test_kinds_not_asked_for_are_not_read(session, patient, history, count_queries):
    patient_id = patient.id
    with count_queries() as everything:
        services.timeline(db.session, db.session.get(type(patient), patient_id))
    with count_queries() as stays_only:
        shown = services.timeline(db.session, db.session.get(type(patient), patient_id),
                                  kinds=[TimelineKind.STAY], period=Period())
    assert list(shown.counts) == [TimelineKind.STAY] and shown.total == 2
    assert stays_only.count < everything.count
