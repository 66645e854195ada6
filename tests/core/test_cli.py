"""The command-line commands of the README."""

import pytest
from sqlalchemy import func, select
from stdnum.fr import nir as nir_module

from coordinator import cli, create_app, demo
from coordinator.auth import services
from coordinator.auth.models import User
from coordinator.extensions import db
from coordinator.patients.models import Patient
from coordinator.providers.models import PROVIDER_KINDS, Provider
from coordinator.strata.models import Program, Stratum, StratumAssignment, Territory
from tests import dbutil


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def test_users_create_with_a_generated_password(runner, session):
    result = runner.invoke(args=["users", "create", "nurse@example.test", "--role",
                                 "case_manager", "--territory", "DOUAISIS",
                                 "--generate-password"])
    assert result.exit_code == 0, result.output
    password = result.output.split("Password: ")[1].strip()
    user = services.authenticate(session, "nurse@example.test", password, None)
    assert user.territory.code == "DOUAISIS"


def test_users_create_asks_for_the_password(runner, session):
    result = runner.invoke(args=["users", "create", "gp2@example.test", "--role", "gp"],
                           input="a long enough password\na long enough password\n")
    assert result.exit_code == 0, result.output
    assert services.authenticate(session, "gp2@example.test", "a long enough password", None)


def test_users_create_names_the_bad_field(runner, session):
    result = runner.invoke(args=["users", "create", "c@example.test", "--role", "council",
                                 "--generate-password"])
    assert result.exit_code == 1
    assert "territory" in result.output
    result = runner.invoke(args=["users", "create", "c@example.test", "--role", "council",
                                 "--territory", "ATLANTIS", "--generate-password"])
    assert result.exit_code == 1
    assert "ATLANTIS" in result.output
    assert session.scalar(select(User).where(User.email == "c@example.test")) is None


def test_users_token_prints_a_working_token(runner, client, case_manager):
    result = runner.invoke(args=["users", "token", case_manager.email])
    assert result.exit_code == 0
    secret = result.output.strip()
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.json["email"] == case_manager.email


def test_users_disable_and_enable(runner, session, case_manager):
    assert runner.invoke(args=["users", "disable", case_manager.email]).exit_code == 0
    assert session.get(User, case_manager.id).is_active is False
    assert runner.invoke(args=["users", "enable", case_manager.email]).exit_code == 0
    assert session.get(User, case_manager.id).is_active is True
    assert runner.invoke(args=["users", "disable", "nobody@example.test"]).exit_code == 1


def test_seed_demo_is_idempotent_and_prints_the_accounts(runner, session):
    first = runner.invoke(args=["seed-demo", "--if-empty"])
    assert first.exit_code == 0, first.output
    for account in demo.DEMO_ACCOUNTS:
        assert account.email in first.output
        user = services.authenticate(session, account.email, demo.DEMO_PASSWORD, None)
        assert user.role == account.role
    count = session.scalar(select(func.count()).select_from(User))
    patients = session.scalar(select(func.count()).select_from(Patient))
    assert patients == demo.PATIENTS
    second = runner.invoke(args=["seed-demo", "--if-empty"])
    assert "no demo data loaded" in second.output
    assert session.scalar(select(func.count()).select_from(User)) == count
    assert session.scalar(select(func.count()).select_from(Patient)) == patients


def test_demo_registry_is_a_realistic_pyramid(session):
    demo.seed_accounts(session, "pbkdf2:sha256:1000")
    demo.seed_registry(session, patients=600)
    levels = dict(session.execute(
        select(Stratum.level, func.count()).join(
            StratumAssignment, StratumAssignment.stratum_id == Stratum.id)
        .where(StratumAssignment.end_date.is_(None)).group_by(Stratum.level)).all())
    total = sum(levels.values())
    assert 0.6 < levels[1] / total < 0.8
    assert 0.15 < levels[2] / total < 0.35
    assert 0.01 < levels[3] / total < 0.12
    kinds = set(session.scalars(select(Provider.kind)))
    assert kinds == set(PROVIDER_KINDS)
    gp_user = services.find_user(session, "gp@demo.test")
    assert gp_user.provider_id is not None
    nirs = session.scalars(select(Patient.nir)).all()
    assert all(nir_module.is_valid(nir) for nir in nirs)


