"""The web UI: upload form, the upload → progress → report flow, reports, permissions."""

import io
import re

import pytest
from sqlalchemy import select

from coordinator.extensions import db
from coordinator.imports.models import ImportReport
from coordinator.providers.models import Provider
from coordinator.work import worker
from coordinator.work.models import WorkItem
from tests.imports.conftest import example, upload

EN = {"Accept-Language": "en"}


def test_upload_progress_report_flow(client, logged_in, admin, session, inline_imports):
    logged_in(admin)
    response = upload(client, "providers", example("providers"), "providers.csv")
    assert response.status_code == 302
    report = session.scalar(select(ImportReport))
    assert response.headers["Location"] == f"/imports/{report.id}"
    assert inline_imports == [report.work_item_id]
    item = session.get(WorkItem, report.work_item_id)
    assert (item.status, item.attempts, item.done, item.total) == (
        "succeeded", 1, len(example("providers")), len(example("providers")))
    assert (report.status, report.created, report.user_id, report.actor_label) == (
        "succeeded", 6, admin.id, admin.email)
    assert report.file_name == "providers.csv" and report.file_size == len(
        example("providers"))
    page = client.get(f"/imports/{report.id}", headers=EN).get_data(as_text=True)
    assert 'data-testid="import-report"' in page and "Created: 6" in page
    assert "vendor/htmx.min.js" in page and 'name="htmx-config"' in page
    fragment = client.get(f"/imports/{report.id}/progress", headers=EN).get_data(as_text=True)
    assert "hx-trigger" not in fragment and "Created: 6" in fragment
    listing = client.get("/imports/", headers=EN).get_data(as_text=True)
    assert f"/imports/{report.id}" in listing and "providers.csv" in listing
    assert session.scalar(select(Provider.id).where(Provider.external_id == "PRV-001"))


def test_a_running_import_polls_its_progress(client, logged_in, admin, session):
    logged_in(admin)
    item = WorkItem(kind="import", payload={}, status="running", attempts=1, done=420,
                    total=1000, counts={"rows": 1234}, claimed_by="elsewhere")
    session.add(item)
    session.flush()
    report = ImportReport(kind="patients", file_name="big.csv", actor_label=admin.email,
                          user_id=admin.id, status="running", options={}, errors=[],
                          warnings=[], work_item_id=item.id)
    session.add(report)
    session.commit()
    fragment = client.get(f"/imports/{report.id}/progress", headers=EN).get_data(as_text=True)
    assert f'hx-get="/imports/{report.id}/progress"' in fragment
    assert 'hx-trigger="every 1s"' in fragment
    assert '<progress class="w-100" max="100" value="42"' in fragment
    assert "1,234 rows" in fragment and 'data-testid="import-cancel"' in fragment
    page = client.get(f"/imports/{report.id}", headers=EN).get_data(as_text=True)
    assert "<progress" in page and "42 % of the file read" in page


def test_a_queued_import_is_cancelled_at_once_and_writes_nothing(client, logged_in, admin,
                                                                session):
    logged_in(admin)
    location = upload(client, "providers", example("providers")).headers["Location"]
    report = session.scalar(select(ImportReport))
    page = client.get(location, headers=EN).get_data(as_text=True)
    assert "Waiting for a worker to start the import." in page
    response = client.post(f"{location}/cancel", data={"csrf_token": client.csrf_token(location)},
                           headers=EN)
    assert response.status_code == 302
    session.expire_all()
    assert (report.status, session.get(WorkItem, report.work_item_id).status) == (
        "cancelled", "cancelled")
    assert worker.drain(client.application) == []
    page = client.get(location, headers=EN).get_data(as_text=True)
    assert "The import was cancelled: nothing was written." in page
    assert session.scalar(select(Provider.id)) is None


def test_another_users_import_cannot_be_cancelled(client, logged_in, make_user, session):
    owner, other = make_user(role="case_manager"), make_user(role="case_manager")
    logged_in(owner)
    location = upload(client, "providers", example("providers")).headers["Location"]
    client.post("/logout", data={"csrf_token": client.csrf_token("/")})
    logged_in(other)
    response = client.post(f"{location}/cancel", data={"csrf_token": client.csrf_token("/")})
    assert response.status_code == 404
    assert session.scalar(select(WorkItem.status)) == "queued"


def test_errors_are_listed_by_line_and_column(client, logged_in, admin, inline_imports):
    logged_in(admin)
    content = b"external_id,kind,name,territory_code\nP1,gp,,DOUAISIS\nP2,gp,Dr B,XX\n"
    page = client.get(upload(client, "providers", content).headers["Location"],
                      headers=EN).get_data(as_text=True)
    assert "The file was refused: nothing was written." in page
    cells = re.findall(r"<tr><td>(\d+)</td><td>([^<]+)</td><td>([^<]+)</td></tr>", page)
    assert cells == [("2", "name", "A value is required."),
                     ("3", "territory_code", "Unknown territory “XX”.")]


