"""`flask --app wsgi patients export ID --format json|pdf --output FILE`: the export of
everything held about a patient, for the data protection officer (audited as the command
line's export; the PDF without a time limit, in the language chosen)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import force_locale

from coordinator.core.context import Actor
from coordinator.extensions import db
from coordinator.patients.models import Patient
from coordinator.rights import services

patients = AppGroup("patients", help="Patients' rights: exports of what is held about a patient.")


@patients.command("export")
@click.argument("patient_id", type=click.IntRange(min=1, max=2**31 - 1))
@click.option("--format", "kind", type=click.Choice(["json", "pdf"]), default="json",
              show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              required=True, help="The file to write.")
@click.option("--language", type=click.Choice(["fr", "en"]), default="fr", show_default=True,
              help="The PDF's language.")
def export_command(patient_id: int, kind: str, output: Path, language: str) -> None:
    """Export everything held about patient PATIENT_ID (identity, consent, strata, care plans,
    appointments, stays, events, tasks, contacts, HL7 messages, feeds, messages, access log)."""
    patient = db.session.get(Patient, patient_id)
    if patient is None:
        raise click.ClickException(f"no patient with id {patient_id}.")
    if patient.merged_into_id is not None:
        raise click.ClickException(
            f"record {patient_id} was merged into record {patient.merged_into_id}: "
            f"export that one (it holds this record's data and access log).")
    actor = Actor.system("cli")
    with force_locale(language):
        exported = services.export_json(db.session, actor, patient) if kind == "json" else \
            services.export_pdf(db.session, actor, patient, "cli", None)
    output.write_bytes(exported.content)
    try:
        db.session.commit()  # the export's audit entry
    except Exception:
        output.unlink(missing_ok=True)  # an export that is not audited is not handed out
        raise
    click.echo(f"Wrote {output} ({len(exported.content)} bytes).")
