"""The `enrollments` format: stratum assignments, identified by (patient, program, effective
date). A later date is a transition, `exit` ends the enrollment; each row of a patient's
timeline in a program lasts until the day before the next one (`end_date`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select, update

from coordinator.audit.models import AuditAction
from coordinator.imports.cells import parse_date, text, text_for
from coordinator.imports.engine import Column, ImportRun, Row
from coordinator.imports.kinds.base import (
    Kind,
    Reference,
    among,
    bulk_insert,
    referenced_patient,
    write_audit,
)
from coordinator.patients.assignments import check_assignment
from coordinator.patients.models import Patient
from coordinator.strata.models import Program, Stratum, StratumAssignment

EXIT = "exit"
# check_assignment names the fields of the enrollment form; the file names its columns.
COLUMN_OF = {"stratum": "stratum_code", "effective_date": "effective_date",
             "program": "program_code"}


@dataclass(slots=True)
class Entry:
    """One row of a timeline: stored (`id` set) and/or given by the file (`row` set)."""

    effective_date: date
    stratum_id: int | None
    reason: str | None
    id: int | None = None
    end_date: date | None = None
    row: Row | None = None
    stored: tuple | None = None  # (stratum_id, reason, end_date) as stored
    label: str = ""


class EnrollmentsKind(Kind):
    name = "enrollments"
    label = _l("Enrollments")
    key = ("patient_external_id", "program_code", "effective_date")
    patients = Reference("patient_external_id", Patient,
                         ("id", "territory_id", "merged_into_id", "birth_date", "deceased_date"))
    columns = (
        Column("patient_external_id", text(), required=True),
        Column("program_code", text(), required=True,
               note=_l("a program of this instance (listed below)")),
        Column("stratum_code", text(), required=True,
               note=_l("a stratum of that program (listed below), or “exit”")),
        Column("effective_date", parse_date, required=True),
        Column("reason", text_for(StratumAssignment.reason)),
    )

    def begin(self, run: ImportRun) -> None:
        session = run.session
        run.context["programs"] = {p.code: p for p in session.execute(
            select(Program.id, Program.code))}
        run.context["strata"] = {s.code: s for s in session.execute(
            select(Stratum.id, Stratum.code, Stratum.program_id))}

    def process(self, run: ImportRun, rows: list[Row]) -> None:
        patients = self.patients.lookup(run, rows)
        given = [entry for row in rows if (entry := self._entry(run, row, patients))]
        timelines = self._timelines(run, given)
        for timeline in timelines.values():
            self._check_exits(run, timeline)
        created, updated, moved = [], [], []
        for (patient_id, program_id), timeline in timelines.items():
            live = [entry for entry in timeline if entry.row is None or not entry.row.invalid]
            for index, entry in enumerate(live):
                following = live[index + 1] if index + 1 < len(live) else None
                entry.end_date = following.effective_date - timedelta(days=1) \
                    if following else None
                if entry.id is None:
                    created.append((patient_id, program_id, entry))
                    continue
                if entry.row is not None:
                    if entry.stored[:2] != (entry.stratum_id, entry.reason):
                        updated.append((patient_id, program_id, entry))
                    else:
                        run.unchanged += 1
                if entry.stored != (entry.stratum_id, entry.reason, entry.end_date):
                    moved.append(entry)
        self._write(run, created, moved)
        run.created += len(created)
        run.updated += len(updated)
        self._audit(run, created, updated)

    def _entry(self, run: ImportRun, row: Row, patients: dict) -> tuple | None:
        """The row's (patient, program, Entry), its own rules checked; None when invalid."""
        cells = row.values
        patient = referenced_patient(run, row, patients)
        program = run.context["programs"].get(cells["program_code"])
        if program is None and cells["program_code"] is not None:
            run.problem(row, "program_code", _l("Unknown program “%(code)s”.",
                                                code=cells["program_code"][:32]))
        code = cells["stratum_code"]
        is_exit = code is not None and code.lower() == EXIT
        stratum = None if is_exit else run.context["strata"].get(code)
        if stratum is None and code is not None and not is_exit:
            run.problem(row, "stratum_code", _l("Unknown stratum “%(code)s” (or write exit).",
                                                code=code[:32]))
        if patient is not None and program is not None and (stratum is not None or is_exit):
            for name, message in check_assignment(patient, program, stratum,
                                                  cells["effective_date"]):
                run.problem(row, COLUMN_OF.get(name, name), message)
        if row.invalid:
            return None
        label = f"{program.code}: {stratum.code if stratum else EXIT} from " \
                f"{cells['effective_date'].isoformat()}"
        return (patient.id, program.id, Entry(cells["effective_date"],
                                              stratum.id if stratum else None,
                                              cells.get("reason"), row=row, label=label))

    @staticmethod
    def _timelines(run: ImportRun, given: list[tuple]) -> dict[tuple, list[Entry]]:
        """The stored rows of every (patient, program) of the batch (one query), with the
        batch's rows merged in, by date."""
        if not given:
            return {}
        pairs = {(patient_id, program_id) for patient_id, program_id, _entry in given}
        by_pair: dict[tuple, dict[date, Entry]] = {pair: {} for pair in pairs}
        stored = run.session.execute(
            select(StratumAssignment.id, StratumAssignment.patient_id,
                   StratumAssignment.program_id, StratumAssignment.stratum_id,
                   StratumAssignment.effective_date, StratumAssignment.end_date,
                   StratumAssignment.reason)
            .where(among(run, StratumAssignment.patient_id, {pair[0] for pair in pairs})))
        for record_id, patient_id, program_id, stratum_id, effective, end, reason in stored:
            timeline = by_pair.get((patient_id, program_id))
            if timeline is not None:
                timeline[effective] = Entry(effective, stratum_id, reason, id=record_id,
                                            end_date=end, stored=(stratum_id, reason, end))
        for patient_id, program_id, entry in given:
            timeline = by_pair[(patient_id, program_id)]
            known = timeline.get(entry.effective_date)
            if known is not None:  # the same assignment again: it may change its stratum
                known.stratum_id, known.row, known.label = entry.stratum_id, entry.row, entry.label
                if "reason" in run.present:
                    known.reason = entry.reason
            else:
                timeline[entry.effective_date] = entry
        return {pair: [timeline[day] for day in sorted(timeline)]
                for pair, timeline in by_pair.items()}

    @staticmethod
    def _check_exits(run: ImportRun, timeline: list[Entry]) -> None:
        """An exit ends an enrollment: it must follow an assignment to a stratum. A refused
        row leaves the stored assignment it would have changed as it was."""
        previous = None
        for entry in timeline:
            if entry.row is not None and entry.stratum_id is None and (
                    previous is None or previous.stratum_id is None):
                run.problem(entry.row, "stratum_code",
                            _l("The patient is not enrolled in this program."))
                if entry.stored is None:
                    continue
                entry.stratum_id, entry.reason = entry.stored[:2]
                entry.row = None
            previous = entry

    @staticmethod
    def _write(run: ImportRun, created: list[tuple], moved: list[Entry]) -> None:
        table = StratumAssignment.__table__
        if created:
            actor = run.actor
            ids = bulk_insert(run, table, [
                {"patient_id": patient_id, "program_id": program_id,
                 "stratum_id": entry.stratum_id, "effective_date": entry.effective_date,
                 "end_date": entry.end_date, "reason": entry.reason}
                for patient_id, program_id, entry in created],
                {"author_user_id": actor.user_id, "author_label": actor.label,
                 "created_at": run.now}, returning_ids=True)
            for (_patient_id, _program_id, entry), record_id in zip(created, ids, strict=True):
                entry.id = record_id
        if moved:
            run.session.execute(
                update(table).where(table.c.id == bindparam("_pk")),
                [{"_pk": entry.id, "stratum_id": entry.stratum_id, "reason": entry.reason,
                  "end_date": entry.end_date} for entry in moved])

    @staticmethod
    def _audit(run: ImportRun, created: list[tuple], updated: list[tuple]) -> None:
        report = run.report_id
        for action, verb, rows in ((AuditAction.CREATE, "created", created),
                                   (AuditAction.UPDATE, "updated", updated)):
            write_audit(run, [
                {"entity_id": str(entry.id), "patient_id": patient_id,
                 "summary": f"{entry.label} ({verb} by import #{report})"}
                for patient_id, _program_id, entry in rows
            ], {"action": action, "entity_type": "stratum_assignment",
                "details": {"import_report_id": report}})


KIND = EnrollmentsKind()
