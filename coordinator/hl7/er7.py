"""Reading an HL7 v2 message in its ER7 encoding (pipes and hats), with hl7apy.

hl7apy reads the header (`get_message_info`: the encoding characters, the message structure,
the version), knows which segments a version defines (a segment that is neither one of them nor
a `Z` segment is a broken segment), and parses each field we read into its datatype's
components (`parse_field`, validation level *tolerant*: real-world messages carry fields,
lengths and table values the standard does not list, and that is no reason to refuse them).
Fields are parsed when first read, once per message: a message is read in a few milliseconds
whatever its other segments (ROL, NK1, IN1, ZBE, ZFP...), which are checked by name only.

What hl7apy leaves to us in tolerant mode is checked here or by the mapping (`adt.py`): text
values are unescaped (`\\F\\`, `\\S\\`, `\\T\\`, `\\R\\`, `\\E\\`, `\\Xhh\\`...), dates and times
are parsed (`timestamp`), and any problem is an `Er7Error` carrying the acknowledgment code, the
HL7 error condition (table 0357) and where it was found (segment, occurrence, field,
component), which the ACK's ERR segment reports.

Real-world tolerance: segments may end with CR, LF or CRLF; trailing empty lines and spaces
are ignored; the character set is MSH-18's (`8859/1`, as in the French extension, `UNICODE
UTF-8`...), else UTF-8, else Latin-1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from flask_babel import lazy_gettext as _l
from hl7apy import find_reference
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.core import Segment as Hl7Segment
from hl7apy.exceptions import ChildNotFound, HL7apyException, InvalidName, UnsupportedVersion
from hl7apy.parser import get_message_info, parse_field

# HL7 table 0008, acknowledgment codes.
ACCEPTED = "AA"
ERROR = "AE"
REJECTED = "AR"

# HL7 table 0357, message error condition codes (the ones this feed answers).
SEGMENT_SEQUENCE_ERROR = "100"
REQUIRED_FIELD_MISSING = "101"
DATA_TYPE_ERROR = "102"
TABLE_VALUE_NOT_FOUND = "103"
UNSUPPORTED_MESSAGE_TYPE = "200"
UNSUPPORTED_EVENT_CODE = "201"
UNSUPPORTED_PROCESSING_ID = "202"
UNSUPPORTED_VERSION_ID = "203"
UNKNOWN_KEY_IDENTIFIER = "204"
DUPLICATE_KEY_IDENTIFIER = "205"
APPLICATION_RECORD_LOCKED = "206"
APPLICATION_INTERNAL_ERROR = "207"

CONDITION_NAMES = {
    SEGMENT_SEQUENCE_ERROR: "Segment sequence error",
    REQUIRED_FIELD_MISSING: "Required field missing",
    DATA_TYPE_ERROR: "Data type error",
    TABLE_VALUE_NOT_FOUND: "Table value not found",
    UNSUPPORTED_MESSAGE_TYPE: "Unsupported message type",
    UNSUPPORTED_EVENT_CODE: "Unsupported event code",
    UNSUPPORTED_PROCESSING_ID: "Unsupported processing id",
    UNSUPPORTED_VERSION_ID: "Unsupported version id",
    UNKNOWN_KEY_IDENTIFIER: "Unknown key identifier",
    DUPLICATE_KEY_IDENTIFIER: "Duplicate key identifier",
    APPLICATION_RECORD_LOCKED: "Application record locked",
    APPLICATION_INTERNAL_ERROR: "Application internal error",
}

TOLERANT = VALIDATION_LEVEL.TOLERANT
SEGMENT_NAME = re.compile(r"^[A-Z][A-Z0-9]{2}$")
CHARSETS = {
    "ASCII": "ascii",
    "8859/1": "latin-1",
    "8859/15": "iso-8859-15",
    "UNICODE UTF-8": "utf-8",
    "UTF-8": "utf-8",
    "UNICODE": "utf-8",
}
DEFAULT_CHARSET = "UNICODE UTF-8"


@dataclass(frozen=True)
class Location:
    """Where a problem is: segment id, its occurrence (1 for the first PV1), field, component
    (the ERR-2 "error location", type ERL)."""

    segment: str
    sequence: int = 1
    field: int | None = None
    component: int | None = None

    def er7(self) -> str:
        parts = [self.segment, str(self.sequence),
                 "" if self.field is None else str(self.field), "",
                 "" if self.component is None else str(self.component)]
        return "^".join(parts).rstrip("^")

    def __str__(self) -> str:
        text = self.segment if self.sequence == 1 else f"{self.segment}[{self.sequence}]"
        if self.field is not None:
            text += f"-{self.field}"
        if self.component is not None:
            text += f".{self.component}"
        return text


class Er7Error(Exception):
    """A message, or part of it, that cannot be taken: `ack_code` AE or AR, the error
    condition (table 0357), a reason for people, and where."""

    def __init__(self, ack_code: str, condition: str, reason: Any,
                 location: Location | None = None):
        super().__init__(str(reason))
        self.ack_code = ack_code
        self.condition = condition
        self.reason = reason
        self.location = location


def rejected(condition: str, reason: Any, location: Location | None = None) -> Er7Error:
    return Er7Error(REJECTED, condition, reason, location)


def error(condition: str, reason: Any, location: Location | None = None) -> Er7Error:
    return Er7Error(ERROR, condition, reason, location)


# -- Bytes and text ----------------------------------------------------------------------------

_MSH_18 = re.compile(rb"^MSH(.)")


def charset_of(data: bytes) -> str:
    """MSH-18 of a message's bytes (read before decoding: the header is ASCII), or ''."""
    header = data.lstrip().split(b"\r", 1)[0].split(b"\n", 1)[0]
    match = _MSH_18.match(header)
    if match is None:
        return ""
    fields = header.split(match.group(1))
    if len(fields) <= 17:
        return ""
    return fields[17].split(b"^", 1)[0].split(b"~", 1)[0].decode("ascii", "replace").strip()


