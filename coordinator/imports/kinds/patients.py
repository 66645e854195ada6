"""The `patients` format: registry identities upserted by `external_id`, with identity
vigilance (a likely duplicate is not created unless asked) and the consent history."""

from __future__ import annotations

from functools import lru_cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, tuple_
from sqlalchemy import text as sql_text

from coordinator.core.normalize import fold
from coordinator.imports.cells import parse_date, text, text_for, yes_no
from coordinator.imports.engine import Column, ImportRun, Row
from coordinator.imports.kinds.base import (
    Planned,
    Reference,
    UpsertKind,
    bulk_insert,
    in_scope,
    load_territories,
    territory_of,
    unknown_reference,
)
from coordinator.patients.models import ConsentEvent, IdentityStatus, Patient
from coordinator.patients.validation import (
    SEXES,
    check_email,
    check_gp,
    check_identity,
    check_identity_status,
    check_nir,
    clean_nir,
)
from coordinator.providers.models import Provider

CONTACT = ("phone", "email", "address", "postal_code", "city")
IDENTITY = ("nir", "birth_name", "first_names", "birth_date", "sex", "birth_place_insee",
            "deceased_date")


# On PostgreSQL a list of (name, date, first name) keys is matched key by key on the identity
# index (a nested loop the planner cannot turn into a scan of the growing table); a long
# row-value IN list costs there as many comparisons per row as keys.
_REGISTERED_POSTGRESQL = sql_text("""
    SELECT p.id, p.nir, k.n, k.d, k.f, p.territory_id
    FROM unnest(CAST(:names AS text[]), CAST(:dates AS date[]), CAST(:firsts AS text[]))
         AS k (n, d, f)
    CROSS JOIN LATERAL (
        SELECT id, nir, territory_id FROM patient
        WHERE birth_name_folded = k.n AND birth_date = k.d AND first_name_folded = k.f
          AND merged_into_id IS NULL
        ORDER BY id LIMIT 1) AS p
    UNION ALL
    SELECT id, nir, birth_name_folded, birth_date, first_name_folded, territory_id FROM patient
    WHERE nir = ANY(CAST(:nirs AS text[])) AND merged_into_id IS NULL
""")


# A likely duplicate the importer may not open (another territory's record): said to exist, no
# id and no detail (#15, finding 7); `min` keeps it below any real id (ids start at 1).
ELSEWHERE = 0
ELSEWHERE_MESSAGE = _l("A matching record exists in another territory: ask an administrator "
                       "(nothing else about it is shown).")


def _name(column):
    """A name with its inner spaces collapsed, as the registry stores names."""
    inner = text_for(column)
    return lambda cell: inner(" ".join(cell.split()))


# Names repeat a lot across a registry: folding each distinct one once saves time on big files.
folded = lru_cache(maxsize=1024)(fold)


@lru_cache(maxsize=1024)
def first_name_key(first_names: str | None) -> str:
    """The folded first of the first names (what identity vigilance compares)."""
    return (fold(first_names).split() or [""])[0]


