"""Appointment rules: book (overlaps shown, a reason to keep one), record the outcome along the
checked lifecycle, reschedule (cancel and link), chase a no-show, move a follow-up round."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from coordinator import permissions
from coordinator.audit import services as audit
from coordinator.audit.models import AuditAction
from coordinator.core import extending, messages
from coordinator.core.bounds import date_problem
from coordinator.core.context import Actor
from coordinator.core.errors import ConflictError, ValidationError, raise_problems
from coordinator.core.rows import rowcount
from coordinator.core.time import PARIS, NonexistentLocalTime, as_utc, utcnow
from coordinator.core.workdays import subdivision_for
from coordinator.patients.models import Patient
from coordinator.providers.models import Provider
from coordinator.scheduling import rules
from coordinator.scheduling.models import (
    APPOINTMENT_KINDS,
    NO_SHOW_REASONS,
    TRANSITIONS,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    FollowUpRound,
    NoShowReason,
)

# the statuses that hold a time slot
ACTIVE = (AppointmentStatus.SCHEDULED, AppointmentStatus.ATTENDED)


class TransitionRefused(Exception):
    """The status cannot go there from where it is (the API answers 409 with the allowed)."""

    def __init__(self, current: str, wanted: str):
        super().__init__(current, wanted)
        self.current, self.wanted = current, wanted
        self.allowed = list(TRANSITIONS.get(current, ()))


class OverlapWarning(Exception):
    """The new times overlap other appointments of the patient or the provider: shown before
    saving; saving anyway needs a reason."""

    def __init__(self, overlaps: list[tuple[int, Appointment]]):
        super().__init__(overlaps)
        self.overlaps = overlaps  # (row of the request, overlapping appointment)


# -- Checking one appointment ----------------------------------------------------------------

def _instant(value: datetime | None, key: str, problems: list) -> datetime | None:
    if value is None:
        problems.append((key, _l("Give the date and time.")))
        return None
    if date_problem(value):
        problems.append((key, date_problem(value)))
        return None
    try:
        return as_utc(value)
    except NonexistentLocalTime:
        problems.append((key, _l("This time does not exist in Paris (the clocks go forward "
                                 "that night): choose another one.")))
        return None


def _holiday_language() -> str:
    """The language the holidays are named in: the reader's (French outside a request)."""
    locale = get_locale()
    return "en_US" if locale is not None and locale.language == "en" else "fr"


