"""The monthly job `metrics_target_alerts`: when a month closes, a notice to the territory's
council for each indicator below its (effective) target, once: run again for the same month it
writes nothing more. The notice holds aggregates only (a rate withheld for councils says so),
and the council sees it on its home page and on the targets page."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from apscheduler.triggers.cron import CronTrigger
from flask_babel import force_locale
from sqlalchemy import select

from coordinator.core.context import Actor
from coordinator.jobs import registry as job_registry
from coordinator.jobs import scheduler
from coordinator.metrics import jobs
from coordinator.metrics import targets as service
from coordinator.outbox.models import OutboxMessage
from tests.factories import territory

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)  # 07:00 in Paris on 1 December: November closed
FLU = "flu_vaccination_65"


@pytest.fixture
def councils(make_user):
    """Two council accounts of Douaisis (in English), one of Cornouaille, and an inactive
    one of Douaisis."""
    return {
        "douaisis": [make_user(role="council", territory_code="DOUAISIS", locale="en"),
                     make_user(role="council", territory_code="DOUAISIS", locale="en")],
        "cornouaille": make_user(role="council", territory_code="CORNOUAILLE", locale="en"),
        "inactive": make_user(role="council", territory_code="DOUAISIS", is_active=False),
    }


def _older_patients(registry, count: int, vaccinated: int, territory_code: str = "DOUAISIS"):
    """`count` patients aged 76 in HF-2 since 2025, `vaccinated` of them against influenza in
    October 2026."""
    patients = registry.patients(count, ("HF-2", date(2025, 1, 1)), territory=territory_code,
                                 born=date(1950, 3, 1))
    for patient in patients[:vaccinated]:
        registry.event(patient, date(2026, 10, 15))
    return patients


def _notices(session, **criteria) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.kind == jobs.KIND)
    for name, value in criteria.items():
        query = query.where(getattr(OutboxMessage, name) == value)
    return list(session.scalars(query.order_by(OutboxMessage.id)))


def _run(session, now=NOW):
    counts = jobs.metrics_target_alerts(session, now)
    session.commit()
    return counts


def test_the_job_is_monthly_for_the_month_just_closed(app):
    job = job_registry.get("metrics_target_alerts", app)
    assert job.trigger == "monthly" and job.function is jobs.metrics_target_alerts
    assert job_registry.slot_for(job, NOW) == "2026-12"
    trigger = scheduler.trigger_for(job)
    assert isinstance(trigger, CronTrigger)
    after = datetime(2026, 11, 24, 13, 7, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, after) == NOW
    period = jobs.closed_month(NOW)
    assert (period.first, period.last) == (date(2026, 11, 1), date(2026, 11, 30))
    # Late on 31 December UTC is already January in Paris: December has closed.
    assert jobs.closed_month(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)).first == \
        date(2026, 12, 1)


def test_an_indicator_below_its_target_notifies_the_territory_s_council(session, registry,
                                                                         councils):
    _older_patients(registry, 4, 1)  # 25 % vaccinated, the program's target 75 %
    counts = _run(session)
    douaisis = councils["douaisis"]
    notices = _notices(session)
    assert {n.user_id for n in notices} == {douaisis[0].id, douaisis[1].id}
    assert counts["notices"] == 2
    notice = notices[0]
    assert notice.recipient == douaisis[0].email and notice.status == "pending"
    assert "November 2026" in notice.subject and "HF" in notice.subject
    assert "Target: 75%" in notice.body and "Month: November 2026" in notice.body
    # 1 of 4: the counts are small, the council reads no rate, nor does the notice give one.
    assert "Rate: withheld (small numbers)" in notice.body
    assert "25" not in notice.body
    assert notice.key == f"target:DOUAISIS:HF:{FLU}:2026-11:{douaisis[0].id}"


def test_each_council_reads_the_indicator_in_its_own_language(session, registry, make_user):
    english = make_user(role="council", territory_code="DOUAISIS", locale="en")
    french = make_user(role="council", territory_code="DOUAISIS", locale="fr")
    _older_patients(registry, 4, 1)
    with force_locale("fr"):  # the job run by a French reader
        _run(session)
    by_user = {n.user_id: n for n in _notices(session)}
    assert "Flu vaccination of people aged 65 and over" in by_user[english.id].subject
    assert "Flu vaccination" in by_user[english.id].body
    assert "Vaccination antigrippale des 65 ans et plus" in by_user[french.id].subject
    assert "Cible : 75" in by_user[french.id].body


def test_running_the_job_twice_for_a_month_sends_nothing_more(session, registry, councils):
    _older_patients(registry, 4, 1)
    assert _run(session)["notices"] == 2
    again = _run(session, datetime(2026, 12, 15, 9, 0, tzinfo=UTC))  # still November's
    assert again == {"below_target": 1, "notices": 0}
    assert len(_notices(session)) == 2


def test_an_indicator_at_its_target_sends_nothing(session, registry, councils):
    _older_patients(registry, 4, 3)  # 75 %: the target met exactly
    assert _run(session)["notices"] == 0
    assert _notices(session) == []


def test_the_territory_s_own_target_decides(session, registry, councils):
    _older_patients(registry, 4, 1)  # 25 %
    service.set_targets(session, Actor.for_user(councils["douaisis"][0]), territory("DOUAISIS"),
                        [service.TargetChange("HF", FLU, "20")])
    session.commit()
    assert _run(session)["notices"] == 0  # 25 % meets the territory's 20 %
    service.set_targets(session, Actor.for_user(councils["douaisis"][0]), territory("DOUAISIS"),
                        [service.TargetChange("HF", FLU, "30")])
    session.commit()
    notices = _run(session, datetime(2026, 12, 2, 6, 0, tzinfo=UTC))
    assert notices["notices"] == 2
    assert "Target: 30%" in _notices(session)[0].body


def test_only_the_territory_below_its_target_is_told(session, registry, councils):
    _older_patients(registry, 4, 1, "DOUAISIS")
    _older_patients(registry, 4, 4, "CORNOUAILLE")  # 100 %
    _run(session)
    assert _notices(session, user_id=councils["cornouaille"].id) == []
    assert _notices(session, user_id=councils["inactive"].id) == []
    assert len(_notices(session)) == 2


def test_no_denominator_no_notice(session, registry, councils):
    registry.patients(3, ("HF-2", date(2025, 1, 1)), born=date(1980, 1, 1))  # under 65
    assert _run(session) == {"below_target": 0, "notices": 0}


def test_a_rate_a_council_may_read_is_given(session, registry, councils):
    _older_patients(registry, 22, 11)  # 50 %, 11 of 22: not small
    _run(session)
    body = _notices(session, user_id=councils["douaisis"][0].id)[0].body
    assert "Rate: 50%" in body and "Target: 75%" in body


def test_the_council_sees_its_notices_on_its_home_and_targets_pages(session, registry,
                                                                    councils, logged_in):
    _older_patients(registry, 4, 1)
    _run(session)
    subject = _notices(session)[0].subject
    client = logged_in(councils["douaisis"][0])
    home = client.get("/").get_data(as_text=True)
    assert 'data-testid="target-notices"' in home and subject in home
    page = client.get("/metrics/targets/DOUAISIS").get_data(as_text=True)
    assert subject in page


def test_another_council_does_not_see_them(session, registry, councils, logged_in):
    _older_patients(registry, 4, 1)
    _run(session)
    home = logged_in(councils["cornouaille"]).get("/").get_data(as_text=True)
    assert 'data-testid="target-notices"' not in home


def test_the_job_computes_per_program_not_per_territory_or_patient(session, registry, councils,
                                                                    count_queries):
    _older_patients(registry, 4, 1)
    with count_queries() as few:
        jobs.shortfalls(session, jobs.closed_month(NOW), NOW)
    _older_patients(registry, 30, 3, "CORNOUAILLE")
    with count_queries() as more:
        jobs.shortfalls(session, jobs.closed_month(NOW), NOW)
    assert more.count == few.count
