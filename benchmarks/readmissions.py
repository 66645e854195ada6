"""Benchmark: the 30-day readmission flags of 2 000 000 stays, in SQL (aim: ≤ 30 s on PostgreSQL).

    DATABASE_URL=$(scripts/postgres.sh create-database coordinator_bench_readmit) \\
        .venv/bin/python benchmarks/readmissions.py [--stays 2000000]
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/coordinator_bench_readmit \\
        .venv/bin/python benchmarks/readmissions.py --reuse        # time again, same stays

Builds the schema in the given database (a temporary SQLite file without DATABASE_URL) and
bulk-loads N stays (COPY on PostgreSQL, executemany on SQLite) for N / 4 patients: each patient
has a chain of stays over 2020-2026 (gaps of a few days to a year, so that about a quarter of
the emergency admissions fall within 30 days of a discharge), modes emergency 60 %, planned
30 %, transfer 10 %; destinations home, home with services, nursing home, rehabilitation,
transfer (then a transfer admission follows), death (the chain ends), other; 1 % of the stays
cancelled, the last stay of 3 % of the patients still open. The local days are computed as the
application does (zoneinfo). Then `VACUUM ANALYZE` (as autovacuum would), and it times:

1. `readmissions.recompute(session, None)` from scratch (every link empty, as after a bulk
   load; `is_index_stay` is a generated column, computed by the database as the rows are
   written), committed;
2. the same again once every flag is up to date (what a routine recompute of everything costs);
3. the floor of the computation: one hand-written PostgreSQL query computing the same three
   values for every stay (LATERAL joins, nothing written), checked against what recompute
   stored;
4. the floor of the writes: one UPDATE writing every stay, nothing computed (rolled back).

A `VACUUM ANALYZE` of `stay` precedes each of steps 1 and 2.

Prints the figures as markdown table rows for docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate
from sqlalchemy import func, insert, select, text

from coordinator import create_app
from coordinator.core.time import PARIS
from coordinator.extensions import db
from coordinator.patients.models import Patient
from coordinator.stays import readmissions
from coordinator.stays.models import Stay
from coordinator.strata.models import Territory
from coordinator.strata.services import load_reference_data

AIM_SECONDS = 30
START = datetime(2020, 1, 1, tzinfo=UTC)
END = datetime(2026, 12, 1, tzinfo=UTC)
CREATED = datetime(2026, 12, 1)  # naive UTC, as stored
CHUNK = 100_000
MODES = ("emergency",) * 6 + ("planned",) * 3 + ("transfer",)
DESTINATIONS = ("home",) * 70 + ("home_with_services",) * 8 + ("nursing_home",) * 5 + \
    ("rehabilitation",) * 5 + ("transfer",) * 6 + ("death",) * 3 + ("other",) * 3
STAY_COLUMNS = ("id", "patient_id", "facility_name", "admitted_at", "admitted_on",
                "admission_mode", "discharged_at", "discharged_on", "discharge_destination",
                "cancelled_at", "source", "created_at", "created_by",
                "updated_at", "version")


def local_day(moment: datetime) -> date:
    return moment.astimezone(PARIS).date()


def stay_rows(stays: int, patients: int, seed: int = 13):
    """Tuples of STAY_COLUMNS (naive UTC instants), patient by patient."""
    rng = random.Random(seed)
    per_patient = stays // patients
    extra = stays - per_patient * patients
    stay_id = 0
    span = (END - START).total_seconds()
    for patient in range(1, patients + 1):
        count = per_patient + (1 if patient <= extra else 0)
        moment = START + timedelta(seconds=rng.random() * span * 0.3)
        mode = rng.choice(MODES)
        for n in range(count):
            stay_id += 1
            admitted = moment
            last = n == count - 1
            open_stay = last and rng.random() < 0.03
            discharged = None if open_stay else admitted + timedelta(
                hours=rng.choice((3, 20, 30, 50, 80, 100, 150, 200, 300, 400, 600)) *
                rng.uniform(0.8, 1.2))
            destination = None if open_stay else ("home" if last and rng.random() < 0.5 else
                                                  rng.choice(DESTINATIONS))
            if destination == "death" and not last:
                destination = "home"
            cancelled = CREATED if rng.random() < 0.01 else None
            yield (stay_id, patient, "CH de Douai", admitted.replace(tzinfo=None),
                   local_day(admitted), mode,
                   discharged.replace(tzinfo=None) if discharged else None,
                   local_day(discharged) if discharged else None, destination, cancelled,
                   "csv", CREATED, "benchmark", CREATED, 1)
            if discharged is None:
                break
            if destination == "transfer":
                moment, mode = discharged + timedelta(hours=rng.uniform(0.5, 4)), "transfer"
            else:
                gap = rng.choice((0.3, 2, 5, 10, 20, 28, 35, 60, 120, 200, 365))
                moment = discharged + timedelta(days=gap * rng.uniform(0.7, 1.3))
                mode = rng.choice(MODES)


def patient_rows(patients: int, territory_id: int):
    for patient in range(1, patients + 1):
        yield (patient, "provisional", f"BENCH{patient}", "Marie", f"bench{patient}", "marie",
               date(1940 + patient % 40, 1 + patient % 12, 1 + patient % 28), "F", territory_id,
               False, False, CREATED, CREATED, 1)


PATIENT_COLUMNS = ("id", "identity_status", "birth_name", "first_names", "birth_name_folded",
                   "first_name_folded", "birth_date", "sex", "territory_id", "consent_share",
                   "advance_directives", "created_at", "updated_at", "version")


def copy_rows(cursor, table: str, columns: tuple[str, ...], rows) -> int:
    count = 0
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def build(stays: int, patients: int, postgres: bool) -> float:
    territory = db.session.scalar(select(Territory.id).where(Territory.code == "DOUAISIS"))
    started = time.perf_counter()
    if postgres:
        db.session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        cursor = db.session.connection().connection.driver_connection.cursor()
        copy_rows(cursor, "patient", PATIENT_COLUMNS, patient_rows(patients, territory))
        loaded = copy_rows(cursor, "stay", STAY_COLUMNS, stay_rows(stays, patients))
        db.session.execute(text("SELECT setval(pg_get_serial_sequence('stay', 'id'), "
                                "(SELECT max(id) FROM stay))"))
        db.session.execute(text("SELECT setval(pg_get_serial_sequence('patient', 'id'), "
                                "(SELECT max(id) FROM patient))"))
    else:
        connection = db.session.connection()
        batch = []
        for row in patient_rows(patients, territory):
            values = dict(zip(PATIENT_COLUMNS, row, strict=True))
            values["created_at"] = values["updated_at"] = CREATED.replace(tzinfo=UTC)
            batch.append(values)
            if len(batch) == CHUNK:
                connection.execute(insert(Patient.__table__), batch)
                batch = []
        if batch:
            connection.execute(insert(Patient.__table__), batch)
        loaded, batch = 0, []
        for row in stay_rows(stays, patients):
            values = dict(zip(STAY_COLUMNS, row, strict=True))
            for column in ("admitted_at", "discharged_at", "cancelled_at", "created_at",
                           "updated_at"):
                if values[column] is not None:
                    values[column] = values[column].replace(tzinfo=UTC)
            batch.append(values)
            if len(batch) == CHUNK:
                connection.execute(insert(Stay.__table__), batch)
                loaded += len(batch)
                batch = []
        if batch:
            connection.execute(insert(Stay.__table__), batch)
            loaded += len(batch)
    db.session.commit()
    print(f"  {loaded:,} stays of {patients:,} patients loaded in "
          f"{time.perf_counter() - started:.0f} s", file=sys.stderr)
    return loaded


# The floor: the same three values in one PostgreSQL query, nothing written. `ix` are the index
# stays; for each, the first emergency admission at or after its discharge (LATERAL, LIMIT 1 on
# the (patient_id, admitted_at) index) within 30 local days; for each emergency admission the
# latest index stay it readmits.
FLOOR = """
WITH live AS (
    SELECT id, patient_id, admitted_at, admitted_on, discharged_at, discharged_on,
           admission_mode, discharge_destination
    FROM stay WHERE cancelled_at IS NULL
), ix AS (
    SELECT * FROM live
    WHERE discharged_at IS NOT NULL
      AND (discharge_destination IS NULL OR discharge_destination NOT IN ('death', 'transfer'))
), readmitted AS (
    SELECT ix.id, nxt.id AS readmitted_by_id
    FROM ix CROSS JOIN LATERAL (
        SELECT r.id, r.admitted_on FROM stay r
        WHERE r.patient_id = ix.patient_id AND r.admitted_at >= ix.discharged_at
          AND r.id <> ix.id AND r.cancelled_at IS NULL AND r.admission_mode = 'emergency'
        ORDER BY r.admitted_at, r.id LIMIT 1) nxt
    WHERE nxt.admitted_on <= ix.discharged_on + 30
), readmission AS (
    SELECT r.id, prev.id AS readmission_of_id
    FROM live r CROSS JOIN LATERAL (
        SELECT s.id FROM stay s
        WHERE s.patient_id = r.patient_id AND s.discharged_at <= r.admitted_at
          AND s.id <> r.id AND s.discharged_on >= r.admitted_on - 30
          AND s.cancelled_at IS NULL
          AND (s.discharge_destination IS NULL
               OR s.discharge_destination NOT IN ('death', 'transfer'))
        ORDER BY s.discharged_at DESC, s.id DESC LIMIT 1) prev
    WHERE r.admission_mode = 'emergency'
)
SELECT (SELECT count(*) FROM ix) AS index_stays,
       (SELECT count(*) FROM readmitted) AS readmitted,
       (SELECT count(*) FROM readmission) AS readmissions,
       (SELECT coalesce(sum(readmitted_by_id::bigint), 0) FROM readmitted) AS by_sum,
       (SELECT coalesce(sum(readmission_of_id::bigint), 0) FROM readmission) AS of_sum
