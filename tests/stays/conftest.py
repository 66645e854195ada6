"""Helpers of the stay tests: record stays and events through the service, hear what it
announces."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from coordinator.core import extending
from coordinator.core.context import Actor
from coordinator.extensions import db
from coordinator.stays import services
from coordinator.stays.models import StaySource

ACTOR = Actor.system("test")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def stay_values(**overrides) -> dict:
    """A valid stay: an emergency admission at the CH de Douai, in March 2026."""
    values = {"facility_name": "Centre hospitalier de Douai", "facility_finess": "590000021",
              "admitted_at": datetime(2026, 3, 5, 22, 10), "admission_mode": "emergency",
              "discharged_at": datetime(2026, 3, 12, 11, 0), "discharge_destination": "home",
              "main_diagnosis": "I50.9"}
    values.update(overrides)
    return values


def record(patient, *, source=StaySource.FORM, **values):
    stay = services.record_stay(db.session, patient=patient, values=stay_values(**values),
                                source=source, actor=ACTOR)
    db.session.commit()
    return stay


def event(patient, event_type="ed_visit", code="ed", occurred_on=date(2026, 1, 20), **values):
    recorded = services.record_event(
        db.session, patient=patient, source=StaySource.FORM, actor=ACTOR,
        values={"event_type": event_type, "code": code, "occurred_on": occurred_on, **values})
    db.session.commit()
    return recorded


@pytest.fixture
def announced(app):
    """The changes the service announces to STAY_CHANGED, as (stay id, change)."""
    heard: list[tuple[int, str]] = []

    def listener(*, session, stay, change):
        heard.append((stay.id, change))

    extending.provide(app, services.STAY_CHANGED, listener)
    yield heard
    app.extensions[extending.EXTENSION]._providers[services.STAY_CHANGED].remove(listener)
