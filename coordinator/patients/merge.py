"""Identity vigilance: merging two records of the same person (administrators only)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from coordinator.audit import services as audit
from coordinator.audit.models import AuditAction
from coordinator.core import extending
from coordinator.core.context import Actor
from coordinator.core.errors import raise_problems
from coordinator.core.rows import rowcount
from coordinator.patients.assignments import move_corrections, recompute_end_dates
from coordinator.patients.models import ConsentEvent, Patient
from coordinator.strata.models import StratumAssignment

# Fields copied from the merged record when the kept one has no value.
FILLABLE = (
    "nir", "used_name", "birth_place_insee", "phone", "email", "address", "postal_code", "city",
    "gp_id", "case_manager_id", "trusted_person_name", "trusted_person_relation",
    "trusted_person_phone", "advance_directives_date", "deceased_date", "external_id",
    "language",  # never empty: a different one is only recorded as not kept
)

# What the domains above this one move at a merge (an extension point, `core/extending.py`,
# provided in `coordinator/web.py`): each provider f(session, keep, merged) moves its records
# of the merged patient to the kept one and returns a summary of what moved (care plans,
# appointments; later stays, events). Run after the patients' own moves, in the order provided.
MOVE_RECORDS = "patients.merge.move_records"


def _move_assignments(session: Session, keep: Patient, merged: Patient) -> dict:
    kept_keys = set(session.execute(
        select(StratumAssignment.program_id, StratumAssignment.effective_date)
        .where(StratumAssignment.patient_id == keep.id)).all())
    moved, set_aside = 0, []
    programs = set()
    for row in session.scalars(select(StratumAssignment)
                               .where(StratumAssignment.patient_id == merged.id)):
        programs.add(row.program_id)
        if (row.program_id, row.effective_date) in kept_keys:
            # Same program and date on both records: the kept record's row stands; the other
            # is recorded in the merge's audit entry rather than lost.
            set_aside.append({"program_id": row.program_id, "stratum_id": row.stratum_id,
                              "effective_date": row.effective_date.isoformat(),
                              "reason": row.reason, "author": row.author_label})
            session.delete(row)
        else:
            row.patient_id = keep.id
            moved += 1
    session.flush()
    for program_id in programs:
        recompute_end_dates(session, keep.id, program_id)
    move_corrections(session, keep, merged)
    return {"stratum_assignments": moved, "stratum_assignments_set_aside": set_aside}


def _move_consents(session: Session, keep: Patient, merged: Patient) -> dict:
    result = session.execute(update(ConsentEvent).where(ConsentEvent.patient_id == merged.id)
                             .values(patient_id=keep.id))
    return {"consent_events": rowcount(result)}


def merge_patients(session: Session, actor: Actor, keep: Patient, merged: Patient) -> dict:
    """Move every record of `merged` to `keep`, fill `keep`'s empty fields from `merged`, and
    mark `merged` as merged into `keep` (its audit trail stays readable through `keep`)."""
    problems = []
    if keep.id == merged.id:
        problems.append(("merged_id", _l("Choose two different records.")))
    if keep.merged_into_id or merged.merged_into_id:
        problems.append(("merged_id", _l("This record was already merged.")))
    raise_problems(problems)
    filled, differing = [], {}
    for field in FILLABLE:
        mine, theirs = getattr(keep, field), getattr(merged, field)
        if theirs in (None, ""):
            continue
        if mine in (None, ""):
            if field == "external_id":
                merged.external_id = None
                session.flush()
            setattr(keep, field, theirs)
            filled.append(field)
        elif mine != theirs:
            differing[field] = str(theirs)
    summary: dict = {"filled": filled, "merged_values_not_kept": differing}
    for mover in (_move_assignments, _move_consents, *extending.providers(MOVE_RECORDS)):
        summary.update(mover(session, keep, merged))
    merged.merged_into_id = keep.id
    session.flush()
    audit.record(session, actor, AuditAction.MERGE, "patient", keep.id, patient_id=keep.id,
                 summary=f"patient {merged.id} merged into {keep.id}", details=summary)
    audit.record(session, actor, AuditAction.MERGE, "patient", merged.id, patient_id=merged.id,
                 summary=f"merged into patient {keep.id}")
    return summary


def alias_ids_of(session: Session, patient_id: int) -> list[int]:
    """`alias_ids` by id; only the id itself for an unknown record."""
    patient = session.get(Patient, patient_id)
    return alias_ids(session, patient) if patient is not None else [patient_id]


def alias_ids(session: Session, patient: Patient) -> list[int]:
    """The patient's id and the ids of every record merged into it (for its audit trail)."""
    ids, frontier = [patient.id], [patient.id]
    while frontier:
        frontier = list(session.scalars(select(Patient.id)
                                         .where(Patient.merged_into_id.in_(frontier))))
        ids.extend(frontier)
    return ids
