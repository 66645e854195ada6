"""What an ADT message says, mapped to a stay (the table of docs/hl7.md, written once here).

`read_header` reads the MSH segment (who sends, the control id, the event); `read` the rest:
who the patient is (PID), the visit (PV1, ZFM of the French extension) and the diagnoses (DG1),
as the values `coordinator.stays.services.record_stay` takes. Every problem is an
`er7.Er7Error` naming its place (segment, field, component), which the ACK reports.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l

from coordinator.hl7 import er7
from coordinator.hl7.er7 import Er7Message, Location, Segment
from coordinator.providers.validation import FINESS_RE
from coordinator.stays.models import AdmissionMode, DischargeDestination

ADMIT = "A01"
TRANSFER = "A02"
DISCHARGE = "A03"
UPDATE = "A08"
CANCEL_ADMIT = "A11"
CANCEL_DISCHARGE = "A13"
EVENTS = (ADMIT, TRANSFER, DISCHARGE, UPDATE, CANCEL_ADMIT, CANCEL_DISCHARGE)
RECORDING_EVENTS = frozenset({ADMIT, TRANSFER, DISCHARGE, UPDATE})  # record the visit's stay
# HL7 table 0103, processing id: production messages only (a test or debugging message sent to
# this registry by mistake would change real records).
PRODUCTION = "P"

# PID-3: the INS (identifiant national de santé) is the NIR under this assigning authority
# (ANS, "ASIP-SANTE-INS-NIR"); the other OIDs of the family are the INS-NIA and the test and
# demonstration NIRs, never a facility's own identifier.
INS_NIR_OID = "1.2.250.1.213.1.4.8"
INS_FAMILY = "1.2.250.1.213.1.4."
# PID-3 identifier types (HL7 table 0203) that are not the facility's patient identifier.
NOT_LOCAL_TYPES = frozenset({"INS", "INS-C", "NH", "SS", "VN", "AN"})

# PV1-4 admission type (HL7 table 0007, IHE PAM France): U urgent, E emergency; IE "prestation
# inter-établissements" (the patient comes from another facility).
EMERGENCY_TYPES = frozenset({"U", "E"})
TRANSFER_TYPES = frozenset({"IE"})
# PV1-14 admit source (HL7 table 0023, v2.5): 4 from a hospital, 5 from a skilled nursing
# facility, 6 from another health care facility.
TRANSFER_SOURCES = frozenset({"4", "5", "6"})
# ZFM-1 mode d'entrée PMSI (French extension): 0 transfer for a procedure, 6 mutation (another
# unit of the same facility), 7 transfer (another facility).
TRANSFER_ENTRIES = frozenset({"0", "6", "7"})

D = DischargeDestination
# PV1-36 discharge disposition, HL7 table 0112 (two digits, v2.5 suggested values).
DISPOSITIONS = {
    "01": D.HOME, "02": D.TRANSFER, "03": D.NURSING_HOME, "04": D.NURSING_HOME,
    "05": D.TRANSFER, "06": D.HOME_WITH_SERVICES, "07": D.HOME, "08": D.HOME_WITH_SERVICES,
    "09": D.TRANSFER, "20": D.DEATH, "40": D.DEATH, "41": D.DEATH, "42": D.DEATH,
    "43": D.TRANSFER, "50": D.HOME_WITH_SERVICES, "51": D.NURSING_HOME, "61": D.NURSING_HOME,
    "62": D.REHABILITATION, "63": D.TRANSFER, "64": D.NURSING_HOME, "65": D.TRANSFER,
    "66": D.TRANSFER, "70": D.TRANSFER,
}
# PV1-36 or ZFM-2, mode de sortie PMSI (one character, French extension): 6 mutation, 7 transfer,
# 8 home, 9 death; with 8, ZFM-4 (destination) 6 is home hospitalisation (HAD), 7 a medico-social
# residence.
PMSI_EXITS = {"6": D.TRANSFER, "7": D.TRANSFER, "8": D.HOME, "9": D.DEATH}
PMSI_HOME_DESTINATIONS = {"6": D.HOME_WITH_SERVICES, "7": D.NURSING_HOME}
# ICD-10 coding systems of DG1-3.3 (HL7 table 0053 and the French names); empty is taken as
# ICD-10 too. Diagnoses coded otherwise are left out.
ICD10_SYSTEMS = re.compile(r"^(I10[A-Z]*|ICD-?10.*|CIM-?10.*|2\.16\.840\.1\.113883\.6\.3)$",
                           re.IGNORECASE)


@dataclass
class Header:
    control_id: str
    sending_application: str
    sending_facility: str
    facility_name: str
    facility_finess: str | None
    message_code: str
    trigger_event: str
    version: str
    processing_id: str
    charset: str

    @property
    def message_type(self) -> str:
        return f"{self.message_code}^{self.trigger_event}".strip("^")


@dataclass
class Identifier:
    value: str
    authority: str
    oid: str
    type_code: str

    @property
    def is_ins(self) -> bool:
        return self.oid == INS_NIR_OID

    @property
    def is_local(self) -> bool:
        return not self.oid.startswith(INS_FAMILY) and self.type_code.upper() not in \
            NOT_LOCAL_TYPES

    def __str__(self) -> str:
        label = "INS" if self.is_ins else (self.type_code or "ID")
        where = f" ({self.authority})" if self.authority and not self.is_ins else ""
        return f"{label} {self.value}{where}"


@dataclass
class Adt:
    """The mapped content of an ADT message."""

    header: Header
    identifiers: list[Identifier]
    family_name: str
    given_name: str
    birth_date: date | None
    sex: str | None
    visit_number: str
    values: dict = field(default_factory=dict)  # for stays.services.record_stay
    # Where each value came from (the ERR location of a service's complaint about it).
    sources: dict[str, Location] = field(default_factory=dict)

    @property
    def patient_name(self) -> str:
        return " ".join(part for part in (self.family_name, self.given_name) if part)[:200]

    @property
    def event(self) -> str:
        return self.header.trigger_event

    @property
    def ins(self) -> list[str]:
        return _unique(identifier.value for identifier in self.identifiers if identifier.is_ins)

    @property
    def local_ids(self) -> list[str]:
        return _unique(identifier.value for identifier in self.identifiers
                       if identifier.is_local)

    def identifiers_text(self) -> str:
        return "; ".join(str(identifier) for identifier in self.identifiers)[:300]


def _unique(values: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for value in values:
        if value and value not in seen:
            seen.append(value)
    return seen


def _required(segment: Segment, number: int, what: Any, component: int = 1) -> str:
    value = segment.text(number, component)
    if not value:
        raise er7.error(er7.REQUIRED_FIELD_MISSING,
                        _l("%(field)s (%(what)s) is required.",
                           field=str(segment.location(number)), what=what),
                        segment.location(number))
    return value


# -- MSH ---------------------------------------------------------------------------------------

def read_header(message: Er7Message, charset: str) -> Header:
    """The MSH segment. Without a control id (MSH-10) the message cannot be acknowledged nor
    told from a resent one: rejected (AR)."""
    msh = message.msh
    control_id = msh.text(10)
    if not control_id:
        raise er7.rejected(er7.REQUIRED_FIELD_MISSING,
                           _l("MSH-10 (message control id) is required."), msh.location(10))
    if len(control_id) > 64:
        raise er7.rejected(er7.DATA_TYPE_ERROR,
                           _l("MSH-10 (message control id) has at most %(n)d characters.",
                              n=64), msh.location(10))
    facility = msh.first(4)
    name = facility.text(1) if facility else ""
    universal = facility.text(2) if facility else ""
    finess = universal if FINESS_RE.match(universal.upper()) else \
        (name if FINESS_RE.match(name.upper()) else None)
    return Header(
        control_id=control_id,
        sending_application=msh.raw(3)[:100],
        sending_facility=msh.raw(4)[:100],
        facility_name=(name or universal)[:200],
        facility_finess=finess.upper() if finess else None,
        message_code=msh.text(9, 1).upper()[:8],
        trigger_event=(msh.text(9, 2) or _evn_event(message)).upper()[:7],
        version=message.version,
        processing_id=msh.text(11, 1).upper() or PRODUCTION,
        charset=charset,
    )


def _evn_event(message: Er7Message) -> str:
    evn = message.one("EVN")
    return evn.text(1) if evn is not None else ""


def check_header(header: Header, message: Er7Message) -> None:
    """What this registry takes: ADT messages of the six events, in production (AR
    otherwise)."""
    msh = message.msh
    if header.message_code != "ADT":
        raise er7.rejected(er7.UNSUPPORTED_MESSAGE_TYPE,
                           _l("Message type %(type)s is not supported: send ADT messages.",
                              type=header.message_code or "?"), msh.location(9, 1))
    if header.trigger_event not in EVENTS:
        raise er7.rejected(er7.UNSUPPORTED_EVENT_CODE,
                           _l("Trigger event %(event)s is not supported: send %(events)s.",
                              event=header.trigger_event or "?", events=", ".join(EVENTS)),
                           msh.location(9, 2))
    if header.processing_id != PRODUCTION:
        raise er7.rejected(er7.UNSUPPORTED_PROCESSING_ID,
                           _l("Processing id %(id)s is not accepted: this registry takes "
                              "production messages (P) only.", id=header.processing_id),
                           msh.location(11))
    if message.broken is not None:
        raise message.broken


# -- PID, PV1, ZFM, DG1 ------------------------------------------------------------------------

def _single(message: Er7Message, name: str, what: Any) -> Segment:
    found = message.all(name)
    if not found:
        raise er7.error(er7.SEGMENT_SEQUENCE_ERROR,
                        _l("The %(segment)s segment (%(what)s) is missing.", segment=name,
                           what=what), Location(name))
    return found[0]


def _identifiers(pid: Segment) -> list[Identifier]:
    identifiers = []
    for repetition in pid.repetitions(3):
        value = repetition.text(1).replace(" ", "")
        if not value:
            continue
        identifiers.append(Identifier(
            value=value[:64], authority=repetition.text(4, 1)[:100],
            oid=repetition.text(4, 2), type_code=repetition.text(5)))
    if not identifiers:
        raise er7.error(er7.REQUIRED_FIELD_MISSING,
                        _l("PID-3 (patient identifier list) is required."), pid.location(3))
    return identifiers


def _name(pid: Segment) -> tuple[str, str]:
    """The birth name (PID-5 of type L in the French extension, else the first) and the first
    given name."""
    names = pid.repetitions(5)
    chosen = next((name for name in names if name.text(7).upper() == "L"),
                  names[0] if names else None)
    if chosen is None:
        return "", ""
    return (chosen.text(1, 1) or chosen.text(1))[:100], chosen.text(2)[:100]


def _day(segment: Segment, number: int) -> date | None:
    try:
        value = er7.timestamp(segment.text(number))
    except ValueError:
        return None  # shown only: an unreadable birth date is not a reason to refuse
    return value.date() if isinstance(value, datetime) else value


def _moment(segment: Segment | None, number: int, what: Any) -> date | datetime | None:
    if segment is None:
        return None
    text = segment.text(number)
    try:
        return er7.timestamp(text)
    except ValueError:
        raise er7.error(er7.DATA_TYPE_ERROR,
                        _l("%(field)s (%(what)s) is not a date and time of the form "
                           "YYYYMMDDHHMM[SS][+ZZZZ]: %(value)s.",
                           field=str(segment.location(number)), what=what, value=text[:40]),
                        segment.location(number)) from None


def admission_mode(pv1: Segment, zfm: Segment | None) -> AdmissionMode | None:
    """PV1-4, PV1-14 and ZFM-1 as an admission mode; None when none of them is given."""
    kind = pv1.text(4).upper()
    source = pv1.text(14).upper()
    entry = zfm.text(1).upper() if zfm is not None else ""
    if kind in TRANSFER_TYPES or source in TRANSFER_SOURCES or entry in TRANSFER_ENTRIES:
        return AdmissionMode.TRANSFER
    if kind in EMERGENCY_TYPES:
        return AdmissionMode.EMERGENCY
    if kind or source or entry:
        return AdmissionMode.PLANNED
    return None


def destination(pv1: Segment, zfm: Segment | None) -> DischargeDestination | None:
    """PV1-36 (table 0112, or a PMSI mode de sortie), else ZFM-2 with ZFM-4; None when
    unknown (a French "circonstance de sortie" such as 3, medical decision, says nothing of
    the place)."""
    code = pv1.text(36).upper()
    exit_code = zfm.text(2).upper() if zfm is not None else ""
    if code in DISPOSITIONS:
        return DISPOSITIONS[code]
    if code.lower() in {d.value for d in DischargeDestination}:
        return DischargeDestination(code.lower())
    if code in PMSI_EXITS and not exit_code:
        exit_code = code
    if exit_code in PMSI_EXITS:
        place = PMSI_EXITS[exit_code]
        if place == D.HOME and zfm is not None:
            return PMSI_HOME_DESTINATIONS.get(zfm.text(4), place)
        return place
    return None


def _location(pv1: Segment) -> str | None:
    point = pv1.first(3)
    if point is None:
        return None
    parts = [point.text(number) for number in (1, 2, 3)]
    text = " ".join(part for part in parts if part)
    return text[:100] or None


def _diagnoses(message: Er7Message) -> tuple[str | None, list[str], Location | None]:
    """The main diagnosis (DG1-15 priority 1, else the first) and the others, ICD-10 ones
    only."""
    coded = []
    for dg1 in message.all("DG1"):
        code = dg1.text(3, 1)
        system = dg1.text(3, 3)
        if not code or (system and not ICD10_SYSTEMS.match(system)):
            continue
        coded.append((dg1.text(15) == "1", code, dg1.location(3, 1)))
    if not coded:
        return None, [], None
    main = next((entry for entry in coded if entry[0]), coded[0])
    others = [code for _, code, _ in coded if code != main[1]]
    return main[1], others, main[2]


def read(message: Er7Message, header: Header) -> Adt:
    """The patient, the visit and the stay's values of an ADT message."""
    pid = _single(message, "PID", _l("patient identification"))
    pv1 = _single(message, "PV1", _l("patient visit"))
    zfm = message.one("ZFM")
    evn = message.one("EVN")
    visit_number = _required(pv1, 19, _l("visit number"))
    if len(visit_number) > 64:
        raise er7.error(er7.DATA_TYPE_ERROR, _l("PV1-19 (visit number) has at most %(n)d "
                                                "characters.", n=64), pv1.location(19))
    sex = pid.text(8).upper()[:1] or None
    family, given = _name(pid)
    adt = Adt(header=header, identifiers=_identifiers(pid), family_name=family,
              given_name=given, birth_date=_day(pid, 7), sex=sex, visit_number=visit_number)
    if header.trigger_event in (CANCEL_ADMIT, CANCEL_DISCHARGE):
        return adt  # the visit number says which stay; nothing else is taken from it
    values, sources = adt.values, adt.sources
    values["facility_name"] = header.facility_name or None
    values["facility_finess"] = header.facility_finess
    sources["facility_name"] = sources["facility_finess"] = message.msh.location(4)
    location = _location(pv1)
    if location:
        values["location"] = location
        sources["location"] = pv1.location(3)
    admitted = _moment(pv1, 44, _l("admit date/time"))
    if admitted is None and header.trigger_event == ADMIT:
        admitted = _moment(evn, 6, _l("event occurred")) or _moment(evn, 2, _l("recorded "
                                                                                "date/time"))
    if admitted is not None:
        values["admitted_at"] = admitted
    sources["admitted_at"] = pv1.location(44)
    mode = admission_mode(pv1, zfm)
    if mode is not None:
        values["admission_mode"] = mode.value
    sources["admission_mode"] = pv1.location(4)
    discharged = _moment(pv1, 45, _l("discharge date/time"))
    if discharged is None and header.trigger_event == DISCHARGE:
        discharged = _moment(evn, 6, _l("event occurred")) or _moment(evn, 2, _l(
            "recorded date/time"))
        if discharged is None:
            raise er7.error(er7.REQUIRED_FIELD_MISSING,
                            _l("PV1-45 (discharge date/time) is required in an A03."),
                            pv1.location(45))
    if discharged is not None:
        values["discharged_at"] = discharged
        place = destination(pv1, zfm)
        values["discharge_destination"] = place.value if place is not None else None
    sources["discharged_at"] = pv1.location(45)
    sources["discharge_destination"] = pv1.location(36)
    main, others, main_location = _diagnoses(message)
    if main is not None:
        values["main_diagnosis"] = main
        values["diagnoses"] = others
        sources["main_diagnosis"] = sources["diagnoses"] = main_location or Location("DG1")
    return adt
