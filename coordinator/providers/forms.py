"""Provider directory forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from coordinator.core.forms import optional_int
from coordinator.strata.vocabulary import PROVIDER_KIND_LABELS as KIND_LABELS
from coordinator.strata.vocabulary import PROVIDER_KINDS


def kind_choices():
    return [(kind, KIND_LABELS[kind]) for kind in PROVIDER_KINDS]


class ProviderForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=kind_choices, validators=[DataRequired()])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    organisation = StringField(_l("Organisation"), validators=[Optional(), Length(max=200)])
    rpps = StringField(_l("RPPS number"), validators=[Optional(), Length(max=11)],
                       description=_l("11 digits"))
    finess = StringField(_l("FINESS number"), validators=[Optional(), Length(max=9)],
                         description=_l("9 characters: department code then 7 digits"))
    territory_id = SelectField(_l("Territory"), coerce=int, validate_choice=False)
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    email = EmailField(_l("E-mail"), validators=[Optional(), Email(), Length(max=254)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    postal_code = StringField(_l("Postal code"), validators=[Optional(), Length(max=10)])
    city = StringField(_l("City"), validators=[Optional(), Length(max=100)])
    version = HiddenField()

    def service_data(self) -> dict:
        return {name: field.data for name, field in self._fields.items()
                if name not in ("csrf_token", "version")}


class ProviderSearchForm(FlaskForm):
    class Meta:
        csrf = False

    text = StringField(_l("Name or organisation"), validators=[Optional(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=lambda: [("", "—"), *kind_choices()],
                       validators=[Optional()])
    territory_id = SelectField(_l("Territory"), coerce=optional_int, validate_choice=False,
                               validators=[Optional()])
    inactive = BooleanField(_l("Include deactivated providers"))
