"""Hospital stays and clinical events: their rules, written once for the pages, the API, the CSV
import and the HL7 v2 feed, which all call `record_stay` / `record_stays`, `cancel_admission`
(and `restore_admission`), `cancel_discharge` and `record_event` / `record_events`. A cancelled
stay is kept and counts nowhere; recording it again (same `external_id`) changes its fields and
leaves it cancelled until `restore_admission`.

A stay is checked as a whole, the values given merged over what is stored (an update changes
only the fields it gives):

- a facility name (FINESS optional: 9 characters, department code then 7 digits), an admission
  date-time and mode; a discharge not before the admission, a destination only with a discharge;
- ICD-10 codes of the shape `coordinator.stays.icd10` accepts, stored normalised (`I50.9`);
- dates between 1900 and 2100, not before the patient's birth, not after their death (the day of
  death itself is allowed: a patient dies in hospital);
- no overlap with another stay of the patient in the same facility (same FINESS when both have
  one, else the same name, case and accents ignored) that is not cancelled: times in hospital
  are half-open intervals [admission, discharge), an open stay lasts until further notice.

Instants: an aware datetime is taken as is, a naive one is Europe/Paris local time, a date alone
is the start of that Paris day, except a discharge given as a date on the very day of the
admission, which is the admission time (a stay of length 0, never before its admission).

After the writes, the readmission flags (`readmissions.recompute`) and LACE (`lace.refresh`) of
the patients' stays are recomputed in SQL, each change is audited, then announced to the
providers of the extension point `STAY_CHANGED` (wired in `coordinator/web.py`), called as
`function(session=session, stay=stay, change=change)` with `change` one of `ADMITTED` (a new
open stay), `DISCHARGED` (a new discharged stay, or a discharge added, or its date or its
destination changed), `DISCHARGE_CANCELLED`, `CANCELLED` (the admission) or `UPDATED`. A call
that changes nothing writes, audits and announces nothing (a resent message, a re-imported
extract). Services flush, never commit.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from coordinator.audit import services as audit
from coordinator.audit.models import AuditAction
from coordinator.core import extending
from coordinator.core.bounds import date_problem, text_problem
from coordinator.core.context import Actor
from coordinator.core.errors import ConflictError, ValidationError, raise_problems
from coordinator.core.normalize import fold
from coordinator.core.rows import rowcount
from coordinator.core.time import PARIS, NonexistentLocalTime, as_utc, utcnow
from coordinator.patients.models import Patient
from coordinator.providers.validation import FINESS_RE
from coordinator.stays import icd10, lace, readmissions
from coordinator.stays.models import (
    ADMISSION_MODES,
    DESTINATIONS,
    EVENT_TYPES,
    IMMUNIZATION_CODES,
    AdmissionMode,
    ClinicalEvent,
    DischargeDestination,
    EventType,
    Stay,
    StayDiagnosis,
    StaySource,
    local_day,
)

# -- What the domains above hear (extension point, wired in coordinator/web.py) --------------------

STAY_CHANGED = "stays.changed"
ADMITTED = "admitted"
DISCHARGED = "discharged"
DISCHARGE_CANCELLED = "discharge_cancelled"
CANCELLED = "cancelled"
UPDATED = "updated"
CHANGES = (ADMITTED, DISCHARGED, DISCHARGE_CANCELLED, CANCELLED, UPDATED)

# The fields of a stay its sources set (values[...]); `diagnoses` (a list of codes) besides.
STAY_FIELDS = ("facility_name", "facility_finess", "location", "admitted_at", "admission_mode",
               "discharged_at", "discharge_destination", "main_diagnosis")
EVENT_FIELDS = ("event_type", "code", "occurred_on", "value", "label")
MAX_DIAGNOSES = 50  # further diagnoses of one stay (a DG1 list, the form's field)
MAX_VALUE = Decimal("99999999.9999")  # Numeric(12, 4)
VALUE_STEP = Decimal("0.0001")
LAB_CODE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,31}")
ED_CODE = "ed"

LENGTHS = {"facility_name": 200, "location": 100, "external_id": 64, "label": 300}


@dataclass
class StayInput:
    """One stay to record: for `patient`, these values; `stay` the stored one to update, else
    the stored stay with `external_id` (updated), else a new one. With `stay` given,
    `external_id` (when not None) becomes its external id."""

    patient: Patient
    values: dict
    external_id: str | None = None
    stay: Stay | None = None


@dataclass
class EventInput:
    patient: Patient
    values: dict
    external_id: str | None = None
    event: ClinicalEvent | None = None


@dataclass
class Outcome:
    """What came of one input: `result` is `created`, `updated` or `unchanged` (the record in
    `record`), or the input was refused (`error`, nothing written for it). `change` is what
    was announced for a stay; `changed` the fields written."""

    record: Any = None
    result: str | None = None
    change: str | None = None
    changed: list[str] = field(default_factory=list)
    error: ValidationError | None = None


def _actor(actor: Actor | str) -> Actor:
    return actor if isinstance(actor, Actor) else Actor.system(str(actor))


# -- Reading ---------------------------------------------------------------------------------------

def stays_of(session: Session, patient_id: int, *, include_cancelled: bool = True) -> list[Stay]:
    """The patient's stays, latest admission first, with their further diagnoses (two queries)."""
    query = select(Stay).options(selectinload(Stay.diagnoses)) \
        .where(Stay.patient_id == patient_id)
    if not include_cancelled:
        query = query.where(Stay.cancelled_at.is_(None))
    return list(session.scalars(query.order_by(Stay.admitted_at.desc(), Stay.id.desc())))


