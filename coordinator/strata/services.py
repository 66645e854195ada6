"""Rules on territories, programs and strata."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.strata import reference
from coordinator.strata.models import (
    FollowUpTemplateItem,
    Program,
    ProgramIndicator,
    Stratum,
    Territory,
)

CARE_PLAN_LEVEL = 3


@dataclass
class ReferenceLoad:
    territories: int = 0
    programs: int = 0
    strata: int = 0


def load_reference_data(session: Session) -> ReferenceLoad:
    """Insert the reference territories, programs and strata that are missing (idempotent).

    Existing rows are left as administrators and councils edited them.
    """
    added = ReferenceLoad()
    territories = set(session.scalars(select(Territory.code)))
    for code, name in reference.TERRITORIES:
        if code not in territories:
            session.add(Territory(code=code, name=name))
            added.territories += 1
    programs = {p.code: p for p in session.scalars(select(Program))}
    strata = set(session.scalars(select(Stratum.code)))
    for code, name, name_en, description, description_en, levels in reference.PROGRAMS:
        program = programs.get(code)
        if program is None:
            program = Program(code=code, name=name, name_en=name_en, description=description,
                              description_en=description_en)
            session.add(program)
            added.programs += 1
        for level, s_name, s_name_en, s_desc, s_desc_en in levels:
            stratum_code = f"{code}-{level}"
            if stratum_code in strata:
                continue
            stratum = Stratum(code=stratum_code, level=level, name=s_name, name_en=s_name_en,
                              description=s_desc, description_en=s_desc_en,
                              requires_care_plan=level >= CARE_PLAN_LEVEL)
            for position, (kind, label, interval, count) in enumerate(
                    reference.FOLLOWUP_TEMPLATES.get(level, [])):
                stratum.followup_items.append(FollowUpTemplateItem(
                    position=position, provider_kind=kind, label=label, interval_days=interval,
                    occurrences=count))
            program.strata.append(stratum)
            added.strata += 1
        existing = {indicator.code for indicator in program.indicators}
        for indicator_code, label, target in reference.BUILTIN_INDICATORS:
            if indicator_code not in existing:
                program.indicators.append(ProgramIndicator(
                    code=indicator_code, label=label, target_percent=target, is_builtin=True))
    session.flush()
    return added


def list_territories(session: Session) -> list[Territory]:
    return list(session.scalars(select(Territory).order_by(Territory.code)))


def list_programs(session: Session) -> list[Program]:
    return list(session.scalars(select(Program).order_by(Program.code)))
