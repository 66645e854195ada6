"""The example of docs/hl7.md does what the page says."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select

from coordinator.extensions import db
from coordinator.stays.models import Stay
from tests.factories import make_patient
from tests.hl7.conftest import code, send

DOC = Path(__file__).resolve().parents[2] / "docs" / "hl7.md"


def examples() -> list[str]:
    """The page's code blocks that are HL7 messages, as ER7 (segments separated by CR)."""
    blocks = re.findall(r"```\n(MSH\|.*?)```", DOC.read_text(), re.DOTALL)
    return ["\r".join(block.strip().split("\n")) + "\r" for block in blocks]


def test_the_documented_admission_and_discharge(app):
    _template, admission, answer, discharge = examples()
    patient = make_patient(nir="269059912345678", birth_date=date(1969, 5, 20), sex="F")
    assert code(send(admission)) == "AA"
    stay = db.session.scalar(select(Stay))
    assert stay.patient_id == patient.id and stay.external_id == "V2026-0042"
    assert stay.admitted_at == datetime(2026, 3, 5, 21, 10, tzinfo=UTC)
    assert (stay.admission_mode, stay.location, stay.main_diagnosis) == \
        ("emergency", "CARDIO 12 1", "I50.9")
    assert answer.split("\r")[1] == "MSA|AA|MSG000123"
    assert code(send(discharge)) == "AA"
    db.session.refresh(stay)
    assert stay.discharged_at == datetime(2026, 3, 12, 10, 0, tzinfo=UTC)
    assert stay.discharge_destination == "home"
    broken = send(discharge.replace("MSG000187", "MSG000188").replace("\rPV1|", "\rPV!|"),
                  locale="fr")
    documented = re.search(r"\n(MSA\|AE\|.*)\n", DOC.read_text()).group(1)
    assert documented.replace("MSG000187", "MSG000188") in \
        broken.ack_bytes().decode("latin-1").split("\r")


def test_the_openapi_example_is_the_documented_one():
    from coordinator.api import hl7v2

    _template, admission, answer, _discharge = examples()
    assert admission == hl7v2.ER7_EXAMPLE
    assert answer == hl7v2.ACK_EXAMPLE
