"""`flask --app wsgi import KIND FILE [--dry-run] [--skip-invalid] [--accept-duplicates]`."""

from __future__ import annotations

import os
import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale
from flask_babel import gettext as _

from coordinator.core.context import Actor
from coordinator.extensions import db
from coordinator.imports import engine
from coordinator.imports.kinds import KINDS
from coordinator.imports.models import ImportStatus
from coordinator.imports.reporting import message_line, outcome, summary_lines


@click.command("import")
@click.argument("kind", type=click.Choice(sorted(KINDS)))
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Validate and report; write nothing.")
@click.option("--skip-invalid", is_flag=True,
              help="Import the valid rows and skip the invalid ones (default: all or nothing).")
@click.option("--accept-duplicates", is_flag=True,
              help="patients: create likely duplicates of registered patients anyway.")
@click.option("--locale", type=click.Choice(["fr", "en"]), default=None,
              help="Language of the report (default: the instance's).")
@with_appcontext
def import_command(kind: str, file: str, dry_run: bool, skip_invalid: bool,
                   accept_duplicates: bool, locale: str | None) -> None:
    """Import FILE (CSV, see the import formats) as KIND; exit code 1 when refused or failed."""
    locale = locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    options = engine.ImportOptions(dry_run=dry_run, skip_invalid=skip_invalid,
                                   accept_duplicates=accept_duplicates)
    size = os.path.getsize(file)
    with open(file, "rb") as stream, \
            click.progressbar(length=size, label=os.path.basename(file), file=sys.stderr) as bar:
        done = 0

        def progress(bytes_read: int, rows: int) -> None:
            nonlocal done
            bar.update(bytes_read - done)
            done = bytes_read

        report = engine.import_file(db.session, Actor.system("cli"), kind, stream,
                                    os.path.basename(file), options, file_size=size,
                                    progress=progress, locale=locale)
    with force_locale(locale):
        click.echo(_("Import report #%(id)d: %(outcome)s", id=report.id,
                     outcome=outcome(report)))
        for line in summary_lines(report):
            click.echo(f"  {line}")
        for title, messages, count in ((_("Errors"), report.errors, report.error_count),
                                       (_("Warnings"), report.warnings, len(report.warnings))):
            if not messages:
                continue
            click.echo(f"{title} ({count}):")
            for message in messages:
                click.echo(f"  {message_line(message)}")
            if count > len(messages):
                click.echo("  " + _("… and %(n)d more (only the first %(shown)d are kept).",
                                    n=count - len(messages), shown=len(messages)))
    if report.status in (ImportStatus.REJECTED, ImportStatus.FAILED):
        raise SystemExit(1)