def events_of(session: Session, patient_id: int) -> list[ClinicalEvent]:
    """The patient's clinical events, latest first."""
    return list(session.scalars(
        select(ClinicalEvent).where(ClinicalEvent.patient_id == patient_id)
        .order_by(ClinicalEvent.occurred_on.desc(), ClinicalEvent.id.desc())))


def canonical_id(value: Any) -> Any:
    """An external id as it is stored: its runs of whitespace (control separators included)
    one space, none at its ends; what is not a text is left for the checks to refuse."""
    return " ".join(value.split()) if isinstance(value, str) else value


def _canonical(items: Sequence) -> list:
    """The items with their external ids as stored, so that finding the stored record and
    storing the new one agree (a lookup by the raw text missed a record stored cleaned)."""
    return [replace(item, external_id=canonical_id(item.external_id))
            if isinstance(item.external_id, str) else item for item in items]


def _write(session: Session, model: Any, record: Any, fields: Sequence[str], cleaned: dict,
           outcome: Outcome, *, patient: Patient, external_id: str | None, source: StaySource,
           actor: Actor) -> Any:
    """Create the stay or event (`record` None) or update it with the cleaned values, writing
    only the fields that change; `outcome.result` says which."""
    if record is None:
        record = model(patient_id=patient.id, external_id=external_id, source=source,
                       created_by=actor.label[:254])
        session.add(record)
        outcome.result = "created"
    else:
        outcome.result = "updated"
        if external_id:
            record.external_id = external_id
    for name in fields:
        if getattr(record, name) != cleaned[name]:
            setattr(record, name, cleaned[name])
    return record


def stay_by_external_id(session: Session, external_id: str) -> Stay | None:
    return session.scalar(select(Stay).where(Stay.external_id == canonical_id(external_id)))


def event_by_external_id(session: Session, external_id: str) -> ClinicalEvent | None:
    return session.scalar(select(ClinicalEvent).where(
        ClinicalEvent.external_id == canonical_id(external_id)))


def read_stay(session: Session, actor: Actor, stay: Stay) -> Stay:
    """Reading a stay is audited."""
    audit.record(session, actor, AuditAction.READ, "stay", stay.id, patient_id=stay.patient_id)
    return stay


def read_event(session: Session, actor: Actor, event: ClinicalEvent) -> ClinicalEvent:
    audit.record(session, actor, AuditAction.READ, "clinical_event", event.id,
                 patient_id=event.patient_id)
    return event


def read_list(session: Session, actor: Actor, entity_type: str, records: Iterable[Any],
              criteria: dict, total: int) -> None:
    """A list of stays or events read (API): the search with its criteria and count, and one
    entry per record shown (in its patient's trail), in two statements."""
    audit.record(session, actor, AuditAction.READ, f"{entity_type}_search",
                 patient_id=criteria.get("patient"), summary=f"{total} result(s)",
                 details={"criteria": criteria})
    audit.record_each(session, actor, AuditAction.READ, entity_type,
                      [(record.id, record.patient_id) for record in records])


# -- Checking a stay -------------------------------------------------------------------------------

def _text(values: dict, name: str, problems: list, *, upper: bool = False) -> str | None:
    value = values.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        problems.append((name, _l("Give a text.")))
        return None
    value = " ".join(value.split())
    if upper:
        value = value.upper()
    if text_problem(value):
        problems.append((name, text_problem(value)))
        return None
    limit = LENGTHS.get(name)
    if limit is not None and len(value) > limit:
        problems.append((name, _l("At most %(n)d characters.", n=limit)))
        return None
    return value or None


