"""The generated registry as its users rely on it: the counts it reports, valid identities and
references, a pyramid in every program and stratum, outcomes and readmissions to measure, the
domain's rules kept; a second run refuses an existing registry unless told to append."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select, text
from stdnum.fr import nir as stdnum_nir

from coordinator.careplans.models import CarePlan, CarePlanRevision, PlanStatus
from coordinator.core.time import PARIS
from coordinator.extensions import db
from coordinator.generate.registry import COLUMNS
from coordinator.patients.models import Patient
from coordinator.patients.validation import check_nir
from coordinator.providers.models import PROVIDER_KINDS, Provider
from coordinator.providers.validation import FINESS_RE, check_provider
from coordinator.scheduling.models import Appointment, AppointmentStatus
from coordinator.stays import icd10
from coordinator.stays.models import ClinicalEvent, Stay
from coordinator.strata.models import Program, Stratum, StratumAssignment
from tests import dbutil
from tests.generate.conftest import PATIENTS, TODAY, close, fresh_app, generate

pytestmark = pytest.mark.live_database

TABLES = ("user_account", "provider", *COLUMNS)


def _count(session, table: str) -> int:
    return session.scalar(text(f"SELECT COUNT(*) FROM {table}"))  # noqa: S608 - our names


def test_the_report_gives_each_table_its_rows(generated, registry):
    lines = {line.split("|")[1].strip(): line.split("|")[2].strip()
             for line in generated.output.splitlines()
             if line.startswith("| ") and line.split("|")[1].strip() in TABLES}
    assert set(lines) == set(TABLES)
    for table in TABLES:
        assert int(lines[table].replace(",", "")) == _count(registry, table), table
    assert _count(registry, "patient") == PATIENTS
    assert "Total:" in generated.output and "database size" in generated.output


def test_volumes_are_those_of_the_fhf_scale(registry):
    """About 13 appointments and 1.3 stays per patient over three years (20 M and 2 M for
    1.5 M patients); over two years, two thirds of it."""
    appointments = _count(registry, "appointment") / PATIENTS
    stays = _count(registry, "stay") / PATIENTS
    assert 6 < appointments < 12
    assert 0.5 < stays < 1.3


def test_every_nir_is_valid_unique_and_matches_the_identity(registry):
    rows = registry.execute(select(Patient.nir, Patient.sex, Patient.birth_date,
                                   Patient.birth_place_insee, Patient.identity_status)).all()
    with_nir = [row for row in rows if row.nir]
    assert len(with_nir) > 0.8 * len(rows)
    for row in with_nir:
        stdnum_nir.validate(row.nir)
        assert check_nir(row.nir, row.sex, row.birth_date) == [], row
        assert row.birth_place_insee == row.nir[5:10]
    assert len({row.nir for row in with_nir}) == len(with_nir)
    assert all(row.nir for row in rows if row.identity_status == "qualified")


def test_every_reference_points_at_a_row(registry):
    """Every foreign key of the generated tables, read from the models: no orphan."""
    checked = 0
    for table_name in TABLES:
        table = db.metadata.tables[table_name]
        for constraint in table.foreign_key_constraints:
            (column,) = constraint.columns
            (element,) = constraint.elements
            target = element.column
            orphans = registry.scalar(text(
                f"SELECT COUNT(*) FROM {table.name} child WHERE child.{column.name} IS NOT NULL "  # noqa: S608
                f"AND NOT EXISTS (SELECT 1 FROM {target.table.name} parent "
                f"WHERE parent.{target.name} = child.{column.name})"))
            assert orphans == 0, f"{table.name}.{column.name}"
            checked += 1
    assert checked > 20


def test_postgresql_rebuilt_and_validated_every_constraint(registry):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the constraints are rebuilt on PostgreSQL only")
    invalid = registry.scalar(text(
        "SELECT COUNT(*) FROM pg_constraint WHERE NOT convalidated"))
    assert invalid == 0
    names = set(registry.scalars(text(
        "SELECT indexname FROM pg_indexes WHERE tablename = 'appointment'")))
    assert {"ix_appointment_patient_starts", "ix_appointment_provider_starts",
            "ix_appointment_status_ends"} <= names
    # Copied frozen (and the stays vacuumed after their flags): every page all-visible.
    for table in ("patient", "appointment", "clinical_event", "stay"):
        pages, visible = registry.execute(text(
            "SELECT relpages, relallvisible FROM pg_class WHERE relname = :t"), {"t": table}).one()
        assert pages > 0 and visible == pages, table
    # The id sequences continue after the generated ids.
    next_id = registry.scalar(text("SELECT nextval(pg_get_serial_sequence('patient', 'id'))"))
    assert next_id == PATIENTS + 1


def test_each_program_and_stratum_has_patients_in_a_pyramid(registry):
    current = dict(registry.execute(
        select(Stratum.code, func.count())
        .join(StratumAssignment, StratumAssignment.stratum_id == Stratum.id)
        .where(StratumAssignment.end_date.is_(None)).group_by(Stratum.code)).all())
    codes = set(registry.scalars(select(Stratum.code)))
    assert set(current) == codes
    levels = Counter()
    for code, count in current.items():
        levels[int(code.rsplit("-", 1)[1])] += count
    total = sum(levels.values())
    assert levels[1] > levels[2] > levels[3] > 0
    assert 0.55 < levels[1] / total < 0.85 and levels[3] / total < 0.12
    programs = set(registry.scalars(select(Program.code).join(
        StratumAssignment, StratumAssignment.program_id == Program.id)))
    assert programs == set(registry.scalars(select(Program.code)))
    up_down = registry.scalar(select(func.count()).select_from(StratumAssignment)
                              .where(StratumAssignment.end_date.is_not(None)))
    assert up_down > 0  # transitions and exits


def test_enrollment_timelines_follow_each_other(registry):
    rows = registry.execute(
        select(StratumAssignment.patient_id, StratumAssignment.program_id,
               StratumAssignment.effective_date, StratumAssignment.end_date,
               StratumAssignment.stratum_id, Patient.birth_date, Patient.deceased_date)
        .join(Patient, Patient.id == StratumAssignment.patient_id)
        .order_by(StratumAssignment.patient_id, StratumAssignment.program_id,
                  StratumAssignment.effective_date)).all()
    for row, following in itertools.pairwise(rows):
        assert row.effective_date > row.birth_date
        if row.deceased_date is not None and row.stratum_id is not None:
            assert row.effective_date <= row.deceased_date
        same = (following.patient_id, following.program_id) == (row.patient_id, row.program_id)
        if same:
            assert following.effective_date > row.effective_date
            assert (following.effective_date - row.end_date).days == 1
        else:
            assert row.end_date is None


def test_some_stays_are_readmissions_and_discharged_stays_have_a_lace_score(registry):
    readmitted = registry.scalar(select(func.count()).select_from(Stay)
                                 .where(Stay.readmitted_by_id.is_not(None)))
    index = registry.scalar(select(func.count()).select_from(Stay)
                            .where(Stay.is_index_stay.is_(True)))
    assert index > 0 and 0.05 < readmitted / index < 0.3
    unscored = registry.scalar(select(func.count()).select_from(Stay).where(
        Stay.discharged_at.is_not(None), Stay.cancelled_at.is_(None),
        Stay.lace_score.is_(None)))
    assert unscored == 0
    modes = dict(registry.execute(select(Stay.admission_mode, func.count())
                                  .group_by(Stay.admission_mode)).all())
    assert set(modes) == {"emergency", "planned", "transfer"}
    assert modes["emergency"] > modes["planned"] > modes["transfer"]


def test_appointments_have_realistic_outcomes(registry):
    statuses = dict(registry.execute(select(Appointment.status, func.count())
                                     .group_by(Appointment.status)).all())
    assert set(statuses) == set(AppointmentStatus)
    outcomes = statuses["attended"] + statuses["no_show"]
    assert 0.12 < statuses["no_show"] / outcomes < 0.3
    future = registry.scalar(select(func.count()).select_from(Appointment).where(
        Appointment.starts_at > datetime(2026, 6, 30, 12, tzinfo=UTC)))
    assert future > 0
    assert registry.scalar(select(func.count()).select_from(Appointment).where(
        Appointment.starts_at > datetime(2026, 6, 30, 12, tzinfo=UTC),
        Appointment.status != AppointmentStatus.SCHEDULED)) == 0


def test_appointments_have_their_consecutive_no_shows(registry):
    """Every outcome carries the patient's no-shows in a row as of it (written with the rows,
    by scheduling.services.consecutive_no_show_counts); a scheduled appointment none; and
    `count_consecutive_no_shows` over the stored rows finds nothing to change."""
    from coordinator.scheduling.services import count_consecutive_no_shows

    rows = registry.execute(select(Appointment.patient_id, Appointment.status,
                                   Appointment.consecutive_no_shows)
                            .order_by(Appointment.patient_id, Appointment.starts_at,
                                      Appointment.id)).all()
    expected: dict[int, int] = {}
    for patient_id, status, count in rows:
        if status == AppointmentStatus.SCHEDULED:
            assert count is None
            continue
        before = expected.get(patient_id, 0)
        expected[patient_id] = 0 if status == AppointmentStatus.ATTENDED else \
            before + 1 if status == AppointmentStatus.NO_SHOW else before
        assert count == expected[patient_id]
    assert max(expected.values()) >= 2  # some runs of no-shows
    assert count_consecutive_no_shows(registry) == 0
    registry.rollback()


def test_patients_with_an_active_plan_miss_fewer_appointments(registry):
    """About 12 % of the outcomes of patients followed by a plan are no-shows, 24 % of the
    others' (the published figures)."""
    dialect = db.engine.dialect.name
    day = "date(a.starts_at)" if dialect == "sqlite" else "CAST(a.starts_at AS DATE)"
    rows = registry.execute(text(
        f"SELECT EXISTS (SELECT 1 FROM care_plan c WHERE c.patient_id = a.patient_id "  # noqa: S608
        f"AND c.activated_on <= {day} AND (c.closed_on IS NULL OR c.closed_on > {day})) "
        f"AS followed, a.status FROM appointment a "
        f"WHERE a.status IN ('attended', 'no_show')")).all()
    rates = {}
    for followed in (True, False):
        statuses = [row.status for row in rows if bool(row.followed) == followed]
        rates[followed] = statuses.count("no_show") / len(statuses)
    assert 0.06 < rates[True] < 0.18 < rates[False] < 0.3


