"""Sign-in, password and account forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Email, EqualTo, Length

from coordinator.auth.roles import Role
from coordinator.auth.services import MIN_PASSWORD_LENGTH
from coordinator.core.forms import optional_int


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})


class SecondFactorForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=20)],
                       description=_l("The 6 digits your authenticator app shows, or one of "
                                      "your recovery codes."),
                       render_kw={"autocomplete": "one-time-code", "autofocus": True,
                                  "inputmode": "text", "spellcheck": "false"})


class TwoFactorEnableForm(FlaskForm):
    code = StringField(_l("Code shown by the app"), validators=[DataRequired(), Length(max=20)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


class TwoFactorPasswordForm(FlaskForm):
    password = PasswordField(_l("Your password"), validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)],
        description=_l("At least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )
    revoke_tokens = BooleanField(
        _l("Also revoke my API tokens (the programs using them must receive new ones)"))


def role_choices():
    return [(role.value, role.label) for role in Role]


class _AccountForm(FlaskForm):
    """What an administrator sets of an account, at its creation and later."""

    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(_l("Role"), choices=role_choices, validators=[DataRequired()])
    territory = SelectField(_l("Territory"), choices=[], validate_choice=False,
                            description=_l("Required for case managers and councils."))
    provider_id = SelectField(
        _l("Record in the provider directory"), coerce=optional_int, validate_choice=False,
        description=_l("For a GP: their patients are those whose GP is this record. For a "
                       "care-team professional: they read the plans whose care team includes "
                       "this record."))


class UserCreateForm(_AccountForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(
        _l("Initial password"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)],
        description=_l("At least %(n)d characters. Give it to the user by a separate channel.",
                       n=MIN_PASSWORD_LENGTH),
        render_kw={"autocomplete": "new-password"},
    )


class UserEditForm(_AccountForm):
    """An administrator's changes to an account (its e-mail and password apart)."""

    is_active = BooleanField(_l("Account enabled"),
                             description=_l("A disabled account cannot sign in nor use its "
                                            "API tokens."))
    state = HiddenField()


class PasswordResetForm(FlaskForm):
    """An administrator gives an account a new generated password."""

    revoke_tokens = BooleanField(
        _l("Also revoke their API tokens (the programs using them must receive new ones)"))
