"""What every kind of import shares: the kind interface, references to other records, the
territory scope, bulk audit entries, and the upsert by `external_id` most kinds are.

A kind is a schema: its columns, the key that identifies a row, and `process(run, rows)`, which
validates one batch with the domain's rules and writes it with bulk SQL. Kinds keyed by
`external_id` (providers, patients, and later appointments, stays, events) subclass `UpsertKind`
and only say how a row becomes model values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from operator import itemgetter

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    ColumnElement,
    Table,
    any_,
    bindparam,
    insert,
    select,
    update,
)
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import ARRAY

from coordinator.audit import chain
from coordinator.audit.models import AuditAction, AuditEntry
from coordinator.imports.engine import Column, ImportRun, Row
from coordinator.strata.models import Territory


class Kind:
    """One import format. Instances are shared by concurrent imports: per-run state goes in
    `run.context`, never on the kind."""

    name: str
    label: object
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ("external_id",)

    def batch_key(self, row: Row):
        """The row's identity within the file (None when incomplete): a batch never holds two
        rows of the same record, so a repeated row updates what the first one wrote. (The key
        columns are required: every row has them.)"""
        key = itemgetter(*self.key)(row.values)
        return None if key is None or (type(key) is tuple and None in key) else key

    def begin(self, run: ImportRun) -> None:
        """Load what the whole run needs (reference data), once."""

    def process(self, run: ImportRun, rows: list[Row]) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class Reference:
    """A column naming another record by its key; looked up with one query per batch."""

    column: str
    model: type
    fields: tuple[str, ...]
    key: str = "external_id"

    def lookup(self, run: ImportRun, rows: list[Row]) -> dict:
        wanted = {row.values[self.column] for row in rows if row.values.get(self.column)}
        if not wanted:
            return {}
        table = self.model.__table__
        query = select(table.c[self.key], *(table.c[name] for name in self.fields)) \
            .where(among(run, table.c[self.key], wanted))
        return {found[0]: found for found in run.session.execute(query)}


def among(run: ImportRun, column, values) -> ColumnElement[bool]:
    """`column IN (values)`; on PostgreSQL one array parameter (`= ANY`) rather than thousands
    of parameters, which cost more to send and parse than the lookup itself."""
    if run.dialect == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)


def unknown_reference(run: ImportRun, row: Row, column: str) -> None:
    run.problem(row, column, _l("Unknown reference “%(value)s”: no record with this identifier "
                                "has been imported (import its file first).",
                                value=str(row.values[column])[:64]))


def load_territories(run: ImportRun) -> None:
    query = select(Territory.code, Territory.id)
    run.context["territories"] = dict(run.session.execute(query).all())


def in_scope(run: ImportRun, territory_id: int | None) -> bool:
    """Administrators (and the command line) import every territory; case managers theirs."""
    return run.options.territory_id is None or territory_id == run.options.territory_id


def referenced_patient(run: ImportRun, row: Row, patients: dict):
    """The patient a row names by `patient_external_id`: known, in the importer's territory,
    not merged away; otherwise a problem on that column and None."""
    external_id = row.values["patient_external_id"]
    if external_id is None:
        return None
    patient = patients.get(external_id)
    if patient is None or not in_scope(run, patient.territory_id):
        # Another territory's patient is "unknown" to a case manager: nothing leaks.
        run.problem(row, "patient_external_id",
                    _l("No patient you may import for has the external_id “%(value)s”.",
                       value=external_id[:64]))
        return None
    if patient.merged_into_id is not None:
        run.problem(row, "patient_external_id",
                    _l("This patient was merged into patient #%(id)s.",
                       id=patient.merged_into_id))
        return None
    return patient


def territory_of(run: ImportRun, row: Row, column: str = "territory_code") -> int | None:
    code = row.values.get(column)
    if code is None:
        return None
    territory_id = run.context["territories"].get(code)
    if territory_id is None:
        run.problem(row, column, _l("Unknown territory “%(code)s”.", code=code[:32]))
    elif not in_scope(run, territory_id):
        run.problem(row, column, _l("You may import only rows of your own territory."))
        return None
    return territory_id


def bulk_insert(run: ImportRun, table: Table, rows: list[dict], common: dict | None = None,
                *, returning_ids: bool = False) -> list[int] | None:
    """Insert rows (all with the same keys, plus the `common` values) in bulk, in the run's
    transaction: COPY on PostgreSQL (several times faster than a multi-row INSERT), an
    executemany elsewhere; with `returning_ids`, the new ids in the order of the rows. The
    model's Python-side defaults fill the columns left out, as an INSERT would."""
    if not rows:
        return [] if returning_ids else None
    common = dict(common or {})
    for column in table.c:
        default = column.default
        if column.name not in rows[0] and column.name not in common and default is not None \
                and not column.primary_key:
            common[column.name] = default.arg(None) if default.is_callable else default.arg
    connection = run.session.connection()
    if run.dialect != "postgresql":
        statement = insert(table)
        if returning_ids:
            statement = statement.returning(table.c.id, sort_by_parameter_order=True)
        result = connection.execute(statement, [row | common for row in rows])
        return list(result.scalars()) if returning_ids else None
    ids = None
    if returning_ids:  # taken from the table's sequence first, then copied with the rows
        ids = connection.execute(_NEXT_IDS, {"table": table.name, "count": len(rows)}) \
            .scalars().all()
    names = list(rows[0])
    processors = [_copy_processor(table.c[name], connection.dialect) for name in names]
    shared = []  # the common values, converted once
    for name, value in common.items():
        process = _copy_processor(table.c[name], connection.dialect)
        shared.append(value if process is None or value is None else process(value))
    dialect = connection.dialect
    quote = dialect.identifier_preparer.quote
    columns = [*(["id"] if ids else []), *names, *common]
    copy_sql = f"COPY {quote(table.name)} ({', '.join(quote(name) for name in columns)}) " \
               "FROM STDIN"
    converted = [(index, process) for index, process in enumerate(processors)
                 if process is not None]
    with connection.connection.dbapi_connection.cursor() as cursor, \
            cursor.copy(copy_sql) as copy:
        for position, row in enumerate(rows):
            values = [row[name] for name in names]
            for index, process in converted:
                if values[index] is not None:
                    values[index] = process(values[index])
            copy.write_row([ids[position], *values, *shared] if ids else values + shared)
    return ids


