"""Every model, imported once so that Alembic and `db.metadata` see the whole schema."""

from coordinator.audit.models import AuditEntry
from coordinator.auth.models import ApiToken, User
from coordinator.careplans.models import (
    CarePlan,
    CarePlanAction,
    CarePlanAssessment,
    CarePlanComment,
    CarePlanGoal,
    CarePlanMember,
    CarePlanRevision,
)
from coordinator.imports.models import ImportReport  # noqa: F401 - registers its table
from coordinator.jobs.models import JobRun
from coordinator.outbox.models import OutboxMessage
from coordinator.patients.models import ConsentEvent, Patient
from coordinator.printing.models import PrintBatch, PrintedDocument
from coordinator.providers.models import Provider
from coordinator.scheduling.models import Appointment, CalendarFeed, FollowUpRound
from coordinator.strata.models import (
    FollowUpTemplateItem,
    Program,
    ProgramIndicator,
    Stratum,
    StratumAssignment,
    Territory,
)
from coordinator.work.models import WorkBlob, WorkItem

__all__ = [
    "ApiToken",
    "Appointment",
    "AuditEntry",
    "CalendarFeed",
    "CarePlan",
    "CarePlanAction",
    "CarePlanAssessment",
    "CarePlanComment",
    "CarePlanGoal",
    "CarePlanMember",
    "CarePlanRevision",
    "ConsentEvent",
    "FollowUpRound",
    "FollowUpTemplateItem",
    "JobRun",
    "OutboxMessage",
    "Patient",
    "PrintBatch",
    "PrintedDocument",
    "Program",
    "ProgramIndicator",
    "Provider",
    "Stratum",
    "StratumAssignment",
    "Territory",
    "User",
    "WorkBlob",
    "WorkItem",
]
