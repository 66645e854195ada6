"""Demo data for `make run`: one account per role and a realistic registry (synthetic, French)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from faker import Faker
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordinator.auth import services as auth_services
from coordinator.core.context import Actor
from coordinator.core.normalize import fold
from coordinator.core.time import PARIS, local_today
from coordinator.patients import assignments
from coordinator.patients import services as patient_services
from coordinator.patients.models import IdentityStatus, Patient
from coordinator.providers import services as provider_services
from coordinator.strata.models import Program, Stratum, StratumAssignment, Territory

DEMO_PASSWORD = "parcours-demo-territoire"  # noqa: S105 - documented demo credential
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



def _demo_email(first_name: str, index: int) -> str:
    """A demo patient's address, in the reserved example.org domain (RFC 2606)."""
    return f"{fold(first_name).lower().replace(' ', '-')}.{index}@example.org"


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
            # most demo patients have an e-mail address: their reminders have a recipient
            "email": _demo_email(first, index) if index % 7 else None,
            "address": fake.street_address(), "city": fake.city(),
            # a few patients read English (their reminders are in English), some of them in
            # the demo case manager's caseload
            "language": "en" if index % 23 == 7 or (in_caseload and index % 150 == 53)
            else "fr",
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
    counts |= seed_hospital(session, random.Random(seed + 13), today)
    counts |= seed_targets(session)
    return counts


def seed_targets(session: Session) -> dict:
    """The Douaisis council aims higher than the program for the flu vaccination of its heart
    failure patients (90 % rather than 75 %), and has the notices of the month just closed."""
    from coordinator.auth.models import User
    from coordinator.core.time import utcnow
    from coordinator.metrics import jobs as metrics_jobs
    from coordinator.metrics import targets as metrics_targets

    council = session.scalar(select(User).where(User.email == "council@demo.test"))
    douaisis = session.scalar(select(Territory).where(Territory.code == "DOUAISIS"))
    if council is None or douaisis is None:
        return {}
    metrics_targets.set_targets(session, Actor.for_user(council), douaisis, [
        metrics_targets.TargetChange("HF", "flu_vaccination_65", "90")])
    return {"target_notices": metrics_jobs.metrics_target_alerts(session, utcnow())["notices"]}


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
    from coordinator.careplans.models import ActionStatus, GoalStatus
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
        if review_date < today:  # demo history: the review date agreed has passed since
            plan.review_date = review_date
        # The follow-up of the active plan (its content changes through a new version).
        if plan.goals and rng.random() < 0.7:
            first = plan.goals[0]
            plan_services.save_follow_up(session, actor, plan, [{
                "id": first.id, "status": GoalStatus.ACHIEVED,
                "actions": [{"id": a.id, "status": ActionStatus.DONE} for a in first.actions]}],
                plan.version)
        if rng.random() < 0.5:
            started = [a for goal in plan.goals for a in goal.actions
                       if a.status == ActionStatus.PLANNED][:1]
            plan_services.save_follow_up(session, actor, plan, [
                {"id": a.goal_id, "actions": [{"id": a.id, "status": ActionStatus.IN_PROGRESS}]}
                for a in started], plan.version)
        created += 1
    session.flush()
    return created


PAST_DAYS = 365
COMING_DAYS = 42


def seed_appointments(session: Session, rng: random.Random) -> int:
    """A year of past follow-ups for the patients of levels 2 and 3 (their stratum's template,
    repeated), with realistic outcomes (about 15 % no-shows, half as many for patients with an
    active plan; a few cancelled; the last days' outcomes partly still to record), and the
    coming weeks scheduled, on working days only (no visit on a weekend or on a public holiday
    of the patient's department: 25 December, 1 January...). Bulk-inserted: demo history, not
    user actions."""
    from sqlalchemy import insert

    from coordinator.careplans.models import CarePlan, PlanStatus
    from coordinator.core.time import as_utc
    from coordinator.core.workdays import is_working_day, subdivision_for
    from coordinator.providers.models import Provider
    from coordinator.scheduling import services as scheduling_services
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
            subdivision = subdivision_for(patient.postal_code)
            while day <= today + timedelta(days=COMING_DAYS):
                if is_working_day(day, subdivision):
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
        # written in bulk, with their outcomes: each one's consecutive no-shows, at once
        scheduling_services.count_consecutive_no_shows(
            session, sorted({row["patient_id"] for row in appointments}))
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


# -- Hospital stays, clinical events, contacts and tasks ----------------------------------------

