"""Helpers of the metrics tests: the spec's worked example imported, registries built by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from coordinator.metrics import services
from tests.api.conftest import api  # noqa: F401  (the API caller fixture)
from tests.imports.conftest import run_example

# metrics.md, "Worked example": the files imported in this order.
EXAMPLE_ORDER = ("providers", "patients", "enrollments", "appointments", "stays", "events")
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def worked_example(session):
    """The example files of ../shared/spec/examples imported through the import engine."""
    reports = {}
    for kind in EXAMPLE_ORDER:
        reports[kind] = run_example(session, kind)
        assert reports[kind].status == "succeeded", (kind, reports[kind].errors)
    session.commit()
    return reports


def figures_of(session, first: date, last: date, *, exact: bool = True, previous=False,
               now=NOW, **codes):
    selection = services.select_figures(session, first=first, last=last, **codes)
    return services.registry_metrics(session, selection, exact=exact, previous=previous,
                                     now=now)