def _copy_processor(column, dialect):
    """How a value of the column is written in a COPY: JSON as its text, else as bound."""
    if isinstance(column.type, JSON):
        return json.dumps
    return column.type.dialect_impl(dialect).bind_processor(dialect)


_NEXT_IDS = sql_text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                     "FROM generate_series(1, :count)")


def write_audit(run: ImportRun, entries: list[dict], shared: dict | None = None) -> None:
    """Append audit entries in bulk (the audit table is insert-only). Each entry gives, or
    `shared` gives for all of them: action, entity_type, entity_id, patient_id, summary and
    details."""
    if not entries:
        return
    actor = run.actor
    common = {"occurred_at": run.now, "actor_user_id": actor.user_id,
              "actor_label": actor.label, "ip_address": actor.ip_address} | (shared or {})
    rows = [dict.fromkeys(chain.FIELDS) | common | entry for entry in entries]
    # chained in Python (one lock of the chain's head), then one COPY or executemany
    bulk_insert(run, AuditEntry.__table__, chain.chain_rows(run.session.connection(), rows))


@dataclass(slots=True)
class Planned:
    """A valid row and what it will write: `values` of the run's fields; `current` is the
    existing record (None: created); `changed` the fields an update changes."""

    row: Row
    values: dict
    current: Mapping | None
    changed: list[str] = field(default_factory=list)
    id: int | None = None


