"""`flask --app wsgi import KIND FILE [--dry-run] [--skip-invalid] [--accept-duplicates]`."""

import pytest
from sqlalchemy import func, select

from coordinator.imports.models import ImportReport
from coordinator.patients.models import Patient
from coordinator.providers.models import Provider
from tests.imports.conftest import DATA


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def invoke(runner, *args):
    return runner.invoke(args=["import", *args, "--locale", "en"])


def test_imports_the_examples_and_prints_the_report(runner, session):
    for kind in ("providers", "patients", "enrollments"):
        result = invoke(runner, kind, str(DATA / f"{kind}.csv"))
        assert result.exit_code == 0, result.output
        assert "Imported." in result.output
    assert "Created: 7" in result.output and "Rows read: 7" in result.output
    assert "enrollments.csv" in result.stderr  # the progress bar's label (no terminal here)
    assert session.scalar(select(func.count()).select_from(Patient)) == 4
    report = session.scalar(select(ImportReport).order_by(ImportReport.id.desc()))
    assert (report.kind, report.actor_label, report.user_id) == ("enrollments", "cli", None)


def test_a_refused_file_exits_1_and_lists_every_error(runner, session, tmp_path):
    path = tmp_path / "providers.csv"
    path.write_text("external_id;kind;name;territory_code\nP1;gp;;DOUAISIS\nP2;x;Dr B;DOUAISIS\n")
    result = invoke(runner, "providers", str(path))
    assert result.exit_code == 1
    assert "The file was refused: nothing was written." in result.output
    assert "line 2, column name: A value is required." in result.output
    assert "line 3, column kind: Unknown kind" in result.output
    assert session.scalar(select(func.count()).select_from(Provider)) == 0


def test_dry_run_and_skip_invalid(runner, session, tmp_path):
    path = tmp_path / "providers.csv"
    path.write_text("external_id,kind,name,territory_code\nP1,gp,Dr A,DOUAISIS\nP2,x,B,DOUAISIS\n")
    result = invoke(runner, "providers", str(path), "--dry-run", "--skip-invalid")
    assert result.exit_code == 0, result.output
    assert "Dry run: this file can be imported." in result.output
    assert "Would be created: 1" in result.output
    assert session.scalar(select(func.count()).select_from(Provider)) == 0
    result = invoke(runner, "providers", str(path), "--skip-invalid")
    assert result.exit_code == 0 and "the rows with errors were skipped" in result.output
    assert session.scalar(select(Provider.external_id)) == "P1"


def test_accept_duplicates(runner, session, tmp_path):
    invoke(runner, "providers", str(DATA / "providers.csv"))
    invoke(runner, "patients", str(DATA / "patients.csv"))
    path = tmp_path / "patients.csv"
    path.write_text("external_id,birth_name,first_names,birth_date,sex,territory_code\n"
                    "OTHER-1,Dupont,Jacques,14/03/1948,M,DOUAISIS\n")
    refused = invoke(runner, "patients", str(path))
    assert refused.exit_code == 1 and "Likely duplicate of patient #" in refused.output
    accepted = invoke(runner, "patients", str(path), "--accept-duplicates")
    assert accepted.exit_code == 0 and "Warnings (1):" in accepted.output


def test_stays_and_events_import_after_the_registry(runner, session):
    for kind in ("providers", "patients", "enrollments", "appointments", "stays", "events"):
        result = invoke(runner, kind, str(DATA / f"{kind}.csv"))
        assert result.exit_code == 0, result.output
    assert "Created: 5" in result.output
    again = invoke(runner, "stays", str(DATA / "stays.csv"))
    assert again.exit_code == 0 and "Unchanged: 4" in again.output, again.output


def test_unknown_kind_and_missing_file(runner, tmp_path):
    assert invoke(runner, "vaccines", str(DATA / "stays.csv")).exit_code == 2
    assert invoke(runner, "providers", str(tmp_path / "nope.csv")).exit_code == 2