def _instant(value: Any, name: str, problems: list) -> datetime | None:
    """An aware UTC instant from a datetime (naive: Paris time) or a date (its Paris
    midnight)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    else:
        problems.append((name, _l("Give a date and time.")))
        return None
    if date_problem(moment):
        problems.append((name, date_problem(moment)))
        return None
    try:
        return as_utc(moment)
    except NonexistentLocalTime:
        problems.append((name, _l("This time does not exist in Paris (the clocks go forward "
                                  "that night): give another one, or its UTC offset.")))
        return None


def _code(value: Any, name: str, problems: list) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return icd10.normalize(value)
    except ValueError as error:
        problems.append((name, getattr(error, "message", None) or str(error)))
        return None


def _diagnoses(value: Any, main: str | None, problems: list) -> list[str]:
    """Further diagnoses: a list of codes (a text of codes separated by spaces, commas or
    semicolons too), normalised, repeated ones and the main diagnosis left out."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [code for code in re.split(r"[\s,;]+", value) if code]
    if not isinstance(value, list | tuple):
        problems.append(("diagnoses", _l("Give a list of ICD-10 codes.")))
        return []
    if len(value) > MAX_DIAGNOSES:
        problems.append(("diagnoses", _l("At most %(n)d further diagnoses.", n=MAX_DIAGNOSES)))
        return []
    codes: list[str] = []
    for raw in value:
        code = _code(raw, "diagnoses", problems)
        if code is not None and code != main and code not in codes:
            codes.append(code)
    return codes


def _check_days(name: str, moment: datetime | None, patient: Patient, problems: list) -> None:
    """Not before the patient's birth, not after the day of their death."""
    day = local_day(moment)
    if day is None:
        return
    admission = name == "admitted_at"
    if patient.birth_date and day < patient.birth_date:
        birth = patient.birth_date.isoformat()
        problems.append((name, _l("The patient was born on %(birth)s: the admission cannot be "
                                  "before.", birth=birth) if admission else
                         _l("The patient was born on %(birth)s: the discharge cannot be "
                            "before.", birth=birth)))
    elif patient.deceased_date and day > patient.deceased_date:
        death = patient.deceased_date.isoformat()
        problems.append((name, _l("The patient died on %(death)s: the admission cannot be "
                                  "after that day.", death=death) if admission else
                         _l("The patient died on %(death)s: the discharge cannot be after "
                            "that day.", death=death)))


def clean_stay(values: dict, patient: Patient) -> tuple[dict, list]:
    """A stay's values checked (not its overlaps): the cleaned values of `STAY_FIELDS` and
    `diagnoses`, and the (field, message) problems found."""
    problems: list = []
    cleaned: dict[str, Any] = {
        "facility_name": _text(values, "facility_name", problems),
        "facility_finess": _text(values, "facility_finess", problems, upper=True),
        "location": _text(values, "location", problems),
    }
    if cleaned["facility_name"] is None and not any(p[0] == "facility_name" for p in problems):
        problems.append(("facility_name", _l("Give the name of the facility.")))
    finess = cleaned["facility_finess"]
    if finess is not None and not FINESS_RE.match(finess):
        problems.append(("facility_finess", _l("A FINESS number has 9 characters: a department "
                                               "code (01 to 95, 2A, 2B, 97) then 7 digits.")))
    admitted = _instant(values.get("admitted_at"), "admitted_at", problems)
    if admitted is None and values.get("admitted_at") is None:
        problems.append(("admitted_at", _l("Give the date and time of the admission.")))
    raw_discharge = values.get("discharged_at")
    discharged = _instant(raw_discharge, "discharged_at", problems)
    if discharged is not None and admitted is not None and discharged < admitted:
        if not isinstance(raw_discharge, datetime) and \
                local_day(discharged) == local_day(admitted):
            discharged = admitted  # a discharge day alone, on the day of the admission
        else:
            problems.append(("discharged_at", _l("The discharge cannot be before the "
                                                 "admission.")))
    mode = values.get("admission_mode")
    if mode not in ADMISSION_MODES:
        problems.append(("admission_mode", _l("Choose emergency, planned or transfer.")))
    destination = values.get("discharge_destination") or None
    if destination is not None and destination not in DESTINATIONS:
        problems.append(("discharge_destination",
                         _l("Choose one of: %(values)s.",
                            values=", ".join(d.value for d in DESTINATIONS))))
    elif destination is not None and raw_discharge is None:
        problems.append(("discharge_destination",
                         _l("A destination goes with a discharge: give its date, or leave the "
                            "destination empty.")))
    _check_days("admitted_at", admitted, patient, problems)
    _check_days("discharged_at", discharged, patient, problems)
    main = _code(values.get("main_diagnosis"), "main_diagnosis", problems)
    cleaned.update(
        admitted_at=admitted, discharged_at=discharged,
        admission_mode=AdmissionMode(mode) if mode in ADMISSION_MODES else None,
        discharge_destination=DischargeDestination(destination)
        if destination in DESTINATIONS else None,
        main_diagnosis=main,
        diagnoses=_diagnoses(values.get("diagnoses"), main, problems))
    return cleaned, problems