HOSPITAL_SHARE = {2: 0.28, 3: 0.50}  # level-2 and level-3 patients with stays (about 35 %)
HISTORY_DAYS = 700
# Main diagnoses by program (ICD-10, stored normalised), and the comorbidities further down.
MAIN_DIAGNOSES = {"HF": ("I50.0", "I50.1", "I50.9", "I50.9"),
                  "DIAB": ("E11.5", "E11.6", "E11.9", "E11.2"),
                  "COPD": ("J44.1", "J44.1", "J44.0", "J44.9"),
                  "POLY": ("I50.9", "J44.1", "N18.4", "E11.9", "N18.3")}
CHRONIC_CODES = {"HF": "I50.9", "DIAB": "E11.9", "COPD": "J44.9", "POLY": "N18.3"}
# Further diagnoses, weighted: hypertension, atrial fibrillation and obesity weigh nothing in
# the Charlson index; the others 1 (heart failure, COPD, diabetes, infarction, dementia) or 2
# (diabetes with complications, chronic kidney disease).
COMORBIDITIES = {"I10": 30, "I48.9": 14, "E66.9": 10, "E11.9": 10, "J44.9": 6, "I50.9": 6,
                 "I25.2": 5, "F03": 4, "E11.2": 5, "N18.3": 6, "N18.4": 4}
REGIONAL_CENTRES = {"AUBE-SEZ": "CHU de Reims", "CORNOUAILLE": "CHU de Brest",
                    "DEUX-SEVRES": "CHU de Poitiers", "DOUAISIS": "CHU de Lille",
                    "HAUTE-SAONE": "CHU de Besançon"}
CONTACT_NOTES = ("Va bien, pas de nouvelle plainte.", "Essoufflement stable, poids stable.",
                 "Aidante fatiguée : répit à organiser.", "Rappeler la semaine prochaine.",
                 "Traitement bien pris, RDV médecin traitant fixé.", None, None)


@dataclass
class _Candidate:
    patient_id: int
    territory_id: int
    birth_date: date
    deceased_date: date | None
    case_manager_id: int | None
    level: int
    programs: list[str]


def _instant(day: date, hour: int, minute: int = 0) -> datetime:
    from coordinator.core.time import as_utc

    return as_utc(datetime.combine(day, time(hour, minute)))


