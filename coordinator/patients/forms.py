"""Patient forms: identity, contact, care links, consent, trusted person, stratification."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from coordinator.core.forms import DateField, IntegerField, optional_int
from coordinator.core.i18n import language_choices

SEX_CHOICES = [("F", _l("Female")), ("M", _l("Male")), ("U", _l("Unknown"))]
IDENTITY_CHOICES = [("provisional", _l("Provisional")), ("qualified", _l("Qualified"))]
# How a consent or its withdrawal was expressed (patients.models.CONSENT_EXPRESSIONS).
CONSENT_EXPRESSION_LABELS = {
    "oral": _l("Orally"),
    "written": _l("In writing"),
    "email": _l("By e-mail or a message"),
    "representative": _l("Through their representative"),
    "other": _l("Other"),
}


class PatientForm(FlaskForm):
    birth_name = StringField(_l("Birth name"), validators=[DataRequired(), Length(max=200)])
    used_name = StringField(_l("Used name"), validators=[Optional(), Length(max=200)])
    first_names = StringField(_l("First names"), validators=[DataRequired(), Length(max=200)],
                              description=_l("All first names, separated by spaces."))
    birth_date = DateField(_l("Birth date"), validators=[DataRequired()])
    sex = SelectField(_l("Sex"), choices=SEX_CHOICES, validators=[DataRequired()])
    birth_place_insee = StringField(_l("Birth place (INSEE code)"),
                                    validators=[Optional(), Length(max=5)])
    nir = StringField(_l("NIR / INS"), validators=[Optional(), Length(max=21)],
                      description=_l("15 characters including the key; Corsica 2A/2B accepted."))
    identity_status = SelectField(_l("Identity status"), choices=IDENTITY_CHOICES)
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    email = EmailField(_l("E-mail"), validators=[Optional(), Email(), Length(max=254)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    postal_code = StringField(_l("Postal code"), validators=[Optional(), Length(max=10)])
    city = StringField(_l("City"), validators=[Optional(), Length(max=100)])
    language = SelectField(_l("Preferred language"), choices=language_choices, default="fr",
                           description=_l("The language of the patient’s reminders."))
    territory_id = SelectField(_l("Territory"), coerce=int, validate_choice=False)
    gp_id = SelectField(_l("GP"), coerce=optional_int,
                        validate_choice=False)
    case_manager_id = SelectField(
        _l("Case manager"), coerce=optional_int,
        validate_choice=False)
    consent_share = BooleanField(_l("Consents to share the care plan with the care team"))
    consent_date = DateField(_l("Date of the consent (or of its withdrawal)"),
                             validators=[Optional()])
    consent_expressed_as = SelectField(
        _l("How the consent or its withdrawal was expressed"),
        choices=[("", "—"), *CONSENT_EXPRESSION_LABELS.items()], validators=[Optional()],
        description=_l("Required to withdraw the consent."))
    trusted_person_name = StringField(_l("Trusted person"), validators=[Optional(),
                                                                        Length(max=200)])
    trusted_person_relation = StringField(_l("Relation"), validators=[Optional(),
                                                                      Length(max=100)])
    trusted_person_phone = StringField(_l("Trusted person’s phone"),
                                       validators=[Optional(), Length(max=40)])
    advance_directives = BooleanField(_l("Advance directives on file"))
    advance_directives_date = DateField(_l("Date of the advance directives"),
                                        validators=[Optional()])
    deceased_date = DateField(_l("Date of death"), validators=[Optional()])
    version = HiddenField()
    confirm_duplicate = BooleanField(_l("I checked: this is a different person"))

    def service_data(self) -> dict:
        skip = {"csrf_token", "version", "confirm_duplicate"}
        return {name: field.data for name, field in self._fields.items() if name not in skip}


class PatientSearchForm(FlaskForm):
    class Meta:
        csrf = False

    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)],
                       description=_l("Birth or used name, then first name; accents and case "
                                      "do not matter."))
    birth_date = DateField(_l("Birth date"), validators=[Optional()])
    territory_id = SelectField(_l("Territory"), coerce=optional_int,
                               validate_choice=False, validators=[Optional()])
    program_id = SelectField(_l("Program"), coerce=optional_int,
                             validate_choice=False, validators=[Optional()])
    stratum_id = SelectField(_l("Stratum"), coerce=optional_int,
                             validate_choice=False, validators=[Optional()])
    case_manager_id = SelectField(_l("Case manager"), coerce=optional_int,
                                  validate_choice=False, validators=[Optional()])


class NirSearchForm(FlaskForm):
    """A search by NIR, posted: a NIR is never put in an address (logs, history, proxies)."""

    nir = StringField(_l("NIR"), validators=[DataRequired(), Length(max=21)])


class AssignStratumForm(FlaskForm):
    stratum_id = SelectField(_l("Stratum"), coerce=int, validate_choice=False,
                             validators=[DataRequired()])
    effective_date = DateField(_l("Effective date"), validators=[DataRequired()])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)])


class ExitProgramForm(FlaskForm):
    program_id = SelectField(_l("Program"), coerce=int, validate_choice=False,
                             validators=[DataRequired()])
    effective_date = DateField(_l("Exit date"), validators=[DataRequired()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])


class CorrectAssignmentForm(FlaskForm):
    """Correct a row of a timeline: its date, its stratum, or cancel it; always with a reason."""

    effective_date = DateField(_l("Corrected effective date"), validators=[Optional()])
    stratum_id = SelectField(_l("Corrected stratum"), coerce=optional_int, validate_choice=False,
                             validators=[Optional()])
    cancel = BooleanField(_l("Cancel this assignment (entered by mistake)"))
    reason = TextAreaField(_l("Reason of the correction"),
                           validators=[DataRequired(), Length(max=2000)])


class ConsentForm(FlaskForm):
    consent_share = HiddenField()
    effective_date = DateField(_l("Effective date"), validators=[Optional()])


class WithdrawConsentForm(FlaskForm):
    """The withdrawal of the consent to share, confirmed, with its date and how it was
    expressed."""

    effective_date = DateField(_l("Date of the withdrawal"), validators=[DataRequired()],
                               description=_l("Today by default; not in the future."))
    expressed_as = SelectField(_l("How the patient expressed it"),
                               choices=[("", "—"), *CONSENT_EXPRESSION_LABELS.items()],
                               validators=[DataRequired()])
    confirm = BooleanField(_l("I confirm: the patient withdraws their consent, and the care "
                              "team will no longer see their care plan"),
                           validators=[DataRequired(_l("Tick the box to confirm the "
                                                       "withdrawal."))])


class MergeForm(FlaskForm):
    keep_id = IntegerField(_l("Record to keep (number)"),
                           validators=[DataRequired(), NumberRange(min=1)])
    merged_id = IntegerField(_l("Duplicate record to merge into it (number)"),
                             validators=[DataRequired(), NumberRange(min=1)])
    confirm = BooleanField(_l("I checked both records: they are the same person"))


class MergeSearchForm(FlaskForm):
    """The merge page's search by name (an address may carry a name: the patients' list does
    too), keeping the records already picked."""

    class Meta:
        csrf = False

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)],
                       description=_l("Birth or used name, then first name; accents and case "
                                      "do not matter."))
    keep_id = HiddenField()
    merged_id = HiddenField()


class MergeNirSearchForm(FlaskForm):
    """The merge page's search by NIR, posted: a NIR is never put in an address."""

    nir = StringField(_l("NIR"), validators=[DataRequired(), Length(max=21)])
    keep_id = HiddenField()
    merged_id = HiddenField()
