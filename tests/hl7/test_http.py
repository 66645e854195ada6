"""POST /api/v1/hl7v2 and the integration role: it sends messages, and nothing else."""

from __future__ import annotations

import re
import time

from sqlalchemy import select
from werkzeug.routing.converters import NumberConverter

from coordinator.auth.models import User
from coordinator.extensions import db
from coordinator.hl7.models import Hl7Message, MessageStatus
from coordinator.stays.models import Stay
from tests.factories import PASSWORD, make_patient
from tests.hl7.conftest import adt, hospital_patient

URL = "/api/v1/hl7v2"
ER7 = "x-application/hl7-v2+er7"


def post(client, secret: str | None, body, content_type: str = ER7, language: str = "en"):
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    headers["Accept-Language"] = language
    return client.post(URL, data=body, headers=headers, content_type=content_type)


def text_of(response) -> str:
    return response.data.decode(response.mimetype_params.get("charset", "utf-8"))


def msa(response) -> list[str]:
    return next(line for line in text_of(response).split("\r")
                if line.startswith("MSA|")).split("|")


def test_an_integration_account_sends_a01_then_a03_and_reads_the_acks(app, client,
                                                                      integration, token):
    secret = token(integration)
    patient = hospital_patient()
    admitted = post(client, secret, adt("A01", ins=patient.nir, control="H1").encode("latin-1"))
    assert admitted.status_code == 200
    assert admitted.mimetype == ER7
    assert admitted.mimetype_params["charset"] == "latin-1"  # MSH-18: 8859/1
    assert msa(admitted)[1:3] == ["AA", "H1"]
    stay = db.session.scalar(select(Stay))
    assert stay.is_open
    discharged = post(client, secret, adt("A03", ins=patient.nir, control="H2",
                                          discharged="202603121100", disposition="01"))
    assert msa(discharged)[1:3] == ["AA", "H2"]
    db.session.refresh(stay)
    assert not stay.is_open
    kept = db.session.scalar(select(Hl7Message).where(Hl7Message.control_id == "H1"))
    assert kept.channel == "http" and kept.received_by == integration.email


def test_errors_are_acks_too(app, client, integration, token):
    response = post(client, token(integration), adt("A05", control="H3"))
    assert response.status_code == 200
    assert msa(response)[1] == "AR"
    assert "ERR|" in text_of(response)


def test_the_reasons_are_in_the_language_of_the_sender(app, client, integration, token):
    response = post(client, token(integration), adt("A05", control="H4"), language="fr")
    # In 8859/1 (MSH-18), the typographic apostrophe is written as a plain one.
    assert "L'événement A05 n'est pas pris en charge" in text_of(response)


def test_the_body_must_be_er7(app, client, integration, token):
    response = post(client, token(integration), '{"a": 1}', content_type="application/json")
    assert response.status_code == 415
    assert response.json["errors"]["_request"]


def test_a_too_large_message_is_refused(app, client, integration, token):
    app.config["HL7_MAX_MESSAGE_BYTES"] = 1000
    try:
        response = post(client, token(integration), adt("A01") + "NTE|" + "x" * 2000)
    finally:
        app.config["HL7_MAX_MESSAGE_BYTES"] = 1024 * 1024
    assert response.status_code == 413


def test_only_integration_accounts_send_messages(app, client, admin, case_manager, token):
    for user in (admin, case_manager):
        response = post(client, token(user), adt("A01"))
        assert response.status_code == 403
    assert db.session.scalar(select(Hl7Message)) is None


def test_anonymous_senders_are_asked_to_authenticate(app, client):
    response = post(client, None, adt("A01"))
    assert response.status_code == 401
    assert db.session.scalar(select(Hl7Message)) is None


def test_an_account_limited_to_a_territory_sends_for_its_patients_only(app, client, make_user,
                                                                      token):
    douaisis = make_user(role="integration", territory_code="DOUAISIS")
    elsewhere = hospital_patient(territory_code="CORNOUAILLE")
    response = post(client, token(douaisis), adt("A01", ins=elsewhere.nir, control="T1"))
    assert msa(response)[1] == "AE"
    text = text_of(response)
    reason = text.split("ERR|", 1)[1].split("|")[-1].strip()
    assert reason == "This message cannot be applied with this account: nothing was changed."
    assert "CORNOUAILLE" not in text
    assert db.session.scalar(select(Stay)) is None
    mine = hospital_patient(nir=None, external_id="MINE-1")
    assert msa(post(client, token(douaisis), adt("A01", local_id="MINE-1",
                                                 control="T2")))[1] == "AA"
    assert db.session.scalar(select(Stay)).patient_id == mine.id


def test_an_unknown_patient_of_a_limited_account_waits_in_its_territory(app, client, make_user,
                                                                       token):
    account = make_user(role="integration", territory_code="CORNOUAILLE")
    response = post(client, token(account), adt("A01", local_id="NOBODY", control="T3"))
    assert msa(response)[1] == "AA"
    kept = db.session.scalar(select(Hl7Message))
    assert kept.status == MessageStatus.PENDING
    assert kept.territory.code == "CORNOUAILLE"


# -- Nothing else for an integration account ---------------------------------------------------

def _example(rule) -> str:
    path = rule.rule
    for name, converter in rule._converters.items():
        value = "1" if isinstance(converter, NumberConverter) else "x"
        path = re.sub(rf"<(?:[^:<>]+:)?{name}>", value, path)
    return path


def test_every_other_api_operation_refuses_an_integration_account(app, client, integration,
                                                                   token):
    make_patient()
    secret = token(integration)
    headers = {"Authorization": f"Bearer {secret}"}
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.rule in (URL, "/api/v1/openapi.json"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(_example(rule), method=method, headers=headers, json={})
            assert response.status_code in (403, 404), (method, rule.rule, response.status_code)
            checked += 1
    assert checked > 20


def test_every_page_refuses_an_integration_account(app, client, integration):
    with client.session_transaction() as browser:  # as if it had signed in somehow
        browser["_user_id"] = f"{integration.id}:{integration.session_version}"
        browser["_fresh"] = True
        browser["signed_in_at"] = browser["seen_at"] = time.time()  # a session in its lifetime
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") or rule.endpoint.endswith("static") or \
                "GET" not in rule.methods or rule.endpoint in ("auth.login", "auth.second_factor",
                                                            "home.healthz"):
            continue
        response = client.get(_example(rule))
        assert response.status_code in (403, 404), (rule.rule, response.status_code)
        checked += 1
    assert checked > 20


def test_an_integration_account_does_not_sign_in_to_the_pages(app, client, integration):
    response = client.login(integration.email, PASSWORD)
    assert response.status_code == 401
    assert "HL7" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still anonymous: to the sign-in page


def test_users_create_makes_an_integration_account_and_prints_its_token(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "sih@hospital.test", "--role",
                                 "integration", "--territory", "DOUAISIS"])
    assert result.exit_code == 0, result.output
    secret = result.output.rsplit(": ", 1)[1].strip()
    user = db.session.scalar(select(User).where(User.email == "sih@hospital.test"))
    assert user.role == "integration" and user.territory.code == "DOUAISIS"
    client = app.test_client()
    assert post(client, secret, adt("A01", local_id="NOBODY")).status_code == 200
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}
                      ).status_code == 403


def test_the_endpoint_is_described_in_the_openapi(app, client):
    spec = client.get("/api/v1/openapi.json").json
    operation = spec["paths"][URL]["post"]
    assert ER7 in operation["requestBody"]["content"]
    assert ER7 in operation["responses"]["200"]["content"]
    assert {"401", "403", "413", "415", "503"} <= set(operation["responses"])
