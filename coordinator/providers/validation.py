"""Field rules of a provider, shared by the forms, the API and the CSV import."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

from coordinator.providers.models import PROVIDER_KINDS

RPPS_RE = re.compile(r"^\d{11}$")
FINESS_RE = re.compile(r"^(0[1-9]|[1-8]\d|9[0-5]|2A|2B|97)\d{7}$")

Problems = list[tuple[str, object]]


def check_provider(*, kind: str | None, name: str | None, rpps: str | None,
                   finess: str | None) -> Problems:
    problems: Problems = []
    if kind not in PROVIDER_KINDS:
        problems.append(("kind", _l("Unknown kind; use one of: %(kinds)s.",
                                    kinds=", ".join(PROVIDER_KINDS))))
    if not (name or "").strip():
        problems.append(("name", _l("The name is required.")))
    if rpps and not RPPS_RE.match(rpps):
        problems.append(("rpps", _l("An RPPS number has exactly 11 digits.")))
    if finess and not FINESS_RE.match(finess):
        problems.append(("finess", _l("A FINESS number has 9 characters: a department code "
                                      "(01 to 95, 2A, 2B, 97) then 7 digits.")))
    return problems
