"""iCalendar feeds: created from the calendar pages, read by calendar applications with the
token only, revoked at once; what they hold parses as RFC 5545."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from coordinator.audit.models import AuditEntry
from coordinator.core.context import Actor
from coordinator.core.time import local_today
from coordinator.extensions import db
from coordinator.scheduling import feeds, services
from coordinator.scheduling.models import CalendarFeed
from tests import factories

ACTOR = Actor.system("test")
URL_RE = re.compile(r'value="(http://localhost/calendar/feed/[A-Za-z0-9_-]+\.ics)"')


@pytest.fixture
def nurse():
    return factories.make_provider("nurse", name="Anne Roux")


@pytest.fixture
def patient(case_manager):
    return factories.make_patient(birth_name="Dubois", first_names="Jeanne",
                                  case_manager_id=case_manager.id)


def book(patient, provider, days: int, hour: int = 9, **extra):
    """An appointment `days` from today at `hour` (Paris time)."""
    day = local_today() + timedelta(days=days)
    appointment = factories.make_appointment(
        patient, provider, datetime(day.year, day.month, day.day, hour, 0), actor=ACTOR,
        **({"duration_minutes": 45} | extra))
    db.session.commit()
    return appointment


def new_feed(**owner) -> str:
    _feed, token = feeds.create_feed(db.session, ACTOR, **owner)
    db.session.commit()
    return token


def events(body: bytes) -> dict[str, object]:
    calendar = Calendar.from_ical(body)
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def feed_url(html: str) -> str:
    urls = URL_RE.findall(html)
    assert len(urls) == 1, "the address is shown exactly once"
    return urls[0]


# -- Managing feeds from the calendar pages ----------------------------------------------------

def test_creating_a_feed_shows_the_address_once_and_stores_its_hash(logged_in, case_manager,
                                                                    nurse):
    client = logged_in(case_manager)
    token = client.csrf_token(f"/calendar/provider/{nurse.id}")
    response = client.post(f"/calendar/provider/{nurse.id}/feeds?view=month",
                           data={"csrf_token": token})
    assert response.status_code == 201
    url = feed_url(response.get_data(as_text=True))
    secret = url.rsplit("/", 1)[1].removesuffix(".ics")
    assert len(secret) >= 43  # token_urlsafe(32)
    feed = db.session.scalars(select(CalendarFeed)).one()
    assert feed.provider_id == nurse.id and feed.created_by == case_manager.email
    assert feed.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in feed.token_hash
    again = client.get(f"/calendar/provider/{nurse.id}").get_data(as_text=True)
    assert secret not in again and f'data-testid="feed-{feed.id}"' in again
    created = db.session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == "calendar_feed")).one()
    assert (created.action, created.entity_id) == ("create", str(feed.id))


def test_a_patient_feed_from_the_patient_calendar(logged_in, case_manager, patient):
    client = logged_in(case_manager)
    token = client.csrf_token(f"/calendar/patient/{patient.id}")
    response = client.post(f"/calendar/patient/{patient.id}/feeds", data={"csrf_token": token})
    assert response.status_code == 201
    assert client.get(feed_url(response.get_data(as_text=True))).status_code == 200
    assert db.session.scalars(select(CalendarFeed)).one().patient_id == patient.id


def test_creating_a_feed_needs_the_csrf_token(logged_in, case_manager, nurse):
    response = logged_in(case_manager).post(f"/calendar/provider/{nurse.id}/feeds")
    assert response.status_code == 400
    assert db.session.scalars(select(CalendarFeed)).all() == []


def test_revoking_ends_the_feed_at_once(logged_in, case_manager, nurse, client):
    token = new_feed(provider=nurse)
    assert client.get(f"/calendar/feed/{token}.ics").status_code == 200
    feed = db.session.scalars(select(CalendarFeed)).one()
    logged_in(case_manager)
    csrf = client.csrf_token(f"/calendar/provider/{nurse.id}")
    response = client.post(f"/calendar/feeds/{feed.id}/revoke", data={"csrf_token": csrf})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/calendar/provider/{nurse.id}")
    assert feed.revoked_at is not None
    assert client.get(f"/calendar/feed/{token}.ics").status_code == 404
    assert f'data-testid="feed-{feed.id}"' not in client.get(
        f"/calendar/provider/{nurse.id}").get_data(as_text=True)


def test_only_who_sees_the_owner_revokes(logged_in, case_manager, client):
    elsewhere = factories.make_provider("nurse", territory_code="CORNOUAILLE")
    new_feed(provider=elsewhere)
    feed = db.session.scalars(select(CalendarFeed)).one()
    logged_in(case_manager)
    csrf = client.csrf_token("/calendar/caseload")
    assert client.post(f"/calendar/feeds/{feed.id}/revoke",
                       data={"csrf_token": csrf}).status_code == 404
    assert client.post("/calendar/feeds/999999/revoke",
                       data={"csrf_token": csrf}).status_code == 404
    assert feed.revoked_at is None


# -- Serving feeds ------------------------------------------------------------------------------

def test_the_provider_feed_parses_as_icalendar(client, patient, nurse):
    soon = book(patient, nurse, 3, 9, place="Domicile", kind="home_visit")
    recent = book(patient, nurse, -30, 14)
    old = book(patient, nurse, -120, 9)
    token = new_feed(provider=nurse)
    response = client.get(f"/calendar/feed/{token}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "private, no-store"
    calendar = Calendar.from_ical(response.data)
    assert str(calendar["VERSION"]) == "2.0" and "Coordinator" in str(calendar["PRODID"])
    assert str(calendar["X-WR-TIMEZONE"]) == "Europe/Paris"
    assert "Anne Roux" in str(calendar["X-WR-CALNAME"])
    found = events(response.data)
    assert set(found) == {f"appointment-{a.id}@coordinator" for a in (soon, recent)}
    assert f"appointment-{old.id}@coordinator" not in found  # older than 90 days
    event = found[f"appointment-{soon.id}@coordinator"]
    assert event.decoded("DTSTART") == soon.starts_at
    assert event.decoded("DTSTART").tzinfo is not None
    assert event.decoded("DTSTART").utcoffset() == timedelta(0)
    assert event.decoded("DTEND") == soon.starts_at + timedelta(minutes=45)
    assert "DUBOIS Jeanne" in str(event["SUMMARY"])
    assert str(event["LOCATION"]) == "Domicile"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert int(event["SEQUENCE"]) == soon.version
    assert "DTSTAMP" in event
    assert b"DTSTART:" in response.data and b"Z\r\n" in response.data  # written in UTC


def test_the_patient_feed_names_the_providers(client, patient, nurse):
    appointment = book(patient, nurse, 5)
    token = new_feed(patient=patient)
    event = events(client.get(f"/calendar/feed/{token}.ics").data)[
        f"appointment-{appointment.id}@coordinator"]
    assert "Anne Roux" in str(event["SUMMARY"]) and "DUBOIS" not in str(event["SUMMARY"])


def test_a_rescheduled_appointment_is_cancelled_and_the_new_one_appears(client, patient,
                                                                         nurse):
    first = book(patient, nurse, 4, 10)
    later = first.starts_at + timedelta(days=2)
    moved = services.reschedule(db.session, ACTOR, first, later)
    db.session.commit()
    token = new_feed(provider=nurse)
    found = events(client.get(f"/calendar/feed/{token}.ics").data)
    cancelled = found[f"appointment-{first.id}@coordinator"]
    new = found[f"appointment-{moved.id}@coordinator"]
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert int(cancelled["SEQUENCE"]) == first.version > 1
    assert str(new["STATUS"]) == "CONFIRMED"
    assert new.decoded("DTSTART") == later.astimezone(UTC)


@pytest.mark.parametrize("token", ["unknown", "a" * 43, "x.y"])
def test_an_unknown_token_answers_404(client, token):
    response = client.get(f"/calendar/feed/{token}.ics")
    assert response.status_code == 404
    assert b"BEGIN:VCALENDAR" not in response.data


def test_a_revoked_token_answers_404_and_leaks_nothing(client, patient, nurse):
    book(patient, nurse, 2)
    token = new_feed(provider=nurse)
    feed = db.session.scalars(select(CalendarFeed)).one()
    feeds.revoke_feed(db.session, ACTOR, feed)
    db.session.commit()
    assert feeds.feed_for_token(db.session, token) is None
    response = client.get(f"/calendar/feed/{token}.ics")
    body = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "DUBOIS" not in body and "Anne Roux" not in body and "VCALENDAR" not in body
    assert feed.last_used_at is None


def test_each_read_is_audited_and_marks_the_feed_used(client, patient, nurse):
    book(patient, nurse, 1)
    token = new_feed(patient=patient)
    feed = db.session.scalars(select(CalendarFeed)).one()
    assert feed.last_used_at is None
    for _ in range(2):
        assert client.get(f"/calendar/feed/{token}.ics").status_code == 200
    reads = db.session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == "calendar_feed", AuditEntry.action == "read")).all()
    assert len(reads) == 2
    assert {(r.entity_id, r.actor_label, r.patient_id, r.actor_user_id) for r in reads} == {
        (str(feed.id), f"calendar-feed-{feed.id}", patient.id, None)}
    assert reads[0].summary == "1 appointment(s)"
    assert feed.last_used_at is not None


def test_a_feed_has_exactly_one_owner(patient, nurse):
    with pytest.raises(ValueError):
        feeds.create_feed(db.session, ACTOR)
    with pytest.raises(ValueError):
        feeds.create_feed(db.session, ACTOR, provider=nurse, patient=patient)


def test_a_bad_date_creates_no_feed(logged_in, case_manager, nurse):
    client = logged_in(case_manager)
    token = client.csrf_token(f"/calendar/provider/{nurse.id}")
    response = client.post(f"/calendar/provider/{nurse.id}/feeds?date=2026-02-30",
                           data={"csrf_token": token})
    assert response.status_code == 400
    assert db.session.scalars(select(CalendarFeed)).all() == []


def test_another_territorys_patient_is_a_slot_with_its_times_only(client, nurse, patient):
    """#15, finding 4: the busy slot kept the free-text place (a home address)."""
    own = book(patient, nurse, 3, place="Cabinet, 2 place d'Armes")
    stranger = factories.make_patient(birth_name="Inconnu")
    hidden = book(stranger, nurse, 4, place="12 rue Berthelot (domicile Inconnu)",
                  kind="home_visit")
    factories.move_patient(stranger, "CORNOUAILLE")
    found = events(client.get(f"/calendar/feed/{new_feed(provider=nurse)}.ics").data)
    busy = found[f"appointment-{hidden.id}@coordinator"]
    assert str(busy["SUMMARY"]) == "Occupé"  # nor the kind (a command’s feed: French)
    assert "LOCATION" not in busy and "DESCRIPTION" not in busy
    assert busy.decoded("DTSTART") == hidden.starts_at
    assert "Berthelot" not in client.get(
        f"/calendar/feed/{new_feed(provider=nurse)}.ics").get_data(as_text=True)
    assert str(found[f"appointment-{own.id}@coordinator"]["LOCATION"]) == \
        "Cabinet, 2 place d'Armes"


