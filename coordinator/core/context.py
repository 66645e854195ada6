"""Who acts, and from where: passed explicitly from views, CLI commands and jobs to services."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """The author of a change or a read, as the audit trail records it."""

    user_id: int | None
    label: str
    ip_address: str | None = None
    role: str | None = None
    territory_id: int | None = None

    @classmethod
    def for_user(cls, user, ip_address: str | None = None) -> Actor:
        return cls(user_id=user.id, label=user.email, ip_address=ip_address, role=user.role,
                   territory_id=user.territory_id)

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        """A command-line command or a background job."""
        return cls(user_id=None, label=label)
