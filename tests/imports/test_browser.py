"""In Chromium, under the strict content security policy: upload a file, watch htmx poll the
progress, read the report."""

import os
import re
import shutil
import threading

import flask_migrate
import pytest
from werkzeug.serving import make_server

from coordinator import create_app
from coordinator.extensions import db
from coordinator.strata.services import load_reference_data
from coordinator.work import worker
from tests import dbutil, factories

pytestmark = [pytest.mark.browser, pytest.mark.live_database]
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    url = dbutil.fresh_database(tmp_path_factory.mktemp("imports-live"))
    # The web process runs the background work in threads of its own, as `make run` does.
    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": url,
                      "WORKERS_IN_PROCESS": True, "WORK_POLL_SECONDS": 0.1})
    with app.app_context():
        flask_migrate.upgrade()
        load_reference_data(db.session)
        email = factories.make_user(role="admin", locale="en").email
        db.session.remove()
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", email
    httpd.shutdown()
    threads = app.extensions.get(worker.THREADS_KEY)
    if threads is not None:
        threads.shutdown()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    dbutil.drop_database(url)


def in_browser(scenario) -> None:
    """Run `scenario(page)` in Chromium, in a thread of its own: the browser tests of
    tests/browser keep their Playwright session open in the main thread for the whole run,
    and Playwright's sync API allows one per thread."""
    if not os.path.exists(CHROMIUM) or shutil.which("chromium") is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: the browser tests must run in CI")
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    failures = []

    def run() -> None:
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True,
                    args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
                try:
                    page = browser.new_context(locale="en-GB").new_page()
                    page.set_default_timeout(20000)
                    scenario(page)
                finally:
                    browser.close()
        except BaseException as error:  # re-raised in the test's thread
            failures.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if failures:
        raise failures[0]


def test_upload_progress_and_report_in_the_browser(server, tmp_path):
    from playwright.sync_api import expect

    base, email = server
    # Large enough to still be running when the progress page first loads.
    path = tmp_path / "providers.csv"
    path.write_text("external_id,kind,name,territory_code\n" + "".join(
        f"P{n},nurse,Nurse {n},DOUAISIS\n" for n in range(40_000)))

    def scenario(page) -> None:
        problems = []  # content security policy violations, script errors, failed requests
        page.on("console", lambda message: message.type == "error"
                and "Failed to load resource" not in message.text
                and problems.append(message.text))
        page.on("response", lambda response: response.status >= 400
                and not response.url.endswith("/favicon.ico")
                and problems.append(f"{response.status} {response.url}"))
        page.goto(base + "/login")
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Password").fill(factories.PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).not_to_have_url(re.compile(r"/login"))

        polls = []
        page.on("request", lambda request: "/progress" in request.url and polls.append(request))
        page.goto(base + "/imports/new")
        page.get_by_label("Kind of records").select_option("providers")
        page.get_by_label("CSV file").set_input_files(str(path))
        page.get_by_label("Dry run").check()
        page.get_by_role("button", name="Import", exact=True).click()

        expect(page).to_have_url(re.compile(r"/imports/\d+$"))
        report = page.get_by_test_id("import-report")
        expect(report).to_contain_text("Dry run: this file can be imported.", timeout=60000)
        expect(report).to_contain_text("Would be created: 40,000")
        assert polls and polls[0].headers.get("hx-request") == "true"  # htmx followed it
        assert problems == [], problems

    in_browser(scenario)
