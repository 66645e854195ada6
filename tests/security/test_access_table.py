"""The access table (tests/security/access_table.py) walked: every route of the URL map and
every operation of the OpenAPI description, requested by every identity, answers what its row
says.

One world is built (two territories, two patients of the same GP — one consenting, one whose
consent was withdrawn after their plan was shared —, plans, stays, events, tasks, appointments,
a round, a calendar feed, print batches, an import report, an HL7 message waiting for
reconciliation...); the ids are put into the rules' arguments. Pages are requested with a
browser session of the identity (its CSRF token sent with every POST), the API with the
identity's bearer token and an empty JSON body. Each request runs inside a savepoint rolled
back after it, so that no request changes what the next one finds (a deletion, a logout...).

What is compared is the authorization layer's answer: `login` (the sign-in page), 401, 403 or
404 (a record hidden), or `ok` — anything else but a 5xx (200, a redirect elsewhere, 400, 409,
422...: the request got past who may use it). A row missing for a route or an operation, or a
row left for one that is gone, fails with its name.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pytest
from flask import session as flask_session
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from coordinator.auth import services as auth_services
from coordinator.core.context import Actor
from coordinator.core.time import as_utc, local_today
from coordinator.extensions import db, limiter
from coordinator.hl7.models import Hl7Message
from coordinator.imports.models import ImportReport
from coordinator.patients import assignments
from coordinator.printing.models import PrintBatch, PrintKind
from coordinator.scheduling import feeds
from coordinator.scheduling.models import Appointment, FollowUpRound
from coordinator.stays import services as stay_services
from coordinator.stays.models import ClinicalEvent, StaySource
from coordinator.strata.models import Program, ProgramIndicator, Stratum
from coordinator.tasks.models import Task, TaskKind, TaskStatus
from tests import factories
from tests.security.access_table import ALLOWED, COLUMNS, TABLE, expected_cells

SPEC_URL = "/api/v1/openapi.json"
ACTOR = Actor.system("test")
REFUSALS = {"login", "401", "403", "404"}
CELLS = REFUSALS | {ALLOWED, "422"}


# -- The rows the application has ------------------------------------------------------------

def web_operations(app) -> dict[str, object]:
    """`"METHOD endpoint"` of every page route (static files apart), with its rule."""
    found = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static") or \
                rule.rule.startswith("/api/"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found[f"{method} {rule.endpoint}"] = rule
    return found


def api_operations(app, client) -> set[str]:
    """`"METHOD /api/v1/path"` of every operation of the OpenAPI description and of every API
    rule of the URL map (a route missing from the description is a row all the same)."""
    spec = client.get(SPEC_URL).json
    found = {f"{method.upper()} {path}" for path, operations in spec["paths"].items()
             for method in operations if method != "parameters"}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            found |= {f"{method} {path}" for method in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def test_the_table_has_one_row_per_route_and_api_operation(app, client):
    routes = set(web_operations(app)) | api_operations(app, client)
    missing = sorted(routes - set(TABLE))
    extra = sorted(set(TABLE) - routes)
    assert not missing and not extra, \
        f"rows missing (add them to tests/security/access_table.py): {missing}; " \
        f"rows for no route: {extra}"


def test_every_row_names_a_status_for_every_identity():
    for name in TABLE:
        cells = expected_cells(name)
        assert set(cells) == set(COLUMNS), name
        assert set(cells.values()) <= CELLS, (name, cells)


# -- The world ---------------------------------------------------------------------------------

@dataclass
class World:
    users: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    subjects: dict[str, dict[str, int]] = field(default_factory=dict)  # per patient
    shared: dict[str, object] = field(default_factory=dict)


def _paris(day: date, hour: int) -> datetime:
    return as_utc(datetime.combine(day, datetime.min.time().replace(hour=hour)))


def _subject(world: World, *, consent: bool, case_manager, gp, nurse, booked) -> dict[str, int]:
    """A patient of territory A with everything the routes open: plan (active, shared, the
    nurse in its team), stay, event, task, appointment, round, enrollment."""
    patient = factories.make_patient(gp_id=gp.id, consent_share=True,
                                     case_manager_id=case_manager.id)
    plan = factories.make_care_plan(patient, status="active", sharing_agreed=True,
                                    team=[{"provider_id": nurse.id, "role": "IDE"}])
    today = local_today()
    stay = stay_services.record_stay(
        db.session, patient=patient, source=StaySource.FORM, actor=ACTOR,
        values={"facility_name": "Centre hospitalier de Douai", "facility_finess": "590000021",
                "admitted_at": _paris(today - timedelta(days=10), 9),
                "admission_mode": "emergency",
                "discharged_at": _paris(today - timedelta(days=3), 15),
                "discharge_destination": "home", "main_diagnosis": "I50.9", "diagnoses": []})
    event = ClinicalEvent(patient_id=patient.id, event_type="diagnosis", code="E11.9",
                          occurred_on=today - timedelta(days=20), label="Diabète")
    task = Task(kind=TaskKind.DISCHARGE_CONTACT, patient_id=patient.id,
                assignee_id=case_manager.id, window_start=today,
                due_on=today + timedelta(days=2), status=TaskStatus.OPEN)
    followup = FollowUpRound(patient_id=patient.id, label="Suivi", created_by="test")
    db.session.add_all([event, task, followup])
    db.session.flush()
    starts = _paris(today + timedelta(days=3), 10)
    appointment = Appointment(patient_id=patient.id, provider_id=booked.id,
                              kind="consultation", starts_at=starts, duration_minutes=30,
                              ends_at=starts + timedelta(minutes=30), status="scheduled",
                              created_by="test", round_id=followup.id)
    db.session.add(appointment)
    enrollment = assignments.assign_stratum(db.session, ACTOR, patient,
                                            factories.stratum("HF-1"), today - timedelta(days=30),
                                            "inclusion")
    if not consent:  # withdrawn after the plan was shared
        patient.consent_share = False
    db.session.commit()
    return {"patient_id": patient.id, "plan_id": plan.id, "stay_id": stay.id,
            "event_id": event.id, "task_id": task.id, "appointment_id": appointment.id,
            "round_id": followup.id, "enrollment_id": enrollment.id,
            "assignment_id": enrollment.id}


def build_world() -> World:
    world = World()
    make = factories.make_user
    gp_record = factories.make_provider("gp")
    other_gp_record = factories.make_provider("gp")
    nurse = factories.make_provider("nurse")
    users = {
        "admin": make(role="admin"),
        "cm": make(role="case_manager", territory_code="DOUAISIS"),
        "cm_other": make(role="case_manager", territory_code="CORNOUAILLE"),
        "council": make(role="council", territory_code="DOUAISIS"),
        "council_other": make(role="council", territory_code="CORNOUAILLE"),
        "gp": make(role="gp", territory_code=None, provider_id=gp_record.id),
        "gp_other": make(role="gp", territory_code=None, provider_id=other_gp_record.id),
        "pro": make(role="professional", territory_code=None, provider_id=nurse.id),
        "integration": make(role="integration", territory_code=None),
    }
    world.users = {key: user.id for key, user in users.items()}
    world.users["gp_withdrawn"] = users["gp"].id
    for key, user in users.items():
        world.tokens[key] = auth_services.issue_token(db.session, user, ACTOR).secret
    world.tokens["gp_withdrawn"] = world.tokens["gp"]
    cm = users["cm"]
    booked = factories.make_provider("nurse")
    world.subjects["main"] = _subject(world, consent=True, case_manager=cm, gp=gp_record,
                                      nurse=nurse, booked=booked)
    world.subjects["withdrawn"] = _subject(world, consent=False, case_manager=cm, gp=gp_record,
                                           nurse=nurse, booked=booked)
    provider = factories.make_provider("nurse")  # the provider pages' (and calendar's) own
    feed, token = feeds.create_feed(db.session, ACTOR, provider=provider)
    plans_batch = PrintBatch(user_id=cm.id, total=1, status="succeeded", pdf=b"%PDF-1.4",
                             kind=PrintKind.CARE_PLANS,
                             document_ids=[world.subjects["main"]["plan_id"]])
    report_batch = PrintBatch(user_id=users["council"].id, total=1, status="succeeded",
                              pdf=b"%PDF-1.4", kind=PrintKind.METRICS_REPORT,
                              parameters={"territory_id": cm.territory_id})
    report = ImportReport(kind="patients", file_name="patients.csv", user_id=cm.id,
                          actor_label=cm.email, status="succeeded", rows_read=1)
    message = Hl7Message(control_id="ACCESS1", sending_application="SIH",
                         sending_facility="CH", message_type="ADT^A01", trigger_event="A01",
                         received_by="mllp", channel="mllp", raw="MSH|^~\\&|SIH|CH",
                         status="pending", ack_code="AA", ack="MSA|AA",
                         territory_id=cm.territory_id, reconciliation_reason="no_match",
                         patient_name="DUPONT MARIE", patient_identifiers="PI 1",
                         visit_number="V1")
    victim = make(role="case_manager", territory_code="DOUAISIS")
    db.session.add_all([plans_batch, report_batch, report, message])
    db.session.commit()
    program = db.session.scalar(select(Program).order_by(Program.id))
    stratum = db.session.scalar(select(Stratum).where(Stratum.program_id == program.id)
                                .order_by(Stratum.id))
    indicator = db.session.scalar(select(ProgramIndicator)
                                  .where(ProgramIndicator.program_id == program.id)
                                  .order_by(ProgramIndicator.id))
    world.shared = {
        "provider_id": provider.id, "user_id": victim.id, "report_id": report.id,
        "message_id": message.id, "feed_id": feed.id, "token": token,
        "name": "mark_outcome_missing", "program_id": program.id, "stratum_code": stratum.code,
        "indicator_code": indicator.code if indicator else "x", "key": "headline",
        "kind": "patients", "plans_batch": plans_batch.id, "report_batch": report_batch.id,
        "program_code": program.code, "territory_code": "DOUAISIS",
    }
    return world


def arguments(world: World, identity: str, endpoint: str) -> dict[str, object]:
    """The value of each rule argument for `identity` (the GP's withdrawn column opens the
    patient whose consent was withdrawn; every other identity the consenting one)."""
    subject = world.subjects["withdrawn" if identity == "gp_withdrawn" else "main"]
    values = {**world.shared, **subject}
    values["batch_id"] = values["report_batch"] if "metrics" in endpoint or \
        endpoint.startswith("metrics_report.") else values["plans_batch"]
    values["code"] = values["territory_code"] if endpoint.startswith("metric_targets.") else \
        values["program_code"]
    values["owner_id"] = values["provider_id"] if endpoint.startswith("calendar.provider") or \
        endpoint == "calendar.create_provider_feed" else values["patient_id"]
    return values


# What a request sends beyond an empty body, where the authorization of the record comes only
# after the input is read (an update: a valid body and an If-Match, else 422/428 would answer
# first and hide the record check; a form naming records). `v`: the identity's arguments.
IF_MATCH = {"If-Match": '"0-0"'}  # any tag: a visible record then answers 412
EXTRAS = {
    "PATCH /api/v1/patients/{patient_id}": lambda v: {"json": {"city": "Douai"},
                                                      "headers": IF_MATCH},
    "PATCH /api/v1/providers/{provider_id}": lambda v: {"json": {"city": "Douai"},
                                                        "headers": IF_MATCH},
    "PATCH /api/v1/careplans/{plan_id}": lambda v: {"json": {"priorities": "Rester chez soi"},
                                                    "headers": IF_MATCH},
    "PATCH /api/v1/stays/{stay_id}": lambda v: {"json": {"facility_name": "CH de Douai"},
                                                "headers": IF_MATCH},
    "PATCH /api/v1/events/{event_id}": lambda v: {"json": {"label": "Diabète de type 2"},
                                                  "headers": IF_MATCH},
    "PATCH /api/v1/tasks/{task_id}": lambda v: {"json": {"status": "done", "note": "Appelé"},
                                                "headers": IF_MATCH},
    "PATCH /api/v1/appointments/{appointment_id}/status": lambda v: {
        "json": {"status": "cancelled_patient"}, "headers": IF_MATCH},
    "PATCH /api/v1/metrics/targets": lambda v: {
        "query": {"territory": v["territory_code"]},
        "json": {"targets": [{"program": v["program_code"], "indicator": v["indicator_code"],
                              "target_percent": 50}]}},
    "GET /api/v1/metrics/targets": lambda v: {"query": {"territory": v["territory_code"]}},
    "GET /api/v1/metrics": lambda v: {"query": {"territory": v["territory_code"],
                                                "from": "2026-01-01", "to": "2026-06-30"}},
    "POST /api/v1/stays": lambda v: {"json": {
        "patient_id": v["patient_id"], "facility_name": "CH de Douai",
        "admitted_at": "2026-05-01T09:00", "admission_mode": "planned"}},
    "POST /api/v1/events": lambda v: {"json": {
        "patient_id": v["patient_id"], "event_type": "diagnosis", "code": "I10",
        "occurred_on": "2026-05-01"}},
    "POST /api/v1/appointments": lambda v: {"json": {
        "patient_id": v["patient_id"], "provider_id": v["provider_id"],
        "starts_at": "2030-07-01T09:00"}},
    "POST /api/v1/enrollments": lambda v: {"json": {
        "patient_id": v["patient_id"], "stratum_code": "HF-2",
        "effective_date": local_today().isoformat()}},
    "POST /api/v1/careplans": lambda v: {"json": {
        "patient_id": v["patient_id"], "plan_date": local_today().isoformat(),
        "priorities": "Rester à domicile"}},
    "POST /api/v1/patients": lambda v: {"json": {  # of territory A
        "birth_name": "Accesstable", "first_names": "Jeanne", "birth_date": "1948-03-14",
        "sex": "F", "territory_code": v["territory_code"]}},
    "POST /api/v1/providers": lambda v: {"json": {  # of territory A
        "kind": "dietitian", "name": "Sophie Leroy", "territory_code": v["territory_code"]}},
    "POST tasks.acknowledge": lambda v: {"data": {"kind": "discharged_without_followup",
                                                  "stay_id": v["stay_id"]}},
    "POST scheduling.day": lambda v: {"data": {f"outcome-{v['appointment_id']}": "attended"}},
    "POST careplans.print_batch": lambda v: {"data": {"plan_ids": v["plan_id"]}},
}


def fill(path: str, values: dict[str, object]) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>|\{([^{}]+)\}",
                  lambda m: str(values[m.group(1) or m.group(2)]), path)


# -- Walking it ------------------------------------------------------------------------------

def outcome(response) -> str:
    """What the authorization layer answered (see the module's docstring)."""
    status = response.status_code
    if status == 302 and response.headers.get("Location", "").startswith("/login?next="):
        return "login"
    if status in (401, 403, 404):
        return str(status)
    if status >= 500:
        return f"error {status}"
    return ALLOWED


def matches(expected: str, got: str, status: int) -> bool:
    """`422` is a refusal only where the row says so; elsewhere it is an allowed answer."""
    return status == 422 if expected == "422" else got == expected


@pytest.fixture
def world(app):
    return build_world()


def _browser_session(client, world: World, identity: str, csrf_raw: str) -> None:
    with client.session_transaction() as browser:
        browser.clear()
        browser["csrf_token"] = csrf_raw
        if identity != "anon":
            from coordinator.auth.models import User

            user = db.session.get(User, world.users[identity])
            browser["_user_id"] = user.get_id()
            browser["_fresh"] = True
            browser["signed_in_at"] = browser["seen_at"] = time.time()


def _request(client, world, identity: str, name: str, rule, csrf: tuple[str, str]):
    method, target = name.split(" ", 1)
    api = target.startswith("/api/")
    values = arguments(world, identity, target if api else rule.endpoint)
    extra = EXTRAS.get(name, lambda v: {})(values)
    if api:
        headers = {} if identity == "anon" else \
            {"Authorization": f"Bearer {world.tokens[identity]}"}
        body = extra.get("json", {}) if method in ("POST", "PATCH", "PUT") else None
        with client.session_transaction() as browser:
            browser.clear()
        return client.open(fill(target, values), method=method, query_string=extra.get("query"),
                           headers={**headers, **extra.get("headers", {})}, json=body)
    url = fill(rule.rule, values)
    _browser_session(client, world, identity, csrf[0])
    if method == "GET":
        return client.get(url, query_string=extra.get("query"))
    return client.open(url, method=method, data={"csrf_token": csrf[1], **extra.get("data", {})})


def test_every_identity_gets_what_the_table_says_on_every_route(app, client, world):
    routes = web_operations(app)
    with app.test_request_context("/"):
        signed = generate_csrf()
        csrf = (flask_session["csrf_token"], signed)
    connection = db.session.get_bind()
    observed: dict[str, dict[str, str]] = {}
    wrong = []
    recording = bool(os.environ.get("ACCESS_TABLE_PRINT"))
    names = set(routes) | api_operations(app, client)
    for name in sorted(names if recording else names & set(TABLE)):
        expected = expected_cells(name) if name in TABLE else dict.fromkeys(COLUMNS, "?")
        observed[name] = {}
        for identity in COLUMNS:
            limiter.reset()
            db.session.remove()  # the session's own savepoint, if any, ends before this one
            savepoint = connection.begin_nested()
            try:
                response = _request(client, world, identity, name, routes.get(name), csrf)
                got = outcome(response)
            finally:
                db.session.remove()
                if savepoint.is_active:
                    savepoint.rollback()
            observed[name][identity] = got
            if not matches(expected[identity], got, response.status_code):
                wrong.append(f"{name} as {identity}: expected {expected[identity]}, got {got}"
                             f" ({response.status_code})")
    if recording:  # ACCESS_TABLE_PRINT=1 ... -s: the rows as answered, to review and paste
        for name, cells in observed.items():
            print(f'    "{name}":'.ljust(64) + '"' + " ".join(
                cells[c].ljust(5) for c in COLUMNS).rstrip() + '",')
    assert wrong == [], f"{len(wrong)} cells differ:\n" + "\n".join(wrong)
