"""The import formats, by name (the KIND of `flask --app wsgi import KIND FILE`).

A new format is one module defining a kind (usually an `UpsertKind`; stays and events go
through their domain's service) and one line here.
"""

from __future__ import annotations

from coordinator.imports.kinds import (
    appointments,
    enrollments,
    events,
    patients,
    providers,
    stays,
)
from coordinator.imports.kinds.base import Kind

KINDS: dict[str, Kind] = {
    kind.name: kind for kind in (providers.KIND, patients.KIND, enrollments.KIND,
                                 appointments.KIND, stays.KIND, events.KIND)
}
