"""JSON views of a care plan, and the bodies that create and change one.

`CarePlanSchema` dumps the document of `coordinator.careplans.documents.document()` (dates there
are already ISO strings) plus the plan's comments. The write schemas only parse and shape the
input: enumerations and dates here, every rule of a plan in `coordinator.careplans.services`.
Errors of nested rows are named with dots, as the API answers them: `goals.0.actions.1.status`.
The sizes of `coordinator.careplans.limits` are declared here too (maxItems, maxLength in the
OpenAPI description); the service checks the same numbers for every other caller.
"""

from __future__ import annotations

import datetime as dt

import marshmallow as ma
from flask_babel import lazy_gettext as _l

from coordinator.careplans import limits
from coordinator.careplans.models import (
    ACTION_STATUSES,
    AGREEMENT_METHODS,
    ASSESSMENT_DOMAINS,
    GOAL_STATUSES,
    LEGAL_PROTECTIONS,
    PLAN_STATUSES,
    RESPONSIBLES,
)
from coordinator.core import fields

TOO_LONG = _l("At most {max} characters.")
TOO_MANY_GOALS = _l("At most {max} goals in a plan.")
TOO_MANY_ACTIONS = _l("At most {max} actions per goal.")
TOO_MANY_MEMBERS = _l("At most {max} members in the care team, the patient's GP and the "
                      "providers of the actions included.")
# The services' own messages for the same choices (already translated).
CHOICE_MESSAGES = {
    "domain": _l("Choose a domain of the assessment."),
    "goal_status": _l("Choose open, achieved or abandoned."),
    "responsible": _l("Choose a provider, the patient or the caregiver."),
    "status": _l("Choose a known status."),
    "legal_protection": _l("Choose a legal protection measure, or none."),
    "agreement_method": _l("Choose how the patient agreed."),
}


def dotted(messages, prefix: str = "") -> dict[str, list]:
    """marshmallow's nested errors as one level: `{"goals": {0: {"status": [..]}}}` becomes
    `{"goals.0.status": [..]}`; a row's own errors (`_schema`) are named after the row."""
    if not isinstance(messages, dict):
        return {prefix or "_schema": list(messages) if isinstance(messages, list) else [messages]}
    flat: dict[str, list] = {}
    for key, value in messages.items():
        name = prefix if key == "_schema" and prefix else ".".join(filter(None, (prefix,
                                                                                 str(key))))
        for field, field_messages in dotted(value, name).items():
            flat.setdefault(field, []).extend(field_messages)
    return flat


def _choice(values: tuple[str, ...], message_key: str, description: str | None = None,
            **kwargs) -> ma.fields.String:
    metadata = {"enum": list(values)} | ({"description": description} if description else {})
    return ma.fields.String(
        validate=ma.validate.OneOf(values, error=CHOICE_MESSAGES[message_key]),
        metadata=metadata, **kwargs)


class BoundedList(ma.fields.List):
    """A list of at most `max_items` rows (maxItems in the OpenAPI description), refused by its
    length before any row is read: a 2 MB body holds 600,000 empty rows."""

    def __init__(self, item: ma.fields.Field, max_items: int, error, **kwargs):
        super().__init__(item, validate=ma.validate.Length(max=max_items, error=error), **kwargs)
        self.max_items, self.too_many = max_items, error

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, list) and len(value) > self.max_items:
            raise ma.ValidationError(str(self.too_many).format(max=self.max_items))
        return super()._deserialize(value, attr, data, **kwargs)


def _text(max_length: int | None = None, **kwargs) -> ma.fields.String:
    validate = ma.validate.Length(max=max_length, error=TOO_LONG) if max_length else None
    return ma.fields.String(allow_none=True, validate=validate, **kwargs)


class DocumentDate(ma.fields.Date):
    """A date of a plan document, where dates are already ISO strings."""

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, str):
            return dt.date.fromisoformat(value).isoformat()
        return super()._serialize(value, attr, obj, **kwargs)


