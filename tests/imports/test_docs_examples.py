"""The import formats are documented inside the repository (issue 16): docs/imports.md covers
every kind, column and allowed value the import checks; each kind has an example file under
docs/examples/ that imports cleanly through the real engine; the Imports page links to the
document and the examples and shows the allowed values from the rules' own constants; nothing
in the templates, the README, the docs or the API descriptions points outside the repository."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from coordinator.core.context import Actor
from coordinator.imports import engine
from coordinator.imports.kinds import KINDS

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
EXAMPLES = DOCS / "examples"
ORDER = ("providers", "patients", "enrollments", "appointments", "stays", "events")


def _import(session, kind: str, **options):
    data = (EXAMPLES / f"{kind}.csv").read_bytes()
    return engine.import_file(session, Actor.system("test"), kind, io.BytesIO(data),
                              f"{kind}.csv", engine.ImportOptions(**options),
                              file_size=len(data), locale="en")


def _section(kind: str) -> str:
    """The part of docs/imports.md under the kind's heading."""
    text = (DOCS / "imports.md").read_text(encoding="utf-8")
    match = re.search(rf"^## {kind}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"docs/imports.md has no section “## {kind}”"
    return match.group(1)


def test_there_is_an_example_file_for_every_kind():
    assert set(ORDER) == set(KINDS)
    assert sorted(p.stem for p in EXAMPLES.glob("*.csv")) == sorted(KINDS)


def test_the_documented_examples_are_the_worked_example_of_the_metrics():
    """docs/examples are the files the import and metrics tests run (tests/imports/data): the
    figures docs/metrics.md gives for them hold for what a reader downloads."""
    data = ROOT / "tests" / "imports" / "data"
    for kind in ORDER:
        assert (EXAMPLES / f"{kind}.csv").read_bytes() == (data / f"{kind}.csv").read_bytes()


def test_every_example_file_imports_cleanly_in_order(session):
    """Into an empty instance, the examples in the documented order: every row is accepted,
    no error and no warning (e.g. an unknown column)."""
    for kind in ORDER:
        report = _import(session, kind)
        assert report.status == "succeeded", (kind, report.errors)
        assert (report.error_count, report.errors, report.warnings) == (0, [], []), kind
        assert report.created > 0, kind
    again = [_import(session, kind) for kind in ORDER]  # idempotent, as documented
    assert [(r.status, r.created, r.updated) for r in again] == [("succeeded", 0, 0)] * 6


def test_every_column_and_allowed_value_is_documented():
    """The document cannot drift from the rules: each column of each kind is a row of its
    section's table, each value its rule accepts is written there, and each required column
    is marked required."""
    for name, kind in KINDS.items():
        section = _section(name)
        rows = {}
        for line in section.splitlines():
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if line.startswith("|") and len(cells) == 3:
                for column in cells[0].split(","):
                    rows[column.strip()] = cells
        for column in kind.columns:
            assert column.name in rows, (name, column.name)
            required = rows[column.name][1]
            assert required == ("yes" if column.required else "no"), (name, column.name)
            for value in column.values:
                assert f"`{value}`" in rows[column.name][2], (name, column.name, value)
        assert f"(examples/{name}.csv)" in section, name


@pytest.mark.parametrize("path", ["README.md", "docs", "templates", "coordinator"])
def test_nothing_points_outside_the_repository(path):
    """The README, the docs, the templates and the code (its API descriptions and messages)
    never send a reader to ../shared, which a clone does not have."""
    target = ROOT / path
    files = [target] if target.is_file() else [
        p for p in target.rglob("*") if p.is_file() and p.suffix in (".md", ".html", ".py",
                                                                     ".txt", ".po")]
    assert files
    found = [str(p.relative_to(ROOT)) for p in files
             if "../shared" in p.read_text(encoding="utf-8", errors="replace")
             or "shared/spec" in p.read_text(encoding="utf-8", errors="replace")]
    assert found == []


def test_the_openapi_description_points_inside_the_repository(client):
    spec = client.get("/api/v1/openapi.json").get_data(as_text=True)
    assert "../shared" not in spec and "shared/spec" not in spec
    assert "docs/metrics.md" in spec


def test_the_imports_page_links_the_documentation_and_shows_the_allowed_values(
        client, logged_in, admin):
    logged_in(admin)
    html = client.get("/imports/new").get_data(as_text=True)
    assert 'href="/imports/formats"' in html
    for kind in KINDS:
        assert f'href="/imports/examples/{kind}.csv"' in html
    for kind in KINDS.values():
        for column in kind.columns:
            for value in column.values:
                assert f"<code>{value}</code>" in html, (kind.name, column.name, value)
    assert "<code>DOUAISIS</code>" in html and "<code>HF-3</code>" in html  # instance codes


def test_the_documentation_is_served_inside_the_application(client, logged_in,
                                                            case_manager):
    logged_in(case_manager)
    page = client.get("/imports/formats")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<h2>appointments</h2>" in html and "<table>" in html
    assert "<code>home_with_services</code>" in html
    assert 'href="examples/stays.csv"' in html  # resolves to /imports/examples/stays.csv
    download = client.get("/imports/examples/stays.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert download.data == (EXAMPLES / "stays.csv").read_bytes()
    assert client.get("/imports/examples/secrets.csv").status_code == 404
    assert client.get("/imports/examples/..%2Fimports.csv").status_code == 404


def test_only_importers_read_the_formats(client, logged_in, council):
    logged_in(council)
    assert client.get("/imports/formats").status_code == 403
    assert client.get("/imports/examples/patients.csv").status_code == 403
