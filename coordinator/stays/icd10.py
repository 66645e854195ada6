"""ICD-10 codes: the shape check and the one stored form (`I50.9`).

A code is a letter, two digits, then optionally a dot and one to four letters or digits (the
WHO category `I50`, the subcategory `I50.9`, national extensions such as `S06.00`). It is
accepted with or without its dot and in any case (`I509`, `i50.9`) and stored upper case with
its dot. What the hospitals send around a code is cleaned before the check:

- surrounding spaces;
- the dagger and asterisk of the dual classification (`A17.0†`, `G01*`), which are marks of the
  coding convention, not part of the code;
- the French ATIH extensions written after a `+` (`I50.0+0`, PMSI): they refine the WHO code
  for hospital funding, carry nothing the registry uses (Charlson, display), and would not fit
  the stored shape, so they are dropped (`I50.0+0` → `I50.0`), never refused: a discharge feed
  must not fail on them.

Anything else (`I5`, `150.9`, `I50.`, `I50.12345`, text) raises `InvalidCode` (a `ValueError`)
whose message is translated and names the code.
"""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

_MARKS = "†‡*!"
_SHAPE = re.compile(r"([A-Z])([0-9]{2})(?:\.?([0-9A-Z]{1,4}))?")
_ATIH_EXTENSION = re.compile(r"\+[0-9A-Z]{1,2}$")
# The longest stored form: letter, two digits, dot, four characters (Stay.main_diagnosis,
# StayDiagnosis.code are String(8)).
MAX_LENGTH = 8


class InvalidCode(ValueError):
    """Not an ICD-10 code: `message` is the translated (lazy) text to show on the field."""

    def __init__(self, code: str):
        self.code = code
        shown = code if len(code) <= 20 else code[:20] + "…"
        self.message = _l("“%(code)s” is not an ICD-10 code: a letter, two digits, then "
                          "optionally a dot and up to four letters or digits (e.g. I50.9).",
                          code=shown)
        super().__init__(self.message)

    def __str__(self) -> str:
        return str(self.message)


def normalize(code: str) -> str:
    """The stored form of an ICD-10 code (`I50.9`, `E11`); `InvalidCode` on any other shape."""
    if not isinstance(code, str):
        raise InvalidCode(str(code))
    cleaned = code.strip().upper().rstrip(_MARKS).strip()
    cleaned = _ATIH_EXTENSION.sub("", cleaned)
    match = _SHAPE.fullmatch(cleaned)
    if match is None:
        raise InvalidCode(code.strip())
    letter, digits, rest = match.groups()
    return f"{letter}{digits}.{rest}" if rest else f"{letter}{digits}"


def is_valid(code: str) -> bool:
    try:
        normalize(code)
    except ValueError:
        return False
    return True
