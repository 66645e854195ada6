"""Text normalisation shared by search, duplicate detection and imports."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import String, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

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


# -- `fold` in SQL -------------------------------------------------------------------------------
# SQLite runs `fold` itself: the function is registered on every connection
# (core/database.configure_sqlite). PostgreSQL translates the accented letters of the Latin
# alphabets and the punctuation of names and towns (without the unaccent extension); the case
# is then upper, as `fold` does. Both compare the same way with `fold(what was typed)`.
SQL_FOLD_FUNCTION = "coordinator_fold"
_PG_FROM = ("àâäáãåçéèêëîïíìñôöóòõøûüúùÿýÀÂÄÁÃÅÇÉÈÊËÎÏÍÌÑÔÖÓÒÕØÛÜÚÙŸÝ"
            "-'’.,/()")
_PG_TO = ("aaaaaaceeeeiiiinoooooouuuuyyAAAAAACEEEEIIIINOOOOOOUUUUYY"
          "        ")


class sql_fold(FunctionElement):  # an SQL function, named like one
    """`fold(column)` in SQL (spaces may be doubled: compare words with LIKE '% WORD%')."""

    type = String()
    inherit_cache = True
    name = SQL_FOLD_FUNCTION


@compiles(sql_fold)
def _sql_fold_sqlite(element: sql_fold, compiler: Any, **kw: Any) -> str:
    return f"{SQL_FOLD_FUNCTION}({compiler.process(element.clauses, **kw)})"


@compiles(sql_fold, "postgresql")
def _sql_fold_postgresql(element: sql_fold, compiler: Any, **kw: Any) -> str:
    text: Any = func.coalesce(*element.clauses.clauses, "")
    for ligature, letters in (("œ", "oe"), ("Œ", "OE"), ("æ", "ae"), ("Æ", "AE")):
        text = func.replace(text, ligature, letters)
    return compiler.process(func.upper(func.translate(text, _PG_FROM, _PG_TO)), **kw)
