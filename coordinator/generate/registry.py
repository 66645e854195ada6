"""The rows of one chunk of patients: each patient's life, then every table's rows from it.

A patient's life is drawn first, in this order, each step reading the ones before:

1. **identity**: sex, age (a chronic-disease registry: most patients are 55 to 90), territory
   (by population), a GP of the territory, a NIR whose key is valid and whose birth place is
   the patient's `birth_place_insee`, a severity (0, 1, 2: 70/25/5 %) that drives everything
   below, and the death, if any, within the history (older and more severe patients die more);
2. **enrollments**: one to three programs chosen by age (heart failure and COPD from 45-50,
   frail elderly from 65), entered before the history or during it, in a stratum drawn from the
   severity, then moving up and down (rates per year that keep the pyramid near 70/25/5), now
   and then leaving the program (moved away) and coming back, leaving it at death;
3. **care plans**: one per period the patient is at level 3 (90 %) and for some long level-2
   periods, created a few weeks after the patient got there, activated on the patient's
   agreement, reviewed every six months (a review now and then missed: the plan is then overdue),
   closed when the period ends (moved down, left, died), each step a revision with the plan's
   snapshot; the patient gets a case manager of the territory with their first plan;
4. **hospital stays**, a Poisson process whose rate follows the patient's level: emergency,
   planned (day cases among them) and transfer admissions, lengths of stay, destinations; after
   the discharge of a frail patient (level 3, or frail elderly level 2+) an emergency
   readmission within 30 days one time in five or so, one in twenty for the others; transfers
   continue in the territory's university hospital; some patients die in hospital; the stays of
   a patient never overlap; an ED visit on every emergency admission's day and others besides;
   influenza immunizations each season (about 55 % of the 65+), lab results by program;
5. **appointments**, the follow-up templates of the patient's level at each time (GP, nurse,
   dietitian, social worker...), on working days and hours, with outcomes: no-shows about 12 % of
   the outcomes of patients with an active care plan and 24 % of the others, cancellations (half
   of them rescheduled), appointments during a stay cancelled, outcomes of the last days partly
   still to record, the next six weeks scheduled; a follow-up visit after many discharges.

Nothing is dated before the birth or after the death, nor after "now" (today at noon) except the
scheduled appointments. Ids are given here, from counters the context keeps across chunks.
"""

from __future__ import annotations

import json
import math
import random
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import accumulate, pairwise

from coordinator.generate import vocabulary as v
from coordinator.generate.clock import Clock, Codec
from coordinator.scheduling.services import consecutive_no_show_counts
from coordinator.stays import lace

NOW_MINUTE = 12 * 60  # "now" is today at noon (local time): the generator's fixed present
FUTURE_DAYS = 42  # scheduled appointments this far ahead
AUTHOR = "generate"  # the label of everything the generator writes

# Pyramid: the severity of a patient (0, 1, 2; cumulative weights under and from 75 years
# old), and the first level of an enrollment by severity.
SEVERITY_UNDER_75 = [72.0, 96.0, 100.0]
SEVERITY_FROM_75 = [64.0, 93.0, 100.0]
FIRST_LEVEL = ((0.88, 0.115, 0.005), (0.45, 0.50, 0.05), (0.10, 0.50, 0.40))
# Transitions per year: (up, down) from each level, multiplied/divided by (1 + severity).
UP_RATE = {1: 0.05, 2: 0.04, 3: 0.0}
DOWN_RATE = {1: 0.0, 2: 0.25, 3: 0.35}
EXIT_RATE = 0.015
REENTRY = 0.25
MIN_DWELL_DAYS = 30
DEATH_SEVERITY = (1.0, 2.0, 4.0)

# Hospital stays per year by level (0: not enrolled), times (1 + 0.5 severity).
STAY_RATE = (0.17, 0.39, 0.78, 2.2)
READMIT_FRAIL = 0.05
READMIT_OTHER = 0.05
IN_HOSPITAL_DEATH = 0.4
CANCELLED_STAY = 0.005
# ED visits that did not lead to an admission, per year by level.
ED_RATE = (0.08, 0.15, 0.35, 0.8)

# Appointments: the follow-up template of the level, its intervals stretched by this factor;
# level 0 (not enrolled, or out of every program): the GP about once a year.
INTERVAL_SCALE = 1.06
LEVEL0_TEMPLATE = (("gp", 365, "Consultation du médecin traitant"),)
NO_SHOW_FOLLOWED = 0.12
NO_SHOW_OTHERS = 0.24
CANCELLED_BY_PATIENT = 0.04
CANCELLED_BY_PROVIDER = 0.02
RESCHEDULED = 0.5
PENDING_RECENT = 0.4  # outcomes of the last 3 days still to record
PENDING_OLD = 0.004  # older ones left without an outcome
POST_DISCHARGE_FOLLOWED = 0.6
POST_DISCHARGE_OTHERS = 0.3

FLU_VACCINATED = 0.78  # propensity of the "vaccinated" 65+ (70 % of them), ...
FLU_RELUCTANT = 0.12  # ... and of the others: about 55 % a season
FLU_UNDER_65 = 0.2
COVID_SHARE = 0.35
PNEUMOCOCCAL_SHARE = 0.1

PLAN_FOR_LEVEL2 = 0.10
NO_PLAN = 0.10
MISSED_REVIEW = 0.04  # the review never happens: overdue from then
LATE_REVIEW = 0.2  # it happens one to four months late

# Per provider kind: (kind, first local minute, slots, minutes between slots, duration text,
# duration, on weekends too, GP's choice of consultation kinds, the appointment kind).
KINDS = {
    "gp": ("gp", 8 * 60 + 30, 40, 15, "20", 20, False, True, "consultation"),
    "nurse": ("nurse", 7 * 60 + 30, 24, 30, "30", 30, True, False, "home_visit"),
    "dietitian": ("dietitian", 9 * 60, 16, 30, "45", 45, False, False, "consultation"),
    "social_worker": ("social_worker", 9 * 60, 7, 60, "60", 60, False, False, "home_visit"),
    "physiotherapist": ("physiotherapist", 8 * 60, 20, 30, "30", 30, False, False,
                        "consultation"),
    "psychologist": ("psychologist", 9 * 60, 9, 60, "45", 45, False, False, "consultation"),
}
DEFAULT_KIND = ("other", 9 * 60, 16, 30, "30", 30, False, False, "consultation")
POST_DISCHARGE_LABEL = "Consultation post-hospitalisation"
EVENT_SOURCES = ("csv", "csv", "csv", "form")
STAY_SOURCES = ("hl7",) * 11 + ("csv",) * 7 + ("form",) * 2


@dataclass
class Territory:
    id: int
    code: str
    department: str
    towns: list[tuple[str, str]]
    town_weights: list[float]
    addresses: list[str]
    hospitals: list[tuple[str, str]]  # (name, FINESS)
    hospital_weights: list[float]
    university: tuple[str, str]
    providers: dict[str, list[int]]  # kind -> active provider ids
    gp_weights: list[float]  # cumulative, for bisect
    case_managers: list[tuple[int, str]]  # (user id, e-mail)
    provider_lists: list[tuple[str, list[int]]] = field(default_factory=list)  # but GPs


@dataclass
class StratumInfo:
    id: int
    code: str
    level: int
    goals: list[tuple[str, str]]  # (assessment domain, French text)
    items: list[tuple[str, int, str, int]]  # (kind, interval, label, occurrences)


@dataclass
class ProgramInfo:
    id: int
    code: str
    display: str
    strata: dict[int, StratumInfo]