def test_nothing_happens_before_birth_or_after_death(registry):
    patients = {row.id: row for row in registry.execute(
        select(Patient.id, Patient.birth_date, Patient.deceased_date))}
    assert any(row.deceased_date for row in patients.values())
    for patient_id, starts_at in registry.execute(
            select(Appointment.patient_id, Appointment.starts_at)):
        patient = patients[patient_id]
        local = starts_at.astimezone(PARIS).date()
        assert local > patient.birth_date
        assert patient.deceased_date is None or local < patient.deceased_date
    for patient_id, occurred_on in registry.execute(
            select(ClinicalEvent.patient_id, ClinicalEvent.occurred_on)):
        patient = patients[patient_id]
        assert patient.birth_date <= occurred_on <= date.fromisoformat(TODAY)
        assert patient.deceased_date is None or occurred_on <= patient.deceased_date


def test_stays_keep_the_rules_of_a_stay(registry):
    stays = registry.execute(select(Stay).order_by(Stay.patient_id, Stay.admitted_at)).scalars()
    by_patient: dict[int, list[Stay]] = {}
    deaths = dict(registry.execute(select(Patient.id, Patient.deceased_date)).all())
    now = datetime(2026, 6, 30, 10, tzinfo=UTC)
    for stay in stays:
        assert stay.admitted_on == stay.admitted_at.astimezone(PARIS).date()
        assert stay.admitted_at <= now
        if stay.discharged_at is not None:
            assert stay.discharged_at >= stay.admitted_at
            assert stay.discharged_on == stay.discharged_at.astimezone(PARIS).date()
            assert stay.discharged_at <= now
        death = deaths[stay.patient_id]
        if death is not None and stay.discharged_on is not None:
            assert stay.discharged_on <= death
        if stay.discharge_destination == "death":
            assert stay.discharged_on == death
        by_patient.setdefault(stay.patient_id, []).append(stay)
    for patient_stays in by_patient.values():
        live = [stay for stay in patient_stays if stay.cancelled_at is None]
        for stay, following in itertools.pairwise(live):
            # none overlaps another (in any facility): the next admission is after the
            # discharge (a transfer: the same day, later)
            assert stay.discharged_at is not None and following.admitted_at >= stay.discharged_at


