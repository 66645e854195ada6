"""Helpers of the import tests: run an import of a file or of CSV text, in English."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from coordinator.core.context import Actor
from coordinator.extensions import db
from coordinator.imports import background, engine, progress

DATA = Path(__file__).parent / "data"
ORDER = ("providers", "patients", "enrollments")  # the examples, in dependency order


def run(session, kind: str, content: str | bytes, *, actor: Actor | None = None,
        file_name: str = "test.csv", batch_size: int = engine.BATCH_SIZE, progress=None,
        **options):
    """Import CSV text (or bytes) and return the stored report."""
    data = content.encode() if isinstance(content, str) else content
    return engine.import_file(
        session, actor or Actor.system("test"), kind, io.BytesIO(data), file_name,
        engine.ImportOptions(**options), file_size=len(data), locale="en",
        batch_size=batch_size, progress=progress)


def example(kind: str) -> bytes:
    return (DATA / f"{kind}.csv").read_bytes()


def run_example(session, kind: str, **options):
    return run(session, kind, example(kind), file_name=f"{kind}.csv", **options)


def messages(report) -> list[str]:
    """The errors as `line N, column C: message`."""
    from flask_babel import force_locale

    from coordinator.imports.reporting import message_line

    with force_locale("en"):
        return [message_line(error) for error in report.errors]


@pytest.fixture
def examples(session):
    """Import the example files in dependency order; returns their reports."""

    def load(*kinds: str, **options):
        reports = {}
        for kind in kinds or ORDER:
            reports[kind] = run_example(session, kind, **options)
            assert reports[kind].status == "succeeded", (kind, reports[kind].errors)
        return reports

    return load


@pytest.fixture
def inline_imports(monkeypatch):
    """Run the background import inside the request (the test's transaction), not a thread."""
    launched = []

    def launch(app, report_id, path, actor, options, locale):
        launched.append(report_id)
        progress.begin(report_id, 1)
        background.execute(db.session, report_id, path, actor, options, locale)

    monkeypatch.setattr(background, "launch", launch)
    return launched


def upload(client, kind: str, content: bytes, file_name: str = "file.csv", **options):
    token = client.csrf_token("/imports/new")
    data = {"csrf_token": token, "kind": kind,
            "file": (io.BytesIO(content), file_name)}
    data.update({name: "y" for name, value in options.items() if value})
    return client.post("/imports/new", data=data, content_type="multipart/form-data",
                       headers={"Accept-Language": "en"})