@dataclass
class Context:
    """What every chunk reads: options, reference ids, providers, counters; mutable counters."""

    seed: int
    today: int  # ordinal
    start: int  # ordinal: first day of the history
    codec: Codec
    clock: Clock
    territories: list[Territory]
    territory_weights: list[float]  # cumulative
    programs: list[ProgramInfo]
    templates: dict[int, list[tuple[str, int, str]]]  # level -> (kind, interval, label)
    provider_names: dict[int, str]
    next_id: dict[str, int]
    names: Names
    # Each chunk takes its ids of a table from its own block (`first_id + chunk index *
    # stride`): chunks can then be generated in any order, by several processes, and give the
    # same rows. The blocks leave gaps between the chunks' ids.
    first_id: dict[str, int] = field(default_factory=dict)
    strides: dict[str, int] = field(default_factory=dict)

    def ids(self, table: str, count: int = 1) -> int:
        """Reserve `count` ids of `table`; the first one."""
        first = self.next_id[table]
        self.next_id[table] = first + count
        return first

    def start_chunk(self, index: int) -> None:
        """The id counters at the start of chunk `index`'s blocks."""
        for table, stride in self.strides.items():
            self.next_id[table] = self.first_id[table] + index * stride

    def check_chunk(self, index: int) -> None:
        for table, stride in self.strides.items():
            if self.next_id[table] > self.first_id[table] + (index + 1) * stride:
                raise RuntimeError(f"chunk {index} used more {table} ids than its block "
                                   f"({stride:,}): raise its bound in generate.setup")


@dataclass
class Names:
    last: list[str]
    first: dict[str, list[str]]
    folded: dict[str, str]
    mail: dict[str, str]


@dataclass
class Plan:
    active_from: int | None
    active_to: int | None  # exclusive; None while active
    actions: dict[str, int]  # provider kind -> action id


@dataclass
class Life:
    id: int
    territory: Territory
    sex: str
    birth: int
    death: int | None
    severity: int
    age: int  # at the start of the history
    created: int
    gp: int
    providers: dict[str, int] = field(default_factory=dict)
    programs: list[tuple[ProgramInfo, list[tuple[int, int, str]]]] = field(default_factory=list)
    segments: list[tuple[int, int, int, ProgramInfo | None]] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    plans: list[Plan] = field(default_factory=list)
    stays: list[tuple[int, int]] = field(default_factory=list)  # occupied (first, last) days
    discharges: list[tuple[int, int, bool]] = field(default_factory=list)
    case_manager: tuple[int, str] | None = None
    consent: bool = False
    consent_day: int | None = None
    comorbidities: list[str] = field(default_factory=list)
    # What LACE reads of the patient (`stays.lace.stay_points`), as the rows are written: the
    # discharged stays to score (row index, admission instant, admission and discharge days,
    # mode), the diagnoses of the stays not cancelled, the diagnosis events and the ED visits.
    scored: list[tuple[int, datetime, date, date, str]] = field(default_factory=list)
    stay_codes: list[tuple[datetime, str]] = field(default_factory=list)
    diagnosis_days: list[tuple[date, str]] = field(default_factory=list)
    ed_days: list[date] = field(default_factory=list)

    def level(self, day: int) -> int:
        index = bisect_right(self.starts, day) - 1
        return self.segments[index][2] if index >= 0 else 0

    def program_at(self, day: int) -> ProgramInfo | None:
        index = bisect_right(self.starts, day) - 1
        return self.segments[index][3] if index >= 0 else None

    def followed(self, day: int) -> bool:
        for plan in self.plans:
            if plan.active_from is not None and plan.active_from <= day and (
                    plan.active_to is None or day < plan.active_to):
                return True
        return False

    def action(self, day: int, kind: str) -> int | None:
        for plan in self.plans:
            if plan.active_from is not None and plan.active_from <= day and (
                    plan.active_to is None or day < plan.active_to):
                return plan.actions.get(kind)
        return None


