"""The HL7 v2 ADT feed's rules: receive a message (from the MLLP listener or the HTTP endpoint),
apply it to the patient's stays, acknowledge it; the reconciliation list of the messages whose
patient matched no record or several (link one to a record, then it is applied; or reject it).

Receiving a message (`receive`), in one transaction the caller commits before it sends the ACK
(`inbox.process` does both):

1. the bytes are decoded (MSH-18's character set), the header read: no MSH, an unsupported
   version or no control id (MSH-10) is rejected (AR) and not kept (nothing identifies it);
2. a message already received from the same sender (MSH-3, MSH-4) with the same control id gets
   the ACK it got then, word for word, and changes nothing;
3. otherwise it is kept (`Hl7Message`), whatever becomes of it: an unsupported type, event or
   processing id is rejected (AR); a broken segment, a missing or malformed field, or a stay
   the rules refuse is an error (AE, nothing applied, the reason in ERR);
4. the patient is found (`match`): by INS (PID-3 under the OID 1.2.250.1.213.1.4.8), else by the
   facility's own identifier (PID-3, other authorities) as the record's `external_id`, else by
   the stay of that visit number (PV1-19) already known. No record, or several: the message waits
   in the reconciliation list (AA, `pending`) of its territory's case managers;
5. found: A01, A02, A03, A08 record the stay whose external id is the visit number (created or
   updated, `stays.services.record_stay`), A11 cancels its admission, A13 its discharge; an A01
   of a cancelled admission restores it (`restore_admission`: the A11 was a mistake), any other
   event about it is an error; the message is `applied` (AA).

An integration account limited to a territory sends for that territory's patients only: a
message whose patient is a record of another territory is an error (AE) that names neither the
record nor its territory, and applies nothing.

Services flush, never commit.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session, selectinload

from coordinator import permissions
from coordinator.audit import services as audit
from coordinator.audit.models import AuditAction
from coordinator.auth.models import User
from coordinator.core.bounds import text_problem
from coordinator.core.context import Actor
from coordinator.core.errors import ValidationError
from coordinator.core.normalize import fold
from coordinator.core.rows import rowcount
from coordinator.core.time import utcnow
from coordinator.hl7 import ack, adt, er7
from coordinator.hl7.er7 import Er7Error, Er7Message, Location
from coordinator.hl7.models import Hl7Message, MessageStatus
from coordinator.patients.models import Patient
from coordinator.providers.models import Provider
from coordinator.stays import services as stay_services
from coordinator.stays.models import AdmissionMode, Stay, StaySource
from coordinator.stays.services import StayInput, canonical_id

MLLP = "mllp"
HTTP = "http"
NO_MATCH = "no_match"
SEVERAL_MATCHES = "several_matches"
REASONS = {NO_MATCH: _l("No record matches the patient"),
           SEVERAL_MATCHES: _l("Several records match the patient")}
# A service's complaint about these fields is about the shape of a value (HL7 "data type
# error"); any other (overlap, discharge before admission, after death) is a rule of the stays.
SHAPE_FIELDS = frozenset({"main_diagnosis", "diagnoses", "facility_finess", "facility_name",
                          "location"})
MAX_MERGE_HOPS = 8


@dataclass(frozen=True)
class Sender:
    """Who delivers the messages: an integration account over HTTP, or the MLLP listener.

    `territory_id`: the account's territory (then `limited`: it sends for that territory's
    patients only), or the territory the listener was started for; either is where the
    messages waiting for reconciliation go."""

    channel: str
    actor: Actor
    territory_id: int | None = None
    limited: bool = False

    @property
    def label(self) -> str:
        return self.actor.label

    @classmethod
    def account(cls, user: User, ip_address: str | None = None) -> Sender:
        return cls(HTTP, Actor.for_user(user, ip_address), user.territory_id,
                   limited=user.territory_id is not None)

    @classmethod
    def listener(cls, peer: str, territory_id: int | None = None) -> Sender:
        return cls(MLLP, Actor(user_id=None, label=f"mllp {peer}"[:254], ip_address=peer[:45]),
                   territory_id)


@dataclass
class Receipt:
    """What came of a message: the ACK (ER7 text, and the character set to send it in), its
    MSA-1 code, the kept message's id and status (None when it was not kept), and whether it
    is the first answer's replay."""

    ack: str
    code: str
    charset: str = ""
    message_id: int | None = None
    status: MessageStatus | None = None
    replayed: bool = False
    retry: bool = False  # not taken now (the registry unavailable): send it again

    def ack_bytes(self) -> bytes:
        return er7.encode(self.ack, self.charset)


