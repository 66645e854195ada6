"""Marshmallow schemas of the metrics API (metrics.md, "API"): the arguments and the answer.

A withheld count or rate is `null` and the figure holding it says `"suppressed": true`; a rate
with a zero denominator is `null` too, its figure not suppressed. Rates are fractions (0 to 1).
"""

from __future__ import annotations

import marshmallow as ma
from flask_babel import lazy_gettext as _l

from coordinator.core import fields

CODE_MAX = 32  # territory, program and stratum codes (String(32) columns)


def _code(description: str) -> ma.fields.String:
    return ma.fields.String(
        validate=ma.validate.Length(min=1, max=CODE_MAX,
                                    error=_l("A code has 1 to {max} characters.")),
        metadata={"description": description})


class MetricsArgsSchema(ma.Schema):
    """`?from=YYYY-MM-DD&to=YYYY-MM-DD[&territory=][&program=][&stratum=]`."""

    first = fields.Date(required=True, data_key="from", metadata={
        "description": "First day of the period (ISO date, Europe/Paris local day), included."})
    last = fields.Date(required=True, data_key="to", metadata={
        "description": "Last day of the period, included; at most five years after `from`."})
    territory = _code("A territory code (e.g. DOUAISIS): its patients only. Councils and case "
                      "managers read their own territory only (their default); administrators "
                      "any, and without it every territory.")
    program = _code("A program code (e.g. HF): the cohort is then the patients enrolled in it at "
                    "some time in the period.")
    stratum = _code("A stratum code (e.g. HF-3): the patients in that stratum at some time in "
                    "the period; its program is implied.")


class ComparisonArgsSchema(MetricsArgsSchema):
    """The same without a territory: every territory is compared."""

    class Meta:
        exclude = ("territory",)


def _count(description: str = "") -> ma.fields.Integer:
    return ma.fields.Integer(required=True, allow_none=True, validate=ma.validate.Range(min=0),
                             metadata={"description": description or
                                       "A count; null when withheld (1 to 10, or to protect "
                                       "such a count)."})


def _rate() -> ma.fields.Float:
    return ma.fields.Float(required=True, allow_none=True,
                           validate=ma.validate.Range(min=0, max=1),
                           metadata={"description": "A fraction (0.25, not 25); null when "
                                                    "withheld or when its denominator is zero."})


def _suppressed() -> ma.fields.Boolean:
    return ma.fields.Boolean(required=True, metadata={
        "description": "Whether a value of this figure is withheld (councils: small cells)."})


class MetricsPeriodSchema(ma.Schema):
    class Meta:
        include = {
            "from": ma.fields.String(required=True, metadata={"format": "date"}),
            "to": ma.fields.String(required=True, metadata={"format": "date"}),
        }


class PopulationSchema(ma.Schema):
    count = _count("Patients of the cohort alive (and enrolled, with a program) on `to`.")
    by_stratum = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.Integer(allow_none=True),
        required=True, metadata={"description": "The same by the stratum each patient is in on "
                                                "`to`: stratum code → count (null: withheld)."})
    suppressed = _suppressed()


class TransitionsSchema(ma.Schema):
    up = _count("Stratum changes to a higher level with an effective date in the period.")
    down = _count("Stratum changes to a lower level.")
    suppressed = _suppressed()


class NoShowSchema(ma.Schema):
    attended = _count("Appointments starting in the period, attended.")
    no_show = _count("Appointments starting in the period, missed.")
    rate = _rate()
    outcome_missing = _count("Appointments starting in the period, past and still scheduled.")
    suppressed = _suppressed()


class ReadmissionSchema(ma.Schema):
    index_stays = _count("Stays discharged in the period, neither by death nor transfer.")
    readmitted = _count("Index stays followed by an emergency admission within 30 days.")
    rate = _rate()
    suppressed = _suppressed()


class FollowUpSchema(ma.Schema):
    index_stays = _count("The same index stays.")
    followed_up = _count("Index stays followed by an attended appointment within 7 days.")
    rate = _rate()
    suppressed = _suppressed()


class CoverageSchema(ma.Schema):
    eligible = _count("Patients in a stratum requiring a care plan on `to`.")
    with_active_plan = _count("Of them, with a care plan active on `to`.")
    rate = _rate()
    suppressed = _suppressed()


class MetricIndicatorSchema(ma.Schema):
    code = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    numerator = _count()
    denominator = _count()
    rate = _rate()
    target = ma.fields.Float(required=True, allow_none=True,
                             validate=ma.validate.Range(min=0, max=1),
                             metadata={"description": "The target, a fraction."})
    computed = ma.fields.Boolean(required=True, metadata={
        "description": "False for a program's own indicator, which the registry does not "
                       "compute (its counts are null)."})
    suppressed = _suppressed()


class FollowedSplitSchema(ma.Schema):
    no_show = ma.fields.Nested(NoShowSchema, required=True)
    readmission_30d = ma.fields.Nested(ReadmissionSchema, required=True)
    suppressed = _suppressed()


class FollowedVsNotSchema(ma.Schema):
    followed = ma.fields.Nested(FollowedSplitSchema, required=True, metadata={
        "description": "Patients of the cohort with an active care plan at some time in the "
                       "period."})
    not_followed = ma.fields.Nested(FollowedSplitSchema, required=True)


