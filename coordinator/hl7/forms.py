"""Forms of the reconciliation list: link a waiting message to a record, or reject it. They
only parse; the rules are the service's (`coordinator.hl7.services.link`, `reject`)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from coordinator.core.bounds import MAX_ID
from coordinator.core.forms import IntegerField


class LinkForm(FlaskForm):
    patient_id = IntegerField(_l("Record number"), validators=[
        DataRequired(message=_l("Choose the patient's record.")),
        NumberRange(min=1, max=MAX_ID, message=_l("Give a record number."))],
        description=_l("The number of the patient's record (shown on the record and in the "
                       "patients list)."))
    note = StringField(_l("Note"), validators=[Optional(), Length(max=1000)])


class RejectForm(FlaskForm):
    note = TextAreaField(_l("Why the message is rejected"),
                         validators=[DataRequired(message=_l("Say why the message is "
                                                             "rejected.")),
                                     Length(max=1000)])