@dataclass
class Settings:
    application: str = "COORDINATOR"
    facility: str = "COORDINATOR"

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> Settings:
        return cls(application=str(config.get("HL7_APPLICATION", "COORDINATOR")),
                   facility=str(config.get("HL7_FACILITY", "COORDINATOR")))


@dataclass
class _Outcome:
    status: MessageStatus
    code: str = er7.ACCEPTED
    problem: Er7Error | None = None
    patient: Patient | None = None
    stay: Stay | None = None
    reason: str | None = None
    territory_id: int | None = None
    candidates: list[Patient] = field(default_factory=list)


def _failed(problem: Er7Error, sender: Sender) -> _Outcome:
    """A message kept as an error (AE, or AR for what is not taken), nothing applied."""
    return _Outcome(MessageStatus.ERROR, problem.ack_code, problem,
                    territory_id=sender.territory_id)


def _answer(answered: ack.Answered, settings: Settings, code: str,
            problem: Er7Error | None = None, now: datetime | None = None) -> str:
    return ack.build(answered, code, application=settings.application,
                     facility=settings.facility,
                     condition=problem.condition if problem else None,
                     reason=str(problem.reason) if problem else None,
                     location=problem.location if problem else None, now=now)


def _rough_answered(text: str, charset: str) -> ack.Answered:
    """What can be told of a message whose header could not be read (its MSH-10, for MSA-2)."""
    first = text.split("\r", 1)[0]
    if first.startswith("MSH") and len(first) > 3:
        fields = first[3:].split(first[3])
        value = fields[9] if len(fields) > 9 else ""
        return ack.Answered(control_id=value[:64], charset=charset)
    return ack.Answered(charset=charset)


def rejected(data: bytes | str, problem: Er7Error, settings: Settings,
             charset: str = "") -> Receipt:
    """The AR answer of a message that is not kept (unreadable, too large, the registry
    unavailable)."""
    if isinstance(data, bytes):
        text, charset = er7.decode(data[:64 * 1024])
    else:
        text = data
    answered = _rough_answered(er7.normalise(text), charset)
    return Receipt(_answer(answered, settings, problem.ack_code, problem), problem.ack_code,
                   charset)


# -- Receiving -------------------------------------------------------------------------------

@dataclass
class _Prepared:
    """A message whose header could be read, before anything is looked up."""

    text: str
    charset: str
    message: Er7Message
    header: adt.Header
    sender: Sender

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.header.sending_application, self.header.sending_facility,
                self.header.control_id)


def _prepare(data: bytes | str, sender: Sender, settings: Settings,
             declared_charset: str | None = None) -> _Prepared | Receipt:
    """Decode the message and read its header; the AR answer when that cannot be done."""
    if isinstance(data, bytes):
        text, charset = er7.decode(data, declared_charset)
    else:
        text = data
        charset = declared_charset or er7.charset_of(data[:4096].encode("utf-8", "replace"))
        charset = charset if er7.python_codec(charset) else ""
    text = er7.normalise(text)
    try:
        if text_problem(text):
            raise er7.rejected(er7.DATA_TYPE_ERROR,
                               _l("The message contains characters that are not text (NUL)."))
        message = Er7Message.parse(text)
        header = adt.read_header(message, charset)
    except Er7Error as problem:
        answered = _rough_answered(text, charset)
        return Receipt(_answer(answered, settings, problem.ack_code, problem),
                       problem.ack_code, charset)
    return _Prepared(text, charset, message, header, sender)


def _new_record(prepared: _Prepared) -> Hl7Message:
    header, sender = prepared.header, prepared.sender
    return Hl7Message(
        control_id=header.control_id, sending_application=header.sending_application,
        sending_facility=header.sending_facility, message_type=header.message_type[:16],
        trigger_event=header.trigger_event[:8], received_at=utcnow(),
        received_by=sender.label[:254], channel=sender.channel, raw=prepared.text)


