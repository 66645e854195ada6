"""One definition, whichever way it is asked: grouped by territory or filtered, twelve months at
once or one by one, a period and its previous one; and a bounded number of statements."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from coordinator.metrics import services
from coordinator.metrics.periods import Period, period_problems
from tests.metrics.conftest import NOW, figures_of


def fill(registry, territory: str = "DOUAISIS", scale: int = 1) -> None:
    """A little of everything, in two programs, over 2025 and 2026."""
    for n in range(scale):
        moved = registry.patient(territory, born=date(1955, 3, 1))
        registry.enroll(moved, ("HF-1", date(2025, 2, 1)), ("HF-2", date(2025, 9, 1 + n % 20)),
                        ("HF-3", date(2026, 2, 1 + n % 20)))
        registry.plan(moved, activated=date(2025, 10, 1), review=date(2026, 4, 1))
        registry.appointment(moved, datetime(2025, 11, 3, 10 + n % 8))
        registry.appointment(moved, datetime(2026, 2, 3, 10 + n % 8), "no_show")
        registry.appointment(moved, datetime(2026, 3, 3, 10 + n % 8), "scheduled")
        registry.stay(moved, datetime(2026, 1, 5), datetime(2026, 1, 10))
        registry.stay(moved, datetime(2026, 2, 1), datetime(2026, 2, 4))
        registry.appointment(moved, datetime(2026, 2, 8, 9))
        registry.event(moved, date(2025, 10, 20))
        young = registry.patient(territory, born=date(1990, 1, 1))
        registry.enroll(young, ("DIAB-2", date(2025, 1, 1)), ("DIAB-1", date(2025, 12, 1)))
        registry.appointment(young, datetime(2025, 12, 15, 14))
        registry.stay(young, datetime(2025, 12, 1), datetime(2025, 12, 3),
                      destination="transfer")


@pytest.fixture
def filled(registry):
    for territory in ("DOUAISIS", "CORNOUAILLE"):
        fill(registry, territory)
    fill(registry, "DOUAISIS", scale=2)


def test_the_comparison_gives_each_territory_its_own_figures(session, filled):
    for codes in ({}, {"program": "HF"}, {"stratum": "HF-3"}):
        selection = services.select_figures(session, first=date(2025, 7, 1),
                                            last=date(2026, 6, 30), **codes)
        for exact in (True, False):
            rows = services.compare_territories(session, selection, exact=exact, now=NOW)
            assert [row.territory for row in rows] == [
                "AUBE-SEZ", "CORNOUAILLE", "DEUX-SEVRES", "DOUAISIS", "HAUTE-SAONE"]
            for row in rows:
                alone = services.registry_metrics(
                    session, replace(selection, territory=_territory(session, row.territory)),
                    exact=exact, now=NOW)
                assert row == alone, (codes, row.territory)


def _territory(session, code):
    from sqlalchemy import select

    from coordinator.strata.models import Territory

    return session.scalar(select(Territory).where(Territory.code == code))


def test_twelve_months_at_once_are_each_month_alone(session, filled):
    selection = services.select_figures(session, first=date(2026, 1, 1),
                                        last=date(2026, 6, 30), program="HF")
    months = services.monthly_trends(session, selection, exact=True, now=NOW)
    assert [m.period for m in months] == Period(date(2026, 1, 1), date(2026, 6, 30)) \
        .trend_months()
    assert months[0].period == Period(date(2025, 7, 1), date(2025, 7, 31))
    for month in months:
        alone = figures_of(session, month.period.first, month.period.last, program="HF")
        assert month == alone, month.period
    assert sum(m.no_show.no_show.value for m in months) == 4  # one per "moved" patient
    assert [m.population.count.value for m in months][-1] == 4


def test_the_previous_period_is_computed_with_the_current_one(session, filled):
    result = figures_of(session, date(2026, 1, 1), date(2026, 3, 31), previous=True)
    assert result.previous == figures_of(session, date(2025, 10, 1), date(2025, 12, 31))
    days = figures_of(session, date(2026, 1, 10), date(2026, 1, 19), previous=True)
    assert days.previous.period == Period(date(2025, 12, 31), date(2026, 1, 9))


def test_previous_periods():
    assert Period(date(2026, 3, 1), date(2026, 3, 31)).previous() == Period(
        date(2026, 2, 1), date(2026, 2, 28))
    assert Period(date(2026, 4, 1), date(2026, 6, 30)).previous() == Period(
        date(2026, 1, 1), date(2026, 3, 31))
    assert Period(date(2026, 1, 1), date(2026, 12, 31)).previous() == Period(
        date(2025, 1, 1), date(2025, 12, 31))
    assert Period(date(2026, 3, 15), date(2026, 3, 21)).previous() == Period(
        date(2026, 3, 8), date(2026, 3, 14))


def test_period_limits():
    assert period_problems(date(2021, 1, 1), date(2025, 12, 31)) == {}
    assert "to" in period_problems(date(2021, 1, 1), date(2026, 1, 1))
    assert "to" in period_problems(date(2026, 1, 2), date(2026, 1, 1))
    assert period_problems(date(2024, 2, 29), date(2029, 2, 27)) == {}
    assert "to" in period_problems(date(2024, 2, 29), date(2029, 2, 28))


def test_the_number_of_statements_does_not_grow_with_the_registry(session, registry,
                                                                  count_queries):
    def statements() -> int:
        with count_queries() as queries:
            selection = services.select_figures(session, first=date(2025, 7, 1),
                                                last=date(2026, 6, 30), program="HF")
            services.registry_metrics(session, selection, exact=False, previous=True, now=NOW)
            services.monthly_trends(session, selection, exact=False, now=NOW)
            services.compare_territories(session, selection, exact=False, now=NOW)
        return queries.count

    fill(registry, scale=1)
    few = statements()
    fill(registry, scale=12)
    fill(registry, "CORNOUAILLE", scale=5)
    assert statements() == few
    assert few <= 30


def test_the_api_answers_in_a_bounded_number_of_statements(session, registry, api, council,
                                                          count_queries):
    caller = api(council)

    def statements() -> int:
        with count_queries() as queries:
            assert caller.get("/api/v1/metrics?from=2025-07-01&to=2026-06-30&program=HF") \
                .status_code == 200
        return queries.count

    fill(registry, scale=1)
    statements()  # the token's first use is written once (to the minute)
    few = statements()
    fill(registry, scale=10)
    assert statements() == few
    assert few <= 16  # the figures, the reference data, the audit entry and its chain head (2)