def python_codec(charset: str) -> str | None:
    return CHARSETS.get(charset.strip().upper()) if charset else None


def decode(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """The message's text and the HL7 name of the character set it was read with: MSH-18's,
    else (or when the bytes do not match it) `declared` (an HTTP charset), else UTF-8, else
    Latin-1 (every byte is a Latin-1 character)."""
    charset = charset_of(data)
    candidates = [(charset, python_codec(charset))]
    if declared:
        candidates.append((declared, declared))
    candidates += [(DEFAULT_CHARSET, "utf-8"), ("8859/1", "latin-1")]
    for name, codec in candidates:
        if not codec:
            continue
        try:
            return data.decode(codec), name
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("latin-1"), "8859/1"  # pragma: no cover - Latin-1 decodes every byte


# Typographic characters of French texts that 8859/1 lacks, written as their plain forms.
_PLAIN = str.maketrans({"’": "'", "\u2018": "'", "“": '"', "”": '"', "\u2013": "-",
                        "\u2014": "-", "…": "...", "\u202f": " ", "œ": "oe", "Œ": "OE"})


def encode(text: str, charset: str) -> bytes:
    """An answer in the character set of the message it answers (typographic characters it
    lacks in their plain forms, any other replaced by '?')."""
    codec = python_codec(charset) or "utf-8"
    if codec != "utf-8":
        text = text.translate(_PLAIN)
    return text.encode(codec, "replace")


def normalise(text: str) -> str:
    """Segments separated by CR alone, no blank line, no leading or trailing space."""
    lines = re.split(r"\r\n|\r|\n", text.strip())
    return "\r".join(line for line in (line.rstrip() for line in lines) if line)


_ESCAPE_CODES = {"F": "FIELD", "S": "COMPONENT", "T": "SUBCOMPONENT", "R": "REPETITION",
                 "E": "ESCAPE"}


def unescape(text: str, encoding_chars: dict) -> str:
    """The text an ER7 value stands for: `\\F\\`, `\\S\\`, `\\T\\`, `\\R\\`, `\\E\\` become their
    delimiter, `\\Xhh..\\` its characters, `\\.br\\` a new line; highlighting and character-set
    escapes (`\\H\\`, `\\N\\`, `\\C..\\`, `\\M..\\`) are dropped."""
    escape = encoding_chars["ESCAPE"]
    if escape not in text:
        return text
    pattern = re.escape(escape) + r"([^" + re.escape(escape) + r"]*)" + re.escape(escape)

    def replace(match: re.Match) -> str:
        code = match.group(1)
        if code in _ESCAPE_CODES:
            return encoding_chars[_ESCAPE_CODES[code]]
        if code.startswith("X") and re.fullmatch(r"X(?:[0-9A-Fa-f]{2})+", code):
            return bytes.fromhex(code[1:]).decode("latin-1")
        if code == ".br":
            return "\n"
        return ""

    return re.sub(pattern, replace, text)


def escape(text: str, encoding_chars: dict) -> str:
    """A text made safe for an ER7 field (the inverse of `unescape`; new lines → `\\.br\\`)."""
    esc = encoding_chars["ESCAPE"]
    out = text.replace(esc, f"{esc}E{esc}")
    for code in ("F", "S", "T", "R"):
        out = out.replace(encoding_chars[_ESCAPE_CODES[code]], f"{esc}{code}{esc}")
    newline = f"{esc}.br{esc}"
    return re.sub(r"\r\n|\r|\n", lambda _match: newline, out)


# -- Dates and times (DTM / TS) ----------------------------------------------------------------

_DTM = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,4}))?"
                  r"([+-]\d{4})?$")


