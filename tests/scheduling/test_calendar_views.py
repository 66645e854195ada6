"""Calendar pages: Paris days across the clock change, month cells, who sees which calendar."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from coordinator.audit.models import AuditEntry
from coordinator.core.context import Actor
from coordinator.extensions import db
from coordinator.scheduling import calendar
from tests import factories

ACTOR = Actor.system("test")


@pytest.fixture
def nurse():
    return factories.make_provider("nurse", name="Anne Roux")


@pytest.fixture
def patient(case_manager):
    return factories.make_patient(birth_name="Dubois", first_names="Jeanne",
                                  case_manager_id=case_manager.id)


def book(patient, provider, starts_at: datetime, **extra):
    """An appointment through the service (a naive time is Paris time)."""
    appointment = factories.make_appointment(patient, provider, starts_at, actor=ACTOR,
                                             **({"duration_minutes": 30} | extra))
    db.session.commit()
    return appointment


def cell(html: str, day: str) -> str:
    """The HTML of one day (a month cell or a week column)."""
    match = re.search(rf'data-testid="day-{day}">(.*?)</(?:td|section)>', html, re.S)
    assert match, f"no cell for {day}"
    return match.group(1)


def entry(html: str, appointment) -> str:
    match = re.search(rf'data-testid="appointment-{appointment.id}">(.*?)</li>', html, re.S)
    assert match, f"appointment {appointment.id} not shown"
    return match.group(1)


# -- Grids ------------------------------------------------------------------------------------

def test_periods_are_paris_days():
    week = calendar.period("week", datetime(2026, 10, 28).date())
    assert (week.first.isoformat(), week.last.isoformat()) == ("2026-10-26", "2026-11-01")
    assert week.starts_at == datetime(2026, 10, 25, 23, 0, tzinfo=UTC)  # winter time: UTC+1
    change = calendar.period("week", datetime(2026, 10, 25).date())
    assert change.starts_at == datetime(2026, 10, 18, 22, 0, tzinfo=UTC)  # summer time: UTC+2
    assert (change.ends_at - change.starts_at).total_seconds() == (7 * 24 + 1) * 3600
    month = calendar.period("month", datetime(2026, 10, 15).date())
    assert (month.first.isoformat(), month.last.isoformat()) == ("2026-09-28", "2026-11-01")
    assert (month.previous.isoformat(), month.next.isoformat()) == ("2026-09-01", "2026-11-01")


def test_week_across_the_clock_change(logged_in, case_manager, patient, nurse):
    before = book(patient, nurse, datetime(2026, 10, 24, 9, 0))  # summer time
    after = book(patient, nurse, datetime(2026, 10, 26, 9, 0))  # winter time
    late = book(patient, nurse, datetime(2026, 10, 26, 0, 30))  # 23:30 UTC the day before
    assert after.starts_at == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)
    client = logged_in(case_manager)
    html = client.get(f"/calendar/provider/{nurse.id}?view=week&date=2026-10-26").get_data(
        as_text=True)
    monday = cell(html, "2026-10-26")
    assert f'data-testid="appointment-{after.id}"' in monday
    assert f'data-testid="appointment-{late.id}"' in monday
    assert ">09:00</time>" in entry(html, after)
    assert '<time datetime="2026-10-26T08:00:00+00:00"' in entry(html, after)
    assert ">00:30</time>" in entry(html, late)
    assert f"appointment-{before.id}" not in html  # the week before
    previous = client.get(f"/calendar/provider/{nurse.id}?view=week&date=2026-10-19")
    html = previous.get_data(as_text=True)
    assert ">09:00</time>" in entry(cell(html, "2026-10-24"), before)


def test_month_lists_appointments_in_their_day_cells(logged_in, case_manager, patient, nurse):
    first = book(patient, nurse, datetime(2026, 10, 1, 10, 0))
    last = book(patient, nurse, datetime(2026, 10, 31, 23, 30))  # 22:30 UTC, still the 31st
    outside = book(patient, nurse, datetime(2026, 11, 1, 8, 0))  # a Sunday of the last row
    html = logged_in(case_manager).get(
        f"/calendar/provider/{nurse.id}?view=month&date=2026-10-12").get_data(as_text=True)
    assert f"appointment-{first.id}" in cell(html, "2026-10-01")
    assert f"appointment-{last.id}" in cell(html, "2026-10-31")
    assert f"appointment-{outside.id}" in cell(html, "2026-11-01")
    assert "appointment-" not in cell(html, "2026-10-02")
    assert "Dubois".upper() in entry(html, first)
    assert f'href="/patients/{patient.id}"' in entry(html, first)
    assert 'rel="prev"' in html and "date=2026-09-01" in html and "date=2026-11-01" in html


def test_a_busy_day_shows_six_and_links_to_the_week(logged_in, case_manager, patient, nurse):
    booked = [book(patient, nurse, datetime(2026, 12, 3, 8 + hour, 0)) for hour in range(8)]
    client = logged_in(case_manager)
    html = client.get(f"/calendar/provider/{nurse.id}?view=month&date=2026-12-01").get_data(
        as_text=True)
    day = cell(html, "2026-12-03")
    assert day.count("data-testid=\"appointment-") == calendar.MAX_PER_DAY
    assert 'data-testid="more-2026-12-03"' in day
    assert "view=week&amp;date=2026-12-03" in day
    week = client.get(f"/calendar/provider/{nurse.id}?view=week&date=2026-12-03")
    assert all(f"appointment-{a.id}" in week.get_data(as_text=True) for a in booked)


def test_patient_calendar_names_the_providers(logged_in, case_manager, patient, nurse):
    appointment = book(patient, nurse, datetime(2026, 10, 26, 9, 0))
    response = logged_in(case_manager).get(
        f"/calendar/patient/{patient.id}?view=month&date=2026-10-01")
    assert response.status_code == 200
    assert "Anne Roux" in entry(response.get_data(as_text=True), appointment)
    audit = db.session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == "patient_calendar")).all()
    assert [(a.patient_id, a.summary) for a in audit] == [(patient.id, "1 appointment(s)")]


def test_another_territorys_patient_is_a_busy_slot(logged_in, case_manager, patient, nurse):
    stranger = factories.make_patient(birth_name="Inconnu")
    appointment = book(stranger, nurse, datetime(2026, 10, 27, 9, 0))
    factories.move_patient(stranger, "CORNOUAILLE")
    html = logged_in(case_manager).get(
        f"/calendar/provider/{nurse.id}?date=2026-10-27").get_data(as_text=True)
    shown = entry(html, appointment)
    assert "INCONNU" not in html and f"/patients/{stranger.id}" not in shown


def test_bad_dates_and_views_are_refused(logged_in, case_manager, nurse):
    client = logged_in(case_manager)
    for query in ("date=2026-13-01", "date=yesterday", "view=year", "date=9999-12-31"):
        assert client.get(f"/calendar/provider/{nurse.id}?{query}").status_code == 400


# -- Who sees what ------------------------------------------------------------------------------

def test_case_managers_see_the_providers_of_their_territory_only(logged_in, case_manager):
    elsewhere = factories.make_provider("nurse", territory_code="CORNOUAILLE")
    stranger = factories.make_patient(territory_code="CORNOUAILLE")
    client = logged_in(case_manager)
    assert client.get(f"/calendar/provider/{elsewhere.id}").status_code == 404
    assert client.get(f"/calendar/patient/{stranger.id}").status_code == 404
    assert client.get("/calendar/provider/999999").status_code == 404
    token = client.csrf_token("/calendar/caseload")
    assert client.post(f"/calendar/provider/{elsewhere.id}/feeds",
                       data={"csrf_token": token}).status_code == 404


def test_admins_see_every_calendar(logged_in, admin, nurse):
    elsewhere = factories.make_provider("nurse", territory_code="CORNOUAILLE")
    stranger = factories.make_patient(territory_code="CORNOUAILLE")
    client = logged_in(admin)
    assert client.get(f"/calendar/provider/{elsewhere.id}?view=month").status_code == 200
    assert client.get(f"/calendar/patient/{stranger.id}").status_code == 200
    assert client.get("/calendar/caseload").status_code == 403


@pytest.mark.parametrize("role", ["council", "gp"])
def test_councils_and_gps_are_refused(logged_in, make_user, role, patient, nurse):
    user = make_user(role=role, territory_code="DOUAISIS" if role == "council" else None)
    client = logged_in(user)
    for path in (f"/calendar/provider/{nurse.id}", f"/calendar/patient/{patient.id}",
                 "/calendar/caseload"):
        assert client.get(path).status_code == 403, path


def test_anonymous_users_sign_in_first(client, nurse):
    response = client.get(f"/calendar/provider/{nurse.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_caseload_lists_only_my_patients(logged_in, case_manager, make_user, patient,
                                             nurse):
    colleague = make_user(role="case_manager", territory_code="DOUAISIS")
    theirs = factories.make_patient(case_manager_id=colleague.id)
    mine = book(patient, nurse, datetime(2026, 10, 26, 9, 0))
    other = book(theirs, nurse, datetime(2026, 10, 26, 10, 0))
    html = logged_in(case_manager).get("/calendar/caseload?view=month&date=2026-10-26") \
        .get_data(as_text=True)
    assert f"appointment-{mine.id}" in cell(html, "2026-10-26")
    assert f"appointment-{other.id}" not in html
    assert "Anne Roux" in entry(html, mine)
    audit = db.session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == "caseload_calendar")).one()
    assert audit.summary == "1 appointment(s)" and audit.actor_user_id == case_manager.id


def test_calendar_links_on_the_record_pages(logged_in, case_manager, patient, nurse):
    client = logged_in(case_manager)
    assert f'href="/calendar/patient/{patient.id}"' in client.get(
        f"/patients/{patient.id}").get_data(as_text=True)
    assert f'href="/calendar/provider/{nurse.id}"' in client.get(
        f"/providers/{nurse.id}").get_data(as_text=True)
