"""The worklist and the patient search never run a subquery per patient (PostgreSQL's EXPLAIN).

The test runs the pages as a user does, captures every SELECT they send, and reads the plan
PostgreSQL makes for each (`EXPLAIN (FORMAT JSON)`, with the same parameters, nothing executed).
It fails on any `SubPlan` node: a subquery expression evaluated for each row of the node it
hangs on. PostgreSQL keeps one where it cannot turn the subquery into a join: `NOT IN
(subquery)` (NOT IN's NULL semantics forbid an anti-join), a correlated subquery in the select
list, a subquery under OR. `IN (subquery)` and `[NOT] EXISTS` become semi- and anti-joins,
`InitPlan`s run once per statement: those pass.

A "hashed SubPlan" fails too. Hashed only means that the subquery's rows fitted in `work_mem`
when the plan was made: the test database is small, so they always do here. On a registry they
do not, and the same statement becomes a plain SubPlan that rescans the materialised subquery for
every patient: main's "patients without a stratum" (`patient.id NOT IN (open assignments)`) had
a planned cost of 171 million at 300 000 patients and did not answer in 3 minutes, where the
same count with NOT EXISTS (a hash anti-join) took 117 ms. So the test judges the shape of the
plan, which does not depend on the data, not its cost, which does.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, exists, func, select

from coordinator.core.context import Actor
from coordinator.core.time import local_today
from coordinator.extensions import db
from coordinator.patients import assignments
from coordinator.patients.models import Patient
from coordinator.strata.models import StratumAssignment
from tests import dbutil
from tests.factories import make_patient, program, stratum

pytestmark = pytest.mark.skipif(
    not dbutil.is_postgres(),
    reason="reads PostgreSQL's query plans: runs with TEST_DATABASE_URL set (as in CI)")

ACTOR = Actor.system("test")


@contextmanager
def captured_selects():
    """The (statement, parameters) of every SELECT sent to the database meanwhile."""
    statements: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if not executemany and statement.lstrip()[:6].upper() in ("SELECT", "WITH ("):
            statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)


def plan_of(statement: str, parameters) -> dict:
    return db.session.connection().exec_driver_sql(
        "EXPLAIN (FORMAT JSON) " + statement, parameters).scalar()[0]["Plan"]


def subplans(node: dict, parent: dict | None = None):
    """(SubPlan node, the node it is evaluated for) anywhere in a plan."""
    if node.get("Parent Relationship") == "SubPlan":
        yield node, parent
    for child in node.get("Plans", []):
        yield from subplans(child, node)


def describe(node: dict) -> str:
    conditions = [f"{key}: {node[key]}" for key in ("Filter", "Join Filter", "Hash Cond",
                                                    "Index Cond", "Output") if key in node]
    relation = f" on {node['Relation Name']}" if "Relation Name" in node else ""
    return f"{node['Node Type']}{relation} ({'; '.join(conditions) or 'no condition shown'})"


def shortened(statement: str) -> str:
    """The statement on one line, its column lists elided (the conditions are what matter)."""
    return re.sub(r"SELECT\s.*?\sFROM\s", "SELECT … FROM ", " ".join(statement.split()))


def per_row_subqueries(statements) -> list[str]:
    """A readable line for each SubPlan in the plans of `statements` (each once)."""
    found: dict[str, None] = {}
    for statement, parameters in statements:
        for sub, parent in subplans(plan_of(statement, parameters)):
            found[f"{sub.get('Subplan Name', 'SubPlan')} evaluated per row of "
                  f"{describe(parent)}\n    in: {shortened(statement)}"] = None
    return list(found)


def explain_select(query) -> list[str]:
    with captured_selects() as statements:
        db.session.execute(query).all()
    return per_row_subqueries(statements)


def test_the_check_finds_not_in_and_correlated_subqueries_and_passes_joins(session):
    """The detector itself, on the known bad shape and its rewrite (so that it keeps meaning
    something once the pages are fixed)."""
    open_rows = select(StratumAssignment.patient_id).where(StratumAssignment.end_date.is_(None))
    not_in = select(Patient.id).where(Patient.id.not_in(open_rows))
    assert any("SubPlan" in line and "patient" in line for line in explain_select(not_in))
    correlated = select(Patient.id, select(func.count(StratumAssignment.id)).where(
        StratumAssignment.patient_id == Patient.id).scalar_subquery())
    assert explain_select(correlated)
    not_exists = select(Patient.id).where(~exists().where(
        StratumAssignment.patient_id == Patient.id, StratumAssignment.end_date.is_(None)))
    assert explain_select(not_exists) == []
    assert explain_select(select(Patient.id).where(Patient.id.in_(open_rows))) == []
    once = select(Patient.id).where(Patient.id == select(func.max(Patient.id)).scalar_subquery())
    assert explain_select(once) == []  # an InitPlan: run once per statement


@pytest.fixture
def registry(case_manager, session):
    """A few patients of every worklist: caseload, without a stratum, stratum gone up."""
    today = local_today()
    mine = make_patient(case_manager_id=case_manager.id)
    assignments.assign_stratum(session, ACTOR, mine, stratum("HF-1"), today - timedelta(90))
    assignments.assign_stratum(session, ACTOR, mine, stratum("HF-3"), today - timedelta(3))
    enrolled = make_patient()
    assignments.assign_stratum(session, ACTOR, enrolled, stratum("DIAB-2"), today - timedelta(9))
    make_patient(birth_name="Martin")  # in no stratum
    make_patient(birth_name="Martineau", case_manager_id=case_manager.id)
    session.commit()
    return {"hf": program("HF").id, "hf3": stratum("HF-3").id}


def page_subqueries(client, paths: list[str]) -> list[str]:
    with captured_selects() as statements:
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
    assert statements, "no SELECT captured"
    return per_row_subqueries(statements)


def test_worklist_runs_no_subquery_per_patient(client, logged_in, case_manager, registry):
    logged_in(case_manager)
    found = page_subqueries(client, [
        "/", f"/?program_id={registry['hf']}",
        f"/?program_id={registry['hf']}&stratum_id={registry['hf3']}"])
    assert not found, "the worklist runs a subquery per row:\n" + "\n".join(found)


def test_patient_search_runs_no_subquery_per_patient(client, logged_in, case_manager, admin,
                                                      registry):
    searches = [
        "/patients/?name=mar", "/patients/?name=martin+a",
        f"/patients/?program_id={registry['hf']}",
        f"/patients/?program_id={registry['hf']}&stratum_id={registry['hf3']}",
        f"/patients/?name=mar&program_id={registry['hf']}",
        f"/patients/?case_manager_id={case_manager.id}",
        "/api/v1/patients?name=mar&program=HF",  # the API runs the same search
    ]
    logged_in(case_manager)
    found = page_subqueries(client, searches)
    client.post("/logout", data={"csrf_token": client.csrf_token("/")})
    logged_in(admin)  # another visibility scope: every territory
    found += page_subqueries(client, searches)
    assert not found, "the patient search runs a subquery per row:\n" + "\n".join(found)
