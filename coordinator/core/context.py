"""Who acts, and from where: passed explicitly from views, CLI commands and jobs to services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class Account(Protocol):
    """A signed-in account as an actor sees it (the core imports no domain's model)."""

    @property
    def id(self) -> int: ...

    @property
    def email(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def territory_id(self) -> int | None: ...


@dataclass(frozen=True)
class Actor:
    """The author of a change or a read, as the audit trail records it."""

    user_id: int | None
    label: str
    ip_address: str | None = None
    role: str | None = None
    territory_id: int | None = None

    @classmethod
    def for_user(cls, user: Account, ip_address: str | None = None) -> Actor:
        return cls(user_id=user.id, label=user.email, ip_address=ip_address, role=user.role,
                   territory_id=user.territory_id)

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        """A command-line command or a background job."""
        return cls(user_id=None, label=label)
