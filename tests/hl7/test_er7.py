"""Reading ER7 (with hl7apy) and MLLP framing, without the database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from coordinator.hl7 import ack, er7
from coordinator.hl7.er7 import Er7Message
from coordinator.hl7.mllp import Deframer, frame
from tests.hl7.conftest import adt

CHARS = {"FIELD": "|", "COMPONENT": "^", "SUBCOMPONENT": "&", "REPETITION": "~",
         "ESCAPE": "\\"}


def test_a_message_is_read_by_segment_field_component_and_subcomponent(app):
    message = Er7Message.parse(er7.normalise(adt("A01", ins="269059917800175")))
    assert message.version == "2.5"
    assert [segment.name for segment in message.segments] == ["MSH", "EVN", "PID", "PV1",
                                                              "ZBE"]
    msh = message.msh
    assert msh.text(4, 1) == "CH_DOUAI" and msh.text(4, 2) == "590000021"
    assert msh.text(9, 2) == "A01"
    pid = message.one("PID")
    local, ins = pid.repetitions(3)
    assert local.text(1) == "PAT123" and local.text(5) == "PI"
    assert ins.text(4, 2) == "1.2.250.1.213.1.4.8"
    assert message.one("PV1").text(19) == "V2026-0001"
    assert message.one("PV1").text(99) == ""


@pytest.mark.parametrize(("text", "value"), [
    ("20260305", date(2026, 3, 5)),
    ("202603052210", datetime(2026, 3, 5, 22, 10)),
    ("20260305221030", datetime(2026, 3, 5, 22, 10, 30)),
    ("20260305221030.25", datetime(2026, 3, 5, 22, 10, 30, 250000)),
    ("202603052210+0100", datetime(2026, 3, 5, 22, 10, tzinfo=timezone(timedelta(hours=1)))),
    ("20260305221000-0530", datetime(2026, 3, 5, 22, 10,
                                     tzinfo=timezone(-timedelta(hours=5, minutes=30)))),
    ("", None),
])
def test_timestamps(text, value):
    assert er7.timestamp(text) == value


@pytest.mark.parametrize("text", ["2026", "202603", "2026-03-05", "20261305", "2026030525",
                                  "202603052210+2500", "yesterday"])
def test_malformed_timestamps(text):
    with pytest.raises(ValueError):
        er7.timestamp(text)


def test_escapes_are_read_and_written():
    assert er7.unescape("O\\S\\BRIEN \\T\\ \\F\\ \\R\\ \\E\\ \\X41\\ a\\.br\\b \\H\\x\\N\\",
                        CHARS) == "O^BRIEN & | ~ \\ A a\nb x"
    text = "a | b ^ c & d ~ e \\ f\ng"
    assert er7.unescape(er7.escape(text, CHARS), CHARS) == text


def test_the_character_set_is_msh_18s():
    text = adt("A01", name="HÉLÈNE^ZOÉ")
    assert er7.decode(text.encode("latin-1")) == (text, "8859/1")
    utf8 = adt("A01", name="HÉLÈNE^ZOÉ", charset="UNICODE UTF-8").encode("utf-8")
    assert er7.decode(utf8)[0].count("HÉLÈNE") == 1
    # Not declared: UTF-8 when it is, else Latin-1.
    undeclared = adt("A01", name="HÉLÈNE", charset="")
    assert er7.decode(undeclared.encode("utf-8"))[1] == "UNICODE UTF-8"
    assert "HÉLÈNE" in er7.decode(undeclared.encode("latin-1"))[0]


def test_a_broken_segment_is_kept_with_its_place_and_the_header_is_read_all_the_same(app):
    message = Er7Message.parse(er7.normalise(adt("A01").replace("\rPV1|", "\rPV1^")))
    assert message.broken is not None
    assert message.broken.ack_code == "AE"
    assert message.msh.text(10).startswith("MSG")


def test_what_is_not_an_hl7_message_is_rejected(app):
    for text in ("", "hello", "MSH", "MSH|^~|x"):
        with pytest.raises(er7.Er7Error) as raised:
            Er7Message.parse(er7.normalise(text))
        assert raised.value.ack_code == "AR"


def test_an_ack_escapes_its_reason(app):
    answered = ack.Answered(control_id="X|1", trigger_event="A01")
    text = ack.build(answered, "AE", application="COORDINATOR", facility="COORDINATOR",
                     condition=er7.DATA_TYPE_ERROR, reason="bad | value ^ here",
                     location=er7.Location("PV1", 1, 44),
                     now=datetime(2026, 3, 5, 21, 15, tzinfo=UTC))
    msh, msa, err = text.rstrip("\r").split("\r")
    assert msh.split("|")[6] == "20260305221500+0100"
    assert msa == "MSA|AE|X\\F\\1|bad \\F\\ value \\S\\ here"
    assert err == ("ERR||PV1^1^44|102^Data type error^HL70357|E||||"
                   "bad \\F\\ value \\S\\ here")
    assert ack.code_of(text) == "AE"


# -- MLLP framing ------------------------------------------------------------------------------

def test_frames_are_found_whatever_the_chunks():
    stream = b"noise" + frame(b"MSH|one") + b"\r\n" + frame(b"MSH|two")
    for size in (1, 2, 3, 7, len(stream)):
        deframer = Deframer(1000)
        payloads = []
        for start in range(0, len(stream), size):
            payloads += [found.payload for found in deframer.feed(stream[start:start + size])]
        assert payloads == [b"MSH|one", b"MSH|two"], size


def test_an_unfinished_frame_is_dropped_when_another_starts():
    deframer = Deframer(1000)
    found = list(deframer.feed(b"\x0bMSH|half\x0bMSH|whole\x1c\x0d"))
    assert [f.payload for f in found] == [b"MSH|whole"]
    assert deframer.dropped == 1


def test_a_frame_too_large_is_marked_and_its_start_kept():
    deframer = Deframer(10)
    [found] = list(deframer.feed(frame(b"MSH|" + b"x" * 100)))
    assert found.too_large and found.payload.startswith(b"MSH|")
    [after] = list(deframer.feed(frame(b"MSH|ok")))
    assert not after.too_large and after.payload == b"MSH|ok"


def test_the_listener_takes_connections_from_the_allowed_networks_only(app):
    from coordinator.hl7.mllp import serve

    listener = serve(app, "127.0.0.1", 0, allowed=["10.20.0.0/16", "192.168.1.7"])
    try:
        assert listener.server_address[1] > 0
        assert listener.verify_request(None, ("10.20.3.4", 5000))
        assert listener.verify_request(None, ("192.168.1.7", 5000))
        assert not listener.verify_request(None, ("127.0.0.1", 5000))
    finally:
        listener.server_close()
    everyone = serve(app, "127.0.0.1", 0)
    try:
        assert everyone.verify_request(None, ("203.0.113.9", 5000))
    finally:
        everyone.server_close()


FIELD_TEXTS = [
    ("PID_3", "0000007^^^CH_DOUAI&590000021&M^PI"),
    ("PID_3", "248061234512345^^^ASIP-SANTE-INS-NIR&1.2.250.1.213.1.4.8&ISO^INS"),
    ("PID_5", "MARTIN^MARIE^^^^^L"), ("PID_5", "DUPONT\\S\\X^JEAN^PAUL^^^^L"),
    ("PV1_3", "CARDIO^12^1"), ("DG1_3", "I50.9^Insuffisance cardiaque^I10"),
    ("PID_3", "A\\T\\B^^^X&Y"), ("PV1_3", "^^^^"), ("PID_5", "  SPACE ^ X ^^^^^L"),
    ("PID_3", "QQ1QQ^^^QQ0QQ&x&y^PI"), ("ZBE_1", "MVT1^SIH"), ("PID_5", "O'NEIL&SUB^ANNE"),
    ("PV1_19", "V2026-0001"), ("PV1_19", "V\\F\\1"),
]


@pytest.mark.parametrize(("name", "text"), FIELD_TEXTS)
def test_a_field_read_by_its_shape_reads_as_hl7apy_parses_it(name, text):
    chars = ("|", "^", "&", "~", "\\")
    direct = er7._parsed_field(text, name, "2.5", chars)
    read = er7._field(text, name, "2.5", chars)
    for component in range(1, 8):
        for subcomponent in (None, 1, 2, 3):
            assert read.text(component, subcomponent) == \
                direct.text(component, subcomponent), (component, subcomponent)


@pytest.mark.parametrize("control_id", ["C1", "X|Y^Z&W~V\\Q", "ÉCOLE", "QQ3QQ"])
@pytest.mark.parametrize("text", ["", "a|b^c", "QQ2QQ"])
def test_the_filled_msa_is_the_segment_hl7apy_builds(control_id, text):
    for version in ("2.3", "2.5", "2.8"):
        escaped, reason = er7.escape(control_id, ack.DEFAULT_CHARS), \
            er7.escape(text, ack.DEFAULT_CHARS)
        built = ack._segment("MSA", {1: "AE", 2: escaped, 3: reason}, version)
        assert ack._filled(ack._msa(version, bool(reason)),
                           {1: "AE", 2: escaped, 3: reason}) == built
