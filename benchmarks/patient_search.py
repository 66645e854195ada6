"""Benchmark: patient search at 100 000 patients (budget: under 100 ms per search).

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/coordinator_bench \
        .venv/bin/python benchmarks/patient_search.py [--patients 100000]

Builds a fresh schema in the given database (SQLite file by default), bulk-loads synthetic
patients with stratum assignments, then times the registry's own search query (the one the
page and the API run, including its COUNT for pagination) for typical searches. Prints one
markdown table row per search for docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate
from sqlalchemy import insert, select, text

from coordinator import create_app
from coordinator.auth.models import User
from coordinator.core.normalize import fold
from coordinator.core.pagination import paginate
from coordinator.extensions import db
from coordinator.patients.models import Patient
from coordinator.patients.services import PatientSearch, search_query
from coordinator.strata.models import Program, Stratum, StratumAssignment, Territory
from coordinator.strata.services import load_reference_data

LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
        "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David",
        "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André", "Lefebvre",
        "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Légaré", "Nguyen"]
FIRST = ["Marie", "Jean", "Pierre", "Michel", "André", "Philippe", "Nathalie", "Isabelle",
         "Sylvie", "Catherine", "Françoise", "Jacques", "Odette", "Hélène", "Zoé", "Théo"]


def load(n: int, rng: random.Random) -> None:
    territories = db.session.scalars(select(Territory.id)).all()
    strata = db.session.execute(select(Stratum.id, Stratum.program_id, Stratum.level)).all()
    batch, assignments = [], []
    for i in range(n):
        last = f"{rng.choice(LAST)}{'' if i % 3 else rng.choice(['', '-Dupuis', 'ier'])}"
        first = rng.choice(FIRST)
        batch.append({
            "id": i + 1, "birth_name": last, "first_names": f"{first} {rng.choice(FIRST)}",
            "birth_name_folded": fold(last), "first_name_folded": fold(first),
            "used_name_folded": None, "birth_date": date(rng.randint(1925, 2005),
                                                         rng.randint(1, 12), rng.randint(1, 28)),
            "sex": rng.choice("FM"), "territory_id": rng.choice(territories),
            "identity_status": "provisional", "consent_share": False,
            "advance_directives": False, "version": 1,
        })
        stratum = rng.choice(strata)
        assignments.append({"patient_id": i + 1, "program_id": stratum.program_id,
                            "stratum_id": stratum.id, "effective_date": date(2025, 1, 1),
                            "author_label": "bench"})
        if len(batch) == 5000:
            db.session.execute(insert(Patient), batch)
            db.session.execute(insert(StratumAssignment), assignments)
            batch, assignments = [], []
    if batch:
        db.session.execute(insert(Patient), batch)
        db.session.execute(insert(StratumAssignment), assignments)
    db.session.commit()
    db.session.execute(text("ANALYZE"))  # as autovacuum (PostgreSQL) or `PRAGMA optimize` would
    db.session.commit()


def time_search(user, criteria: PatientSearch, repeat: int = 20) -> tuple[float, float, int]:
    timings = []
    total = 0
    for _ in range(repeat):
        started = time.perf_counter()
        page = paginate(db.session, search_query(user, criteria), page=1, per_page=50)
        timings.append((time.perf_counter() - started) * 1000)
        total = page.total
        db.session.rollback()
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1], total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=100_000)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or \
        f"sqlite:///{tempfile.mkdtemp()}/bench-search.sqlite3"
    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": url})
    rng = random.Random(7)
    with app.app_context():
        flask_migrate.upgrade()
        load_reference_data(db.session)
        db.session.commit()
        started = time.perf_counter()
        load(args.patients, rng)
        print(f"loaded {args.patients} patients in {time.perf_counter() - started:.1f} s "
              f"({db.engine.dialect.name})", file=sys.stderr)
        admin = User(id=0, email="bench@x", full_name="bench", role="admin", password_hash="-")
        case_manager = User(id=0, email="cm@x", full_name="cm", role="case_manager",
                            password_hash="-", territory_id=db.session.scalar(
                                select(Territory.id).where(Territory.code == "DOUAISIS")))
        hf = db.session.scalar(select(Program.id).where(Program.code == "HF"))
        hf3 = db.session.scalar(select(Stratum.id).where(Stratum.code == "HF-3"))
        searches = [
            ("name prefix 'lef' (admin)", admin, PatientSearch(name="lef")),
            ("name 'lefevre' accents/case", admin, PatientSearch(name="LEFÈVRE")),
            ("name + first name 'martin mar'", admin, PatientSearch(name="martin mar")),
            ("name, case manager's territory", case_manager, PatientSearch(name="dupont")),
            ("birth date", admin, PatientSearch(birth_date=date(1950, 6, 15))),
            ("program HF, stratum HF-3, territory", case_manager,
             PatientSearch(program_id=hf, stratum_id=hf3)),
            ("name + program", admin, PatientSearch(name="moreau", program_id=hf)),
        ]
        print(f"| search ({db.engine.dialect.name}, {args.patients} patients) | median ms "
              "| p95 ms | matches |")
        print("|---|---|---|---|")
        for label, user, criteria in searches:
            median, p95, total = time_search(user, criteria)
            print(f"| {label} | {median:.1f} | {p95:.1f} | {total} |")


if __name__ == "__main__":
    main()
