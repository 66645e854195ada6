"""The `stays` and `events` formats: the spec's examples import (and once only), every bad row is
reported as `line N, column C` with nothing written, a later extract adding a discharge updates
the open stay and recomputes its flags, through the one service of stays."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from coordinator.audit.models import AuditEntry
from coordinator.core import extending
from coordinator.core.context import Actor
from coordinator.stays import services
from coordinator.stays.models import ClinicalEvent, Stay
from tests import factories
from tests.imports.conftest import messages, run, run_example

HEADER = "external_id,patient_external_id,facility_finess,facility_name,admitted_at," \
         "discharged_at,admission_mode,discharge_destination,main_diagnosis"
EVENTS = "external_id,patient_external_id,event_type,code,occurred_on,value,label"
CH_DOUAI = "590000021,Centre hospitalier de Douai"


def csv(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def stays(session) -> dict[str, Stay]:
    session.expire_all()
    return {stay.external_id: stay for stay in session.scalars(select(Stay))}


def snapshot(session) -> list:
    return [session.execute(select(Stay.__table__).order_by(Stay.id)).all(),
            session.execute(select(ClinicalEvent.__table__).order_by(ClinicalEvent.id)).all()]


@pytest.fixture
def registry(examples):
    """The spec's providers, patients, enrollments and appointments."""
    examples()
    return examples("appointments")


@pytest.fixture
def announced(app):
    heard: list[tuple[str, str]] = []

    def listener(*, session, stay, change):
        heard.append((stay.external_id, change))

    extending.provide(app, services.STAY_CHANGED, listener)
    yield heard
    app.extensions[extending.EXTENSION]._providers[services.STAY_CHANGED].remove(listener)


# -- The examples ------------------------------------------------------------------------------

def test_the_examples_import_with_their_readmission_and_lace(session, registry, announced):
    report = run_example(session, "stays")
    assert (report.status, report.rows_read, report.created, report.error_count) == (
        "succeeded", 4, 4, 0), report.errors
    events = run_example(session, "events")
    assert (events.status, events.rows_read, events.created, events.error_count) == (
        "succeeded", 5, 5, 0), events.errors
    rows = stays(session)
    first, second, planned, death = (rows[f"STY-00{n}"] for n in range(1, 5))
    assert first.admitted_at == datetime(2026, 3, 5, 21, 10, tzinfo=UTC)  # Paris, winter
    assert second.main_diagnosis == "I50.9"  # written I509
    assert second.discharged_at == datetime(2026, 4, 14, 22, tzinfo=UTC)  # a date: Paris 00:00
    assert (first.source, first.facility_finess, death.facility_finess) == (
        "csv", "590000021", None)
    # metrics.md's worked example: STY-002 readmits STY-001 27 days after; STY-004 ended in death.
    assert (first.is_index_stay, first.readmitted_by_id) == (True, second.id)
    assert (second.readmission_of_id, second.is_index_stay) == (first.id, True)
    assert (planned.readmission_of_id, planned.is_index_stay) == (None, True)
    assert not death.is_index_stay
    # LACE once the events are in: 7 days (5) + emergency (3) + heart failure (1) + one ED
    # visit in the six months before (1).
    assert (first.lace_score, first.lace_length, first.lace_acuity, first.lace_comorbidity,
            first.lace_emergency_visits) == (10, 5, 3, 1, 1)
    assert planned.lace_acuity == 0
    assert announced == [("STY-001", "discharged"), ("STY-002", "discharged"),
                         ("STY-003", "discharged"), ("STY-004", "discharged")]
    entries = session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "stay")).all()
    assert len(entries) == 4 and all(entry.patient_id for entry in entries)
    assert f"import #{report.id}" in entries[0].summary
    assert session.scalar(select(ClinicalEvent.code).where(
        ClinicalEvent.external_id == "EVT-005")) == "I50.9"
    assert str(session.scalar(select(ClinicalEvent.value).where(
        ClinicalEvent.external_id == "EVT-003"))) == "8.9000"


def test_importing_the_same_extract_again_changes_nothing(session, registry, announced):
    run_example(session, "stays")
    run_example(session, "events")
    before = snapshot(session)
    audited, heard = count(session, AuditEntry), len(announced)
    again = run_example(session, "stays")
    events = run_example(session, "events")
    assert [(r.status, r.created, r.updated, r.unchanged) for r in (again, events)] == [
        ("succeeded", 0, 0, 4), ("succeeded", 0, 0, 5)]
    assert snapshot(session) == before and (count(session, Stay), count(session,
                                                                        ClinicalEvent)) == (4, 5)
    assert count(session, AuditEntry) == audited + 2  # only the two reports
    assert len(announced) == heard