def test_reference_data_is_complete(session):
    codes = set(session.scalars(select(Territory.code)))
    assert codes == {"AUBE-SEZ", "CORNOUAILLE", "DEUX-SEVRES", "DOUAISIS", "HAUTE-SAONE"}
    assert set(session.scalars(select(Program.code))) == {"HF", "DIAB", "COPD", "POLY"}
    strata = session.scalars(select(Stratum).order_by(Stratum.code)).all()
    assert len(strata) == 12
    for stratum in strata:
        assert stratum.code == f"{stratum.program.code}-{stratum.level}"
        assert stratum.requires_care_plan == (stratum.level == 3)
        assert stratum.name and stratum.name_en and stratum.description


@pytest.mark.live_database
def test_init_db_migrates_and_is_idempotent(tmp_path):
    url = dbutil.fresh_database(tmp_path)
    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": url})
    runner = app.test_cli_runner()
    try:
        first = runner.invoke(cli.init_db)
        assert first.exit_code == 0, first.output
        assert "5 territories, 4 programs, 12 strata" in first.output
        second = runner.invoke(cli.init_db)
        assert "0 territories, 0 programs, 0 strata" in second.output
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(Stratum)) == 12
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        dbutil.drop_database(url)


def test_demo_has_active_plans_for_level_3_patients_with_revisions(session):
    from coordinator.careplans.models import CarePlan, CarePlanRevision
    from coordinator.permissions import shared_plan_scope

    demo.seed_accounts(session, "pbkdf2:sha256:1000")
    demo.seed_registry(session, patients=600)
    level3 = set(session.scalars(
        select(StratumAssignment.patient_id)
        .join(Stratum, Stratum.id == StratumAssignment.stratum_id)
        .join(Patient, Patient.id == StratumAssignment.patient_id)
        .where(Stratum.level == 3, StratumAssignment.end_date.is_(None),
               Patient.deceased_date.is_(None))))
    planned = set(session.scalars(select(CarePlan.patient_id).where(CarePlan.status == "active")))
    assert level3 and planned == level3
    plans = session.scalars(select(CarePlan)).all()
    assert all(plan.goals and plan.team for plan in plans)
    assert all(any(goal.actions for goal in plan.goals) for plan in plans)
    revisions = session.scalar(select(func.count()).select_from(CarePlanRevision))
    assert revisions > 2 * len(plans)  # created, activated, and some edits
    gp_user = services.find_user(session, "gp@demo.test")
    shared = session.scalar(select(func.count()).select_from(CarePlan)
                            .join(Patient, Patient.id == CarePlan.patient_id)
                            .where(shared_plan_scope(gp_user)))
    assert shared >= 1  # the demo GP has plans to read


def test_demo_has_a_year_of_follow_ups_with_realistic_no_shows(session):
    from datetime import timedelta

    from coordinator.careplans.models import CarePlan
    from coordinator.core.time import local_today, utcnow
    from coordinator.metrics.services import no_show_rates
    from coordinator.scheduling.models import Appointment

    demo.seed_accounts(session, "pbkdf2:sha256:1000")
    demo.seed_registry(session, patients=600)
    today = local_today()
    rates = no_show_rates(session, "patient", today - timedelta(days=365), today)
    with_plan = set(session.scalars(select(CarePlan.patient_id)
                                    .where(CarePlan.status == "active")))

    def pooled(patients):
        attended = sum(rates[p].attended for p in patients)
        no_show = sum(rates[p].no_show for p in patients)
        return no_show / (attended + no_show)

    followed = [p for p in rates if p in with_plan]
    others = [p for p in rates if p not in with_plan]
    assert 0.11 < pooled(others) < 0.19  # about 15 %
    assert pooled(followed) < pooled(others)  # fewer with an active plan
    coming = session.scalar(select(func.count()).select_from(Appointment).where(
        Appointment.status == "scheduled", Appointment.starts_at > utcnow()))
    assert coming > 100  # the coming weeks are scheduled