def test_care_plans_have_their_revisions_and_one_active_plan_at_most(registry):
    plans = registry.scalars(select(CarePlan)).all()
    assert any(plan.status == PlanStatus.ACTIVE for plan in plans)
    assert any(plan.status == PlanStatus.CLOSED for plan in plans)
    numbers: dict[int, list[int]] = {}
    for plan_id, number in registry.execute(
            select(CarePlanRevision.plan_id, CarePlanRevision.number)
            .order_by(CarePlanRevision.plan_id, CarePlanRevision.number)):
        numbers.setdefault(plan_id, []).append(number)
    active = Counter()
    for plan in plans:
        assert numbers[plan.id] == list(range(1, plan.version + 1))
        assert plan.coordinator_id is not None
        assert plan.goals and plan.team and plan.team[0].provider_id == plan.patient.gp_id
        if plan.status == PlanStatus.ACTIVE:
            active[plan.patient_id] += 1
            assert plan.patient.case_manager_id == plan.coordinator_id
        if plan.closed_on is not None:
            assert plan.closed_on >= plan.plan_date
    assert max(active.values()) == 1
    snapshot = registry.scalar(select(CarePlanRevision.snapshot)
                               .order_by(CarePlanRevision.id.desc()).limit(1))
    assert {"goals", "team", "assessment", "status", "review_date"} <= set(snapshot)