def test_a_feed_stops_when_its_creators_account_is_disabled(client, case_manager, nurse,
                                                            patient):
    """#15, finding 4: the creator's API token was refused, the feed served on."""
    book(patient, nurse, 2)
    _feed, token = feeds.create_feed(db.session, Actor.for_user(case_manager), provider=nurse)
    db.session.commit()
    assert client.get(f"/calendar/feed/{token}.ics").status_code == 200
    case_manager.is_active = False
    db.session.commit()
    assert client.get(f"/calendar/feed/{token}.ics").status_code == 404
    case_manager.is_active = True
    db.session.commit()
    assert client.get(f"/calendar/feed/{token}.ics").status_code == 200
    system_feed = new_feed(provider=nurse)  # created by a command: no account to follow
    assert client.get(f"/calendar/feed/{system_feed}.ics").status_code == 200


# -- The feed's language: its owner's ----------------------------------------------------------

def test_a_feed_is_in_the_language_of_the_account_that_created_it(client, nurse, patient):
    """Issue #16: a calendar application's Accept-Language (or none) does not choose it."""
    visit = book(patient, nurse, 3, kind="home_visit")
    stranger = factories.make_patient(birth_name="Inconnu")
    hidden = book(stranger, nurse, 4)
    factories.move_patient(stranger, "CORNOUAILLE")
    reads_english = factories.make_user(role="case_manager", locale="en")
    _feed, english = feeds.create_feed(db.session, Actor.for_user(reads_english), provider=nurse)
    reads_french = factories.make_user(role="case_manager", locale="fr")
    _feed, french = feeds.create_feed(db.session, Actor.for_user(reads_french), provider=nurse)
    db.session.commit()

    body = client.get(f"/calendar/feed/{english}.ics", headers={"Accept-Language": "fr"}).data
    calendar, found = Calendar.from_ical(body), events(body)
    assert str(calendar["X-WR-CALNAME"]) == "Appointments — Anne Roux"
    assert str(found[f"appointment-{visit.id}@coordinator"]["SUMMARY"]) == \
        "DUBOIS Jeanne — Home visit"
    assert str(found[f"appointment-{hidden.id}@coordinator"]["SUMMARY"]) == "Busy"

    body = client.get(f"/calendar/feed/{french}.ics", headers={"Accept-Language": "en"}).data
    calendar, found = Calendar.from_ical(body), events(body)
    assert str(calendar["X-WR-CALNAME"]) == "Rendez-vous — Anne Roux"
    assert str(found[f"appointment-{visit.id}@coordinator"]["SUMMARY"]) == \
        "DUBOIS Jeanne — Visite à domicile"
    assert str(found[f"appointment-{hidden.id}@coordinator"]["SUMMARY"]) == "Occupé"


def test_a_feed_whose_creator_chose_no_language_is_in_the_default_one(client, nurse, patient,
                                                                      case_manager):
    visit = book(patient, nurse, 3, kind="home_visit")
    assert case_manager.locale is None
    _feed, token = feeds.create_feed(db.session, Actor.for_user(case_manager), patient=patient)
    system = new_feed(patient=patient)  # created by a command: no account
    db.session.commit()
    for feed_token in (token, system):
        found = events(client.get(f"/calendar/feed/{feed_token}.ics",
                                  headers={"Accept-Language": "en"}).data)
        assert str(found[f"appointment-{visit.id}@coordinator"]["SUMMARY"]) == \
            "Anne Roux — Visite à domicile"
