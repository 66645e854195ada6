"""Patients' rights (L1111-7): the export of everything held about one patient — JSON and a
readable PDF, with the access log — holds every kind of their data and nothing of another
patient's, in a constant number of statements; administrators only; each export audited; the
DPO's command writes the file."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from coordinator.audit.models import AuditAction, AuditEntry
from coordinator.careplans import services as plan_services
from coordinator.core.context import Actor
from coordinator.core.time import local_today
from coordinator.extensions import db
from coordinator.hl7.models import Hl7Message, MessageStatus
from coordinator.outbox import services as outbox
from coordinator.patients import services as patient_services
from coordinator.patients.merge import merge_patients
from coordinator.rights import services as rights
from coordinator.scheduling import feeds
from coordinator.scheduling.models import AppointmentStatus, FollowUpRound
from coordinator.stays import services as stay_services
from coordinator.stays.models import StaySource
from coordinator.tasks.models import AlertAcknowledgement, AlertKind
from tests import factories
from tests.timeline.conftest import appointment, contact, stay, stratum, task

ACTOR = Actor.system("test")
TODAY = local_today()
KINDS = ("consent_history", "strata", "care_plans", "appointments", "followup_rounds", "stays",
         "clinical_events", "tasks", "contacts", "alert_acknowledgements", "hl7_messages",
         "calendar_feeds", "messages", "access_log")


def fill(patient, user, mark: str, copies: int = 1) -> dict:
    """Data of every kind for `patient`, each text carrying `mark`; `copies` rows of each
    kind that may have several."""
    gp = factories.make_provider("gp", name=f"Dr {mark}")
    patient.trusted_person_name = f"Trusted {mark}"
    patient.phone, patient.email = "0601020304", f"{mark.lower()}@example.test"
    patient_services.record_consent(db.session, ACTOR, patient, True, TODAY - timedelta(days=400))
    made: dict = {"stays": [], "appointments": [], "plans": [], "events": []}
    made["strata"] = stratum(patient, "HF-2", TODAY - timedelta(days=390), f"inclusion {mark}")
    for copy in range(copies):
        start = TODAY - timedelta(days=300 - copy * 40)
        made["stays"].append(stay(patient, start, start + timedelta(days=5),
                                  facility=f"CH {mark}", diagnoses=["E11.2"]))
        made["appointments"].append(appointment(patient, gp, start + timedelta(days=10),
                                                notes=f"Visit {mark} {copy}"))
        made["plans"].append(factories.make_care_plan(  # closed: one draft at a time
            patient, user=user, status="closed", priorities=f"Priorities {mark} {copy}",
            goals=[{"description": f"Goal {mark} {copy}", "domain": "health",
                    "actions": [{"description": f"Action {mark}", "responsible": "provider",
                                 "provider_id": gp.id}]}]))
        plan_services.add_comment(db.session, ACTOR, made["plans"][-1], f"Comment {mark} {copy}")
        made["events"].append(stay_services.record_event(
            db.session, patient=patient, source=StaySource.FORM, actor=ACTOR,
            values={"event_type": "immunization", "code": "influenza",
                    "occurred_on": start + timedelta(days=20), "label": f"Flu {mark} {copy}"}))
        contact(patient, user, start + timedelta(days=7), note=f"Call {mark} {copy}")
        task(patient, user, start + timedelta(days=8))
        db.session.add(FollowUpRound(patient_id=patient.id, label=f"Round {mark} {copy}",
                                     created_by="test"))
        db.session.add(Hl7Message(control_id=f"{mark}-{copy}", raw=f"MSH|RAW {mark}",
                                  status=MessageStatus.APPLIED, ack_code="AA",
                                  patient_id=patient.id, message_type="ADT^A01",
                                  patient_name=f"HL7 {mark}", visit_number=f"V{mark}{copy}"))
        outbox.add(db.session, key=f"reminder-{mark}-{copy}", kind="appointment_reminder",
                   subject=f"Reminder {mark} {copy}", body=f"Body {mark}", locale="en",
                   recipient=patient.email, patient_id=patient.id)
        db.session.add(AlertAcknowledgement(kind=AlertKind.ADMITTED, patient_id=patient.id,
                                            stay_id=made["stays"][-1].id, note=f"Seen {mark}"))
        feeds.create_feed(db.session, ACTOR, patient=patient)
        patient_services.read_patient(db.session, Actor.for_user(user), patient)
    db.session.commit()
    return made


@pytest.fixture
def patient(case_manager):
    return factories.make_patient(birth_name="Exportable", first_names="Jeanne Marie",
                                  birth_date=date(1941, 3, 9), case_manager_id=case_manager.id)


@pytest.fixture
def other(case_manager):
    """Another patient of the same territory, with data of every kind."""
    other = factories.make_patient(birth_name="Intruder", first_names="Hortense",
                                   case_manager_id=case_manager.id,
                                   nir=factories.make_nir("F", date(1950, 6, 15), order=777))
    fill(other, case_manager, "OTHERMARK")
    return other


@pytest.fixture
def admin_client(logged_in, admin):
    return logged_in(admin)


def exported(client, patient, headers=None) -> dict:
    response = client.get(f"/patients/{patient.id}/rights/export.json", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "private, no-store"
    return json.loads(response.get_data(as_text=True))


def test_the_json_holds_every_kind_of_the_patients_data_and_nothing_of_another(
        admin_client, patient, other, case_manager):
    fill(patient, case_manager, "MINEMARK")
    other_ids = _ids_of(other)
    document = exported(admin_client, patient)

    assert document["format"] == rights.FORMAT
    person = document["patient"]
    assert (person["id"], person["birth_name"], person["first_names"]) == \
        (patient.id, "Exportable", "Jeanne Marie")
    assert person["birth_date"] == "1941-03-09" and person["trusted_person_name"] == \
        "Trusted MINEMARK" and person["case_manager"] == case_manager.full_name
    assert "birth_name_folded" not in person and "version" not in person
    for kind in KINDS:
        assert document[kind], f"{kind} is empty"
        for row in document[kind]:
            assert row.get("patient_id", patient.id) == patient.id, (kind, row)
        # None of the other patient's rows of that kind.
        assert not {row["id"] for row in document[kind]} & other_ids[kind], kind
    plan = document["care_plans"][0]
    assert plan["goals"][0]["description"] == "Goal MINEMARK 0"
    assert plan["goals"][0]["actions"][0]["provider"] == "Dr MINEMARK"
    assert plan["team"] and plan["revisions"] and plan["revisions"][0]["snapshot"]
    assert plan["comments"][0]["body"] == "Comment MINEMARK 0"
    assert document["stays"][0]["diagnoses"] == ["E11.2"]
    assert document["stays"][0]["admitted_at"].endswith("+00:00")  # ISO instants, UTC
    assert "raw" not in document["hl7_messages"][0]
    assert "token_hash" not in document["calendar_feeds"][0]
    assert {"ip_address", "details"}.isdisjoint(document["access_log"][0])
    assert {row["action"] for row in document["access_log"]} >= {"read", "update", "create"}
    # Nothing names the other patient, their providers or their texts.
    text = json.dumps(document, ensure_ascii=False)
    for trace in ("OTHERMARK", "Intruder", "Hortense", other.nir):
        assert trace not in text


def _ids_of(patient) -> dict[str, set[int]]:
    document = rights.document(rights.gather(db.session, patient), "test")
    return {kind: {row["id"] for row in document[kind]} for kind in KINDS}


def test_the_access_log_follows_the_records_merged_into_the_patients(
        app, admin_client, admin, patient, case_manager, tmp_path):
    twin = factories.make_patient(birth_name="Exportable", first_names="Jeanne",
                                  case_manager_id=case_manager.id)
    patient_services.read_patient(db.session, Actor.for_user(case_manager), twin)
    merge_patients(db.session, Actor.for_user(admin), patient, twin)
    db.session.commit()
    document = exported(admin_client, patient)
    assert document["patient"]["merged_records"] == [twin.id]
    assert any(row["patient_id"] == twin.id and row["actor_label"] == case_manager.email
               for row in document["access_log"])
    # The merged-away record is exported through the one it went into.
    assert admin_client.get(f"/patients/{twin.id}/rights/export.json").status_code == 404
    refused = app.test_cli_runner().invoke(args=["patients", "export", str(twin.id),
                                                 "--output", str(tmp_path / "twin.json")])
    assert refused.exit_code != 0 and f"merged into record {patient.id}" in refused.output
    assert not (tmp_path / "twin.json").exists()


def test_each_export_is_audited_with_what_it_held(admin_client, admin, patient, case_manager):
    fill(patient, case_manager, "MINEMARK")
    exported(admin_client, patient)
    entry = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == AuditAction.EXPORT, AuditEntry.patient_id == patient.id)).one()
    assert entry.actor_user_id == admin.id and entry.entity_type == "patient"
    assert entry.details["format"] == "json"
    assert entry.details["sections"]["appointments"] == 1
    assert entry.details["sections"]["care_plans"] == 1
    # The next export shows the previous one in the access log.
    later = exported(admin_client, patient)
    assert any(row["action"] == "export" and row["actor_label"] == admin.email
               for row in later["access_log"])


def test_the_pdf_reads_the_identity_plans_appointments_stays_and_access_log(
        admin_client, admin, patient, other, case_manager):
    fill(patient, case_manager, "MINEMARK")
    response = admin_client.get(f"/patients/{patient.id}/rights/export.pdf",
                                headers={"Accept-Language": "en"})
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    assert response.mimetype == "application/pdf"
    text = " ".join(" ".join(page.extract_text().split())
                    for page in PdfReader(io.BytesIO(response.data)).pages)
    for expected in ("Everything the registry holds about EXPORTABLE Jeanne Marie",
                     "Trusted MINEMARK", "Goal MINEMARK 0", "Priorities MINEMARK 0",
                     "Dr MINEMARK", "CH MINEMARK", "E11.2", "Visit MINEMARK 0",
                     "Access log", case_manager.email, "the record", "Printed on"):
        assert expected in text, expected
    assert "OTHERMARK" not in text and "Intruder" not in text
    entry = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == AuditAction.EXPORT, AuditEntry.patient_id == patient.id)).one()
    assert entry.details["format"] == "pdf"


def test_the_pdf_is_in_french_for_a_french_reader(admin_client, patient, case_manager):
    fill(patient, case_manager, "MINEMARK")
    response = admin_client.get(f"/patients/{patient.id}/rights/export.pdf",
                                headers={"Accept-Language": "fr"})
    text = " ".join(" ".join(page.extract_text().split())
                    for page in PdfReader(io.BytesIO(response.data)).pages)
    assert "Journal des accès" in text and "Séjours hospitaliers" in text
    assert "Adresse postale" in text and "Provisoire" in text and "Consulté" in text


def test_a_pdf_that_cannot_be_rendered_writes_nothing(admin_client, patient, monkeypatch):
    from coordinator.printing import pdf as pdfs
    from coordinator.printing import services as printing

    def fail(html, time_limit=None):
        raise pdfs.RenderTimedOut(20)

    monkeypatch.setattr(printing, "render_uncached", fail)
    before = db.session.scalar(select(func.count()).select_from(AuditEntry))
    response = admin_client.get(f"/patients/{patient.id}/rights/export.pdf")
    assert response.status_code == 503
    assert f"patients export {patient.id}" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == before


def test_the_export_takes_as_many_statements_for_many_rows_as_for_few(
        admin_client, case_manager, count_queries, make_user):
    few = factories.make_patient(case_manager_id=case_manager.id)
    many = factories.make_patient(case_manager_id=case_manager.id)
    fill(few, case_manager, "FEW", copies=1)
    fill(many, case_manager, "MANY", copies=4)
    few_id, many_id = few.id, many.id
    counts = []
    for patient_id in (few_id, many_id):
        with count_queries() as queries:
            response = admin_client.get(f"/patients/{patient_id}/rights/export.json")
        assert response.status_code == 200
        counts.append(queries.count)
    assert counts[0] == counts[1], queries.report()
    assert counts[0] <= 30, queries.report()  # sign-in and page bookkeeping + one per kind
    assert len(json.loads(response.data)["appointments"]) == 4


def test_the_record_shows_the_rights_section_to_administrators_only(
        app, admin_client, patient, case_manager):
    page = admin_client.get(f"/patients/{patient.id}").get_data(as_text=True)
    assert 'data-testid="rights-export-pdf"' in page and \
        f"/patients/{patient.id}/rights/export.json" in page
    other_client = app.test_client()
    other_client.login(case_manager.email)
    page = other_client.get(f"/patients/{patient.id}").get_data(as_text=True)
    assert "Exportable".upper() in page
    assert "rights-export" not in page


@pytest.mark.parametrize("role", ["case_manager", "council", "gp"])
@pytest.mark.parametrize("kind", ["json", "pdf"])
def test_nobody_else_exports(logged_in, make_user, patient, role, kind):
    user = make_user(role=role, territory_code="DOUAISIS" if role != "gp" else None)
    client = logged_in(user)
    assert client.get(f"/patients/{patient.id}/rights/export.{kind}").status_code == 403
    assert not db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == AuditAction.EXPORT))


def test_an_unknown_record_is_404_and_anonymous_goes_to_sign_in(app, admin_client, patient):
    assert admin_client.get("/patients/999999/rights/export.json").status_code == 404
    anonymous = app.test_client().get(f"/patients/{patient.id}/rights/export.json")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_the_command_writes_the_file_and_audits_it(app, patient, case_manager, tmp_path):
    fill(patient, case_manager, "MINEMARK")
    runner = app.test_cli_runner()
    target = tmp_path / "export.json"
    result = runner.invoke(args=["patients", "export", str(patient.id), "--format", "json",
                                 "--output", str(target)])
    assert result.exit_code == 0, result.output
    document = json.loads(target.read_text(encoding="utf-8"))
    assert document["patient"]["id"] == patient.id and document["generated_by"] == "cli"
    pdf_target = tmp_path / "export.pdf"
    result = runner.invoke(args=["patients", "export", str(patient.id), "--format", "pdf",
                                 "--output", str(pdf_target), "--language", "en"])
    assert result.exit_code == 0, result.output
    text = PdfReader(io.BytesIO(pdf_target.read_bytes())).pages[0].extract_text()
    assert "Exportable".upper() in text
    entries = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == AuditAction.EXPORT, AuditEntry.patient_id == patient.id)).all()
    assert sorted(entry.details["format"] for entry in entries) == ["json", "pdf"]
    assert {entry.actor_label for entry in entries} == {"cli"}
    missing = runner.invoke(args=["patients", "export", "999999", "--output",
                                  str(tmp_path / "none.json")])
    assert missing.exit_code != 0 and "no patient" in missing.output
    assert not (tmp_path / "none.json").exists()


def test_appointment_statuses_are_exported_as_values(admin_client, patient):
    gp = factories.make_provider("gp")
    appointment(patient, gp, TODAY - timedelta(days=3), AppointmentStatus.NO_SHOW,
                no_show_reason="transport")
    row = exported(admin_client, patient)["appointments"][0]
    assert (row["status"], row["no_show_reason"]) == ("no_show", "transport")
