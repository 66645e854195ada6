"""Forms of the program pages: program, stratum, follow-up template, indicators."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    FieldList,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import NumberInput

from coordinator.core.forms import IntegerField
from coordinator.strata import services
from coordinator.strata.vocabulary import DOMAIN_LABELS, PROVIDER_KIND_LABELS, PROVIDER_KINDS

BLANK_TEMPLATE_ROWS = 3
BLANK_GOAL_ROWS = 2


class PercentField(DecimalField):
    """A percentage; a decimal comma is accepted as well as the point."""

    widget = NumberInput(step="0.01", min=0, max=100)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("places", None)
        super().__init__(*args, **kwargs)

    def _value(self):
        if not self.raw_data and isinstance(self.data, Decimal):
            return format(self.data.normalize(), "f")  # 75, not 75.00 nor 7.5E+1
        return super()._value()

    def process_formdata(self, valuelist):
        if valuelist:
            valuelist = [valuelist[0].strip().replace(",", ".")]
        super().process_formdata(valuelist)


class VersionedForm(FlaskForm):
    """An edit form carrying the version of the record it was read from."""

    version = HiddenField()

    def expected_version(self) -> int:
        try:
            return int(self.version.data or 0)
        except ValueError:
            return 0


class ProgramForm(VersionedForm):
    name = StringField(_l("Name (French)"), validators=[DataRequired(), Length(max=200)])
    name_en = StringField(_l("Name (English)"), validators=[Optional(), Length(max=200)])
    description = TextAreaField(_l("Description (French)"), render_kw={"rows": 3})
    description_en = TextAreaField(_l("Description (English)"), render_kw={"rows": 3})
    inclusion_criteria = TextAreaField(
        _l("Inclusion criteria (French)"), render_kw={"rows": 4},
        description=_l("Who belongs to the population this program follows."))
    inclusion_criteria_en = TextAreaField(_l("Inclusion criteria (English)"),
                                          render_kw={"rows": 4})

    def service_data(self) -> dict:
        return {name: getattr(self, name).data for name in services.PROGRAM_FIELDS}


class ProgramCreateForm(ProgramForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)],
                       description=_l("Upper-case letters, digits and hyphens, e.g. HF or "
                                      "CKD-2. It cannot be changed later."))

    def service_data(self) -> dict:
        return super().service_data() | {"code": self.code.data}


def domain_choices():
    return [("", _l("— choose —")), *DOMAIN_LABELS.items()]


class StratumGoalForm(FlaskForm):
    """One goal the stratum suggests (no token of its own: the page's form carries it)."""

    class Meta:
        csrf = False

    domain = SelectField(_l("Domain"), choices=domain_choices, validate_choice=False)
    description = StringField(_l("Goal (French)"),
                              validators=[Optional(), Length(max=services.GOAL_TEXT_MAX)])
    description_en = StringField(_l("Goal (English)"),
                                 validators=[Optional(), Length(max=services.GOAL_TEXT_MAX)])
    remove = BooleanField(_l("Remove"))

    def is_blank(self) -> bool:
        return not any((value or "").strip()
                       for value in (self.description.data, self.description_en.data))


class StratumForm(VersionedForm):
    level = IntegerField(_l("Level"), validators=[InputRequired()],
                         render_kw={"min": 1, "max": services.MAX_LEVEL},
                         description=_l("1 is the base of the pyramid; the highest level "
                                        "gathers the most complex situations."))
    code = StringField(_l("Code"), validators=[Optional(), Length(max=32)],
                       description=_l("Upper-case letters, digits and hyphens; left blank: "
                                      "the program code and the level, e.g. HF-3."))
    name = StringField(_l("Name (French)"), validators=[DataRequired(), Length(max=200)])
    name_en = StringField(_l("Name (English)"), validators=[Optional(), Length(max=200)])
    description = TextAreaField(_l("Description (French)"), render_kw={"rows": 3})
    description_en = TextAreaField(_l("Description (English)"), render_kw={"rows": 3})
    boundary_criteria = TextAreaField(
        _l("Boundary criteria (French)"), render_kw={"rows": 3},
        description=_l("What places a patient in this stratum rather than the one below "
                       "or above."))
    boundary_criteria_en = TextAreaField(_l("Boundary criteria (English)"),
                                         render_kw={"rows": 3})
    requires_care_plan = BooleanField(_l("Patients of this stratum need an individual care "
                                         "plan (PPCS)"))
    goals = FieldList(FormField(StratumGoalForm),
                      max_entries=services.MAX_STRATUM_GOALS + BLANK_GOAL_ROWS + 1)

    def kept_goals(self) -> list[StratumGoalForm]:
        """The goal rows to save: not marked for removal, not left blank."""
        return [entry.form for entry in self.goals
                if not entry.form.remove.data and not entry.form.is_blank()]

    def service_data(self) -> dict:
        return {name: getattr(self, name).data for name in services.STRATUM_FIELDS} | {
            "goals": [{name: row[name].data for name in services.GOAL_FIELDS}
                      for row in self.kept_goals()]}


def kind_choices():
    return [("", _l("— choose —"))] + [(kind, PROVIDER_KIND_LABELS.get(kind, kind))
                                       for kind in PROVIDER_KINDS]


class FollowUpItemForm(FlaskForm):
    """One row of the template table (no token of its own: the page's form carries it)."""

    class Meta:
        csrf = False

    provider_kind = SelectField(_l("Provider"), choices=kind_choices, validate_choice=False)
    label = StringField(_l("Label (French)"), validators=[Optional(), Length(max=200)])
    label_en = StringField(_l("Label (English)"), validators=[Optional(), Length(max=200)])
    interval_days = IntegerField(_l("Every (days)"), validators=[Optional()],
                                 render_kw={"min": services.INTERVAL_DAYS[0],
                                            "max": services.INTERVAL_DAYS[1]})
    occurrences = IntegerField(_l("Times"), validators=[Optional()],
                               render_kw={"min": services.OCCURRENCES[0],
                                          "max": services.OCCURRENCES[1]})
    remove = BooleanField(_l("Remove"))

    def is_blank(self) -> bool:
        typed = [self.provider_kind.data, self.label.data, self.label_en.data,
                 *(self.interval_days.raw_data or []), *(self.occurrences.raw_data or [])]
        return not any((value or "").strip() for value in typed)


class FollowUpTemplateForm(VersionedForm):
    items = FieldList(FormField(FollowUpItemForm), max_entries=services.MAX_TEMPLATE_ITEMS
                      + BLANK_TEMPLATE_ROWS)

    def kept_rows(self) -> list[FollowUpItemForm]:
        """The rows to save: not marked for removal, not left blank."""
        return [entry.form for entry in self.items
                if not entry.form.remove.data and not entry.form.is_blank()]


class IndicatorTargetForm(FlaskForm):
    class Meta:
        csrf = False

    code = HiddenField()
    target_percent = PercentField(_l("Target (%)"), validators=[Optional()])


class IndicatorTargetsForm(FlaskForm):
    indicators = FieldList(FormField(IndicatorTargetForm))


class IndicatorCreateForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=64)],
                       description=_l("Lower-case letters, digits and underscores, e.g. "
                                      "readmission_30d."))
    label = StringField(_l("Label (French)"), validators=[DataRequired(), Length(max=200)])
    label_en = StringField(_l("Label (English)"), validators=[Optional(), Length(max=200)])
    target_percent = PercentField(_l("Target (%)"), validators=[Optional()])
