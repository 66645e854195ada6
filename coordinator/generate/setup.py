"""What the chunks share: the reference data's ids, the territories' providers and case
managers (created here, or those of the registry when appending), and the id counters."""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date
from itertools import accumulate

from faker import Faker
from faker.providers.person.fr_FR import Provider as FrenchNames
from sqlalchemy import column, func, select
from sqlalchemy import table as table_clause
from sqlalchemy.orm import Session, selectinload

from coordinator.auth.models import User
from coordinator.auth.roles import Role
from coordinator.core.normalize import fold
from coordinator.generate import vocabulary as v
from coordinator.generate.clock import Clock, Codec
from coordinator.generate.registry import (
    COLUMNS,
    FUTURE_DAYS,
    NOW_MINUTE,
    Context,
    Names,
    ProgramInfo,
    StratumInfo,
    Territory,
)
from coordinator.providers.models import Provider
from coordinator.strata.models import Program, Stratum
from coordinator.strata.models import Territory as TerritoryModel

# Tables whose ids the generator gives (the user accounts and providers it creates, and every
# table of the chunks).
ID_TABLES = ("user_account", "provider", *COLUMNS)
# The share of a territory's patients with an active care plan (for the number of case
# managers: one per vocabulary.CASELOAD of them), as the generator's rates give it.
ACTIVE_PLAN_SHARE = 0.05
PROVIDER_COLUMNS = ("id", "external_id", "kind", "name", "name_folded", "rpps", "finess",
                    "organisation", "territory_id", "phone", "email", "address", "postal_code",
                    "city", "is_active", "created_at", "updated_at", "version")
USER_COLUMNS = ("id", "email", "full_name", "password_hash", "role", "territory_id",
                "provider_id", "is_active", "locale", "created_at", "last_login_at",
                "password_changed_at", "session_version")
ORGANISATION_KINDS = ("home_care_service", "hospital", "association", "other")
# At most this many rows of a table per patient and year of history (about four times what
# the rates give), plus a constant: the size of each chunk's block of ids (see
# registry.Context). The prevalent enrollments begin up to three years before the history.
ROWS_PER_PATIENT_YEAR = {
    "consent_event": (0, 2), "stratum_assignment": (1.5, 10), "care_plan": (0.3, 3),
    "care_plan_assessment": (2, 20), "care_plan_goal": (2, 20), "care_plan_action": (2, 20),
    "care_plan_member": (2, 20), "care_plan_revision": (2, 20), "stay": (2, 10),
    "stay_diagnosis": (6, 20), "clinical_event": (14, 20), "appointment": (20, 50),
}


@dataclass(frozen=True)
class Options:
    patients: int
    territories: tuple[str, ...]
    years: int
    seed: int
    today: date
    chunk_size: int
    password_hash: str


def names() -> Names:
    last = list(FrenchNames.last_names)
    first = {"F": list(FrenchNames.first_names_female), "M": list(FrenchNames.first_names_male)}
    every = {*last, *first["F"], *first["M"]}
    folded = {name: fold(name) for name in every}
    mail = {name: folded[name].lower().replace(" ", "-") for name in every}
    return Names(last=last, first=first, folded=folded, mail=mail)


def next_ids(session: Session, tables: tuple[str, ...]) -> dict[str, int]:
    """The first free id of each table (after the registry's own rows when appending)."""
    return {name: (session.scalar(select(func.max(column("id"))).select_from(
        table_clause(name))) or 0) + 1 for name in tables}


def prepare(session: Session, options: Options, codec: Codec
            ) -> tuple[Context, dict[str, list[tuple]]]:
    """The chunks' context, and the rows of the providers and accounts to create first."""
    rng = random.Random(f"{options.seed}:setup")
    fake = Faker("fr_FR")
    fake.seed_instance(options.seed)
    today = options.today.toordinal()
    start = today - round(options.years * 365.25)
    clock = Clock(today - 102 * 366, today + FUTURE_DAYS + 400, codec)
    ids = next_ids(session, ID_TABLES)
    ctx = Context(seed=options.seed, today=today, start=start, codec=codec, clock=clock,
                  territories=[], territory_weights=[], programs=[], templates={},
                  provider_names={}, next_id=ids, names=names())
    rows: dict[str, list[tuple]] = {"user_account": [], "provider": []}
    models = {t.code: t for t in session.scalars(
        select(TerritoryModel).where(TerritoryModel.code.in_(options.territories)))}
    weights = [v.POPULATION_WEIGHTS.get(code, 300) for code in options.territories]
    total = sum(weights)
    now = clock.instant(today, NOW_MINUTE - 60)
    for code, weight in zip(options.territories, weights, strict=True):
        model = models[code]
        expected = options.patients * weight / total
        territory = _territory(session, ctx, rng, fake, model, expected, rows, now)
        territory.case_managers = _case_managers(session, ctx, fake, model, expected, rows, now,
                                                 options.password_hash)
        ctx.territories.append(territory)
    ctx.territory_weights = list(accumulate(weights))
    _programs(session, ctx)
    years = options.years + 3
    for table, (per_year, constant) in ROWS_PER_PATIENT_YEAR.items():
        ctx.first_id[table] = ctx.next_id[table]
        ctx.strides[table] = options.chunk_size * math.ceil(per_year * years + constant)
    return ctx, rows


