"""The rules of a stay and of a clinical event, in the one service the pages, the API, the CSV
import and the HL7 feed call: what is refused (naming the field, nothing written), what is
stored, what is recomputed (readmission flags, LACE), audited and announced."""

from datetime import date, datetime

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from coordinator.audit.models import AuditEntry
from coordinator.core.context import Actor
from coordinator.core.errors import ConflictError, ValidationError
from coordinator.extensions import db
from coordinator.patients import merge
from coordinator.stays import services
from coordinator.stays.models import ClinicalEvent, Stay, StayDiagnosis, StaySource
from tests import factories
from tests.stays.conftest import ACTOR, event, record, stay_values, utc


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def refused(patient, **values) -> dict[str, list[str]]:
    """The messages of a refused stay, by field; nothing was written."""
    before = count(Stay)
    with pytest.raises(ValidationError) as raised:
        services.record_stay(db.session, patient=patient, values=stay_values(**values),
                             source=StaySource.FORM, actor=ACTOR)
    db.session.rollback()
    assert count(Stay) == before
    with force_locale("en"):
        return raised.value.messages()


@pytest.fixture
def patient():
    return factories.make_patient(birth_date=date(1948, 3, 14))


# -- What is stored ------------------------------------------------------------------------------

def test_a_stay_is_stored_normalised_audited_and_announced(patient, announced):
    stay = record(patient, main_diagnosis="i509", diagnoses=["E11.9", "N18", "e119", "I50.9"],
                  facility_finess="590000021 ", facility_name="  Centre   hospitalier de Douai")
    assert (stay.facility_name, stay.facility_finess, stay.main_diagnosis) == (
        "Centre hospitalier de Douai", "590000021", "I50.9")
    assert [row.code for row in stay.diagnoses] == ["E11.9", "N18"]  # repeats and main left out
    # Paris time: 22:10 in winter is 21:10 UTC; the local days are stored with the instants.
    assert stay.admitted_at == utc(2026, 3, 5, 21, 10)
    assert (stay.admitted_on, stay.discharged_on) == (date(2026, 3, 5), date(2026, 3, 12))
    assert (stay.source, stay.created_by, stay.is_index_stay) == ("form", "test", True)
    assert stay.lace_score is not None  # discharged: LACE computed
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.entity_type == "stay"))
    assert (entry.action, entry.entity_id, entry.patient_id) == ("create", str(stay.id),
                                                                patient.id)
    assert announced == [(stay.id, "discharged")]
    open_stay = record(patient, admitted_at=datetime(2026, 5, 1, 9), discharged_at=None,
                       discharge_destination=None)
    assert open_stay.is_open and open_stay.lace_score is None
    assert announced[-1] == (open_stay.id, "admitted")


def test_the_actor_may_be_given_by_its_label(patient):
    stay = services.record_stay(db.session, patient=patient, values=stay_values(),
                                source=StaySource.HL7, actor="hl7")
    assert (stay.created_by, stay.source) == ("hl7", "hl7")


def test_a_discharge_day_alone_on_the_admission_day_is_the_admission_time(patient):
    stay = record(patient, admitted_at=datetime(2026, 6, 1, 10, 30), discharged_at=date(2026, 6, 1))
    assert stay.discharged_at == stay.admitted_at
    assert stay.lace_length == 0
    later = record(patient, admitted_at=date(2026, 7, 1), discharged_at=date(2026, 7, 3),
                   facility_name="Clinique", facility_finess=None)
    assert (later.admitted_at, later.discharged_at) == (utc(2026, 6, 30, 22), utc(2026, 7, 2, 22))


# -- Bad input ---------------------------------------------------------------------------------

def test_a_discharge_before_the_admission_is_refused(patient):
    assert list(refused(patient, discharged_at=datetime(2026, 3, 5, 22, 0))) == ["discharged_at"]
    assert "before the admission" in refused(patient, discharged_at=date(2026, 3, 4))[
        "discharged_at"][0]


def test_overlapping_stays_of_a_patient_in_one_facility_are_refused(patient):
    first = record(patient)  # 5 to 12 March
    errors = refused(patient, admitted_at=datetime(2026, 3, 10), discharged_at=None,
                     discharge_destination=None)
    assert list(errors) == ["admitted_at"] and f"stay #{first.id}" in errors["admitted_at"][0]
    # The same facility by its name too (case and accents ignored) when a FINESS is missing.
    assert "admitted_at" in refused(patient, facility_finess=None,
                                    facility_name="CENTRE HOSPITALIER DE DOUAÏ",
                                    admitted_at=datetime(2026, 3, 1),
                                    discharged_at=datetime(2026, 3, 6))
    # Another facility, the day of discharge itself, a stay right after: accepted.
    record(patient, facility_finess="590000039", facility_name="Clinique",
           admitted_at=datetime(2026, 3, 8))
    record(patient, admitted_at=datetime(2026, 3, 12, 11, 0), discharged_at=None,
           discharge_destination=None)
    # An open stay lasts until further notice: nothing after it in the same facility.
    assert "admitted_at" in refused(patient, admitted_at=datetime(2026, 9, 1),
                                    discharged_at=datetime(2026, 9, 3))


