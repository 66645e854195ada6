"""The attacker reads everything one council can read and tries to recover a withheld cell.

Everything: its territory's figures for the whole registry, each program and each stratum, for a
period and the previous one (followed vs not followed included), and the comparison of the
territories for each of those selections; with the marks a page shows (`<11`, `*`) and every
relation the definitions imply (a program's population is the sum of its strata, its eligible
patients those of the strata requiring a plan, every program's transitions add up to the
registry's, followed + not followed = the whole, the same cell in two answers, a rate and its
denominator give its numerator). It fails; without the complementary cells it succeeds.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from coordinator.metrics import results as results_module
from coordinator.metrics import services
from coordinator.metrics.results import Count, MetricsResult, Rate
from coordinator.metrics.suppression import State, is_small
from coordinator.strata.models import Stratum
from tests.metrics.attacker import Attacker
from tests.metrics.conftest import NOW

CURRENT = (date(2026, 1, 1), date(2026, 6, 30))
PREVIOUS = (date(2025, 7, 1), date(2025, 12, 31))
SPLIT = ("no_show.attended", "no_show.no_show", "no_show.outcome_missing",
         "readmission_30d.index_stays", "readmission_30d.readmitted")
HEADLINE = ("population.count", "no_show.", "readmission_30d.", "followup_7d.",
            "care_plan_coverage.", "indicators.")


def build(registry):
    """A territory whose figures have small cells in every kind of breakdown, and another."""
    old = {"born": date(1950, 1, 1)}
    hf1 = registry.patients(25, ("HF-1", date(2025, 1, 1)), **old)
    hf2 = registry.patients(14, ("HF-2", date(2025, 1, 1)), **old)
    hf3 = registry.patients(2, ("HF-3", date(2025, 1, 1)), **old) + registry.patients(
        2, ("HF-2", date(2025, 1, 1)), ("HF-3", date(2026, 3, 1)), **old)  # 2 up
    registry.patients(20, ("DIAB-1", date(2025, 1, 1)))
    registry.patients(15, ("DIAB-1", date(2025, 1, 1)), ("DIAB-2", date(2026, 3, 1)))  # 15 up
    for patient in hf3[:3]:  # followed: a plan active in both periods
        registry.plan(patient, activated=date(2025, 6, 1), review=date(2026, 3, 1))
        registry.appointment(patient, datetime(2026, 2, 2, 10))
        registry.appointment(patient, datetime(2025, 10, 2, 10))
    for index, patient in enumerate(hf1 + hf2[:15]):  # 40 not followed
        registry.appointment(patient, datetime(2026, 2, 3, 10))
        if index < 12:
            registry.appointment(patient, datetime(2026, 2, 4, 10), "no_show")
        if index < 8:
            registry.appointment(patient, datetime(2025, 10, 3, 10), "no_show")
    for patient in hf1[:20] + hf2[:5]:
        registry.event(patient, date(2025, 11, 1))
    for index, patient in enumerate(hf1[:12] + hf3[:2]):
        registry.stay(patient, datetime(2026, 4, 1), datetime(2026, 4, 5))
        if index < 3:
            registry.stay(patient, datetime(2026, 4, 20), datetime(2026, 4, 22))
    registry.patients(30, ("HF-1", date(2025, 1, 1)), territory="CORNOUAILLE", **old)
    cornouaille = registry.patients(4, ("HF-3", date(2025, 1, 1)), territory="CORNOUAILLE")
    for patient in cornouaille:
        registry.appointment(patient, datetime(2026, 2, 2, 10))


def selections():
    """Every selection of a council: the whole registry, each program, each stratum."""
    yield {}
    for program in ("COPD", "DIAB", "HF", "POLY"):
        yield {"program": program}
        for level in (1, 2, 3):
            yield {"stratum": f"{program}-{level}"}


def view_name(codes: dict) -> str:
    return codes.get("stratum") or codes.get("program") or "all"


def tell(attacker: Attacker, prefix: str, cells, only=None) -> None:
    """What one answer publishes; rates as relations between its cells."""
    cells = dict(cells)
    for path, item in cells.items():
        if only and not path.startswith(only):
            continue
        name = f"{prefix}{path}"
        if isinstance(item, Count):
            if item.suppressed:
                attacker.hidden(name, item.mark)
            else:
                attacker.published(name, item.value)
    for path, item in cells.items():
        if not isinstance(item, Rate) or item.value is None or (only and
                                                                not path.startswith(only)):
            continue
        figure = path.rsplit(".", 1)[0]
        if figure.endswith("no_show"):
            denominator = f"{prefix}{figure}.denominator"
            attacker.total(denominator, [f"{prefix}{figure}.attended",
                                         f"{prefix}{figure}.no_show"])
            attacker.rate(f"{prefix}{figure}.no_show", denominator, item.value)
        else:
            numerator, denominator = {
                "readmission_30d": ("readmitted", "index_stays"),
                "followup_7d": ("followed_up", "index_stays"),
                "care_plan_coverage": ("with_active_plan", "eligible"),
            }.get(figure.rsplit(".", 1)[-1], ("numerator", "denominator"))
            attacker.rate(f"{prefix}{figure}.{numerator}", f"{prefix}{figure}.{denominator}",
                          item.value)


def relations(attacker: Attacker, name, strata_requiring: set[str], territories: list[str],
              detail: str) -> None:
    """What the definitions imply between the answers of one period (`name(view, territory,
    path)` names a cell)."""
    for territory in territories:
        for program in ("COPD", "DIAB", "HF", "POLY"):
            strata = [f"{program}-{level}" for level in (1, 2, 3)]
            for path in ("population.count", "care_plan_coverage.with_active_plan",
                         "indicators.flu_vaccination_65.numerator",
                         "indicators.flu_vaccination_65.denominator"):
                attacker.total(name(program, territory, path),
                               [name(s, territory, path) for s in strata])
            attacker.total(name(program, territory, "care_plan_coverage.eligible"),
                           [name(s, territory, "population.count") for s in strata
                            if s in strata_requiring])
            for stratum in strata:
                if stratum in strata_requiring:
                    attacker.same(name(stratum, territory, "care_plan_coverage.eligible"),
                                  name(stratum, territory, "population.count"))
                if territory == detail:
                    count = name(stratum, territory, "population.count")
                    for view in ("all", program, stratum):
                        attacker.same(name(view, territory, f"population.by_stratum.{stratum}"),
                                      count)
    for direction in ("up", "down"):
        attacker.total(name("all", detail, f"transitions.{direction}"),
                       [name(p, detail, f"transitions.{direction}")
                        for p in ("COPD", "DIAB", "HF", "POLY")])


def split_relations(attacker: Attacker, prefix: str) -> None:
    for path in SPLIT:
        figure, count = path.split(".")
        attacker.total(f"{prefix}{path}",
                       [f"{prefix}followed_vs_not.{side}.{figure}.{count}"
                        for side in ("followed", "not_followed")])
    attacker.same(f"{prefix}readmission_30d.index_stays", f"{prefix}followup_7d.index_stays")


def read_everything(session, api_caller, council) -> tuple[Attacker, list[str]]:
    """Every answer the council may read, through the API, told to the attacker."""
    attacker = Attacker()
    strata_requiring = set(session.scalars(select(Stratum.code)
                                           .where(Stratum.requires_care_plan.is_(True))))
    territories = ["AUBE-SEZ", "CORNOUAILLE", "DEUX-SEVRES", "DOUAISIS", "HAUTE-SAONE"]
    withheld_kinds: list[str] = []
    for first, last in (CURRENT, PREVIOUS):
        period = f"{first}..{last}"

        def name(view, territory, path, period=period):
            return f"{period}|{view}|{territory}|{path}"

        for codes in selections():
            query = f"from={first}&to={last}" + "".join(f"&{k}={v}" for k, v in codes.items())
            answer = api_caller.get(f"/api/v1/metrics?{query}")
            assert answer.status_code == 200, answer.json
            selection = services.select_figures(session, first=first, last=last,
                                                territory="DOUAISIS", **codes)
            result: MetricsResult = services.registry_metrics(session, selection, exact=False,
                                                              now=NOW)
            assert answer.json == result.to_json()  # the API shows what the result holds
            view = view_name(codes)
            prefix = name(view, "DOUAISIS", "")
            tell(attacker, prefix, result.cells())
            split_relations(attacker, prefix)
            withheld_kinds += [path for path, item in result.cells() if item.suppressed]

            compared = api_caller.get(f"/api/v1/metrics/territories?{query}")
            assert compared.status_code == 200
            rows = services.compare_territories(session, selection, exact=False, now=NOW)
            assert compared.json["territories"] == [row.headline_json() for row in rows]
            for row in rows:
                row_prefix = f"{period}|{view}|cmp|{row.territory}|"
                tell(attacker, row_prefix, row.cells(), only=HEADLINE)
                for path, _ in row.cells():
                    if path.startswith(HEADLINE):
                        attacker.same(f"{row_prefix}{path}", name(view, row.territory, path))
        relations(attacker, name, strata_requiring, territories, "DOUAISIS")
    return attacker, withheld_kinds


@pytest.fixture
def council_caller(api, council):
    return api(council)


def test_nothing_withheld_can_be_recovered(session, registry, council, council_caller):
    build(registry)
    attacker, withheld = read_everything(session, council_caller, council)
    # the registry does exercise every breakdown
    assert {"population.by_stratum.HF-3", "transitions.up",
            "followed_vs_not.followed.no_show.attended",
            "followed_vs_not.followed.readmission_30d.index_stays",
            "care_plan_coverage.with_active_plan", "no_show.rate"} <= set(withheld)
    assert any(path.startswith("indicators.") for path in withheld)
    assert attacker.recovered() == {}


def test_small_cells_alone_would_be_recovered(session, registry, council, council_caller,
                                             monkeypatch):
    def primary_only(values, equations=()):
        return {key: State.SMALL if is_small(value) else State.EXACT
                for key, value in values.items()}

    monkeypatch.setattr(results_module, "protect", primary_only)
    build(registry)
    attacker, _ = read_everything(session, council_caller, council)
    found = attacker.recovered()
    assert found  # e.g. HF-3's population, the followed patients' attended appointments
    assert any("population.by_stratum.HF-3" in name or "followed" in name for name in found)