def _read(prepared: _Prepared, record: Hl7Message) -> adt.Adt:
    """The message's content (an Er7Error when it cannot be read), noted on its record."""
    adt.check_header(prepared.header, prepared.message)
    content = adt.read(prepared.message, prepared.header)
    record.patient_name = content.patient_name or None
    record.patient_birth_date = content.birth_date
    record.patient_sex = content.sex
    record.patient_identifiers = content.identifiers_text() or None
    record.visit_number = content.visit_number
    return content


def _finish(session: Session, prepared: _Prepared, record: Hl7Message, outcome: _Outcome,
            settings: Settings) -> None:
    """The record says what came of the message, with its ACK; added to the session."""
    header = prepared.header
    answered = ack.Answered(control_id=header.control_id,
                            sending_application=header.sending_application,
                            sending_facility=header.sending_facility,
                            trigger_event=header.trigger_event, version=header.version,
                            processing_id=header.processing_id, charset=prepared.charset)
    record.status = outcome.status
    record.ack_code = outcome.code
    record.error = str(outcome.problem.reason) if outcome.problem else None
    record.patient_id = outcome.patient.id if outcome.patient else None
    record.stay_id = outcome.stay.id if outcome.stay else None
    record.territory_id = outcome.territory_id
    record.reconciliation_reason = outcome.reason
    record.ack = _answer(answered, settings, outcome.code, outcome.problem, record.received_at)
    session.add(record)


def _audit_received(session: Session, prepared: _Prepared, record: Hl7Message) -> Receipt:
    """The kept message's audit entry (once flushed), and the receipt of it."""
    audit.record(session, prepared.sender.actor, AuditAction.CREATE, "hl7_message", record.id,
                 patient_id=record.patient_id,
                 summary=f"{record.message_type} {record.control_id}: {record.status} "
                         f"({record.ack_code})")
    return Receipt(record.ack or "", record.ack_code, prepared.charset, record.id,
                   record.status)


def _kept(session: Session, prepared: Collection[_Prepared]) -> dict[tuple, Hl7Message]:
    """The messages already received with these senders' control ids (one query)."""
    if not prepared:
        return {}
    keys = {item.key for item in prepared}
    found = session.scalars(select(Hl7Message).where(
        Hl7Message.control_id.in_(sorted({key[2] for key in keys}))))
    return {key: message for message in found
            if (key := (message.sending_application, message.sending_facility,
                        message.control_id)) in keys}


def receive(session: Session, data: bytes | str, sender: Sender, *,
            settings: Settings | None = None, declared_charset: str | None = None) -> Receipt:
    """Receive one message: see the module. The caller commits, then sends `Receipt.ack`."""
    settings = settings or Settings()
    prepared = _prepare(data, sender, settings, declared_charset)
    if isinstance(prepared, Receipt):
        return prepared
    kept = _kept(session, [prepared]).get(prepared.key)
    if kept is not None:
        return replay(kept, prepared.charset, settings)
    record = _new_record(prepared)
    try:
        content = _read(prepared, record)
        outcome = _match_and_apply(session, content, sender)
    except Er7Error as problem:
        outcome = _failed(problem, sender)
    _finish(session, prepared, record, outcome, settings)
    session.flush()
    return _audit_received(session, prepared, record)


class Entangled(Exception):
    """Messages of one batch that cannot be applied together (the same control id, patient
    or visit twice): the caller takes them one at a time."""