def test_influenza_vaccination_of_the_elderly_is_about_half(registry):
    today = date.fromisoformat(TODAY)
    elderly = registry.execute(select(Patient.id, Patient.birth_date).where(
        Patient.deceased_date.is_(None))).all()
    elderly = {row.id for row in elderly
               if (today.year - row.birth_date.year
                   - ((today.month, today.day) < (row.birth_date.month, row.birth_date.day)))
               >= 65}
    vaccinated = set(registry.scalars(select(ClinicalEvent.patient_id).where(
        ClinicalEvent.event_type == "immunization", ClinicalEvent.code == "influenza",
        ClinicalEvent.occurred_on > date(2025, 6, 30), ClinicalEvent.occurred_on <= today)))
    share = len(elderly & vaccinated) / len(elderly)
    assert 0.4 < share < 0.7


def test_a_second_run_refuses_the_registry_unless_appending(generated, registry):
    before = {table: _count(registry, table) for table in ("patient", "appointment", "stay")}
    result = generate(generated.app, "--patients", "10", "--today", TODAY)
    assert result.exit_code == 1
    assert f"The registry already has {PATIENTS:,} patients: nothing was written" \
        in result.output
    assert "--append" in result.output
    registry.rollback()
    assert {table: _count(registry, table) for table in before} == before