def test_a_dry_run_writes_nothing(session, registry):
    report = run_example(session, "stays", dry_run=True)
    assert (report.status, report.created) == ("succeeded", 4)
    assert count(session, Stay) == 0


def test_a_semicolon_extract_with_french_dates(session, registry):
    content = "external_id;patient_external_id;facility_name;admitted_at;admission_mode;" \
              "discharged_at\nS-1;PAT-002;Clinique du Parc;02/05/2026;planned;04/05/2026\n"
    report = run(session, "stays", content)
    assert report.status == "succeeded", report.errors
    stay = stays(session)["S-1"]
    assert (stay.admitted_on, stay.discharged_on, stay.discharge_destination) == (
        date(2026, 5, 2), date(2026, 5, 4), None)


# -- A later extract -----------------------------------------------------------------------------

def test_a_discharge_added_by_a_later_extract_updates_the_open_stay(session, registry,
                                                                    announced):
    first = run(session, "stays", csv(
        f"STY-001,PAT-001,{CH_DOUAI},2026-03-05T22:10,2026-03-12T11:00,emergency,home,I50.9",
        f"STY-002,PAT-001,{CH_DOUAI},2026-04-08T03:40,,emergency,,I50.9"))
    assert (first.status, first.created) == ("succeeded", 2), first.errors
    open_stay = stays(session)["STY-002"]
    assert open_stay.is_open and not open_stay.is_index_stay and open_stay.lace_score is None
    assert open_stay.readmission_of_id is not None  # an open readmission counts already
    version = open_stay.version
    later = run(session, "stays", csv(
        f"STY-001,PAT-001,{CH_DOUAI},2026-03-05T22:10,2026-03-12T11:00,emergency,home,I50.9",
        f"STY-002,PAT-001,{CH_DOUAI},2026-04-08T03:40,2026-04-15,emergency,"
        "home_with_services,I50.9"))
    assert (later.status, later.created, later.updated, later.unchanged) == (
        "succeeded", 0, 1, 1), later.errors
    stay = stays(session)["STY-002"]
    assert stay.id == open_stay.id and stay.version == version + 1
    assert (stay.is_index_stay, stay.discharge_destination, stay.lace_length) == (
        True, "home_with_services", 5)
    assert announced[-1] == ("STY-002", "discharged")
    entry = session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "stay")
                            .order_by(AuditEntry.id.desc())).first()
    assert entry.action == "update" and "discharged_at" in entry.summary


def test_a_file_without_a_column_leaves_its_field_as_it_is(session, registry):
    run_example(session, "stays")
    report = run(session, "stays", "external_id,patient_external_id,facility_name,admitted_at,"
                                   "admission_mode,main_diagnosis\n"
                                   "STY-001,PAT-001,Centre hospitalier de Douai,"
                                   "2026-03-05T22:10,emergency,I11.0\n")
    assert (report.updated, report.error_count) == (1, 0), report.errors
    stay = stays(session)["STY-001"]
    assert (stay.main_diagnosis, stay.discharge_destination, stay.facility_finess) == (
        "I11.0", "home", "590000021")


# -- Bad rows ------------------------------------------------------------------------------------

def test_every_bad_row_names_its_line_and_column_and_nothing_is_written(session, registry):
    report = run(session, "stays", csv(
        f"S-1,PAT-001,{CH_DOUAI},2026-03-05T22:10,2026-03-05T10:00,emergency,home,",
        f"S-2,PAT-001,{CH_DOUAI},2026-05-01,2026-05-10,emergency,home,",
        f"S-3,PAT-001,{CH_DOUAI},2026-05-08,2026-05-12,planned,home,",
        f"S-4,PAT-002,{CH_DOUAI},2026-05-01,,planned,,150.9",
        "S-5,PAT-004,,Centre hospitalier de Cornouaille,2026-03-01,,emergency,,",
        f"S-6,PAT-002,{CH_DOUAI},1899-12-31,,planned,,",
        f"S-7,PAT-002,{CH_DOUAI},1939-11-01,1939-11-03,planned,home,",
        f"S-8,PAT-999,{CH_DOUAI},2026-05-01,,planned,,",
        f"S-9,PAT-003,{CH_DOUAI},2026-05-01,,walk_in,moon,",
        "S-10,PAT-003,12345,Clinique,2026-06-01,,planned,home,"))
    assert (report.status, count(session, Stay)) == ("rejected", 0)
    found = messages(report)
    expected = [
        ("line 2, column discharged_at", "before the admission"),
        ("line 4, column admitted_at", "another stay of the patient in the same facility"),
        ("line 5, column main_diagnosis", "“150.9”"),
        ("line 6, column admitted_at", "died on 2026-02-10"),
        ("line 7, column admitted_at", "between 1900-01-01 and 2100-12-31"),
        ("line 8, column admitted_at", "born on 1939-11-02"),
        ("line 9, column patient_external_id", "PAT-999"),
        ("line 10, column admission_mode", "walk_in"),
        ("line 10, column discharge_destination", "moon"),
        ("line 11, column facility_finess", "FINESS"),
        ("line 11, column discharge_destination", "goes with a discharge"),
    ]
    for where, what in expected:
        assert any(m.startswith(where) and what in m for m in found), (where, what, found)
    assert len(found) == len(expected), found


