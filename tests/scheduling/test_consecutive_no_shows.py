"""The patient's consecutive no-shows as of each appointment (issue 16): counted when the outcome
is recorded, in start order (a no-show one more than the appointment with an outcome before it,
attended 0, cancelled the count before it), stored, stable when later outcomes come, counted
again when an earlier outcome comes late or two records are merged; shown on the no-show list,
the appointment page and in the API; filled by the migration."""

from __future__ import annotations

from datetime import datetime, timedelta

import flask_babel
import flask_migrate
import marshmallow as ma
import pytest
from sqlalchemy import select, text

from coordinator import create_app
from coordinator.core.context import Actor
from coordinator.core.time import local_today
from coordinator.extensions import db
from coordinator.patients import merge
from coordinator.scheduling import services
from coordinator.scheduling.models import Appointment
from coordinator.scheduling.schemas import AppointmentSchema
from coordinator.strata.services import load_reference_data
from tests import dbutil, factories

FR = {"Accept-Language": "fr"}
EN = {"Accept-Language": "en"}


@pytest.fixture
def actor(case_manager):
    return factories.case_plan_actor(case_manager)


@pytest.fixture
def nurse():
    return factories.make_provider("nurse")


@pytest.fixture
def patient(case_manager):
    return factories.make_patient(case_manager_id=case_manager.id, phone="0600000000")


def days_ago(days: int, hour: int = 10) -> datetime:
    return datetime.combine(local_today() - timedelta(days=days), datetime.min.time()) \
        .replace(hour=hour)


def history(actor, patient, provider, *days: int) -> list[Appointment]:
    """Past appointments of the patient, `days` ago each, still without their outcome."""
    return [factories.make_appointment(patient, provider, days_ago(d), actor=actor)
            for d in days]


def record(actor, appointment, status):
    return services.record_outcome(db.session, actor, appointment, status)


def stored(*appointments) -> list[int | None]:
    """The counts as the database holds them."""
    ids = [a.id for a in appointments]
    rows = dict(db.session.execute(
        select(Appointment.__table__.c.id, Appointment.__table__.c.consecutive_no_shows)
        .where(Appointment.__table__.c.id.in_(ids))).all())
    return [rows[i] for i in ids]


# -- The count ---------------------------------------------------------------------------------

def test_each_outcome_gets_the_count_as_of_it(actor, patient, nurse):
    a, b, c, d, e, f = history(actor, patient, nurse, 60, 50, 40, 30, 20, 10)
    for appointment, status in ((a, "no_show"), (b, "no_show"), (c, "cancelled_patient"),
                                (d, "no_show"), (e, "attended"), (f, "no_show")):
        record(actor, appointment, status)
    # the session's objects know it (no reload) and so does the database
    assert [x.consecutive_no_shows for x in (a, b, c, d, e, f)] == [1, 2, 2, 3, 0, 1]
    assert stored(a, b, c, d, e, f) == [1, 2, 2, 3, 0, 1]


def test_a_scheduled_appointment_has_no_count(actor, patient, nurse):
    [missed] = history(actor, patient, nurse, 5)
    coming = factories.make_appointment(patient, nurse, days_ago(-5), actor=actor)
    record(actor, missed, "no_show")
    assert coming.consecutive_no_shows is None and stored(coming) == [None]


def test_a_later_outcome_leaves_the_earlier_counts_alone(actor, patient, nurse):
    first, second, third = history(actor, patient, nurse, 30, 20, 10)
    record(actor, first, "no_show")
    record(actor, second, "no_show")
    assert stored(first, second) == [1, 2]
    record(actor, third, "attended")  # the run ends: what was counted before stays
    assert stored(first, second, third) == [1, 2, 0]


def test_an_earlier_outcome_recorded_late_counts_the_later_ones_again(actor, patient, nurse):
    """Recorded out of order: a visit of 20 days ago recorded after that of 10 days ago; the
    later appointments are counted again as they are now known (the earlier ones keep theirs)."""
    first, middle, last, after = history(actor, patient, nurse, 30, 20, 10, 5)
    record(actor, first, "no_show")
    record(actor, last, "no_show")
    record(actor, after, "no_show")
    assert stored(first, last, after) == [1, 2, 3]
    record(actor, middle, "attended")
    assert stored(first, middle, last, after) == [1, 0, 1, 2]
    assert (last.consecutive_no_shows, after.consecutive_no_shows) == (1, 2)