def receive_many(session: Session, items: Sequence[tuple[bytes | str, Sender]], *,
                 settings: Settings | None = None) -> list[Receipt]:
    """Receive several messages in one unit of work (the MLLP listener's batch: messages that
    arrived on several connections at once), with what `receive` would give each one after
    the other, in a fixed number of queries for the common case: admissions, transfers,
    discharges and updates of records found by INS, their stays recorded together
    (`stays.services.record_stays`: one flush, one readmission and LACE recompute for the
    lot). Any other message (cancellations, reconciliation, a record found otherwise) takes
    the way of `receive`, in its turn. `Entangled` when two of them are about the same
    control id, record or visit (nothing applied: the caller rolls back and takes them one
    at a time). The caller commits, then sends each ACK."""
    settings = settings or Settings()
    receipts: list[Receipt | None] = [None] * len(items)
    prepared: dict[int, _Prepared] = {}
    for index, (data, sender) in enumerate(items):
        ready = _prepare(data, sender, settings)
        if isinstance(ready, Receipt):
            receipts[index] = ready
        else:
            prepared[index] = ready
    keys = [item.key for item in prepared.values()]
    if len(set(keys)) != len(keys):
        raise Entangled("the same control id twice")
    kept = _kept(session, prepared.values())
    records: dict[int, Hl7Message] = {}
    outcomes: dict[int, _Outcome] = {}
    contents: dict[int, adt.Adt] = {}
    for index, item in prepared.items():
        if item.key in kept:
            receipts[index] = replay(kept[item.key], item.charset, settings)
            continue
        records[index] = _new_record(item)
        try:
            contents[index] = _read(item, records[index])
        except Er7Error as problem:
            outcomes[index] = _failed(problem, item.sender)
    by_nir: dict[str, list[Patient]] = {}
    wanted = sorted({value for content in contents.values() for value in content.ins})
    if wanted:
        for patient in session.scalars(select(Patient).where(Patient.nir.in_(wanted))):
            by_nir.setdefault(patient.nir or "", []).append(patient)
    together: dict[int, tuple[adt.Adt, Patient]] = {}
    for index, content in contents.items():
        sender = prepared[index].sender
        found = _live(session, [patient for value in content.ins
                                for patient in by_nir.get(value, [])])
        if not found or content.event not in adt.RECORDING_EVENTS:
            try:
                outcomes[index] = _match_and_apply(session, content, sender)
            except Er7Error as problem:
                outcomes[index] = _failed(problem, sender)
            continue
        try:
            candidates = _allowed(found, sender)
        except Er7Error as problem:
            outcomes[index] = _failed(problem, sender)
            continue
        if len(candidates) != 1:
            outcomes[index] = _pending(session, content, sender, candidates)
            continue
        together[index] = (content, candidates[0])
    patients = [patient.id for _content, patient in together.values()]
    visits = [canonical_id(content.visit_number) for content, _patient in together.values()]
    if len(set(patients)) != len(patients) or len(set(visits)) != len(visits):
        raise Entangled("the same record or visit twice")
    stays = {stay.external_id: stay for stay in session.scalars(
        select(Stay).options(selectinload(Stay.diagnoses))
        .where(Stay.external_id.in_(sorted(visits))))} if visits else {}
    groups: dict[Actor, list[tuple[int, adt.Adt, StayInput]]] = {}
    for index, (content, patient) in together.items():
        stay = stays.get(canonical_id(content.visit_number))
        actor = prepared[index].sender.actor
        if stay is not None and stay.cancelled_at is not None:  # its A01 again, or an error
            try:
                outcomes[index] = _applied(session, content, patient, actor)
            except Er7Error as problem:
                outcomes[index] = _failed(problem, prepared[index].sender)
            continue
        try:
            values = _recording(content, patient, stay)
        except Er7Error as problem:
            outcomes[index] = _failed(problem, prepared[index].sender)
            continue
        groups.setdefault(actor, []).append(
            (index, content, StayInput(patient, values, content.visit_number, stay)))
    for actor, group in groups.items():
        recorded = stay_services.record_stays(session, [entry for _i, _c, entry in group],
                                              source=StaySource.HL7, actor=actor)
        for (index, content, entry), result in zip(group, recorded, strict=True):
            if result.error is not None:
                outcomes[index] = _failed(_refusal(result.error, content),
                                          prepared[index].sender)
            else:
                outcomes[index] = _Outcome(MessageStatus.APPLIED, patient=entry.patient,
                                           stay=result.record,
                                           territory_id=entry.patient.territory_id)
    for index, record in records.items():
        _finish(session, prepared[index], record, outcomes[index], settings)
    session.flush()
    for index, record in records.items():
        receipts[index] = _audit_received(session, prepared[index], record)
    return [receipt for receipt in receipts if receipt is not None]


