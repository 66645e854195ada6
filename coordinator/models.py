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
from coordinator.hl7.models import Hl7Message
from coordinator.imports.models import ImportReport  # noqa: F401 - registers its table
from coordinator.jobs.models import JobRun
from coordinator.metrics.models import TerritoryTarget, TerritoryTargetChange
from coordinator.outbox.models import OutboxMessage
from coordinator.patients.models import ConsentEvent, Patient
from coordinator.printing.models import PrintBatch, PrintedDocument
from coordinator.providers.models import Provider
from coordinator.scheduling.models import Appointment, CalendarFeed, FollowUpRound
from coordinator.stays.models import ClinicalEvent, Stay, StayDiagnosis
from coordinator.strata.models import (
    FollowUpTemplateItem,
    Program,
    ProgramIndicator,
    Stratum,
    StratumAssignment,
    StratumCorrection,
    StratumGoal,
    Territory,
)
from coordinator.tasks.models import AlertAcknowledgement, Contact, Task
from coordinator.work.models import WorkBlob, WorkerBeat, WorkItem

__all__ = [
    "AlertAcknowledgement",
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
    "ClinicalEvent",
    "ConsentEvent",
    "Contact",
    "FollowUpRound",
    "FollowUpTemplateItem",
    "Hl7Message",
    "JobRun",
    "OutboxMessage",
    "Patient",
    "PrintBatch",
    "PrintedDocument",
    "Program",
    "ProgramIndicator",
    "Provider",
    "Stay",
    "StayDiagnosis",
    "Stratum",
    "StratumAssignment",
    "StratumCorrection",
    "StratumGoal",
    "Task",
    "Territory",
    "TerritoryTarget",
    "TerritoryTargetChange",
    "User",
    "WorkBlob",
    "WorkItem",
    "WorkerBeat",
]