class PatientsKind(UpsertKind):
    name = "patients"
    label = _l("Patients")
    model = Patient
    audit_entity = "patient"
    fetch = ("territory_id", "merged_into_id", "identity_status", "gp_id", "consent_share",
             "consent_date", *IDENTITY)
    references = (Reference("gp_external_id", Provider,
                            ("id", "kind", "is_active", "territory_id")),)
    columns = (
        Column("external_id", text_for(Patient.external_id), required=True,
               fields=("external_id",)),
        # NIR, sex and INSEE code are checked by the registry's identity rules.
        Column("nir", clean_nir, fields=("nir",)),
        Column("birth_name", _name(Patient.birth_name), required=True,
               fields=("birth_name", "birth_name_folded")),
        Column("used_name", _name(Patient.used_name), fields=("used_name", "used_name_folded")),
        Column("first_names", _name(Patient.first_names), required=True,
               fields=("first_names", "first_name_folded")),
        Column("birth_date", parse_date, required=True, fields=("birth_date",)),
        Column("sex", str.upper, required=True, fields=("sex",), allowed=SEXES),
        Column("birth_place_insee", str.upper, fields=("birth_place_insee",)),
        Column("territory_code", text(), required=True, fields=("territory_id",),
               note=_l("a territory of this instance (listed below)")),
        Column("gp_external_id", text(), fields=("gp_id",)),
        Column("consent_share", yes_no, fields=("consent_share", "consent_date")),
        *(Column(name, text_for(getattr(Patient, name)), fields=(name,)) for name in CONTACT),
        Column("deceased_date", parse_date, fields=("deceased_date",)),
    )

    def begin(self, run: ImportRun) -> None:
        super().begin(run)
        load_territories(run)
        run.context["copied"] = [name for name in ("external_id", *IDENTITY, "used_name",
                                                   *CONTACT) if name in run.present]

    def build(self, run: ImportRun, row: Row, refs: dict, current) -> dict:
        cells, present = row.values, run.present
        if current is not None:
            if current["merged_into_id"] is not None:
                run.problem(row, "external_id",
                            _l("This record was merged into patient #%(id)s: it cannot be "
                               "imported any more.", id=current["merged_into_id"]))
            elif not in_scope(run, current["territory_id"]):
                run.problem(row, "external_id", _l(
                    "This external_id is a record of another territory: ask an administrator."))
        values = {name: cells[name] for name in run.context["copied"]}
        values["birth_name_folded"] = folded(values["birth_name"])
        values["first_name_folded"] = first_name_key(values["first_names"])
        if "used_name" in present:
            values["used_name_folded"] = folded(values["used_name"]) or None
        values["territory_id"] = territory_of(run, row)
        if "gp_external_id" in present:
            values["gp_id"] = self._gp(run, row, refs, current, values["territory_id"])
        if "consent_share" in present:
            consent = bool(cells["consent_share"])  # an empty cell is the default: no
            values["consent_share"] = consent
            if current is not None and current["consent_share"] == consent:
                values["consent_date"] = current["consent_date"]
            else:
                values["consent_date"] = run.today if consent or current is not None else None
        self._check_identity(run, row, values, current)
        return values

    def _gp(self, run: ImportRun, row: Row, refs: dict, current,
            territory_id: int | None) -> int | None:
        external_id = row.values["gp_external_id"]
        if external_id is None:
            return None
        gp = refs["gp_external_id"].get(external_id)
        if gp is None:
            unknown_reference(run, row, "gp_external_id")
            return None
        for _field, message in check_gp(
                gp, territory_id, field="gp_external_id",
                newly_chosen=current is None or current["gp_id"] != gp.id):
            run.problem(row, "gp_external_id", message)
        return gp.id

    def _check_identity(self, run: ImportRun, row: Row, values: dict, current) -> None:
        """The registry's identity rules, on the record as the row leaves it."""
        merged = {**current, **values} if current is not None else values
        problems = check_identity(
            birth_name=merged.get("birth_name"), first_names=merged.get("first_names"),
            birth_date=merged.get("birth_date"), sex=merged.get("sex"),
            birth_place_insee=merged.get("birth_place_insee"),
            deceased_date=merged.get("deceased_date"), today=run.today)
        problems += check_nir(merged.get("nir"), merged.get("sex"), merged.get("birth_date"))
        if "email" in values:
            problems += check_email(values["email"])
        if current is not None:
            problems += check_identity_status(current["identity_status"], merged["nir"],
                                              field="nir")
        for name, message in problems:
            run.problem(row, name, message)

    def check_batch(self, run: ImportRun, planned: list[Planned]) -> None:
        """Identity vigilance: a row creating a patient that matches one already registered,
        or one created earlier in the file, is refused unless duplicates are accepted."""
        creating = [plan for plan in planned if plan.current is None]
        if not creating:
            return
        by_nir, by_identity = self._registered(run, creating)
        seen_nir: dict[str, int] = {}
        seen_identity: dict[tuple, int] = {}
        for plan in planned:
            values, line = plan.values, plan.row.line
            nir = values.get("nir")
            identity = (values["birth_name_folded"], values["birth_date"],
                        values["first_name_folded"])
            if plan.current is None:
                found = self._match(nir, identity, by_nir, by_identity, seen_nir, seen_identity)
                if found is not None:
                    column, message = found
                    if message is ELSEWHERE_MESSAGE:
                        hidden = run.context["hidden_matches"]
                        told = hidden.get(("nir", nir)) if column == "nir" else \
                            hidden.get(("identity", identity))
                        if told is not None:
                            run.disclosed.add(told)
                    if run.options.accept_duplicates:
                        run.warnings.add(line, column, _l("%(message)s Imported as asked "
                                                          "(duplicates accepted).",
                                                          message=message))
                    else:
                        run.problem(plan.row, column, message)
                        continue
            if nir:
                seen_nir.setdefault(nir, line)
            seen_identity.setdefault(identity, line)

    @staticmethod
    def _match(nir, identity, by_nir, by_identity, seen_nir, seen_identity):
        if nir and by_nir.get(nir) == ELSEWHERE:
            return "nir", ELSEWHERE_MESSAGE
        if by_identity.get(identity) == ELSEWHERE:
            return "birth_name", ELSEWHERE_MESSAGE
        if nir and nir in by_nir:
            return "nir", _l("Likely duplicate of patient #%(id)s (same NIR).", id=by_nir[nir])
        if identity in by_identity:
            return "birth_name", _l("Likely duplicate of patient #%(id)s (same birth name, "
                                    "first name and birth date).", id=by_identity[identity])
        if nir and nir in seen_nir:
            return "nir", _l("Likely duplicate of the patient on line %(line)d (same NIR).",
                             line=seen_nir[nir])
        if identity in seen_identity:
            return "birth_name", _l("Likely duplicate of the patient on line %(line)d (same "
                                    "birth name, first name and birth date).",
                                    line=seen_identity[identity])
        return None

    @staticmethod
    def _registered(run: ImportRun, creating: list[Planned]) -> tuple[dict, dict]:
        """Registered patients sharing a NIR or an identity with the rows (one query)."""
        nirs = sorted({plan.values["nir"] for plan in creating if plan.values.get("nir")})
        identities = sorted({(plan.values["birth_name_folded"], plan.values["birth_date"],
                              plan.values["first_name_folded"]) for plan in creating})
        session = run.session
        if session.connection().dialect.name == "postgresql":
            names, dates, firsts = (list(column) for column in zip(*identities, strict=True))
            found = session.execute(_REGISTERED_POSTGRESQL, {
                "names": names, "dates": dates, "firsts": firsts, "nirs": nirs})
        else:
            identity = tuple_(Patient.birth_name_folded, Patient.birth_date,
                              Patient.first_name_folded)
            found = session.execute(
                select(Patient.id, Patient.nir, Patient.birth_name_folded, Patient.birth_date,
                       Patient.first_name_folded, Patient.territory_id)
                .where(or_(identity.in_(identities), Patient.nir.in_(nirs)),
                       Patient.merged_into_id.is_(None)))
        by_nir: dict[str, int] = {}
        by_identity: dict[tuple, int] = {}
        hidden = run.context.setdefault("hidden_matches", {})
        for patient_id, nir, birth_name, birth_date, first_name, territory_id in found:
            if not in_scope(run, territory_id):
                # its existence only: no id, nothing else; the attempt is audited on it
                hidden.setdefault(("nir", nir), patient_id)
                hidden.setdefault(("identity", (birth_name, birth_date, first_name)),
                                  patient_id)
                patient_id = ELSEWHERE
            if nir:
                by_nir[nir] = min(patient_id, by_nir.get(nir, patient_id))
            key = (birth_name, birth_date, first_name)
            by_identity[key] = min(patient_id, by_identity.get(key, patient_id))
        return by_nir, by_identity

    def creation_defaults(self, run: ImportRun) -> dict:
        return {"identity_status": IdentityStatus.PROVISIONAL, "consent_share": False,
                "consent_date": None, "advance_directives": False}

    def audit_patient_id(self, plan: Planned) -> int | None:
        return plan.id

    def after_write(self, run: ImportRun, created: list[Planned],
                    updated: list[Planned]) -> None:
        """The consent history, as `patients.services.record_consent` keeps it: an event when
        a new patient consents, and when an import changes the consent."""
        events = [
            {"patient_id": plan.id, "consent_share": plan.values["consent_share"]}
            for plan in created if plan.values.get("consent_share")
        ] + [
            {"patient_id": plan.id, "consent_share": plan.values["consent_share"]}
            for plan in updated if "consent_share" in plan.changed
        ]
        if events:
            bulk_insert(run, ConsentEvent.__table__, events,
                        {"effective_date": run.today, "recorded_at": run.now,
                         "actor_label": run.actor.label})


KIND = PatientsKind()