class MetricsSchema(ma.Schema):
    """Every figure of metrics.md for a period and a selection."""

    period = ma.fields.Nested(MetricsPeriodSchema, required=True)
    territory = ma.fields.String(required=True, allow_none=True)
    program = ma.fields.String(required=True, allow_none=True)
    stratum = ma.fields.String(required=True, allow_none=True)
    suppressed = ma.fields.Boolean(required=True, metadata={
        "description": "Whether any value of the answer is withheld."})
    population = ma.fields.Nested(PopulationSchema, required=True)
    transitions = ma.fields.Nested(TransitionsSchema, required=True)
    no_show = ma.fields.Nested(NoShowSchema, required=True)
    readmission_30d = ma.fields.Nested(ReadmissionSchema, required=True)
    followup_7d = ma.fields.Nested(FollowUpSchema, required=True)
    care_plan_coverage = ma.fields.Nested(CoverageSchema, required=True)
    plans_review_overdue = _count("Care plans active on `to` whose review date is before it.")
    indicators = ma.fields.List(ma.fields.Nested(MetricIndicatorSchema), required=True)
    followed_vs_not = ma.fields.Nested(FollowedVsNotSchema, required=True)


class HeadlinePopulationSchema(ma.Schema):
    count = _count()
    suppressed = _suppressed()


class TerritoryHeadlineSchema(ma.Schema):
    territory = ma.fields.String(required=True)
    suppressed = ma.fields.Boolean(required=True)
    population = ma.fields.Nested(HeadlinePopulationSchema, required=True)
    no_show = ma.fields.Nested(NoShowSchema, required=True)
    readmission_30d = ma.fields.Nested(ReadmissionSchema, required=True)
    followup_7d = ma.fields.Nested(FollowUpSchema, required=True)
    care_plan_coverage = ma.fields.Nested(CoverageSchema, required=True)
    indicators = ma.fields.List(ma.fields.Nested(MetricIndicatorSchema), required=True)


class ComparisonSchema(ma.Schema):
    """The headline figures of every territory, side by side."""

    period = ma.fields.Nested(MetricsPeriodSchema, required=True)
    program = ma.fields.String(required=True, allow_none=True)
    stratum = ma.fields.String(required=True, allow_none=True)
    territories = ma.fields.List(ma.fields.Nested(TerritoryHeadlineSchema), required=True)


# -- Targets of a territory (`/api/v1/metrics/targets`) -------------------------------------------

INDICATOR_CODE_MAX = 64  # ProgramIndicator.code


class TargetsArgsSchema(ma.Schema):
    """`?territory=CODE`."""

    territory = _code("A territory code. Councils and case managers read their own territory "
                      "(their default); administrators give one.")


def _percent(description: str, *, required: bool = True) -> ma.fields.Float:
    return ma.fields.Float(required=required, allow_none=True, allow_nan=False,
                           validate=ma.validate.Range(
                               min=0, max=100,
                               error=_l("The target is a percentage from 0 to 100.")),
                           metadata={"description": description})


class TargetSchema(ma.Schema):
    """One indicator of one program in the territory: the program's target, the territory's
    own (null: none) and the target applied."""

    program = ma.fields.String(required=True)
    indicator = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    is_builtin = ma.fields.Boolean(required=True)
    program_target_percent = _percent("The program's target, a percentage.")
    territory_target_percent = _percent("The territory's own target (a percentage); null: the "
                                        "program's applies.")
    target_percent = _percent("The target applied: the territory's own, else the program's. "
                              "`GET /api/v1/metrics` for the territory carries it (as a "
                              "fraction).")
    updated_at = ma.fields.DateTime(required=True, allow_none=True)


class TargetChangeSchema(ma.Schema):
    """One change of a territory's target (null: the program's target)."""

    changed_at = ma.fields.DateTime(required=True)
    changed_by = ma.fields.String(required=True)
    program = ma.fields.String(required=True)
    indicator = ma.fields.String(required=True)
    old_percent = _percent("The territory's target before (null: the program's).")
    new_percent = _percent("The territory's target after (null: the program's).")


class TargetsSchema(ma.Schema):
    """A territory's targets and the newest changes of them (at most 100, newest first)."""

    territory = ma.fields.String(required=True)
    targets = ma.fields.List(ma.fields.Nested(TargetSchema), required=True)
    history = ma.fields.List(ma.fields.Nested(TargetChangeSchema), required=True)


class TargetInputSchema(ma.Schema):
    program = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=CODE_MAX),
                               metadata={"description": "A program code (e.g. HF)."})
    indicator = ma.fields.String(required=True,
                                 validate=ma.validate.Length(min=1, max=INDICATOR_CODE_MAX),
                                 metadata={"description": "One of the program's indicators "
                                                          "(e.g. flu_vaccination_65)."})
    target_percent = _percent("The territory's target, 0 to 100; null: the program's target "
                              "again.")


class TargetsPatchSchema(ma.Schema):
    """The targets to change (the others stay as they are); all or nothing."""

    targets = ma.fields.List(ma.fields.Nested(TargetInputSchema), required=True,
                             validate=ma.validate.Length(min=1, max=500))
