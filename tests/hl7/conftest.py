"""Helpers of the HL7 tests: ADT messages as a hospital sends them (IHE PAM, French extension),
and the senders (the MLLP listener, integration accounts)."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from flask_babel import force_locale

from coordinator.auth import services as auth_services
from coordinator.core.context import Actor
from coordinator.extensions import db
from coordinator.hl7 import ack, inbox, services
from coordinator.hl7.services import Sender, Settings
from tests.factories import make_nir, make_patient

INS_OID = "1.2.250.1.213.1.4.8"
FINESS = "590000021"  # Centre hospitalier de Douai (a FINESS of the Nord, shape-valid)
_control = itertools.count(1)


def control_id() -> str:
    return f"MSG{next(_control):06d}"


def adt(event: str = "A01", *, control: str | None = None, ins: str | None = None,
        local_id: str | None = "PAT123", visit: str = "V2026-0001",
        admitted: str = "202603052210", discharged: str = "", admission_type: str = "U",
        admit_source: str = "", disposition: str = "", location: str = "CARDIO^12^1",
        diagnoses: tuple = (), facility: str = f"CH_DOUAI^{FINESS}^M",
        application: str = "SIH_DOUAI", name: str = "MARTIN^MARIE^^^^^L",
        birth: str = "19690520", sex: str = "F", version: str = "2.5^FRA^2.10",
        processing: str = "P", charset: str = "8859/1", extra: tuple = (),
        structure: str | None = None, separator: str = "\r") -> str:
    """An ADT message, ER7, its segments separated by CR."""
    structure = structure or {"A02": "ADT_A02", "A03": "ADT_A03", "A11": "ADT_A09"}.get(
        event, "ADT_A01")
    identifiers = []
    if local_id:
        identifiers.append(f"{local_id}^^^CH_DOUAI&{FINESS}&M^PI")
    if ins:
        identifiers.append(f"{ins}^^^ASIP-SANTE-INS-NIR&{INS_OID}&ISO^INS")
    pv1 = [""] * 46
    pv1[2] = "I"
    pv1[3] = location
    pv1[4] = admission_type
    pv1[14] = admit_source
    pv1[19] = visit
    pv1[36] = disposition
    pv1[44] = admitted
    pv1[45] = discharged
    control = control_id() if control is None else control
    segments = [
        f"MSH|^~\\&|{application}|{facility}|COORDINATOR|ARS|20260305221500+0100||"
        f"ADT^{event}^{structure}|{control}|{processing}|{version}||||||{charset}",
        f"EVN||20260305221500||||{admitted}",
        f"PID|||{'~'.join(identifiers)}||{name}||{birth}|{sex}",
        "PV1|" + "|".join(pv1[1:]),
        "ZBE|MVT1^SIH|20260305221000||INSERT|N",
    ]
    for position, (code, priority) in enumerate(diagnoses, start=1):
        segments.append(f"DG1|{position}||{code}^^I10||20260305|F|||||||||{priority}")
    segments.extend(extra)
    return separator.join(segments) + separator


def ins_of(patient) -> str:
    return patient.nir


def hospital_patient(**overrides):
    """A patient of the Douaisis with an INS (qualified identity) and the hospital's own
    identifier as external id."""
    birth = overrides.pop("birth_date", date(1969, 5, 20))
    return make_patient(birth_date=birth, sex=overrides.pop("sex", "F"),
                        nir=overrides.pop("nir", make_nir("F", birth)),
                        birth_name=overrides.pop("birth_name", "Martin"), **overrides)


MLLP_SENDER = Sender.listener("127.0.0.1")
SETTINGS = Settings()


def send(message: str | bytes, sender: Sender = MLLP_SENDER, locale: str = "en"):
    """Receive a message as the listener does (committed), return the receipt; its texts in
    English (the listener answers in the instance's language, French by default)."""
    with force_locale(locale):
        return inbox.process(db.session, message, sender, SETTINGS)


def code(receipt) -> str:
    return ack.code_of(receipt.ack)


@pytest.fixture
def integration(make_user):
    return make_user(role="integration", territory_code=None)


@pytest.fixture
def token(session):
    """`token(user)`: a fresh bearer token of `user`."""

    def issue(user) -> str:
        issued = auth_services.issue_token(session, user, Actor.system("test"))
        session.commit()
        return issued.secret

    return issue


__all__ = ["adt", "code", "control_id", "hospital_patient", "send", "services"]
