"""The acknowledgment of a message (HL7 v2.5 original mode), built with hl7apy (its MSH once
per sender and event, its MSA once per version, each then filled with the message's values).

    MSH|^~\\&|COORDINATOR|COORDINATOR|<MSH-3>|<MSH-4>|<now, Paris, with offset>||ACK^<event>^ACK|
        <ACK id>|P|2.5|||||<MSH-18>
    MSA|<AA, AE or AR>|<the message's MSH-10>|<reason>
    ERR||<segment^sequence^field^^component>|<condition^name^HL70357>|E||||<reason>

MSA-1: AA accepted (applied, or held in the reconciliation list); AE error in the content (a
broken segment, a missing or malformed field, a rule of the stays refused it: nothing applied);
AR rejected (not an ADT message of a supported event, version or processing id; or the registry
could not process it then — database unavailable, internal error — and the sender may send it
again). AE and AR carry the reason in ERR (ERR-8, user message; MSA-3 repeats it for the
systems that read only MSA).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from hl7apy.core import Segment

from coordinator.core.time import PARIS, utcnow
from coordinator.hl7 import er7
from coordinator.hl7.er7 import Location

DEFAULT_CHARS = {"FIELD": "|", "COMPONENT": "^", "SUBCOMPONENT": "&", "REPETITION": "~",
                 "ESCAPE": "\\", "SEGMENT": "\r", "GROUP": "\r"}
MAX_REASON = 500
SUPPORTED_VERSIONS = ("2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.8")


@dataclass
class Answered:
    """What the ACK answers: the message's header as far as it could be read."""

    control_id: str = ""
    sending_application: str = ""
    sending_facility: str = ""
    trigger_event: str = ""
    version: str = "2.5"
    processing_id: str = "P"
    charset: str = ""


def _segment(name: str, values: dict[int, str], version: str) -> str:
    segment = Segment(name, version=version, validation_level=er7.TOLERANT)
    if name == "MSH":
        segment.msh_1 = DEFAULT_CHARS["FIELD"]
        segment.msh_2 = "^~\\&"
    for number, value in sorted(values.items()):
        if value:
            setattr(segment, f"{name.lower()}_{number}", value)
    return segment.to_er7(encoding_chars=DEFAULT_CHARS)


@lru_cache(maxsize=256)
def _header(application: str, facility: str, sending_application: str, sending_facility: str,
            message_type: str, processing_id: str, version: str, charset: str) -> list[str]:
    """The MSH of the ACKs answering one sender's messages of one event, built by hl7apy once:
    its fields, MSH-7 and MSH-10 (the instant and the ACK's own id) left to fill."""
    msh = _segment("MSH", {
        3: er7.escape(application, DEFAULT_CHARS),
        4: er7.escape(facility, DEFAULT_CHARS),
        5: sending_application.replace("|", "\\F\\"),  # sent back as received (ER7)
        6: sending_facility.replace("|", "\\F\\"),
        9: message_type,
        11: processing_id,
        12: version,
        18: charset,
    }, version)
    return msh.split("|")


_SLOT = "QQ{}QQ"  # a field's place in a segment built once (no delimiter: kept as is)


@lru_cache(maxsize=64)
def _msa(version: str, with_text: bool) -> str:
    """The MSA segment built by hl7apy once per version, its fields as slots to fill."""
    return _segment("MSA", {1: _SLOT.format(1), 2: _SLOT.format(2),
                            3: _SLOT.format(3) if with_text else ""}, version)


_SLOTS = re.compile(r"QQ(\d)QQ")


def _filled(segment: str, values: dict[int, str]) -> str:
    """The slots replaced in one pass (a value is never read as a slot)."""
    return _SLOTS.sub(lambda slot: values[int(slot.group(1))], segment)


def build(answered: Answered, code: str, *, application: str, facility: str,
          condition: str | None = None, reason: str | None = None,
          location: Location | None = None, now: datetime | None = None) -> str:
    """The ACK (ER7, segments separated by CR) of a message."""
    version = answered.version if answered.version in SUPPORTED_VERSIONS else "2.5"
    moment = (now or utcnow()).astimezone(PARIS)
    text = er7.escape(reason[:MAX_REASON], DEFAULT_CHARS) if reason else ""
    event = answered.trigger_event if answered.trigger_event.isalnum() else ""
    fields = list(_header(application, facility, answered.sending_application,
                          answered.sending_facility, f"ACK^{event}^ACK" if event else "ACK",
                          answered.processing_id if answered.processing_id.isalpha() else "P",
                          version, answered.charset))
    fields += [""] * (11 - len(fields))
    fields[6] = moment.strftime("%Y%m%d%H%M%S%z")  # MSH-7 (MSH-1 is the separator itself)
    fields[9] = "ACK" + moment.strftime("%Y%m%d%H%M%S") + secrets.token_hex(4).upper()
    control_id = er7.escape(answered.control_id, DEFAULT_CHARS)
    msa = _filled(_msa(version, bool(text)), {1: code, 2: control_id, 3: text}) \
        if code and control_id else \
        _segment("MSA", {1: code, 2: control_id, 3: text}, version)
    segments = ["|".join(fields), msa]
    if code != er7.ACCEPTED:
        name = er7.CONDITION_NAMES.get(condition or "", "")
        segments.append(_segment("ERR", {
            2: location.er7() if location is not None else "",
            3: f"{condition}^{name}^HL70357" if condition else "",
            4: "E",
            8: text,
        }, version))
    return "\r".join(segments) + "\r"


def code_of(ack: str) -> str:
    """MSA-1 of an ACK (for tests and the benchmark)."""
    for line in ack.replace("\n", "\r").split("\r"):
        if line.startswith("MSA|"):
            return line.split("|")[1]
    return ""
