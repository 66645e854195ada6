"""The labels of the timeline, in the reader's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from coordinator.timeline.services import TimelineKind

KIND_LABELS = {TimelineKind.STAY: _l("Hospital stays"),
               TimelineKind.APPOINTMENT: _l("Appointments"),
               TimelineKind.STRATUM: _l("Stratum changes"),
               TimelineKind.PLAN: _l("Care plan revisions"),
               TimelineKind.CONTACT: _l("Contacts"),
               TimelineKind.TASK: _l("Tasks")}
# One entry's badge.
ENTRY_LABELS = {TimelineKind.STAY: _l("Hospital stay"),
                TimelineKind.APPOINTMENT: _l("Appointment"),
                TimelineKind.STRATUM: _l("Stratum"),
                TimelineKind.PLAN: _l("Care plan"),
                TimelineKind.CONTACT: _l("Patient contact"),
                TimelineKind.TASK: _l("Task")}
PLAN_EVENT_LABELS = {"created": _l("created"), "edited": _l("edited"),
                     "activated": _l("activated"), "closed": _l("closed")}
