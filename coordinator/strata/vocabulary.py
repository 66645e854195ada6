"""The vocabularies the reference data shares with the domains above it: the kinds of provider (a
follow-up template says which kind of provider sees the patient; every provider of the directory
has a kind) and the domains of the multidimensional assessment (a stratum's suggested goal has
the domain a care plan's goal then carries)."""

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

# The domains of the PPCS multidimensional assessment: a care plan assesses each, its goals name
# one, and so does each goal a stratum suggests.
ASSESSMENT_DOMAINS = ("health", "autonomy", "psychological", "social", "housing", "financial",
                      "caregiver")

DOMAIN_LABELS = {
    "health": _l("Health"), "autonomy": _l("Autonomy and functional abilities"),
    "psychological": _l("Psychological and cognitive"), "social": _l("Social and family"),
    "housing": _l("Housing and environment"), "financial": _l("Financial and administrative"),
    "caregiver": _l("Caregiver burden"),
}