def test_a_cancelled_stay_overlaps_nothing(patient):
    first = record(patient)
    services.cancel_admission(db.session, first, actor=ACTOR, source=StaySource.FORM)
    again = record(patient)
    assert again.id != first.id


def test_an_unknown_icd10_shape_is_refused_on_its_field(patient):
    assert list(refused(patient, main_diagnosis="150.9")) == ["main_diagnosis"]
    assert "“XYZ”" in refused(patient, diagnoses=["E11", "XYZ"])["diagnoses"][0]
    assert "diagnoses" in refused(patient, diagnoses=["E11"] * 51)
    assert count(StayDiagnosis) == 0


def test_a_stay_after_the_death_of_the_patient_is_refused(patient):
    patient.deceased_date = date(2026, 3, 10)
    db.session.commit()
    errors = refused(patient, admitted_at=datetime(2026, 3, 11), discharged_at=None,
                     discharge_destination=None)
    assert list(errors) == ["admitted_at"] and "2026-03-10" in errors["admitted_at"][0]
    assert list(refused(patient)) == ["discharged_at"]  # discharged on the 12th
    # Dying in hospital: the discharge on the day of death is accepted.
    stay = record(patient, discharged_at=datetime(2026, 3, 10, 23, 0),
                  discharge_destination="death")
    assert stay.discharge_destination == "death" and not stay.is_index_stay


def test_dates_out_of_bounds_or_before_birth_are_refused(patient):
    assert "1900" in refused(patient, admitted_at=datetime(1899, 12, 31, 12),
                             discharged_at=None, discharge_destination=None)["admitted_at"][0]
    assert "discharged_at" in refused(patient, discharged_at=datetime(2101, 1, 1))
    assert "1948-03-14" in refused(patient, admitted_at=datetime(1948, 3, 13),
                                   discharged_at=None,
                                   discharge_destination=None)["admitted_at"][0]


def test_other_fields_are_checked_with_their_own_message(patient):
    assert list(refused(patient, facility_name="  ")) == ["facility_name"]
    assert list(refused(patient, facility_finess="12345")) == ["facility_finess"]
    assert list(refused(patient, admission_mode="walk_in")) == ["admission_mode"]
    assert list(refused(patient, discharge_destination="moon")) == ["discharge_destination"]
    assert list(refused(patient, discharged_at=None)) == ["discharge_destination"]
    assert list(refused(patient, admitted_at=None)) == ["admitted_at"]
    # 02:30 on the night the clocks go forward does not exist in Paris.
    assert list(refused(patient, admitted_at=datetime(2026, 3, 29, 2, 30),
                        discharged_at=None, discharge_destination=None)) == ["admitted_at"]


def test_a_merged_away_record_takes_no_stay(patient):
    other = factories.make_patient()
    other.merged_into_id = patient.id
    db.session.commit()
    assert list(refused(other)) == ["patient_id"]


# -- Updates, recomputation --------------------------------------------------------------------

def test_a_discharge_added_later_updates_the_open_stay_and_its_flags(patient, announced):
    index = record(patient, admitted_at=datetime(2026, 3, 1), discharged_at=datetime(2026, 3, 3))
    stay = record(patient, admitted_at=datetime(2026, 3, 20, 8), discharged_at=None,
                  discharge_destination=None)
    assert stay.readmission_of_id == index.id and index.readmitted_by_id == stay.id
    assert not stay.is_index_stay and stay.lace_score is None
    version = stay.version
    services.record_stay(db.session, patient=patient, stay=stay, source=StaySource.FORM,
                         actor=ACTOR, values={"discharged_at": datetime(2026, 3, 25, 15),
                                              "discharge_destination": "home"})
    db.session.commit()
    assert (stay.is_index_stay, stay.lace_length, stay.lace_acuity) == (True, 4, 3)  # 5 days
    assert stay.version == version + 1 and stay.facility_name == "Centre hospitalier de Douai"
    assert announced[-1] == (stay.id, "discharged")
    # The same values again change nothing: no write, no audit, no announcement.
    audited = count(AuditEntry)
    services.record_stay(db.session, patient=patient, stay=stay, source=StaySource.FORM,
                         actor=ACTOR, values={"discharged_at": datetime(2026, 3, 25, 15)})
    db.session.commit()
    assert (stay.version, count(AuditEntry), announced[-1]) == (
        version + 1, audited, (stay.id, "discharged"))
    services.record_stay(db.session, patient=patient, stay=stay, source=StaySource.FORM,
                         actor=ACTOR, values={"main_diagnosis": "J44.1"})
    assert announced[-1] == (stay.id, "updated")
    services.record_stay(db.session, patient=patient, stay=stay, source=StaySource.FORM,
                         actor=ACTOR, values={"discharged_at": None})
    assert (stay.discharged_at, stay.discharge_destination, stay.lace_score) == (None, None, None)
    assert announced[-1] == (stay.id, "discharge_cancelled")


