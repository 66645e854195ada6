"""Receiving ADT messages: the mapping to stays, the ACK rules, idempotence, and every bad input
of issue 13 (a broken segment, an unknown patient, several matches, an unknown trigger event, a
duplicate control id), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from coordinator.audit.models import AuditEntry
from coordinator.extensions import db
from coordinator.hl7.models import Hl7Message, MessageStatus
from coordinator.stays.models import Stay, StaySource
from tests.factories import make_patient, make_provider, territory
from tests.hl7.conftest import adt, code, hospital_patient, send


def stays() -> list[Stay]:
    return list(db.session.scalars(select(Stay).order_by(Stay.id)))


def message(receipt) -> Hl7Message:
    return db.session.get(Hl7Message, receipt.message_id)


def segment(ack: str, name: str) -> list[str]:
    line = next(line for line in ack.split("\r") if line.startswith(name + "|"))
    return line.split("|")


def test_an_admission_then_a_discharge_open_then_close_the_stay(app):
    patient = hospital_patient()
    admitted = send(adt("A01", ins=patient.nir, admitted="202603052210",
                        diagnoses=(("I50.9", "1"), ("E11.9", "2"))))
    assert code(admitted) == "AA"
    [stay] = stays()
    assert stay.patient_id == patient.id
    assert stay.external_id == "V2026-0001"
    assert stay.source == StaySource.HL7
    assert stay.facility_name == "CH_DOUAI" and stay.facility_finess == "590000021"
    assert stay.location == "CARDIO 12 1"
    assert stay.admission_mode == "emergency"
    assert stay.admitted_at == datetime(2026, 3, 5, 21, 10, tzinfo=UTC)  # 22:10 Paris (winter)
    assert stay.is_open
    assert stay.main_diagnosis == "I50.9"
    assert [row.code for row in stay.diagnoses] == ["E11.9"]
    assert message(admitted).status == MessageStatus.APPLIED
    assert message(admitted).stay_id == stay.id

    discharged = send(adt("A03", ins=patient.nir, discharged="202603121100+0100",
                          disposition="01"))
    assert code(discharged) == "AA"
    [stay] = stays()
    assert stay.discharged_at == datetime(2026, 3, 12, 10, 0, tzinfo=UTC)
    assert stay.discharge_destination == "home"
    assert not stay.is_open
    assert stay.lace_score is not None  # derived at discharge by the stays service


def test_a_discharge_home_of_a_caseload_patient_gives_the_case_manager_two_tasks(
        app, case_manager):
    from coordinator.tasks.models import Task

    patient = hospital_patient(case_manager_id=case_manager.id)
    today = datetime.now(UTC)
    admitted, discharged = today - timedelta(days=6), today - timedelta(hours=2)
    send(adt("A01", ins=patient.nir, admitted=admitted.strftime("%Y%m%d%H%M+0000")))
    assert db.session.scalar(select(func.count()).select_from(Task)) == 0
    send(adt("A03", ins=patient.nir, discharged=discharged.strftime("%Y%m%d%H%M+0000"),
             disposition="01"))
    tasks = list(db.session.scalars(select(Task).order_by(Task.kind)))
    assert [task.kind for task in tasks] == ["discharge_contact", "discharge_visit"]
    assert {task.assignee_id for task in tasks} == {case_manager.id}
    assert all(task.stay_id == stays()[0].id for task in tasks)


def test_the_ack_names_the_message_and_the_sender(app):
    patient = hospital_patient()
    receipt = send(adt("A01", ins=patient.nir, control="CTRL-42"))
    msh = segment(receipt.ack, "MSH")
    assert msh[1] == "^~\\&"
    assert msh[2] == "COORDINATOR"
    assert msh[4] == "SIH_DOUAI" and msh[5] == "CH_DOUAI^590000021^M"
    assert msh[8] == "ACK^A01^ACK"
    assert msh[11] == "2.5"
    assert msh[17] == "8859/1"
    assert segment(receipt.ack, "MSA")[1:3] == ["AA", "CTRL-42"]
    assert "ERR|" not in receipt.ack


def test_paris_local_time_unless_an_offset_is_given(app):
    patient = hospital_patient()
    send(adt("A03", ins=patient.nir, visit="V1", admitted="20260705221000",  # summer: UTC+2
             discharged="20260706"))
    send(adt("A01", ins=patient.nir, visit="V2", admitted="20260801100000-0500"))
    first, second = stays()
    assert first.admitted_at == datetime(2026, 7, 5, 20, 10, tzinfo=UTC)
    assert second.admitted_at == datetime(2026, 8, 1, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(("admission_type", "admit_source", "mode"), [
    ("U", "", "emergency"),
    ("E", "", "emergency"),
    ("R", "", "planned"),
    ("", "", "planned"),
    ("U", "4", "transfer"),  # PV1-14: from another hospital
    ("R", "6", "transfer"),
    ("IE", "", "transfer"),  # PV1-4: prestation inter-établissements
])
def test_the_admission_mode_comes_from_pv1_4_and_pv1_14(app, admission_type, admit_source,
                                                        mode):
    patient = hospital_patient()
    send(adt("A01", ins=patient.nir, admission_type=admission_type, admit_source=admit_source))
    assert stays()[0].admission_mode == mode


@pytest.mark.parametrize(("disposition", "destination"), [
    ("01", "home"), ("06", "home_with_services"), ("03", "nursing_home"),
    ("62", "rehabilitation"), ("02", "transfer"), ("20", "death"),
    ("8", "home"), ("9", "death"), ("7", "transfer"),  # PMSI modes de sortie
    ("3", None),  # a French "circonstance de sortie" (medical decision): no place
    ("", None),
])
def test_the_destination_comes_from_pv1_36(app, disposition, destination):
    patient = hospital_patient()
    send(adt("A03", ins=patient.nir, discharged="202603121100", disposition=disposition))
    assert stays()[0].discharge_destination == destination


def test_zfm_gives_the_pmsi_exit_when_pv1_36_does_not(app):
    patient = hospital_patient()
    send(adt("A03", ins=patient.nir, discharged="202603121100", disposition="3",
             extra=("ZFM|8|8||7",)))
    assert stays()[0].discharge_destination == "nursing_home"


def test_an_a03_without_a_known_admission_records_the_whole_stay(app):
    patient = hospital_patient()
    receipt = send(adt("A03", ins=patient.nir, admitted="202603052210",
                       discharged="202603121100", disposition="01"))
    assert code(receipt) == "AA"
    [stay] = stays()
    assert stay.admitted_at is not None and stay.discharged_at is not None


def test_a_resent_message_gets_the_same_ack_and_changes_nothing(app):
    patient = hospital_patient()
    text = adt("A01", ins=patient.nir, control="DUP-1")
    first = send(text)
    audit_entries = db.session.scalar(select(func.count()).select_from(AuditEntry))
    again = send(text)
    assert again.ack == first.ack  # word for word, its MSH-7 and MSH-10 included
    assert again.replayed and again.message_id == first.message_id
    assert len(stays()) == 1
    assert db.session.scalar(select(func.count()).select_from(Hl7Message)) == 1
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == audit_entries


def test_a_duplicate_control_id_with_another_content_changes_nothing_either(app):
    patient = hospital_patient()
    send(adt("A01", ins=patient.nir, control="DUP-2"))
    again = send(adt("A03", ins=patient.nir, control="DUP-2", discharged="202603121100"))
    assert code(again) == "AA" and again.replayed
    assert stays()[0].is_open


def test_the_same_control_id_from_another_sender_is_another_message(app):
    patient = hospital_patient()
    send(adt("A03", ins=patient.nir, control="SAME", visit="V1", discharged="202603061000"))
    other = send(adt("A01", ins=patient.nir, control="SAME", visit="V2",
                     application="OTHER_SIH", admitted="202604012210"))
    assert not other.replayed
    assert len(stays()) == 2


def test_a_resent_error_gets_the_same_error(app):
    text = adt("A05", control="ERR-1")
    first, again = send(text), send(text)
    assert code(first) == "AR" and again.ack == first.ack


# -- Bad input ---------------------------------------------------------------------------------

def test_a_broken_segment_is_an_error_naming_it_and_applies_nothing(app):
    patient = hospital_patient()
    text = adt("A01", ins=patient.nir).replace("\rPV1|", "\rPV!|")
    receipt = send(text)
    assert code(receipt) == "AE"
    err = segment(receipt.ack, "ERR")
    assert err[2] == "???^1"  # the segment's position (its id is not one)
    assert err[3] == "100^Segment sequence error^HL70357"
    assert "PV!" in err[8] and "Segment 4" in err[8]
    assert stays() == []
    kept = message(receipt)
    assert kept.status == MessageStatus.ERROR and kept.ack_code == "AE"
    assert "PV!" in kept.error


def test_an_unknown_segment_id_is_broken_but_z_segments_are_read_past(app):
    patient = hospital_patient()
    broken = send(adt("A01", ins=patient.nir, extra=("XYZ|1|2",)))
    assert code(broken) == "AE"
    assert "XYZ" in segment(broken.ack, "ERR")[8]
    fine = send(adt("A01", ins=patient.nir, extra=("ZFP|1|2", "ZFV|3", "ROL|1|AD")))
    assert code(fine) == "AA"


def test_a_malformed_admission_time_is_an_error_at_pv1_44(app):
    patient = hospital_patient()
    receipt = send(adt("A01", ins=patient.nir, admitted="2026-03-05"))
    assert code(receipt) == "AE"
    err = segment(receipt.ack, "ERR")
    assert err[2] == "PV1^1^44"
    assert err[3].startswith("102^")
    assert stays() == []


def test_a_missing_visit_number_is_an_error_at_pv1_19(app):
    patient = hospital_patient()
    receipt = send(adt("A01", ins=patient.nir, visit=""))
    assert code(receipt) == "AE"
    assert segment(receipt.ack, "ERR")[2:4] == ["PV1^1^19", "101^Required field missing^HL70357"]


def test_a_message_without_pid_is_an_error(app):
    text = "\r".join(line for line in adt("A01").split("\r") if not line.startswith("PID"))
    receipt = send(text)
    assert code(receipt) == "AE"
    assert segment(receipt.ack, "ERR")[2] == "PID^1"


def test_an_unknown_trigger_event_is_rejected(app):
    receipt = send(adt("A05"))
    assert code(receipt) == "AR"
    err = segment(receipt.ack, "ERR")
    assert err[2] == "MSH^1^9^^2"
    assert err[3] == "201^Unsupported event code^HL70357"
    assert message(receipt).status == MessageStatus.ERROR


def test_another_message_type_is_rejected(app):
    receipt = send(adt("A01").replace("ADT^A01^ADT_A01", "ORU^R01^ORU_R01"))
    assert code(receipt) == "AR"
    assert segment(receipt.ack, "ERR")[3].startswith("200^")


def test_a_test_message_is_rejected(app):
    patient = hospital_patient()
    receipt = send(adt("A01", ins=patient.nir, processing="T"))
    assert code(receipt) == "AR"
    assert segment(receipt.ack, "ERR")[3].startswith("202^")
    assert stays() == []


def test_an_unsupported_version_is_rejected_and_not_kept(app):
    receipt = send(adt("A01", version="3.0"))
    assert code(receipt) == "AR"
    assert segment(receipt.ack, "ERR")[3].startswith("203^")
    assert receipt.message_id is None


def test_text_that_is_not_hl7_is_rejected_and_not_kept(app):
    receipt = send(b"GET / HTTP/1.1\r\n\r\n")
    assert code(receipt) == "AR"
    assert receipt.message_id is None
    assert db.session.scalar(select(func.count()).select_from(Hl7Message)) == 0


def test_a_message_without_control_id_is_rejected(app):
    receipt = send(adt("A01", control="").replace("|ADT_A01||P|", "|ADT_A01||P|"))
    assert code(receipt) == "AR"
    assert segment(receipt.ack, "ERR")[2] == "MSH^1^10"


def test_an_unknown_icd10_shape_is_an_error_at_dg1(app):
    patient = hospital_patient()
    receipt = send(adt("A01", ins=patient.nir, diagnoses=(("XYZ", "1"),)))
    assert code(receipt) == "AE"
    err = segment(receipt.ack, "ERR")
    assert err[2] == "DG1^1^3^^1"
    assert err[3].startswith("102^")
    assert stays() == []


def test_a_discharge_before_the_admission_is_an_error(app):
    patient = hospital_patient()
    send(adt("A01", ins=patient.nir, admitted="202603052210"))
    receipt = send(adt("A03", ins=patient.nir, admitted="", discharged="202603011000"))
    assert code(receipt) == "AE"
    assert segment(receipt.ack, "ERR")[2] == "PV1^1^45"
    assert stays()[0].is_open  # nothing half-written


def test_an_overlapping_stay_in_the_same_facility_is_an_error(app):
    patient = hospital_patient()
    send(adt("A01", ins=patient.nir, visit="V1", admitted="202603052210"))
    receipt = send(adt("A01", ins=patient.nir, visit="V2", admitted="202603062210"))
    assert code(receipt) == "AE"
    assert "overlaps" in segment(receipt.ack, "ERR")[8]
    assert len(stays()) == 1


# -- Finding the patient -----------------------------------------------------------------------

def test_the_facility_identifier_matches_the_external_id_when_there_is_no_ins(app):
    patient = make_patient(external_id="PAT777")
    receipt = send(adt("A01", local_id="PAT777"))
    assert code(receipt) == "AA"
    assert stays()[0].patient_id == patient.id


def test_the_ins_goes_before_the_facility_identifier(app):
    patient = hospital_patient()
    make_patient(external_id="PAT123")  # another record with the hospital's identifier
    send(adt("A01", ins=patient.nir, local_id="PAT123"))
    assert stays()[0].patient_id == patient.id


def test_an_unknown_patient_waits_for_reconciliation_and_is_accepted(app):
    receipt = send(adt("A01", ins=None, local_id="NOBODY"))
    assert code(receipt) == "AA"
    kept = message(receipt)
    assert kept.status == MessageStatus.PENDING
    assert kept.reconciliation_reason == "no_match"
    assert kept.patient_name == "MARTIN MARIE"
    assert kept.visit_number == "V2026-0001"
    assert stays() == []


def test_several_matching_records_wait_for_reconciliation(app):
    make_patient(nir="269059917800175")
    make_patient(nir="269059917800175")
    receipt = send(adt("A01", ins="269059917800175", local_id=None))
    assert code(receipt) == "AA"
    kept = message(receipt)
    assert kept.status == MessageStatus.PENDING
    assert kept.reconciliation_reason == "several_matches"
    assert kept.territory_id == territory("DOUAISIS").id  # both records' territory
    assert stays() == []


def test_a_merged_record_is_followed_to_the_record_kept(app):
    kept = hospital_patient()
    merged = make_patient(external_id="OLD-ID")
    merged.merged_into_id = kept.id
    db.session.commit()
    send(adt("A01", local_id="OLD-ID"))
    assert stays()[0].patient_id == kept.id


def test_a_later_message_finds_the_patient_by_the_known_stay(app):
    patient = hospital_patient()
    send(adt("A01", ins=patient.nir, visit="V9"))
    receipt = send(adt("A03", ins=None, local_id="UNKNOWN-ID", visit="V9",
                       discharged="202603121100"))
    assert code(receipt) == "AA"
    assert message(receipt).status == MessageStatus.APPLIED
    assert not stays()[0].is_open


def test_the_visit_number_of_another_patient_is_an_error(app):
    first, second = hospital_patient(), make_patient(external_id="SECOND")
    send(adt("A01", ins=first.nir, visit="V5"))
    receipt = send(adt("A03", local_id="SECOND", visit="V5", discharged="202603121100"))
    assert code(receipt) == "AE"
    assert segment(receipt.ack, "ERR")[2] == "PV1^1^19"
    assert second.id not in {stay.patient_id for stay in stays()}


def test_a_waiting_message_goes_to_the_territory_of_the_facility(app):
    make_provider(kind="hospital", finess="590000021", territory_code="CORNOUAILLE")
    receipt = send(adt("A01", local_id="NOBODY"))
    assert message(receipt).territory_id == territory("CORNOUAILLE").id


# -- A02, A08, A11, A13 ------------------------------------------------------------------------

def test_a02_transfer_moves_the_patient_to_another_unit(app):
    patient = hospital_patient()
    send(adt("A01", ins=patient.nir, location="CARDIO^12^1"))
    receipt = send(adt("A02", ins=patient.nir, location="USIC^3^2", admitted=""))
    assert code(receipt) == "AA"
    [stay] = stays()
    assert stay.location == "USIC 3 2"
    assert stay.is_open and stay.admission_mode == "emergency"


def test_a08_updates_the_stay(app):
    patient = hospital_patient()
    send(adt("A01", ins=patient.nir, admitted="202603052210", diagnoses=(("I50.9", "1"),)))
    receipt = send(adt("A08", ins=patient.nir, admitted="202603052150", admission_type="R",
                       diagnoses=(("J44.1", "1"), ("I50.9", "2"))))
    assert code(receipt) == "AA"
    [stay] = stays()
    assert stay.admitted_at == datetime(2026, 3, 5, 20, 50, tzinfo=UTC)
    assert stay.admission_mode == "planned"
    assert stay.main_diagnosis == "J44.1"
    assert [row.code for row in stay.diagnoses] == ["I50.9"]


def test_a13_cancels_the_discharge(app):
    patient = hospital_patient()
    send(adt("A01", ins=patient.nir))
    send(adt("A03", ins=patient.nir, discharged="202603121100", disposition="01"))
    receipt = send(adt("A13", ins=patient.nir))
    assert code(receipt) == "AA"
    [stay] = stays()
    assert stay.is_open
    assert stay.discharged_at is None and stay.discharge_destination is None
    assert stay.lace_score is None


def test_a11_cancels_the_admission(app):
    patient = hospital_patient()
    send(adt("A01", ins=patient.nir))
    receipt = send(adt("A11", ins=patient.nir))
    assert code(receipt) == "AA"
    [stay] = stays()
    assert stay.cancelled_at is not None and not stay.is_open


def test_an_a01_after_an_a11_restores_the_admission(app):
    patient = hospital_patient()
    send(adt("A01", ins=patient.nir))
    send(adt("A11", ins=patient.nir))
    refused = send(adt("A03", ins=patient.nir, discharged="202603121100"))
    assert code(refused) == "AE"
    assert "cancelled" in segment(refused.ack, "ERR")[8]
    receipt = send(adt("A01", ins=patient.nir, location="USIC^1^1"))
    assert code(receipt) == "AA"
    [stay] = stays()
    assert stay.cancelled_at is None and stay.is_open and stay.location == "USIC 1 1"


def test_cancelling_an_unknown_stay_is_an_error(app):
    patient = hospital_patient()
    for event in ("A11", "A13"):
        receipt = send(adt(event, ins=patient.nir, visit="NEVER-SEEN"))
        assert code(receipt) == "AE"
        assert segment(receipt.ack, "ERR")[2:4] == ["PV1^1^19",
                                                     "204^Unknown key identifier^HL70357"]


def test_an_update_of_an_unknown_stay_without_admission_time_is_an_error(app):
    patient = hospital_patient()
    receipt = send(adt("A02", ins=patient.nir, visit="NEW", admitted=""))
    assert code(receipt) == "AE"
    assert segment(receipt.ack, "ERR")[2] == "PV1^1^44"


# -- Real-world tolerance ----------------------------------------------------------------------

def test_segments_separated_by_line_feeds_are_read(app):
    patient = hospital_patient()
    assert code(send(adt("A03", ins=patient.nir, discharged="202603061000",
                         separator="\n"))) == "AA"
    assert code(send(adt("A01", ins=patient.nir, visit="V2", admitted="202605012210",
                         separator="\r\n"))) == "AA"


def test_latin1_names_are_read_in_the_charset_of_msh_18(app):
    receipt = send(adt("A01", local_id="NOBODY", name="HÉLÈNE^ÉLODIE^^^^^L").encode("latin-1"))
    assert message(receipt).patient_name == "HÉLÈNE ÉLODIE"
    assert receipt.ack_bytes().decode("latin-1") == receipt.ack


def test_escaped_delimiters_are_read_as_text(app):
    receipt = send(adt("A01", local_id="NOBODY", name="O\\S\\BRIEN^ANNE^^^^^L"))
    assert message(receipt).patient_name == "O^BRIEN ANNE"


def test_a_message_is_audited(app):
    patient = hospital_patient()
    receipt = send(adt("A01", ins=patient.nir))
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.entity_type == "hl7_message"))
    assert entry.entity_id == str(receipt.message_id)
    assert entry.patient_id == patient.id
    assert entry.actor_label == "mllp 127.0.0.1"