def seed_hospital(session: Session, rng: random.Random, today: date) -> dict:
    """Hospital stays for about a third of the level-2 and level-3 patients over the last two
    years (emergency admissions mostly, some planned, a few transfers between hospitals; some
    emergency readmissions within 30 days, some planned ones), with ICD-10 diagnoses; a death
    at discharge; patients in hospital now; the ED visits, chronic diagnoses, HbA1c results and
    influenza immunizations (about 55 % of those aged 65 or more) of the registry; the case
    manager's contacts; and for the caseload, recent discharges whose transition-of-care tasks
    the protocol creates (some resolved by a contact, some due, some overdue).

    Stays are made through the models (their local days kept by the model), then their
    readmission flags and LACE computed in SQL as for any stay; events and contacts are
    bulk-inserted (demo history, not user actions). Returns what was added."""
    from sqlalchemy import exists, insert, or_, update

    from coordinator.providers.models import Provider
    from coordinator.scheduling.models import Appointment, AppointmentStatus
    from coordinator.stays import lace, readmissions
    from coordinator.stays.models import ClinicalEvent, Stay, StayDiagnosis, StaySource
    from coordinator.tasks import protocol
    from coordinator.tasks.models import Contact, Task

    territories = {t.id: t.code for t in session.scalars(select(Territory))}
    hospitals: dict[int, list[tuple[str, str | None]]] = {}
    for name, finess, territory_id in session.execute(
            select(Provider.name, Provider.finess, Provider.territory_id)
            .where(Provider.kind == "hospital").order_by(Provider.id)):
        hospitals.setdefault(territory_id, []).append((name, finess))
    candidates: dict[int, _Candidate] = {}
    for patient_id, territory_id, birth, deceased, manager, level, program in session.execute(
            select(Patient.id, Patient.territory_id, Patient.birth_date, Patient.deceased_date,
                   Patient.case_manager_id, Stratum.level, Program.code)
            .join(StratumAssignment, StratumAssignment.patient_id == Patient.id)
            .join(Stratum, Stratum.id == StratumAssignment.stratum_id)
            .join(Program, Program.id == Stratum.program_id)
            .where(StratumAssignment.end_date.is_(None), Patient.merged_into_id.is_(None))
            .order_by(Patient.id, Program.code)):
        found = candidates.setdefault(patient_id, _Candidate(
            patient_id, territory_id, birth, deceased, manager, level, []))
        found.level = max(found.level, level)
        found.programs.append(program)
    caseload = [candidates.get(pid) or _Candidate(pid, tid, birth, deceased, manager, 1, [])
                for pid, tid, birth, deceased, manager in session.execute(
                    select(Patient.id, Patient.territory_id, Patient.birth_date,
                           Patient.deceased_date, Patient.case_manager_id)
                    .where(Patient.case_manager_id.is_not(None),
                           Patient.merged_into_id.is_(None))
                    .order_by(Patient.id))]
    caseload = [c for c in caseload if c.deceased_date is None]
    stays: list[Stay] = []
    events: list[dict] = []

    def facility(candidate: _Candidate, regional: bool = False) -> tuple[str, str | None]:
        code = territories[candidate.territory_id]
        if regional or not hospitals.get(candidate.territory_id):
            return REGIONAL_CENTRES[code], f"{DEPARTMENTS[code]}{rng.randint(0, 9999999):07d}"
        return rng.choice(hospitals[candidate.territory_id])

    def diagnoses(candidate: _Candidate) -> tuple[str, list[str]]:
        program = rng.choice(candidate.programs or ["POLY"])
        main = rng.choice(MAIN_DIAGNOSES[program])
        drawn = rng.choices(list(COMORBIDITIES), weights=list(COMORBIDITIES.values()),
                            k=rng.choices((0, 1, 2, 3), weights=(35, 35, 20, 10))[0])
        further = sorted({code for code in drawn if code[:3] != main[:3]})
        return main, further

    def add_stay(candidate: _Candidate, admitted: datetime, discharged: datetime | None,
                 mode: str, destination: str | None, *, place=None, codes=None) -> Stay:
        name, finess = place or facility(candidate)
        main, further = codes or diagnoses(candidate)
        stay = Stay(patient_id=candidate.patient_id, facility_name=name, facility_finess=finess,
                    admitted_at=admitted, admission_mode=mode, discharged_at=discharged,
                    discharge_destination=destination if discharged else None,
                    main_diagnosis=main, source=StaySource.DEMO, created_by="seed-demo",
                    diagnoses=[StayDiagnosis(code=code, position=position)
                               for position, code in enumerate(further, 1)])
        stays.append(stay)
        if mode == "emergency":  # the ED visit that led to the admission
            events.append(_event(candidate.patient_id, "ed_visit", "ed",
                                 admitted.astimezone(PARIS).date(),
                                 label="Passage aux urgences"))
        return stay

    # The designed cases first (every list of the demo shows something), then the others.
    designed: set[int] = set()
    dead = next((c for c in candidates.values() if c.deceased_date is not None
                 and c.deceased_date > today - timedelta(days=HISTORY_DAYS)), None)
    if dead is not None and dead.deceased_date is not None:
        designed.add(dead.patient_id)
        add_stay(dead, _instant(dead.deceased_date - timedelta(days=9), 21, 40),
                 _instant(dead.deceased_date, 6, 15), "emergency", "death")
    # Who: the followed patients (levels 2 and 3) are the ones admitted and readmitted; the
    # discharges without any follow-up booked are of patients at level 1 (no series), when
    # the caseload has some.
    cases: dict[str, _Candidate] = {}
    for days_ago, case, followed in ((2, "open", True), (4, "readmitted", True),
                                     (1, "home", False), (9, "contacted", True),
                                     (13, "overdue", False)):
        candidate = min((c for c in caseload if c.patient_id not in designed),
                        key=lambda c: ((c.level > 1) != followed, c.patient_id), default=None)
        if candidate is None:
            break
        designed.add(candidate.patient_id)
        cases[case] = candidate
        out = today - timedelta(days=days_ago)
        if case == "open":
            add_stay(candidate, _instant(out, 23, 5), None, "emergency", None,
                     codes=("I50.1", ["N18.4"]))
        elif case == "readmitted":  # high LACE: 8 days, emergency, Charlson 5, 2 ED visits
            add_stay(candidate, _instant(out - timedelta(days=30), 10), _instant(
                out - timedelta(days=22), 11), "emergency", "home", codes=("I50.9", ["I10"]))
            add_stay(candidate, _instant(out - timedelta(days=8), 3, 20), _instant(out, 14),
                     "emergency", "home_with_services", codes=("I50.0", ["E11.2", "N18.4"]))
            for before in (60, 95):
                events.append(_event(candidate.patient_id, "ed_visit", "ed",
                                     out - timedelta(days=before), label="Passage aux urgences"))
        else:
            mode = "planned" if case == "home" else "emergency"
            add_stay(candidate, _instant(out - timedelta(days=rng.randint(2, 6)), 9),
                     _instant(out, 16), mode, "home")

    # A few more patients in hospital now, in other territories.
    elsewhere = [c for c in candidates.values() if c.level == 3 and c.deceased_date is None
                 and c.case_manager_id is None and c.patient_id not in designed]
    for candidate in rng.sample(elsewhere, k=min(3, len(elsewhere))):
        designed.add(candidate.patient_id)
        add_stay(candidate, _instant(today - timedelta(days=rng.randint(1, 8)), 14), None,
                 "emergency", None)
    for candidate in candidates.values():
        if candidate.patient_id in designed or rng.random() >= HOSPITAL_SHARE.get(
                candidate.level, 0):
            continue
        _random_stays(rng, candidate, today, add_stay, facility)
    session.add_all(stays)
    session.flush()

    events += _registry_events(session, rng, candidates, today)
    contacts = _contacts(rng, caseload, cases.get("contacted"), today)
    if events:
        session.execute(insert(ClinicalEvent), events)
    if contacts:
        session.execute(insert(Contact), contacts)
    readmissions.recompute(session, None)
    lace.refresh(session, None)
    # The patient was in hospital: the follow-ups of those days did not take place.
    session.execute(
        update(Appointment)
        .where(Appointment.starts_at < _instant(today, 0),
               Appointment.status.in_((AppointmentStatus.ATTENDED, AppointmentStatus.NO_SHOW,
                                       AppointmentStatus.SCHEDULED)),
               exists(select(Stay.id).where(
                   Stay.patient_id == Appointment.patient_id,
                   Stay.admitted_at <= Appointment.starts_at,
                   or_(Stay.discharged_at.is_(None), Stay.discharged_at > Appointment.starts_at))))
        .values(status=AppointmentStatus.CANCELLED_PATIENT,
                outcome_recorded_at=func.coalesce(Appointment.outcome_recorded_at,
                                                  Appointment.starts_at),
                outcome_recorded_by=func.coalesce(Appointment.outcome_recorded_by, "seed-demo"))
        .execution_options(synchronize_session=False))
    # The transition-of-care tasks of the caseload's discharges of the last 14 days.
    recent = [stay for stay in stays if stay.discharged_on is not None
              and stay.discharged_on >= today - timedelta(days=14)]
    managed = {c.patient_id for c in caseload}
    announced: set[int] = set()
    for stay in sorted(recent, key=lambda s: s.patient_id):
        if stay.patient_id in managed and stay.patient_id not in announced:
            announced.add(stay.patient_id)
            protocol.on_stay_changed(session, stay, "discharged", today=today)
    session.flush()
    return {"stays": len(stays), "clinical_events": len(events), "contacts": len(contacts),
            "tasks": session.scalar(select(func.count()).select_from(Task)) or 0}