def replay(kept: Hl7Message, charset: str, settings: Settings) -> Receipt:
    """A resent message: the first answer again, nothing changed."""
    answer = kept.ack or _answer(ack.Answered(control_id=kept.control_id, charset=charset),
                                 settings, kept.ack_code)
    return Receipt(answer, kept.ack_code, charset, kept.id, kept.status, replayed=True)


def _allowed(candidates: list[Patient], sender: Sender) -> list[Patient]:
    """The candidates a sender limited to a territory may send for (an AE when it matched
    records of other territories only)."""
    if not sender.limited:
        return candidates
    inside = [p for p in candidates if permissions.may_send_for(sender.territory_id, p)]
    if candidates and not inside:
        raise er7.error(er7.UNKNOWN_KEY_IDENTIFIER,
                        _l("This message cannot be applied with this account: nothing "
                           "was changed."),
                        Location("PID", 1, 3))
    return inside


def _pending(session: Session, content: adt.Adt, sender: Sender,
             candidates: list[Patient]) -> _Outcome:
    return _Outcome(MessageStatus.PENDING, reason=NO_MATCH if not candidates else
                    SEVERAL_MATCHES, candidates=candidates,
                    territory_id=_pending_territory(session, content, sender, candidates))


def _applied(session: Session, content: adt.Adt, patient: Patient, actor: Actor) -> _Outcome:
    stay = apply(session, content, patient, actor)
    return _Outcome(MessageStatus.APPLIED, patient=patient, stay=stay,
                    territory_id=patient.territory_id)


def _match_and_apply(session: Session, content: adt.Adt, sender: Sender) -> _Outcome:
    candidates = _allowed(match(session, content), sender)
    if len(candidates) != 1:
        return _pending(session, content, sender, candidates)
    return _applied(session, content, candidates[0], sender.actor)


def _pending_territory(session: Session, content: adt.Adt, sender: Sender,
                       candidates: list[Patient]) -> int | None:
    """Where a message waiting for reconciliation goes: the sender's territory (account or
    listener), else the territory of the facility in the provider directory (MSH-4's FINESS),
    else the one territory of the records it matches; None (administrators only) otherwise."""
    if sender.territory_id is not None:
        return sender.territory_id
    finess = content.header.facility_finess
    if finess:
        territories = set(session.scalars(
            select(Provider.territory_id).where(Provider.finess == finess,
                                                Provider.is_active.is_(True))))
        if len(territories) == 1:
            return territories.pop()
    territories = {patient.territory_id for patient in candidates}
    return territories.pop() if len(territories) == 1 else None


def _live(session: Session, patients: Collection[Patient]) -> list[Patient]:
    """The records these are, following merges to the record kept, each once, by id."""
    found: dict[int, Patient] = {}
    pending = list(patients)
    for _ in range(MAX_MERGE_HOPS):
        merged = {p.merged_into_id for p in pending if p.merged_into_id is not None}
        for patient in pending:
            if patient.merged_into_id is None:
                found[patient.id] = patient
        if not merged:
            break
        pending = list(session.scalars(select(Patient).where(Patient.id.in_(sorted(merged)))))
    return [found[key] for key in sorted(found)]


def match(session: Session, content: adt.Adt) -> list[Patient]:
    """The records the message's patient may be: by INS, else by the facility's identifier
    (`external_id`), else by the known stay of its visit number (same facility)."""
    if content.ins:
        found = _live(session, session.scalars(
            select(Patient).where(Patient.nir.in_(content.ins))).all())
        if found:
            return found
    if content.local_ids:
        found = _live(session, session.scalars(
            select(Patient).where(Patient.external_id.in_(content.local_ids))).all())
        if found:
            return found
    stay = stay_services.stay_by_external_id(session, content.visit_number)
    finess = content.header.facility_finess
    if stay is not None and (not finess or not stay.facility_finess or
                             stay.facility_finess == finess):
        return _live(session, [stay.patient])
    return []


