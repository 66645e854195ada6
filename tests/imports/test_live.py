"""The real thing: the upload returns at once, the import runs as background work in a worker
thread of the web process with its own session, the progress fragment is polled until the
report appears."""

import io
import re
import time

import flask_migrate
import pytest
from sqlalchemy import select

from coordinator import create_app
from coordinator.extensions import db
from coordinator.imports.models import ImportReport
from coordinator.providers.models import Provider
from coordinator.strata.services import load_reference_data
from coordinator.work import worker
from tests import dbutil, factories
from tests.conftest import CSRF_RE
from tests.imports.conftest import example

pytestmark = pytest.mark.live_database


@pytest.fixture
def live_app(tmp_path):
    url = dbutil.fresh_database(tmp_path)
    # The web process runs the background work in threads of its own, as `make run` does.
    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": url,
                      "WORKERS_IN_PROCESS": True, "WORK_POLL_SECONDS": 0.1})
    with app.app_context():
        flask_migrate.upgrade()
        load_reference_data(db.session)
        db.session.commit()
        email = factories.make_user(role="admin").email
        db.session.remove()
    yield app, email
    threads = app.extensions.get(worker.THREADS_KEY)
    if threads is not None:
        threads.shutdown()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    dbutil.drop_database(url)


def test_upload_then_follow_the_progress_until_the_report(live_app):
    app, email = live_app
    client = app.test_client()  # no application context around: each request has its own

    def csrf_token(path: str) -> str:
        return CSRF_RE.search(client.get(path).get_data(as_text=True)).group(1)

    response = client.post("/login", data={"csrf_token": csrf_token("/login"), "email": email,
                                           "password": factories.PASSWORD})
    assert response.status_code == 302
    token = csrf_token("/imports/new")
    response = client.post("/imports/new", content_type="multipart/form-data",
                           headers={"Accept-Language": "en"},
                           data={"csrf_token": token, "kind": "providers",
                                 "file": (io.BytesIO(example("providers")), "providers.csv")})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert re.fullmatch(r"/imports/\d+", location)
    for _attempt in range(100):
        fragment = client.get(f"{location}/progress", headers={"HX-Request": "true",
                                                               "Accept-Language": "en"})
        body = fragment.get_data(as_text=True)
        if 'data-testid="import-report"' in body:
            break
        assert 'hx-trigger="every 1s"' in body and "<progress" in body
        time.sleep(0.2)
    else:
        pytest.fail("the import did not finish")
    assert "Created: 6" in body and "Imported." in body
    page = client.get(location, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "providers.csv" in page and "Created: 6" in page
    with app.app_context():
        assert db.session.scalar(select(ImportReport.status)) == "succeeded"
        assert len(db.session.scalars(select(Provider.id)).all()) == 6
        db.session.remove()
