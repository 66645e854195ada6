"""Benchmark: generating 10 000 follow-up appointments from stratum templates.

    .venv/bin/python benchmarks/series_generation.py [--appointments 10000]
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/coordinator_bench \\
        .venv/bin/python benchmarks/series_generation.py

Loads the reference data and a directory, then for as many level-3 patients as needed books the
HF-3 template (12 appointments: nurse, GP, dietitian, social worker) the way the page does:
propose the series, choose the providers, book it in one transaction as a follow-up round (each
appointment checked, overlaps looked up, audited). Prints markdown rows for docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate
from sqlalchemy import select, text

from coordinator import create_app
from coordinator.core.context import Actor
from coordinator.core.normalize import fold
from coordinator.extensions import db
from coordinator.patients.models import Patient
from coordinator.providers.models import Provider
from coordinator.scheduling import series, services
from coordinator.strata.models import Stratum, Territory
from coordinator.strata.services import load_reference_data


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--appointments", type=int, default=10_000)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or \
        f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        if url.startswith("postgresql"):
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        flask_migrate.upgrade()
        load_reference_data(db.session)
        territory = db.session.scalar(select(Territory).where(Territory.code == "DOUAISIS"))
        stratum = db.session.scalar(select(Stratum).where(Stratum.code == "HF-3"))
        per_patient = len(series.from_template(stratum, date.today()))
        patients = -(-args.appointments // per_patient)
        # a caseload per provider: 40 patients each, their series starting on different days
        groups = -(-patients // 40)
        for kind in ("gp", "nurse", "dietitian", "social_worker"):
            for n in range(groups):
                name = f"{kind} {n}"
                db.session.add(Provider(kind=kind, name=name, name_folded=fold(name),
                                        territory_id=territory.id))
        db.session.commit()
        for n in range(patients):
            name = f"Patient{n}"
            db.session.add(Patient(birth_name=name, birth_name_folded=fold(name),
                                   first_names="Anne", first_name_folded="ANNE",
                                   birth_date=date(1940, 1, 1), sex="F",
                                   territory_id=territory.id))
        db.session.commit()
        actor = Actor.system("benchmark")
        timings, booked = [], 0
        began = time.perf_counter()
        for index, patient in enumerate(
                db.session.scalars(select(Patient).order_by(Patient.id)).all()):
            t0 = time.perf_counter()
            # 40 patients per provider, each with a half-hour of their own (so that the
            # overlap checks run and find nothing, as for a well-planned caseload)
            start = date(2027, 1, 4)
            proposals = [replace(p, starts_at=p.starts_at + timedelta(minutes=(index % 40) * 30))
                         for p in series.from_template(stratum, start)]
            choices = series.provider_choices(db.session, patient,
                                              {p.provider_kind for p in proposals})
            chosen = {kind: providers[index // 40].id for kind, providers in choices.items()}
            rows = series.as_rows(patient, series.with_providers(proposals, chosen))
            booked += len(services.create_appointments(db.session, actor, rows,
                                                       round_label=stratum.code))
            db.session.commit()
            timings.append(time.perf_counter() - t0)
        total = time.perf_counter() - began
        engine = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        print(f"| {engine}: {booked} appointments, {patients} series of {per_patient} | "
              f"{total:.1f} s, {booked / total:.0f} appointments/s |")
        print(f"| {engine}: one series of {per_patient} (preview + book + commit) | median "
              f"{statistics.median(timings) * 1000:.0f} ms, p95 "
              f"{sorted(timings)[int(len(timings) * 0.95)] * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
