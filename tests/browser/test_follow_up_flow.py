"""As a new user would: a case manager generates a three-provider schedule from a stratum's
template (preview, adjust, book), records a no-show, finds it on the outreach worklist, books
it again; the provider's calendar feed shows the change."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import icalendar
import pytest
from playwright.sync_api import expect

from coordinator import demo
from coordinator.auth import services as auth_services
from coordinator.core.context import Actor
from coordinator.core.time import PARIS, local_today
from coordinator.core.workdays import next_working_day
from coordinator.extensions import db
from coordinator.patients import assignments
from coordinator.patients import services as patient_services
from coordinator.providers.models import Provider
from coordinator.scheduling import feeds
from coordinator.strata.models import Stratum, Territory
from tests import factories


@pytest.fixture
def setting(live_app):
    """A patient of the demo caseload in HF-3, a nurse visit two days ago (outcome to record),
    and the nurse's calendar feed."""
    with live_app.app_context():
        manager = auth_services.find_user(db.session, "case.manager@demo.test")
        territory = db.session.query(Territory).filter_by(code="DOUAISIS").one()
        actor = Actor.system("browser-test")
        patient = patient_services.create_patient(db.session, actor, {
            "birth_name": "Follet", "first_names": "Gaston", "sex": "M",
            "birth_date": local_today().replace(year=1944), "territory_id": territory.id,
            "case_manager_id": manager.id, "phone": "03 27 11 22 33"}, confirm_duplicate=True)
        assignments.assign_stratum(db.session, actor, patient,
                                   db.session.query(Stratum).filter_by(code="HF-3").one(),
                                   local_today() - timedelta(days=20), "inclusion")
        nurse = db.session.query(Provider).filter_by(territory_id=territory.id, kind="nurse",
                                                     is_active=True).first()
        missed = factories.make_appointment(  # booked when it was to come
            patient, nurse, datetime.combine(local_today() - timedelta(days=2),
                                             datetime.min.time()).replace(hour=7, minute=10),
            actor=actor)
        _feed, token = feeds.create_feed(db.session, actor, provider=nurse)
        db.session.commit()
        ids = {"patient": patient.id, "missed": missed.id, "token": token}
        db.session.remove()
    return ids


def test_schedule_no_show_outreach_and_feed(live_server, page, setting):
    page.goto(live_server + "/login")
    page.get_by_label("E-mail").fill("case.manager@demo.test")
    page.get_by_label("Mot de passe").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()

    page.goto(f"{live_server}/scheduling/patients/{setting['patient']}")
    page.get_by_test_id("schedule-series").click()
    start = local_today() + timedelta(days=14)
    page.locator("#start").fill(start.isoformat())
    page.get_by_test_id("preview-series").click()
    rows = page.get_by_test_id("series-rows").locator("tbody tr")
    expect(rows).to_have_count(12)  # HF-3: nurse x6, GP x3, dietitian x2, social worker x1
    for kind in ("gp", "nurse", "dietitian", "social_worker"):
        select = page.get_by_test_id(f"provider-{kind}")
        if not select.input_value():
            select.select_option(index=1)
    first_time = page.locator("input[name='rows-0-starts_at']")
    first_time.fill(first_time.input_value()[:11] + "08:30")  # the nurse comes earlier
    page.get_by_test_id("create-series").click()
    expect(page.get_by_test_id("patient-appointments").locator("tbody tr")).to_have_count(13)

    page.goto(f"{live_server}/scheduling/appointments/{setting['missed']}")
    page.locator("select[name='status']").select_option("no_show")
    page.get_by_test_id("record-outcome").click()
    expect(page.get_by_test_id("appointment-status")).to_have_text(re.compile("Absent|No-show"))

    page.goto(f"{live_server}/scheduling/no-shows")
    worklist = page.get_by_test_id("no-shows")
    expect(worklist).to_contain_text("FOLLET Gaston")
    worklist.get_by_role("link", name=re.compile("appeler|To call", re.I)).first.click()
    page.locator("select[name='reason']").select_option("transport")
    page.get_by_test_id("record-outreach").click()
    page.goto(f"{live_server}/scheduling/appointments/{setting['missed']}")
    again = datetime.combine(next_working_day(local_today() + timedelta(days=3)),
                             datetime.min.time())
    page.locator("#starts_at").last.fill(again.replace(hour=7, minute=10).isoformat()[:16])
    page.get_by_test_id("rebook").click()
    expect(page.get_by_test_id("appointment-status")).to_have_text(re.compile("Prévu|Scheduled"))

    feed = page.request.get(f"{live_server}/calendar/feed/{setting['token']}.ics")
    assert feed.status == 200
    events = {str(event["uid"]): event for event in
              icalendar.Calendar.from_ical(feed.body()).walk("VEVENT")}
    assert f"appointment-{setting['missed']}@coordinator" in events
    rebooked = [e for e in events.values()
                if e.decoded("dtstart").astimezone(PARIS).date() == again.date()
                and "FOLLET" in str(e["summary"])]
    assert len(rebooked) == 1 and str(rebooked[0]["status"]) == "CONFIRMED"
