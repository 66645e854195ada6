"""Issue #16, bug 1: a mistyped date no longer locks a patient's stratum. Effective dates are
at most STRATUM_MAX_DAYS_AHEAD days ahead on every path; a row can be corrected (date,
stratum) or cancelled with a reason, kept in the history; and "the current stratum" is the
row in force today everywhere (record, plan form, worklists, metrics)."""

from datetime import date, timedelta

import pytest
from flask_babel import refresh
from sqlalchemy import func, select

from coordinator.audit.models import AuditEntry
from coordinator.auth import services as auth_services
from coordinator.careplans import services as careplan_services
from coordinator.core.context import Actor
from coordinator.core.errors import ValidationError
from coordinator.core.time import local_today
from coordinator.patients import assignments
from coordinator.patients.models import Patient
from coordinator.strata.models import StratumAssignment, StratumCorrection
from tests.api.conftest import ApiCaller
from tests.factories import make_patient, program, stratum

ACTOR = Actor.system("test")


@pytest.fixture(autouse=True)
def english(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        refresh()
        yield


def errors_of(call):
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.messages()


def legacy_row(session, patient, code, effective_date):
    """A row written before the days-ahead rule (the bug's 2030-01-01), straight in the table."""
    row = StratumAssignment(patient_id=patient.id, program_id=program("HF").id,
                            stratum_id=stratum(code).id, effective_date=effective_date,
                            author_label="typo")
    session.add(row)
    session.flush()
    assignments.recompute_end_dates(session, patient.id, row.program_id)
    session.commit()
    return row


def test_effective_date_at_most_the_configured_days_ahead(app, session):
    patient = make_patient()
    today = local_today()
    errors = errors_of(lambda: assignments.assign_stratum(
        session, ACTOR, patient, stratum("HF-3"), date(2030, 1, 1)))
    assert "effective_date" in errors and "31 days ahead" in " ".join(errors["effective_date"])
    session.rollback()
    assert session.scalar(select(func.count()).select_from(StratumAssignment)
                          .where(StratumAssignment.patient_id == patient.id)) == 0
    assignments.assign_stratum(session, ACTOR, patient, stratum("HF-3"),
                               today + timedelta(days=31))
    session.rollback()
    app.config["STRATUM_MAX_DAYS_AHEAD"] = 5
    try:
        assert "effective_date" in errors_of(lambda: assignments.assign_stratum(
            session, ACTOR, patient, stratum("HF-3"), today + timedelta(days=6)))
        # The import of enrollments and the exit ask the same rule.
        assert [name for name, _ in assignments.check_assignment(
            patient, program("HF"), None, today + timedelta(days=6))] == ["effective_date"]
    finally:
        app.config["STRATUM_MAX_DAYS_AHEAD"] = 31


def test_the_api_refuses_a_date_too_far_ahead(client, case_manager, session):
    patient = make_patient()
    issued = auth_services.issue_token(session, case_manager, ACTOR)
    session.commit()
    response = ApiCaller(client, issued.secret).post("/api/v1/enrollments", json={
        "patient_id": patient.id, "stratum_code": "HF-3", "effective_date": "2030-01-01"})
    assert response.status_code == 422
    assert "effective_date" in response.json["errors"]


def test_a_future_row_is_not_the_current_stratum(session):
    patient = make_patient()
    today = local_today()
    assignments.assign_stratum(session, ACTOR, patient, stratum("HF-1"),
                               today - timedelta(days=30))
    assignments.assign_stratum(session, ACTOR, patient, stratum("HF-3"),
                               today + timedelta(days=10))
    session.commit()
    [timeline] = assignments.timelines(session, patient)
    assert timeline.current.stratum.code == "HF-1"
    assert [s.code for s in careplan_services.current_strata(session, patient)] == ["HF-1"]
    in_hf3 = session.scalars(select(Patient.id).where(
        assignments.in_current_stratum(stratum_id=stratum("HF-3").id))).all()
    in_hf1 = session.scalars(select(Patient.id).where(
        assignments.in_current_stratum(stratum_id=stratum("HF-1").id))).all()
    assert patient.id not in in_hf3 and patient.id in in_hf1


def test_only_a_future_row_means_no_stratum_today_everywhere(session):
    patient = make_patient()
    legacy_row(session, patient, "HF-3", date(2030, 1, 1))
    [timeline] = assignments.timelines(session, patient)
    assert timeline.current is None  # the record shows no HF-3 badge...
    assert careplan_services.current_strata(session, patient) == []  # ...as the plan form says
    unstratified = session.scalars(select(Patient.id).where(
        assignments.without_current_stratum())).all()
    assert patient.id in unstratified


def test_cancelling_the_mistyped_row_unlocks_the_timeline(session):
    patient = make_patient()
    today = local_today()
    assignments.assign_stratum(session, ACTOR, patient, stratum("HF-1"),
                               today - timedelta(days=100))
    typo = legacy_row(session, patient, "HF-3", date(2030, 1, 1))
    # The bug: a change today is refused.
    assert "effective_date" in errors_of(lambda: assignments.assign_stratum(
        session, ACTOR, patient, stratum("HF-2"), today))
    session.rollback()
    typo = session.get(StratumAssignment, typo.id)
    assert "reason" in errors_of(lambda: assignments.correct_assignment(
        session, ACTOR, typo, reason=" ", cancel=True))
    session.rollback()
    typo = session.get(StratumAssignment, typo.id)
    correction = assignments.correct_assignment(session, ACTOR, typo, reason="Year mistyped",
                                                cancel=True)
    session.commit()
    assert session.get(StratumAssignment, correction.assignment_id) is None
    [timeline] = assignments.timelines(session, patient)
    assert [r.stratum.code for r in timeline.rows] == ["HF-1"]
    assert timeline.rows[0].end_date is None  # open again
    [kept] = timeline.corrections
    assert (kept.cancelled, kept.old_stratum.code, kept.old_effective_date, kept.reason,
            kept.author_label) == (True, "HF-3", date(2030, 1, 1), "Year mistyped", "test")
    entry = session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == "stratum_assignment",
        AuditEntry.entity_id == str(typo.id)).order_by(AuditEntry.id.desc())).first()
    assert "cancelled" in entry.summary
    # Now a change today and an exit are accepted.
    assignments.assign_stratum(session, ACTOR, patient, stratum("HF-2"), today)
    assignments.exit_program(session, ACTOR, patient, program("HF"),
                             today + timedelta(days=1), "moved away")
    session.commit()