def test_a_count_that_changes_moves_the_version_on_and_only_then(actor, patient, nurse):
    """The count is part of what the API shows: the ETag (the version) of an appointment
    counted again changes, so that a client's cached copy is not taken as current."""
    first, middle, last = history(actor, patient, nurse, 30, 20, 10)
    record(actor, first, "no_show")
    record(actor, last, "no_show")
    before = {a.id: a.version for a in (first, last)}
    record(actor, middle, "attended")  # `last` counted again (2 -> 0), `first` untouched
    stored_versions = dict(db.session.execute(
        select(Appointment.__table__.c.id, Appointment.__table__.c.version)
        .where(Appointment.__table__.c.id.in_([first.id, last.id]))).all())
    assert stored_versions[first.id] == before[first.id]
    assert stored_versions[last.id] == before[last.id] + 1 == last.version
    last.outreach_note = "called back"  # the session's copy is current: no stale-data error
    db.session.flush()
    assert last.version == before[last.id] + 2


def test_patients_are_counted_apart(actor, patient, nurse, case_manager):
    other = factories.make_patient(case_manager_id=case_manager.id)
    [mine] = history(actor, patient, nurse, 10)
    [theirs] = history(actor, other, nurse, 12)
    record(actor, theirs, "no_show")
    record(actor, mine, "no_show")
    assert stored(mine, theirs) == [1, 1]


def test_the_day_list_counts_in_one_statement_whatever_its_length(
        actor, case_manager, nurse, count_queries):
    """Recording a day's outcomes counts every patient's no-shows in one statement, for 2
    appointments as for 6 (the rest of the recording is the lifecycle's, audited per row)."""

    def day_of(size: int, day: int) -> dict[int, str]:
        outcomes = {}
        for _index in range(size):
            someone = factories.make_patient(case_manager_id=case_manager.id)
            earlier, today = history(actor, someone, nurse, day + 7, day)
            record(actor, earlier, "no_show")
            outcomes[today.id] = "no_show"
        db.session.commit()
        return outcomes

    for outcomes in (day_of(2, 3), day_of(6, 2)):
        with count_queries() as queries:
            services.record_outcomes(db.session, Actor.system("test"), outcomes)
            db.session.flush()
        counting = [q for q in queries.statements
                    if q.startswith("UPDATE appointment SET consecutive_no_shows")]
        assert len(counting) == 1, queries.report()
        assert stored(*(db.session.get(Appointment, i) for i in outcomes)) == \
            [2] * len(outcomes)


def test_a_merge_counts_the_kept_record_again(actor, patient, nurse, case_manager):
    twin = factories.make_patient(case_manager_id=case_manager.id)
    [kept_first, kept_last] = history(actor, patient, nurse, 30, 10)
    [merged_middle] = history(actor, twin, nurse, 20)
    record(actor, kept_first, "no_show")
    record(actor, kept_last, "no_show")
    record(actor, merged_middle, "no_show")
    assert stored(kept_first, merged_middle, kept_last) == [1, 1, 2]
    merge.merge_patients(db.session, Actor.system("test"), patient, twin)
    db.session.flush()
    assert stored(kept_first, merged_middle, kept_last) == [1, 2, 3]


def test_the_import_path_counts_too(actor, patient, nurse):
    """Whatever records the outcome announces it (`outcomes_recorded`), and that counts."""
    first, second = history(actor, patient, nurse, 20, 10)
    for appointment in (first, second):  # written as the appointments import does
        appointment.status = "no_show"
    db.session.flush()
    services.outcomes_recorded(db.session, actor, [first.id, second.id])
    assert stored(first, second) == [1, 2]


# -- Where case managers chase no-shows ---------------------------------------------------------

