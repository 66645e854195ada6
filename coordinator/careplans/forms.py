"""Care plan forms: the whole plan in one form (goals with their actions, the care team), the
lifecycle forms, comments, batch printing."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from coordinator.careplans import limits
from coordinator.careplans.labels import (
    ACTION_STATUS_LABELS,
    AGREEMENT_LABELS,
    DOMAIN_LABELS,
    GOAL_STATUS_LABELS,
    LEGAL_PROTECTION_LABELS,
    PLAN_STATUS_LABELS,
    RESPONSIBLE_LABELS,
)
from coordinator.careplans.models import ASSESSMENT_DOMAINS
from coordinator.core.forms import DateField, IntegerField, optional_int

BLANK_GOALS = 2
BLANK_ACTIONS = 2
BLANK_MEMBERS = 2
# A list holds a few more rows than the limit, so that a page over it is refused by the
# service (named on the list) rather than cut short by WTForms, which drops the rows after
# `max_entries` without a word.
SPARE_ROWS = 10


def _text(limit: int) -> list:
    return [Optional(), Length(max=limit)]


def _choices(labels: dict) -> list:
    return list(labels.items())


class AssessmentForm(Form):
    summary = TextAreaField(_l("Summary"), validators=_text(limits.ASSESSMENT_TEXT["summary"]),
                            render_kw={"rows": 2})
    needs = TextAreaField(_l("Needs identified"),
                          validators=_text(limits.ASSESSMENT_TEXT["needs"]), render_kw={"rows": 2})


class ActionForm(Form):
    id = HiddenField(filters=[optional_int])
    description = StringField(_l("Action"), validators=_text(limits.ACTION_TEXT["description"]))
    responsible = SelectField(_l("Responsible"), choices=_choices(RESPONSIBLE_LABELS))
    provider_id = SelectField(_l("Provider"), coerce=optional_int, validate_choice=False)
    interval_days = IntegerField(_l("Every (days)"), validators=[Optional(), NumberRange(1)])
    occurrences = IntegerField(_l("Times"), validators=[Optional(), NumberRange(1)])
    due_date = DateField(_l("Due date"), validators=[Optional()])
    status = SelectField(_l("Status"), choices=_choices(ACTION_STATUS_LABELS))
    remove = BooleanField(_l("Remove"))

    def data_for_service(self) -> dict:
        if self.remove.data:  # a removed row is sent blank: the service drops it
            return {"id": None, "description": ""}
        return {name: self[name].data for name in (
            "id", "description", "responsible", "provider_id", "interval_days", "occurrences",
            "due_date", "status")}


class GoalForm(Form):
    id = HiddenField(filters=[optional_int])
    domain = SelectField(_l("Domain"), choices=[("", "—"), *DOMAIN_LABELS.items()])
    problem = TextAreaField(_l("Need or problem"), validators=_text(limits.GOAL_TEXT["problem"]),
                            render_kw={"rows": 2})
    description = TextAreaField(_l("Goal"), validators=_text(limits.GOAL_TEXT["description"]),
                                render_kw={"rows": 2})
    measure = StringField(_l("Measure"), validators=_text(limits.GOAL_TEXT["measure"]))
    target_date = DateField(_l("Target date"), validators=[Optional()])
    status = SelectField(_l("Status"), choices=_choices(GOAL_STATUS_LABELS))
    status_reason = StringField(_l("Reason"), validators=_text(limits.GOAL_TEXT["status_reason"]))
    actions = FieldList(FormField(ActionForm),
                        max_entries=limits.MAX_ACTIONS_PER_GOAL + SPARE_ROWS)
    remove = BooleanField(_l("Remove this goal and its actions"))

    def data_for_service(self) -> dict:
        if self.remove.data:
            return {"id": None, "description": "", "actions": []}
        data = {name: self[name].data for name in (
            "id", "domain", "problem", "description", "measure", "target_date", "status",
            "status_reason")}
        data["actions"] = [entry.form.data_for_service() for entry in self.actions]
        return data


class MemberForm(Form):
    provider_id = SelectField(_l("Provider"), coerce=optional_int, validate_choice=False)
    role = StringField(_l("Role in the plan"), validators=_text(limits.MEMBER_TEXT["role"]))


class PlanForm(FlaskForm):
    version = HiddenField()
    plan_date = DateField(_l("Plan date"), validators=[DataRequired()])
    review_date = DateField(_l("Review date"), validators=[Optional()])
    coordinator_id = SelectField(_l("Coordinator (case manager)"), coerce=optional_int,
                                 validate_choice=False)
    caregiver_name = StringField(_l("Main caregiver"),
                                 validators=_text(limits.PLAN_TEXT["caregiver_name"]))
    caregiver_relation = StringField(_l("Caregiver's relation"),
                                     validators=_text(limits.PLAN_TEXT["caregiver_relation"]))
    caregiver_phone = StringField(_l("Caregiver's phone"),
                                  validators=_text(limits.PLAN_TEXT["caregiver_phone"]))
    legal_protection = SelectField(_l("Legal protection"),
                                   choices=_choices(LEGAL_PROTECTION_LABELS))
    legal_protection_details = StringField(_l("Legal protection details"),
                                           validators=_text(
                                               limits.PLAN_TEXT["legal_protection_details"]),
                                           description=_l("Who exercises it, since when."))
    expectations = TextAreaField(_l("Expectations"),
                                 validators=_text(limits.PLAN_TEXT["expectations"]),
                                 render_kw={"rows": 3},
                                 description=_l("In the patient's own words."))
    priorities = TextAreaField(_l("Priorities"), validators=_text(limits.PLAN_TEXT["priorities"]),
                               render_kw={"rows": 3},
                               description=_l("What matters most to the patient now."))
    life_project = TextAreaField(_l("Life project"),
                                 validators=_text(limits.PLAN_TEXT["life_project"]),
                                 render_kw={"rows": 3})
    current_help = TextAreaField(_l("Help and services in place"),
                                 validators=_text(limits.PLAN_TEXT["current_help"]),
                                 render_kw={"rows": 3})
    agreement_on = DateField(_l("Date of the patient's agreement"), validators=[Optional()])
    agreement_method = SelectField(_l("Way the patient agreed"),
                                   choices=[("", "—"), *AGREEMENT_LABELS.items()])
    sharing_agreed = BooleanField(_l("The patient agrees to share the plan with the care team"))
    goals = FieldList(FormField(GoalForm), max_entries=limits.MAX_GOALS + SPARE_ROWS)
    team = FieldList(FormField(MemberForm), max_entries=limits.MAX_TEAM + SPARE_ROWS)

    def data_for_service(self) -> dict:
        data = {name: self[name].data for name in (
            "plan_date", "review_date", "coordinator_id", "caregiver_name",
            "caregiver_relation", "caregiver_phone", "legal_protection",
            "legal_protection_details", "expectations", "priorities", "life_project",
            "current_help", "agreement_on", "agreement_method", "sharing_agreed")}
        data["agreement_method"] = data["agreement_method"] or None
        data["assessment"] = {domain: {"summary": self[f"assessment_{domain}"].summary.data,
                                       "needs": self[f"assessment_{domain}"].needs.data}
                              for domain in ASSESSMENT_DOMAINS}
        data["goals"] = [entry.form.data_for_service() for entry in self.goals]
        data["team"] = [{"provider_id": entry.form.provider_id.data,
                         "role": entry.form.role.data} for entry in self.team]
        return data


for _domain in ASSESSMENT_DOMAINS:
    setattr(PlanForm, f"assessment_{_domain}", FormField(AssessmentForm,
                                                         label=DOMAIN_LABELS[_domain]))


class ActionFollowUpForm(Form):
    id = HiddenField(filters=[optional_int])
    status = SelectField(_l("Status"), choices=_choices(ACTION_STATUS_LABELS))


class GoalFollowUpForm(Form):
    id = HiddenField(filters=[optional_int])
    status = SelectField(_l("Status"), choices=_choices(GOAL_STATUS_LABELS))
    status_reason = StringField(_l("Reason"), validators=_text(limits.GOAL_TEXT["status_reason"]))
    actions = FieldList(FormField(ActionFollowUpForm),
                        max_entries=limits.MAX_ACTIONS_PER_GOAL + SPARE_ROWS)


class FollowUpForm(FlaskForm):
    """The follow-up of an active plan: how each goal and action is going (its content changes
    through a new version, see services.save_follow_up)."""

    version = HiddenField()
    goals = FieldList(FormField(GoalFollowUpForm), max_entries=limits.MAX_GOALS + SPARE_ROWS)

    def fill(self, goals: list) -> None:
        for goal in goals:
            entry = self.goals.append_entry()
            entry.form.id.data, entry.form.status.data = goal.id, goal.status
            entry.form.status_reason.data = goal.status_reason or ""
            for action in goal.actions:
                row = entry.form.actions.append_entry()
                row.form.id.data, row.form.status.data = action.id, action.status

    def data_for_service(self) -> list[dict]:
        return [{"id": entry.form.id.data, "status": entry.form.status.data,
                 "status_reason": entry.form.status_reason.data,
                 "actions": [{"id": row.form.id.data, "status": row.form.status.data}
                             for row in entry.form.actions]}
                for entry in self.goals if entry.form.id.data is not None]


class VersionForm(FlaskForm):
    """A lifecycle step (activate, revise) on the version the user saw."""

    version = HiddenField()


class CloseForm(VersionForm):
    close_reason = TextAreaField(_l("Reason for closing"),
                                 validators=[DataRequired(), Length(max=limits.CLOSE_REASON)],
                                 render_kw={"rows": 2})
    closed_on = DateField(_l("Closed on"), validators=[Optional()])


class CommentForm(FlaskForm):
    body = TextAreaField(_l("Comment for the case manager"),
                         validators=[DataRequired(), Length(max=limits.COMMENT)],
                         render_kw={"rows": 3})


class BatchPrintForm(FlaskForm):
    plan_ids = SelectMultipleField(_l("Plans"), coerce=int, validate_choice=False)


class CompareForm(Form):
    before = IntegerField(_l("From revision"), validators=[Optional()])
    after = IntegerField(_l("To revision"), validators=[Optional()])


class PlanFilterForm(Form):
    status = SelectField(_l("Status"), choices=[("", "—"), *PLAN_STATUS_LABELS.items()])
    review_due = BooleanField(_l("Review date passed"))
    mine = BooleanField(_l("My caseload only"))
