"""Job runs and outbox messages as their readers say them (the pages show labels, not codes)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from coordinator.jobs.models import JobStatus, JobTrigger
from coordinator.outbox.models import OutboxStatus

RUN_STATUS_LABELS = {JobStatus.RUNNING: _l("Running"), JobStatus.SUCCEEDED: _l("Succeeded"),
                     JobStatus.FAILED: _l("Failed")}
TRIGGER_LABELS = {JobTrigger.SCHEDULE: _l("Scheduled"), JobTrigger.MANUAL: _l("By hand")}
OUTBOX_STATUS_LABELS = {
    OutboxStatus.PENDING: _l("Waiting"), OutboxStatus.SENDING: _l("Being sent"),
    OutboxStatus.SENT: _l("Sent"), OutboxStatus.FAILED: _l("Not sent"),
    OutboxStatus.SHOWN: _l("Shown in the application"),
}
