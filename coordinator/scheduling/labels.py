"""The labels of appointments' kinds, statuses and no-show reasons, in the reader's language
(forms, pages, feeds)."""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from coordinator.scheduling.models import AppointmentKind, AppointmentStatus, NoShowReason

KIND_LABELS = {AppointmentKind.CONSULTATION: _l("Consultation"),
               AppointmentKind.HOME_VISIT: _l("Home visit"),
               AppointmentKind.TELECONSULTATION: _l("Teleconsultation"),
               AppointmentKind.GROUP_SESSION: _l("Group session")}
STATUS_LABELS = {AppointmentStatus.SCHEDULED: _l("Scheduled"),
                 AppointmentStatus.ATTENDED: _l("Attended"),
                 AppointmentStatus.NO_SHOW: _l("No-show"),
                 AppointmentStatus.CANCELLED_PATIENT: _l("Cancelled by the patient"),
                 AppointmentStatus.CANCELLED_PROVIDER: _l("Cancelled by the provider")}
REASON_LABELS = {NoShowReason.FORGOT: _l("Forgot"), NoShowReason.TRANSPORT: _l("Transport"),
                 NoShowReason.HOSPITALISED: _l("Hospitalised"),
                 NoShowReason.REFUSED: _l("Refused"), NoShowReason.OTHER: _l("Other")}

# "3rd consecutive no-show": the ordinal's form chosen by the reader's language's CLDR ordinal
# rule (English: one, two, few, other; French: one, other).
ORDINAL_NO_SHOW = {"one": _l("%(num)dst consecutive no-show"),
                   "two": _l("%(num)dnd consecutive no-show"),
                   "few": _l("%(num)drd consecutive no-show"),
                   "other": _l("%(num)dth consecutive no-show")}


def consecutive_no_show(count: int) -> str:
    """The place of a no-show in the patient's run of no-shows, in the reader's language."""
    locale = get_locale()
    form = locale.ordinal_form(count) if locale is not None else "other"
    return str(ORDINAL_NO_SHOW.get(form, ORDINAL_NO_SHOW["other"])) % {"num": count}