def _event(patient_id: int, event_type: str, code: str, day: date, *, value=None,
           label: str | None = None) -> dict:
    from coordinator.stays.models import StaySource

    return {"patient_id": patient_id, "event_type": event_type, "code": code,
            "occurred_on": day, "value": value, "label": label, "source": StaySource.DEMO,
            "created_by": "seed-demo", "version": 1}


def _random_stays(rng: random.Random, candidate: _Candidate, today: date, add_stay,
                  facility) -> None:
    """One to three stays (sometimes a readmission chain, sometimes a transfer) of one patient
    over the last two years, none after their death, none under way."""
    last_day = (candidate.deceased_date or today) - timedelta(days=1)
    day = today - timedelta(days=rng.randint(30, HISTORY_DAYS))
    follow_up = False
    for _ in range(rng.choices((1, 2, 3), weights=(55, 30, 15))[0]):
        if follow_up:
            mode = "emergency" if rng.random() < 0.8 else "planned"
        else:
            mode = rng.choices(("emergency", "planned", "transfer"), weights=(65, 30, 5))[0]
        length = 0 if mode == "planned" and rng.random() < 0.15 else rng.choices(
            (1, 2, 3, 5, 8, 11, 16), weights=(8, 14, 16, 24, 18, 12, 8))[0]
        admitted = _instant(day, rng.randint(7, 22), rng.choice((0, 15, 30, 45)))
        out_day = day + timedelta(days=length)
        if out_day > last_day:
            return
        discharged = max(_instant(out_day, rng.randint(10, 17), rng.choice((0, 30))),
                         admitted + timedelta(hours=4))
        destination = rng.choices(("home", "home_with_services", "rehabilitation",
                                   "nursing_home", "transfer", "other"),
                                  weights=(58, 20, 9, 5, 5, 3))[0]
        add_stay(candidate, admitted, discharged, mode, destination)
        if destination == "transfer":  # to the regional centre, admitted the same day
            transfer_out = out_day + timedelta(days=rng.choice((3, 6, 9)))
            if transfer_out > last_day:
                return
            add_stay(candidate, discharged + timedelta(hours=2),
                     _instant(transfer_out, 15), "transfer",
                     rng.choice(("home", "home_with_services", "rehabilitation")),
                     place=facility(candidate, regional=True))
            out_day = transfer_out
        follow_up = rng.random() < 0.4  # the next stay comes back within the month
        day = out_day + timedelta(days=rng.randint(2, 28) if follow_up else
                                  rng.randint(45, 260))
        if day > last_day - timedelta(days=1):
            return


