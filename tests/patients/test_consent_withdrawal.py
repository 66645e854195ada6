"""Withdrawing the consent to share (issue 16, bug 7) is never one click: it asks for
confirmation, its date (today by default, not in the future) and how the patient expressed it;
it is audited and shown on the record. The same rule holds for the edit form and the API."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from coordinator.audit.models import AuditEntry
from coordinator.auth import services as auth_services
from coordinator.core.context import Actor
from coordinator.core.errors import ValidationError
from coordinator.core.time import local_today
from coordinator.extensions import db
from coordinator.patients import services
from coordinator.patients.models import ConsentEvent, Patient
from tests.api.conftest import ApiCaller
from tests.factories import make_patient


@pytest.fixture
def consenting():
    return make_patient(consent_share=True, consent_date=date(2025, 1, 1))


def _path(patient) -> str:
    return f"/patients/{patient.id}/consent/withdraw"


def _events(patient) -> list[ConsentEvent]:
    return list(db.session.scalars(select(ConsentEvent).where(
        ConsentEvent.patient_id == patient.id)))


def test_the_record_links_to_a_confirmation_not_a_one_click_withdrawal(client, logged_in,
                                                                      case_manager,
                                                                      consenting):
    logged_in(case_manager)
    record = client.get(f"/patients/{consenting.id}").get_data(as_text=True)
    assert f'href="{_path(consenting)}"' in record
    assert 'name="consent_share" value="no"' not in record
    token = client.csrf_token(f"/patients/{consenting.id}")
    one_click = client.post(f"/patients/{consenting.id}/consent",
                            data={"csrf_token": token, "consent_share": "no"})
    assert one_click.status_code == 303
    assert db.session.get(Patient, consenting.id).consent_share is True
    assert _events(consenting) == []


def test_the_confirmation_page_proposes_today_and_asks_how_it_was_expressed(client, logged_in,
                                                                           case_manager,
                                                                           consenting):
    logged_in(case_manager)
    page = client.get(_path(consenting))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'value="{local_today().isoformat()}"' in html
    assert 'name="expressed_as"' in html and 'value="written"' in html
    assert 'name="confirm"' in html


def test_without_confirmation_or_manner_nothing_is_withdrawn(client, logged_in, case_manager,
                                                             consenting):
    logged_in(case_manager)
    token = client.csrf_token(_path(consenting))
    today = local_today().isoformat()
    for data, field in (({"effective_date": today, "expressed_as": "oral"}, "confirm"),
                        ({"effective_date": today, "confirm": "y"}, "expressed_as")):
        refused = client.post(_path(consenting), data={"csrf_token": token, **data})
        assert refused.status_code == 400
        assert f'id="{field}-error"' in refused.get_data(as_text=True)
    assert db.session.get(Patient, consenting.id).consent_share is True
    assert _events(consenting) == []


def test_a_date_in_the_future_is_refused_on_its_field(client, logged_in, case_manager,
                                                      consenting):
    logged_in(case_manager)
    tomorrow = (local_today() + timedelta(days=1)).isoformat()
    refused = client.post(_path(consenting), data={
        "csrf_token": client.csrf_token(_path(consenting)), "effective_date": tomorrow,
        "expressed_as": "oral", "confirm": "y"})
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert 'id="effective_date-error"' in html and "ne peut pas être dans le futur" in html
    assert db.session.get(Patient, consenting.id).consent_share is True


def test_a_confirmed_withdrawal_is_recorded_audited_and_shown(client, logged_in, case_manager,
                                                              consenting):
    logged_in(case_manager)
    day = local_today() - timedelta(days=2)
    response = client.post(_path(consenting), data={
        "csrf_token": client.csrf_token(_path(consenting)), "effective_date": day.isoformat(),
        "expressed_as": "written", "confirm": "y"})
    assert response.status_code == 302
    patient = db.session.get(Patient, consenting.id)
    assert (patient.consent_share, patient.consent_date) == (False, day)
    [event] = _events(consenting)
    assert (event.consent_share, event.effective_date, event.expressed_as) == (
        False, day, "written")
    entry = db.session.scalars(select(AuditEntry).where(
        AuditEntry.patient_id == consenting.id, AuditEntry.summary == "consent withdrawn")).one()
    assert entry.details == {"effective_date": day.isoformat(), "expressed_as": "written"}
    record = client.get(f"/patients/{consenting.id}").get_data(as_text=True)
    assert 'data-testid="consent-withdrawn"' in record and "Par écrit" in record  # fr user


def test_the_french_page_is_translated(client, logged_in, case_manager, consenting):
    logged_in(case_manager)
    client.post("/language", data={"csrf_token": client.csrf_token("/"), "locale": "fr"})
    html = client.get(_path(consenting)).get_data(as_text=True)
    assert "Par écrit" in html and "Retirer le consentement" in html


def test_the_service_asks_the_manner_of_a_withdrawal_and_no_future_date(consenting):
    actor = Actor.system("test")
    with pytest.raises(ValidationError) as caught:
        services.record_consent(db.session, actor, consenting, False)
    assert list(caught.value.messages()) == ["expressed_as"]
    with pytest.raises(ValidationError) as caught:
        services.record_consent(db.session, actor, consenting, False,
                                local_today() + timedelta(days=3), "oral")
    assert list(caught.value.messages()) == ["effective_date"]
    with pytest.raises(ValidationError) as caught:
        services.record_consent(db.session, actor, consenting, False, None, "telepathy")
    assert list(caught.value.messages()) == ["expressed_as"]
    assert consenting.consent_share is True


def test_the_edit_form_asks_the_manner_too(client, logged_in, case_manager, consenting):
    from tests.htmlform import form_fields

    logged_in(case_manager)
    path = f"/patients/{consenting.id}/edit"
    data = form_fields(client.get(path).get_data(as_text=True))
    data.pop("consent_share", None)  # unticked: a withdrawal
    refused = client.post(path, data=data)
    assert refused.status_code == 400
    assert 'id="consent_expressed_as-error"' in refused.get_data(as_text=True)
    assert db.session.get(Patient, consenting.id).consent_share is True
    assert client.post(path, data=data | {"consent_expressed_as": "oral"}).status_code == 302
    assert db.session.get(Patient, consenting.id).consent_share is False


def test_the_api_asks_the_manner_of_a_withdrawal(client, session, case_manager, consenting):
    issued = auth_services.issue_token(session, case_manager, Actor.system("test"))
    session.commit()
    caller = ApiCaller(client, issued.secret)
    url = f"/api/v1/patients/{consenting.id}"
    etag = caller.get(url).headers["ETag"]
    refused = caller.patch(url, json={"consent_share": False}, headers={"If-Match": etag})
    assert refused.status_code == 422
    assert list(refused.json["errors"]) == ["consent_expressed_as"]
    done = caller.patch(url, json={"consent_share": False, "consent_expressed_as": "email"},
                        headers={"If-Match": etag})
    assert done.status_code == 200, done.json
    assert [e.expressed_as for e in _events(consenting)] == ["email"]
