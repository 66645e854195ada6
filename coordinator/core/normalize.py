"""Text normalisation shared by search, duplicate detection and imports."""

from __future__ import annotations

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^A-Z0-9]+")


def fold(text: str | None) -> str:
    """Upper-case, no accents, punctuation as single spaces: 'Lefèbvre-d’Ô' -> 'LEFEBVRE D O'."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_ALNUM.sub(" ", stripped.upper().replace("Œ", "OE").replace("Æ", "AE")).strip()


def prefix_upper_bound(prefix: str) -> str:
    """The smallest string greater than every string starting with `prefix` (for index ranges)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)
