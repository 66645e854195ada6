"""The GP's list of shared plans (issue 16): each plan flags an overdue review (the one rule of
careplans.lists) and the comments left by others since the GP last opened it (never opened:
those of the last 14 days), and shows its patient's next appointments (date, time, provider);
only the GP's consenting patients; a constant number of queries whatever the number of plans."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from coordinator.audit.models import AuditEntry
from coordinator.auth.models import User
from coordinator.careplans import lists, services
from coordinator.core.context import Actor
from coordinator.core.time import local_today, utcnow
from coordinator.extensions import db
from coordinator.providers.models import Provider
from coordinator.scheduling import services as scheduling
from tests import factories

EN = {"Accept-Language": "en"}
FR = {"Accept-Language": "fr"}


@pytest.fixture
def manager(make_user):
    return make_user(role="case_manager", territory_code="DOUAISIS", full_name="Claire Martin")


@pytest.fixture
def gp():
    return factories.make_provider("gp", name="Dr Paul Lefebvre")


@pytest.fixture
def gp_user(make_user, gp):
    return make_user(role="gp", provider_id=gp.id, territory_code=None, full_name="Paul Lefebvre")


@pytest.fixture
def nurse():
    return factories.make_provider("nurse", name="Infirmière Anne Roux")


def shared_plan(manager, gp, **patient):
    """An active plan of a consenting patient of this GP."""
    someone = factories.make_patient(gp_id=gp.id, case_manager_id=manager.id,
                                     consent_share=True, consent_date=local_today(), **patient)
    plan = factories.make_care_plan(someone, user=manager, status="active")
    db.session.commit()
    return plan


def row(html: str, plan) -> str:
    """The list's row of this plan."""
    found = re.search(rf"<tr>\s*<td><a href=\"/careplans/{plan.id}\">.*?</tr>", html, re.S)
    assert found, f"plan {plan.id} not listed"
    return found.group(0)


def comment(plan, author, body="Bilan à prévoir", when=None):
    note = services.add_comment(db.session, Actor.for_user(author), plan, body)
    if when is not None:
        note.created_at = when
    db.session.commit()
    return note


def soon(days: int, hour: int = 10) -> datetime:
    """A Paris time in `days` days."""
    return datetime.combine(local_today() + timedelta(days=days), datetime.min.time()) \
        .replace(hour=hour)


def test_an_overdue_review_is_flagged(client, logged_in, manager, gp, gp_user):
    overdue = shared_plan(manager, gp)
    overdue.review_date = local_today() - timedelta(days=1)
    due_today = shared_plan(manager, gp)
    due_today.review_date = local_today()  # not overdue yet: the same rule as the worklist
    db.session.commit()
    assert {p.id for p in db.session.scalars(
        lists.review_overdue(manager, local_today()))} == {overdue.id}
    html = logged_in(gp_user).get("/", headers=EN).get_data(as_text=True)
    assert 'data-testid="review-overdue"' in row(html, overdue)
    assert "Review overdue" in row(html, overdue)
    assert 'data-testid="review-overdue"' not in row(html, due_today)
    french = client.get("/", headers=FR).get_data(as_text=True)
    assert "Révision en retard" in row(french, overdue)


def test_comments_since_the_gp_last_opened_the_plan(client, logged_in, manager, gp, gp_user):
    plan = shared_plan(manager, gp)
    logged_in(gp_user)
    assert client.get(f"/careplans/{plan.id}").status_code == 200  # opened: nothing new
    assert 'data-testid="new-comments"' not in row(client.get("/").get_data(as_text=True), plan)
    comment(plan, manager)
    comment(plan, manager)
    html = client.get("/", headers=EN).get_data(as_text=True)
    assert "2 new comments" in row(html, plan)
    assert "2 nouveaux commentaires" in row(client.get("/", headers=FR).get_data(as_text=True),
                                            plan)
    client.get(f"/careplans/{plan.id}")  # read them
    assert 'data-testid="new-comments"' not in row(client.get("/").get_data(as_text=True), plan)
    comment(plan, gp_user)  # the GP's own: not new
    assert 'data-testid="new-comments"' not in row(client.get("/").get_data(as_text=True), plan)
    comment(plan, manager)
    assert "1 new comment<" in row(client.get("/", headers=EN).get_data(as_text=True), plan)