SPAN_FIELDS = frozenset({"patient_id", "external_id", "facility_name", "facility_finess",
                         "admitted_at", "discharged_at"})


@dataclass(frozen=True)
class _Span:
    """A stay's time in a facility, for the overlap rule."""

    id: int | None
    facility_name: str
    facility_finess: str | None
    admitted_at: datetime
    discharged_at: datetime | None

    def same_facility(self, other: _Span) -> bool:
        if self.facility_finess and other.facility_finess:
            return self.facility_finess == other.facility_finess
        return fold(self.facility_name) == fold(other.facility_name)

    def overlaps(self, other: _Span) -> bool:
        ends_after = self.discharged_at is None or self.discharged_at > other.admitted_at
        other_ends_after = other.discharged_at is None or other.discharged_at > self.admitted_at
        return ends_after and other_ends_after and self.same_facility(other)


def _overlap_problem(span: _Span, others: Iterable[_Span]) -> tuple | None:
    for other in others:
        if span.overlaps(other):
            shown = other.admitted_at.astimezone(PARIS).strftime("%Y-%m-%d %H:%M")
            if other.id is None:
                return ("admitted_at", _l("This stay overlaps another stay of the patient in "
                                          "the same facility, admitted %(at)s, given with it: "
                                          "correct the dates.", at=shown))
            return ("admitted_at", _l("This stay overlaps stay #%(id)s of the patient in the "
                                      "same facility (admitted %(at)s): correct the dates, or "
                                      "cancel one of them.", id=other.id, at=shown))
    return None


def _current_stay(stay: Stay) -> dict:
    values = {name: getattr(stay, name) for name in STAY_FIELDS}
    values["diagnoses"] = [row.code for row in stay.diagnoses]
    return values


def _spans(session: Session, patient_ids: Collection[int]) -> dict[int, dict]:
    """The patients' stays that are not cancelled, as spans by id (one query)."""
    spans: dict[int, dict] = defaultdict(dict)
    if not patient_ids:
        return spans
    for row in session.execute(
            select(Stay.id, Stay.patient_id, Stay.facility_name, Stay.facility_finess,
                   Stay.admitted_at, Stay.discharged_at)
            .where(Stay.patient_id.in_(sorted(patient_ids)), Stay.cancelled_at.is_(None))):
        spans[row.patient_id][row.id] = _Span(row.id, row.facility_name, row.facility_finess,
                                              row.admitted_at, row.discharged_at)
    return spans


def _change(stay: Stay | None, before: dict | None, cleaned: dict) -> str:
    if stay is None or before is None:
        return DISCHARGED if cleaned["discharged_at"] is not None else ADMITTED
    if before["discharged_at"] is not None and cleaned["discharged_at"] is None:
        return DISCHARGE_CANCELLED
    if cleaned["discharged_at"] is not None and (
            before["discharged_at"] != cleaned["discharged_at"] or
            before["discharge_destination"] != cleaned["discharge_destination"]):
        return DISCHARGED
    return UPDATED


def _set_diagnoses(stay: Stay, codes: list[str]) -> None:
    """The further diagnoses in this order: kept rows keep their id (one code per stay)."""
    kept = {row.code: row for row in stay.diagnoses}
    rows = []
    for position, code in enumerate(codes, start=1):
        row = kept.get(code) or StayDiagnosis(code=code)
        row.position = position
        rows.append(row)
    stay.diagnoses = rows


# -- Recording stays -------------------------------------------------------------------------------

