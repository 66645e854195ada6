"""The `live` fixture: an application on a database of its own (tests marked live_database)."""

from __future__ import annotations

import pytest

from tests import dbutil
from tests.core.live import Live


@pytest.fixture
def live(tmp_path):
    live = Live(dbutil.fresh_database(tmp_path))
    yield live
    live.close()