def test_options_reach_the_import(client, logged_in, admin, session, inline_imports):
    logged_in(admin)
    upload(client, "providers", example("providers"), dry_run=True, skip_invalid=True)
    report = session.scalar(select(ImportReport))
    assert report.dry_run and report.options["skip_invalid"]
    assert not report.options["accept_duplicates"] and report.options["territory_id"] is None
    assert session.scalar(select(Provider.id)) is None


def test_the_form_shows_field_errors(client, logged_in, admin):
    logged_in(admin)
    token = client.csrf_token("/imports/new")
    response = client.post("/imports/new", data={"csrf_token": token, "kind": "vaccines"},
                           content_type="multipart/form-data", headers=EN)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Choose the file to import." in page and 'aria-invalid="true"' in page
    assert "Not a valid choice" in page


def test_an_upload_larger_than_the_limit_gets_413_with_a_message(client, logged_in, admin,
                                                                   app, monkeypatch):
    logged_in(admin)
    token = client.csrf_token("/imports/new")
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 1024 * 1024)
    response = client.post("/imports/new", headers=EN, content_type="multipart/form-data",
                           data={"csrf_token": token, "kind": "providers",
                                 "file": (io.BytesIO(b"x" * 1_100_000), "big.csv")})
    assert response.status_code == 413
    assert "the largest file accepted is 1 MB" in response.get_data(as_text=True)
    assert db.session.scalar(select(ImportReport.id)) is None


def test_uploads_may_exceed_the_limit_of_other_forms(client, logged_in, admin, app, session,
                                                     inline_imports):
    logged_in(admin)
    assert app.config["MAX_CONTENT_LENGTH"] < 3_000_000
    padding = "x" * 100_000
    lines = ["external_id,kind,name,territory_code,notes"] + [
        f"P{n},gp,Dr {n},DOUAISIS,{padding}" for n in range(30)]
    response = upload(client, "providers", ("\n".join(lines) + "\n").encode(), dry_run=True)
    assert response.status_code == 302
    report = session.scalar(select(ImportReport))
    assert (report.status, report.created, report.file_size > 3_000_000) == (
        "succeeded", 30, True)


def test_a_case_manager_imports_rows_of_their_territory_only(client, logged_in, case_manager,
                                                             session, inline_imports):
    logged_in(case_manager)
    upload(client, "providers", example("providers"))
    report = session.scalar(select(ImportReport))
    assert report.status == "rejected"
    assert [(e["line"], e["column"]) for e in report.errors] == [(7, "territory_code")]
    assert report.options["territory_id"] == case_manager.territory_id


def test_reports_are_read_by_admins_and_their_own_case_manager(client, logged_in, make_user,
                                                               admin, session):
    own, other = make_user(role="case_manager"), make_user(role="case_manager")
    reports = {}
    for user in (own, other):
        reports[user.id] = ImportReport(kind="providers", file_name=f"{user.id}.csv",
                                        actor_label=user.email, user_id=user.id,
                                        status="succeeded", options={}, errors=[], warnings=[])
        session.add(reports[user.id])
    session.commit()
    logged_in(own)
    assert client.get(f"/imports/{reports[own.id].id}").status_code == 200
    assert client.get(f"/imports/{reports[other.id].id}").status_code == 404
    assert client.get(f"/imports/{reports[other.id].id}/progress").status_code == 404
    listing = client.get("/imports/").get_data(as_text=True)
    assert f"{own.id}.csv" in listing and f"{other.id}.csv" not in listing
    client.post("/logout", data={"csrf_token": client.csrf_token("/")})
    logged_in(admin)
    listing = client.get("/imports/").get_data(as_text=True)
    assert f"{own.id}.csv" in listing and f"{other.id}.csv" in listing
    assert client.get(f"/imports/{reports[other.id].id}").status_code == 200


@pytest.mark.parametrize("role", ["gp", "council"])
def test_gps_and_councils_may_not_import(client, logged_in, make_user, session, role):
    report = ImportReport(kind="providers", file_name="x.csv", actor_label="cli",
                          status="succeeded", options={}, errors=[], warnings=[])
    session.add(report)
    session.commit()
    logged_in(make_user(role=role))
    for path in ("/imports/", "/imports/new", f"/imports/{report.id}",
                 f"/imports/{report.id}/progress"):
        assert client.get(path).status_code == 403, path
    token = client.csrf_token("/")
    response = client.post("/imports/new", content_type="multipart/form-data",
                           data={"csrf_token": token, "kind": "providers",
                                 "file": (io.BytesIO(example("providers")), "p.csv")})
    assert response.status_code == 403
    assert session.scalar(select(ImportReport).where(ImportReport.id != report.id)) is None


def test_pages_need_no_inline_script_or_style(client, logged_in, admin, inline_imports):
    logged_in(admin)
    location = upload(client, "providers", b"external_id,kind\nP1,gp\n").headers["Location"]
    for path in ("/imports/", "/imports/new", location):
        response = client.get(path)
        assert response.status_code == 200, path
        page = response.get_data(as_text=True)
        assert " style=" not in page, path
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == [], path


def test_htmx_is_served_locally(client):
    response = client.get("/static/vendor/htmx.min.js")
    assert response.status_code == 200 and b"htmx" in response.data[:200]
