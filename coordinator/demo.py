"""Demo data for `make run`: one account per role and a realistic registry (synthetic, French)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from faker import Faker
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordinator.auth import services as auth_services
from coordinator.core.context import Actor
from coordinator.core.time import local_today
from coordinator.patients import assignments
from coordinator.patients import services as patient_services
from coordinator.patients.models import IdentityStatus, Patient
from coordinator.providers import services as provider_services
from coordinator.strata.models import Program, Stratum, StratumAssignment, Territory

DEMO_PASSWORD = "coordinator-demo"  # noqa: S105 - documented demo credential
PATIENTS = 2000
PROVIDERS_PER_TERRITORY = 60
DEPARTMENTS = {"AUBE-SEZ": "10", "CORNOUAILLE": "29", "DEUX-SEVRES": "79", "DOUAISIS": "59",
               "HAUTE-SAONE": "70"}
# Kinds weighted like a territory's resources: many GPs and nurses, a few hospitals.
KIND_WEIGHTS = {"gp": 14, "nurse": 12, "pharmacist": 6, "physiotherapist": 5, "dietitian": 3,
                "psychologist": 3, "social_worker": 3, "home_care_service": 3, "specialist": 5,
                "hospital": 2, "association": 2, "other": 2}

ORGANISATION_PREFIXES = {"home_care_service": "SSIAD", "hospital": "Centre hospitalier",
                         "association": "Association", "other": "Service"}


@dataclass(frozen=True)
class DemoAccount:
    email: str
    full_name: str
    role: str
    territory: str | None


DEMO_ACCOUNTS = (
    DemoAccount("case.manager@demo.test", "Camille Martin", "case_manager", "DOUAISIS"),
    DemoAccount("gp@demo.test", "Dr Claire Martin", "gp", None),
    DemoAccount("council@demo.test", "Conseil clinique du Douaisis", "council", "DOUAISIS"),
    DemoAccount("admin@demo.test", "Alix Bernard", "admin", None),
)


def needs_demo_data(session: Session) -> bool:
    """True when the registry has no patient yet."""
    return not session.scalar(select(func.count()).select_from(Patient))


def _nir(rng: random.Random, sex: str, birth: date, department: str) -> str:
    body = (f"{'1' if sex == 'M' else '2'}{birth.year % 100:02d}{birth.month:02d}{department}"
            f"{rng.randint(1, 999):03d}{rng.randint(1, 999):03d}")
    return f"{body}{97 - int(body) % 97:02d}"


def seed_accounts(session: Session, hash_method: str) -> list[DemoAccount]:
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


def seed_registry(session: Session, seed: int = 2026, patients: int = PATIENTS) -> dict:
    """Providers of every kind in each territory, then patients stratified in a pyramid
    (about 70 % level 1, 25 % level 2, 5 % level 3), some moving up recently."""
    rng = random.Random(seed)
    fake = Faker("fr_FR")
    fake.seed_instance(seed)
    actor = Actor.system("seed-demo")
    today = local_today()
    territories = list(session.scalars(select(Territory).order_by(Territory.code)))
    programs = list(session.scalars(select(Program).order_by(Program.code)))
    kinds = list(KIND_WEIGHTS)
    gps: dict[int, list] = {}
    for territory in territories:
        for index in range(PROVIDERS_PER_TERRITORY):
            kind = kinds[index] if index < len(kinds) else rng.choices(
                kinds, weights=[KIND_WEIGHTS[k] for k in kinds])[0]
            person = kind not in ORGANISATION_PREFIXES
            if person:
                name = ("Dr " if kind in ("gp", "specialist") else "") + fake.name()
            else:
                name = f"{ORGANISATION_PREFIXES[kind]} {fake.city()}"
            provider = provider_services.create_provider(session, actor, {
                "kind": kind, "name": name, "territory_id": territory.id,
                "rpps": f"1000{rng.randint(0, 9999999):07d}" if person else None,
                "finess": f"{DEPARTMENTS[territory.code]}{rng.randint(0, 9999999):07d}"
                if not person else None,
                "phone": fake.phone_number(), "city": fake.city(),
                "postal_code": f"{DEPARTMENTS[territory.code]}{rng.randint(0, 999):03d}",
            })
            if kind == "gp":
                gps.setdefault(territory.id, []).append(provider)
    case_manager = auth_services.find_user(session, "case.manager@demo.test")
    gp_user = auth_services.find_user(session, "gp@demo.test")
    douaisis = next(t for t in territories if t.code == "DOUAISIS")
    if gp_user is not None:
        gp_user.provider_id = gps[douaisis.id][0].id
    counts = {"providers": len(territories) * PROVIDERS_PER_TERRITORY, "patients": 0,
              "assignments": 0}
    for index in range(patients):
        territory = territories[index % len(territories)]
        sex = rng.choice("FM")
        birth = date(rng.randint(1930, 2000), rng.randint(1, 12), rng.randint(1, 28))
        first = fake.first_name_female() if sex == "F" else fake.first_name_male()
        second = fake.first_name_female() if sex == "F" else fake.first_name_male()
        deceased = today - timedelta(days=rng.randint(10, 300)) if rng.random() < 0.02 else None
        in_caseload = territory.id == douaisis.id and case_manager is not None and index % 50 == 3
        patient = patient_services.create_patient(session, actor, {
            "birth_name": fake.last_name(),
            "used_name": fake.last_name() if sex == "F" and rng.random() < 0.3 else None,
            "first_names": f"{first} {second}" if rng.random() < 0.5 else first,
            "birth_date": birth, "sex": sex,
            "nir": _nir(rng, sex, birth, DEPARTMENTS[territory.code]),
            "identity_status": IdentityStatus.QUALIFIED if rng.random() < 0.6
            else IdentityStatus.PROVISIONAL,
            "territory_id": territory.id, "phone": fake.phone_number(),
            "address": fake.street_address(), "city": fake.city(),
            # half of the caseload has the demo GP, who then reads their shared plans
            "gp_id": gps[territory.id][0].id if in_caseload and index % 100 == 3
            else rng.choice(gps[territory.id]).id,
            "case_manager_id": case_manager.id if in_caseload else None,
            "consent_share": rng.random() < 0.8,
            "deceased_date": deceased,
            "trusted_person_name": fake.name() if rng.random() < 0.4 else None,
            "trusted_person_relation": rng.choice(["fille", "fils", "conjoint", "voisine"]),
        }, confirm_duplicate=True)
        counts["patients"] += 1
        if rng.random() < 0.05:
            continue  # a few patients still to stratify
        for program in rng.sample(programs, k=1 if rng.random() < 0.8 else 2):
            roll = rng.random()
            level = 3 if in_caseload and roll < 0.5 else (1 if roll < 0.70 else
                                                          2 if roll < 0.95 else 3)
            start = max(birth + timedelta(days=365 * 18),
                        today - timedelta(days=rng.randint(60, 900)))
            if deceased and start >= deceased:
                start = deceased - timedelta(days=30)
            if level > 1 and rng.random() < 0.2 and not deceased:
                # came in one level lower and moved up, sometimes in the last 30 days
                lower = program.strata[level - 2]
                assignments.assign_stratum(session, actor, patient, lower, start, "inclusion")
                moved = today - timedelta(days=rng.randint(1, 29) if rng.random() < 0.5 else
                                          rng.randint(31, 50))
                assignments.assign_stratum(session, actor, patient, program.strata[level - 1],
                                           max(moved, start + timedelta(days=1)),
                                           "aggravation")
                counts["assignments"] += 2
            else:
                assignments.assign_stratum(session, actor, patient, program.strata[level - 1],
                                           start, "inclusion")
                counts["assignments"] += 1
    session.flush()
    counts["care_plans"] = seed_care_plans(session, rng, fake)
    counts["appointments"] = seed_appointments(session, rng)
    return counts


PRIORITIES = ("Rester à domicile le plus longtemps possible.",
              "Ne plus être hospitalisé cet hiver.",
              "Pouvoir recevoir mes petits-enfants et jardiner.",
              "Être moins essoufflé pour faire mes courses.",
              "Garder mon autonomie pour la toilette et les repas.")
EXPECTATIONS = ("Savoir qui appeler quand ça ne va pas.",
                "Moins de rendez-vous éparpillés, un seul interlocuteur.",
                "Être aidé pour les démarches administratives.")
NEEDS = {"health": "Surveillance du poids et des symptômes ; observance du traitement.",
         "autonomy": "Aide à la toilette deux fois par semaine.",
         "social": "Isolement : visites d'une association à organiser.",
         "caregiver": "Épuisement de l'aidante : solution de répit à trouver."}


def seed_care_plans(session: Session, rng: random.Random, fake: Faker) -> int:
    """An active plan for each living level-3 patient, from their stratum's suggestions, with
    providers of the right kind chosen in the territory, and a few later revisions."""
    from coordinator.careplans import services as plan_services
    from coordinator.careplans.models import GoalStatus
    from coordinator.providers.models import Provider

    today = local_today()
    by_kind: dict[tuple[int, str], list[int]] = {}
    for provider_id, territory_id, kind in session.execute(
            select(Provider.id, Provider.territory_id, Provider.kind)):
        by_kind.setdefault((territory_id, kind), []).append(provider_id)
    manager = auth_services.find_user(session, "case.manager@demo.test")
    level3 = session.scalars(
        select(Patient).where(Patient.deceased_date.is_(None))
        .where(Patient.id.in_(select(StratumAssignment.patient_id)
                              .join(Stratum, Stratum.id == StratumAssignment.stratum_id)
                              .where(Stratum.level == 3, StratumAssignment.end_date.is_(None))))
        .order_by(Patient.id)).all()
    created = 0
    for patient in level3:
        strata = [s for s in plan_services.current_strata(session, patient) if s.level == 3]
        if not strata:
            continue
        actor = Actor(user_id=manager.id, label=manager.email, role=manager.role) \
            if manager is not None and patient.case_manager_id == manager.id \
            else Actor.system("seed-demo")
        plan_date = today - timedelta(days=rng.randint(20, 240))
        data = plan_services.suggestions(session, patient, strata[0])
        for goal in data["goals"]:
            for action in goal["actions"]:
                choices = by_kind.get((patient.territory_id, action.pop("provider_kind")), [])
                if action["provider_id"] is None and choices:
                    action["provider_id"] = rng.choice(choices)
            goal["target_date"] = plan_date + timedelta(days=rng.choice((90, 180, 365)))
        data |= {"plan_date": plan_date, "review_date": plan_date + timedelta(
                     days=rng.choice((90, 180, 180, 180))),
                 "priorities": rng.choice(PRIORITIES), "expectations": rng.choice(EXPECTATIONS),
                 "life_project": "Vivre chez moi, entouré de ma famille.",
                 "assessment": {domain: {"summary": "", "needs": needs}
                                for domain, needs in NEEDS.items() if rng.random() < 0.7},
                 "current_help": "Portage des repas ; aide-ménagère 4 h par semaine.",
                 "caregiver_name": fake.name() if rng.random() < 0.6 else None,
                 "caregiver_relation": rng.choice(["épouse", "fille", "fils", "voisin"]),
                 "agreement_on": plan_date, "agreement_method": rng.choice(
                     ["oral", "written", "signed"]),
                 "sharing_agreed": patient.consent_share}
        review_date = data["review_date"]
        if review_date < today:  # activated when the review was still ahead
            data["review_date"] = today + timedelta(days=30)
        plan = plan_services.create_plan(session, actor, patient, data)
        plan_services.activate_plan(session, actor, plan, plan.version)
        if review_date < today:
            plan_services.save_plan(session, actor, plan, {"review_date": review_date},
                                    plan.version)
        if plan.goals and rng.random() < 0.7:
            first = {"id": plan.goals[0].id, "description": plan.goals[0].description,
                     "domain": plan.goals[0].domain, "status": GoalStatus.ACHIEVED,
                     "target_date": plan.goals[0].target_date,
                     "actions": []}
            rest = [{"id": g.id, "description": g.description, "domain": g.domain,
                     "status": g.status, "target_date": g.target_date,
                     "actions": [{"id": a.id, "description": a.description,
                                  "responsible": a.responsible, "provider_id": a.provider_id,
                                  "interval_days": a.interval_days,
                                  "occurrences": a.occurrences, "status": a.status}
                                 for a in g.actions]} for g in plan.goals[1:]]
            plan_services.save_plan(session, actor, plan, {"goals": [first, *rest]},
                                    plan.version)
        if rng.random() < 0.5:
            plan_services.save_plan(session, actor, plan, {
                "priorities": plan.priorities + " Reprendre la marche quotidienne."},
                plan.version)
        created += 1
    session.flush()
    return created


PAST_DAYS = 365
COMING_DAYS = 42


def seed_appointments(session: Session, rng: random.Random) -> int:
    """A year of past follow-ups for the patients of levels 2 and 3 (their stratum's template,
    repeated), with realistic outcomes (about 15 % no-shows, half as many for patients with an
    active plan; a few cancelled; the last days' outcomes partly still to record), and the
    coming weeks scheduled. Bulk-inserted: demo history, not user actions."""
    from sqlalchemy import insert

    from coordinator.careplans.models import CarePlan, PlanStatus
    from coordinator.core.time import as_utc
    from coordinator.providers.models import Provider
    from coordinator.scheduling.models import Appointment, AppointmentKind

    today = local_today()
    providers: dict[tuple[int, str], list[int]] = {}
    for provider_id, territory_id, kind in session.execute(
            select(Provider.id, Provider.territory_id, Provider.kind)
            .where(Provider.is_active.is_(True))):
        providers.setdefault((territory_id, kind), []).append(provider_id)
    with_plan = set(session.scalars(select(CarePlan.patient_id)
                                    .where(CarePlan.status == PlanStatus.ACTIVE)))
    rows = session.execute(
        select(Patient, Stratum).join(StratumAssignment, StratumAssignment.patient_id == Patient.id)
        .join(Stratum, Stratum.id == StratumAssignment.stratum_id)
        .where(Stratum.level >= 2, StratumAssignment.end_date.is_(None),
               Patient.deceased_date.is_(None))
        .order_by(Patient.id)).all()
    appointments = []
    for patient, stratum in rows:
        no_show_rate = 0.075 if patient.id in with_plan else 0.15
        for index, item in enumerate(stratum.followup_items):
            candidates = [patient.gp_id] if item.provider_kind == "gp" and patient.gp_id else \
                providers.get((patient.territory_id, item.provider_kind), [])
            if not candidates:
                continue
            provider_id = rng.choice(candidates)
            day = today - timedelta(days=PAST_DAYS - rng.randint(0, item.interval_days))
            while day <= today + timedelta(days=COMING_DAYS):
                if day.weekday() < 5:
                    starts = as_utc(datetime.combine(day, time(8 + (index * 2 + patient.id) % 9,
                                                               rng.choice((0, 30)))))
                    appointments.append(_demo_appointment(
                        rng, patient.id, provider_id, starts, day, today, no_show_rate,
                        AppointmentKind.HOME_VISIT if item.provider_kind == "nurse"
                        else AppointmentKind.CONSULTATION,
                        item.label))
                day += timedelta(days=item.interval_days)
    if appointments:
        session.execute(insert(Appointment), appointments)
    return len(appointments)


def _demo_appointment(rng: random.Random, patient_id: int, provider_id: int, starts, day,
                      today, no_show_rate: float, kind: str, label: str) -> dict:
    from coordinator.scheduling.models import AppointmentStatus

    roll = rng.random()
    if day >= today or ((today - day).days <= 3 and roll < 0.5):
        status = AppointmentStatus.SCHEDULED  # to come, or an outcome still to record
    elif roll < no_show_rate:
        status = AppointmentStatus.NO_SHOW
    elif roll < no_show_rate + 0.05:
        status = rng.choice((AppointmentStatus.CANCELLED_PATIENT,
                             AppointmentStatus.CANCELLED_PROVIDER))
    else:
        status = AppointmentStatus.ATTENDED
    return {"patient_id": patient_id, "provider_id": provider_id, "kind": kind,
            "starts_at": starts, "duration_minutes": 30, "ends_at": starts + timedelta(minutes=30),
            "status": status, "notes": label, "created_by": "seed-demo", "version": 1,
            "outcome_recorded_at": None if status == AppointmentStatus.SCHEDULED else starts,
            "outcome_recorded_by": None if status == AppointmentStatus.SCHEDULED
            else "seed-demo"}


def seed_demo(session: Session, hash_method: str) -> tuple[list[DemoAccount], dict]:
    """Create the missing demo accounts and, when the registry is empty, the demo registry.
    Returns the accounts created and what the registry received."""
    created = seed_accounts(session, hash_method)
    registry = seed_registry(session) if needs_demo_data(session) else {}
    return created, registry
