"""A backup restored into another database holds the same records, a plan's whole history
included (SQLite's online backup API; pg_dump and pg_restore on PostgreSQL)."""

from __future__ import annotations

from datetime import date

import flask_migrate
import pytest
from sqlalchemy import func, inspect, select

from coordinator import create_app
from coordinator.careplans import services as plan_services
from coordinator.careplans.models import CarePlan, CarePlanRevision
from coordinator.extensions import db
from coordinator.strata.services import load_reference_data
from tests import dbutil
from tests.factories import case_plan_actor, make_care_plan, make_patient

pytestmark = pytest.mark.live_database


@pytest.fixture
def databases(tmp_path):
    urls = [dbutil.fresh_database(tmp_path), dbutil.fresh_database(tmp_path)]
    yield urls
    for url in urls:
        dbutil.drop_database(url)


def app_on(url: str):
    return create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": url})


def counts() -> dict[str, int]:
    tables = inspect(db.engine).get_table_names()
    return {name: db.session.scalar(select(func.count()).select_from(db.metadata.tables[name]))
            for name in tables if name in db.metadata.tables}


def history(plan_id: int) -> list[tuple]:
    query = select(CarePlanRevision).where(CarePlanRevision.plan_id == plan_id) \
        .order_by(CarePlanRevision.number)
    return [(r.number, r.event, r.created_at, r.author_label, r.changed, r.snapshot)
            for r in db.session.scalars(query)]


def test_a_restored_backup_has_the_same_records_and_plan_history(databases, tmp_path):
    source_url, restored_url = databases
    source = app_on(source_url)
    with source.app_context():
        flask_migrate.upgrade()
        load_reference_data(db.session)
        plan = make_care_plan(make_patient(consent_share=True), agreement_on=date.today(),
                              agreement_method="oral")
        for words in ("Marcher 20 minutes", "Marcher 30 minutes"):  # edited as a draft
            document = {"priorities": words}
            plan_services.save_plan(db.session, case_plan_actor(), plan, document, plan.version)
            db.session.commit()
        plan_services.activate_plan(db.session, case_plan_actor(), plan, plan.version)
        db.session.commit()
        plan_id = plan.id
        before, revisions = counts(), history(plan_id)
        assert len(revisions) >= 3 and before["patient"] == 1
        result = source.test_cli_runner().invoke(
            args=["backup", "create", str(tmp_path / "coordinator.backup")])
        assert result.exit_code == 0, result.output
        db.session.remove()
        db.engine.dispose()

    restored = app_on(restored_url)
    with restored.app_context():
        result = restored.test_cli_runner().invoke(
            args=["backup", "restore", str(tmp_path / "coordinator.backup"), "--yes"])
        assert result.exit_code == 0, result.output
        assert counts() == before
        assert history(plan_id) == revisions
        assert db.session.get(CarePlan, plan_id).status == "active"
        db.session.remove()
        db.engine.dispose()


def test_a_restore_refuses_what_is_not_a_backup(databases, tmp_path):
    app = app_on(databases[0])
    missing = app.test_cli_runner().invoke(
        args=["backup", "restore", str(tmp_path / "nothing.backup"), "--yes"])
    assert missing.exit_code != 0 and "There is no backup at" in missing.output
    with app.app_context():
        db.engine.dispose()
