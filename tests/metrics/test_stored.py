"""The dashboard's stored counts (metrics/stored.py): after every kind of change and a refresh,
the dashboard reads figures equal to those counted now, on both databases; until the next
refresh it reads the counts it kept and says since when; what is not kept is counted now."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from coordinator.jobs import registry as job_registry
from coordinator.jobs import scheduler
from coordinator.metrics import jobs, services, stored
from coordinator.metrics.models import StoredCounts
from coordinator.metrics.periods import Period
from coordinator.patients.models import Patient
from coordinator.scheduling.models import Appointment
from tests import factories
from tests.metrics.conftest import NOW
from tests.metrics.test_consistency import fill

# What councils and administrators read most: a month, a quarter, a year, of the whole
# registry or a program, in one territory or all (each with its previous period, its twelve
# months, the territories compared and the drill-down).
SELECTIONS = (
    (date(2026, 2, 1), date(2026, 2, 28), {}),
    (date(2026, 1, 1), date(2026, 3, 31), {"territory": "DOUAISIS", "program": "HF"}),
    (date(2025, 1, 1), date(2025, 12, 31), {"program": "DIAB"}),
    (date(2025, 1, 1), date(2025, 12, 31), {"territory": "CORNOUAILLE"}),
)
REFRESHED = NOW - timedelta(hours=9)


def _selection(session, first, last, codes):
    return services.select_figures(session, first=first, last=last, **codes)


def _read(session, selection, exact, now=NOW):
    return services.dashboard(session, selection, exact=exact, now=now)


def _counted_now(session, monkeypatch, selection, exact, now=NOW):
    with monkeypatch.context() as patched:
        patched.setattr(stored, "kept_scope", lambda scope: None)
        return _read(session, selection, exact, now)


def _refresh(session, now=REFRESHED):
    rows = stored.refresh(session, now)
    session.commit()
    return rows


def _assert_kept_equal_counted_now(session, monkeypatch, what):
    for first, last, codes in SELECTIONS:
        selection = _selection(session, first, last, codes)
        for exact in (True, False):
            kept = _read(session, selection, exact)
            assert kept.as_of == REFRESHED, (what, codes)
            live = _counted_now(session, monkeypatch, selection, exact)
            assert live.as_of is None
            assert kept.result == live.result, (what, first, codes, exact)
            assert list(kept.trends) == list(live.trends), (what, first, codes, exact)
            assert list(kept.comparison) == list(live.comparison), (what, first, codes, exact)
            assert list(kept.drilldown) == list(live.drilldown), (what, first, codes, exact)


def _all_counted_now(session, monkeypatch):
    return [_counted_now(session, monkeypatch, _selection(session, first, last, codes), True)
            for first, last, codes in SELECTIONS]


@pytest.fixture
def filled(registry):
    for territory in ("DOUAISIS", "CORNOUAILLE"):
        fill(registry, territory)
    fill(registry, "DOUAISIS", scale=2)
    return registry


def _patients(session, territory="DOUAISIS"):
    return session.scalars(select(Patient).where(
        Patient.territory_id == factories.territory(territory).id,
        Patient.merged_into_id.is_(None)).order_by(Patient.id)).all()


# Every kind of change of what the figures are counted from, each made after a refresh.
def _appointment_outcome(session, registry):
    booked = session.scalars(select(Appointment).where(Appointment.status == "scheduled")
                             .order_by(Appointment.id)).first()
    booked.status = "no_show"
    session.commit()


def _new_appointments(session, registry):
    patient = _patients(session)[0]
    registry.appointment(patient, datetime(2026, 2, 20, 9), "no_show")
    registry.appointment(patient, datetime(2025, 6, 20, 9))


def _stays(session, registry):
    patient = _patients(session, "CORNOUAILLE")[0]
    # an admission, then a discharge added later (a readmission of the stay of February)
    stay = registry.stay(patient, datetime(2026, 2, 20), None)
    from coordinator.core.time import as_utc
    from coordinator.stays import readmissions

    stay.discharged_at = as_utc(datetime(2026, 2, 26))
    stay.discharge_destination = "home"
    readmissions.recompute(session, [patient.id])
    session.commit()


def _cancelled_admission(session, registry):
    from coordinator.core.time import utcnow
    from coordinator.stays import readmissions
    from coordinator.stays.models import Stay

    patient = _patients(session)[0]
    stay = session.scalars(select(Stay).where(Stay.patient_id == patient.id)
                           .order_by(Stay.admitted_at.desc())).first()
    stay.cancelled_at = utcnow()
    readmissions.recompute(session, [patient.id])
    session.commit()


def _stratum_change(session, registry):
    patient = _patients(session)[1]
    registry.enroll(patient, ("DIAB-3", date(2026, 2, 10)))
    registry.enroll(_patients(session)[2], ("HF:exit", date(2025, 12, 1)))


def _care_plans(session, registry):
    patient = _patients(session)[1]
    registry.plan(patient, activated=date(2025, 3, 1), review=date(2025, 9, 1))
    other = _patients(session, "CORNOUAILLE")[0]
    registry.plan(other, activated=date(2025, 11, 1), closed=date(2026, 1, 15))


def _immunizations(session, registry):
    from coordinator.stays.models import ClinicalEvent

    # one entered in error (deleted), one whose date is corrected out of the flu window
    first, second = session.scalars(select(ClinicalEvent).where(
        ClinicalEvent.event_type == "immunization").order_by(ClinicalEvent.id).limit(2))
    session.delete(first)
    second.occurred_on = date(2023, 10, 1)
    session.commit()


def _death(session, registry):
    patient = _patients(session)[0]
    patient.deceased_date = date(2026, 2, 15)
    session.commit()


def _merge(session, registry):
    kept, duplicate = _patients(session)[:2]
    duplicate.merged_into_id = kept.id
    session.commit()


def _move(session, registry):
    factories.move_patient(_patients(session)[0], "CORNOUAILLE")


CHANGES = (_appointment_outcome, _new_appointments, _stays, _cancelled_admission,
           _stratum_change, _care_plans, _immunizations, _death, _merge, _move)


@pytest.mark.parametrize("change", CHANGES, ids=[c.__name__.strip("_") for c in CHANGES])
def test_after_a_change_and_a_refresh_the_kept_counts_are_those_counted_now(
        session, filled, monkeypatch, change):
    _refresh(session)
    before = _all_counted_now(session, monkeypatch)
    change(session, filled)
    assert _all_counted_now(session, monkeypatch) != before, change.__name__  # a real change
    _refresh(session)
    _assert_kept_equal_counted_now(session, monkeypatch, change.__name__)


def test_until_the_next_refresh_the_dashboard_reads_the_kept_counts(session, filled,
                                                                    monkeypatch):
    _refresh(session)
    selection = _selection(session, date(2026, 2, 1), date(2026, 2, 28), {})
    kept = _read(session, selection, True)
    _new_appointments(session, filled)
    assert _read(session, selection, True) == kept  # the refresh's, as of its time
    live = _counted_now(session, monkeypatch, selection, True)
    assert live.result.no_show != kept.result.no_show
    # the nightly job counts again: the page then reads the new counts
    counts = jobs.refresh_metric_counts(session, NOW)
    session.commit()
    assert counts["rows"] == session.scalar(select(func.count()).select_from(StoredCounts))
    again = _read(session, selection, True)
    assert again.as_of == NOW
    assert again.result == live.result


def test_what_is_not_kept_is_counted_now(session, filled, monkeypatch):
    _refresh(session)
    _new_appointments(session, filled)  # after the refresh: only counted now shows it
    case_manager = factories.make_user("DOUAISIS", role="case_manager")
    for first, last, codes in (
            (date(2026, 2, 2), date(2026, 2, 27), {}),  # custom
            (date(2026, 12, 1), date(2026, 12, 31), {}),  # not closed
            (date(2026, 1, 1), date(2026, 3, 31), {"stratum": "HF-3"}),  # a stratum
            (date(2022, 1, 1), date(2022, 12, 31), {})):  # older than the years kept
        selection = _selection(session, first, last, codes)
        # the previous period and the twelve months may be kept; the period itself is not
        found = services.dashboard(session, selection, exact=True, now=NOW,
                                   parts=frozenset({"comparison"}))
        live = _counted_now(session, monkeypatch, selection, True)
        assert found.as_of is None and list(found.comparison) == list(live.comparison)
    caseload = services.select_figures(session, first=date(2026, 2, 1), last=date(2026, 2, 28),
                                       caseload_of=case_manager)
    found = services.dashboard(session, caseload, exact=True, now=NOW,
                               parts=frozenset({"result", "trends", "drilldown"}))
    assert found.as_of is None


def test_the_periods_kept_are_the_closed_months_quarters_and_years_of_three_years():
    kept = stored.periods_kept(date(2026, 12, 7))
    months = [p for p in kept if p.months == 1]
    quarters = [p for p in kept if p.months == 3]
    years = [p for p in kept if p.months == 12]
    assert len(kept) == len(months) + len(quarters) + len(years)
    assert months[0] == Period(date(2023, 1, 1), date(2023, 1, 31))
    assert months[-1] == Period(date(2026, 11, 1), date(2026, 11, 30)) and len(months) == 47
    assert quarters[0].first == date(2023, 1, 1) and quarters[-1] == Period(
        date(2026, 7, 1), date(2026, 9, 30)) and len(quarters) == 15
    assert years == [Period(date(y, 1, 1), date(y, 12, 31)) for y in (2023, 2024, 2025)]
    # a quarter closes with its last month
    assert stored.periods_kept(date(2026, 10, 1))[-4] == Period(date(2026, 7, 1),
                                                                date(2026, 9, 30))


def test_a_refresh_writes_each_territory_s_counts_once(session, filled):
    rows = _refresh(session)
    assert rows == session.scalar(select(func.count()).select_from(StoredCounts))
    assert _refresh(session) == rows  # in place of the previous ones
    scopes = set(session.scalars(select(StoredCounts.scope).distinct()))
    assert "" in scopes and f"P{factories.program('HF').id}" in scopes
    assert session.scalar(select(func.min(StoredCounts.computed_at))) == REFRESHED


def test_the_job_runs_every_night(app):
    job = job_registry.get("refresh_metric_counts", app)
    assert job.trigger == "nightly" and job.function is jobs.refresh_metric_counts
    trigger = scheduler.trigger_for(job)
    after = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, after) == datetime(2026, 12, 8, 1, 30, tzinfo=UTC)
    assert job_registry.slot_for(job, datetime(2026, 12, 8, 1, 30, tzinfo=UTC)) == "2026-12-08"


def test_the_page_and_the_report_say_when_the_figures_were_counted(app, session, filled,
                                                                   logged_in, make_user):
    administrator = make_user(role="admin")
    client = logged_in(administrator)
    page = "/metrics/?period=month&year=2026&month=2"
    assert "Compté à l’instant." in client.get(page).get_data(as_text=True)
    _refresh(session, datetime(2026, 12, 2, 1, 30, tzinfo=UTC))
    html = client.get(page).get_data(as_text=True)
    assert "Compté le 2 déc. 2026 02:30 : les chiffres des mois" in html  # Paris time
    from coordinator.metrics import report

    selection = _selection(session, date(2026, 2, 1), date(2026, 2, 28), {})
    with app.test_request_context(), force_locale("en"):
        html = report.report_html(report.gather(session, selection, exact=True, compare=True))
    assert "On 2 Dec 2026 02:30 (the figures of the closed months" in html


def test_reading_kept_counts_reads_no_record(session, filled, count_queries):
    """A kept month read for every territory: its statements read the kept counts and the
    reference data, none of the patients, appointments or stays."""
    _refresh(session)
    selection = _selection(session, date(2026, 2, 1), date(2026, 2, 28), {})
    with count_queries() as queries:
        found = _read(session, selection, False)
    assert found.as_of == REFRESHED
    assert queries.count <= 10, queries.report()
    for statement in queries.statements:
        assert not re.search(r"\b(patient|appointment|stay|care_plan|stratum_assignment)\b",
                             statement), statement