class UpsertKind(Kind):
    """Records identified by `external_id`: created when new, updated when a field changed,
    left alone when unchanged. Only the fields of the columns present in the file are
    compared and written (`run.context["fields"]`)."""

    model: type
    audit_entity: str
    fetch: tuple[str, ...] = ()  # further attributes of an existing record the rules read
    references: tuple[Reference, ...] = ()

    def begin(self, run: ImportRun) -> None:
        fields: list[str] = []
        for column in self.columns:
            if column.name in run.present:
                fields.extend(name for name in column.fields if name not in fields)
        run.context["fields"] = tuple(fields)

    def build(self, run: ImportRun, row: Row, refs: dict, current: Mapping | None) -> dict:
        """The model values of the row's fields; problems are recorded on the run. `current`:
        the stored record's fields (`fields`, `fetch`, `id`, `external_id`) or None."""
        raise NotImplementedError

    def check_batch(self, run: ImportRun, planned: list[Planned]) -> None:
        """Rules across the rows of a batch (e.g. likely duplicates)."""

    def creation_defaults(self, run: ImportRun) -> dict:
        """Values of a new record for the fields the file does not set."""
        return {}

    def audit_patient_id(self, plan: Planned) -> int | None:
        return None

    def after_write(self, run: ImportRun, created: list[Planned],
                    updated: list[Planned]) -> None:
        """Further bulk writes once the batch's records exist (e.g. consent history)."""

    def process(self, run: ImportRun, rows: list[Row]) -> None:
        table = self.model.__table__
        fields = run.context["fields"]
        refs = {ref.column: ref.lookup(run, rows) for ref in self.references}
        keys = {row.values["external_id"] for row in rows if row.values.get("external_id")}
        existing = {}
        if keys:
            wanted = [name for name in (*fields, *self.fetch) if name != "external_id"]
            query = select(table.c.id, table.c.external_id,
                           *(table.c[name] for name in dict.fromkeys(wanted))) \
                .where(among(run, table.c.external_id, keys))
            existing = {found["external_id"]: found
                        for found in run.session.execute(query).mappings()}
        planned = []
        for row in rows:
            current = existing.get(row.values.get("external_id"))
            values = self.build(run, row, refs, current)
            if not row.invalid:
                planned.append(Planned(row, values, current))
        self.check_batch(run, planned)
        created, updated = [], []
        for plan in planned:
            if plan.row.invalid:
                continue
            if plan.current is None:
                created.append(plan)
                continue
            plan.changed = [name for name in fields
                            if plan.values[name] != plan.current[name]]
            if plan.changed:
                updated.append(plan)
            else:
                run.unchanged += 1
        self._insert(run, created)
        self._update(run, updated)
        self.after_write(run, created, updated)
        self._audit(run, created, updated)

    def _insert(self, run: ImportRun, created: list[Planned]) -> None:
        if not created:
            return
        table = self.model.__table__
        defaults = self.creation_defaults(run)
        for stamp in ("created_at", "updated_at"):
            if stamp in table.c:
                defaults[stamp] = run.now
        fields = created[0].values.keys()
        ids = bulk_insert(run, table, [plan.values for plan in created],
                          {name: value for name, value in defaults.items()
                           if name not in fields}, returning_ids=True)
        for plan, record_id in zip(created, ids, strict=True):
            plan.id = record_id
        run.created += len(created)

    def _update(self, run: ImportRun, updated: list[Planned]) -> None:
        if not updated:
            return
        table = self.model.__table__
        fields = run.context["fields"]
        statement = update(table).where(table.c.id == bindparam("_pk"))
        if "version" in table.c:  # optimistic locking: an open form on this record is stale
            statement = statement.values(version=table.c.version + 1)
        stamp = {"updated_at": run.now} if "updated_at" in table.c else {}
        params = []
        for plan in updated:
            plan.id = plan.current["id"]
            params.append({"_pk": plan.id, **{name: plan.values[name] for name in fields},
                           **stamp})
        run.session.execute(statement, params)
        run.updated += len(updated)

    def _audit(self, run: ImportRun, created: list[Planned], updated: list[Planned]) -> None:
        report = run.report_id
        write_audit(run, [{"entity_id": str(plan.id), "patient_id": self.audit_patient_id(plan)}
                          for plan in created],
                    {"action": AuditAction.CREATE, "entity_type": self.audit_entity,
                     "summary": f"created by import #{report}",
                     "details": {"import_report_id": report}})
        write_audit(run, [
            {"action": AuditAction.UPDATE, "entity_type": self.audit_entity,
             "entity_id": str(plan.id), "patient_id": self.audit_patient_id(plan),
             "summary": f"updated by import #{report}: {', '.join(plan.changed)}"[:500],
             "details": {"import_report_id": report, "fields": plan.changed}}
            for plan in updated
        ])