# -- Reading -----------------------------------------------------------------------------------

class CarePlanDomainSchema(ma.Schema):
    """One domain of the multidimensional assessment."""

    summary = ma.fields.String()
    needs = ma.fields.String(metadata={"description": "Needs identified."})


CarePlanAssessmentSchema = ma.Schema.from_dict(
    {domain: ma.fields.Nested(CarePlanDomainSchema) for domain in ASSESSMENT_DOMAINS},
    name="CarePlanAssessment")


class CarePlanActionSchema(ma.Schema):
    """Who does what, and when: every `interval_days` days `occurrences` times, or by a date."""

    id = ma.fields.Integer()
    description = ma.fields.String()
    responsible = ma.fields.String(metadata={"enum": list(RESPONSIBLES)})
    provider_id = ma.fields.Integer(allow_none=True)
    provider_name = ma.fields.String(allow_none=True)
    interval_days = ma.fields.Integer(allow_none=True)
    occurrences = ma.fields.Integer(allow_none=True)
    due_date = DocumentDate(allow_none=True)
    status = ma.fields.String(metadata={"enum": list(ACTION_STATUSES)})


class CarePlanGoalSchema(ma.Schema):
    """A need or problem, the goal agreed for it, and its actions."""

    id = ma.fields.Integer()
    domain = ma.fields.String(allow_none=True, metadata={"enum": list(ASSESSMENT_DOMAINS)})
    problem = ma.fields.String()
    description = ma.fields.String()
    measure = ma.fields.String(allow_none=True)
    target_date = DocumentDate(allow_none=True)
    status = ma.fields.String(metadata={"enum": list(GOAL_STATUSES)})
    status_reason = ma.fields.String(allow_none=True)
    actions = ma.fields.List(ma.fields.Nested(CarePlanActionSchema))


class CarePlanMemberSchema(ma.Schema):
    """A provider of the care team."""

    provider_id = ma.fields.Integer()
    provider_name = ma.fields.String(allow_none=True)
    role = ma.fields.String()


class CarePlanCommentSchema(ma.Schema):
    """A dated note left by a reader of the care team for the case manager."""

    author_label = ma.fields.String()
    body = ma.fields.String()
    created_at = ma.fields.DateTime()


class CarePlanSchema(ma.Schema):
    """A care plan (PPCS): identification, the patient's words, the assessment, goals and
    actions, the care team, its follow-up and state."""

    id = ma.fields.Integer()
    patient_id = ma.fields.Integer()
    plan_number = ma.fields.Integer(metadata={"description": "1, 2... for each patient."})
    version = ma.fields.Integer(metadata={"description": "Incremented by every change."})
    status = ma.fields.String(metadata={"enum": list(PLAN_STATUSES)})
    stratum_id = ma.fields.Integer(allow_none=True)
    supersedes_id = ma.fields.Integer(allow_none=True,
                                      metadata={"description": "The plan this one revises."})
    plan_date = DocumentDate()
    review_date = DocumentDate(allow_none=True)
    coordinator_id = ma.fields.Integer(allow_none=True)
    caregiver_name = ma.fields.String(allow_none=True)
    caregiver_relation = ma.fields.String(allow_none=True)
    caregiver_phone = ma.fields.String(allow_none=True)
    legal_protection = ma.fields.String(metadata={"enum": list(LEGAL_PROTECTIONS)})
    legal_protection_details = ma.fields.String(allow_none=True)
    expectations = ma.fields.String()
    priorities = ma.fields.String()
    life_project = ma.fields.String()
    current_help = ma.fields.String()
    agreement_on = DocumentDate(allow_none=True)
    agreement_method = ma.fields.String(allow_none=True,
                                        metadata={"enum": list(AGREEMENT_METHODS)})
    sharing_agreed = ma.fields.Boolean()
    activated_on = DocumentDate(allow_none=True)
    closed_on = DocumentDate(allow_none=True)
    close_reason = ma.fields.String(allow_none=True)
    assessment = ma.fields.Nested(CarePlanAssessmentSchema)
    goals = ma.fields.List(ma.fields.Nested(CarePlanGoalSchema))
    team = ma.fields.List(ma.fields.Nested(CarePlanMemberSchema))
    comments = ma.fields.List(ma.fields.Nested(CarePlanCommentSchema))


