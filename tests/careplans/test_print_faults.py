"""Faults while printing a plan, injected: WeasyPrint raising, the renderer dying, the render
taking longer than the time limit, the disk full when the PDF is cached. Each time the reader
gets a clear error (503), the plan is untouched, no cache entry is left, no print is audited,
and the next print renders and caches as usual, without a restart."""

from __future__ import annotations

import errno
import os
import sqlite3
import time

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from coordinator.audit.models import AuditEntry
from coordinator.careplans.models import CarePlanRevision
from coordinator.extensions import db
from coordinator.printing import pdf as pdfs
from coordinator.printing import renderer
from coordinator.printing import services as printing
from coordinator.printing.models import PrintedDocument
from tests import factories
from tests.careplans import renders


@pytest.fixture
def plan(case_manager):
    patient = factories.make_patient(case_manager_id=case_manager.id)
    return factories.make_care_plan(patient, user=case_manager, status="active")


@pytest.fixture
def reader(client, logged_in, case_manager):
    logged_in(case_manager)
    return client


def _pdf_url(plan) -> str:
    return f"/careplans/{plan.id}/summary.pdf"


def _state(plan) -> tuple:
    """What a print must not change (the plan, its revisions) or leave (cache rows, prints)."""
    db.session.expire_all()
    revisions = db.session.scalar(select(func.count()).select_from(CarePlanRevision)
                                  .where(CarePlanRevision.plan_id == plan.id))
    cached = db.session.scalar(select(func.count()).select_from(PrintedDocument))
    prints = db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "print", AuditEntry.entity_id == str(plan.id)))
    return (plan.version, plan.updated_at, revisions), cached, prints


def _prints_again(reader, plan, before: tuple) -> None:
    """The next print renders and caches (one cache row more), the one after is cached."""
    plan_state, cached, prints = before
    first = reader.get(_pdf_url(plan))
    assert first.status_code == 200 and first.data.startswith(b"%PDF")
    assert _state(plan) == (plan_state, cached + 1, prints + 1)
    assert reader.get(_pdf_url(plan)).status_code == 200
    details = db.session.scalars(select(AuditEntry.details).where(
        AuditEntry.action == "print", AuditEntry.entity_id == str(plan.id))
        .order_by(AuditEntry.id.desc()).limit(2)).all()
    assert [d["cached"] for d in details] == [True, False]


def _refused(response, words: str) -> str:
    assert response.status_code == 503
    html = response.get_data(as_text=True)
    assert words in html
    return html


@pytest.fixture
def warm_renderer():
    """A renderer waiting, whose process id the test knows (the next print uses it)."""
    worker = renderer._checkout()
    renderer._checkin(worker)
    assert renderer._idle == [worker]
    return worker


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


# -- The rendering fails ----------------------------------------------------------------------

def test_weasyprint_raising_is_a_clear_error_and_the_next_print_works(
        reader, plan, monkeypatch, warm_renderer):
    before = _state(plan)
    monkeypatch.setattr(pdfs, "render_pdf", renders.weasyprint_fails)
    _refused(reader.get(_pdf_url(plan)), "la production du PDF a échoué")
    assert _state(plan) == before
    assert renderer._idle == [warm_renderer]  # it only raised: still serving
    monkeypatch.undo()
    _prints_again(reader, plan, before)


def test_weasyprint_raising_in_the_web_process_without_a_time_limit(
        app, reader, plan, monkeypatch):
    import weasyprint

    monkeypatch.setitem(app.config, "PRINT_REQUEST_TIMEOUT_SECONDS", 0)
    before = _state(plan)
    monkeypatch.setattr(weasyprint.HTML, "write_pdf",
                        lambda *args, **kwargs: (_ for _ in ()).throw(ValueError("broken")))
    _refused(reader.get(_pdf_url(plan)), "la production du PDF a échoué")
    assert _state(plan) == before
    monkeypatch.undo()
    monkeypatch.setitem(app.config, "PRINT_REQUEST_TIMEOUT_SECONDS", 0)
    _prints_again(reader, plan, before)


def test_the_renderer_dying_mid_render_is_replaced_at_the_next_print(
        reader, plan, monkeypatch, warm_renderer):
    before = _state(plan)
    monkeypatch.setattr(pdfs, "render_pdf", renders.dies)
    _refused(reader.get(_pdf_url(plan)), "la production du PDF a échoué")
    assert _gone(warm_renderer.pid) and renderer._idle == []
    assert _state(plan) == before
    monkeypatch.undo()
    _prints_again(reader, plan, before)


