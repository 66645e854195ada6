"""What each figure counts, in words a council reads (docs/metrics.md, "The figures"): the
appendix of the printed report, translated through Babel.

The words follow docs/metrics.md; the figures themselves are computed once, in `figures.py`.
A figure added there gets its sentence here.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString


@dataclass(frozen=True)
class Definition:
    code: str  # the figure's name in the API (metrics.md)
    title: LazyString
    text: LazyString


FIGURES: tuple[Definition, ...] = (
    Definition("population", _l("Population"), _l(
        "Patients of the cohort alive on the last day of the period (born by then, not dead on "
        "or before it) and, with a program, in one of its strata on that day; by stratum: the "
        "stratum each patient is in on that day.")),
    Definition("transitions", _l("Transitions"), _l(
        "Stratum changes of cohort patients with an effective date in the period: up to a "
        "higher level, down to a lower one. A first assignment, an exit from the program and "
        "the re-entry after an exit are not transitions.")),
    Definition("no_show", _l("No-show rate"), _l(
        "Appointments of cohort patients starting in the period: no-shows divided by attended "
        "appointments plus no-shows. Cancelled and still scheduled appointments are not in the "
        "rate; outcome missing: appointments still scheduled although they ended.")),
    Definition("readmission_30d", _l("30-day readmission rate"), _l(
        "Index stays: stays of cohort patients discharged in the period (Paris day), neither by "
        "death nor by transfer, not cancelled. An index stay is readmitted when the patient has "
        "another stay admitted as an emergency 0 to 30 days after the discharge day (the "
        "readmission may come after the period). Rate: readmitted index stays divided by index "
        "stays.")),
    Definition("followup_7d", _l("7-day follow-up rate"), _l(
        "The same index stays; one is followed up when the patient has an attended appointment "
        "starting on the discharge day or in the 7 days after it. Rate: followed up divided by "
        "index stays.")),
    Definition("care_plan_coverage", _l("Care-plan coverage"), _l(
        "Cohort patients alive on the last day of the period in a stratum requiring a care plan, "
        "and the share of them with a care plan active on that day (a plan is active from the "
        "day it was activated to the day before it was closed).")),
    Definition("plans_review_overdue", _l("Plans overdue for review"), _l(
        "Care plans of cohort patients active on the last day of the period whose review date "
        "is before that day.")),
    Definition("flu_vaccination_65", _l("Influenza vaccination, 65 and over"), _l(
        "Patients counted in the population aged 65 or more (full years) on the last day of the "
        "period, and those with an influenza immunization dated in the 365 days up to that day. "
        "Met: at or above the target; close: less than 5 points below it; not met: further "
        "below. Default target 75 %.")),
    Definition("followed_vs_not", _l("Followed vs not followed"), _l(
        "No-show and readmission rates computed separately for the cohort patients who had an "
        "active care plan at some time in the period, and for the others; the two add up to the "
        "whole.")),
)

SELECTION: tuple[Definition, ...] = (
    Definition("period", _l("Period"), _l(
        "From the first to the last day, both included, in Europe/Paris local days; a "
        "date-time is counted on its Paris day.")),
    Definition("cohort", _l("Cohort"), _l(
        "With a program: the patients assigned to one of its strata at some time in the period "
        "(with a stratum: to that stratum). Without a program: every patient of the registry, "
        "of the territory when one is chosen.")),
    Definition("previous", _l("Previous period"), _l(
        "The same number of calendar months just before when the period is whole months, "
        "otherwise the same number of days just before.")),
    Definition("trends", _l("Trends"), _l(
        "Each rate for each of the twelve calendar months ending with the month of the last "
        "day, each month its own period and cohort.")),
)

SUPPRESSION: tuple[LazyString, ...] = (
    _l("For a council, a count from 1 to 10 is shown as <11, and a rate whose numerator or "
       "denominator is from 1 to 10 is withheld too."),
    _l("Where one cell of a breakdown is withheld and its total is shown, other cells are "
       "withheld with it, shown as *, so that no cell can be worked out by subtraction."),
    _l("Case managers and administrators see exact figures."),
)