def test_a_plan_never_opened_counts_the_comments_of_the_last_14_days(
        client, logged_in, manager, gp, gp_user):
    plan = shared_plan(manager, gp)
    comment(plan, manager, "Ancien", when=utcnow() - timedelta(days=20))
    comment(plan, manager, "Récent", when=utcnow() - timedelta(days=5))
    assert db.session.scalar(select(AuditEntry.id).where(
        AuditEntry.entity_type == "care_plan", AuditEntry.actor_user_id == gp_user.id)) is None
    html = logged_in(gp_user).get("/", headers=EN).get_data(as_text=True)
    assert "1 new comment<" in row(html, plan)
    assert "last 14 days" in html


def test_the_next_appointments_of_each_patient(client, logged_in, manager, gp, gp_user, nurse):
    plan, other = shared_plan(manager, gp), shared_plan(manager, gp)
    patient = plan.patient
    kine = factories.make_provider("physiotherapist", name="Kiné Marc Petit")
    first = factories.make_appointment(patient, nurse, soon(2, 9))
    second = factories.make_appointment(patient, kine, soon(5, 14))
    factories.make_appointment(patient, nurse, soon(9, 11))
    factories.make_appointment(patient, nurse, soon(20, 11))  # the fourth: not shown
    cancelled = factories.make_appointment(patient, kine, soon(1, 8))
    scheduling.record_outcome(db.session, Actor.system("test"), cancelled, "cancelled_patient")
    factories.make_appointment(patient, nurse, soon(-3, 9))  # past
    factories.make_appointment(patient, nurse, soon(120, 9))  # beyond 90 days
    db.session.commit()
    html = logged_in(gp_user).get("/", headers=EN).get_data(as_text=True)
    cell = re.search(r'data-testid="next-appointments">(.*?)</td>', row(html, plan), re.S)[1]
    assert cell.count("<div>") == 3
    assert cell.index(first.starts_at.isoformat()) < cell.index("Kiné Marc Petit")
    assert "Infirmière Anne Roux" in cell and second.starts_at.isoformat() in cell
    assert "None in the next 90 days" in row(html, other)


def test_only_the_gps_consenting_patients_are_listed(client, logged_in, manager, gp, gp_user):
    mine = shared_plan(manager, gp)
    not_sharing = shared_plan(manager, gp)
    not_sharing.patient.consent_share = False
    someone_elses = shared_plan(manager, factories.make_provider("gp"))
    db.session.commit()
    html = logged_in(gp_user).get("/").get_data(as_text=True)
    assert f'href="/careplans/{mine.id}"' in html
    assert f'href="/careplans/{not_sharing.id}"' not in html
    assert f'href="/careplans/{someone_elses.id}"' not in html


def test_the_list_sends_as_many_queries_for_six_plans_as_for_two(
        client, logged_in, manager, gp, gp_user, nurse, count_queries):
    ids = {"manager": manager.id, "gp": gp.id, "nurse": nurse.id}

    def add(number: int) -> None:
        author = db.session.get(User, ids["manager"])  # ids, not objects, across the counts
        doctor, carer = (db.session.get(Provider, ids[key]) for key in ("gp", "nurse"))
        for index in range(number):
            plan = shared_plan(author, doctor)
            plan.review_date = local_today() - timedelta(days=index % 2)
            comment(plan, author)
            factories.make_appointment(plan.patient, carer, soon(3 + index, 9))
            factories.make_appointment(plan.patient, carer, soon(4 + index, 9))
        db.session.commit()

    logged_in(gp_user)
    counts = []
    for number in (2, 4):
        add(number)
        client.get("/")  # warm (the session's loaders)
        with count_queries() as queries:
            response = client.get("/", headers=EN)
        assert response.status_code == 200
        assert response.get_data(as_text=True).count('data-testid="new-comments"') == \
            (2 if number == 2 else 6)
        counts.append(queries.count)
    assert counts[0] == counts[1], queries.report()