def test_the_api_answers_a_failed_print_with_a_json_503(client, session, plan, case_manager,
                                                        monkeypatch):
    from coordinator.auth import services as auth_services
    from coordinator.core.context import Actor

    secret = auth_services.issue_token(session, case_manager, Actor.system("test")).secret
    session.commit()
    headers = {"Authorization": f"Bearer {secret}", "Accept-Language": "en"}
    before = _state(plan)
    monkeypatch.setattr(pdfs, "render_pdf", renders.weasyprint_fails)
    response = client.get(f"/api/v1/careplans/{plan.id}/pdf", headers=headers)
    assert response.status_code == 503
    assert response.json == {"errors": {"_request": [
        "The document could not be printed: the PDF renderer failed. Nothing was changed. "
        "Try again; if it fails again, tell your administrator."]}}
    assert _state(plan) == before
    monkeypatch.undo()
    assert client.get(f"/api/v1/careplans/{plan.id}/pdf", headers=headers).status_code == 200


# -- The rendering takes too long -------------------------------------------------------------

def test_a_render_over_the_time_limit_is_stopped_and_the_next_print_works(
        app, reader, plan, monkeypatch, warm_renderer):
    monkeypatch.setitem(app.config, "PRINT_REQUEST_TIMEOUT_SECONDS", 1)
    monkeypatch.setattr(pdfs, "render_pdf", renders.never_ends)
    before = _state(plan)
    started = time.monotonic()
    html = _refused(reader.get(_pdf_url(plan)), "a duré plus de 1 seconde :")
    assert time.monotonic() - started < 5  # the web worker is not held
    assert "Service indisponible" in html
    assert _gone(warm_renderer.pid) and renderer._idle == []  # killed, not left running
    assert _state(plan) == before
    monkeypatch.undo()
    _prints_again(reader, plan, before)


def test_weasyprint_itself_is_stopped_on_a_document_far_too_large(session):
    """A real WeasyPrint rendering (tens of thousands of table rows: about a minute) is
    killed at the limit; the renderer that replaces it renders the next document."""
    rows = "".join(f"<tr><td>{n}</td><td>{'Passage infirmier ' * 8}</td></tr>"
                   for n in range(20_000))
    started = time.monotonic()
    with pytest.raises(pdfs.RenderTimedOut):
        printing.render(session, f"<html><body><table>{rows}</table></body></html>",
                        time_limit=1)
    assert time.monotonic() - started < 5
    rendered = printing.render(session, "<html><body><p>Plan</p></body></html>",
                               time_limit=20)
    assert rendered.pdf.startswith(b"%PDF") and not rendered.cached
    assert session.scalar(select(func.count()).select_from(PrintedDocument)) == 1


# -- The disk is full --------------------------------------------------------------------------

@pytest.fixture
def full_disk(app):
    """Every INSERT into the PDF cache fails as a full disk makes it fail, until removed."""
    errors = {
        "oserror": lambda: OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)),
        "database": lambda: OperationalError("INSERT INTO printed_document", {},
                                             sqlite3.OperationalError("database or disk is "
                                                                      "full")),
    }
    errors["locked"] = lambda: OperationalError("INSERT INTO printed_document", {},
                                                sqlite3.OperationalError("database is locked"))
    state = {"error": None, "refused": 0}

    def refuse(conn, cursor, statement, parameters, context, executemany):
        if state["error"] and statement.lstrip().upper().startswith(
                "INSERT INTO PRINTED_DOCUMENT"):
            state["refused"] += 1
            raise errors[state["error"]]()

    event.listen(db.engine, "before_cursor_execute", refuse)
    yield state
    event.remove(db.engine, "before_cursor_execute", refuse)


@pytest.mark.parametrize("error", ["oserror", "database"])
def test_a_full_disk_on_the_cache_write_leaves_no_entry_and_the_next_print_caches(
        reader, plan, full_disk, error):
    before = _state(plan)
    full_disk["error"] = error
    response = reader.get(_pdf_url(plan))
    _refused(response, "son disque est peut-être plein")
    assert response.headers["Retry-After"] == "60"
    assert full_disk["refused"] == 1
    assert _state(plan) == before
    full_disk["error"] = None
    _prints_again(reader, plan, before)


def test_another_database_error_on_the_cache_write_is_not_called_a_full_disk(
        reader, plan, full_disk):
    """A database busy past its timeout is the database's own 503 (core/errorpages.py)."""
    before = _state(plan)
    full_disk["error"] = "locked"
    response = reader.get(_pdf_url(plan))
    assert response.status_code == 503
    assert "disque" not in response.get_data(as_text=True)
    full_disk["error"] = None
    assert _state(plan) == before


def test_a_full_disk_in_the_api_answers_503_with_retry_after(client, session, plan,
                                                             case_manager, full_disk):
    from coordinator.auth import services as auth_services
    from coordinator.core.context import Actor

    secret = auth_services.issue_token(session, case_manager, Actor.system("test")).secret
    session.commit()
    full_disk["error"] = "oserror"
    response = client.get(f"/api/v1/careplans/{plan.id}/pdf",
                          headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    assert list(response.json["errors"]) == ["_request"]
    assert session.scalar(select(func.count()).select_from(PrintedDocument)) == 0