def _programs(session: Session, ctx: Context) -> None:
    programs = session.scalars(select(Program).options(
        selectinload(Program.strata).selectinload(Stratum.followup_items),
        selectinload(Program.strata).selectinload(Stratum.goals))
        .order_by(Program.id)).all()
    for program in programs:
        strata = {}
        for stratum in program.strata:
            strata[stratum.level] = StratumInfo(
                id=stratum.id, code=stratum.code, level=stratum.level,
                goals=[(goal.domain, goal.description) for goal in stratum.goals],
                items=[(item.provider_kind, item.interval_days, item.label, item.occurrences)
                       for item in stratum.followup_items])
        if not {1, 2, 3} <= set(strata):
            continue  # the generator draws levels 1 to 3
        ctx.programs.append(ProgramInfo(id=program.id, code=program.code,
                                        display=program.name,
                                        strata=strata))
        for level in (1, 2, 3):
            if level not in ctx.templates:
                ctx.templates[level] = [(kind, interval, label)
                                        for kind, interval, label, _count in strata[level].items]


def _territory(session: Session, ctx: Context, rng: random.Random, fake: Faker,
               model: TerritoryModel, expected: float, rows: dict[str, list[tuple]],
               now: str) -> Territory:
    code = model.code
    department = v.DEPARTMENTS.get(code, "75")
    towns = v.TOWNS.get(code) or [(model.name, f"{department}000", 1)]
    territory = Territory(
        id=model.id, code=code, department=department,
        towns=[(name, postal) for name, postal, _weight in towns],
        town_weights=list(accumulate(weight for _n, _p, weight in towns)),
        addresses=[fake.street_address() for _ in range(400)], hospitals=[],
        hospital_weights=[], university=("", ""), providers={}, gp_weights=[],
        case_managers=[])
    existing = session.execute(
        select(Provider.id, Provider.kind, Provider.name, Provider.organisation,
               Provider.finess, Provider.is_active)
        .where(Provider.territory_id == model.id).order_by(Provider.id)).all()
    by_kind: dict[str, list[int]] = {}
    for row in existing:
        ctx.provider_names[row.id] = row.name
        if row.is_active:
            by_kind.setdefault(row.kind, []).append(row.id)
        if row.kind == "hospital" and row.finess:
            territory.hospitals.append((row.organisation or row.name, row.finess))
    serial = [0]

    def add(kind: str, name: str, organisation: str | None, rpps: str | None,
            finess: str | None, town: tuple[str, str], active: bool = True) -> int:
        provider_id = ctx.ids("provider")
        serial[0] += 1
        phone = f"{v.PHONE_PREFIXES.get(code, '01 40')} {rng.randrange(100):02d} " \
                f"{rng.randrange(100):02d} {rng.randrange(100):02d}"
        email = f"{fold(name).lower().replace(' ', '.')}@example.org" \
            if rng.random() < 0.5 else None
        rows["provider"].append(_provider_row(
            ctx.codec, provider_id, kind, name, rpps, finess, organisation, model.id, phone,
            email, rng.choice(territory.addresses), town, active, now))
        ctx.provider_names[provider_id] = name
        if active:
            by_kind.setdefault(kind, []).append(provider_id)
        return provider_id

    if not territory.hospitals:
        for index, (name, _weight) in enumerate(v.HOSPITALS.get(code, [])):
            hospital_finess = f"{department}{int(model.id) * 1000 + index + 1:07d}"
            town = territory.towns[min(index, len(territory.towns) - 1)]
            add("hospital", name, name, None, hospital_finess, town)
            territory.hospitals.append((name, hospital_finess))
    if not territory.hospitals:
        territory.hospitals.append((f"Centre hospitalier - {model.name}",
                                    f"{department}{8000000 + model.id:07d}"))
    territory.hospital_weights = list(accumulate(
        dict(v.HOSPITALS.get(code, [])).get(name, 1) for name, _finess in territory.hospitals))
    university, university_department = v.UNIVERSITY_HOSPITALS.get(
        code, (f"CHU - {model.name}", department))
    territory.university = (university, f"{university_department}{9000000 + model.id:07d}")
    for kind, per_100k in v.PROVIDERS_PER_100K.items():
        if kind == "hospital" or by_kind.get(kind):
            continue
        count = max(1, round(per_100k * expected / 100_000))
        for _ in range(count):
            town = territory.towns[min(len(territory.towns) - 1,
                                       bisect_right(territory.town_weights,
                                                    rng.random() * territory.town_weights[-1]))]
            name, organisation, rpps, finess = _provider_identity(
                rng, fake, kind, town[0], department, ctx.next_id["provider"])
            add(kind, name, organisation, rpps, finess, town, active=rng.random() >= 0.02)
    if not by_kind.get("gp"):  # every GP of the territory was deactivated
        town = territory.towns[0]
        add("gp", f"Dr {fake.name()}", None, f"10{ctx.next_id['provider']:09d}", None, town)
    territory.providers = by_kind
    territory.provider_lists = [(kind, ids) for kind, ids in by_kind.items()
                                if kind != "gp" and ids]
    # Some GPs have long patient lists, others short ones.
    territory.gp_weights = list(accumulate(math.exp(rng.gauss(0, 0.5))
                                           for _ in by_kind["gp"]))
    return territory


