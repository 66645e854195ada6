"""The audit trail's actions as their readers say them (the pages show labels, not codes)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from coordinator.audit.models import AuditAction

ACTION_LABELS = {
    AuditAction.READ: _l("Read"), AuditAction.CREATE: _l("Created"),
    AuditAction.UPDATE: _l("Changed"), AuditAction.DELETE: _l("Deleted"),
    AuditAction.PRINT: _l("Printed"), AuditAction.EXPORT: _l("Exported"),
    AuditAction.MERGE: _l("Merged"), AuditAction.LOGIN: _l("Signed in"),
    AuditAction.LOGIN_FAILED: _l("Sign-in failed"), AuditAction.LOGOUT: _l("Signed out"),
}
