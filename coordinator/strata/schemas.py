"""JSON views of the programs, their strata, and the patients' stratum assignments.

Programs are reference data read by every signed-in user. Assignment rows ("enrollments") carry
patient data: they are read by the same audience as the patient record (case managers of the
patient's territory, administrators). Every rule of an assignment is checked by
`coordinator.patients.assignments`.
"""

from __future__ import annotations

import marshmallow as ma
from flask_babel import lazy_gettext as _l

from coordinator.core import fields
from coordinator.strata.vocabulary import ASSESSMENT_DOMAINS


class FollowUpItemSchema(ma.Schema):
    """One line of a stratum's follow-up template: e.g. nurse, every 14 days, 6 times."""

    position = ma.fields.Integer()
    provider_kind = ma.fields.String()
    label = ma.fields.String()
    label_en = ma.fields.String(allow_none=True)
    interval_days = ma.fields.Integer()
    occurrences = ma.fields.Integer()


class StratumGoalSchema(ma.Schema):
    """A goal the stratum suggests for its care plans, in a domain of the assessment."""

    position = ma.fields.Integer()
    domain = ma.fields.String(metadata={"enum": list(ASSESSMENT_DOMAINS)})
    description = ma.fields.String()
    description_en = ma.fields.String(allow_none=True)


class StratumSchema(ma.Schema):
    """One level of a program's pyramid; level 3 needs an individual care plan."""

    id = ma.fields.Integer()
    code = ma.fields.String()
    level = ma.fields.Integer()
    name = ma.fields.String()
    name_en = ma.fields.String(allow_none=True)
    description = ma.fields.String()
    description_en = ma.fields.String(allow_none=True)
    requires_care_plan = ma.fields.Boolean()
    boundary_criteria = ma.fields.String()
    boundary_criteria_en = ma.fields.String(allow_none=True)
    goals = ma.fields.List(ma.fields.Nested(StratumGoalSchema))
    clinical_goals = ma.fields.Function(
        lambda stratum: "; ".join(goal.description for goal in stratum.goals),
        metadata={"type": "string", "description": "Deprecated: the French texts of `goals`, "
                                                   "joined by semicolons."})
    followup_items = ma.fields.List(ma.fields.Nested(FollowUpItemSchema))


class IndicatorSchema(ma.Schema):
    """An indicator the program is measured by, with its target."""

    code = ma.fields.String()
    label = ma.fields.String()
    label_en = ma.fields.String(allow_none=True)
    target_percent = ma.fields.Float()
    is_builtin = ma.fields.Boolean()


class ProgramSchema(ma.Schema):
    """A shared clinical program with its strata (by level) and indicators."""

    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    name_en = ma.fields.String(allow_none=True)
    description = ma.fields.String()
    description_en = ma.fields.String(allow_none=True)
    inclusion_criteria = ma.fields.String()
    inclusion_criteria_en = ma.fields.String(allow_none=True)
    version = ma.fields.Integer()
    strata = ma.fields.List(ma.fields.Nested(StratumSchema))
    indicators = ma.fields.List(ma.fields.Nested(IndicatorSchema))


class EnrollmentSchema(ma.Schema):
    """A row of a patient's timeline in a program: a stratum from `effective_date`, or an exit
    (`stratum_code` null). `end_date` is the day before the next row; null while it lasts."""

    id = ma.fields.Integer()
    patient_id = ma.fields.Integer()
    program_code = ma.fields.String(attribute="program.code")
    stratum_code = ma.fields.String(attribute="stratum.code", allow_none=True,
                                    dump_default=None)
    is_exit = ma.fields.Boolean(data_key="exit")
    effective_date = ma.fields.Date()
    end_date = ma.fields.Date(allow_none=True)
    reason = ma.fields.String(allow_none=True)
    author = ma.fields.String(attribute="author_label")
    created_at = ma.fields.DateTime()


class EnrollmentCreateSchema(ma.Schema):
    """Assign a stratum (`stratum_code`) from a date, or exit a program (`exit: true` with
    `program_code` and a reason). History rows are never rewritten: the date must come after the
    patient's latest row in that program."""

    patient_id = fields.Id(required=True)
    stratum_code = ma.fields.String(
        metadata={"description": "The stratum to enter (not with exit)."})
    program_code = ma.fields.String(
        metadata={"description": "The program to exit (with exit: true); with a stratum_code, "
                                 "the program it must belong to."})
    is_exit = fields.Boolean(data_key="exit", load_default=False,
                                metadata={"description": "true: end the enrollment in "
                                                         "program_code."})
    effective_date = fields.Date(required=True)
    reason = ma.fields.String(allow_none=True,
                              validate=ma.validate.Length(
                                  max=2000, error=_l("At most {max} characters.")))

    @ma.validates_schema
    def _stratum_or_exit(self, data, **kwargs):
        if data.get("is_exit"):
            problems = {}
            if not data.get("program_code"):
                problems["program_code"] = [_l("Name the program to exit.")]
            if data.get("stratum_code"):
                problems["stratum_code"] = [_l("An exit has no stratum.")]
            if problems:
                raise ma.ValidationError(problems)
        elif not data.get("stratum_code"):
            raise ma.ValidationError(
                {"stratum_code": [_l("Name the stratum to enter, or send exit: true.")]})
