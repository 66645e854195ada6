"""Demo data for `make run`: one account per role now, and the registry as each feature lands."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from coordinator.auth import services as auth_services
from coordinator.core.context import Actor

DEMO_PASSWORD = "coordinator-demo"  # noqa: S105 - documented demo credential


@dataclass(frozen=True)
class DemoAccount:
    email: str
    full_name: str
    role: str
    territory: str | None


DEMO_ACCOUNTS = (
    DemoAccount("case.manager@demo.test", "Camille Martin", "case_manager", "DOUAISIS"),
    DemoAccount("gp@demo.test", "Dr Jean Dupont", "gp", None),
    DemoAccount("council@demo.test", "Conseil clinique du Douaisis", "council", "DOUAISIS"),
    DemoAccount("admin@demo.test", "Alix Bernard", "admin", None),
)


def needs_demo_data(session: Session) -> bool:
    """The database holds no demo account yet (the registry's patients join this test later)."""
    return all(
        auth_services.find_user(session, account.email) is None for account in DEMO_ACCOUNTS
    )


def seed_demo(session: Session, hash_method: str) -> list[DemoAccount]:
    """Create the demo accounts that are missing (idempotent); returns those created."""
    actor = Actor.system("seed-demo")
    created = []
    for account in DEMO_ACCOUNTS:
        if auth_services.find_user(session, account.email) is not None:
            continue
        auth_services.create_user(
            session, actor, email=account.email, full_name=account.full_name, role=account.role,
            password=DEMO_PASSWORD, territory_code=account.territory, hash_method=hash_method,
        )
        created.append(account)
    return created
