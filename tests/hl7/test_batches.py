"""The MLLP listener's batches (`inbox.process_many`): messages that arrived on several
connections at once are received together and committed once, and each gets exactly what it
would have had alone. The same scenario is played twice on two sets of patients of one
registry, one message at a time and in batches; the two outcomes (ACKs, kept messages, stays
with their readmission links and LACE, tasks, audit entries) must be the same, message for
message and patient for patient. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from flask_babel import force_locale
from sqlalchemy import func, select

from coordinator.audit import chain
from coordinator.audit.models import AuditEntry
from coordinator.extensions import db
from coordinator.hl7 import ack, inbox
from coordinator.hl7.models import Hl7Message
from coordinator.stays.models import Stay
from coordinator.tasks.models import Task
from tests.factories import make_nir
from tests.hl7.conftest import MLLP_SENDER, SETTINGS, adt, hospital_patient

NOW = datetime.now(UTC).replace(second=0, microsecond=0)


def at(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).strftime("%Y%m%d%H%M+0000")


def scenario(prefix: str, case_manager_id: int, first_order: int) -> tuple[list[list[str]],
                                                                        list]:
    """Rounds of messages (a round is what arrives at once) about fresh patients: every
    path of a message (applied in a batch, found otherwise, waiting for reconciliation,
    broken, refused, resent, cancelled, entangled with another of its batch)."""
    birth = date(1969, 5, 20)
    p = [hospital_patient(birth_name=f"{prefix}{n}", external_id=f"{prefix}-LOCAL-{n}",
                          birth_date=birth, nir=make_nir("F", birth, order=first_order + n),
                          case_manager_id=case_manager_id if n in (0, 1) else None)
         for n in range(5)]
    stranger_ins = make_nir("F", birth, order=first_order + 9)  # of no record

    def msg(event: str, n: int | None, visit: str, control: str, **fields) -> str:
        ins = p[n].nir if n is not None else stranger_ins
        return adt(event, control=f"{prefix}-{control}", ins=ins if fields.pop("with_ins", True)
                   else None, local_id=f"{prefix}-LOCAL-{n}" if n is not None else None,
                   visit=f"{prefix}-{visit}", name=f"{prefix}{n}^MARIE^^^^^L", **fields)

    first = msg("A01", 1, "V1", "C01", admitted=at(20), admission_type="R")
    rounds = [
        [msg("A01", 0, "V0", "C00", admitted=at(12), diagnoses=(("I50.9", "1"),
                                                                ("E11.9", "2"))),
         first,
         msg("A01", None, "V9", "C02", admitted=at(12)),  # no record: reconciliation
         msg("A01", 2, "V2", "C03", admitted=at(11), with_ins=False),  # by local id
         msg("A01", 3, "V3", "C04", admitted=at(10), discharged=at(11)),  # refused
         msg("A01", 4, "V4", "C05", admitted=at(9), extra=("QQQ|broken",)),  # broken
         "this is not HL7"],
        [msg("A03", 0, "V0", "C10", admitted=at(12), discharged=at(8), disposition="01"),
         msg("A03", 1, "V1", "C11", admitted=at(20), discharged=at(15),
             disposition="01"),
         first,  # resent: its first answer, nothing changed
         msg("A11", 2, "V2", "C12", with_ins=False),
         msg("A01", 4, "V4", "C13", admitted=at(9)),
         msg("A01", 3, "V3", "C14", admitted=at(10), location="CARDIO^1^1")],
        [msg("A01", 0, "V0B", "C20", admitted=at(3)),  # an emergency readmission
         msg("A08", 1, "V1", "C21", admitted=at(20), location="MED^3^1"),
         msg("A03", 1, "V1", "C22", admitted=at(20), discharged=at(14),
             disposition="01"),  # the same record twice in the round
         msg("A03", 4, "V4", "C23", admitted=at(9), discharged=at(2), disposition="20"),
         msg("A13", 3, "V3", "C24")],
        [msg("A03", 0, "V0B", "C30", admitted=at(3), discharged=at(1), disposition="01"),
         msg("A03", 0, "V0B", "C30", admitted=at(3), discharged=at(1),
             disposition="01"),  # the same message twice at once
         msg("A11", 3, "V3", "C32")],
        [msg("A01", 2, "V2", "C31", admitted=at(11), with_ins=False),  # restored
         msg("A01", 3, "V3", "C33", admitted=at(10)),  # restored, found by its INS
         msg("A08", 0, "V0B", "C34", admitted=at(3), discharged=at(1), disposition="01",
             location="MED^9^9")],
    ]
    return rounds, p


def snapshot(prefix: str, receipts, patients) -> dict:
    """What a user sees of the scenario, without ids (the two plays' ids differ)."""
    stays = list(db.session.scalars(select(Stay).where(Stay.patient_id.in_(
        [patient.id for patient in patients])).order_by(Stay.external_id)))
    names = {stay.id: stay.external_id.removeprefix(prefix) for stay in stays}
    who = {patient.id: n for n, patient in enumerate(patients)}
    kept = {message.control_id.removeprefix(prefix): (message.status, message.ack_code,
                                                      message.error,
                                                      message.reconciliation_reason,
                                                      who.get(message.patient_id),
                                                      names.get(message.stay_id),
                                                      message.territory_id)
            for message in db.session.scalars(select(Hl7Message).where(
                Hl7Message.control_id.startswith(prefix)))}
    tasks = sorted((who[task.patient_id], names.get(task.stay_id), task.kind, task.status,
                    task.resolution, task.due_on)
                   for task in db.session.scalars(select(Task).where(Task.patient_id.in_(who))))
    audited = sorted(db.session.execute(
        select(AuditEntry.entity_type, AuditEntry.action, AuditEntry.patient_id, func.count())
        .where(AuditEntry.patient_id.in_(who))
        .group_by(AuditEntry.entity_type, AuditEntry.action, AuditEntry.patient_id)).all())
    return {
        "answers": [[(receipt.code, ack.code_of(receipt.ack), receipt.status, receipt.replayed,
                      re.sub(r"#\d+", "#", receipt.ack.split("\r", 1)[1].replace(prefix, "")))
                     for receipt in receipts_of_round] for receipts_of_round in receipts],
        "kept": kept,
        "stays": [(names[stay.id], who[stay.patient_id], stay.admitted_at, stay.discharged_at,
                   stay.discharge_destination, stay.admission_mode, stay.location,
                   stay.cancelled_at is not None, stay.is_index_stay,
                   names.get(stay.readmission_of_id), names.get(stay.readmitted_by_id),
                   stay.lace_score, [row.code for row in stay.diagnoses]) for stay in stays],
        "tasks": tasks,
        "audited": [(entity, action, who[patient], count)
                    for entity, action, patient, count in audited],
    }


def test_batches_answer_and_apply_what_one_message_at_a_time_does(app, case_manager,
                                                                   monkeypatch):
    alone = inbox.process
    calls = {"alone": 0}

    def counted(*args, **kwargs):
        calls["alone"] += 1
        return alone(*args, **kwargs)

    with force_locale("en"):
        rounds, first = scenario("ONE", case_manager.id, 100)
        one_at_a_time = [[inbox.process(db.session, text, MLLP_SENDER, SETTINGS)
                          for text in batch] for batch in rounds]
        expected = snapshot("ONE", one_at_a_time, first)

        rounds, second = scenario("ALL", case_manager.id, 200)
        monkeypatch.setattr(inbox, "process", counted)
        batched = []
        for batch in rounds:
            before = calls["alone"]
            batched.append(inbox.process_many(db.session, [(text, MLLP_SENDER)
                                                           for text in batch], SETTINGS))
            batched[-1].append(calls["alone"] - before)  # type: ignore[arg-type]
        fallbacks = [answers.pop() for answers in batched]
        got = snapshot("ALL", batched, second)

    for key in expected:
        assert got[key] == expected[key], key
    # The third round has the same record twice and the fourth the same message twice:
    # those were taken one message at a time; the others went together.
    assert fallbacks == [0, 0, 5, 3, 0]
    assert expected["kept"]["-C02"][3] == "no_match"
    assert expected["kept"]["-C05"][1] == "AE"
    assert expected["stays"][1][0] == "-V0B" and expected["stays"][0][10] == "-V0B"
    assert len(expected["tasks"]) == 6  # three discharges home of caseload patients
    assert not any(stay[7] for stay in expected["stays"])  # V2 and V3 restored
    assert chain.verify(db.session).ok
