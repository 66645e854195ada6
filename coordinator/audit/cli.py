"""`flask --app wsgi audit ...`: the audit trail from the command line (one function per
command)."""

from __future__ import annotations

import csv
import sys
from datetime import date

import click
from flask.cli import AppGroup

from coordinator.audit import chain, services
from coordinator.core import extending
from coordinator.core.csvutil import safe_cell
from coordinator.core.time import PARIS
from coordinator.extensions import db

audit = AppGroup("audit", help="The audit trail: a patient's access log, the check of its hash "
                              "chain.")

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


@audit.command("verify")
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(1, 100_000),
              help="Entries read at a time.")
def verify_command(batch_size: int) -> None:
    """Check the hash chain from the retention anchor to the head; exit 1 naming the first
    broken entry (altered, missing or relinked)."""
    result = chain.verify(db.session.connection(), batch_size=batch_size)
    db.session.rollback()
    if result.ok:
        span = (f"sequence {result.anchor_sequence + 1} to {result.head_sequence}"
                if result.verified else "no entry since the anchor")
        click.echo(f"{result.verified} entries verified ({span}); head {result.head_hash}")
        return
    entry = "" if result.broken_id is None else f"entry id {result.broken_id}, "
    click.echo(f"audit chain broken at {entry}sequence {result.broken_sequence}: "
               f"{result.reason} ({result.detail}); {result.verified} entries verified before it",
               err=True)
    sys.exit(1)
