"""As a case manager: a three-provider schedule from a stratum's template, a no-show chased
and booked again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from coordinator.core.time import PARIS, local_today
from coordinator.core.workdays import next_working_day
from coordinator.extensions import db
from coordinator.patients import assignments
from coordinator.scheduling.models import Appointment, FollowUpRound
from tests import factories
from tests.htmlform import form_fields


@pytest.fixture
def patient(case_manager):
    gp = factories.make_provider("gp")
    for kind in ("nurse", "dietitian", "social_worker"):
        factories.make_provider(kind)
    patient = factories.make_patient(case_manager_id=case_manager.id, gp_id=gp.id)
    assignments.assign_stratum(db.session, factories.case_plan_actor(case_manager), patient,
                               factories.stratum("HF-3"), local_today() - timedelta(days=3))
    db.session.commit()
    return patient


def _preview(client, patient, start):
    stratum = factories.stratum("HF-3")
    return client.get(f"/scheduling/patients/{patient.id}/series",
                      query_string={"source": f"stratum-{stratum.id}",
                                    "start": start.isoformat()})


def test_series_from_the_template_is_previewed_adjusted_and_booked(client, logged_in,
                                                                   case_manager, patient):
    logged_in(case_manager)
    start = next_working_day(local_today() + timedelta(days=7))
    page = _preview(client, patient, start)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-testid="series-rows"' in html
    data = form_fields(html, "series-form")
    rows = sorted({k.split("-")[1] for k in data if k.startswith("rows-")}, key=int)
    assert len(rows) == 6 + 3 + 2 + 1  # nurse x6, GP x3, dietitian x2, social worker x1
    assert data["provider-gp"] == str(patient.gp_id)  # the patient's GP first
    data["rows-0-starts_at"] = f"{start.isoformat()}T08:15"  # adjusted by the user
    data.pop("rows-11-keep")  # leave the last one out
    response = client.post(f"/scheduling/patients/{patient.id}/series", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    booked = db.session.scalars(select(Appointment).where(
        Appointment.patient_id == patient.id).order_by(Appointment.starts_at)).all()
    assert len(booked) == 11
    assert len({a.provider_id for a in booked}) == 4
    assert booked[0].starts_at.astimezone(PARIS).strftime("%H:%M") == "08:15"
    assert all(a.starts_at.astimezone(PARIS).weekday() < 5 for a in booked)
    [followup] = db.session.scalars(select(FollowUpRound)).all()
    assert {a.round_id for a in booked} == {followup.id}


def test_an_overlap_stops_the_whole_series_until_a_reason_is_given(client, logged_in,
                                                                  case_manager, patient):
    logged_in(case_manager)
    start = next_working_day(local_today() + timedelta(days=7))
    data = form_fields(_preview(client, patient, start).get_data(as_text=True), "series-form")
    data["rows-1-starts_at"] = data["rows-0-starts_at"]  # two at the same time
    refused = client.post(f"/scheduling/patients/{patient.id}/series", data=data)
    assert refused.status_code == 409
    assert 'data-testid="overlaps"' in refused.get_data(as_text=True)
    assert db.session.query(Appointment).count() == 0  # nothing half-written
    data["overlap_reason"] = "Visite conjointe infirmière et médecin"
    assert client.post(f"/scheduling/patients/{patient.id}/series",
                       data=data).status_code == 302


def test_no_show_is_on_the_outreach_worklist_and_booked_again(client, logged_in, case_manager,
                                                               patient):
    from datetime import datetime


    nurse = factories.make_provider("nurse")
    actor = factories.case_plan_actor(case_manager)
    missed = factories.make_appointment(
        patient, nurse, datetime.combine(local_today() - timedelta(days=2),
                                         datetime.min.time()).replace(hour=10), actor=actor,
        overlap_reason=None)
    db.session.commit()
    logged_in(case_manager)
    token = client.csrf_token(f"/scheduling/appointments/{missed.id}")
    client.post(f"/scheduling/appointments/{missed.id}/outcome",
                data={"csrf_token": token, "status": "no_show", "version": missed.version})
    assert missed.status == "no_show"
    worklist = client.get("/scheduling/no-shows").get_data(as_text=True)
    assert f"/scheduling/appointments/{missed.id}" in worklist
    client.post(f"/scheduling/appointments/{missed.id}/outreach",
                data={"csrf_token": token, "reason": "transport", "note": "Pas de taxi"})
    new_day = next_working_day(local_today() + timedelta(days=5))
    response = client.post(f"/scheduling/appointments/{missed.id}/rebook",
                           data={"csrf_token": token, "starts_at": f"{new_day}T10:00"})
    assert response.status_code == 302
    db.session.refresh(missed)
    assert missed.no_show_reason == "transport" and missed.rescheduled_to_id is not None
    again = client.post(f"/scheduling/appointments/{missed.id}/outcome",
                        data={"csrf_token": token, "status": "attended",
                              "version": missed.version})
    assert again.status_code == 409  # no_show → attended is not a transition


def test_a_days_outcomes_are_recorded_at_once(client, logged_in, case_manager, patient):
    from datetime import datetime


    nurse, gp = factories.make_provider("nurse"), patient.gp
    actor = factories.case_plan_actor(case_manager)
    day = local_today() - timedelta(days=1)
    first, second = (factories.make_appointment(
        patient, provider, datetime.combine(day, datetime.min.time()).replace(hour=hour),
        actor=actor, overlap_reason=None) for provider, hour in ((nurse, 9), (gp, 11)))
    db.session.commit()
    logged_in(case_manager)
    data = form_fields(client.get(f"/scheduling/day?date={day}").get_data(as_text=True),
                       "day-form")
    data |= {f"outcome-{first.id}": "attended", f"outcome-{second.id}": "no_show"}
    assert client.post(f"/scheduling/day?date={day}", data=data).status_code == 302
    assert (first.status, second.status) == ("attended", "no_show")


def test_another_territory_cannot_see_or_book(client, logged_in, make_user, patient):
    logged_in(make_user(role="case_manager", territory_code="CORNOUAILLE"))
    assert client.get(f"/scheduling/patients/{patient.id}").status_code == 404
    assert client.get(f"/scheduling/patients/{patient.id}/series").status_code == 404


def test_the_patients_no_show_rate_is_shown(client, logged_in, case_manager, patient):
    from datetime import datetime

    from coordinator.scheduling import services

    nurse = factories.make_provider("nurse")
    actor = factories.case_plan_actor(case_manager)
    for days, outcome in ((9, "attended"), (6, "no_show"), (3, "attended"), (2, "attended")):
        appointment = factories.make_appointment(
            patient, nurse, datetime.combine(local_today() - timedelta(days=days),
                                             datetime.min.time()).replace(hour=10),
            actor=actor, overlap_reason=None)
        services.record_outcome(db.session, actor, appointment, outcome)
    db.session.commit()
    logged_in(case_manager)
    page = client.get(f"/scheduling/patients/{patient.id}").get_data(as_text=True)
    assert "25.0 %" in page  # 1 missed of 4 with an outcome
    calendar = client.get(f"/calendar/provider/{nurse.id}").get_data(as_text=True)
    assert "25.0 %" in calendar


def test_overlaps_and_feeds_never_name_another_territorys_patient(client, logged_in,
                                                                  case_manager, patient):
    from datetime import datetime

    import icalendar

    from coordinator.scheduling import feeds, services

    nurse = factories.make_provider("nurse")
    stranger = factories.make_patient(birth_name="Inconnu")
    when = datetime.combine(next_working_day(local_today() + timedelta(days=4)),
                            datetime.min.time()).replace(hour=10)
    actor = factories.case_plan_actor(case_manager)
    services.create_appointment(db.session, actor, {
        "patient_id": stranger.id, "provider_id": nurse.id, "starts_at": when})
    factories.move_patient(stranger, "CORNOUAILLE")
    _feed, token = feeds.create_feed(db.session, actor, provider=nurse)
    db.session.commit()
    logged_in(case_manager)
    token_form = client.csrf_token(f"/scheduling/patients/{patient.id}/new")
    refused = client.post(f"/scheduling/patients/{patient.id}/new", data={
        "csrf_token": token_form, "provider_id": nurse.id, "kind": "home_visit",
        "starts_at": when.strftime("%Y-%m-%dT%H:%M"), "duration_minutes": 30})
    assert refused.status_code == 409
    assert "INCONNU" not in refused.get_data(as_text=True).upper()
    ics = client.get(f"/calendar/feed/{token}.ics").data
    summaries = [str(e["summary"]) for e in icalendar.Calendar.from_ical(ics).walk("VEVENT")]
    assert summaries and not any("INCONNU" in s.upper() for s in summaries)


def test_a_series_cannot_point_at_another_patients_plan_action(case_manager, patient):
    from datetime import datetime

    from coordinator.core.errors import ValidationError
    from coordinator.scheduling import services

    other_plan = factories.make_care_plan(factories.make_patient(), status="active")
    action_id = other_plan.goals[0].actions[0].id
    with pytest.raises(ValidationError) as caught:
        services.create_appointment(db.session, factories.case_plan_actor(case_manager), {
            "patient_id": patient.id, "provider_id": patient.gp_id, "action_id": action_id,
            "starts_at": datetime.combine(next_working_day(local_today() + timedelta(days=2)),
                                          datetime.min.time()).replace(hour=9)})
    assert "action_id" in caught.value.messages()


def test_the_preview_proposes_the_care_teams_provider_of_each_kind(client, logged_in,
                                                                   case_manager, patient):
    factories.make_provider("nurse", name="Aaa premier de l'annuaire")
    team_nurse = factories.make_provider("nurse", name="Zzz de l'équipe")
    factories.make_care_plan(patient, user=case_manager, status="active",
                             team=[{"provider_id": team_nurse.id}])
    logged_in(case_manager)
    data = form_fields(_preview(client, patient, local_today() + timedelta(days=7))
                       .get_data(as_text=True), "series-form")
    assert data["provider-nurse"] == str(team_nurse.id)


@pytest.mark.parametrize("every,times,label", [
    (1, 1, "(every day, 1 time)"), (14, 3, "(every 14 days, 3 times)")])
def test_a_plan_action_offered_as_a_source_is_counted_in_words(client, logged_in, case_manager,
                                                               patient, every, times, label):
    nurse = factories.make_provider("nurse")
    factories.make_care_plan(patient, user=case_manager, status="active", goals=[
        {"description": "Surveiller le poids", "actions": [
            {"description": "Pesée", "responsible": "provider", "provider_id": nurse.id,
             "interval_days": every, "occurrences": times}]}])
    logged_in(case_manager)
    page = client.get(f"/scheduling/patients/{patient.id}/series",
                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f"Plan action: Pesée {label}" in page


def test_a_series_names_a_missing_round_name_and_a_past_row_at_once(client, logged_in,
                                                                    case_manager, patient):
    """Issue #16: the form's own check (the round's name) and the booking rules of its rows
    (a day in the past) in one answer; nothing booked."""
    logged_in(case_manager)
    start = next_working_day(local_today() + timedelta(days=7))
    data = form_fields(_preview(client, patient, start).get_data(as_text=True), "series-form")
    data["round_label"] = ""
    data["rows-0-starts_at"] = f"{(local_today() - timedelta(days=2)).isoformat()}T09:00"
    response = client.post(f"/scheduling/patients/{patient.id}/series", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="round_label-error"' in html and 'id="rows-0-starts_at-error"' in html
    assert db.session.scalar(select(Appointment).where(
        Appointment.patient_id == patient.id)) is None