def apply(session: Session, content: adt.Adt, patient: Patient, actor: Actor) -> Stay:
    """Apply an ADT message to `patient`'s stay of its visit number (see the module); an
    Er7Error (AE) when it cannot be, nothing written then."""
    stay = stay_services.stay_by_external_id(session, content.visit_number)
    visit = Location("PV1", 1, 19)
    if stay is not None and stay.patient_id != patient.id:
        raise er7.error(er7.DUPLICATE_KEY_IDENTIFIER,
                        _l("Visit number %(number)s is the stay of another patient.",
                           number=content.visit_number), visit)
    if content.event in (adt.CANCEL_ADMIT, adt.CANCEL_DISCHARGE):
        if stay is None:
            raise er7.error(er7.UNKNOWN_KEY_IDENTIFIER,
                            _l("No stay has visit number %(number)s: there is nothing to "
                               "cancel.", number=content.visit_number), visit)
        if content.event == adt.CANCEL_ADMIT:
            return stay_services.cancel_admission(session, stay, actor=actor,
                                                  source=StaySource.HL7)
        return stay_services.cancel_discharge(session, stay, actor=actor, source=StaySource.HL7)
    if stay is not None and stay.cancelled_at is not None and content.event != adt.ADMIT:
        raise er7.error(er7.UNKNOWN_KEY_IDENTIFIER,
                        _l("The admission of visit %(number)s was cancelled (A11): send its A01 "
                           "again to restore it.", number=content.visit_number), visit)
    values = _recording(content, patient, stay)
    try:
        if stay is None or stay.cancelled_at is None:  # a refused stay writes nothing
            return stay_services.record_stay(session, patient=patient, values=values,
                                             source=StaySource.HL7, actor=actor,
                                             external_id=content.visit_number, stay=stay)
        with audit.deferred(session), session.begin_nested():  # an A01 after an A11
            stay_services.restore_admission(session, stay, actor=actor, source=StaySource.HL7)
            return stay_services.record_stay(session, patient=patient, values=values,
                                             source=StaySource.HL7, actor=actor,
                                             external_id=content.visit_number, stay=stay)
    except ValidationError as refused:
        raise _refusal(refused, content) from refused


def _recording(content: adt.Adt, patient: Patient, stay: Stay | None) -> dict:
    """The values an A01, A02, A03 or A08 records on the stay of its visit number (None: a
    new one); an Er7Error (AE) when the stay is another patient's or cannot be created."""
    visit = Location("PV1", 1, 19)
    if stay is not None and stay.patient_id != patient.id:
        raise er7.error(er7.DUPLICATE_KEY_IDENTIFIER,
                        _l("Visit number %(number)s is the stay of another patient.",
                           number=content.visit_number), visit)
    values = dict(content.values)
    if stay is None:
        if values.get("admitted_at") is None:
            raise er7.error(er7.REQUIRED_FIELD_MISSING,
                            _l("No stay has visit number %(number)s yet: PV1-44 (admit "
                               "date/time) is required to record it.",
                               number=content.visit_number), Location("PV1", 1, 44))
        values.setdefault("admission_mode", AdmissionMode.PLANNED.value)
    return values


def _refusal(refused: ValidationError, content: adt.Adt) -> Er7Error:
    """A stays rule's refusal as an AE, at the field the value came from."""
    messages = refused.messages()
    first = next(iter(messages), "")
    reason = " ".join(" ".join(texts) for texts in messages.values())
    condition = er7.DATA_TYPE_ERROR if first in SHAPE_FIELDS else \
        er7.APPLICATION_INTERNAL_ERROR
    return er7.error(condition, reason, content.sources.get(first))


# -- The reconciliation list -------------------------------------------------------------------

def reconciliation_query(user: User, *, status: MessageStatus | None = MessageStatus.PENDING
                         ) -> Select:
    """The messages `user` reconciles (their territory's; administrators every one), latest
    first."""
    query = select(Hl7Message).where(permissions.reconciliation_scope(user))
    if status is not None:
        query = query.where(Hl7Message.status == status)
    return query.order_by(Hl7Message.received_at.desc(), Hl7Message.id.desc())


def count_pending(session: Session, user: User) -> int:
    return session.scalar(select(func.count()).select_from(Hl7Message)
                          .where(permissions.reconciliation_scope(user),
                                 Hl7Message.status == MessageStatus.PENDING)) or 0


