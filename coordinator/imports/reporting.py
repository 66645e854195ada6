"""Wording of an import report, shared by the command line and the pages."""

from __future__ import annotations

from flask_babel import format_decimal
from flask_babel import gettext as _

from coordinator.core import messages
from coordinator.imports.models import ImportReport, ImportStatus


def message_text(message: dict) -> str:
    """An error or warning in the reader's language (its code), else as it was written."""
    return messages.render(message.get("code"), fallback=message.get("message"))


def message_line(message: dict) -> str:
    """One error or warning as `line N, column C: message`."""
    line, column, text = message.get("line"), message.get("column"), message_text(message)
    if line is not None and column:
        return _("line %(line)d, column %(column)s: %(message)s", line=line, column=column,
                 message=text)
    if line is not None:
        return _("line %(line)d: %(message)s", line=line, message=text)
    if column:
        return _("column %(column)s: %(message)s", column=column, message=text)
    return text


def outcome(report: ImportReport) -> str:
    """What came of the import, in one sentence."""
    if report.status == ImportStatus.RUNNING:
        return _("The import is running.")
    if report.status == ImportStatus.FAILED:
        return _("The import stopped on an unexpected error: nothing was written.")
    if report.status == ImportStatus.CANCELLED:
        return _("The import was cancelled: nothing was written.")
    if report.status == ImportStatus.REJECTED:
        if report.dry_run:
            return _("Dry run: this file would be refused. Nothing was written.")
        return _("The file was refused: nothing was written. Correct the errors, then import "
                 "it again.")
    if report.dry_run:
        return _("Dry run: this file can be imported. Nothing was written.")
    if report.skipped:
        return _("Imported; the rows with errors were skipped.")
    return _("Imported.")


def summary_lines(report: ImportReport) -> list[str]:
    """The counts; a dry run or a refused import says what it would have done."""
    written = report.wrote_rows

    def count(number: int) -> str:
        return format_decimal(number)

    return [
        _("Rows read: %(n)s", n=count(report.rows_read)),
        _("Created: %(n)s", n=count(report.created)) if written
        else _("Would be created: %(n)s", n=count(report.created)),
        _("Updated: %(n)s", n=count(report.updated)) if written
        else _("Would be updated: %(n)s", n=count(report.updated)),
        _("Unchanged: %(n)s", n=count(report.unchanged)),
        _("Rows with errors (not imported): %(n)s", n=count(report.skipped)),
        _("Errors: %(n)s", n=count(report.error_count)),
    ]
