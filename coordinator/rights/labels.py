"""What the readable export calls the entries of the access log: their actions (the audit
pages' labels) and the kinds of record they were about (any other kind is shown by its code)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from coordinator.audit import labels as audit_labels

ACTION_LABELS = audit_labels.ACTION_LABELS  # the audit pages' own words
RECORD_LABELS = {
    "patient": _l("the record"), "care_plan": _l("a care plan"),
    "care_plan_comment": _l("a comment on a plan"), "appointment": _l("an appointment"),
    "stay": _l("a hospital stay"), "clinical_event": _l("a clinical event"),
    "stratum_assignment": _l("a stratum"), "calendar_feed": _l("a calendar feed"),
    "contact": _l("a contact"), "task": _l("a task"),
    "alert_acknowledgement": _l("an alert"), "hl7_message": _l("a hospital message"),
    "patient_timeline": _l("the timeline"), "outbox_message": _l("a message"),
}