def timestamp(text: str) -> date | datetime | None:
    """A DTM value (`YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]`): a date when it stops at the
    day, a datetime when it gives the time (aware when it gives an offset, naive otherwise:
    the mapping takes it as Europe/Paris time). None when empty; ValueError when malformed or
    less precise than a day."""
    text = text.strip()
    if not text:
        return None
    match = _DTM.match(text)
    if match is None:
        raise ValueError(text)
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    if month is None or day is None:
        raise ValueError(text)  # a month or a year is not a moment of a stay
    if hour is None:
        return date(int(year), int(month), int(day))
    zone = None
    if offset:
        hours, minutes = int(offset[1:3]), int(offset[3:5])
        if hours > 14 or minutes > 59:
            raise ValueError(text)
        delta = timedelta(hours=hours, minutes=minutes)
        zone = timezone(delta if offset[0] == "+" else -delta)
    micro = int((fraction or "0").ljust(6, "0")[:6])
    return datetime(int(year), int(month), int(day), int(hour), int(minute or 0),
                    int(second or 0), micro, tzinfo=zone)


# -- Segments and fields ----------------------------------------------------------------------

@lru_cache(maxsize=512)
def _known_segment(name: str, version: str) -> bool:
    """Whether hl7apy's library of this version defines the segment (Z segments are local)."""
    if name.startswith("Z"):
        return True
    try:
        find_reference(name, (Hl7Segment,), version)
    except (ChildNotFound, InvalidName):
        return False
    return True


_CHAR_KEYS = ("FIELD", "COMPONENT", "SUBCOMPONENT", "REPETITION", "ESCAPE")


_TOKEN = re.compile(r"QQ(\d+)QQ")  # a value's place in a field's shape (no delimiter in it)


@lru_cache(maxsize=64)
def _values_of(component: str, subcomponent: str) -> re.Pattern[str]:
    return re.compile(f"[^{re.escape(component)}{re.escape(subcomponent)}]+")


def _field(text: str, name: str, version: str, chars: tuple[str, ...]
           ) -> Field | PlainField | ShapedField:
    """A repetition's text ready to be read. A text without component, subcomponent or escape
    characters (a visit number, a control id, a time, a code: most of what differs from one
    message to the next) is its own first component, and hl7apy parses it only if a
    subcomponent of it is read. Any other is parsed by hl7apy by its shape: its delimiters,
    each value in between replaced by a token (`PAT1^^^CH&590000021&M^PI` is `QQ0QQ^^^QQ1QQ&
    QQ2QQ&QQ3QQ^QQ4QQ`). hl7apy places the components and subcomponents by the delimiters
    alone, so the shape's tree is the text's; a sender's identifiers and names recur with the
    same shape from message to message, and the shape is parsed once (`_parsed_field`)."""
    if chars[1] not in text and chars[2] not in text and chars[4] not in text:
        return PlainField(text, name, version, chars)
    values: list[str] = []

    def token(found: re.Match[str]) -> str:
        values.append(found.group(0))
        return f"QQ{len(values) - 1}QQ"

    shape = _values_of(chars[1], chars[2]).sub(token, text)
    return ShapedField(_parsed_field(shape, name, version, chars), values)


@lru_cache(maxsize=4096)
def _parsed_field(text: str, name: str, version: str, chars: tuple[str, ...]) -> Field:
    """A field's text parsed by hl7apy, once: the same text of the same field (a facility, a
    message type, a ward, a diagnosis) recurs from message to message, and what is read of it
    is read only (`Field` keeps what it has read)."""
    encoding_chars = dict(zip(_CHAR_KEYS, chars, strict=True))
    encoding_chars.update(SEGMENT="\r", GROUP="\r")
    element = parse_field(text, name=name, version=version, encoding_chars=encoding_chars,
                          validation_level=TOLERANT, force_varies=True)
    return Field(element, encoding_chars)