def clean(session: Session, data: dict, key_prefix: str = "", *,
          allow_non_working_day: bool = False) -> dict:
    """A new booking's values checked: times as UTC instants (a time without a zone is Paris
    time), a start from now on, an end after the start and at most 12 hours later, an active
    provider, a living patient, a working day unless `allow_non_working_day` (the user
    confirmed a weekend or a public holiday). Raises ValidationError naming the fields."""
    problems: list = []
    values: dict[str, Any] = {name: data.get(name) for name in (
        "patient_id", "provider_id", "kind", "place", "notes", "action_id", "external_id")
        if name in data}
    values["kind"] = data.get("kind") or AppointmentKind.CONSULTATION
    starts_at = _instant(data.get("starts_at"), key_prefix + "starts_at", problems)
    duration = data.get("duration_minutes")
    if data.get("ends_at") is not None and starts_at is not None:
        ends_at = _instant(data["ends_at"], key_prefix + "ends_at", problems)
        if ends_at is not None:
            if ends_at <= starts_at:
                problems.append((key_prefix + "ends_at", _l("The end must be after the start.")))
            duration = int((ends_at - starts_at).total_seconds() // 60)
    duration = rules.DEFAULT_MINUTES if duration is None else duration
    bad_end = any(key.endswith("ends_at") for key, _m in problems)
    if rules.duration_problem(duration) and not bad_end:
        problems.append((key_prefix + "duration_minutes", rules.duration_problem(duration)))
    if values["kind"] not in APPOINTMENT_KINDS:
        problems.append((key_prefix + "kind", _l("Choose a consultation, a home visit, a "
                                                 "teleconsultation or a group session.")))
    provider = session.get(Provider, data.get("provider_id")) \
        if data.get("provider_id") is not None else None
    if rules.provider_problem(provider):
        problems.append((key_prefix + "provider_id", rules.provider_problem(provider)))
    patient = session.get(Patient, data.get("patient_id")) \
        if data.get("patient_id") is not None else None
    if patient is None or patient.merged_into_id is not None:
        problems.append((key_prefix + "patient_id", _l("Unknown patient.")))
    elif provider is not None and not rules.provider_problem(provider) and \
            not permissions.provider_serves(provider, patient.territory_id):
        problems.append((key_prefix + "provider_id",
                         _l("This provider works in another territory: choose one of the "
                            "patient's territory.")))
    if patient is not None and patient.merged_into_id is None:  # with the provider's problem
        starts_problem = rules.starts_at_problem(
            starts_at, birth_date=patient.birth_date, deceased_date=patient.deceased_date,
            now=utcnow()) or rules.in_the_past_problem(starts_at, utcnow()) or \
            rules.non_working_day_problem(starts_at, subdivision_for(patient.postal_code),
                                          allow_non_working_day, _holiday_language())
        if starts_problem:
            problems.append((key_prefix + "starts_at", starts_problem))
    if data.get("action_id") is not None and patient is not None and \
            not _action_of(session, data["action_id"], patient.id):
        problems.append((key_prefix + "action_id",
                         _l("Choose an action of this patient's care plan.")))
    for name in ("place", "notes"):
        if isinstance(values.get(name), str):
            values[name] = values[name].strip() or None
    raise_problems(problems)
    assert starts_at is not None  # else a problem was raised above
    values.update(kind=AppointmentKind(values["kind"]), starts_at=starts_at,
                  duration_minutes=duration,
                  ends_at=starts_at + timedelta(minutes=duration))
    return values


def _action_of(session: Session, action_id: int, patient_id: int) -> bool:
    """Is this care-plan action part of a plan of this patient?"""
    from coordinator.careplans.models import CarePlan, CarePlanAction, CarePlanGoal

    return session.scalar(
        select(CarePlanAction.id).join(CarePlanGoal, CarePlanGoal.id == CarePlanAction.goal_id)
        .join(CarePlan, CarePlan.id == CarePlanGoal.plan_id)
        .where(CarePlanAction.id == action_id, CarePlan.patient_id == patient_id)) is not None


def _clash(row: dict, other: dict) -> bool:
    """Same patient or same provider, and the times overlap ([start, end) intervals)."""
    return (other["patient_id"] == row["patient_id"] or
            other["provider_id"] == row["provider_id"]) and \
        other["starts_at"] < row["ends_at"] and other["ends_at"] > row["starts_at"]


def _slot(appointment: Appointment) -> dict:
    return {name: getattr(appointment, name)
            for name in ("patient_id", "provider_id", "starts_at", "ends_at")}


def _saved_around(session: Session, rows: list[dict],
                  exclude: Iterable[int]) -> list[Appointment]:
    """The saved appointments holding a slot that could overlap one of the rows: of their
    patients or providers, between the first start and the last end (one query)."""
    query = select(Appointment).where(
        Appointment.status.in_(ACTIVE),
        Appointment.starts_at < max(row["ends_at"] for row in rows),
        Appointment.ends_at > min(row["starts_at"] for row in rows),
        or_(Appointment.patient_id.in_({row["patient_id"] for row in rows}),
            Appointment.provider_id.in_({row["provider_id"] for row in rows})))
    excluded = [i for i in exclude if i is not None]
    if excluded:
        query = query.where(Appointment.id.not_in(excluded))
    return list(session.scalars(query.order_by(Appointment.starts_at)))


def _check_overlaps(session: Session, rows: list[dict], overlap_reason: str | None,
                    exclude: Iterable[int] = ()) -> None:
    """Overlaps with saved appointments and between the new ones; refused without a reason."""
    if (overlap_reason and overlap_reason.strip()) or not rows:
        return
    saved = _saved_around(session, rows, exclude)
    found: list[tuple[int, Appointment]] = []
    for index, row in enumerate(rows):
        found += [(index, other) for other in saved if _clash(row, _slot(other))]
        found += [(index, Appointment(**{k: other[k] for k in (
            "patient_id", "provider_id", "starts_at", "ends_at")},
            status=AppointmentStatus.SCHEDULED,
            kind=other.get("kind", AppointmentKind.CONSULTATION)))
            for other in rows[:index] if _clash(row, other)]
    if found:
        raise OverlapWarning(found)


def _audit(session: Session, actor: Actor, action: str, appointment: Appointment,
           summary: str) -> None:
    audit.record(session, actor, action, "appointment", appointment.id,
                 patient_id=appointment.patient_id, summary=summary)


# -- Operations ------------------------------------------------------------------------------

def clean_all(session: Session, rows: list[dict], *,
              allow_non_working_day: bool = False) -> list[dict]:
    """Every row checked (`clean`), every problem of every row in one ValidationError (keyed
    `rows-<n>-<field>` when there are several); nothing written."""
    cleaned, errors = [], {}
    for index, row in enumerate(rows):
        try:
            cleaned.append(clean(session, row, f"rows-{index}-" if len(rows) > 1 else "",
                                 allow_non_working_day=allow_non_working_day))
        except ValidationError as error:
            errors.update(error.errors)
    if errors:
        raise ValidationError(errors)
    return cleaned


def create_appointments(session: Session, actor: Actor, rows: list[dict], *,
                        overlap_reason: str | None = None,
                        round_label: str | LazyString | None = None,
                        allow_non_working_day: bool = False) -> list[Appointment]:
    """Book appointments in one go (a series, a round): all are checked, then all are saved,
    or none. With `round_label`, they form a follow-up round of their patient (a lazy message
    is kept as its code: each reader reads the round's name in their language)."""
    cleaned = clean_all(session, rows, allow_non_working_day=allow_non_working_day)
    _check_overlaps(session, cleaned, overlap_reason)
    round_ = None
    if round_label and cleaned:
        round_ = FollowUpRound(patient_id=cleaned[0]["patient_id"],
                               label=str(round_label).strip(),
                               label_code=messages.stored(round_label),
                               created_by=actor.label)
        session.add(round_)
    reason = overlap_reason.strip() if overlap_reason and overlap_reason.strip() else None
    booked = []
    for values in cleaned:
        appointment = Appointment(**values, status=AppointmentStatus.SCHEDULED,
                                  created_by=actor.label,
                                  overlap_reason=reason, round=round_)
        session.add(appointment)
        booked.append(appointment)
    session.flush()
    for appointment in booked:
        _audit(session, actor, AuditAction.CREATE, appointment, f"booked {appointment.kind}")
    return booked


def create_appointment(session: Session, actor: Actor, data: dict, *,
                       overlap_reason: str | None = None,
                       allow_non_working_day: bool = False) -> Appointment:
    return create_appointments(session, actor, [data], overlap_reason=overlap_reason,
                               allow_non_working_day=allow_non_working_day)[0]


def _copy(appointment: Appointment, **changes: Any) -> dict:
    """The booking data of an appointment, with some of it changed (a move, a new booking)."""
    return {"patient_id": appointment.patient_id, "provider_id": appointment.provider_id,
            "kind": appointment.kind, "starts_at": appointment.starts_at,
            "duration_minutes": appointment.duration_minutes, "place": appointment.place,
            "notes": appointment.notes, "action_id": appointment.action_id} | changes


def _check_version(appointment: Appointment, expected_version: int | None) -> None:
    if expected_version is not None and appointment.version != expected_version:
        raise ConflictError(appointment.version)


def record_outcome(session: Session, actor: Actor, appointment: Appointment, status: str,
                   expected_version: int | None = None, *,
                   no_show_reason: str | None = None) -> Appointment:
    """Attended, no-show or cancelled: once, from `scheduled` only; who and when are kept.
    Then announced to what follows outcomes (`APPOINTMENT_OUTCOME`)."""
    _record_outcome(session, actor, appointment, status, expected_version,
                    no_show_reason=no_show_reason)
    outcomes_recorded(session, actor, [appointment.id])
    return appointment


def _record_outcome(session: Session, actor: Actor, appointment: Appointment, status: str,
                    expected_version: int | None = None, *,
                    no_show_reason: str | None = None) -> Appointment:
    _check_version(appointment, expected_version)
    if not rules.may_become(appointment.status, status):
        raise TransitionRefused(appointment.status, status)
    if no_show_reason is not None and no_show_reason not in NO_SHOW_REASONS:
        raise ValidationError({"no_show_reason": [_l("Choose a known reason.")]})
    if rules.too_early_problem(status, appointment.starts_at, utcnow()):
        raise ValidationError({"status": [
            rules.too_early_problem(status, appointment.starts_at, utcnow())]})
    appointment.status = AppointmentStatus(status)
    appointment.outcome_recorded_at = utcnow()
    appointment.outcome_recorded_by = actor.label
    if status == AppointmentStatus.NO_SHOW and no_show_reason:
        appointment.no_show_reason = NoShowReason(no_show_reason)
    session.flush()
    _audit(session, actor, AuditAction.UPDATE, appointment, f"outcome {status}")
    return appointment


def record_outcomes(session: Session, actor: Actor, outcomes: dict[int, str]) -> int:
    """A day's list at once: {appointment id: status}; all or nothing."""
    appointments = {a.id: a for a in session.scalars(
        select(Appointment).where(Appointment.id.in_(outcomes)))}
    problems = []
    for appointment_id, status in outcomes.items():
        appointment = appointments.get(appointment_id)
        if appointment is None:
            problems.append((f"outcome-{appointment_id}", _l("Unknown appointment.")))
        elif not rules.may_become(appointment.status, status):
            problems.append((f"outcome-{appointment_id}",
                             _l("This appointment already has an outcome.")))
    raise_problems(problems)
    for appointment_id, status in outcomes.items():
        _record_outcome(session, actor, appointments[appointment_id], status)
    outcomes_recorded(session, actor, list(outcomes))  # once for the whole list
    return len(outcomes)


def reschedule(session: Session, actor: Actor, appointment: Appointment, starts_at: datetime,
               *, cancelled_by: str = "patient", duration_minutes: int | None = None,
               provider_id: int | None = None, overlap_reason: str | None = None,
               expected_version: int | None = None,
               allow_non_working_day: bool = False) -> Appointment:
    """Cancel the appointment (by the patient or the provider) and book the new one, linked."""
    _check_version(appointment, expected_version)
    status = {"patient": AppointmentStatus.CANCELLED_PATIENT,
              "provider": AppointmentStatus.CANCELLED_PROVIDER}.get(cancelled_by)
    if status is None:
        raise ValidationError({"cancelled_by": [_l("Say who cancelled.")]})
    if not rules.may_become(appointment.status, status):
        raise TransitionRefused(appointment.status, status)
    values = clean(session, _copy(appointment, starts_at=starts_at,
                                  provider_id=provider_id or appointment.provider_id,
                                  duration_minutes=duration_minutes or
                                  appointment.duration_minutes),
                   allow_non_working_day=allow_non_working_day)
    _check_overlaps(session, [values], overlap_reason, exclude=[appointment.id])
    record_outcome(session, actor, appointment, status)
    new = Appointment(**values, status=AppointmentStatus.SCHEDULED, created_by=actor.label,
                      round_id=appointment.round_id,
                      overlap_reason=overlap_reason.strip() if overlap_reason else None)
    session.add(new)
    session.flush()
    appointment.rescheduled_to_id = new.id
    session.flush()
    _audit(session, actor, AuditAction.CREATE, new, f"rescheduled from {appointment.id}")
    return new


def reschedule_no_show(session: Session, actor: Actor, appointment: Appointment,
                       starts_at: datetime, *, overlap_reason: str | None = None,
                       allow_non_working_day: bool = False) -> Appointment:
    """A missed appointment is booked again: the new one is linked to the no-show."""
    if appointment.status != AppointmentStatus.NO_SHOW:
        raise TransitionRefused(appointment.status, "rescheduled")
    if appointment.rescheduled_to_id is not None:
        raise ValidationError({"starts_at": [_l("This appointment was booked again "
                                                "already.")]})
    [new] = create_appointments(session, actor, [_copy(appointment, starts_at=starts_at)],
                                overlap_reason=overlap_reason,
                                allow_non_working_day=allow_non_working_day)
    new.round_id = appointment.round_id
    appointment.rescheduled_to_id = new.id
    session.flush()
    return new


def record_outreach(session: Session, actor: Actor, appointment: Appointment, reason: str,
                    note: str | None) -> Appointment:
    """The patient was called after a no-show: why they missed it, and what was said."""
    if appointment.status != AppointmentStatus.NO_SHOW:
        raise ValidationError({"reason": [_l("Only a missed appointment is followed up.")]})
    if reason not in NO_SHOW_REASONS:
        raise ValidationError({"reason": [_l("Choose a reason: forgot, transport, "
                                             "hospitalised, refused or other.")]})
    appointment.no_show_reason = NoShowReason(reason)
    appointment.outreach_note = (note or "").strip() or None
    appointment.outreach_at = utcnow()
    appointment.outreach_by = actor.label
    session.flush()
    _audit(session, actor, AuditAction.UPDATE, appointment, f"outreach {reason}")
    return appointment


def move_round(session: Session, actor: Actor, round_: FollowUpRound, days: int, *,
               overlap_reason: str | None = None, allow_non_working_day: bool = False) -> int:
    """Move the round's scheduled appointments together by `days` (same local time)."""
    moving = [a for a in round_.appointments if a.status == AppointmentStatus.SCHEDULED]
    rows = []
    for appointment in moving:
        local = appointment.starts_at.astimezone(PARIS).replace(tzinfo=None) + \
            timedelta(days=days)
        rows.append(clean(session, _copy(appointment, starts_at=local),
                          allow_non_working_day=allow_non_working_day))
    _check_overlaps(session, rows, overlap_reason, exclude=[a.id for a in moving])
    for appointment, values in zip(moving, rows, strict=True):
        appointment.starts_at, appointment.ends_at = values["starts_at"], values["ends_at"]
        appointment.outcome_missing_since = None
    session.flush()
    for appointment in moving:
        _audit(session, actor, AuditAction.UPDATE, appointment, f"round moved {days:+d} days")
    return len(moving)


def read_appointments(session: Session, actor: Actor, what: str, shown: int,
                      patient_id: int | None = None, *,
                      patients: Iterable[int | None] = (), details: dict | None = None) -> None:
    """Showing appointments (a calendar, a worklist) shows patient data: one entry per patient
    shown (`patient_id` for one patient's page, else `patients`, those named on the page)."""
    audit.record_shown(session, actor, what, [patient_id] if patient_id is not None else patients,
                       summary=f"{shown} appointment(s)", details=details)


def upcoming(session: Session, patient_id: int, now: datetime,
             days: int = 90) -> list[Appointment]:
    """The patient's scheduled appointments of the coming `days`, with their provider."""
    from sqlalchemy.orm import joinedload

    return list(session.scalars(
        select(Appointment).options(joinedload(Appointment.provider))
        .where(Appointment.patient_id == patient_id,
               Appointment.status == AppointmentStatus.SCHEDULED,
               Appointment.starts_at >= now, Appointment.starts_at < now + timedelta(days=days))
        .order_by(Appointment.starts_at)))


def consecutive_no_show_counts(statuses: Iterable[str]) -> list[int | None]:
    """The counts `count_consecutive_no_shows` writes, for one patient's appointments not yet
    stored, given their statuses in start order (then id): None while scheduled; attended 0;
    a no-show one more than the appointment with an outcome before it; cancelled the count
    before it. The generator writes its rows with them (`generate.registry`); a test checks
    that counting the stored rows then changes nothing."""
    counts: list[int | None] = []
    current = 0
    for status in statuses:
        if status == AppointmentStatus.SCHEDULED:
            counts.append(None)
            continue
        if status == AppointmentStatus.ATTENDED:
            current = 0
        elif status == AppointmentStatus.NO_SHOW:
            current += 1
        counts.append(current)
    return counts


def count_consecutive_no_shows(session: Session, patients: Any = None) -> int:
    """Write `consecutive_no_shows` of the appointments with an outcome of these patients (a
    list of ids or a subquery of them; None: every patient), in one statement: within a
    patient, the appointments with an outcome in start order (then id) are cut after each
    attended one, and the count is the running number of no-shows within a cut (attended: 0,
    a no-show: one more than the one before, cancelled: the one before). Only the rows whose
    count changes are written, so an appointment keeps its count when a later one gets its
    outcome; one recorded late, before others (or a merge of two records), counts again the
    appointments after it, as they are now known. The appointments already in the session
    get their new count (no reload). Returns the rows written."""
    from sqlalchemy import case, func, update
    from sqlalchemy.orm import attributes
    from sqlalchemy.orm.util import identity_key

    outcome = Appointment.status != AppointmentStatus.SCHEDULED
    mine = outcome if patients is None else and_(outcome, Appointment.patient_id.in_(patients))
    marked = (select(Appointment.id, Appointment.patient_id, Appointment.status,
                     Appointment.starts_at,
                     func.sum(case((Appointment.status == AppointmentStatus.ATTENDED, 1),
                                   else_=0)).over(
                         partition_by=Appointment.patient_id,
                         order_by=(Appointment.starts_at, Appointment.id)).label("cut"))
              .where(mine).subquery("marked"))
    counted = (select(marked.c.id, func.sum(
        case((marked.c.status == AppointmentStatus.NO_SHOW, 1), else_=0)).over(
        partition_by=(marked.c.patient_id, marked.c.cut),
        order_by=(marked.c.starts_at, marked.c.id)).label("n"))
        .subquery("counted"))
    statement = (
        update(Appointment)
        .where(Appointment.id == counted.c.id,
               Appointment.consecutive_no_shows.is_distinct_from(counted.c.n))
        # A count that changes is a new representation: its version (the API's ETag) moves
        # on. The first count comes with the outcome, whose write moved it on already.
        .values(consecutive_no_shows=counted.c.n,
                version=case((Appointment.consecutive_no_shows.is_(None), Appointment.version),
                             else_=Appointment.version + 1))
        .execution_options(synchronize_session=False))
    if not any(isinstance(held, Appointment) for held in session.identity_map.values()):
        # Nothing to bring up to date in the session (a bulk count): no row comes back.
        return rowcount(session.execute(statement))
    written = session.execute(statement.returning(
        Appointment.id, Appointment.consecutive_no_shows, Appointment.version)).all()
    for appointment_id, count, version in written:
        held = session.identity_map.get(identity_key(Appointment, appointment_id))
        if held is not None:
            attributes.set_committed_value(held, "consecutive_no_shows", count)
            attributes.set_committed_value(held, "version", version)
    return len(written)


def next_appointments(session: Session, patient_ids: Collection[int], now: datetime, *,
                      each: int = 3, days: int = 90) -> dict[int, list[Appointment]]:
    """The next `each` scheduled appointments of each of these patients in the coming `days`
    (those of `upcoming`), with their provider: one query whatever the number of patients."""
    from sqlalchemy import func
    from sqlalchemy.orm import aliased, joinedload

    if not patient_ids:
        return {}
    rank = func.row_number().over(partition_by=Appointment.patient_id,
                                  order_by=(Appointment.starts_at, Appointment.id)).label("rank")
    ranked = (select(Appointment.id, rank)
              .where(Appointment.patient_id.in_(list(patient_ids)),
                     Appointment.status == AppointmentStatus.SCHEDULED,
                     Appointment.starts_at >= now,
                     Appointment.starts_at < now + timedelta(days=days))
              .subquery())
    chosen = aliased(Appointment)
    found: dict[int, list[Appointment]] = {patient_id: [] for patient_id in patient_ids}
    for appointment in session.scalars(
            select(chosen).join(ranked, ranked.c.id == chosen.id)
            .options(joinedload(chosen.provider))
            .where(ranked.c.rank <= each).order_by(chosen.patient_id, chosen.starts_at,
                                                   chosen.id)):
        found[appointment.patient_id].append(appointment)
    return found


def move_appointments(session: Session, keep: Patient, merged: Patient) -> dict:
    """At the merge of two records, the appointments, rounds and calendar feeds of the merged
    record go to the kept one."""
    from sqlalchemy import update

    from coordinator.scheduling.models import CalendarFeed

    moved = rowcount(session.execute(update(Appointment)
                                     .where(Appointment.patient_id == merged.id)
                                     .values(patient_id=keep.id)))
    session.execute(update(FollowUpRound).where(FollowUpRound.patient_id == merged.id)
                    .values(patient_id=keep.id))
    session.execute(update(CalendarFeed).where(CalendarFeed.patient_id == merged.id)
                    .values(patient_id=keep.id))
    # the two histories, one now: the kept record's no-shows in a row, counted again
    count_consecutive_no_shows(session, [keep.id])
    return {"appointments": moved}


# -- What higher layers add (extension points, wired in coordinator/web.py) -----------------

NO_SHOW_RATE = "appointments.no_show_rate"
# Called after outcomes are recorded, on every path: one appointment (its page, the API, a
# reschedule), a day's list, the appointments import (`outcomes_recorded` from its batch).
# Providers: f(session, actor, appointment_ids) (the tasks an attended visit resolves).
APPOINTMENT_OUTCOME = "scheduling.outcome_recorded"


def outcomes_recorded(session: Session, actor: Actor, appointment_ids: Collection[int]) -> None:
    """Announce that these appointments (flushed) have just received their outcome, whatever
    it is: their patients' counts of consecutive no-shows first (one statement), then each
    provider of `APPOINTMENT_OUTCOME` reads what it needs, once for them all."""
    if not appointment_ids:
        return
    from sqlalchemy.orm import aliased

    recorded = aliased(Appointment)
    count_consecutive_no_shows(session, select(recorded.patient_id).where(
        recorded.id.in_(list(appointment_ids))).scalar_subquery())
    for function in extending.providers(APPOINTMENT_OUTCOME):
        function(session=session, actor=actor, appointment_ids=list(appointment_ids))


def no_show_rate(session: Session, by: str, key: int) -> Any:
    """The no-show rate of a patient or a provider over 12 months, shown on their appointments
    and calendars: the metrics (above this domain) hold its one definition."""
    return extending.first(NO_SHOW_RATE, None, session=session, by=by, key=key)