def record_stays(session: Session, items: Sequence[StayInput], *, source: StaySource,
                 actor: Actor | str, audited: bool = True,
                 check_only: bool = False) -> list[Outcome]:
    """Record several stays (an import's batch) with a fixed number of queries for the checks;
    one outcome per input, in order. Refused inputs write nothing; the others are written, then
    the flags and LACE of their patients recomputed, each change audited (unless `audited` is
    false: the import writes its own entries, naming its report) and announced. `check_only`:
    the outcomes' errors only, nothing written (`check_stay`)."""
    actor = _actor(actor)
    items = _canonical(items)
    outcomes = [Outcome() for _item in items]
    wanted = {item.external_id for item in items if item.stay is None and item.external_id}
    renamed = {item.external_id for item in items
               if item.stay is not None and item.external_id
               and item.external_id != item.stay.external_id}
    stored: dict[str, Stay] = {}
    if wanted | renamed:
        stored = {stay.external_id or "": stay for stay in session.scalars(
            select(Stay).options(selectinload(Stay.diagnoses))
            .where(Stay.external_id.in_(sorted(wanted | renamed))))}
    spans = _spans(session, {item.patient.id for item in items})
    written: list[tuple[Outcome, Stay]] = []
    for index, (item, outcome) in enumerate(zip(items, outcomes, strict=True)):
        patient = item.patient
        stay = item.stay if item.stay is not None else stored.get(item.external_id or "")
        problems: list = []
        if patient.merged_into_id is not None:
            problems.append(("patient_id", _l("This record was merged into record #%(id)s.",
                                              id=patient.merged_into_id)))
        external_id = _text({"external_id": item.external_id}, "external_id", problems)
        if stay is not None and stay.patient_id != patient.id:
            problems.append(("external_id", _l("This external_id is a stay of another "
                                               "patient.")))
        elif item.stay is not None and external_id is not None and external_id in renamed and \
                stored.get(external_id) is not None:
            problems.append(("external_id", _l("Another stay has this external_id.")))
        before = _current_stay(stay) if stay is not None else None
        given = {name: item.values[name] for name in (*STAY_FIELDS, "diagnoses")
                 if name in item.values}
        if "discharged_at" in given and given["discharged_at"] is None:
            given.setdefault("discharge_destination", None)  # no discharge, no destination
        cleaned, found = clean_stay({**(before or {}), **given}, patient)
        problems.extend(found)
        key = stay.id if stay is not None else ("new", index)
        if not any(name in SPAN_FIELDS for name, _message in problems):
            # the overlap is named with the other problems once the stay's span is known
            span = _Span(None if stay is None else stay.id, cleaned["facility_name"],
                         cleaned["facility_finess"], cleaned["admitted_at"],
                         cleaned["discharged_at"])
            others = [other for other_key, other in spans[patient.id].items()
                      if other_key != key]
            if stay is None or stay.cancelled_at is None:
                overlap = _overlap_problem(span, others)
                if overlap:
                    problems.append(overlap)
        if problems:
            errors: dict[str, list] = {}
            for name, message in problems:
                errors.setdefault(name, []).append(message)
            outcome.error = ValidationError(errors)
            continue
        if check_only:
            continue
        if stay is None or stay.cancelled_at is None:
            spans[patient.id][key] = _Span(None if stay is None else stay.id,
                                           cleaned["facility_name"], cleaned["facility_finess"],
                                           cleaned["admitted_at"], cleaned["discharged_at"])
        changed = [name for name in (*STAY_FIELDS, "diagnoses")
                   if before is None or before[name] != cleaned[name]]
        if stay is not None and external_id and external_id != stay.external_id:
            changed.append("external_id")
        if stay is not None and not changed:
            outcome.record, outcome.result = stay, "unchanged"
            continue
        outcome.change = _change(stay, before, cleaned)
        stay = _write(session, Stay, stay, STAY_FIELDS, cleaned, outcome, patient=patient,
                      external_id=external_id, source=source, actor=actor)
        if "diagnoses" in changed:
            _set_diagnoses(stay, cleaned["diagnoses"])
        outcome.record, outcome.changed = stay, changed
        written.append((outcome, stay))
    if written:
        session.flush()
        _derive(session, {stay.patient_id for _outcome, stay in written})
        for outcome, stay in written:
            if audited:
                _audit_stay(session, actor, stay, outcome, source)
        _announce(session, [(stay, outcome.change) for outcome, stay in written])
    return outcomes


