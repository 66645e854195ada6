"""The upload form of an import."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField

from coordinator.imports.kinds import KINDS


class ImportForm(FlaskForm):
    kind = SelectField(_l("Kind of records"))
    file = FileField(_l("CSV file"), validators=[FileRequired(_l("Choose the file to import."))],
                     description=_l("UTF-8, columns separated by commas or semicolons, the "
                                    "header on the first line."))
    dry_run = BooleanField(_l("Dry run: check the file and report, write nothing"))
    skip_invalid = BooleanField(
        _l("Import the valid rows and skip the rows with errors"),
        description=_l("By default nothing is imported when any row has an error."))
    accept_duplicates = BooleanField(
        _l("Create likely duplicate patients anyway"),
        description=_l("Patients only: a row matching a registered patient (same NIR, or same "
                       "birth name, first name and birth date) is otherwise refused."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [(name, kind.label) for name, kind in KINDS.items()]
