"""Every model, imported once so that Alembic and `db.metadata` see the whole schema."""

from coordinator.audit.models import AuditEntry
from coordinator.auth.models import ApiToken, User
from coordinator.strata.models import Program, Stratum, Territory

__all__ = ["ApiToken", "AuditEntry", "Program", "Stratum", "Territory", "User"]
