"""API helpers: callers authenticated by bearer token, the users of each audience, bodies."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from coordinator.audit.models import AuditEntry
from coordinator.auth import services as auth_services
from coordinator.core.context import Actor
from coordinator.extensions import db
from tests.factories import make_nir


class ApiCaller:
    """The test client speaking JSON with `Authorization: Bearer <token>`."""

    def __init__(self, client, secret: str):
        self.client = client
        self.secret = secret

    def _headers(self, headers: dict | None) -> dict:
        return {"Authorization": f"Bearer {self.secret}", **(headers or {})}

    def get(self, url: str, headers: dict | None = None, **kwargs):
        return self.client.get(url, headers=self._headers(headers), **kwargs)

    def post(self, url: str, json=None, headers: dict | None = None):
        return self.client.post(url, json=json, headers=self._headers(headers))

    def patch(self, url: str, json=None, headers: dict | None = None):
        return self.client.patch(url, json=json, headers=self._headers(headers))


@pytest.fixture
def api(client, session):
    """`api(user)`: a caller authenticated with a fresh token of `user`."""

    def as_user(user) -> ApiCaller:
        issued = auth_services.issue_token(session, user, Actor.system("test"))
        session.commit()
        return ApiCaller(client, issued.secret)

    return as_user


@pytest.fixture
def gp(make_user):
    return make_user(role="gp")


def patient_body(**overrides) -> dict:
    """A valid creation body for the patient API (dates as ISO text)."""
    birth = date(1948, 3, 14)
    body = {
        "birth_name": "Dupont", "first_names": "Jacques Marie", "birth_date": birth.isoformat(),
        "sex": "M", "territory_code": "DOUAISIS", "nir": make_nir("M", birth),
        "birth_place_insee": "59178",
    }
    body.update(overrides)
    return body


def audit_entries(**criteria) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id)
    for field, value in criteria.items():
        query = query.where(getattr(AuditEntry, field) == value)
    return list(db.session.scalars(query))


def assert_page_shape(body: dict, *, total: int, page: int = 1, per_page: int = 50) -> None:
    assert set(body) == {"items", "total", "page", "per_page"}
    assert (body["total"], body["page"], body["per_page"]) == (total, page, per_page)