class Field:
    """One repetition of a field, parsed by hl7apy, read by component and subcomponent (each
    text read once: parsed fields are shared by the messages that carry the same text)."""

    def __init__(self, element: Any, encoding_chars: dict):
        self._element = element
        self._chars = self.chars = encoding_chars
        self._texts: dict[tuple[int, int | None], str] = {}
        self._raws: dict[tuple[int, int | None], str] = {}

    @staticmethod
    def _child(element: Any, position: int) -> Any:
        """The child at a position: by its name (`CX_4`, `HD_2`) in a typed element, in order
        in an untyped one (a Z segment's field, a text with delimiters)."""
        children = element.children
        datatype = element.datatype
        named = datatype is not None and any("_" in (child.name or "") for child in children)
        if named:
            wanted = f"{datatype}_{position}"
            return next((child for child in children if child.name == wanted), None)
        return children[position - 1] if position <= len(children) else None

    def text(self, component: int = 1, subcomponent: int | None = None) -> str:
        """The unescaped text of a component (or of one of its subcomponents), '' when
        absent."""
        key = (component, subcomponent)
        if key not in self._texts:
            self._texts[key] = unescape(self.raw(component, subcomponent), self._chars).strip()
        return self._texts[key]

    def raw(self, component: int = 1, subcomponent: int | None = None) -> str:
        """A component's (a subcomponent's) ER7 text as it is, '' when absent."""
        key = (component, subcomponent)
        if key not in self._raws:
            part = self._child(self._element, component)
            if part is not None and subcomponent is not None:
                part = self._child(part, subcomponent) if part.children else None
            self._raws[key] = "" if part is None else part.to_er7(encoding_chars=self._chars)
        return self._raws[key]


class ShapedField:
    """A repetition read through its shape parsed by hl7apy (`_field`): the shape's component
    (subcomponent) with its tokens put back to the values, then unescaped."""

    def __init__(self, shape: Field, values: list[str]):
        self._shape = shape
        self._values = values

    def text(self, component: int = 1, subcomponent: int | None = None) -> str:
        raw = self._shape.raw(component, subcomponent)
        if not raw:
            return ""
        text = _TOKEN.sub(lambda token: self._values[int(token.group(1))], raw)
        return unescape(text, self._shape.chars).strip()


class PlainField:
    """A repetition with no component, subcomponent nor escape character: its text is its
    first component (what hl7apy reads of it too); its other components are empty. Reading a
    subcomponent depends on the field's datatype (a composite component has the text as its
    first subcomponent, a primitive one has none): that is hl7apy's to say, parsed then."""

    def __init__(self, text: str, name: str, version: str, chars: tuple[str, ...]):
        self._text = text
        self._key = (name, version, chars)

    def text(self, component: int = 1, subcomponent: int | None = None) -> str:
        if component != 1:
            return ""
        if subcomponent is None:
            return self._text.strip()
        return _parsed_field(self._text, *self._key).text(component, subcomponent)


class Segment:
    """One segment: its id, its occurrence number in the message, its raw fields."""

    def __init__(self, message: Er7Message, name: str, sequence: int, fields: list[str]):
        self.message = message
        self.name = name
        self.sequence = sequence
        self._fields = fields  # _fields[n] is field n (MSH: n counted as the standard does)
        self._parsed: dict[int, list[Field | PlainField | ShapedField]] = {}

    def location(self, field: int | None = None, component: int | None = None) -> Location:
        return Location(self.name, self.sequence, field, component)

    def raw(self, number: int) -> str:
        return self._fields[number] if number < len(self._fields) else ""

    def repetitions(self, number: int) -> list[Field | PlainField | ShapedField]:
        """The repetitions of field `number`, parsed by hl7apy (an empty list when empty)."""
        if number not in self._parsed:
            self._parsed[number] = self._parse(number)
        return self._parsed[number]

    def _parse(self, number: int) -> list[Field | PlainField | ShapedField]:
        text = self.raw(number)
        if not text:
            return []
        chars = self.message.encoding_chars
        key = tuple(chars[name] for name in _CHAR_KEYS)
        name = f"{self.name}_{number}"
        fields = []
        for repetition in text.split(chars["REPETITION"]):
            if not repetition:
                continue
            try:
                fields.append(_field(repetition, name, self.message.version, key))
            except HL7apyException as failure:
                raise error(DATA_TYPE_ERROR, _l("This field cannot be read: %(problem)s.",
                                                 problem=str(failure)),
                            self.location(number)) from failure
        return fields

    def first(self, number: int) -> Field | PlainField | ShapedField | None:
        repetitions = self.repetitions(number)
        return repetitions[0] if repetitions else None

    def text(self, number: int, component: int = 1, subcomponent: int | None = None) -> str:
        """The unescaped text of the first repetition's component, '' when absent."""
        first = self.first(number)
        return first.text(component, subcomponent) if first is not None else ""


