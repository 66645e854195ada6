"""ICD-10 codes are accepted in the shapes people and hospitals write them, stored as `I50.9`."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from coordinator.stays import icd10


@pytest.mark.parametrize(("written", "stored"), [
    ("I50.9", "I50.9"),
    ("I509", "I50.9"),
    ("i50.9", "I50.9"),
    ("E11", "E11"),
    ("e11", "E11"),
    ("  Z45.0 ", "Z45.0"),
    ("S06.00", "S06.00"),
    ("S0600", "S06.00"),
    ("C34.1234", "C34.1234"),
    ("G01*", "G01"),
    ("A17.0†", "A17.0"),
    ("I50.0+0", "I50.0"),  # ATIH extension dropped
    ("Z515+1", "Z51.5"),
])
def test_accepted_shapes_are_stored_with_their_dot(written, stored):
    assert icd10.normalize(written) == stored
    assert icd10.is_valid(written)


@pytest.mark.parametrize("junk", [
    "", " ", "I5", "150.9", "I50.", "I50..9", "I50.12345", "I 50.9", "II50", "heart failure",
    "I50-9", "+0", "I50.9;DROP", "I50\x00", "É11",
])
def test_other_shapes_are_refused_with_a_message_naming_the_code(app, junk):
    with pytest.raises(ValueError) as refused:
        icd10.normalize(junk)
    assert isinstance(refused.value, icd10.InvalidCode)
    assert not icd10.is_valid(junk)
    with app.test_request_context(), force_locale("en"):
        message = str(refused.value)
    assert "ICD-10" in message
    assert junk.strip()[:20] in message


def test_the_message_is_translated(app):
    with pytest.raises(ValueError) as refused:
        icd10.normalize("XYZ")
    with app.test_request_context(), force_locale("fr"):
        french = str(refused.value)
    with app.test_request_context(), force_locale("en"):
        english = str(refused.value)
    assert "XYZ" in french and "XYZ" in english
    assert french != english
