"""Fixtures of the job tests: appointments built directly with the model."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from coordinator.core.time import utcnow
from coordinator.extensions import db
from coordinator.jobs import registry
from coordinator.scheduling.models import Appointment
from tests import factories


def make_appointment(patient=None, provider=None, *, starts_at: datetime | None = None,
                     duration_minutes: int = 30, status: str = "scheduled",
                     **overrides) -> Appointment:
    """A scheduled appointment (tomorrow by default), every required column set."""
    starts_at = starts_at or utcnow() + timedelta(days=1)
    appointment = Appointment(
        patient_id=(patient or factories.make_patient()).id,
        provider_id=(provider or factories.make_provider()).id,
        kind=overrides.pop("kind", "consultation"), starts_at=starts_at,
        duration_minutes=duration_minutes,
        ends_at=starts_at + timedelta(minutes=duration_minutes),
        status=status, created_by="test", **overrides)
    db.session.add(appointment)
    db.session.commit()
    return appointment


@pytest.fixture
def appointment_factory(app):
    return make_appointment


@pytest.fixture
def add_job(app, monkeypatch):
    """Register a job for this test only: add_job(name, function, trigger="hourly")."""
    def add(name: str, function, trigger: str = "hourly") -> registry.Job:
        job = registry.Job(name, name, trigger, function)
        monkeypatch.setitem(app.extensions[registry.EXTENSION], name, job)
        return job

    return add


@pytest.fixture
def cli(app):
    return app.test_cli_runner()
