"""The kinds of provider, shared by the reference data (a follow-up template says which kind of
provider sees the patient) and by the directory above it (every provider has a kind)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

PROVIDER_KINDS = (
    "gp", "nurse", "pharmacist", "physiotherapist", "dietitian", "psychologist", "social_worker",
    "home_care_service", "specialist", "hospital", "association", "other",
)

PROVIDER_KIND_LABELS = {
    "gp": _l("General practitioner"), "nurse": _l("Nurse"), "pharmacist": _l("Pharmacist"),
    "physiotherapist": _l("Physiotherapist"), "dietitian": _l("Dietitian"),
    "psychologist": _l("Psychologist"), "social_worker": _l("Social worker"),
    "home_care_service": _l("Home-care service"), "specialist": _l("Specialist"),
    "hospital": _l("Hospital"), "association": _l("Association"), "other": _l("Other"),
}
