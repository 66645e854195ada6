"""Working days: weekends and French public holidays (metropolitan, Alsace-Moselle, overseas)."""

from __future__ import annotations

from datetime import date

import pytest

from coordinator.core.workdays import add_working_days, is_working_day, subdivision_for


def test_over_a_weekend_and_the_national_holiday():
    # Friday 10 July 2026: Monday 13 is the first working day, Tuesday 14 July a holiday.
    assert add_working_days(date(2026, 7, 10), 2) == date(2026, 7, 15)
    assert add_working_days(date(2026, 7, 10), 1) == date(2026, 7, 13)
    assert not is_working_day(date(2026, 7, 14))


def test_over_a_plain_weekend():
    assert add_working_days(date(2026, 7, 2), 2) == date(2026, 7, 6)  # Thursday → Monday
    assert add_working_days(date(2026, 7, 4), 2) == date(2026, 7, 7)  # Saturday → Tuesday


def test_zero_days_is_the_day_itself_and_negative_is_refused():
    assert add_working_days(date(2026, 7, 11), 0) == date(2026, 7, 11)
    with pytest.raises(ValueError):
        add_working_days(date(2026, 7, 11), -1)


def test_good_friday_is_a_holiday_in_alsace_moselle_only():
    thursday = date(2026, 4, 2)  # Friday 3 April is Good Friday, Monday 6 Easter Monday
    assert add_working_days(thursday, 2) == date(2026, 4, 7)
    assert add_working_days(thursday, 2, subdivision_for("67000")) == date(2026, 4, 8)
    assert add_working_days(thursday, 2, subdivision_for("57000")) == date(2026, 4, 8)


def test_overseas_departments_have_their_own_holidays():
    # 27 May: abolition of slavery in Guadeloupe; a working day in Douai.
    assert add_working_days(date(2026, 5, 26), 1) == date(2026, 5, 27)
    assert add_working_days(date(2026, 5, 26), 1, subdivision_for("97110")) == date(2026, 5, 28)


@pytest.mark.parametrize("postal_code, subdivision", [
    ("59500", None), ("75001", None), ("57000", "57"), ("67000", "6AE"), ("68100", "6AE"),
    ("97110", "971"), ("97200", "972"), ("97300", "973"), ("97400", "974"), ("97600", "976"),
    ("98800", "NC"), (None, None), ("", None), ("2A004", None), ("590", None),
])
def test_the_department_is_read_from_the_postal_code(postal_code, subdivision):
    assert subdivision_for(postal_code) == subdivision