def test_the_no_show_list_shows_each_ones_place_in_the_run(
        logged_in, actor, case_manager, patient, nurse):
    first, second, third = history(actor, patient, nurse, 30, 20, 10)
    record(actor, first, "attended")
    record(actor, second, "no_show")
    record(actor, third, "no_show")
    db.session.commit()
    client = logged_in(case_manager)
    page = client.get("/scheduling/no-shows", headers=EN).get_data(as_text=True)
    assert page.index("2nd consecutive no-show") < page.index("1st consecutive no-show")
    assert page.count('data-testid="no-show-flag"') == 1
    page = client.get("/scheduling/no-shows", headers=FR).get_data(as_text=True)
    assert "2e absence consécutive" in page and "1re absence consécutive" in page


def test_the_appointment_page_says_which_no_show_it_is(
        logged_in, actor, case_manager, patient, nurse):
    appointments = history(actor, patient, nurse, 50, 40, 30, 20, 10)
    for appointment in appointments:
        record(actor, appointment, "no_show")
    db.session.commit()
    client = logged_in(case_manager)
    url = f"/scheduling/appointments/{appointments[2].id}"
    assert "3rd consecutive no-show" in client.get(url, headers=EN).get_data(as_text=True)
    assert "3e absence consécutive" in client.get(url, headers=FR).get_data(as_text=True)
    page = client.get(f"/scheduling/appointments/{appointments[0].id}",
                      headers=EN).get_data(as_text=True)
    assert "1st consecutive no-show" in page


@pytest.mark.parametrize("count, english, french", [
    (1, "1st", "1re"), (2, "2nd", "2e"), (3, "3rd", "3e"), (4, "4th", "4e"), (11, "11th", "11e"),
    (12, "12th", "12e"), (13, "13th", "13e"), (21, "21st", "21e"), (22, "22nd", "22e")])
def test_the_ordinal_follows_the_language(app, count, english, french):
    from coordinator.scheduling.labels import consecutive_no_show

    with app.test_request_context(headers=EN):
        flask_babel.refresh()
        assert consecutive_no_show(count) == f"{english} consecutive no-show"
    with app.test_request_context(headers=FR):
        flask_babel.refresh()
        assert consecutive_no_show(count) == f"{french} absence consécutive"


def test_the_api_shows_the_count_read_only(client, actor, patient, nurse):
    [missed] = history(actor, patient, nurse, 10)
    record(actor, missed, "no_show")
    assert AppointmentSchema().dump(missed)["consecutive_no_shows"] == 1
    with pytest.raises(ma.ValidationError):  # read-only: never taken from a request
        AppointmentSchema().load({"consecutive_no_shows": 7}, partial=True)
    spec = client.get("/api/v1/openapi.json").json
    field = spec["components"]["schemas"]["Appointment"]["properties"]["consecutive_no_shows"]
    assert field["readOnly"] is True


# -- The migration fills the existing appointments ----------------------------------------------

@pytest.mark.live_database
def test_the_migration_counts_the_existing_appointments(tmp_path):
    url = dbutil.fresh_database(tmp_path)
    application = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": url})
    try:
        with application.app_context(), application.test_request_context():
            flask_migrate.upgrade()
            load_reference_data(db.session)
            someone = factories.make_patient()
            other = factories.make_patient()
            provider = factories.make_provider("nurse")
            made = [factories.make_appointment(who, provider, days_ago(d))
                    for who, d in ((someone, 40), (someone, 30), (someone, 20), (someone, 10),
                                   (other, 35), (someone, -3))]
            for appointment, status in zip(made, ("no_show", "cancelled_provider", "no_show",
                                                  "attended", "no_show", "scheduled"),
                                           strict=True):
                appointment.status = status
            db.session.commit()
            ids = [a.id for a in made]
            db.session.close()  # no read transaction left open across the migrations
            flask_migrate.downgrade(revision="0022")
            flask_migrate.upgrade()
            counts = dict(db.session.execute(text(
                "SELECT id, consecutive_no_shows FROM appointment")).all())
            db.session.close()  # its read would hold the downgrade's lock (PostgreSQL)
            assert [counts[i] for i in ids] == [1, 1, 2, 0, 1, None]
            flask_migrate.downgrade(revision="0022")
            columns = {c["name"] for c in db.inspect(db.engine).get_columns("appointment")}
            assert "consecutive_no_shows" not in columns
            db.session.remove()
    finally:
        with application.app_context():
            db.engine.dispose()
        dbutil.drop_database(url)