def _provider_identity(rng: random.Random, fake: Faker, kind: str, town: str, department: str,
                       serial: int) -> tuple[str, str | None, str | None, str | None]:
    """(name, organisation, RPPS, FINESS) of a new provider of this kind."""
    finess = f"{department}{serial:07d}"
    rpps = f"10{serial:09d}"
    if kind == "home_care_service":
        return f"SSIAD de {town}", f"SSIAD de {town}", None, finess
    if kind == "association":
        name = f"{rng.choice(v.ASSOCIATIONS)} - {town}"
        return name, name, None, None
    if kind == "other":
        name = f"{rng.choice(v.OTHER_SERVICES)} - {town}"
        return name, name, None, None
    person = fake.name()
    if kind == "gp":
        return f"Dr {person}", None, rpps, None
    if kind == "specialist":
        return f"Dr {person}", f"Cabinet de {rng.choice(v.SPECIALTIES)}", rpps, None
    if kind == "pharmacist":
        return person, f"Pharmacie de {town}", rpps, None
    if kind == "nurse":
        return person, f"Cabinet infirmier de {town}" if rng.random() < 0.6 else None, rpps, None
    return person, None, rpps, None


def _provider_row(codec: Codec, provider_id: int, kind: str, name: str, rpps: str | None,
                  finess: str | None, organisation: str | None, territory_id: int, phone: str,
                  email: str | None, address: str, town: tuple[str, str], active: bool,
                  now: str) -> tuple:
    null = codec.null
    return (str(provider_id), f"GEN-R{provider_id:07d}", kind, name, fold(name), rpps or null,
            finess or null, organisation or null, str(territory_id), phone, email or null,
            address, town[1], town[0], codec.true if active else codec.false, now, now, "1")


def _case_managers(session: Session, ctx: Context, fake: Faker, model: TerritoryModel,
                   expected: float, rows: dict[str, list[tuple]], now: str,
                   password_hash: str) -> list[tuple[int, str]]:
    existing = session.execute(
        select(User.id, User.email).where(User.role == Role.CASE_MANAGER,
                                          User.territory_id == model.id,
                                          User.is_active.is_(True))
        .order_by(User.id)).all()
    if existing:
        return [(row.id, row.email) for row in existing]
    codec = ctx.codec
    null = codec.null
    count = max(1, math.ceil(expected * ACTIVE_PLAN_SHARE / v.CASELOAD))
    managers = []
    taken = set(session.scalars(select(User.email).where(User.email.like("%@generate.test"))))
    slug = model.code.lower()
    for number in range(1, count + 1):
        email = f"cm.{slug}.{number:03d}@generate.test"
        if email in taken:
            continue
        user_id = ctx.ids("user_account")
        rows["user_account"].append((str(user_id), email, fake.name(), password_hash,
                                     Role.CASE_MANAGER.value, str(model.id), null, codec.true,
                                     null, now, null, null, "1"))
        managers.append((user_id, email))
    council = f"council.{slug}@generate.test"
    if council not in taken:
        rows["user_account"].append((str(ctx.ids("user_account")), council,
                                     f"Conseil clinique - {model.name}", password_hash,
                                     Role.COUNCIL.value, str(model.id), null, codec.true, null,
                                     now, null, null, "1"))
    return managers


