"""Each definition of metrics.md on hand-computed registries, edges included (both databases).

The period is the first half of 2026 unless a test says otherwise: it starts in winter time
(UTC+1) and ends in summer time (UTC+2), so that local days and UTC days differ at its edges.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from coordinator.metrics.results import MetricsResult
from tests.metrics.conftest import NOW, figures_of

FROM, TO = date(2026, 1, 1), date(2026, 6, 30)


def metrics(session, **codes) -> MetricsResult:
    return figures_of(session, FROM, TO, **codes)


def values(figure) -> dict:
    return {name: getattr(figure, name).value for name in vars(figure)
            if hasattr(getattr(figure, name), "value")}


# -- population -----------------------------------------------------------------------------------

def test_population_counts_the_living_on_the_last_day(session, registry):
    registry.patient()
    registry.patient(died=TO)  # dead on `to`: not alive on it
    registry.patient(died=date(2026, 7, 1))  # died after
    registry.patient(born=date(2026, 7, 1))  # born after `to`
    registry.patient(died=date(2026, 3, 1))
    merged = registry.patient()
    merged.merged_into_id = registry.patient(territory="CORNOUAILLE").id
    session.commit()
    assert metrics(session).population.count.value == 3  # + the CORNOUAILLE one
    assert metrics(session, territory="DOUAISIS").population.count.value == 2
    assert metrics(session, territory="CORNOUAILLE").population.count.value == 1


def test_population_of_a_program_is_enrolled_on_the_last_day_by_stratum(session, registry):
    moved = registry.patient()
    registry.enroll(moved, ("HF-2", date(2025, 9, 1)), ("HF-3", date(2026, 3, 15)))
    left = registry.patient()
    registry.enroll(left, ("HF-1", date(2025, 1, 1)), ("HF:exit", TO))  # exit on `to`
    stays = registry.patient()
    registry.enroll(stays, ("HF-1", date(2025, 1, 1)), ("HF:exit", date(2026, 7, 1)))
    later = registry.patient()
    registry.enroll(later, ("HF-2", date(2026, 7, 1)))
    dead = registry.patient(died=date(2026, 5, 1))
    registry.enroll(dead, ("HF-3", date(2025, 1, 1)))
    other = registry.patient()
    registry.enroll(other, ("DIAB-2", date(2025, 1, 1)), ("HF-2", date(2026, 2, 1)))
    result = metrics(session, program="HF")
    assert result.population.count.value == 3
    assert {code: c.value for code, c in result.population.by_stratum.items()} == {
        "HF-1": 1, "HF-2": 1, "HF-3": 1}
    whole = metrics(session)  # without a program: every living patient, every program's strata
    assert whole.population.count.value == 5
    assert whole.population.by_stratum["HF-2"].value == 1
    assert whole.population.by_stratum["DIAB-2"].value == 1
    assert metrics(session, stratum="HF-3").population.count.value == 1


# -- transitions ----------------------------------------------------------------------------------

def test_transitions_up_and_down_in_the_period_only(session, registry):
    registry.enroll(registry.patient(), ("HF-1", date(2025, 1, 1)), ("HF-2", FROM))  # up, 1st day
    registry.enroll(registry.patient(), ("HF-3", date(2025, 1, 1)), ("HF-2", TO))  # down, last
    registry.enroll(registry.patient(), ("HF-1", date(2025, 1, 1)),
                    ("HF-3", date(2025, 12, 31)))  # before the period
    registry.enroll(registry.patient(), ("HF-1", date(2025, 1, 1)),
                    ("HF-2", date(2026, 7, 1)))  # after
    registry.enroll(registry.patient(), ("HF-2", date(2026, 2, 1)))  # a first assignment
    registry.enroll(registry.patient(), ("HF-2", date(2025, 1, 1)),
                    ("HF:exit", date(2026, 2, 1)), ("HF-3", date(2026, 4, 1)))  # exit, re-entry
    registry.enroll(registry.patient(), ("HF-1", date(2025, 1, 1)), ("HF-2", date(2026, 2, 1)),
                    ("HF-3", date(2026, 5, 1)))  # two ups
    registry.enroll(registry.patient(), ("DIAB-3", date(2025, 1, 1)),
                    ("DIAB-1", date(2026, 3, 1)))  # down in another program
    hf = metrics(session, program="HF").transitions
    assert (hf.up.value, hf.down.value) == (3, 1)
    every = metrics(session).transitions
    assert (every.up.value, every.down.value) == (3, 2)
    assert values(metrics(session, program="DIAB").transitions) == {"up": 0, "down": 1}


def test_transitions_of_a_stratum_are_those_of_its_cohort(session, registry):
    registry.enroll(registry.patient(), ("HF-1", date(2025, 1, 1)), ("HF-2", date(2026, 2, 1)),
                    ("HF-3", date(2026, 5, 1)))
    registry.enroll(registry.patient(), ("HF-2", date(2025, 1, 1)), ("HF-3", date(2026, 2, 1)))
    registry.enroll(registry.patient(), ("HF-3", date(2025, 1, 1)), ("HF-2", FROM))
    assert values(metrics(session, stratum="HF-1").transitions) == {"up": 2, "down": 0}
    # the third patient was in HF-3 until 31 December only: not in the cohort of HF-3
    assert values(metrics(session, stratum="HF-3").transitions) == {"up": 3, "down": 0}
    assert values(metrics(session, stratum="HF-2").transitions) == {"up": 3, "down": 1}


# -- no_show --------------------------------------------------------------------------------------

def test_no_show_counts_outcomes_of_appointments_starting_in_the_period(session, registry):
    patient = registry.patient()
    registry.appointment(patient, datetime(2026, 1, 1, 0, 30))  # 31 Dec 23:30 UTC: in
    registry.appointment(patient, datetime(2026, 6, 30, 23, 30), "no_show")  # 21:30 UTC: in
    registry.appointment(patient, datetime(2026, 7, 1, 0, 30))  # 30 June 22:30 UTC: out
    registry.appointment(patient, datetime(2025, 12, 31, 23, 30), "no_show")  # out
    registry.appointment(patient, datetime(2026, 3, 3, 10), "cancelled_patient")
    registry.appointment(patient, datetime(2026, 3, 4, 10), "cancelled_provider")
    registry.appointment(patient, datetime(2026, 3, 5, 10), "no_show")
    no_show = metrics(session).no_show
    assert (no_show.attended.value, no_show.no_show.value) == (1, 2)
    assert no_show.rate.value == pytest.approx(2 / 3)


def test_outcome_missing_is_past_and_still_scheduled(session, registry):
    patient = registry.patient()
    registry.appointment(patient, datetime(2026, 2, 1, 10), "scheduled")  # missing
    registry.appointment(patient, datetime(2026, 6, 30, 23, 0), "scheduled", minutes=60)
    result = figures_of(session, FROM, TO, now=datetime(2026, 6, 30, 21, 30,
                                                        tzinfo=NOW.tzinfo))
    # the second one started at 21:00 UTC and ends at 22:00 UTC: not past yet at 21:30 UTC
    assert values(result.no_show) == {"attended": 0, "no_show": 0, "outcome_missing": 1,
                                      "rate": None}
    assert metrics(session).no_show.outcome_missing.value == 2  # by NOW, both are past


def test_no_show_of_a_program_counts_its_cohort_only(session, registry):
    enrolled = registry.patient()
    registry.enroll(enrolled, ("HF-2", date(2026, 6, 30)))  # enrolled on the last day
    before = registry.patient()
    registry.enroll(before, ("HF-2", date(2025, 1, 1)), ("HF:exit", date(2026, 1, 1)))
    outside = registry.patient()
    for patient in (enrolled, before, outside):
        registry.appointment(patient, datetime(2026, 3, 1, 10))
    # `before` was enrolled on 31 December only: not in the cohort
    assert metrics(session, program="HF").no_show.attended.value == 1
    assert metrics(session).no_show.attended.value == 3


# -- readmission_30d and followup_7d --------------------------------------------------------------

def test_index_stays_are_discharged_in_the_period_alive_and_not_transferred(session, registry):
    patient = registry.patient()
    registry.stay(patient, datetime(2025, 12, 28), datetime(2026, 1, 1, 0, 30))  # local 1 Jan
    registry.stay(patient, datetime(2026, 6, 25), datetime(2026, 7, 1, 0, 30))  # local 1 July
    registry.stay(patient, datetime(2026, 2, 1), datetime(2026, 2, 3), destination="transfer")
    registry.stay(patient, datetime(2026, 3, 1), None)  # still in hospital
    registry.stay(patient, datetime(2026, 4, 1), datetime(2026, 4, 3), cancelled=True)
    registry.stay(registry.patient(died=date(2026, 5, 3)), datetime(2026, 5, 1),
                  datetime(2026, 5, 3), destination="death")
    registry.stay(patient, datetime(2026, 5, 10), datetime(2026, 5, 12), destination=None)
    assert metrics(session).readmission_30d.index_stays.value == 2


def test_readmitted_within_30_days_by_an_emergency_admission(session, registry):
    patient = registry.patient()
    first = registry.stay(patient, datetime(2026, 1, 5), datetime(2026, 1, 10, 18))
    registry.stay(patient, datetime(2026, 2, 9, 8), datetime(2026, 2, 12))  # day 30: readmits
    registry.stay(patient, datetime(2026, 3, 15), datetime(2026, 3, 20))  # day 31 after 12 Feb
    registry.stay(patient, datetime(2026, 4, 1), datetime(2026, 4, 5), mode="planned")
    other = registry.patient()
    registry.stay(other, datetime(2026, 6, 1), datetime(2026, 6, 29))
    registry.stay(other, datetime(2026, 7, 20), datetime(2026, 7, 25))  # after `to`: counts
    registry.stay(registry.patient(), datetime(2026, 5, 1), datetime(2026, 5, 2))
    result = metrics(session).readmission_30d
    # index stays: 10 Jan (readmitted), 12 Feb, 20 Mar (the planned one 12 days later does not
    # readmit), 5 Apr, 29 June (readmitted 21 days later, after `to`), 2 May
    assert values(result) == {"index_stays": 6, "readmitted": 2, "rate": pytest.approx(2 / 6)}
    assert first.readmitted_by_id is not None


def test_followed_up_by_an_attended_appointment_within_7_local_days(session, registry):
    def discharged(day: int):
        patient = registry.patient()
        registry.stay(patient, datetime(2026, 5, day - 3), datetime(2026, 5, day, 18))
        return patient

    registry.appointment(discharged(4), datetime(2026, 5, 4, 9))  # same day, before discharge
    registry.appointment(discharged(5), datetime(2026, 5, 12, 23, 30))  # day 7, 21:30 UTC
    registry.appointment(discharged(6), datetime(2026, 5, 14, 0, 30))  # day 8, 22:30 UTC day 7
    registry.appointment(discharged(7), datetime(2026, 5, 9, 10), "no_show")
    registry.appointment(discharged(8), datetime(2026, 5, 7, 10))  # the day before
    followup = metrics(session).followup_7d
    assert values(followup) == {"index_stays": 5, "followed_up": 2, "rate": 0.4}


# -- care plans ------------------------------------------------------------------------------------

def test_care_plan_coverage_on_the_last_day(session, registry):
    def eligible(**plan):
        patient = registry.patient()
        registry.enroll(patient, ("HF-3", date(2025, 1, 1)))
        if plan:
            registry.plan(patient, **plan)
        return patient

    eligible(activated=date(2026, 1, 10))  # active on `to`
    eligible(activated=date(2025, 1, 10), closed=TO)  # closed on `to`: not active on it
    eligible(activated=date(2025, 1, 10), closed=date(2026, 7, 1))  # closed after: active
    eligible(activated=date(2026, 7, 1))  # activated after
    eligible(activated=None)  # a draft
    eligible()
    registry.enroll(registry.patient(died=date(2026, 6, 1)), ("HF-3", date(2025, 1, 1)))
    registry.enroll(registry.patient(), ("HF-2", date(2025, 1, 1)))  # not requiring a plan
    coverage = metrics(session, program="HF").care_plan_coverage
    assert values(coverage) == {"eligible": 6, "with_active_plan": 2,
                                "rate": pytest.approx(2 / 6)}
    assert values(metrics(session).care_plan_coverage) == values(coverage)
    assert values(metrics(session, stratum="HF-2").care_plan_coverage) == {
        "eligible": 0, "with_active_plan": 0, "rate": None}


def test_plans_overdue_for_review(session, registry):
    patient = registry.patient()
    registry.enroll(patient, ("HF-3", date(2025, 1, 1)))
    registry.plan(patient, activated=date(2025, 6, 1), review=date(2026, 6, 29))  # overdue
    for review in (TO, date(2026, 9, 1), None):
        registry.plan(registry.patient(), activated=date(2025, 6, 1), review=review)
    registry.plan(registry.patient(), activated=date(2025, 6, 1), closed=date(2026, 3, 1),
                  review=date(2026, 1, 1))  # closed before `to`
    assert metrics(session).plans_review_overdue.value == 1
    assert metrics(session, program="HF").plans_review_overdue.value == 1
    assert metrics(session, program="DIAB").plans_review_overdue.value == 0


# -- indicators -----------------------------------------------------------------------------------

def test_flu_vaccination_of_people_aged_65_or_more(session, registry):
    def older(born: date, vaccinated: date | None = None, code: str = "influenza"):
        patient = registry.patient(born=born)
        registry.enroll(patient, ("HF-2", date(2025, 1, 1)))
        if vaccinated:
            registry.event(patient, vaccinated, code)
        return patient

    older(date(1961, 6, 30), date(2025, 7, 1))  # 65 on `to`; 364 days before `to`: in
    older(date(1961, 7, 1), date(2026, 1, 1))  # 65 the day after: not in the denominator
    older(date(1950, 1, 1), date(2025, 6, 30))  # 365 days before `to`: out of the window
    older(date(1950, 1, 1), date(2026, 7, 1))  # after `to`
    older(date(1950, 1, 1), date(2026, 1, 1), code="covid19")
    older(date(1950, 1, 1), TO)
    registry.event(registry.patient(born=date(1940, 1, 1)), date(2026, 1, 1))  # not enrolled
    [flu] = metrics(session, program="HF").indicators
    assert (flu.code, flu.numerator.value, flu.denominator.value, flu.target) == (
        "flu_vaccination_65", 2, 5, 0.75)
    assert flu.rate.value == pytest.approx(0.4)
    [whole] = metrics(session).indicators  # without a program: everyone alive on `to`
    assert (whole.numerator.value, whole.denominator.value, whole.target) == (3, 6, 0.75)


def test_indicators_carry_the_program_s_targets_and_its_own_indicators(session):
    from coordinator.core.context import Actor
    from coordinator.strata import services as strata
    from tests import factories

    program = factories.program("HF")
    flu = next(i for i in program.indicators if i.code == "flu_vaccination_65")
    flu.target_percent = Decimal("80.00")
    strata.add_indicator(session, Actor.system("test"), program, "weight_followed",
                         "Weight followed", 60)
    session.commit()
    indicators = metrics(session, program="HF").indicators
    assert [(i.code, i.target, i.computed) for i in indicators] == [
        ("flu_vaccination_65", 0.8, True), ("weight_followed", 0.6, False)]
    assert indicators[1].numerator is None and indicators[1].rate is None


# -- followed vs not ------------------------------------------------------------------------------

def test_followed_are_patients_with_a_plan_active_at_some_time_in_the_period(session, registry):
    def patient_with(**plan):
        patient = registry.patient()
        if plan:
            registry.plan(patient, **plan)
        registry.appointment(patient, datetime(2026, 3, 1, 10), "no_show")
        registry.stay(patient, datetime(2026, 4, 1), datetime(2026, 4, 3))
        return patient

    patient_with(activated=date(2025, 1, 1), closed=date(2026, 1, 2))  # active on 1 January
    patient_with(activated=TO)  # from the last day
    patient_with(activated=date(2025, 1, 1), closed=FROM)  # closed on the first day: not
    patient_with(activated=date(2026, 7, 1))  # after
    patient_with(activated=date(2026, 3, 1), closed=date(2026, 3, 1))  # never active
    patient_with()
    result = metrics(session)
    assert values(result.followed.no_show) == {"attended": 0, "no_show": 2,
                                               "outcome_missing": 0, "rate": 1.0}
    assert values(result.not_followed.no_show)["no_show"] == 4
    assert values(result.followed.readmission_30d)["index_stays"] == 2
    assert values(result.not_followed.readmission_30d)["index_stays"] == 4
    assert result.no_show.no_show.value == 6


# -- scope ----------------------------------------------------------------------------------------

def test_a_caseload_is_the_case_manager_s_patients(session, registry, case_manager):
    mine = registry.patient(case_manager_id=case_manager.id)
    registry.patient()
    registry.patient(territory="CORNOUAILLE", case_manager_id=case_manager.id)  # not visible
    registry.appointment(mine, datetime(2026, 3, 1, 10))
    result = metrics(session, caseload_of=case_manager)
    assert result.population.count.value == 1
    assert result.no_show.attended.value == 1