def test_an_overlap_with_a_stored_stay_names_it(session, registry):
    run_example(session, "stays")
    stored = stays(session)["STY-001"]
    report = run(session, "stays", csv(
        f"S-1,PAT-001,{CH_DOUAI},2026-03-10,2026-03-20,planned,home,"))
    assert messages(report) == [f"line 2, column admitted_at: This stay overlaps stay "
                                f"#{stored.id} of the patient in the same facility (admitted "
                                "2026-03-05 22:10): correct the dates, or cancel one of them."]


def test_the_valid_rows_may_be_imported_and_the_others_skipped(session, registry):
    report = run(session, "stays", csv(
        f"S-1,PAT-001,{CH_DOUAI},2026-03-05T22:10,2026-03-05T10:00,emergency,home,",
        f"S-2,PAT-001,{CH_DOUAI},2026-05-01,2026-05-10,emergency,home,"), skip_invalid=True)
    assert (report.status, report.created, report.skipped) == ("succeeded", 1, 1)
    assert list(stays(session)) == ["S-2"]


def test_a_case_manager_imports_the_stays_of_their_territory_only(session, registry):
    manager = factories.make_user(role="case_manager", territory_code="DOUAISIS")
    report = run(session, "stays", csv(
        "S-1,PAT-004,,Centre hospitalier de Cornouaille,2026-01-01,2026-01-03,planned,home,"),
        actor=Actor.for_user(manager), territory_id=manager.territory_id)
    assert messages(report) == ["line 2, column patient_external_id: No patient you may import "
                                "for has the external_id “PAT-004”."]
    run_example(session, "stays")
    report = run(session, "stays", csv(  # STY-004 is a stay of PAT-004 (Cornouaille)
        f"STY-004,PAT-001,{CH_DOUAI},2026-09-01,2026-09-03,planned,home,"),
        actor=Actor.for_user(manager), territory_id=manager.territory_id)
    assert messages(report) == ["line 2, column external_id: This external_id is a stay of "
                                "another patient."]


# -- Events ------------------------------------------------------------------------------------

def test_bad_event_rows_name_their_line_and_column(session, registry):
    report = run(session, "events", csv(
        "E-1,PAT-001,immunization,flu,2025-10-15,,",
        "E-2,PAT-001,diagnosis,150.9,2025-10-15,,",
        "E-3,PAT-001,ed_visit,ed,2025-10-15,3,",
        "E-4,PAT-004,ed_visit,ed,2026-02-11,,",
        "E-5,PAT-001,lab_result,hba1c,2025-10-15,beaucoup,",
        "E-6,PAT-001,visit,ed,2025-10-15,,",
        "E-7,PAT-001,ed_visit,ed,2025-02-30,,", header=EVENTS))
    assert (report.status, count(session, ClinicalEvent)) == ("rejected", 0)
    found = messages(report)
    expected = [("line 2, column code", "influenza"), ("line 3, column code", "“150.9”"),
                ("line 4, column value", "lab result"), ("line 5, column occurred_on", "died"),
                ("line 6, column value", "beaucoup"), ("line 7, column event_type", "visit"),
                ("line 8, column occurred_on", "2025-02-30")]
    for where, what in expected:
        assert any(m.startswith(where) and what in m for m in found), (where, what, found)
    assert len(found) == len(expected), found


def test_events_imported_after_the_stays_refresh_their_lace(session, registry):
    run_example(session, "stays")
    first = stays(session)["STY-001"]
    assert (first.lace_comorbidity, first.lace_emergency_visits) == (1, 0)
    run(session, "events", csv("E-1,PAT-001,ed_visit,ed,2026-01-20,,",
                               "E-2,PAT-001,diagnosis,E11.2,2025-01-01,,diabète compliqué",
                               header=EVENTS))
    first = stays(session)["STY-001"]
    assert (first.lace_comorbidity, first.lace_emergency_visits) == (3, 1)
