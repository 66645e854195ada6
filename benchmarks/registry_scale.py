"""Benchmark: the case manager's worklist and the patient search on a registry of 1 000 000
patients with their enrollments, one request at a time (aim: ≤ 300 ms each).

    DATABASE_URL=$(scripts/postgres.sh create-database coordinator_load_registry) \\
        .venv/bin/python benchmarks/registry_scale.py [--patients 1000000] [--repeat 5]
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/coordinator_load_registry \\
        .venv/bin/python benchmarks/registry_scale.py --reuse       # time again, same registry

Builds the schema in the given (fresh) PostgreSQL database and bulk-loads the registry with
COPY: the patients and enrollment timelines of `import_patients.py` (same generator: French
names, valid NIRs, 2 % deceased, one or two programs per patient, transitions, exits; but 5 %
of the patients not stratified yet, where that generator enrolls every living patient), its
200 GPs, and a case manager of the DOUAISIS territory (about 200 000 patients) with a caseload
of 60. A build takes a few minutes on 2 cores; `--reuse` times an existing one (after a code
change: the migrations are applied, the data kept). Then `ANALYZE` (as autovacuum would), and
the pages through the Flask test client signed in as that case manager: the whole request
(every query, the audit entry and its commit, the template). Each statement is cancelled after
`--timeout` seconds (PostgreSQL `statement_timeout`): a page that does not answer is reported
with the statement that was cancelled and its planned cost. Prints one markdown table.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import random
import re
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import flask_migrate
from import_patients import (
    GPS_PER_TERRITORY,
    TERRITORIES,
    enrollment_rows,
    gp_id,
    patient_rows,
)
from sqlalchemy import event, select, text

from coordinator import create_app
from coordinator.auth.models import User
from coordinator.core.normalize import fold
from coordinator.extensions import db
from coordinator.strata.models import Program, Stratum, Territory
from coordinator.strata.services import load_reference_data

CASE_MANAGER = "registry.case.manager@bench.test"
CASELOAD = 60
CHUNK = 50_000
AIM_MS = 300
CREATED = datetime(2025, 1, 1)  # stored as naive UTC, like UTCDateTime


def copy_rows(cursor, table: str, columns: tuple[str, ...], rows) -> int:
    count = 0
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def drop_secondary_structures(tables: tuple[str, ...]) -> list[str]:
    """Drop the indexes, unique and foreign-key constraints of `tables` (primary keys and
    checks stay): a bulk load then writes the rows alone, and building each index once
    afterwards is much faster than maintaining it row by row. Returns the statements that
    recreate them, exactly as the migrations made them (names and definitions)."""
    names = {"tables": list(tables)}
    constraints = db.session.execute(text(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype "
        "FROM pg_constraint WHERE conrelid::regclass::text = ANY(:tables) "
        "AND contype IN ('u', 'f')"), names).all()
    indexes = db.session.execute(text(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(:tables) "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint)"), names).all()
    for table, name, _definition, _kind in constraints:
        db.session.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
    for name, _definition in indexes:
        db.session.execute(text(f'DROP INDEX "{name}"'))
    add = [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
           for table, name, definition, kind in sorted(constraints, key=lambda c: c[3] == "f")]
    return [definition for _name, definition in indexes] + add


def build(patients: int, unstratified: int) -> None:
    """The registry, bulk-loaded with COPY in one transaction."""
    territories = dict(db.session.execute(select(Territory.code, Territory.id)).all())
    programs = dict(db.session.execute(select(Program.code, Program.id)).all())
    strata = dict(db.session.execute(select(Stratum.code, Stratum.id)).all())
    db.session.execute(text("SET LOCAL statement_timeout = 0"))
    db.session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
    rebuild = drop_secondary_structures(("patient", "stratum_assignment"))
    cursor = db.session.connection().connection.driver_connection.cursor()

    gps = {}
    provider_columns = ("id", "external_id", "kind", "name", "name_folded", "territory_id",
                        "is_active", "created_at", "updated_at", "version")
    provider_rows = []
    for code in TERRITORIES:
        for n in range(GPS_PER_TERRITORY):
            gps[gp_id(code, n)] = len(gps) + 1
            name = f"Dr Généraliste {code} {n}"
            provider_rows.append((len(gps), gp_id(code, n), "gp", name, fold(name),
                                  territories[code], True, CREATED, CREATED, 1))
    copy_rows(cursor, "provider", provider_columns, provider_rows)

    started = time.perf_counter()
    patient_columns = ("id", "external_id", "nir", "identity_status", "birth_name",
                       "first_names", "birth_name_folded", "first_name_folded", "birth_date",
                       "sex", "postal_code", "territory_id", "gp_id", "consent_share",
                       "advance_directives", "deceased_date", "created_at", "updated_at",
                       "version")
    assignment_columns = ("patient_id", "program_id", "stratum_id", "effective_date",
                          "end_date", "reason", "author_label", "created_at")
    rng = random.Random(2)  # the enrollments' generator, seeded as write_patients does
    rows = enumerate(patient_rows(patients, seed=1), start=1)
    count = links = 0
    while chunk := list(itertools.islice(rows, CHUNK)):
        people, assignments = [], []
        for index, row in chunk:
            created = CREATED + timedelta(seconds=index)
            people.append((index, row["external_id"], row["nir"] or None, "provisional",
                           row["birth_name"], row["first_names"], fold(row["birth_name"]),
                           (fold(row["first_names"]).split() or [""])[0], row["birth"],
                           row["sex"], row["postal_code"], territories[row["territory_code"]],
                           gps[row["gp_external_id"]], row["consent_share"] == "yes", False,
                           row["deceased"], created, created, 1))
            timeline: dict[str, list] = {}
            for program, stratum, effective, reason in enrollment_rows(row, rng):
                timeline.setdefault(program, []).append((stratum, effective, reason))
            if index % 100 < unstratified:  # not stratified yet (the generator's rows dropped)
                continue
            for program, steps in timeline.items():  # each row ends the day before the next
                for (stratum, effective, reason), following in zip(
                        steps, [*steps[1:], None], strict=True):
                    end = following[1] - timedelta(days=1) if following else None
                    assignments.append((index, programs[program],
                                        None if stratum == "exit" else strata[stratum],
                                        effective, end, reason or None, "benchmark", created))
        count += copy_rows(cursor, "patient", patient_columns, people)
        links += copy_rows(cursor, "stratum_assignment", assignment_columns, assignments)
        if count % (10 * CHUNK) == 0:
            print(f"  {count:,} patients, {links:,} stratum assignments "
                  f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    started = time.perf_counter()
    for statement in rebuild:
        db.session.execute(text(statement))
    print(f"  indexes and constraints rebuilt in {time.perf_counter() - started:.0f} s",
          file=sys.stderr)
    db.session.execute(text("SELECT setval(pg_get_serial_sequence('provider', 'id'), "
                            "(SELECT max(id) FROM provider))"))
    db.session.execute(text("SELECT setval(pg_get_serial_sequence('patient', 'id'), "
                            "(SELECT max(id) FROM patient))"))
    case_manager = User(email=CASE_MANAGER, full_name="Gestionnaire Registre",
                        password_hash="-", role="case_manager",
                        territory_id=territories["DOUAISIS"])
    db.session.add(case_manager)
    db.session.flush()
    db.session.execute(text(
        "UPDATE patient SET case_manager_id = :u WHERE id IN (SELECT id FROM patient "
        "WHERE territory_id = :t AND deceased_date IS NULL ORDER BY id LIMIT :n)"),
        {"u": case_manager.id, "t": territories["DOUAISIS"], "n": CASELOAD})
    db.session.commit()


class Statements:
    """The statements of a request: how many, their time, the slowest, the one cancelled."""

    def __init__(self, engine):
        self.reset()
        event.listen(engine, "before_cursor_execute", self.before)
        event.listen(engine, "after_cursor_execute", self.after)
        event.listen(engine, "handle_error", self.error)

    def reset(self) -> None:
        self.count, self.seconds, self.slowest, self.cancelled = 0, 0.0, (0.0, ""), None

    def before(self, conn, cursor, statement, parameters, context, executemany):
        self.count += 1
        context.bench_started = time.perf_counter()

    def after(self, conn, cursor, statement, parameters, context, executemany):
        seconds = time.perf_counter() - context.bench_started
        self.seconds += seconds
        self.slowest = max(self.slowest, (seconds, statement))

    def error(self, context):
        if "statement timeout" in str(context.original_exception):
            self.cancelled = (context.statement, context.parameters)


def planned_cost(statement: str, parameters) -> float:
    plan = db.session.connection().exec_driver_sql(
        "EXPLAIN (FORMAT JSON) " + statement, parameters).scalar()
    return plan[0]["Plan"]["Total Cost"]


def shortened(statement: str) -> str:
    """One line, column lists elided."""
    return re.sub(r"SELECT\s.*?\sFROM\s", "SELECT … FROM ", " ".join(statement.split()))


def time_page(client, statements: Statements, path: str, repeat: int) -> dict:
    timings, sql, slowest, queries = [], [], [], 0
    for _ in range(repeat):
        statements.reset()
        started = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        sql.append(statements.seconds * 1000)
        slowest.append(statements.slowest)
        queries = statements.count
        if statements.cancelled or response.status_code != 200:
            db.session.rollback()
            cancelled = statements.cancelled
            cost = planned_cost(*cancelled) if cancelled else None
            return {"failed": response.status_code, "ms": timings[-1], "queries": queries,
                    "statement": cancelled[0] if cancelled else None, "cost": cost}
    seconds, statement = max(slowest)
    return {"median": statistics.median(timings), "max": max(timings), "queries": queries,
            "sql": statistics.median(sql), "slowest": seconds * 1000,
            "slowest_statement": shortened(statement)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--unstratified", type=int, default=5,
                        help="percent of the patients in no stratum yet (default 5)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--timeout", type=int, default=60,
                        help="statement_timeout in seconds (default 60)")
    parser.add_argument("--reuse", action="store_true",
                        help="time the registry already in DATABASE_URL (no build)")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database (scripts/postgres.sh "
                         "create-database coordinator_load_registry prints one).")
    app = create_app({
        "ENV_NAME": "development", "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "connect_args": {
            "options": f"-c statement_timeout={args.timeout * 1000}"}}})
    with app.app_context():
        flask_migrate.upgrade()
        if not args.reuse:
            load_reference_data(db.session)
            db.session.commit()
            started = time.perf_counter()
            print(f"building a registry of {args.patients:,} patients", file=sys.stderr)
            build(args.patients, args.unstratified)
            print(f"built in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        db.session.execute(text("SET statement_timeout = 0"))
        db.session.execute(text("ANALYZE"))
        db.session.execute(text("RESET statement_timeout"))  # back to --timeout
        db.session.commit()
        patients = db.session.scalar(text("SELECT count(*) FROM patient"))
        links = db.session.scalar(text("SELECT count(*) FROM stratum_assignment"))
        version = db.session.scalar(text("SHOW server_version"))
        user = db.session.scalar(select(User).where(User.email == CASE_MANAGER))
        hf = db.session.scalar(select(Program.id).where(Program.code == "HF"))
        hf3 = db.session.scalar(select(Stratum.id).where(Stratum.code == "HF-3"))
        territory = db.session.scalar(select(Territory.id).where(Territory.code == "DOUAISIS"))
        in_territory = db.session.scalar(text(
            "SELECT count(*) FROM patient WHERE territory_id = :t"), {"t": territory})
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        pages = [
            ("worklist", "/"),
            ("worklist, program HF", f"/?program_id={hf}"),
            ("patient search, name 'martin'", "/patients/?name=martin"),
            ("patient search, name prefix 'ma'", "/patients/?name=ma"),
            ("patient search, program HF, stratum HF-3",
             f"/patients/?program_id={hf}&stratum_id={hf3}"),
        ]
        app.logger.disabled = True  # a cancelled statement is reported below, not as a trace
        statements = Statements(db.engine)
        client.get("/patients/?name=dupont")  # warm-up: templates compiled, connection opened
        print(f"{datetime.now(UTC).date().isoformat()}, PostgreSQL {version}, {patients:,} "
              f"patients ({in_territory:,} in the case manager's territory, a caseload of "
              f"{CASELOAD}), {links:,} stratum assignments; one request at a time, "
              f"{args.repeat} times; {os.cpu_count()} CPU, Python {platform.python_version()}"
              f"; load average {os.getloadavg()[0]:.1f}.")
        print()
        print("| page (PostgreSQL, registry scale) | median ms | max ms | queries | in SQL "
              "(median) | slowest statement | aim |")
        print("|---|---|---|---|---|---|---|")
        for label, path in pages:
            result = time_page(client, statements, path, args.repeat)
            if "failed" in result:
                what = (f"cancelled after {args.timeout} s (statement_timeout), planned cost "
                        f"{result['cost']:,.0f}" if result["statement"] else
                        f"answered {result['failed']}")
                print(f"| {label} `{path}` | > {result['ms']:,.0f} | — | "
                      f"{result['queries']} (then cancelled) | — | — | missed: {what} |")
                if result["statement"]:
                    print(f"  {label}: cancelled {shortened(result['statement'])}",
                          file=sys.stderr)
                continue
            aim = "met" if result["max"] <= AIM_MS else f"missed: > {AIM_MS} ms"
            print(f"| {label} `{path}` | {result['median']:,.1f} | {result['max']:,.1f} | "
                  f"{result['queries']} | {result['sql']:,.1f} ms | "
                  f"{result['slowest']:,.1f} ms | {aim} |")
            print(f"  {label}: slowest {result['slowest']:,.1f} ms "
                  f"{result['slowest_statement'][:600]}", file=sys.stderr)


if __name__ == "__main__":
    main()
