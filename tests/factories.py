"""Factories: valid objects in one line, each test states only what matters to it."""

from __future__ import annotations

import itertools

import factory
from faker import Faker
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from coordinator.auth.models import User
from coordinator.core.time import utcnow
from coordinator.extensions import db
from coordinator.strata.models import Territory

PASSWORD = "correct horse battery"
_serial = itertools.count(1)
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


def make_nir(sex: str, birth_date, department: str = "59", commune: str = "178",
             order: int = 1) -> str:
    """A NIR with a valid key, consistent with the sex and the birth date."""
    body = f"{'1' if sex == 'M' else '2'}{birth_date.year % 100:02d}{birth_date.month:02d}" \
           f"{department}{commune}{order:03d}"
    numeric = body.replace("2A", "19").replace("2B", "18")
    return f"{body}{97 - int(numeric) % 97:02d}"


def make_provider(kind: str = "gp", territory_code: str = "DOUAISIS", **overrides):
    from coordinator.core.normalize import fold
    from coordinator.providers.models import Provider

    # Default names never match another test's search: "Provider 12", "PATIENTNAME 7".
    name = overrides.pop("name", None) or f"Provider {next(_serial)}"
    provider = Provider(kind=kind, name=name, name_folded=fold(name),
                        territory=territory(territory_code), **overrides)
    db.session.add(provider)
    db.session.commit()
    return provider


def make_patient(territory_code: str = "DOUAISIS", **overrides):
    """A valid patient (no duplicate check, no audit: a fixture, not a user action)."""
    from datetime import date

    from coordinator.core.normalize import fold
    from coordinator.patients.models import Patient

    sex = overrides.pop("sex", "F")
    birth_date = overrides.pop("birth_date", date(1950, 6, 15))
    birth_name = overrides.pop("birth_name", None) or f"Patientname{next(_serial)}"
    first_names = overrides.pop("first_names", None) or (
        fake.first_name_female() if sex == "F" else fake.first_name_male())
    patient = Patient(
        sex=sex, birth_date=birth_date, birth_name=birth_name, first_names=first_names,
        birth_name_folded=fold(birth_name),
        used_name_folded=fold(overrides.get("used_name")) or None,
        first_name_folded=(fold(first_names).split() or [""])[0],
        territory=territory(territory_code), **overrides)
    db.session.add(patient)
    db.session.commit()
    return patient


def stratum(code: str):
    from coordinator.strata.models import Stratum

    return db.session.scalar(select(Stratum).where(Stratum.code == code))


def program(code: str):
    from coordinator.strata.models import Program

    return db.session.scalar(select(Program).where(Program.code == code))


def case_plan_actor(user=None):
    """The actor a service call is made by in a test (a system actor when no user is given)."""
    from coordinator.core.context import Actor

    return Actor.for_user(user) if user is not None else Actor.system("test")


def make_care_plan(patient=None, *, user=None, status: str = "draft", goals=None, **data):
    """A care plan through the services (so it has its revisions): a draft by default,
    `status="active"` records the patient's agreement and activates it."""
    from datetime import date

    from coordinator.careplans import services

    patient = patient or make_patient()
    actor = case_plan_actor(user)
    content = {"plan_date": date.today(), "review_date": date(date.today().year + 1, 1, 1),
               "priorities": "Rester à domicile", "goals": goals if goals is not None else [
                   {"description": "Stabiliser le poids", "domain": "health",
                    "actions": [{"description": "Pesée quotidienne", "responsible": "patient"}]}]}
    content.setdefault("sharing_agreed", patient.consent_share)
    content |= data
    if status in ("active", "closed"):
        content.setdefault("agreement_on", date.today())
        content.setdefault("agreement_method", "oral")
    plan = services.create_plan(db.session, actor, patient, content)
    if status in ("active", "closed"):
        services.activate_plan(db.session, actor, plan, plan.version)
    if status == "closed":
        services.close_plan(db.session, actor, plan, "Fin de prise en charge", plan.version)
    db.session.commit()
    return plan


def move_patient(patient, territory_code: str):
    """The patient moved to another territory: the appointments booked before stay with the
    providers of the former territory (the one way a provider's calendar holds a patient of
    another territory, as bookings take only the patient's territory's providers)."""
    from coordinator.extensions import db

    patient.territory_id = territory(territory_code).id
    db.session.commit()
    return patient


def make_appointment(patient, provider, starts_at, *, actor=None, overlap_reason="test",
                     round_label=None, **extra):
    """An appointment booked through the booking service as it was booked back then: the day
    before its start (a new booking starts from now on, so a past visit of a test's history
    is booked with the clock set back), on whatever day it falls (history is not refused a
    weekend). `starts_at` naive is Paris time. Not committed."""
    from datetime import timedelta
    from unittest import mock

    from coordinator.core.context import Actor
    from coordinator.core.time import as_utc
    from coordinator.scheduling import services

    booked_at = as_utc(starts_at) - timedelta(days=1)
    data = {"patient_id": patient.id, "provider_id": provider.id, "starts_at": starts_at} | extra
    with mock.patch.object(services, "utcnow", lambda: booked_at):
        [appointment] = services.create_appointments(
            db.session, actor or Actor.system("test"), [data], overlap_reason=overlap_reason,
            round_label=round_label, allow_non_working_day=True)
    return appointment