"""


def stored_figures() -> tuple[int, int, int, int, int]:
    row = db.session.execute(select(
        func.count().filter(Stay.is_index_stay),
        func.count(Stay.readmitted_by_id),
        func.count(Stay.readmission_of_id),
        func.coalesce(func.sum(Stay.readmitted_by_id), 0),
        func.coalesce(func.sum(Stay.readmission_of_id), 0))).one()
    return tuple(int(value) for value in row)  # type: ignore[return-value]


def vacuum(postgres: bool) -> None:
    """VACUUM ANALYZE, as autovacuum would after a bulk load (hint bits, visibility map,
    statistics)."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE stay" if postgres else "ANALYZE")


def timed(label: str, function) -> float:
    started = time.perf_counter()
    function()
    seconds = time.perf_counter() - started
    print(f"  {label}: {seconds:.1f} s", file=sys.stderr)
    return seconds


def recompute_all() -> None:
    readmissions.recompute(db.session, None)
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stays", type=int, default=2_000_000)
    parser.add_argument("--per-patient", type=int, default=4)
    parser.add_argument("--reuse", action="store_true",
                        help="time the stays already in DATABASE_URL (no build)")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or \
        f"sqlite:///{tempfile.mkdtemp(prefix='readmit-bench-')}/bench.sqlite3"
    postgres = url.startswith("postgresql")
    app = create_app({"ENV_NAME": "development", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        flask_migrate.upgrade()
        if not args.reuse:
            load_reference_data(db.session)
            db.session.commit()
            print(f"building {args.stays:,} stays", file=sys.stderr)
            build(args.stays, max(1, args.stays // args.per_patient), postgres)
        stays = db.session.scalar(select(func.count()).select_from(Stay))
        if args.reuse:  # from scratch again: every flag back to its default
            db.session.execute(Stay.__table__.update().values(
                readmission_of_id=None, readmitted_by_id=None))
            db.session.commit()
        vacuum(postgres)
        loads = [os.getloadavg()[0]]
        first = timed("recompute, from scratch", recompute_all)
        vacuum(postgres)
        loads.append(os.getloadavg()[0])
        again = timed("recompute, up to date", recompute_all)
        stored = stored_figures()
        floor = write_floor = None
        if postgres:
            def run_floor():
                nonlocal floor_row
                floor_row = tuple(int(v) for v in db.session.execute(text(FLOOR)).one())
                db.session.rollback()
            floor_row: tuple = ()
            loads.append(os.getloadavg()[0])
            floor = timed("floor query", run_floor)
            assert floor_row == stored, (floor_row, stored)

            def run_write_floor():  # every row written once, nothing computed; rolled back
                db.session.execute(text("UPDATE stay SET readmitted_by_id = readmitted_by_id"))
                db.session.rollback()
            loads.append(os.getloadavg()[0])
            write_floor = timed("write floor", run_write_floor)
        load = max(loads)
        engine = "PostgreSQL" if postgres else "SQLite"
        print(f"\n{stays:,} stays; index stays {stored[0]:,}, readmitted {stored[1]:,}, "
              f"readmissions {stored[2]:,} ({platform.python_version()}, load average up to "
              f"{load:.1f} at the start of a step)\n")
        print("| step (" + engine + ") | seconds | aim |")
        print("|---|---|---|")
        verdict = "met" if first <= AIM_SECONDS else \
            f"missed by {first - AIM_SECONDS:.1f} s"
        print(f"| `recompute(session, None)`, every flag at its default | {first:.1f} | "
              f"{verdict} |")
        print(f"| `recompute(session, None)`, every flag up to date | {again:.1f} | |")
        if floor is not None:
            print(f"| floor: one SELECT computing the same values (nothing written) | "
                  f"{floor:.1f} | |")
            print(f"| floor: one UPDATE writing every stay, nothing computed (rolled back) | "
                  f"{write_floor:.1f} | |")


if __name__ == "__main__":
    main()