def test_the_stay_with_an_external_id_is_updated_not_duplicated(patient):
    first = services.record_stay(db.session, patient=patient, values=stay_values(discharged_at=None,
                                 discharge_destination=None), source=StaySource.HL7,
                                 actor="hl7", external_id="V123")
    second = services.record_stay(db.session, patient=patient, values=stay_values(),
                                  source=StaySource.HL7, actor="hl7", external_id="V123")
    assert second.id == first.id and second.discharged_at is not None and count(Stay) == 1
    other = factories.make_patient()
    with pytest.raises(ValidationError) as raised:
        services.record_stay(db.session, patient=other, values=stay_values(),
                             source=StaySource.HL7, actor="hl7", external_id="V123")
    assert list(raised.value.messages()) == ["external_id"]


def test_a_stale_version_is_a_conflict(patient):
    stay = record(patient)
    with pytest.raises(ConflictError):
        services.record_stay(db.session, patient=patient, stay=stay, values={},
                             source=StaySource.FORM, actor=ACTOR,
                             expected_version=stay.version - 1)
    with pytest.raises(ConflictError):
        services.cancel_admission(db.session, stay, actor=ACTOR, source=StaySource.FORM,
                                  expected_version=stay.version + 1)


def test_cancelling_the_discharge_reopens_the_stay(patient, announced):
    stay = record(patient)
    services.cancel_discharge(db.session, stay, actor=ACTOR, source=StaySource.HL7)
    db.session.commit()
    assert (stay.discharged_at, stay.discharge_destination, stay.is_index_stay,
            stay.lace_score) == (None, None, False, None)
    assert announced[-1] == (stay.id, "discharge_cancelled")
    services.cancel_discharge(db.session, stay, actor=ACTOR, source=StaySource.HL7)
    assert len(announced) == 2  # an open stay: nothing to cancel
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "stay")
                               .order_by(AuditEntry.id.desc())).first()
    assert entry.action == "update" and "discharge cancelled (hl7)" in entry.summary


def test_a_cancelled_admission_counts_nowhere(patient, announced):
    index = record(patient, admitted_at=datetime(2026, 3, 1), discharged_at=datetime(2026, 3, 3))
    readmission = record(patient, admitted_at=datetime(2026, 3, 20), discharged_at=None,
                         discharge_destination=None)
    assert index.readmitted_by_id == readmission.id
    services.cancel_admission(db.session, readmission, actor=ACTOR, source=StaySource.FORM)
    db.session.commit()
    assert (index.readmitted_by_id, readmission.readmission_of_id) == (None, None)
    assert readmission.cancelled_at is not None and announced[-1] == (readmission.id,
                                                                        "cancelled")
    services.cancel_admission(db.session, readmission, actor=ACTOR, source=StaySource.FORM)
    assert len(announced) == 3


def test_a_cancelled_admission_is_restored_unless_it_overlaps_now(patient, announced):
    stay = record(patient)
    services.cancel_admission(db.session, stay, actor=ACTOR, source=StaySource.HL7)
    services.restore_admission(db.session, stay, actor=ACTOR, source=StaySource.HL7)
    assert (stay.cancelled_at, stay.is_index_stay, announced[-1]) == (None, True,
                                                                      (stay.id, "discharged"))
    services.restore_admission(db.session, stay, actor=ACTOR, source=StaySource.HL7)
    assert len(announced) == 3  # not cancelled: nothing to restore
    services.cancel_admission(db.session, stay, actor=ACTOR, source=StaySource.HL7)
    record(patient, admitted_at=datetime(2026, 3, 6))  # in its place, meanwhile
    with pytest.raises(ValidationError) as raised:
        services.restore_admission(db.session, stay, actor=ACTOR, source=StaySource.HL7)
    assert list(raised.value.messages()) == ["admitted_at"]


def test_a_readmission_after_a_death_or_a_transfer_is_none(patient):
    transfer = record(patient, admitted_at=datetime(2026, 3, 1), discharged_at=datetime(2026, 3, 3),
                      discharge_destination="transfer")
    nxt = record(patient, admitted_at=datetime(2026, 3, 3, 12), discharged_at=None,
                 discharge_destination=None, facility_name="CHU de Lille",
                 facility_finess="590780193")
    assert not transfer.is_index_stay and nxt.readmission_of_id is None


