"""The labels of appointments' kinds, statuses and no-show reasons, in the reader's language
(forms, pages, feeds)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

KIND_LABELS = {"consultation": _l("Consultation"), "home_visit": _l("Home visit"),
               "teleconsultation": _l("Teleconsultation"), "group_session": _l("Group session")}
STATUS_LABELS = {"scheduled": _l("Scheduled"), "attended": _l("Attended"),
                 "no_show": _l("No-show"), "cancelled_patient": _l("Cancelled by the patient"),
                 "cancelled_provider": _l("Cancelled by the provider")}
REASON_LABELS = {"forgot": _l("Forgot"), "transport": _l("Transport"),
                 "hospitalised": _l("Hospitalised"), "refused": _l("Refused"),
                 "other": _l("Other")}
