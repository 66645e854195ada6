"""`flask --app wsgi audit ...`: the audit trail from the command line (one function per
command)."""

from __future__ import annotations

import csv
import sys
from datetime import date

import click
from flask.cli import AppGroup

from coordinator.audit import services
from coordinator.core import extending
from coordinator.core.csvutil import safe_cell
from coordinator.core.time import PARIS
from coordinator.extensions import db

audit = AppGroup("audit", help="The audit trail: a patient's access log.")

PATIENT_LOG_COLUMNS = ("occurred_at", "actor_label", "actor_user_id", "ip_address", "action",
                       "entity_type", "entity_id", "patient_id", "summary")


@audit.command("patient")
@click.argument("patient_id", type=click.IntRange(min=1))
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Only entries from this Paris day on (YYYY-MM-DD).")
@click.option("--format", "output", type=click.Choice(["text", "csv"]), default="text",
              show_default=True)
def patient_log_command(patient_id: int, since, output: str) -> None:
    """The access log of patient PATIENT_ID (and of the records merged into it): every read,
    print, export and change, newest first."""
    ids = extending.first(services.PATIENT_ALIASES, [patient_id], session=db.session,
                          patient_id=patient_id)
    since_day: date | None = since.date() if since else None
    entries = db.session.execute(services.patient_log(ids, since_day)
                                 .execution_options(yield_per=1000)).scalars()
    if output == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(PATIENT_LOG_COLUMNS)
        for entry in entries:
            writer.writerow(safe_cell(value) for value in (
                entry.occurred_at.isoformat(), entry.actor_label, entry.actor_user_id or "",
                entry.ip_address or "", entry.action, entry.entity_type, entry.entity_id or "",
                entry.patient_id, entry.summary or ""))
        return
    count = 0
    for entry in entries:
        count += 1
        when = entry.occurred_at.astimezone(PARIS).strftime("%Y-%m-%d %H:%M:%S")
        what = entry.entity_type + (f" #{entry.entity_id}" if entry.entity_id else "")
        click.echo(f"{when}  {entry.actor_label:<30} {entry.action:<7} {what:<30} "
                   f"{entry.summary or ''}".rstrip())
    click.echo(f"{count} entr{'y' if count == 1 else 'ies'} for patient {patient_id}", err=True)
