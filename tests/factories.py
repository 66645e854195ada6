"""Factories: valid objects in one line, each test states only what matters to it."""

from __future__ import annotations

import factory
from faker import Faker
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from coordinator.auth.models import User
from coordinator.core.time import utcnow
from coordinator.extensions import db
from coordinator.strata.models import Territory

PASSWORD = "correct horse battery"
_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
fake = Faker("fr_FR")


class UserFactory(factory.Factory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    full_name = factory.LazyFunction(fake.name)
    role = "case_manager"
    password_hash = _HASH
    is_active = True
    session_version = 1
    password_changed_at = factory.LazyFunction(utcnow)


def territory(code: str) -> Territory:
    return db.session.scalar(select(Territory).where(Territory.code == code))


def make_user(territory_code: str | None = None, **overrides) -> User:
    if territory_code is None and overrides.get("role", "case_manager") in ("case_manager",
                                                                              "council"):
        territory_code = "DOUAISIS"
    user = UserFactory(territory=territory(territory_code) if territory_code else None,
                       **overrides)
    db.session.add(user)
    db.session.commit()
    return user