class CarePlanRevisionSchema(ma.Schema):
    """One saved state of a plan: its number (the plan's version then), the event, who, when,
    and the labels of what changed."""

    number = ma.fields.Integer()
    event = ma.fields.String(metadata={"description": "created, edited, activated, closed..."})
    created_at = ma.fields.DateTime()
    author_label = ma.fields.String()
    changed = ma.fields.List(ma.fields.String(), attribute="display_changed",
                             metadata={"description": "in the reader's language"})


class PrintedPlanSchema(ma.Schema):
    """The printed plan, for clients asking for JSON: the PDF in base64."""

    filename = ma.fields.String()
    content_type = ma.fields.String()
    data = ma.fields.String(metadata={"description": "The PDF, base64-encoded."})


class PrintBatchSchema(ma.Schema):
    """A print rendered in the background (a batch, or one plan too large to render within a
    request): poll it, then download its PDF."""

    id = ma.fields.Integer()
    status = ma.fields.String(metadata={"enum": ["running", "succeeded", "failed",
                                                 "cancelled"]})
    total = ma.fields.Integer(metadata={"description": "Documents in the batch."})
    done = ma.fields.Integer(metadata={"description": "Documents rendered so far."})
    pages = ma.fields.Integer(allow_none=True)
    error = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()
    finished_at = ma.fields.DateTime(allow_none=True)
    pdf_url = ma.fields.String(allow_none=True, metadata={
        "description": "Where to download the PDF once the batch has succeeded."})


# -- Writing -----------------------------------------------------------------------------------

class _InputSchema(ma.Schema):
    """Refuses unknown fields; names the errors of nested rows with dots."""

    class Meta:
        unknown = ma.RAISE

    def handle_error(self, error: ma.ValidationError, data, *, many: bool, **kwargs) -> None:
        raise ma.ValidationError(dotted(error.messages), data=data,
                                 valid_data=error.valid_data)


class CarePlanDomainInputSchema(_InputSchema):
    """One domain of the assessment: both parts are replaced (a part absent is emptied)."""

    summary = _text(limits.ASSESSMENT_TEXT["summary"])
    needs = _text(limits.ASSESSMENT_TEXT["needs"])


CarePlanAssessmentInputSchema = _InputSchema.from_dict(
    {domain: ma.fields.Nested(CarePlanDomainInputSchema) for domain in ASSESSMENT_DOMAINS},
    name="CarePlanAssessmentInput")


class CarePlanActionInputSchema(_InputSchema):
    """An action; `id` keeps an existing one, rows without it are added."""

    id = fields.Id(allow_none=True)
    description = _text(limits.ACTION_TEXT["description"])
    responsible = _choice(RESPONSIBLES, "responsible", allow_none=True)
    provider_id = fields.Id(allow_none=True, metadata={
        "description": "An active provider of the directory, when a provider is responsible."})
    interval_days = fields.Integer(allow_none=True)
    occurrences = fields.Integer(allow_none=True)
    due_date = fields.Date(allow_none=True)
    status = _choice(ACTION_STATUSES, "status", allow_none=True)


