"""Helpers of the import tests: run an import of a file or of CSV text, in English."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from coordinator.core.context import Actor
from coordinator.imports import engine
from coordinator.work import worker

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
def inline_imports(app):
    """The uploads' background work, run by `upload` right after each upload, here, in the
    test's transaction (not by a worker): the ids of the items run."""
    ran: list[int] = []
    _runs.append(lambda: ran.extend(info.id for info in worker.drain(app)))
    yield ran
    _runs.clear()


_runs: list = []


def upload(client, kind: str, content: bytes, file_name: str = "file.csv", **options):
    token = client.csrf_token("/imports/new")
    data = {"csrf_token": token, "kind": kind,
            "file": (io.BytesIO(content), file_name)}
    data.update({name: "y" for name, value in options.items() if value})
    response = client.post("/imports/new", data=data, content_type="multipart/form-data",
                           headers={"Accept-Language": "en"})
    for run_queued in _runs:  # inline_imports
        run_queued()
    return response