def _registry_events(session: Session, rng: random.Random, candidates: dict,
                     today: date) -> list[dict]:
    """The events that are not stays: ED visits that led to no admission, the chronic diagnosis
    of each level-2/3 patient, two HbA1c results of the diabetic ones, and the influenza (and
    some COVID-19) immunizations of the patients aged 65 or more."""
    events = []
    for candidate in candidates.values():
        end = candidate.deceased_date or today
        for program in candidate.programs:
            events.append(_event(candidate.patient_id, "diagnosis", CHRONIC_CODES[program],
                                 end - timedelta(days=rng.randint(400, 2500)),
                                 label="Diagnostic posé par le médecin traitant"))
            if program == "DIAB":
                for months in (9, 3):
                    events.append(_event(
                        candidate.patient_id, "lab_result", "hba1c",
                        end - timedelta(days=30 * months + rng.randint(0, 20)),
                        value=Decimal(f"{rng.uniform(6.2, 9.8):.1f}"), label="HbA1c (%)"))
        if rng.random() < 0.3:
            for _ in range(rng.randint(1, 3)):
                events.append(_event(candidate.patient_id, "ed_visit", "ed",
                                     end - timedelta(days=rng.randint(5, 360)),
                                     label="Passage aux urgences sans hospitalisation"))
    season = date(today.year if today >= date(today.year, 10, 15) else today.year - 1, 10, 15)
    for patient_id, birth, deceased in session.execute(
            select(Patient.id, Patient.birth_date, Patient.deceased_date)
            .where(Patient.merged_into_id.is_(None)).order_by(Patient.id)):
        if birth > date(season.year - 65, season.month, season.day):
            continue
        for start in (season, date(season.year - 1, 10, 15)):
            day = start + timedelta(days=rng.randint(0, 60))
            if day > today or (deceased and day >= deceased) or rng.random() >= 0.55:
                continue
            events.append(_event(patient_id, "immunization", "influenza", day,
                                 label="Vaccination antigrippale"))
            if start == season and rng.random() < 0.35:
                events.append(_event(patient_id, "immunization", "covid19", day,
                                     label="Rappel COVID-19"))
    return events


def _contacts(rng: random.Random, caseload: list[_Candidate], contacted: _Candidate | None,
              today: date) -> list[dict]:
    """The case manager's calls and visits to the caseload over the last six months (before the
    last two weeks: the recent discharges wait for theirs), and the call the day after the
    discharge of 9 days ago."""
    rows = []
    for candidate in caseload:
        day = today - timedelta(days=rng.randint(170, 185))
        while day < today - timedelta(days=15):
            outcome = rng.choices(("reached", "no_answer", "left_message", "wrong_number",
                                   "refused"), weights=(70, 14, 10, 3, 3))[0]
            rows.append({"patient_id": candidate.patient_id,
                         "user_id": candidate.case_manager_id,
                         "occurred_at": _instant(day, rng.randint(9, 17),
                                                 rng.choice((0, 10, 20, 40))),
                         "channel": "visit" if rng.random() < 0.2 else "phone",
                         "outcome": outcome,
                         "note": rng.choice(CONTACT_NOTES) if outcome == "reached" else None})
            day += timedelta(days=rng.randint(21, 40))
    if contacted is not None:
        rows.append({"patient_id": contacted.patient_id, "user_id": contacted.case_manager_id,
                     "occurred_at": _instant(today - timedelta(days=8), 10, 30),
                     "channel": "phone", "outcome": "reached",
                     "note": "Retour à domicile correct, infirmière passée ce matin."})
    return rows
