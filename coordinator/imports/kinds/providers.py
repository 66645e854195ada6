"""The `providers` format: the directory of care providers, upserted by `external_id`."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from coordinator.core.normalize import fold
from coordinator.imports.cells import text, text_for, upper_text
from coordinator.imports.engine import Column, ImportRun, Row
from coordinator.imports.kinds.base import UpsertKind, in_scope, load_territories, territory_of
from coordinator.providers.models import PROVIDER_KINDS, Provider
from coordinator.providers.validation import check_provider

CONTACT = ("organisation", "phone", "email", "address", "postal_code", "city")


class ProvidersKind(UpsertKind):
    name = "providers"
    label = _l("Providers")
    model = Provider
    audit_entity = "provider"
    fetch = ("territory_id", "kind", "name", "rpps", "finess")
    columns = (
        Column("external_id", text_for(Provider.external_id), required=True,
               fields=("external_id",)),
        # Kind and identifiers are checked by the directory's rules (check_provider).
        Column("kind", text(), required=True, fields=("kind",), allowed=PROVIDER_KINDS),
        Column("name", text_for(Provider.name), required=True, fields=("name", "name_folded")),
        Column("rpps", text(), fields=("rpps",)),
        Column("finess", upper_text(), fields=("finess",)),
        Column("territory_code", text(), required=True, fields=("territory_id",),
               note=_l("a territory of this instance (listed below)")),
        *(Column(name, text_for(getattr(Provider, name)), fields=(name,)) for name in CONTACT),
    )

    def begin(self, run: ImportRun) -> None:
        super().begin(run)
        load_territories(run)

    def build(self, run: ImportRun, row: Row, refs: dict, current) -> dict:
        cells = row.values
        if current is not None and not in_scope(run, current["territory_id"]):
            run.problem(row, "external_id",
                        _l("This external_id is a record of another territory: ask an "
                           "administrator."))
        values = {name: cells[name] for name in ("external_id", "kind", "name", "rpps",
                                                   "finess", *CONTACT) if name in run.present}
        values["name_folded"] = fold(values["name"])
        values["territory_id"] = territory_of(run, row)
        merged = {**current, **values} if current is not None else values
        for name, message in check_provider(kind=merged.get("kind"), name=merged.get("name"),
                                            rpps=merged.get("rpps"),
                                            finess=merged.get("finess")):
            run.problem(row, name, message)
        return values


KIND = ProvidersKind()