class CarePlanGoalInputSchema(_InputSchema):
    """A goal; `id` keeps an existing one, rows without it are added. Blank rows are dropped."""

    id = fields.Id(allow_none=True)
    domain = _choice(ASSESSMENT_DOMAINS, "domain", allow_none=True)
    problem = _text(limits.GOAL_TEXT["problem"])
    description = _text(limits.GOAL_TEXT["description"])
    measure = _text(limits.GOAL_TEXT["measure"])
    target_date = fields.Date(allow_none=True, metadata={
        "description": "Not before the plan date."})
    status = _choice(GOAL_STATUSES, "goal_status", allow_none=True)
    status_reason = _text(limits.GOAL_TEXT["status_reason"],
                          metadata={"description": "Required when the goal is abandoned."})
    actions = BoundedList(
        ma.fields.Nested(CarePlanActionInputSchema), limits.MAX_ACTIONS_PER_GOAL,
        TOO_MANY_ACTIONS, metadata={"description": f"At most {limits.MAX_ACTIONS_PER_GOAL} "
                                                   "actions."})


class CarePlanMemberInputSchema(_InputSchema):
    """A provider of the care team (the patient's GP and the providers of actions are added)."""

    provider_id = fields.Id(allow_none=True)
    role = _text(limits.MEMBER_TEXT["role"])


class _CarePlanContentSchema(_InputSchema):
    """What a case manager writes in a plan."""

    plan_date = fields.Date()
    review_date = fields.Date(allow_none=True)
    coordinator_id = fields.Id(
        allow_none=True, metadata={"description": "An active case manager of the territory."})
    caregiver_name = _text(limits.PLAN_TEXT["caregiver_name"])
    caregiver_relation = _text(limits.PLAN_TEXT["caregiver_relation"])
    caregiver_phone = _text(limits.PLAN_TEXT["caregiver_phone"])
    legal_protection = _choice(LEGAL_PROTECTIONS, "legal_protection")
    legal_protection_details = _text(limits.PLAN_TEXT["legal_protection_details"])
    expectations = _text(limits.PLAN_TEXT["expectations"])
    priorities = _text(limits.PLAN_TEXT["priorities"])
    life_project = _text(limits.PLAN_TEXT["life_project"])
    current_help = _text(limits.PLAN_TEXT["current_help"])
    agreement_on = fields.Date(allow_none=True, metadata={
        "description": "Date of the patient's agreement; needed to activate the plan."})
    agreement_method = _choice(AGREEMENT_METHODS, "agreement_method", allow_none=True)
    sharing_agreed = fields.Boolean()
    assessment = ma.fields.Nested(CarePlanAssessmentInputSchema, metadata={
        "description": "The domains sent are replaced; the others are kept."})
    goals = BoundedList(
        ma.fields.Nested(CarePlanGoalInputSchema), limits.MAX_GOALS, TOO_MANY_GOALS,
        metadata={"description": "Replaces the goals: rows with an id keep that goal. At most "
                                 f"{limits.MAX_GOALS} goals, and {limits.MAX_ACTIONS} actions "
                                 "in all (422 on `goals` otherwise)."})
    team = BoundedList(
        ma.fields.Nested(CarePlanMemberInputSchema), limits.MAX_TEAM, TOO_MANY_MEMBERS,
        metadata={"description": f"Replaces the care team. At most {limits.MAX_TEAM} members, "
                                 "the patient's GP and the providers of the actions (added "
                                 "to it) included."})


class CarePlanCreateSchema(_CarePlanContentSchema):
    """A new draft plan for a patient (one draft at a time per patient)."""

    patient_id = fields.Id(required=True)
    stratum_id = fields.Id(allow_none=True, metadata={
        "description": "The stratum the plan is made for."})


class CarePlanUpdateSchema(_CarePlanContentSchema):
    """A change to a plan: only the fields sent change; lists sent replace the list."""

    status = _choice(PLAN_STATUSES, "status",
                     "active: activate a draft (the patient's agreement recorded); closed: "
                     "close the plan, with close_reason. The current status changes nothing.")
    close_reason = _text(limits.CLOSE_REASON, metadata={"description": "Why the plan is closed."})
