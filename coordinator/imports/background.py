"""Imports started from the web UI run in a background thread of the web process, with their
own application context and database session, so that the upload request returns at once and
the browser follows the progress (see `progress`)."""

from __future__ import annotations

import contextlib
import os
import threading

from flask import Flask
from sqlalchemy.orm import Session

from coordinator.core.context import Actor
from coordinator.extensions import db
from coordinator.imports import engine, progress


def launch(app: Flask, report_id: int, path: str, actor: Actor,
           options: engine.ImportOptions, locale: str | None) -> threading.Thread:
    """Import the uploaded file at `path` (deleted afterwards) for the report, in a thread."""
    progress.begin(report_id, os.path.getsize(path))
    thread = threading.Thread(target=_run, args=(app, report_id, path, actor, options, locale),
                              name=f"import-{report_id}", daemon=True)
    thread.start()
    return thread


def _run(app: Flask, report_id: int, path: str, actor: Actor, options: engine.ImportOptions,
         locale: str | None) -> None:
    with app.app_context():
        try:
            execute(db.session, report_id, path, actor, options, locale)
        finally:
            db.session.remove()


def execute(session: Session, report_id: int, path: str, actor: Actor,
            options: engine.ImportOptions, locale: str | None) -> None:
    """Run the import of the file at `path`, report its progress, then delete the file."""
    try:
        with open(path, "rb") as stream:
            engine.run_import(
                session, actor, report_id, stream, options, locale=locale,
                progress=lambda done, rows: progress.update(report_id, done, rows))
    finally:
        progress.end(report_id)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