class Er7Message:
    """A message split into its segments (hl7apy read the header and knows the segments)."""

    def __init__(self, text: str, encoding_chars: dict, version: str, structure: str | None,
                 segments: list[Segment]):
        self.text = text
        self.encoding_chars = encoding_chars
        self.version = version
        self.structure = structure
        self.segments = segments
        self.broken: Er7Error | None = None

    def all(self, name: str) -> list[Segment]:
        return [segment for segment in self.segments if segment.name == name]

    def one(self, name: str) -> Segment | None:
        found = self.all(name)
        return found[0] if found else None

    @property
    def msh(self) -> Segment:
        return self.segments[0]

    @classmethod
    def parse(cls, text: str) -> Er7Message:
        """Split a message (normalised text) into segments. A missing or unreadable MSH, or an
        unsupported version, is rejected (AR, raised); a segment that is not a segment of the
        version (nor a Z segment) is an error (AE) at that segment, kept in `broken` (the
        header is read all the same, to answer it)."""
        if not text.startswith("MSH") or len(text) < 8:
            raise rejected(SEGMENT_SEQUENCE_ERROR,
                           _l("This is not an HL7 v2 message: it must start with an MSH "
                              "segment."), Location("MSH"))
        try:
            encoding_chars, structure, version = get_message_info(text)
        except HL7apyException as failure:
            raise rejected(DATA_TYPE_ERROR, _l("The MSH segment cannot be read (field "
                                               "separator and encoding characters): "
                                               "%(problem)s.", problem=str(failure)),
                           Location("MSH", 1, 2)) from failure
        delimiters = [encoding_chars[key] for key in
                      ("FIELD", "COMPONENT", "SUBCOMPONENT", "REPETITION", "ESCAPE")]
        if len(set(delimiters)) < 5 or any(char.isalnum() or char.isspace()
                                           for char in delimiters):
            raise rejected(DATA_TYPE_ERROR, _l("The encoding characters of MSH-1 and MSH-2 "
                                               "are not valid."), Location("MSH", 1, 2))
        version = (version or "").strip()
        try:
            if not version:
                raise UnsupportedVersion(version)
            find_reference("MSH", (Hl7Segment,), version)
        except (UnsupportedVersion, ChildNotFound, InvalidName) as failure:
            raise rejected(UNSUPPORTED_VERSION_ID,
                           _l("HL7 version %(version)s is not supported: send version 2.5 "
                              "(2.3 to 2.8 are read too).", version=version or "?"),
                           Location("MSH", 1, 12)) from failure
        message = cls(text, encoding_chars, version, structure, [])
        separator = encoding_chars["FIELD"]
        counts: dict[str, int] = {}
        for index, line in enumerate(text.split("\r")):
            name, rest = line[:3], line[3:]
            if (rest and not rest.startswith(separator)) or not SEGMENT_NAME.match(name) or \
                    not _known_segment(name, version):
                head = line.split(separator, 1)[0]
                shown = head[:12] + ("…" if len(head) > 12 else "")
                message.broken = error(
                    SEGMENT_SEQUENCE_ERROR,
                    _l("Segment %(number)d (%(text)s) is not an HL7 v2 segment.",
                       number=index + 1, text=shown),
                    Location(name if SEGMENT_NAME.match(name) else "???",
                             counts.get(name, 0) + 1))
                break
            if index > 0 and name == "MSH":
                message.broken = error(SEGMENT_SEQUENCE_ERROR,
                                       _l("A second MSH segment: send one message at a "
                                          "time."), Location("MSH", 2))
                break
            counts[name] = counts.get(name, 0) + 1
            fields = rest.split(separator)  # fields[0] is '' (before the first separator)
            if name == "MSH":
                # MSH-1 is the field separator itself: MSH-2 is the first text after it.
                fields = ["", separator, *fields[1:]]
            message.segments.append(Segment(message, name, counts[name], fields))
        return message