class Chunk:
    """The rows of one chunk, by table (tuples of text in the table's column order)."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple]] = defaultdict(list)


# Column order of each table, as the rows are built below.
COLUMNS: dict[str, tuple[str, ...]] = {
    "patient": (
        "id", "external_id", "nir", "identity_status", "birth_name", "used_name", "first_names",
        "birth_name_folded", "used_name_folded", "first_name_folded", "birth_date", "sex",
        "birth_place_insee", "phone", "email", "address", "postal_code", "city", "territory_id",
        "gp_id", "case_manager_id", "consent_share", "consent_date", "trusted_person_name",
        "trusted_person_relation", "trusted_person_phone", "advance_directives",
        "advance_directives_date", "deceased_date", "merged_into_id", "created_at",
        "updated_at", "version"),
    "consent_event": ("id", "patient_id", "consent_share", "effective_date", "recorded_at",
                      "actor_label"),
    "stratum_assignment": ("id", "patient_id", "program_id", "stratum_id", "effective_date",
                           "end_date", "reason", "author_user_id", "author_label",
                           "created_at"),
    "care_plan": (
        "id", "patient_id", "plan_number", "status", "stratum_id", "coordinator_id",
        "plan_date", "review_date", "caregiver_name", "caregiver_relation", "caregiver_phone",
        "legal_protection", "legal_protection_details", "expectations", "priorities",
        "life_project", "current_help", "agreement_on", "agreement_method", "sharing_agreed",
        "activated_on", "closed_on", "close_reason", "supersedes_id", "created_at", "updated_at",
        "version"),
    "care_plan_assessment": ("id", "plan_id", "domain", "summary", "needs"),
    "care_plan_goal": ("id", "plan_id", "position", "domain", "problem", "description",
                       "measure", "target_date", "status", "status_reason"),
    "care_plan_action": ("id", "goal_id", "position", "description", "responsible",
                         "provider_id", "interval_days", "occurrences", "due_date", "status"),
    "care_plan_member": ("id", "plan_id", "provider_id", "position", "role"),
    "care_plan_revision": ("id", "plan_id", "number", "event", "created_at", "author_user_id",
                           "author_label", "changed", "snapshot"),
    "stay": (
        "id", "external_id", "patient_id", "facility_name", "facility_finess", "location",
        "admitted_at", "admission_mode", "discharged_at", "discharge_destination",
        "main_diagnosis", "cancelled_at", "readmission_of_id",
        "readmitted_by_id", "lace_score", "lace_length", "lace_acuity", "lace_comorbidity",
        "lace_emergency_visits", "source", "created_at", "created_by", "updated_at", "version",
        "admitted_on", "discharged_on"),
    "stay_diagnosis": ("id", "stay_id", "code", "position"),
    "clinical_event": ("id", "external_id", "patient_id", "event_type", "code", "occurred_on",
                       "value", "label", "source", "created_at", "created_by", "updated_at",
                       "version"),
    "appointment": (
        "id", "external_id", "patient_id", "provider_id", "kind", "starts_at",
        "duration_minutes", "ends_at", "place", "notes", "action_id", "round_id", "status",
        "outcome_recorded_at", "outcome_recorded_by", "outcome_missing_since",
        "rescheduled_to_id", "overlap_reason", "no_show_reason", "outreach_note", "outreach_at",
        "outreach_by", "created_at", "created_by", "version", "consecutive_no_shows"),
}
# The order chunks are written in (a table after those it refers to).
TABLES = tuple(COLUMNS)

_AGES = list(range(18, 101))
_AGE_WEIGHTS = list(accumulate(
    math.exp(-(((age - 72) / 17) ** 2)) + 0.12 - (0.1 if age > 95 else 0) for age in _AGES))
_PROGRAM_AGE = {"HF": 50, "COPD": 45, "POLY": 65}


# The LACE columns of a stay row, in the order of `lace.COLUMNS`.
_LACE_FIRST = COLUMNS["stay"].index(lace.COLUMNS[0])
_LACE_KEYS = ("score", "length", "acuity", "comorbidity", "emergency_visits")
assert COLUMNS["stay"][_LACE_FIRST:_LACE_FIRST + len(_LACE_KEYS)] == lace.COLUMNS


# The columns of an appointment row that order and count its patient's no-shows in a row.
_STARTS_AT = COLUMNS["appointment"].index("starts_at")
_STATUS = COLUMNS["appointment"].index("status")


def _pick(rng: random.Random, cumulative: list[float]) -> int:
    return bisect_right(cumulative, rng.random() * cumulative[-1])


def nir(rank: int, sex: str, birth_year: int, birth_month: int, department: str) -> tuple[str, str]:
    """A valid NIR and its birth place (INSEE code) for the patient of this rank (0-based).

    The commune and order numbers encode the rank within 990 x 999 ranks, and the rank's round
    chooses the set the birth department is drawn from (disjoint sets): two patients never
    share a NIR (up to about 3 million patients)."""
    within = rank % v.NIR_RANKS
    commune, order = divmod(within, 999)
    body = (f"{'1' if sex == 'M' else '2'}{birth_year % 100:02d}{birth_month:02d}{department}"
            f"{commune + 1:03d}{order + 1:03d}")
    digits = body.replace("2A", "19", 1).replace("2B", "18", 1) if department in ("2A", "2B") \
        else body
    return f"{body}{97 - int(digits) % 97:02d}", f"{department}{commune + 1:03d}"


def birth_department(rng: random.Random, rank: int, territory: Territory) -> str:
    rounds = v.BIRTH_DEPARTMENT_ROUNDS
    choices = rounds[(rank // v.NIR_RANKS) % len(rounds)]
    if rank // v.NIR_RANKS == 0 and rng.random() < 0.7:
        return territory.department
    return choices[int(rng.random() * len(choices))]


class ChunkWriter:
    """Builds the rows of one chunk of `count` patients from id `first_id`."""

    def __init__(self, ctx: Context, index: int, first_id: int, count: int):
        ctx.start_chunk(index)
        self.ctx = ctx
        self.rng = random.Random(f"{ctx.seed}:{index}")
        self.first_id = first_id
        self.count = count
        self.chunk = Chunk()
        codec = ctx.codec
        self.null = codec.null
        self.true = codec.true
        self.false = codec.false
        self.clock = ctx.clock
        self.rows_appointment = self.chunk.rows["appointment"]
        self.rows_event = self.chunk.rows["clinical_event"]
        self._weights: dict[int, list[float]] = {}
        self._ordinals: dict[tuple[int, int, int], int] = {}

    # -- the steps ------------------------------------------------------------------------

    def lives(self) -> list[Life]:
        lives = [self._life(self.first_id + offset) for offset in range(self.count)]
        for life in lives:
            self._enroll(life)
        return lives

    def patients(self, lives: list[Life]) -> None:
        for life in lives:
            self._patient_row(life)

    def care_plans(self, lives: list[Life]) -> None:
        for life in lives:
            self._plans(life)

    def stays_and_events(self, lives: list[Life]) -> None:
        for life in lives:
            self._stays(life)
            self._events(life)
            self._lace(life)

    def _lace(self, life: Life) -> None:
        """The LACE points of the patient's discharged stays, by the stays module's scoring
        (`lace.stay_points`, what `lace.refresh` computes from the rows once stored), written
        in the stays' rows."""
        rows = self.chunk.rows["stay"]
        for index, admitted_at, admitted_on, discharged_on, mode in life.scored:
            points = lace.stay_points(admitted_at=admitted_at, admitted_on=admitted_on,
                                      discharged_on=discharged_on, mode=mode,
                                      stay_codes=life.stay_codes,
                                      event_codes=life.diagnosis_days, ed_visits=life.ed_days)
            row = list(rows[index])
            row[_LACE_FIRST:_LACE_FIRST + len(_LACE_KEYS)] = [str(points[key])
                                                              for key in _LACE_KEYS]
            rows[index] = tuple(row)

    def appointments(self, lives: list[Life]) -> None:
        rows = self.rows_appointment
        null = self.null
        for life in lives:
            first = len(rows)
            self._appointments(life)
            # The patient's no-shows in a row as of each appointment, by the scheduling
            # module's rule, in start order (then id) as `count_consecutive_no_shows` counts.
            order = sorted(range(first, len(rows)),
                           key=lambda i: (rows[i][_STARTS_AT], int(rows[i][0])))
            for index, count in zip(order, consecutive_no_show_counts(
                    rows[i][_STATUS] for i in order), strict=True):
                rows[index] = (*rows[index], null if count is None else str(count))

    # -- identity -------------------------------------------------------------------------

    def _life(self, patient_id: int) -> Life:
        ctx, rng = self.ctx, self.rng
        territory = ctx.territories[_pick(rng, ctx.territory_weights)]
        sex = "F" if rng.random() < 0.54 else "M"
        age_now = _AGES[_pick(rng, _AGE_WEIGHTS)]
        birth = ctx.today - age_now * 365 - int(rng.random() * 365) - 1
        age = (ctx.start - birth) // 365
        severity = _pick(rng, SEVERITY_UNDER_75 if age < 75 else SEVERITY_FROM_75)
        hazard = min(0.35, 0.0015 * math.exp((age - 50) * 0.085) * DEATH_SEVERITY[severity])
        history = ctx.today - ctx.start
        death = None
        if rng.random() < 1 - math.exp(-hazard * history / 365):
            death = ctx.start + 1 + int(rng.random() * (history - 1))
        gp_ids = territory.providers["gp"]
        gp = gp_ids[min(len(gp_ids) - 1, _pick(rng, territory.gp_weights))]
        created = ctx.start - int(rng.random() * 3 * 365) if rng.random() < 0.6 else \
            ctx.start + int(rng.random() * history * 0.9)
        created = max(created, birth + 1)
        if death is not None:
            created = min(created, death - 1)
        life = Life(id=patient_id, territory=territory, sex=sex, birth=birth, death=death,
                    severity=severity, age=age, created=created, gp=gp)
        random = rng.random
        life.providers = {kind: ids[int(random() * len(ids))]
                          for kind, ids in territory.provider_lists}
        life.providers["gp"] = gp
        return life

    # -- enrollments ------------------------------------------------------------------------

    def _enroll(self, life: Life) -> None:
        ctx, rng = self.ctx, self.rng
        end = life.death if life.death is not None else ctx.today + FUTURE_DAYS + 1
        adult = life.birth + 18 * 365 + 5
        chosen: list[ProgramInfo] = []
        if rng.random() < 0.9:
            weights = self._program_weights((ctx.today - life.birth) // 365)
            howmany = 1 if rng.random() < 0.75 else (2 if rng.random() < 0.8 else 3)
            pool = list(zip(ctx.programs, weights, strict=True))
            for _ in range(howmany):
                total = sum(w for _, w in pool)
                if total <= 0:
                    break
                roll = rng.random() * total
                for index, (program, weight) in enumerate(pool):
                    roll -= weight
                    if roll < 0 or index == len(pool) - 1:
                        chosen.append(program)
                        pool.pop(index)
                        break
        rows = self.chunk.rows["stratum_assignment"]
        day_text = self.clock.day
        null = self.null
        pid = str(life.id)
        first_entry = None
        for program in chosen:
            if rng.random() < 0.55:
                entry = ctx.start - int(rng.random() * 3 * 365)
            else:
                entry = ctx.start + int(rng.random() * (ctx.today - ctx.start - 30))
            entry = max(entry, adult, life.created)
            if entry >= end - MIN_DWELL_DAYS:
                continue
            steps = self._timeline(life, entry, end)
            life.programs.append((program, steps))
            first_entry = entry if first_entry is None else min(first_entry, entry)
            program_id = str(program.id)
            for position, (day, level, reason) in enumerate(steps):
                following = steps[position + 1][0] if position + 1 < len(steps) else None
                stratum = program.strata[level].id if level else None
                rows.append((
                    str(ctx.ids("stratum_assignment")), pid, program_id,
                    str(stratum) if stratum else null, day_text(day),
                    day_text(following - 1) if following is not None else null, reason, null,
                    AUTHOR, self.clock.instant(min(day, ctx.today), 9 * 60 + int(
                        rng.random() * 480))))
            self._diagnosis_event(life, v.CHRONIC_DIAGNOSIS.get(program.code), steps[0][0])
        if first_entry is not None and first_entry < life.created:
            life.created = first_entry
        self._segments(life, end)
        codes = {code for program, _ in life.programs
                 for code in v.COMORBIDITIES.get(program.code, ())}
        if rng.random() < 0.05:
            codes.add(v.RARE_COMORBIDITIES[int(rng.random() * len(v.RARE_COMORBIDITIES))])
        life.comorbidities = sorted(codes)

    def _program_weights(self, age: int) -> list[float]:
        weights = self._weights.get(age)
        if weights is None:
            weights = self._weights[age] = [
                0.0 if age < _PROGRAM_AGE.get(program.code, 18) else {
                    "HF": 1.2 if age >= 70 else 0.8, "DIAB": 1.1, "COPD": 0.7,
                    "POLY": 1.6 if age >= 75 else 0.4}.get(program.code, 0.5)
                for program in self.ctx.programs]
        return weights

    def _timeline(self, life: Life, entry: int, end: int) -> list[tuple[int, int, str]]:
        """(day, level or 0 for an exit, reason) of one program, by day."""
        rng = self.rng
        boost = 1 + life.severity
        weights = FIRST_LEVEL[life.severity]
        roll = rng.random()
        level = 1 if roll < weights[0] else (2 if roll < weights[0] + weights[1] else 3)
        steps = [(entry, level, v.ENTRY_REASONS[int(rng.random() * len(v.ENTRY_REASONS))])]
        day = entry
        while True:
            if level == 0:
                if rng.random() >= REENTRY:
                    break
                day += 90 + int(rng.random() * 310)
                if day >= end - MIN_DWELL_DAYS:
                    break
                level = 1 if rng.random() < 0.6 else 2
                steps.append((day, level, v.REENTRY_REASON))
                continue
            up = UP_RATE[level] * boost
            down = DOWN_RATE[level] / boost
            rate = up + down + EXIT_RATE
            day += max(MIN_DWELL_DAYS, int(rng.expovariate(rate) * 365))
            if day >= end:
                break
            roll = rng.random() * rate
            if roll < up:
                level += 1
                reason = v.UP_REASONS[int(rng.random() * len(v.UP_REASONS))]
            elif roll < up + down:
                level -= 1
                reason = v.DOWN_REASONS[int(rng.random() * len(v.DOWN_REASONS))]
            else:
                level = 0
                reason = v.EXIT_REASONS[int(rng.random() * len(v.EXIT_REASONS))]
            steps.append((day, level, reason))
        if life.death is not None and steps[-1][1] and rng.random() < 0.8 \
                and life.death > steps[-1][0]:
            steps.append((life.death, 0, v.DEATH_REASON))
        return steps

    def _segments(self, life: Life, end: int) -> None:
        """The patient's level (the highest of their programs) as constant segments."""
        if len(life.programs) == 1:
            program, steps = life.programs[0]
            segments: list[tuple[int, int, int, ProgramInfo | None]] = []
            for position, (day, level, _reason) in enumerate(steps):
                last = steps[position + 1][0] if position + 1 < len(steps) else end
                if last <= day:
                    continue
                if segments and segments[-1][2] == level:
                    segments[-1] = (segments[-1][0], last, level, segments[-1][3])
                else:
                    segments.append((day, last, level, program if level else None))
            life.segments = segments
            life.starts = [segment[0] for segment in segments]
            return
        bounds = {end}
        for _program, steps in life.programs:
            for step in steps:
                if step[0] <= end:
                    bounds.add(step[0])
        days = sorted(bounds)
        segments = []  # the same shape as above
        for first, last in pairwise(days):
            best, best_program = 0, None
            for program, steps in life.programs:
                level = 0
                for day, step_level, _reason in steps:
                    if day > first:
                        break
                    level = step_level
                if level > best:
                    best, best_program = level, program
            if segments and segments[-1][2] == best and segments[-1][3] is best_program:
                segments[-1] = (segments[-1][0], last, best, best_program)
            else:
                segments.append((first, last, best, best_program))
        life.segments = segments
        life.starts = [segment[0] for segment in segments]

    # -- the patient row ------------------------------------------------------------------

    def _patient_row(self, life: Life) -> None:
        ctx, rng, null = self.ctx, self.rng, self.null
        names = ctx.names
        day_text = self.clock.day
        territory = life.territory
        birth_name = names.last[int(rng.random() * len(names.last))]
        firsts = names.first[life.sex]
        first = firsts[int(rng.random() * len(firsts))]
        first_names = first if rng.random() < 0.6 else \
            f"{first} {firsts[int(rng.random() * len(firsts))]}"
        used_name = names.last[int(rng.random() * len(names.last))] \
            if life.sex == "F" and life.age > 25 and rng.random() < 0.35 else None
        birth = self.clock_day(life.birth)
        number: str | None
        place: str | None
        if rng.random() < 0.92:
            department = birth_department(rng, life.id - 1, territory)
            number, place = nir(life.id - 1, life.sex, birth[0], birth[1], department)
            status = "qualified" if rng.random() < 0.65 else "provisional"
        else:
            number, place, status = null, null, "provisional"
        town_index = _pick(rng, territory.town_weights)
        city, postal = territory.towns[min(town_index, len(territory.towns) - 1)]
        phone = self._phone(territory) if rng.random() < 0.85 else null
        email = f"{names.mail[first]}.{names.mail[birth_name]}{int(rng.random() * 100)}" \
            f"@example.org" if rng.random() < 0.25 else null
        consent = life.consent or rng.random() < 0.78
        consent_day = life.consent_day
        if consent and consent_day is None:
            consent_day = min(ctx.today, life.created + int(rng.random() * 60))
            if life.death is not None:
                consent_day = min(consent_day, life.death)
        consent_text = day_text(consent_day) if consent_day is not None else null
        trusted = rng.random() < 0.4
        directives = life.age >= 75 and rng.random() < 0.2
        created = self.clock.instant(life.created, 8 * 60 + int(rng.random() * 600))
        case_manager = life.case_manager
        self.chunk.rows["patient"].append((
            str(life.id), f"GEN-P{life.id:08d}", number, status, birth_name, used_name or null,
            first_names, names.folded[birth_name],
            names.folded[used_name] if used_name else null, names.folded[first],
            day_text(life.birth), life.sex, place, phone, email,
            territory.addresses[int(rng.random() * len(territory.addresses))], postal, city,
            str(territory.id), str(life.gp), str(case_manager[0]) if case_manager else null,
            self.true if consent else self.false, consent_text if consent else null,
            f"{names.first['F' if rng.random() < 0.6 else 'M'][int(rng.random() * 80)]} "
            f"{names.last[int(rng.random() * len(names.last))]}" if trusted else null,
            v.RELATIONS[int(rng.random() * len(v.RELATIONS))] if trusted else null,
            self._phone(territory) if trusted else null,
            self.true if directives else self.false,
            day_text(min(ctx.today, life.created + int(rng.random() * 300))) if directives
            else null,
            day_text(life.death) if life.death is not None else null, null, created, created,
            "1"))
        if consent and consent_day is not None:
            self.chunk.rows["consent_event"].append((
                str(ctx.ids("consent_event")), str(life.id), self.true, consent_text,
                self.clock.instant(consent_day, 10 * 60), AUTHOR))

    def clock_day(self, ordinal: int) -> tuple[int, int]:
        text = self.clock.day(ordinal)
        return int(text[:4]), int(text[5:7])

    def _phone(self, territory: Territory) -> str:
        rng = self.rng
        prefix = v.PHONE_PREFIXES.get(territory.code, "01 40") if rng.random() < 0.55 else \
            ("06" if rng.random() < 0.6 else "07") + f" {int(rng.random() * 90) + 10}"
        return f"{prefix} {int(rng.random() * 100):02d} {int(rng.random() * 100):02d} " \
               f"{int(rng.random() * 100):02d}"

    # -- care plans ---------------------------------------------------------------------------

    def _plan_periods(self, life: Life) -> list[tuple[int, int, int, ProgramInfo]]:
        """(first day, end day exclusive, level, program) of the periods that get a plan."""
        periods: list[tuple[int, int, int, ProgramInfo]] = []
        rng = self.rng
        for first, last, level, program in life.segments:
            if program is None:
                continue
            if level == 3 or (level == 2 and last - first >= 180 and
                              rng.random() < PLAN_FOR_LEVEL2):
                if periods and periods[-1][1] == first:
                    periods[-1] = (periods[-1][0], last, periods[-1][2], periods[-1][3])
                else:
                    periods.append((first, last, level, program))
        return periods

    def _plans(self, life: Life) -> None:
        ctx, rng = self.ctx, self.rng
        number = 0
        previous_closed = -1
        for first, last, level, program in self._plan_periods(life):
            if rng.random() < NO_PLAN:
                continue
            plan_day = max(first + 3 + int(rng.random() * 42), previous_closed + 1,
                           life.created)
            if plan_day > ctx.today or plan_day >= last:
                continue
            if life.case_manager is None:
                territory = life.territory
                if not territory.case_managers:
                    return
                # spread over the territory's case managers by the patient's id (a chunk
                # does not depend on the chunks before it)
                life.case_manager = territory.case_managers[
                    (life.id * 2654435761 >> 7) % len(territory.case_managers)]
            number += 1
            previous_closed = self._plan(life, number, plan_day, first, last, level, program)

    def _plan(self, life: Life, number: int, plan_day: int, first: int, last: int, level: int,
              program: ProgramInfo) -> int:
        """Write one plan and its revisions; the day after which the next plan may start."""
        ctx, rng, null = self.ctx, self.rng, self.null
        day_text = self.clock.day
        today = ctx.today
        stratum = program.strata[level]
        manager_id, manager_label = life.case_manager  # type: ignore[misc]
        plan_id = ctx.ids("care_plan")
        agreement = plan_day + int(rng.random() * 21)
        draft = agreement > today or agreement >= last
        review = (agreement + (90 if rng.random() < 0.2 else 180)) if not draft else \
            plan_day + 180
        first_review = review
        ended = last <= today or (life.death is not None and life.death <= today)
        close_day = min(last, life.death) if life.death is not None else last
        cause = "death" if life.death is not None and close_day == life.death else (
            "exit" if life.level(last) == 0 else "down")
        # Revisions: (day, event, changed labels, state changes)
        revisions: list[tuple[int, str, list[str], dict]] = [(plan_day, "created", [], {})]
        status = "draft"
        activated = None
        achieved = False
        if not draft:
            revisions.append((agreement, "activated", ["Statut", "Activé le"],
                              {"status": "active", "activated_on": agreement}))
            status, activated = "active", agreement
            horizon = min(close_day, today + 1) if ended else today + 1
            while review < horizon:
                roll = rng.random()
                if roll < MISSED_REVIEW:
                    break  # the review is missed: the plan stays overdue
                late = 30 + int(rng.random() * 90) if roll < MISSED_REVIEW + LATE_REVIEW else 0
                day = max(revisions[-1][0], review - 14 + late + int(rng.random() * 28))
                if day >= horizon:
                    break
                review = day + 180
                changed = ["Date de réévaluation"]
                if not achieved and rng.random() < 0.4:
                    achieved = True
                    changed.append("Objectif 1 \u203a Statut")
                revisions.append((day, "edited", changed,
                                  {"review_date": review, "achieved": achieved}))
        closed = None
        if ended and close_day >= revisions[-1][0]:
            closed = close_day
            revisions.append((close_day, "closed", ["Statut", "Clôturé le", "Motif de clôture"],
                              {"status": "closed", "closed_on": close_day}))
            status = "closed"
        life.plans.append(Plan(active_from=activated, active_to=closed if activated else None,
                               actions={}))
        plan = life.plans[-1]
        # Content: the stratum's goals, then its follow-up template as actions.
        caregiver = rng.random() < 0.6
        legal = "none" if rng.random() < 0.85 else ("curatorship" if rng.random() < 0.6
                                                    else "guardianship")
        texts = (v.EXPECTATIONS[int(rng.random() * len(v.EXPECTATIONS))],
                 v.PRIORITIES[int(rng.random() * len(v.PRIORITIES))],
                 v.LIFE_PROJECTS[int(rng.random() * len(v.LIFE_PROJECTS))],
                 v.CURRENT_HELP[int(rng.random() * len(v.CURRENT_HELP))])
        names = ctx.names
        caregiver_name = f"{names.first['F'][int(rng.random() * 100)]} " \
                         f"{names.last[int(rng.random() * len(names.last))]}" if caregiver else None
        caregiver_relation = v.RELATIONS[int(rng.random() * len(v.RELATIONS))] \
            if caregiver else None
        method = ("oral", "written", "signed")[int(rng.random() * 3)] if not draft else None
        sharing = life.consent or rng.random() < 0.8
        life.consent = life.consent or sharing
        if sharing and (life.consent_day is None or life.consent_day > agreement):
            life.consent_day = min(agreement, today)
        rows = self.chunk.rows
        pid = str(plan_id)
        domains = [domain for domain in v.NEEDS if rng.random() < 0.6] or ["health"]
        assessment = {}
        for domain in domains:
            rows["care_plan_assessment"].append((str(ctx.ids("care_plan_assessment")), pid,
                                                 domain, "", v.NEEDS[domain]))
            assessment[domain] = {"summary": "", "needs": v.NEEDS[domain]}
        goals_doc = []
        goal_texts = stratum.goals[:3] or [("housing", "Maintien à domicile")]
        target = day_text(min(plan_day + 365, ctx.clock.last))
        for position, (goal_domain, description) in enumerate(goal_texts):
            goal_id = ctx.ids("care_plan_goal")
            goal_status = "achieved" if achieved and position == 0 else "open"
            rows["care_plan_goal"].append((str(goal_id), pid, str(position), goal_domain, "",
                                           description, null, target, goal_status, null))
            goals_doc.append({"id": goal_id, "domain": goal_domain, "problem": "",
                              "description": description, "measure": None,
                              "target_date": target, "status": goal_status,
                              "status_reason": None, "actions": []})
        goal_id = ctx.ids("care_plan_goal")
        follow = v.FOLLOW_UP_GOAL.format(program=program.display)
        rows["care_plan_goal"].append((str(goal_id), pid, str(len(goal_texts)), "health", "",
                                       follow, null, null, "open", null))
        actions_doc = []
        team = [life.gp]
        action_status = "planned" if draft else ("done" if closed else "in_progress")
        for position, (kind, interval, label, occurrences) in enumerate(stratum.items):
            provider = life.providers.get(kind)
            if provider is None:
                continue
            action_id = ctx.ids("care_plan_action")
            plan.actions.setdefault(kind, action_id)
            rows["care_plan_action"].append((str(action_id), str(goal_id), str(position), label,
                                             "provider", str(provider), str(interval),
                                             str(occurrences), null, action_status))
            actions_doc.append({"id": action_id, "description": label,
                                "responsible": "provider", "provider_id": provider,
                                "interval_days": interval, "occurrences": occurrences,
                                "due_date": None, "status": action_status,
                                "provider_name": ctx.provider_names.get(provider)})
            if provider not in team:
                team.append(provider)
        goals_doc.append({"id": goal_id, "domain": "health", "problem": "", "description": follow,
                          "measure": None, "target_date": None, "status": "open",
                          "status_reason": None, "actions": actions_doc})
        team_doc = []
        for position, provider in enumerate(team):
            kind = "gp" if position == 0 else next(
                (k for k, p in life.providers.items() if p == provider), "other")
            role = v.TEAM_ROLES.get(kind, "")
            rows["care_plan_member"].append((str(ctx.ids("care_plan_member")), pid,
                                             str(provider), str(position), role))
            team_doc.append({"provider_id": provider,
                             "provider_name": ctx.provider_names.get(provider), "role": role})
        close_reason = v.CLOSE_REASONS[cause] if closed else None
        final_review = review
        rows["care_plan"].append((
            pid, str(life.id), str(number), status, str(stratum.id), str(manager_id),
            day_text(plan_day), day_text(final_review), caregiver_name or null,
            caregiver_relation or null, self._phone(life.territory) if caregiver else null,
            legal, null, texts[0], texts[1], texts[2], texts[3],
            day_text(agreement) if not draft else null, method or null,
            self.true if sharing else self.false,
            day_text(activated) if activated is not None else null,
            day_text(closed) if closed is not None else null, close_reason or null, null,
            self.clock.instant(plan_day, 10 * 60), self.clock.instant(revisions[-1][0], 11 * 60),
            str(len(revisions))))
        # The revisions, each with the plan as it was then.
        document = {
            "id": plan_id, "patient_id": life.id, "plan_number": number, "version": 1,
            "stratum_id": stratum.id, "supersedes_id": None,
            "plan_date": day_text(plan_day), "review_date": day_text(first_review),
            "coordinator_id": manager_id, "caregiver_name": caregiver_name,
            "caregiver_relation": caregiver_relation, "caregiver_phone": None,
            "legal_protection": legal, "legal_protection_details": None,
            "expectations": texts[0], "priorities": texts[1], "life_project": texts[2],
            "current_help": texts[3], "agreement_on": day_text(agreement) if not draft else None,
            "agreement_method": method, "sharing_agreed": sharing, "status": "draft",
            "activated_on": None, "closed_on": None, "close_reason": None,
            "assessment": {domain: assessment.get(domain, {"summary": "", "needs": ""})
                           for domain in ("health", "autonomy", "psychological", "social",
                                          "housing", "financial", "caregiver")},
            "goals": goals_doc, "team": team_doc}
        revision_rows = rows["care_plan_revision"]
        escape = self._json
        manager = str(manager_id)
        for number_, (day, event, changed, state) in enumerate(revisions, start=1):
            document["version"] = number_
            if "status" in state:
                document["status"] = state["status"]
            if "activated_on" in state:
                document["activated_on"] = day_text(state["activated_on"])
            if "review_date" in state:
                document["review_date"] = day_text(state["review_date"])
            if state.get("achieved"):
                goals_doc[0]["status"] = "achieved"
            if "closed_on" in state:
                document["closed_on"] = day_text(state["closed_on"])
                document["close_reason"] = close_reason
            revision_rows.append((
                str(ctx.ids("care_plan_revision")), pid, str(number_), event,
                self.clock.instant(min(day, today), 10 * 60 + number_), manager,
                manager_label, escape(changed), escape(document)))
        return closed if closed is not None else last

    def _json(self, value: object) -> str:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        return text.replace("\\", "\\\\") if self.null is not None else text

    # -- stays and events ---------------------------------------------------------------------

    def _stays(self, life: Life) -> None:
        ctx, rng = self.ctx, self.rng
        self._occupied_until = None
        today = ctx.today
        start = max(ctx.start, life.created)
        end = min(life.death + 1, today + 1) if life.death is not None else today + 1
        final = None
        if life.death is not None and life.death <= today and rng.random() < IN_HOSPITAL_DEATH:
            length = int(rng.random() * 12)
            final = max(start, life.death - length)
            end = final
        factor = (1 + 0.5 * life.severity) / 365
        day = start
        forced: tuple[int, str, str | None] | None = None  # the next stay, when decided
        while True:
            if forced is not None:
                day, mode, previous = forced
                forced = None
            else:
                rate = STAY_RATE[life.level(day)] * factor
                day += int(rng.expovariate(rate)) + 1
                roll = rng.random()
                mode = "emergency" if roll < 0.58 else ("planned" if roll < 0.95 else "transfer")
                previous = None
            if day >= end:
                break
            outcome = self._stay(life, day, mode, previous, end_day=end - 1)
            if outcome is None:
                break
            discharge_day, destination, main = outcome
            if destination is None:
                continue  # cancelled: the patient was not admitted
            if destination == "transfer":
                forced = (discharge_day, "transfer", main)
                continue
            if destination in ("open", "death"):
                break
            frail = life.level(discharge_day) == 3 or (
                life.level(discharge_day) == 2 and life.program_at(discharge_day) is not None
                and life.program_at(discharge_day).code == "POLY")  # type: ignore[union-attr]
            if rng.random() < (READMIT_FRAIL if frail else READMIT_OTHER):
                forced = (discharge_day + 1 + int(29 * rng.random() ** 1.5), "emergency", None)
            day = discharge_day
        if final is not None and life.death is not None:
            self._stay(life, final, "emergency", None, end_day=life.death, dies=True)

    def _stay(self, life: Life, day: int, mode: str, previous: str | None, *, end_day: int,
              dies: bool = False) -> tuple[int, str | None, str] | None:
        """Write one stay admitted on `day`; (discharge day, destination or None when
        cancelled or "open", main diagnosis); None when it cannot fit."""
        ctx, rng, null, clock = self.ctx, self.rng, self.null, self.clock
        today = ctx.today
        territory = life.territory
        level = life.level(day)
        if mode == "planned":
            weekday = (day + 6) % 7
            if weekday >= 5:
                day += 7 - weekday
            minute = 7 * 60 + int(rng.random() * 180)
            length = 0 if rng.random() < 0.35 else 1 + int(rng.expovariate(0.45))
        elif mode == "transfer" and previous is not None:
            minute = self._last_discharge_minute + 60 + int(rng.random() * 120)
            length = 2 + int(rng.expovariate(0.2))
        else:
            minute = int(rng.random() * 1440) if rng.random() < 0.3 else \
                8 * 60 + int(rng.random() * 840)
            length = int(rng.lognormvariate(1.55 + 0.15 * (level == 3), 0.7))
        day, minute = clock.local(day, minute)
        if day > end_day or (day == today and minute >= NOW_MINUTE) or day > today:
            return None
        if self._occupied_until is not None and (day, minute) <= self._occupied_until:
            return None
        if mode == "transfer" and previous is not None:
            facility, finess = territory.university
        else:
            facility, finess = territory.hospitals[
                min(len(territory.hospitals) - 1, _pick(rng, territory.hospital_weights))]
        programs = [program.code for program, _steps in life.programs]
        if previous is not None:
            main = previous
        elif mode == "planned" and rng.random() < 0.7:
            main = v.PLANNED_DIAGNOSES[int(rng.random() * len(v.PLANNED_DIAGNOSES))]
        elif programs and rng.random() < 0.65:
            codes = v.MAIN_DIAGNOSES.get(programs[int(rng.random() * len(programs))],
                                         v.GENERAL_DIAGNOSES)
            main = codes[int(rng.random() * len(codes))]
        else:
            main = v.GENERAL_DIAGNOSES[int(rng.random() * len(v.GENERAL_DIAGNOSES))]
        discharge = day + length
        if length == 0:
            out_minute = max(minute + 180, min(minute + 240 + int(rng.random() * 300), 1430))
        else:
            out_minute = 10 * 60 + int(rng.random() * 420)
        discharge, out_minute = clock.local(discharge, out_minute)
        destination: str | None
        if dies or (discharge > end_day and life.death is not None and end_day == life.death):
            discharge, out_minute = end_day, (14 * 60 if end_day > day
                                              else min(1439, max(minute + 60, 14 * 60)))
            destination = "death"
        elif discharge > end_day and end_day >= today:
            destination = "open"
        elif discharge > end_day:  # the patient is admitted again, or dies, on the next day
            discharge = end_day
            out_minute = 10 * 60 + int(rng.random() * 420)
            if discharge == day:
                out_minute = min(1439, max(out_minute, minute + 60))
            destination = "home"
        else:
            roll = rng.random()
            old = life.age >= 80
            destination = ("home" if roll < 0.62 else "home_with_services" if roll < 0.76
                           else "nursing_home" if roll < (0.82 if old else 0.78)
                           else "rehabilitation" if roll < 0.9 else "transfer" if roll < 0.95
                           and previous is None else "other" if roll < 0.97 else "home")
        if destination != "open" and (discharge > today or (discharge == today and
                                                            out_minute >= NOW_MINUTE)):
            destination = "open"
        cancelled = not dies and destination != "death" and rng.random() < CANCELLED_STAY
        stay_id = ctx.ids("stay")
        source = STAY_SOURCES[int(rng.random() * len(STAY_SOURCES))]
        admitted_at = clock.instant(day, minute)
        row_open = destination == "open" or cancelled
        discharged_at = null if row_open else clock.instant(discharge, out_minute)
        location = v.WARDS.get(main[0], "Médecine polyvalente")
        cancelled_at = clock.instant(day, minute + 90) if cancelled else null
        updated = cancelled_at if cancelled else (admitted_at if row_open else discharged_at)
        self.chunk.rows["stay"].append((
            str(stay_id), f"GEN-S{stay_id:09d}" if source != "form" else null, str(life.id),
            facility, finess, location, admitted_at, mode, discharged_at,
            null if row_open else destination, main, cancelled_at, null, null,
            null, null, null, null, null, source, admitted_at, AUTHOR, updated, "1",
            clock.day(day), null if row_open else clock.day(discharge)))
        codes = [code for code in life.comorbidities if code != main]
        wanted = min(len(codes), int(rng.random() * (2 + life.severity + (life.age >= 75))))
        further = rng.sample(codes, wanted) if wanted else []
        if further:
            diagnoses = self.chunk.rows["stay_diagnosis"]
            for position, code in enumerate(further, start=1):
                diagnoses.append((str(ctx.ids("stay_diagnosis")), str(stay_id), code,
                                  str(position)))
        if not cancelled:
            aware = clock.aware(day, minute)
            life.stay_codes.extend((aware, code) for code in (main, *further))
            if not row_open:
                life.scored.append((len(self.chunk.rows["stay"]) - 1, aware,
                                    date.fromordinal(day), date.fromordinal(discharge), mode))
        if mode == "emergency" and previous is None:
            self._event(life, "ed_visit", "ed", day, label=f"Urgences - {facility}")
        if cancelled:
            return day, None, main
        self._last_discharge_minute = out_minute
        if destination == "open":
            self._occupied_until = (today + 10_000, 0)
            life.stays.append((day, today + FUTURE_DAYS + 1))
            return discharge, "open", main
        self._occupied_until = (discharge, out_minute)
        life.stays.append((day, discharge))
        if destination in ("home", "home_with_services", "other"):
            life.discharges.append((discharge, out_minute, life.followed(discharge)))
        return discharge, destination, main

    _occupied_until: tuple[int, int] | None = None
    _last_discharge_minute: int = 0

    def _events(self, life: Life) -> None:
        ctx, rng = self.ctx, self.rng
        today = ctx.today
        start = max(ctx.start, life.created)
        end = min(life.death, today) if life.death is not None else today
        # ED visits that did not lead to an admission
        day = start
        while True:
            day += int(rng.expovariate(ED_RATE[life.level(day)] / 365)) + 1
            if day > end:
                break
            if not any(first <= day <= last for first, last in life.stays):
                self._event(life, "ed_visit", "ed", day)
        # Immunizations, each season from October
        year = int(ctx.clock.day(start)[:4]) - 1
        vaccinated = rng.random() < 0.7
        first_season = True
        while True:
            october = self._ordinal(year, 10, 1)
            year += 1
            if october > end:
                break
            day = october + 14 + int(rng.random() ** 1.6 * 100)
            if day < start or day > end:
                continue
            age = (day - life.birth) // 365
            chance = (FLU_VACCINATED if vaccinated else FLU_RELUCTANT) if age >= 65 else (
                FLU_UNDER_65 if life.programs else FLU_UNDER_65 / 3)
            if rng.random() < chance:
                self._event(life, "immunization", "influenza", day)
            if age >= 65 and rng.random() < COVID_SHARE:
                self._event(life, "immunization", "covid19", min(end, day + int(rng.random() * 20)))
            if first_season and age >= 65 and rng.random() < PNEUMOCOCCAL_SHARE:
                self._event(life, "immunization", "pneumococcal", day)
            first_season = False
        # Lab results of the programs
        for program, steps in life.programs:
            lab = v.LABS.get(program.code)
            if lab is not None:
                self._labs(life, lab, steps, start, end)
            if program.code in ("HF", "DIAB"):
                code, label, (low, high), every = v.CREATININE
                day = max(start, steps[0][0]) + int(rng.random() * every)
                while day <= end:
                    value = low + (high - low) * rng.random() ** 2
                    self._event(life, "lab_result", code, day, value=f"{value:.0f}", label=label)
                    day += every - 30 + int(rng.random() * 60)

    def _labs(self, life: Life, lab: tuple, steps: list, start: int, end: int) -> None:
        rng = self.rng
        code, label, ranges, every, from_level = lab
        day = max(start, steps[0][0]) + int(rng.random() * every)
        while day <= end:
            level = max(1, life.level(day))
            if level < from_level:
                day += every
                continue
            low, high = ranges[level - 1]
            value = low + (high - low) * rng.random()
            self._event(life, "lab_result", code, day,
                        value=f"{value:.1f}" if high < 100 else f"{value:.0f}", label=label)
            day += every - 30 + int(rng.random() * 60)

    def _ordinal(self, year: int, month: int, day: int) -> int:
        key = (year, month, day)
        ordinal = self._ordinals.get(key)
        if ordinal is None:
            ordinal = self._ordinals[key] = date(year, month, day).toordinal()
        return ordinal

    def _diagnosis_event(self, life: Life, code: str | None, day: int) -> None:
        if code is None:
            return
        day = max(day, life.birth + 1)
        if life.death is not None:
            day = min(day, life.death)
        if day > self.ctx.today:
            return
        self._event(life, "diagnosis", code, day)

    def _event(self, life: Life, kind: str, code: str, day: int, *, value: str | None = None,
               label: str | None = None) -> None:
        ctx, null = self.ctx, self.null
        if day > ctx.today or day < life.birth or (life.death is not None and day > life.death):
            return
        if kind == "ed_visit":
            life.ed_days.append(date.fromordinal(day))
        elif kind == "diagnosis":
            life.diagnosis_days.append((date.fromordinal(day), code))
        created = self.clock.instant(day + 1 if day < ctx.today else day, 8 * 60)
        next_id = ctx.next_id
        event_id = next_id["clinical_event"]
        next_id["clinical_event"] = event_id + 1
        self.rows_event.append((
            str(event_id), null, str(life.id), kind, code, self.clock.day(day),
            value if value is not None else null, label if label is not None else null,
            EVENT_SOURCES[int(self.rng.random() * 4)], created, AUTHOR, created, "1"))

    # -- appointments -------------------------------------------------------------------------

    def _appointments(self, life: Life) -> None:
        ctx = self.ctx
        random = self.rng.random
        first = max(ctx.start, life.created)
        end = life.death if life.death is not None else ctx.today + FUTURE_DAYS + 1
        templates = ctx.templates
        streams = []  # (first day, end day, kind, provider, label)
        for segment_first, segment_last, level, _program in life.segments or [
                (first, end, 0, None)]:
            if segment_last <= first or segment_first >= end:
                continue
            low, high = max(first, segment_first), min(end, segment_last)
            for kind, interval, label in templates.get(level) or LEVEL0_TEMPLATE:
                provider = life.providers.get(kind)
                if provider is not None:
                    streams.append((low, high, interval, kind, provider, label))
        if life.segments and life.segments[0][0] > first:  # before the first enrollment
            _kind, interval, label = LEVEL0_TEMPLATE[0]
            streams.append((first, min(end, life.segments[0][0]), interval, "gp", life.gp,
                            label))
        patient = str(life.id)
        for low, high, interval, kind, provider, label in streams:
            info = KINDS.get(kind, DEFAULT_KIND)
            provider_text = str(provider)
            step = interval * INTERVAL_SCALE
            day = low + random() * step
            while day < high:
                self._appointment(life, patient, int(day), info, provider_text, label, end)
                day += step * (0.8 + 0.4 * random())
        for discharge, _minute, followed in life.discharges:
            if random() < (POST_DISCHARGE_FOLLOWED if followed else POST_DISCHARGE_OTHERS):
                delay = 1 + int(random() ** 2 * 10) if followed else 2 + int(random() * 14)
                day = discharge + delay
                if day < end:
                    kind = "gp" if random() < 0.6 else "nurse"
                    provider = life.providers.get(kind, life.gp)
                    self._appointment(life, patient, day, KINDS.get(kind, DEFAULT_KIND),
                                      str(provider), POST_DISCHARGE_LABEL, end)

    def _appointment(self, life: Life, patient: str, day: int, info: tuple, provider: str,
                     label: str, end: int, *, rebooked: bool = False) -> int | None:
        """Write one appointment of the patient (`info`: its kind's KINDS entry); its id, or
        None when the day falls after the patient's last one."""
        random = self.rng.random
        today = self.ctx.today
        kind, first, slots, step, duration, minutes, weekend, choose, usual = info
        if not weekend:
            weekday = (day + 6) % 7
            if weekday >= 5:
                day += 7 - weekday
        if day >= end:
            return None
        minute = first + step * int(random() * slots)
        instant = self.clock.instant
        starts = instant(day, minute)
        ends = instant(day, minute + minutes)
        next_id = self.ctx.next_id
        appointment_id = next_id["appointment"]
        next_id["appointment"] = appointment_id + 1
        followed = life.plans and life.followed(day)
        if choose:
            roll = random()
            appointment_kind = "consultation" if roll < 0.88 else (
                "teleconsultation" if roll < 0.96 else "home_visit")
        elif kind == "dietitian" and random() < 0.2:
            appointment_kind = "group_session"
        else:
            appointment_kind = usual
        null = self.null
        recorded = recorded_by = missing = rescheduled = reason = null
        outreach = outreach_at = outreach_by = null
        version = "1"
        if day > today or (day == today and minute >= NOW_MINUTE):
            status = "scheduled"
        else:
            roll = random()
            in_stay = False
            if life.stays:
                for stay_first, stay_last in life.stays:
                    if stay_first <= day <= stay_last:
                        in_stay = True
                        break
            if in_stay:
                if roll < 0.8:
                    status = "cancelled_patient"
                else:
                    status, reason = "no_show", "hospitalised"
            elif roll < CANCELLED_BY_PATIENT:
                status = "cancelled_patient"
            elif roll < CANCELLED_BY_PATIENT + CANCELLED_BY_PROVIDER:
                status = "cancelled_provider"
            elif random() < (NO_SHOW_FOLLOWED if followed else NO_SHOW_OTHERS):
                status = "no_show"
                roll = random()
                reason = "forgot" if roll < 0.45 else "transport" if roll < 0.65 else \
                    "refused" if roll < 0.75 else "other"
            else:
                status = "attended"
            pending = random()
            if (today - day <= 3 and pending < PENDING_RECENT) or pending < PENDING_OLD:
                status, reason = "scheduled", null
                if today > day:
                    missing = instant(day, minute + minutes + 60)
            else:
                version = "2"
                late = minute + minutes + 15 * int(1 + random() * 40)
                if day == today and late >= NOW_MINUTE:
                    late = NOW_MINUTE - 1
                recorded = instant(day, late)
                recorded_by = AUTHOR
                if status == "no_show" and life.case_manager is not None and day < today \
                        and random() < 0.6:
                    outreach = v.OUTREACH_NOTES[int(random() * len(v.OUTREACH_NOTES))]
                    outreach_at = instant(day + 1, 10 * 60)
                    outreach_by = life.case_manager[1]
                elif status[:9] == "cancelled" and not rebooked and random() < RESCHEDULED:
                    new_id = self._appointment(life, patient, day + 2 + int(random() * 12), info,
                                               provider, label, end, rebooked=True)
                    if new_id is not None:
                        rescheduled = str(new_id)
        booked = day - 7 - int(random() * 50)
        if booked >= today:
            booked_at = instant(today, 9 * 60 + 30 * int(random() * 5))
        else:
            if booked < life.created:
                booked = life.created
            booked_at = instant(booked, 9 * 60 + 30 * int(random() * 18))
        action = life.action(day, kind) if followed else None
        self.rows_appointment.append((
            str(appointment_id), null, patient, provider, appointment_kind, starts, duration,
            ends, null, label, str(action) if action is not None else null, null, status,
            recorded, recorded_by, missing, rescheduled, null, reason, outreach, outreach_at,
            outreach_by, booked_at, AUTHOR, version))
        return appointment_id

