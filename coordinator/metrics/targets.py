"""Targets per territory by program by indicator: the rule of which target applies, and their
changes (metrics.md, "indicators"; issue 14, item 3).

A territory's council sets, for each indicator of each program, the target its territory aims
at; without one, the program's target applies (`ProgramIndicator.target_percent`). The
**effective target** is the territory's own, else the program's: `indicator_refs` gives the
indicators of a program with it (what `services.targets` hands to the figures), `target_rows`
every program's for one territory (the targets page and the API). Every change is kept in
`territory_target_change` (who, when, the old and the new value; None is the program's target)
and in the audit trail. Who may read and set them is decided by `coordinator.permissions`
(`can_read_targets`, `can_set_targets`); the services here take an already-authorized actor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, SQLColumnExpression, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coordinator.audit import services as audit
from coordinator.audit.models import AuditAction
from coordinator.core.context import Actor
from coordinator.core.errors import ValidationError, raise_problems
from coordinator.core.i18n import localized_column
from coordinator.core.time import utcnow
from coordinator.metrics.models import TerritoryTarget, TerritoryTargetChange
from coordinator.metrics.results import IndicatorRef
from coordinator.outbox import services as outbox
from coordinator.outbox.models import OutboxMessage
from coordinator.strata.models import Program, ProgramIndicator, Territory

HISTORY_LIMIT = 100  # the newest changes a page or the API shows
ALERT_KIND = "metrics_target_alert"  # the outbox messages of targets not met (`metrics.jobs`)
NOTICES_SHOWN = 20
TARGET_FIELD = "target_percent"


def field_name(index: int, name: str = TARGET_FIELD) -> str:
    """The name of a row's field in the service's errors (the form's: `targets-0-...`)."""
    return f"targets-{index}-{name}"


@dataclass(frozen=True)
class TargetRow:
    """One indicator of one program as a territory sees it."""

    program_id: int
    program_code: str
    indicator_id: int
    indicator_code: str
    label: str
    is_builtin: bool
    program_percent: Decimal
    territory_percent: Decimal | None  # None: the program's target applies
    updated_at: datetime | None = None

    @property
    def effective_percent(self) -> Decimal:
        """The territory's own target, else the program's."""
        return self.territory_percent if self.territory_percent is not None \
            else self.program_percent

    @property
    def is_own(self) -> bool:
        return self.territory_percent is not None


@dataclass(frozen=True)
class TargetChange:
    """What is asked: the target of an indicator of a program; `value` None or blank goes
    back to the program's target."""

    program: str
    indicator: str
    value: object = None


@dataclass(frozen=True)
class HistoryRow:
    changed_at: datetime
    changed_by: str
    program_code: str
    indicator_code: str
    label: str
    old_percent: Decimal | None
    new_percent: Decimal | None


# -- Reading --------------------------------------------------------------------------------------

def indicator_label() -> SQLColumnExpression[str]:
    """An indicator's label in the reader's language (French without its English one)."""
    return localized_column(ProgramIndicator.label, ProgramIndicator.label_en)


def _rows_query(territory_id: int) -> Select:
    return (select(Program.id, Program.code, ProgramIndicator.id, ProgramIndicator.code,
                   indicator_label(), ProgramIndicator.is_builtin,
                   ProgramIndicator.target_percent, TerritoryTarget.target_percent,
                   TerritoryTarget.updated_at)
            .join(Program, Program.id == ProgramIndicator.program_id)
            .outerjoin(TerritoryTarget, (TerritoryTarget.indicator_id == ProgramIndicator.id)
                       & (TerritoryTarget.territory_id == territory_id))
            .order_by(Program.code, ProgramIndicator.is_builtin.desc(), ProgramIndicator.code))


def target_rows(session: Session, territory_id: int, program_id: int | None = None
                ) -> list[TargetRow]:
    """Every indicator of every program (or of one) with the program's target and the
    territory's own (one statement)."""
    query = _rows_query(territory_id)
    if program_id is not None:
        query = query.where(ProgramIndicator.program_id == program_id)
    return [TargetRow(*row) for row in session.execute(query)]


def indicator_refs(session: Session, program_id: int, territory_id: int | None
                   ) -> tuple[IndicatorRef, ...]:
    """The indicators of a program with their effective target in the territory (without a
    territory: the program's targets), as the figures carry them (one statement)."""
    if territory_id is None:
        return tuple(IndicatorRef(code, label, target) for code, label, target in session.execute(
            select(ProgramIndicator.code, indicator_label(),
                   ProgramIndicator.target_percent)
            .where(ProgramIndicator.program_id == program_id)
            .order_by(ProgramIndicator.is_builtin.desc(), ProgramIndicator.code)))
    return tuple(IndicatorRef(row.indicator_code, row.label, row.effective_percent)
                 for row in target_rows(session, territory_id, program_id))


def own_targets_by_territory(session: Session, program_id: int
                             ) -> dict[int, dict[str, Decimal]]:
    """Each territory's own targets for the program's indicators: territory id → indicator
    code → target (one statement; what a comparison of the territories needs)."""
    found: dict[int, dict[str, Decimal]] = {}
    for territory_id, code, target in session.execute(
            select(TerritoryTarget.territory_id, ProgramIndicator.code,
                   TerritoryTarget.target_percent)
            .join(ProgramIndicator, ProgramIndicator.id == TerritoryTarget.indicator_id)
            .where(ProgramIndicator.program_id == program_id)):
        found.setdefault(territory_id, {})[code] = target
    return found


def with_own_targets(indicators: Sequence[IndicatorRef], own: dict[str, Decimal]
                     ) -> tuple[IndicatorRef, ...]:
    """The program's indicators with a territory's own targets in place of the program's."""
    return tuple(IndicatorRef(ref.code, ref.label, own.get(ref.code, ref.target_percent))
                 for ref in indicators)


def history(session: Session, territory_id: int, limit: int = HISTORY_LIMIT
            ) -> list[HistoryRow]:
    """The territory's target changes, newest first (one statement)."""
    return [HistoryRow(*row) for row in session.execute(
        select(TerritoryTargetChange.changed_at, TerritoryTargetChange.changed_by_label,
               Program.code, ProgramIndicator.code, indicator_label(),
               TerritoryTargetChange.old_percent, TerritoryTargetChange.new_percent)
        .join(ProgramIndicator, ProgramIndicator.id == TerritoryTargetChange.indicator_id)
        .join(Program, Program.id == ProgramIndicator.program_id)
        .where(TerritoryTargetChange.territory_id == territory_id)
        .order_by(TerritoryTargetChange.changed_at.desc(), TerritoryTargetChange.id.desc())
        .limit(limit))]


def notices(session: Session, user_id: int, limit: int = NOTICES_SHOWN) -> list[OutboxMessage]:
    """The notices of targets not met addressed to an account, newest first (one statement):
    what a council reads on its home page and on the targets page."""
    return list(session.scalars(outbox.for_user(user_id, ALERT_KIND).limit(limit)))


# -- Changing -------------------------------------------------------------------------------------

def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_percent(value: object) -> Decimal | None:
    """A percentage from 0 to 100 with at most two decimals (a comma is read as the point);
    None when it is not one."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        return None
    if not number.is_finite() or not 0 <= number <= 100:
        return None
    return number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def set_targets(session: Session, actor: Actor, territory: Territory,
                changes: Sequence[TargetChange]) -> int:
    """Set the territory's targets, all or nothing: each change names a program and one of its
    indicators, and a target from 0 to 100 % (blank or None: the program's target again).
    Errors name the row's field (`targets-1-target_percent`, `targets-1-indicator`). Each
    target that changes is kept in the history and audited; returns how many changed."""
    rows = {(row.program_code, row.indicator_code): row
            for row in target_rows(session, territory.id)}
    problems: list[tuple[str, object]] = []
    wanted: dict[int, tuple[TargetRow, Decimal | None]] = {}
    for index, change in enumerate(changes):
        row = rows.get((change.program, change.indicator))
        if row is None:
            problems.append((field_name(index, "indicator"), _l(
                "Unknown indicator %(code)s of program %(program)s.", code=change.indicator,
                program=change.program)))
            continue
        value = None if _blank(change.value) else parse_percent(change.value)
        if value is None and not _blank(change.value):
            problems.append((field_name(index), _l("The target is a percentage from 0 to 100.")))
            continue
        wanted[row.indicator_id] = (row, value)
    raise_problems(problems)
    changed = [(row, value) for row, value in wanted.values() if row.territory_percent != value]
    if not changed:
        return 0
    existing = {target.indicator_id: target for target in session.scalars(
        select(TerritoryTarget).where(TerritoryTarget.territory_id == territory.id,
                                      TerritoryTarget.indicator_id.in_(
                                          [row.indicator_id for row, _ in changed])))}
    now = utcnow()
    for row, value in changed:
        target = existing.get(row.indicator_id)
        if value is None:
            if target is not None:
                session.delete(target)
        elif target is None:
            session.add(TerritoryTarget(territory_id=territory.id, indicator_id=row.indicator_id,
                                        target_percent=value, updated_at=now,
                                        updated_by_user_id=actor.user_id))
        else:
            target.target_percent, target.updated_at = value, now
            target.updated_by_user_id = actor.user_id
        session.add(TerritoryTargetChange(
            territory_id=territory.id, indicator_id=row.indicator_id,
            old_percent=row.territory_percent, new_percent=value, changed_at=now,
            changed_by_user_id=actor.user_id, changed_by_label=actor.label))
    try:
        with session.begin_nested():  # a concurrent first save of the same target
            session.flush()
    except IntegrityError:
        raise ValidationError({"targets": [_l(
            "These targets were changed at the same time by someone else: read them again."
        )]}) from None
    audit.record(session, actor, AuditAction.UPDATE, "territory_target", territory.id,
                 summary=f"{territory.code}: {len(changed)} target(s)",
                 details={"targets": [
                     {"program": row.program_code, "indicator": row.indicator_code,
                      "old": None if row.territory_percent is None
                      else str(row.territory_percent),
                      "new": None if value is None else str(value)}
                     for row, value in changed]})
    return len(changed)
