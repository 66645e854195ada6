"""The roles of Coordinator."""

from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext as _l


class Role(StrEnum):
    CASE_MANAGER = "case_manager"
    GP = "gp"
    PROFESSIONAL = "professional"  # another provider of a care team (nurse, dietitian...)
    COUNCIL = "council"
    ADMIN = "admin"
    INTEGRATION = "integration"  # a hospital system: may send HL7 v2 messages, nothing else

    @property
    def label(self):
        return ROLE_LABELS[self]

    @property
    def needs_territory(self) -> bool:
        return self in (Role.CASE_MANAGER, Role.COUNCIL)


ROLE_LABELS = {
    Role.CASE_MANAGER: _l("Case manager"),
    Role.GP: _l("General practitioner"),
    Role.PROFESSIONAL: _l("Care-team professional"),
    Role.COUNCIL: _l("Territorial clinical council"),
    Role.ADMIN: _l("Administrator"),
    Role.INTEGRATION: _l("Integration (hospital system)"),
}