def check_stay(session: Session, *, patient: Patient, values: dict,
               stay: Stay | None = None) -> None:
    """The problems `record_stay` would find (its overlaps included), all in one
    ValidationError; nothing written (a form shows them beside its own errors)."""
    [outcome] = record_stays(session, [StayInput(patient, values, None, stay)],
                             source=StaySource.FORM, actor="check", check_only=True)
    if outcome.error is not None:
        raise outcome.error


def record_stay(session: Session, *, patient: Patient, values: dict, source: StaySource,
                actor: Actor | str, external_id: str | None = None, stay: Stay | None = None,
                expected_version: int | None = None) -> Stay:
    """Create a stay, or update `stay` (or the stay with this `external_id`): see the module.
    Raises ValidationError naming the fields (nothing written), ConflictError when
    `expected_version` is not the stay's."""
    if stay is not None and expected_version is not None and stay.version != expected_version:
        raise ConflictError(stay.version)
    [outcome] = record_stays(session, [StayInput(patient, values, external_id, stay)],
                             source=source, actor=actor)
    if outcome.error is not None:
        raise outcome.error
    return outcome.record


def cancel_admission(session: Session, stay: Stay, *, actor: Actor | str, source: StaySource,
                     expected_version: int | None = None) -> Stay:
    """The admission did not happen (HL7 A11, or by hand): the stay is kept, marked cancelled,
    and counts nowhere (readmissions, LACE). Cancelling it again changes nothing."""
    if expected_version is not None and stay.version != expected_version:
        raise ConflictError(stay.version)
    if stay.cancelled_at is not None:
        return stay
    stay.cancelled_at = utcnow()
    _after_one(session, _actor(actor), stay, CANCELLED, source, "admission cancelled")
    return stay


def restore_admission(session: Session, stay: Stay, *, actor: Actor | str,
                      source: StaySource, expected_version: int | None = None) -> Stay:
    """Undo a cancelled admission (an A11 sent in error, then the A01 again): the stay counts
    again, announced as admitted (or discharged, when it has its discharge); refused (on
    `admitted_at`) when it now overlaps another stay of the patient in the same facility. On a
    stay that is not cancelled it changes nothing."""
    if expected_version is not None and stay.version != expected_version:
        raise ConflictError(stay.version)
    if stay.cancelled_at is None:
        return stay
    span = _Span(stay.id, stay.facility_name, stay.facility_finess, stay.admitted_at,
                 stay.discharged_at)
    others = [other for key, other in _spans(session, {stay.patient_id})[stay.patient_id].items()
              if key != stay.id]
    overlap = _overlap_problem(span, others)
    if overlap:
        raise_problems([overlap])
    stay.cancelled_at = None
    _after_one(session, _actor(actor), stay,
               DISCHARGED if stay.discharged_at is not None else ADMITTED, source,
               "admission restored")
    return stay


def cancel_discharge(session: Session, stay: Stay, *, actor: Actor | str, source: StaySource,
                     expected_version: int | None = None) -> Stay:
    """The discharge did not happen (HL7 A13, or by hand): the stay is open again, its
    destination and LACE gone. On an open stay it changes nothing."""
    if expected_version is not None and stay.version != expected_version:
        raise ConflictError(stay.version)
    if stay.discharged_at is None:
        return stay
    stay.discharged_at = None
    stay.discharge_destination = None
    _after_one(session, _actor(actor), stay, DISCHARGE_CANCELLED, source, "discharge cancelled")
    return stay


def _after_one(session: Session, actor: Actor, stay: Stay, change: str, source: StaySource,
               summary: str) -> None:
    session.flush()
    _derive(session, {stay.patient_id})
    audit.record(session, actor, AuditAction.UPDATE, "stay", stay.id, patient_id=stay.patient_id,
                 summary=f"{summary} ({source})", details={"source": str(source),
                                                         "change": change})
    _announce(session, [(stay, change)])


def _derive(session: Session, patient_ids: set[int]) -> None:
    """The readmission flags, then LACE, of every stay of these patients."""
    readmissions.recompute(session, patient_ids)
    lace.refresh_patients(session, patient_ids)


def _audit_stay(session: Session, actor: Actor, stay: Stay, outcome: Outcome,
                source: StaySource) -> None:
    created = outcome.result == "created"
    audit.record(session, actor, AuditAction.CREATE if created else AuditAction.UPDATE, "stay",
                 stay.id, patient_id=stay.patient_id,
                 summary=f"stay {'recorded' if created else 'changed'} ({source}): "
                         f"{outcome.change}; {', '.join(outcome.changed)}",
                 details={"source": str(source), "change": outcome.change,
                          "fields": outcome.changed})


