"""Helpers of the metrics tests: the spec's worked example imported, registries built by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from coordinator.metrics import services
from tests.api.conftest import api  # noqa: F401  (the API caller fixture)
from tests.imports.conftest import run_example

# metrics.md, "Worked example": the files imported in this order.
EXAMPLE_ORDER = ("providers", "patients", "enrollments", "appointments", "stays", "events")
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def worked_example(session):
    """The example files of ../shared/spec/examples imported through the import engine."""
    reports = {}
    for kind in EXAMPLE_ORDER:
        reports[kind] = run_example(session, kind)
        assert reports[kind].status == "succeeded", (kind, reports[kind].errors)
    session.commit()
    return reports


def figures_of(session, first: date, last: date, *, exact: bool = True, previous=False,
               now=NOW, **codes):
    selection = services.select_figures(session, first=first, last=last, **codes)
    return services.registry_metrics(session, selection, exact=exact, previous=previous,
                                     now=now)


class Registry:
    """A registry built row by row for hand-computed figures: patients, their strata timeline,
    appointments, stays (readmission flags by `stays.readmissions`), events and care plans.
    Date-times without an offset are Paris time."""

    def __init__(self, session):
        from tests import factories

        self.session = session
        self.factories = factories
        self.provider_id = factories.make_provider("nurse").id
        self._plans: dict[int, int] = {}

    def patient(self, territory: str = "DOUAISIS", born: date = date(1950, 6, 15),
                died: date | None = None, **values):
        return self.factories.make_patient(territory, birth_date=born, deceased_date=died,
                                           **values)

    def patients(self, count: int, *strata_from: tuple[str, date], **values) -> list:
        """`count` patients, each with the same timeline."""
        made = [self.patient(**values) for _ in range(count)]
        for patient in made:
            self.enroll(patient, *strata_from)
        return made

    def enroll(self, patient, *timeline: tuple[str, date]):
        """Rows of (stratum code, or "PROGRAM:exit", effective date), as an import writes them."""
        from coordinator.patients.assignments import recompute_end_dates
        from coordinator.strata.models import StratumAssignment

        programs = set()
        for code, effective in timeline:
            if code.endswith(":exit"):
                program, stratum = self.factories.program(code.split(":")[0]), None
            else:
                stratum = self.factories.stratum(code)
                program = stratum.program
            programs.add(program.id)
            self.session.add(StratumAssignment(
                patient_id=patient.id, program_id=program.id,
                stratum_id=stratum.id if stratum else None, effective_date=effective,
                author_label="test"))
        self.session.flush()
        for program_id in programs:
            recompute_end_dates(self.session, patient.id, program_id)
        self.session.commit()

    def appointment(self, patient, starts: datetime, status: str = "attended",
                    minutes: int = 30):
        from datetime import timedelta

        from coordinator.core.time import as_utc
        from coordinator.scheduling.models import Appointment

        start = as_utc(starts)
        appointment = Appointment(patient_id=patient.id, provider_id=self.provider_id,
                                  starts_at=start, duration_minutes=minutes,
                                  ends_at=start + timedelta(minutes=minutes), status=status)
        self.session.add(appointment)
        self.session.commit()
        return appointment

    def stay(self, patient, admitted: datetime, discharged: datetime | None,
             mode: str = "emergency", destination: str | None = "home",
             cancelled: bool = False):
        from coordinator.core.time import as_utc, utcnow
        from coordinator.stays import readmissions
        from coordinator.stays.models import Stay

        stay = Stay(patient_id=patient.id, facility_name="CH de Douai",
                    admitted_at=as_utc(admitted), admission_mode=mode,
                    discharged_at=as_utc(discharged) if discharged else None,
                    discharge_destination=destination if discharged else None,
                    cancelled_at=utcnow() if cancelled else None)
        self.session.add(stay)
        self.session.flush()
        readmissions.recompute(self.session, [patient.id])
        self.session.commit()
        return stay

    def event(self, patient, occurred_on: date, code: str = "influenza",
              event_type: str = "immunization"):
        from coordinator.stays.models import ClinicalEvent

        event = ClinicalEvent(patient_id=patient.id, event_type=event_type, code=code,
                              occurred_on=occurred_on)
        self.session.add(event)
        self.session.commit()
        return event

    def plan(self, patient, activated: date | None, closed: date | None = None,
             review: date | None = None):
        """A care plan: active from `activated` (None: a draft), closed on `closed`."""
        from coordinator.careplans.models import CarePlan, PlanStatus

        number = self._plans[patient.id] = self._plans.get(patient.id, 0) + 1
        status = PlanStatus.DRAFT if activated is None else (
            PlanStatus.CLOSED if closed else PlanStatus.ACTIVE)
        plan = CarePlan(patient_id=patient.id, plan_number=number, status=status,
                        plan_date=activated or date(2026, 1, 1), activated_on=activated,
                        closed_on=closed, review_date=review)
        self.session.add(plan)
        self.session.commit()
        return plan


@pytest.fixture
def registry(session):
    return Registry(session)