def test_appending_adds_patients_after_the_existing_ones(tmp_path):
    app, url = fresh_app(tmp_path)
    try:
        first = generate(app, "--patients", "120", "--years", "1", "--today", TODAY,
                         "--territories", "DOUAISIS,CORNOUAILLE", "--seed", "3")
        assert first.exit_code == 0, first.output
        second = generate(app, "--patients", "80", "--years", "1", "--today", TODAY,
                          "--territory-count", "2", "--seed", "4", "--append")
        assert second.exit_code == 0, second.output
        with app.app_context():
            session = db.session
            assert _count(session, "patient") == 200
            assert session.scalar(select(func.max(Patient.id))) == 200
            territories = set(session.scalars(text(
                "SELECT DISTINCT t.code FROM patient p JOIN territory t ON t.id = p.territory_id")))
            assert territories == {"AUBE-SEZ", "CORNOUAILLE", "DOUAISIS"}
            # the second run reused the first one's case managers where there were some
            managers = session.scalar(text(
                "SELECT COUNT(*) FROM user_account WHERE role = 'case_manager'"))
            assert managers == 3
    finally:
        close(app, url)


def test_refuses_bad_options_with_a_clear_message(generated):
    cases = [
        (["--patients", "0"], "--patients must be from 1"),
        (["--patients", "5", "--territories", "NOWHERE"], "Unknown territory: NOWHERE"),
        (["--patients", "5", "--territories", "DOUAISIS", "--territory-count", "2"],
         "not both"),
        (["--patients", "5", "--territory-count", "9"], "--territory-count must be from 1 to 5"),
        (["--patients", "5", "--years", "0"], "--years must be from 1"),
    ]
    for args, message in cases:
        result = generate(generated.app, *args)
        assert result.exit_code == 1 and message in result.output, (args, result.output)


def test_refuses_a_database_without_its_schema(tmp_path, generated):
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    result = generate(generated.app, "--patients", "5", "--database-url", url)
    assert result.exit_code == 1
    assert "run `flask --app wsgi init-db` on it first" in result.output


def test_the_same_seed_gives_the_same_registry_whatever_the_number_of_workers(tmp_path):
    if not dbutil.is_postgres():
        pytest.skip("SQLite generates in the command's own process")
    digests = []
    for workers in ("1", "3"):
        app, url = fresh_app(tmp_path / workers)
        try:
            result = generate(app, "--patients", "240", "--years", "1", "--today", TODAY,
                              "--seed", "9", "--chunk-size", "100", "--workers", workers)
            assert result.exit_code == 0, result.output
            with app.app_context():
                digests.append({table: db.session.scalar(text(
                    f"SELECT md5(string_agg(t::text, ',' ORDER BY t.id)) FROM {table} t"))  # noqa: S608
                    for table in TABLES})
        finally:
            close(app, url)
    assert digests[0] == digests[1]


def test_codes_and_provider_numbers_pass_the_domain_checks(registry):
    codes = set(registry.scalars(select(Stay.main_diagnosis)))
    codes |= set(registry.scalars(text("SELECT code FROM stay_diagnosis")))
    codes |= set(registry.scalars(select(ClinicalEvent.code).where(
        ClinicalEvent.event_type == "diagnosis")))
    assert len(codes) > 20
    for code in codes:
        assert icd10.normalize(code) == code
    providers = registry.execute(select(Provider.kind, Provider.name, Provider.rpps,
                                        Provider.finess, Provider.territory_id)).all()
    assert {row.kind for row in providers} == set(PROVIDER_KINDS)
    for row in providers:
        assert check_provider(kind=row.kind, name=row.name, rpps=row.rpps,
                              finess=row.finess) == [], row
    assert len({row.rpps for row in providers if row.rpps}) == \
        len([row for row in providers if row.rpps])
    for finess in registry.scalars(select(Stay.facility_finess).distinct()):
        assert FINESS_RE.match(finess)


def test_the_lace_scores_written_are_those_the_stays_module_computes(registry):
    """The workers score the stays as they write them; `lace.refresh` over the stored rows
    finds nothing to change."""
    from coordinator.stays import lace

    columns = [getattr(Stay, column) for column in lace.COLUMNS]
    written = registry.execute(select(Stay.id, *columns).order_by(Stay.id)).all()
    assert sum(row.lace_score is not None for row in written) > 100
    lace.refresh(registry, None)
    assert registry.execute(select(Stay.id, *columns).order_by(Stay.id)).all() == written
    registry.rollback()