def _announce(session: Session, changes: list[tuple[Stay, str | None]]) -> None:
    functions = extending.providers(STAY_CHANGED)
    for stay, change in changes:
        for function in functions:
            function(session=session, stay=stay, change=change)


# -- Clinical events -------------------------------------------------------------------------------

def _event_code(event_type: str | None, value: Any, problems: list) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        problems.append(("code", _l("Give the code of the event.")))
        return None
    if not isinstance(value, str):
        problems.append(("code", _l("Give a text.")))
        return None
    code = value.strip()
    if event_type == EventType.DIAGNOSIS:
        return _code(code, "code", problems)
    code = code.lower()
    if event_type == EventType.IMMUNIZATION and code not in IMMUNIZATION_CODES:
        problems.append(("code", _l("An immunization is one of: %(codes)s.",
                                    codes=", ".join(IMMUNIZATION_CODES))))
        return None
    if event_type == EventType.ED_VISIT and code != ED_CODE:
        problems.append(("code", _l("The code of an ED visit is “ed”.")))
        return None
    if event_type == EventType.LAB_RESULT and not LAB_CODE.fullmatch(code):
        problems.append(("code", _l("A lab result's code is up to 32 lower-case letters, digits, "
                                    "dots, dashes or underscores (e.g. hba1c).")))
        return None
    return code


def _event_value(event_type: str | None, value: Any, problems: list) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if event_type != EventType.LAB_RESULT:
        problems.append(("value", _l("A value goes with a lab result only.")))
        return None
    number: Decimal | None = None
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int | float | str) and not isinstance(value, bool):
        try:
            number = Decimal(str(value).strip().replace(",", "."))
        except InvalidOperation:
            number = None
    if number is None or not number.is_finite():
        problems.append(("value", _l("Give a number.")))
        return None
    number = number.quantize(VALUE_STEP, rounding=ROUND_HALF_EVEN) \
        if abs(number) <= MAX_VALUE else number
    if abs(number) > MAX_VALUE:
        problems.append(("value", _l("Give a number from -%(max)s to %(max)s.",
                                     max=str(MAX_VALUE))))
        return None
    return number


def clean_event(values: dict, patient: Patient) -> tuple[dict, list]:
    """An event's values checked: type, code by type (ICD-10 for a diagnosis), day (1900-2100,
    not before birth, not after death), a value for lab results only, a label."""
    problems: list = []
    event_type = values.get("event_type")
    if event_type not in EVENT_TYPES:
        problems.append(("event_type", _l("Choose one of: %(values)s.",
                                          values=", ".join(t.value for t in EVENT_TYPES))))
        event_type = None
    code = _event_code(event_type, values.get("code"), problems) if event_type else None
    day = values.get("occurred_on")
    if isinstance(day, datetime) or (day is not None and not isinstance(day, date)):
        problems.append(("occurred_on", _l("Give a date.")))
        day = None
    elif day is None:
        problems.append(("occurred_on", _l("Give the date of the event.")))
    elif date_problem(day):
        problems.append(("occurred_on", date_problem(day)))
        day = None
    elif patient.birth_date and day < patient.birth_date:
        problems.append(("occurred_on", _l("The patient was born on %(birth)s: the event cannot "
                                           "be before.", birth=patient.birth_date.isoformat())))
    elif patient.deceased_date and day > patient.deceased_date:
        problems.append(("occurred_on", _l("The patient died on %(death)s: the event cannot be "
                                           "after that day.",
                                           death=patient.deceased_date.isoformat())))
    cleaned = {"event_type": EventType(event_type) if event_type else None, "code": code,
               "occurred_on": day,
               "value": _event_value(event_type, values.get("value"), problems),
               "label": _text(values, "label", problems)}
    return cleaned, problems


