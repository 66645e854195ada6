"""A live server on its own database, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import threading

import flask_migrate
import pytest
from werkzeug.serving import make_server

from coordinator import create_app, demo
from coordinator.extensions import db
from coordinator.strata.services import load_reference_data
from tests import dbutil

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.live_database)


@pytest.fixture(scope="session")
def live_server(live_site):
    return live_site[0]


@pytest.fixture(scope="session")
def live_app(live_site):
    """The live server's application, to prepare its data in a test."""
    return live_site[1]


@pytest.fixture(scope="session")
def live_site(tmp_path_factory):
    url = dbutil.fresh_database(tmp_path_factory.mktemp("live"))
    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        flask_migrate.upgrade()
        load_reference_data(db.session)
        demo.seed_demo(db.session, app.config["PASSWORD_HASH_METHOD"])
        db.session.commit()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app
    server.shutdown()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    dbutil.drop_database(url)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM) or shutil.which("chromium") is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: the browser tests must run in CI "
                        "(scripts/system-deps.sh test installs it)")
        pytest.skip(f"{CHROMIUM} is not installed (run `make test`, which installs it)")
    from playwright.sync_api import expect, sync_playwright

    # A loaded CI machine can take longer than Playwright's 5 s to render a page after a form
    # posts: an assertion waits as long as a page action does.
    expect.set_options(timeout=15_000)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()
