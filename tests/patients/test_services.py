"""Registry rules on patients, strata timelines, worklists and merges."""

from datetime import date, timedelta

import pytest
from flask_babel import refresh
from sqlalchemy import func, select

from coordinator.audit.models import AuditEntry
from coordinator.core.context import Actor
from coordinator.core.errors import ConflictError, DuplicateSuspected, ValidationError
from coordinator.core.time import local_today
from coordinator.patients import assignments, merge, services, worklists
from coordinator.patients.models import ConsentEvent, Patient
from coordinator.strata.models import StratumAssignment
from tests.factories import make_nir, make_patient, make_provider, program, stratum, territory

ACTOR = Actor.system("test")


@pytest.fixture(autouse=True)
def english(app):
    """Service messages in English, as a user whose browser asks for English reads them."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        refresh()
        yield


def data(**overrides):
    values = {
        "birth_name": "Dupont", "first_names": "Jacques Marie", "birth_date": date(1948, 3, 14),
        "sex": "M", "territory_id": territory("DOUAISIS").id,
        "nir": "148035917801213", "birth_place_insee": "59178",
    }
    values.update(overrides)
    return values


def errors_of(call):
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.messages()


def test_create_folds_names_and_audits(session):
    patient = services.create_patient(session, ACTOR, data(used_name="Lefèbvre-Dupont"))
    assert patient.birth_name_folded == "DUPONT"
    assert patient.used_name_folded == "LEFEBVRE DUPONT"
    assert patient.first_name_folded == "JACQUES"
    entry = session.scalars(select(AuditEntry).where(AuditEntry.patient_id == patient.id)).one()
    assert entry.action == "create"


@pytest.mark.parametrize("nir,message", [
    ("148035917801299", "key"),
    ("14803591780121", "15 characters"),
    ("248035917801248", "sex"),
    ("148045917801258", "birth month"),
])
def test_nir_rules_name_the_field(session, nir, message):
    if nir == "248035917801248":
        nir = make_nir("F", date(1948, 3, 14))
    if nir == "148045917801258":
        nir = make_nir("M", date(1948, 4, 14))
    errors = errors_of(lambda: services.create_patient(session, ACTOR, data(nir=nir)))
    assert message in " ".join(errors["nir"])


def test_corsican_nir_is_accepted(session):
    patient = services.create_patient(session, ACTOR, data(
        nir="135052A00400703", birth_date=date(1935, 5, 21), birth_name="Andreani",
        first_names="Ange", birth_place_insee="2A004"))
    assert patient.nir == "135052A00400703"


def test_birth_date_in_the_future_and_unknown_territory(session):
    errors = errors_of(lambda: services.create_patient(session, ACTOR, data(
        nir=None, birth_date=local_today() + timedelta(days=1), territory_id=99999)))
    assert "future" in " ".join(errors["birth_date"])
    assert "territory_id" in errors


def test_qualified_identity_needs_a_nir(session):
    errors = errors_of(lambda: services.create_patient(session, ACTOR, data(
        nir=None, identity_status="qualified")))
    assert "identity_status" in errors


def test_gp_must_be_an_active_gp(session):
    nurse = make_provider(kind="nurse")
    assert "gp_id" in errors_of(lambda: services.create_patient(session, ACTOR, data(
        gp_id=nurse.id)))
    gp = make_provider(kind="gp", is_active=False)
    assert "gp_id" in errors_of(lambda: services.create_patient(session, ACTOR, data(
        gp_id=gp.id)))


def test_duplicates_by_nir_or_by_name_and_birth_date(session):
    first = services.create_patient(session, ACTOR, data())
    with pytest.raises(DuplicateSuspected) as same_nir:
        services.create_patient(session, ACTOR, data(birth_name="Other", first_names="Paul"))
    assert same_nir.value.candidates == [first]
    with pytest.raises(DuplicateSuspected) as same_identity:
        services.create_patient(session, ACTOR, data(nir=None, birth_name="DUPONT ",
                                                     first_names="jacques"))
    assert same_identity.value.candidates == [first]
    confirmed = services.create_patient(session, ACTOR, data(nir=None, first_names="Jacques"),
                                        confirm_duplicate=True)
    assert confirmed.id != first.id


def test_update_with_a_stale_version_is_a_conflict_and_saves_nothing(session):
    patient = services.create_patient(session, ACTOR, data())
    services.update_patient(session, ACTOR, patient, {"phone": "0601020304"},
                            expected_version=patient.version)
    session.commit()
    with pytest.raises(ConflictError):
        services.update_patient(session, ACTOR, patient, {"phone": "0000"}, expected_version=1)
    assert session.get(Patient, patient.id).phone == "0601020304"


def test_consent_withdrawal_takes_effect_and_is_kept_in_history(session):
    patient = services.create_patient(session, ACTOR, data(consent_share=True))
    assert patient.consent_share
    services.record_consent(session, ACTOR, patient, False, date(2026, 1, 2), "written")
    assert patient.consent_share is False and patient.consent_date == date(2026, 1, 2)
    events = services.consent_history(session, patient)
    assert [e.consent_share for e in events] == [False, True]


def test_stratum_timeline_transitions_and_exit(session):
    patient = make_patient(birth_date=date(1950, 1, 1))
    first = assignments.assign_stratum(session, ACTOR, patient, stratum("HF-2"),
                                       date(2025, 9, 1), "NYHA II")
    second = assignments.assign_stratum(session, ACTOR, patient, stratum("HF-3"),
                                        date(2026, 3, 15), "two admissions")
    assert first.end_date == date(2026, 3, 14) and second.end_date is None
    exit_row = assignments.exit_program(session, ACTOR, patient, program("HF"),
                                        date(2026, 6, 1), "moved away")
    assert second.end_date == date(2026, 5, 31) and exit_row.is_exit
    timeline = assignments.timelines(session, patient)[0]
    assert [r.effective_date for r in timeline.rows] == [date(2025, 9, 1), date(2026, 3, 15),
                                                         date(2026, 6, 1)]
    assert timeline.current is None


def test_assignment_rules(session):
    patient = make_patient(birth_date=date(1950, 1, 1), deceased_date=date(2026, 1, 10))
    hf = program("HF")
    errors = errors_of(lambda: assignments.assign_stratum(
        session, ACTOR, patient, stratum("HF-2"), date(2026, 2, 1)))
    assert "death" in " ".join(errors["effective_date"])
    errors = errors_of(lambda: assignments.assign_stratum(
        session, ACTOR, patient, stratum("HF-2"), date(1949, 2, 1)))
    assert "birth" in " ".join(errors["effective_date"])
    problems = assignments.check_assignment(patient, hf, stratum("DIAB-2"), date(2025, 1, 1))
    assert [field for field, _ in problems] == ["stratum"]
    assignments.assign_stratum(session, ACTOR, patient, stratum("HF-1"), date(2025, 1, 1))
    errors = errors_of(lambda: assignments.assign_stratum(
        session, ACTOR, patient, stratum("HF-2"), date(2024, 12, 1)))
    assert "overlaps" in " ".join(errors["effective_date"])


def test_worklists(session, case_manager):
    today = local_today()
    mine = make_patient(case_manager_id=case_manager.id)
    other = make_patient()
    make_patient(territory_code="CORNOUAILLE")  # another territory: never listed
    assignments.assign_stratum(session, ACTOR, mine, stratum("DIAB-1"), today - timedelta(60))
    assignments.assign_stratum(session, ACTOR, mine, stratum("DIAB-3"), today - timedelta(3))
    caseload = session.scalars(worklists.caseload(case_manager, worklists.WorklistFilter())).all()
    assert caseload == [mine]
    unstratified = session.scalars(worklists.unstratified(case_manager)).all()
    assert other in unstratified and mine not in unstratified
    rows = session.execute(worklists.stratum_went_up(
        case_manager, worklists.WorklistFilter(), today)).all()
    assert [(r[0].id, r[1].code, r[2]) for r in rows] == [(mine.id, "DIAB-3", 1)]
    filtered = session.execute(worklists.stratum_went_up(
        case_manager, worklists.WorklistFilter(program_id=program("HF").id), today)).all()
    assert filtered == []


def test_unstratified_are_the_living_patients_in_no_stratum_today(session, case_manager):
    today = local_today()
    never = make_patient()
    current = make_patient()
    assignments.assign_stratum(session, ACTOR, current, stratum("HF-1"), today - timedelta(9))
    exited = make_patient()
    assignments.assign_stratum(session, ACTOR, exited, stratum("COPD-2"), today - timedelta(9))
    assignments.exit_program(session, ACTOR, exited, program("COPD"), today - timedelta(2),
                             "Déménagement")
    elsewhere = make_patient()  # out of one program, still in another
    assignments.assign_stratum(session, ACTOR, elsewhere, stratum("DIAB-1"), today - timedelta(9))
    assignments.assign_stratum(session, ACTOR, elsewhere, stratum("HF-2"), today - timedelta(9))
    assignments.exit_program(session, ACTOR, elsewhere, program("HF"), today - timedelta(2),
                             "Guéri")
    make_patient(deceased_date=today - timedelta(1))
    session.commit()
    query = worklists.unstratified(case_manager)
    assert session.scalars(query).all() == [exited, never]  # newest registered first
    # An anti-join on both databases: NOT IN (subquery) runs per patient on PostgreSQL.
    sql = str(query.compile(session.get_bind())).upper()
    assert "NOT (EXISTS" in sql and "NOT IN" not in sql


def test_search_is_accent_and_case_insensitive_on_birth_or_used_name(session, admin):
    lefevre = make_patient(birth_name="Lefèvre", first_names="Odette", used_name="Moreau")
    make_patient(birth_name="Martin", first_names="Paul")

    def find(**criteria):
        return session.scalars(services.search_query(admin, services.PatientSearch(**criteria))
                               ).all()

    assert find(name="lefevre") == [lefevre]
    assert find(name="LEFÈ") == [lefevre]
    assert find(name="moreau od") == [lefevre]
    assert find(name="moreau paul") == []
    assert find(name="Martin", birth_date=date(1950, 6, 15))[0].birth_name == "Martin"


def test_merge_moves_records_and_keeps_the_audit_readable(session):
    keep = make_patient(birth_date=date(1950, 1, 1))
    dup = make_patient(birth_date=date(1950, 1, 1), nir=make_nir("F", date(1950, 1, 1)),
                       phone="0102030405")
    assignments.assign_stratum(session, ACTOR, keep, stratum("HF-1"), date(2024, 1, 1))
    assignments.assign_stratum(session, ACTOR, dup, stratum("HF-1"), date(2024, 1, 1))
    assignments.assign_stratum(session, ACTOR, dup, stratum("DIAB-2"), date(2025, 1, 1))
    services.record_consent(session, ACTOR, dup, True)
    services.read_patient(session, ACTOR, dup)
    summary = merge.merge_patients(session, ACTOR, keep, dup)
    assert keep.nir == dup.nir and keep.phone == "0102030405"
    assert dup.merged_into_id == keep.id
    moved = session.scalars(select(StratumAssignment.patient_id)).all()
    assert set(moved) == {keep.id}
    assert len(summary["stratum_assignments_set_aside"]) == 1
    assert session.scalar(select(func.count()).select_from(ConsentEvent)
                          .where(ConsentEvent.patient_id == keep.id)) == 1
    assert set(merge.alias_ids(session, keep)) == {keep.id, dup.id}
    merges = session.scalars(select(AuditEntry).where(AuditEntry.action == "merge")).all()
    assert {m.patient_id for m in merges} == {keep.id, dup.id}
    with pytest.raises(ValidationError):
        merge.merge_patients(session, ACTOR, keep, dup)