def record_events(session: Session, items: Sequence[EventInput], *, source: StaySource,
                  actor: Actor | str, audited: bool = True) -> list[Outcome]:
    """Record several events (an import's batch); then the LACE of the patients' stays is
    refreshed (diagnoses and ED visits count in it). As `record_stays`."""
    actor = _actor(actor)
    items = _canonical(items)
    outcomes = [Outcome() for _item in items]
    wanted = {item.external_id for item in items if item.external_id}
    stored: dict[str, ClinicalEvent] = {}
    if wanted:
        stored = {event.external_id or "": event for event in session.scalars(
            select(ClinicalEvent).where(ClinicalEvent.external_id.in_(sorted(wanted))))}
    written: list[tuple[Outcome, ClinicalEvent]] = []
    for item, outcome in zip(items, outcomes, strict=True):
        patient = item.patient
        event = item.event if item.event is not None else stored.get(item.external_id or "")
        problems: list = []
        if patient.merged_into_id is not None:
            problems.append(("patient_id", _l("This record was merged into record #%(id)s.",
                                              id=patient.merged_into_id)))
        external_id = _text({"external_id": item.external_id}, "external_id", problems)
        if event is not None and event.patient_id != patient.id:
            problems.append(("external_id", _l("This external_id is an event of another "
                                               "patient.")))
        elif item.event is not None and external_id and \
                external_id != item.event.external_id and stored.get(external_id) is not None:
            problems.append(("external_id", _l("Another event has this external_id.")))
        before = {name: getattr(event, name) for name in EVENT_FIELDS} if event else None
        given = {name: item.values[name] for name in EVENT_FIELDS if name in item.values}
        cleaned, found = clean_event({**(before or {}), **given}, patient)
        problems.extend(found)
        if problems:
            errors: dict[str, list] = {}
            for name, message in problems:
                errors.setdefault(name, []).append(message)
            outcome.error = ValidationError(errors)
            continue
        changed = [name for name in EVENT_FIELDS if before is None or before[name] != cleaned[name]]
        if event is not None and external_id and external_id != event.external_id:
            changed.append("external_id")
        if event is not None and not changed:
            outcome.record, outcome.result = event, "unchanged"
            continue
        event = _write(session, ClinicalEvent, event, EVENT_FIELDS, cleaned, outcome,
                       patient=patient, external_id=external_id, source=source, actor=actor)
        outcome.record, outcome.changed = event, changed
        written.append((outcome, event))
    if written:
        session.flush()
        patients = sorted({event.patient_id for _outcome, event in written})
        lace.refresh(session, session.scalars(
            select(Stay.id).where(Stay.patient_id.in_(patients))).all())
        if audited:
            for outcome, event in written:
                created = outcome.result == "created"
                audit.record(session, actor, AuditAction.CREATE if created else
                             AuditAction.UPDATE, "clinical_event", event.id,
                             patient_id=event.patient_id,
                             summary=f"{event.event_type} {event.code} "
                                     f"{'recorded' if created else 'changed'} ({source}): "
                                     f"{', '.join(outcome.changed)}",
                             details={"source": str(source), "fields": outcome.changed})
    return outcomes


def record_event(session: Session, *, patient: Patient, values: dict, source: StaySource,
                 actor: Actor | str, external_id: str | None = None,
                 event: ClinicalEvent | None = None,
                 expected_version: int | None = None) -> ClinicalEvent:
    """Create an event, or update `event` (or the event with this `external_id`)."""
    if event is not None and expected_version is not None and event.version != expected_version:
        raise ConflictError(event.version)
    [outcome] = record_events(session, [EventInput(patient, values, external_id, event)],
                              source=source, actor=actor)
    if outcome.error is not None:
        raise outcome.error
    return outcome.record


# -- Merging two records of a patient (provided for patients.merge.MOVE_RECORDS) -------------------

def move_stays(session: Session, keep: Patient, merged: Patient) -> dict:
    """The merged record's stays and events go to the kept one. A stay of the merged record
    overlapping one of the kept record in the same facility is the same stay recorded twice:
    it is cancelled (kept, counting nowhere) and its id reported. Then the flags and LACE of the
    kept record's stays are recomputed, and the cancellations announced."""
    kept = list(_spans(session, {keep.id})[keep.id].values())
    moving = session.scalars(select(Stay).where(Stay.patient_id == merged.id)
                             .order_by(Stay.admitted_at, Stay.id)).all()
    duplicates = []
    for stay in moving:
        span = _Span(stay.id, stay.facility_name, stay.facility_finess, stay.admitted_at,
                     stay.discharged_at)
        if stay.cancelled_at is None and any(span.overlaps(other) for other in kept):
            stay.cancelled_at = utcnow()
            duplicates.append(stay)
        elif stay.cancelled_at is None:
            kept.append(span)
        stay.patient_id = keep.id
    session.flush()
    events = rowcount(session.execute(update(ClinicalEvent)
                                      .where(ClinicalEvent.patient_id == merged.id)
                                      .values(patient_id=keep.id)))
    _derive(session, {keep.id})
    _announce(session, [(stay, CANCELLED) for stay in duplicates])
    return {"stays": len(moving), "stays_cancelled_as_duplicates": [s.id for s in duplicates],
            "clinical_events": events}
