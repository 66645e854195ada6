"""French and English are complete; the language follows the user's choice, else the browser."""

import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask_babel import format_decimal, refresh

from coordinator import ROOT
from coordinator.auth.models import User
from coordinator.core.dates import format_date, format_datetime

CATALOGS = ROOT / "coordinator" / "translations"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None,
            "lazy_ngettext": (1, 2)}


def catalog(language):
    with open(CATALOGS / language / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return read_po(handle, locale=language)


def source_msgids():
    with open(ROOT / "babel.cfg") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    return {
        msgid if isinstance(msgid, str) else msgid[0]
        for _file, _line, msgid, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords={**KEYWORDS})
    }


@pytest.mark.parametrize("language", ["fr", "en"])
def test_catalog_is_complete(language):
    missing = []
    for message in catalog(language):
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            missing.append(message.id)
    assert missing == [], f"untranslated in {language}: {missing}"


@pytest.mark.parametrize("language", ["fr", "en"])
def test_catalog_matches_the_source_strings(language):
    in_catalog = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog(language) if m.id}
    in_sources = source_msgids()
    assert in_sources - in_catalog == set(), "run `make extract-messages` and translate"
    assert in_catalog - in_sources == set(), "obsolete strings: run `make extract-messages`"


@pytest.mark.parametrize("language", ["fr", "en"])
def test_compiled_catalog_is_up_to_date(language):
    compiled = io.BytesIO()
    write_mo(compiled, catalog(language))
    mo_file = Path(CATALOGS / language / "LC_MESSAGES" / "messages.mo")
    assert mo_file.exists(), "run `make translations`"
    assert mo_file.read_bytes() == compiled.getvalue(), "run `make translations`"


def test_french_by_default_and_english_from_the_browser(client):
    assert "Se connecter" in client.get("/login").get_data(as_text=True)
    body = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(
        as_text=True)
    assert "Sign in" in body and '<html lang="en"' in body
    body = client.get("/login", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Se connecter" in body


def test_language_switch_is_kept_for_the_session(client):
    token = client.csrf_token("/login")
    response = client.post("/language", data={"csrf_token": token, "locale": "en",
                                              "next": "/login"})
    assert response.headers["Location"] == "/login"
    body = client.get("/login", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Sign in" in body


def test_signed_in_users_choice_is_saved_on_their_account(client, logged_in, case_manager,
                                                          session):
    logged_in(case_manager)
    client.post("/language", data={"csrf_token": client.csrf_token("/"), "locale": "en"})
    assert session.get(User, case_manager.id).locale == "en"
    other = client.application.test_client()
    other.login(case_manager.email)
    assert "My worklist" in other.get("/", headers={"Accept-Language": "fr"}).get_data(
        as_text=True)


def test_language_switch_needs_csrf(client):
    assert client.post("/language", data={"locale": "en"}).status_code == 400


def test_dates_and_numbers_follow_the_locale(app):
    moment = datetime(2026, 3, 29, 12, 30, tzinfo=UTC)
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        refresh()  # the locale is cached per context; this test switches twice
        assert format_date(date(2026, 3, 1), "long") == "1 mars 2026"
        assert format_decimal(1234.5) == "1\u202f234,5"
        assert format_datetime(moment, "short") == "29/03/2026 14:30"  # Paris summer time
    with app.test_request_context(headers={"Accept-Language": "en"}):
        refresh()
        assert format_date(date(2026, 3, 1), "long") == "1 March 2026"
        assert format_decimal(1234.5) == "1,234.5"