def test_correcting_the_date_or_the_stratum_is_not_a_move(session):
    patient = make_patient()
    today = local_today()
    first = assignments.assign_stratum(session, ACTOR, patient, stratum("HF-1"),
                                       today - timedelta(days=100))
    second = assignments.assign_stratum(session, ACTOR, patient, stratum("HF-3"),
                                        today - timedelta(days=10))
    session.commit()
    assignments.correct_assignment(session, ACTOR, second, reason="Meant HF-2",
                                   stratum=stratum("HF-2"))
    assignments.correct_assignment(session, ACTOR, second, reason="Entered a week late",
                                   effective_date=today - timedelta(days=17))
    session.commit()
    rows = session.scalars(select(StratumAssignment).where(
        StratumAssignment.patient_id == patient.id)
        .order_by(StratumAssignment.effective_date)).all()
    assert [(r.stratum.code, r.effective_date) for r in rows] == [
        ("HF-1", today - timedelta(days=100)), ("HF-2", today - timedelta(days=17))]
    assert session.get(StratumAssignment, first.id).end_date == today - timedelta(days=18)
    corrections = session.scalars(select(StratumCorrection).order_by(StratumCorrection.id)
                                  .where(StratumCorrection.patient_id == patient.id)).all()
    assert [(c.changes_stratum, c.changes_date) for c in corrections] == [
        (True, False), (False, True)]


def test_a_correction_stays_between_its_neighbours_and_changes_something(session):
    patient = make_patient()
    today = local_today()
    assignments.assign_stratum(session, ACTOR, patient, stratum("HF-1"),
                               today - timedelta(days=100))
    second = assignments.assign_stratum(session, ACTOR, patient, stratum("HF-3"),
                                        today - timedelta(days=10))
    session.commit()
    assert "effective_date" in errors_of(lambda: assignments.correct_assignment(
        session, ACTOR, second, reason="x", effective_date=today - timedelta(days=200)))
    session.rollback()
    assert "effective_date" in errors_of(lambda: assignments.correct_assignment(
        session, ACTOR, session.get(StratumAssignment, second.id), reason="x"))
    session.rollback()
    assert "stratum" in errors_of(lambda: assignments.correct_assignment(
        session, ACTOR, session.get(StratumAssignment, second.id), reason="x",
        stratum=stratum("HF-1")))
    session.rollback()
    assert "effective_date" in errors_of(lambda: assignments.correct_assignment(
        session, ACTOR, session.get(StratumAssignment, second.id), reason="x",
        effective_date=date(2030, 1, 1)))


def test_the_record_page_corrects_and_shows_the_correction(client, logged_in, case_manager,
                                                           session):
    patient = make_patient()
    typo = legacy_row(session, patient, "HF-3", date(2030, 1, 1))
    logged_in(case_manager)
    record = f"/patients/{patient.id}"
    body = client.get(record).get_data(as_text=True)
    assert f'data-testid="correct-{typo.id}"' in body
    path = f"{record}/strata/{typo.id}/correct"
    assert client.get(path).status_code == 200
    refused = client.post(path, data={"csrf_token": client.csrf_token(path), "cancel": "y",
                                      "reason": ""})
    assert refused.status_code == 400 and 'id="reason-error"' in refused.get_data(as_text=True)
    done = client.post(path, data={"csrf_token": client.csrf_token(path),
                                   "effective_date": local_today().isoformat(),
                                   "reason": "Year mistyped"})
    assert done.status_code == 302
    body = client.get(record).get_data(as_text=True)
    assert 'data-testid="corrections-HF"' in body and "Year mistyped" in body
    assert session.get(StratumAssignment, typo.id).effective_date == local_today()
    # A row of another patient is not reachable through this record.
    other = make_patient()
    assert client.get(f"/patients/{other.id}/strata/{typo.id}/correct").status_code == 404
