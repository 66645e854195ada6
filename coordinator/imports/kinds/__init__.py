"""The import formats, by name (the KIND of `flask --app wsgi import KIND FILE`).

A new format (appointments, stays, events) is one module defining a kind (usually an
`UpsertKind`) and one line here.
"""

from __future__ import annotations

from coordinator.imports.kinds import appointments, enrollments, patients, providers
from coordinator.imports.kinds.base import Kind

KINDS: dict[str, Kind] = {
    kind.name: kind for kind in (providers.KIND, patients.KIND, enrollments.KIND,
                                 appointments.KIND)
}
