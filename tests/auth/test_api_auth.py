"""The JSON API accepts a bearer token or the browser session."""

import hashlib
from datetime import timedelta

from sqlalchemy import event, select

from coordinator.auth import services
from coordinator.auth.models import ApiToken
from coordinator.core.context import Actor
from coordinator.extensions import db


def issue(session, user):
    issued = services.issue_token(session, user, Actor.system("test"))
    session.commit()
    return issued.secret


def test_bearer_token_authenticates_api_calls(client, session, case_manager):
    secret = issue(session, case_manager)
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    assert response.json["email"] == case_manager.email
    assert response.json["territory"]["code"] == "DOUAISIS"


def test_tokens_are_stored_hashed(session, case_manager):
    secret = issue(session, case_manager)
    stored = session.scalars(select(ApiToken.token_hash)).all()
    assert stored == [hashlib.sha256(secret.encode()).hexdigest()]  # the digest, never the secret


def test_session_authenticates_api_calls(client, logged_in, case_manager):
    logged_in(case_manager)
    assert client.get("/api/v1/me").json["email"] == case_manager.email


def test_missing_wrong_or_revoked_token_answers_401_json(client, session, case_manager):
    assert client.get("/api/v1/me").status_code == 401
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer cdt_wrong"})
    assert response.status_code == 401
    assert "errors" in response.json
    secret = issue(session, case_manager)
    services.revoke_tokens(session, case_manager, Actor.system("test"))
    session.commit()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}
                      ).status_code == 401


def test_token_of_a_disabled_user_is_refused(client, session, case_manager):
    secret = issue(session, case_manager)
    services.set_active(session, case_manager, False, Actor.system("test"))
    session.commit()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}
                      ).status_code == 401


def test_bearer_tokens_do_not_open_browser_pages(client, session, case_manager):
    secret = issue(session, case_manager)
    assert client.get("/", headers={"Authorization": f"Bearer {secret}"}).status_code == 302


def test_openapi_description_is_published(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/me" in spec["paths"]
    assert "bearerAuth" in spec["components"]["securitySchemes"]


def test_a_tokens_last_use_is_written_at_most_once_a_minute(client, session, case_manager,
                                                            monkeypatch):
    """A read request does not write for its token each time (a write per request is what made
    concurrent API reads fail on SQLite)."""
    secret = issue(session, case_manager)
    headers = {"Authorization": f"Bearer {secret}"}
    token = session.scalar(select(ApiToken))
    assert token.last_used_at is None
    statements: list[str] = []

    def updates() -> list[str]:
        return [s for s in statements if s.startswith("UPDATE api_token")]

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert client.get("/api/v1/me", headers=headers).status_code == 200
        first = session.scalar(select(ApiToken.last_used_at))
        assert first is not None and len(updates()) == 1
        for _ in range(3):
            assert client.get("/api/v1/me", headers=headers).status_code == 200
        assert len(updates()) == 1 and session.scalar(select(ApiToken.last_used_at)) == first
        later = first + services.TOKEN_USE_RESOLUTION + timedelta(seconds=1)
        monkeypatch.setattr(services, "utcnow", lambda: later)
        assert client.get("/api/v1/me", headers=headers).status_code == 200
        assert len(updates()) == 2
        assert session.scalar(select(ApiToken.last_used_at)) == later
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
