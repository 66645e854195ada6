"""The labels of tasks, contacts and alerts, in the reader's language (pages, worklist,
patient record)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from coordinator.tasks.models import (
    AlertKind,
    ContactChannel,
    ContactOutcome,
    TaskKind,
    TaskResolution,
    TaskStatus,
)

KIND_LABELS = {TaskKind.DISCHARGE_CONTACT: _l("Contact after discharge"),
               TaskKind.DISCHARGE_VISIT: _l("Follow-up visit after discharge")}
STATUS_LABELS = {TaskStatus.OPEN: _l("To do"), TaskStatus.DONE: _l("Done"),
                 TaskStatus.CANCELLED: _l("Cancelled")}
RESOLUTION_LABELS = {TaskResolution.CONTACT: _l("Contact recorded"),
                     TaskResolution.APPOINTMENT: _l("Attended appointment"),
                     TaskResolution.MANUAL: _l("Closed by hand"),
                     TaskResolution.STAY_CANCELLED: _l("Discharge or admission cancelled"),
                     TaskResolution.READMITTED: _l("Readmitted"),
                     TaskResolution.DECEASED: _l("Deceased")}
CHANNEL_LABELS = {ContactChannel.PHONE: _l("Phone call"), ContactChannel.VISIT: _l("Visit"),
                  ContactChannel.TELECONSULTATION: _l("Teleconsultation"),
                  ContactChannel.MESSAGE: _l("Message")}
OUTCOME_LABELS = {ContactOutcome.REACHED: _l("Reached"),
                  ContactOutcome.NO_ANSWER: _l("No answer"),
                  ContactOutcome.LEFT_MESSAGE: _l("Left a message"),
                  ContactOutcome.WRONG_NUMBER: _l("Wrong number"),
                  ContactOutcome.REFUSED: _l("Refused")}
ALERT_LABELS = {AlertKind.ADMITTED: _l("In hospital"),
                AlertKind.DISCHARGED_WITHOUT_FOLLOWUP: _l("Discharged without a follow-up"),
                AlertKind.READMITTED: _l("Readmitted")}


class TaskLabels:
    """The labels as one template global (`task_labels.kind[task.kind]`...)."""

    kind = KIND_LABELS
    status = STATUS_LABELS
    resolution = RESOLUTION_LABELS
    channel = CHANNEL_LABELS
    outcome = OUTCOME_LABELS
    alert = ALERT_LABELS
