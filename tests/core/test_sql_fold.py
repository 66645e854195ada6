"""`normalize.sql_fold` folds in the database as `fold` does in Python (SQLite runs `fold`
itself, PostgreSQL translates): the provider boxes compare what was typed with the towns and
organisations the database holds."""

import pytest
from sqlalchemy import String, literal, select

from coordinator.core.normalize import fold, sql_fold


@pytest.mark.parametrize("text", ["Saint-Amand-les-Eaux", "Écaillon", "L'Haÿ-les-Roses",
                                  "Cœuvres-et-Valsery", "ÎLE D’YEU", "Maison de santé (Gayant)",
                                  "", None])
def test_the_database_folds_as_python_does(session, text):
    folded = session.scalar(select(sql_fold(literal(text, String))))
    assert (folded or "").split() == fold(text).split()