def read_list(session: Session, actor: Actor, messages: Collection[Hl7Message],
              total: int) -> None:
    """The reconciliation list was read (it shows what hospitals said of patients): one entry
    per registry patient a shown message is linked to."""
    audit.record_shown(session, actor, "hl7_reconciliation",
                       [message.patient_id for message in messages],
                       summary=f"{total} message(s)")


def read_message(session: Session, actor: Actor, message: Hl7Message) -> Hl7Message:
    audit.record(session, actor, AuditAction.READ, "hl7_message", message.id,
                 patient_id=message.patient_id)
    return message


def suggestions(session: Session, user: User, message: Hl7Message) -> list[Patient]:
    """Records the message's patient may be, among those `user` may open: the ones its
    identifiers match, and those of the same birth date and birth name."""
    content = parsed(message)
    found = {patient.id: patient for patient in match(session, content)} if content else {}
    if content is not None and content.birth_date is not None and content.family_name:
        family = fold(content.family_name)
        for patient in session.scalars(
                select(Patient).where(Patient.birth_date == content.birth_date,
                                      Patient.merged_into_id.is_(None)).limit(50)):
            if family and family in (patient.birth_name_folded, patient.used_name_folded):
                found.setdefault(patient.id, patient)
    return [patient for key, patient in sorted(found.items())
            if permissions.can_view_patient(user, patient)]


def parsed(message: Hl7Message) -> adt.Adt | None:
    """A kept message read again (None when it cannot be)."""
    try:
        er7_message = Er7Message.parse(message.raw)
        header = adt.read_header(er7_message, "")
        adt.check_header(header, er7_message)
        return adt.read(er7_message, header)
    except Er7Error:
        return None


def link(session: Session, actor: Actor, message: Hl7Message, patient: Patient,
         note: str | None = None) -> Hl7Message:
    """A case manager says which record the message is about: it is applied to it now. A
    ValidationError (field `patient_id`) when it cannot be (nothing written then)."""
    if message.status != MessageStatus.PENDING:
        raise ValidationError({"patient_id": [_l("This message is no longer waiting.")]})
    content = parsed(message)
    if content is None:  # pragma: no cover - kept pending only after it was read
        raise ValidationError({"patient_id": [_l("This message cannot be read again.")]})
    try:
        stay = apply(session, content, patient, actor)
    except Er7Error as problem:
        where = f" ({problem.location})" if problem.location else ""
        raise ValidationError({"patient_id": [str(problem.reason) + where]}) from problem
    message.status = MessageStatus.LINKED
    message.patient_id = patient.id
    message.stay_id = stay.id
    message.resolved_at = utcnow()
    message.resolved_by = actor.label[:254]
    message.resolution_note = (note or "").strip() or None
    session.flush()
    audit.record(session, actor, AuditAction.UPDATE, "hl7_message", message.id,
                 patient_id=patient.id,
                 summary=f"{message.message_type} {message.control_id} linked to patient "
                         f"{patient.id}, stay {stay.id}")
    return message


def reject(session: Session, actor: Actor, message: Hl7Message, note: str | None) -> Hl7Message:
    """A case manager rejects a waiting message (not a patient of ours, a test...): it is kept,
    never applied."""
    if message.status != MessageStatus.PENDING:
        raise ValidationError({"note": [_l("This message is no longer waiting.")]})
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": [_l("Say why the message is rejected.")]})
    if text_problem(note) or len(note) > 1000:
        raise ValidationError({"note": [_l("At most %(n)d characters of text.", n=1000)]})
    message.status = MessageStatus.REJECTED
    message.resolved_at = utcnow()
    message.resolved_by = actor.label[:254]
    message.resolution_note = note
    session.flush()
    audit.record(session, actor, AuditAction.UPDATE, "hl7_message", message.id,
                 summary=f"{message.message_type} {message.control_id} rejected")
    return message


def move_messages(session: Session, keep: Patient, merged: Patient) -> dict:
    """At a merge of two records: the messages of the merged record are the kept one's."""
    moved = rowcount(session.execute(update(Hl7Message)
                                     .where(Hl7Message.patient_id == merged.id)
                                     .values(patient_id=keep.id)))
    return {"hl7_messages": moved}
