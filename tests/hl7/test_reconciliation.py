"""The reconciliation list: the territory's case managers see the messages whose patient matched
no record or several, link one to a record (it is applied) or reject it, audited."""

from __future__ import annotations

from sqlalchemy import select

from coordinator.audit.models import AuditEntry
from coordinator.extensions import db
from coordinator.hl7.models import Hl7Message, MessageStatus
from coordinator.hl7.services import Sender
from coordinator.stays.models import Stay
from tests.factories import make_patient, territory
from tests.hl7.conftest import adt, code, hospital_patient, send


def waiting(territory_code: str | None = "DOUAISIS", **kwargs) -> Hl7Message:
    """A message matching no record, received by a listener started for that territory."""
    sender = Sender.listener("127.0.0.1", territory(territory_code).id if territory_code
                             else None)
    receipt = send(adt("A01", ins=None, local_id="NOBODY", **kwargs), sender)
    assert code(receipt) == "AA"
    return db.session.get(Hl7Message, receipt.message_id)


def post_form(client, url: str, data: dict, page: str):
    return client.post(url, data={"csrf_token": client.csrf_token(page), **data})


def test_a_case_manager_lists_the_waiting_messages_of_their_territory(app, case_manager,
                                                                     logged_in):
    mine = waiting()
    client = logged_in(case_manager)
    page = client.get("/hl7/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "MARTIN MARIE" in text and mine.visit_number in text
    assert f"/hl7/{mine.id}" in text
    entry = db.session.scalar(select(AuditEntry)
                              .where(AuditEntry.entity_type == "hl7_reconciliation"))
    assert entry.actor_label == case_manager.email


def test_a_case_manager_of_another_territory_sees_none_of_them(app, other_case_manager,
                                                              logged_in):
    message = waiting()
    client = logged_in(other_case_manager)
    assert "MARTIN MARIE" not in client.get("/hl7/").get_data(as_text=True)
    assert client.get(f"/hl7/{message.id}").status_code == 404


def test_a_message_of_no_known_territory_is_for_administrators(app, case_manager, admin):
    message = waiting(territory_code=None)
    assert message.territory_id is None
    for user, status in ((case_manager, 404), (admin, 200)):
        client = app.test_client()
        client.login(user.email)
        assert client.get(f"/hl7/{message.id}").status_code == status


def test_other_roles_have_no_reconciliation_list(app, make_user):
    message = waiting()
    for role in ("gp", "council", "professional"):
        client = app.test_client()
        assert client.login(make_user(role=role, territory_code="DOUAISIS").email
                            ).status_code == 302
        assert client.get("/hl7/").status_code == 403
        assert client.get(f"/hl7/{message.id}").status_code == 403


def test_linking_a_message_applies_it_to_the_record(app, case_manager, logged_in):
    message = waiting()
    patient = hospital_patient(nir=None, birth_name="Martin")
    client = logged_in(case_manager)
    page = client.get(f"/hl7/{message.id}").get_data(as_text=True)
    assert patient.display_name in page  # suggested: same birth name and birth date
    response = post_form(client, f"/hl7/{message.id}/link",
                         {"patient_id": patient.id, "note": "same person"},
                         f"/hl7/{message.id}")
    assert response.status_code == 302
    db.session.refresh(message)
    assert message.status == MessageStatus.LINKED
    assert message.patient_id == patient.id
    assert message.resolved_by == case_manager.email
    assert message.resolution_note == "same person"
    stay = db.session.get(Stay, message.stay_id)
    assert stay.patient_id == patient.id and stay.external_id == "V2026-0001"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.entity_type == "hl7_message",
                                                       AuditEntry.action == "update"))
    assert entry.patient_id == patient.id and entry.actor_label == case_manager.email
    # The message stays answered as it was: a resend changes nothing.
    again = send(message.raw)
    assert again.replayed and again.ack == message.ack


def test_a_message_is_linked_only_to_a_record_the_case_manager_may_open(app, case_manager,
                                                                       logged_in):
    message = waiting()
    elsewhere = make_patient(territory_code="CORNOUAILLE")
    client = logged_in(case_manager)
    response = post_form(client, f"/hl7/{message.id}/link", {"patient_id": elsewhere.id},
                         f"/hl7/{message.id}")
    assert response.status_code == 400
    db.session.refresh(message)
    assert message.status == MessageStatus.PENDING
    assert db.session.scalar(select(Stay)) is None


def test_a_link_the_stays_rules_refuse_is_shown_and_changes_nothing(app, case_manager,
                                                                   logged_in):
    message = waiting()
    patient = hospital_patient()
    send(adt("A01", ins=patient.nir, visit="OTHER", admitted="202603052000"))  # overlaps
    client = logged_in(case_manager)
    response = post_form(client, f"/hl7/{message.id}/link", {"patient_id": patient.id},
                         f"/hl7/{message.id}")
    assert response.status_code == 400
    assert "chevauche" in response.get_data(as_text=True)  # the stays rule, in French
    db.session.refresh(message)
    assert message.status == MessageStatus.PENDING


def test_rejecting_a_message_keeps_it_unapplied(app, case_manager, logged_in):
    message = waiting()
    client = logged_in(case_manager)
    refused = post_form(client, f"/hl7/{message.id}/reject", {"note": ""},
                        f"/hl7/{message.id}")
    assert refused.status_code == 400
    response = post_form(client, f"/hl7/{message.id}/reject", {"note": "a test patient"},
                         f"/hl7/{message.id}")
    assert response.status_code == 302
    db.session.refresh(message)
    assert message.status == MessageStatus.REJECTED
    assert message.resolution_note == "a test patient"
    assert "MARTIN MARIE" not in client.get("/hl7/").get_data(as_text=True)
    # Neither linked nor rejected twice.
    again = post_form(client, f"/hl7/{message.id}/link", {"patient_id": make_patient().id},
                      f"/hl7/{message.id}")
    assert again.status_code == 400


def test_the_list_query_count_does_not_grow_with_its_rows(app, admin, logged_in,
                                                          count_queries):
    client = logged_in(admin)
    for _ in range(3):
        waiting()
    with count_queries() as few:
        client.get("/hl7/")
    for _ in range(12):
        waiting()
    with count_queries() as many:
        client.get("/hl7/")
    assert many.count == few.count


def test_administrators_filter_by_status(app, admin, logged_in):
    patient = hospital_patient()
    send(adt("A01", ins=patient.nir, control="APPLIED-1"))
    client = logged_in(admin)
    assert "APPLIED-1" not in client.get("/hl7/").get_data(as_text=True)
    listed = client.get("/hl7/?status=applied").get_data(as_text=True)
    assert "V2026-0001" in listed
