"""Dates and times read the same way everywhere: the reader's language, four-digit years, a
24-hour time, Paris time, no time zone name (issue #16)."""

from datetime import UTC, date, datetime

import pytest
from flask_babel import force_locale

from coordinator.core import dates

DAY = date(1954, 11, 16)
WINTER = datetime(2026, 1, 15, 7, 30, tzinfo=UTC)  # 08:30 in Paris
SUMMER = datetime(2026, 7, 15, 6, 30, tzinfo=UTC)  # 08:30 in Paris


@pytest.mark.parametrize(("locale", "short", "medium", "long"), [
    ("fr", "16/11/1954", "16 nov. 1954", "16 novembre 1954"),
    ("en", "16/11/1954", "16 Nov 1954", "16 November 1954"),
])
def test_a_day_has_its_four_digit_year_in_both_languages(app, locale, short, medium, long):
    with app.test_request_context(), force_locale(locale):
        assert (dates.format_date(DAY, "short"), dates.format_date(DAY, "medium"),
                dates.format_date(DAY, "long")) == (short, medium, long)


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_a_time_is_paris_time_on_a_24_hour_clock_without_a_zone_name(app, locale):
    with app.test_request_context(), force_locale(locale):
        assert dates.format_time(WINTER) == dates.format_time(SUMMER) == "08:30"
        full = dates.format_datetime(WINTER, "full")
        assert full.endswith(" 08:30") and "UTC" not in full and "heure" not in full \
            and "Time" not in full
        assert dates.format_datetime(WINTER, "short") == "15/01/2026 08:30"


def test_full_dates_are_written_as_each_language_writes_them(app):
    with app.test_request_context():
        with force_locale("en"):
            assert dates.format_date(date(2026, 11, 30), "EEEE d MMMM") == "Monday 30 November"
        with force_locale("fr"):
            assert dates.format_date(date(2026, 11, 30), "EEEE d MMMM") == "lundi 30 novembre"


def test_a_naive_instant_is_read_as_utc_as_stored(app):
    with app.test_request_context(), force_locale("fr"):
        assert dates.format_time(WINTER.replace(tzinfo=None)) == "08:30"


def test_templates_use_the_same_formats(app):
    with app.test_request_context(), force_locale("en"):
        template = app.jinja_env.from_string(
            "{{ day|date('short') }} | {{ moment|datetime('short') }} | {{ moment|time }}")
        assert template.render(day=DAY, moment=WINTER) == "16/11/1954 | 15/01/2026 08:30 | 08:30"


def test_a_title_gets_its_capital_without_lowering_the_rest(app):
    with app.test_request_context():
        render = app.jinja_env.from_string("{{ day|date(pattern)|initial_capital }}").render
        with force_locale("fr"):
            assert render(day=date(2026, 11, 1), pattern="LLLL y") == "Novembre 2026"
        with force_locale("en"):
            assert render(day=date(2026, 11, 30), pattern="EEEE d MMMM") == "Monday 30 November"