# -- Clinical events -----------------------------------------------------------------------------

def refused_event(patient, **values) -> dict[str, list[str]]:
    before = count(ClinicalEvent)
    base = {"event_type": "ed_visit", "code": "ed", "occurred_on": date(2026, 1, 20)}
    with pytest.raises(ValidationError) as raised:
        services.record_event(db.session, patient=patient, values={**base, **values},
                              source=StaySource.FORM, actor=ACTOR)
    db.session.rollback()
    assert count(ClinicalEvent) == before
    with force_locale("en"):
        return raised.value.messages()


def test_events_are_checked_by_their_type(patient):
    assert list(refused_event(patient, event_type="visit")) == ["event_type"]
    assert list(refused_event(patient, event_type="immunization", code="flu")) == ["code"]
    assert list(refused_event(patient, event_type="diagnosis", code="150")) == ["code"]
    assert list(refused_event(patient, code="er")) == ["code"]
    assert list(refused_event(patient, event_type="lab_result", code="HbA1c %")) == ["code"]
    assert list(refused_event(patient, value="8.9")) == ["value"]  # a value: lab results only
    assert list(refused_event(patient, event_type="lab_result", code="hba1c",
                              value="huit")) == ["value"]
    assert list(refused_event(patient, event_type="lab_result", code="hba1c",
                              value="1e9")) == ["value"]
    assert list(refused_event(patient, occurred_on=date(1948, 3, 13))) == ["occurred_on"]
    assert list(refused_event(patient, occurred_on=date(2101, 1, 1))) == ["occurred_on"]
    assert list(refused_event(patient, occurred_on=None)) == ["occurred_on"]
    assert list(refused_event(patient, label="x" * 301)) == ["label"]
    patient.deceased_date = date(2026, 1, 19)
    assert list(refused_event(patient)) == ["occurred_on"]


def test_events_are_stored_normalised(patient):
    assert event(patient, "diagnosis", "e119").code == "E11.9"
    assert event(patient, "immunization", " Influenza ").code == "influenza"
    lab = event(patient, "lab_result", "hba1c", value="8,94449", label="HbA1c")
    assert (str(lab.value), lab.label) == ("8.9445", "HbA1c")


def test_diagnosis_and_ed_visit_events_count_in_lace(patient):
    stay = record(patient, main_diagnosis=None)  # emergency admission on 5 March
    assert (stay.lace_comorbidity, stay.lace_emergency_visits) == (0, 0)
    event(patient, "ed_visit", "ed", date(2026, 1, 20))
    event(patient, "ed_visit", "ed", date(2026, 3, 5))  # the one that led to the admission
    event(patient, "diagnosis", "I50.9", date(2025, 9, 1))
    db.session.refresh(stay)
    assert (stay.lace_comorbidity, stay.lace_emergency_visits) == (1, 1)


def test_an_event_with_an_external_id_is_updated_not_duplicated(patient):
    first = services.record_event(db.session, patient=patient, external_id="EVT-1",
                                  source=StaySource.CSV, actor=ACTOR,
                                  values={"event_type": "lab_result", "code": "hba1c",
                                          "occurred_on": date(2026, 1, 4), "value": "8.9"})
    audited = count(AuditEntry)
    same = services.record_event(db.session, patient=patient, external_id="EVT-1",
                                 source=StaySource.CSV, actor=ACTOR,
                                 values={"event_type": "lab_result", "code": "hba1c",
                                         "occurred_on": date(2026, 1, 4), "value": "8.90"})
    assert same.id == first.id and count(AuditEntry) == audited and first.version == 1


# -- Merge ---------------------------------------------------------------------------------------

def test_a_merge_moves_stays_and_events_and_cancels_a_stay_recorded_twice(patient):
    other = factories.make_patient()
    kept_stay = record(patient)
    twice = record(other, admitted_at=datetime(2026, 3, 6), discharged_at=datetime(2026, 3, 12))
    later = record(other, admitted_at=datetime(2026, 4, 1), discharged_at=None,
                   discharge_destination=None)
    event(other)
    summary = merge.merge_patients(db.session, Actor.system("test"), patient, other)
    db.session.commit()
    assert (summary["stays"], summary["stays_cancelled_as_duplicates"],
            summary["clinical_events"]) == (2, [twice.id], 1)
    assert {s.patient_id for s in db.session.scalars(select(Stay))} == {patient.id}
    assert db.session.scalar(select(ClinicalEvent.patient_id)) == patient.id
    assert twice.cancelled_at is not None and later.cancelled_at is None
    assert later.readmission_of_id == kept_stay.id  # flags recomputed on the kept record
