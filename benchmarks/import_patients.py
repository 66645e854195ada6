"""Benchmark: the CSV import engine on N patients (default 1 000 000) with their enrollments.

    DATABASE_URL=$(scripts/postgres.sh create-database coordinator_bench) \
        .venv/bin/python benchmarks/import_patients.py [--patients 1000000]

Generates providers.csv, patients.csv (valid NIRs, French names, no likely duplicates) and
enrollments.csv in a temporary directory, builds the schema in the given (fresh) database
(a SQLite file without DATABASE_URL), imports the files with the engine as the command line
does, then imports patients.csv again (every row unchanged). Prints rows/s per kind, the peak
RSS, the RSS at 10 %, 50 % and 100 % of each file (flat: the file is streamed), and one
markdown table row for docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from faker.providers.person.fr_FR import Provider as FrenchNames

TERRITORIES = ("AUBE-SEZ", "CORNOUAILLE", "DEUX-SEVRES", "DOUAISIS", "HAUTE-SAONE")
STRATA = {program: [f"{program}-{level}" for level in (1, 2, 3)]
          for program in ("HF", "DIAB", "COPD", "POLY")}
GPS_PER_TERRITORY = 40
FIRST_BIRTH_DAY = date(1925, 1, 1)
BIRTH_DAYS = 30_000  # ~82 years of birth dates
TODAY = date(2026, 1, 1)


def nir(sex: str, birth: date, serial: int) -> str:
    """A valid NIR (key included), unique per serial below 94 million."""
    department = serial // 998_001 % 95 + 1
    commune = serial // 999 % 999 + 1
    order = serial % 999 + 1
    body = f"{'1' if sex == 'M' else '2'}{birth.year % 100:02d}{birth.month:02d}" \
           f"{department:02d}{commune:03d}{order:03d}"
    return f"{body}{97 - int(body) % 97:02d}"


def gp_id(territory: str, n: int) -> str:
    return f"GP-{territory}-{n:03d}"


def write_providers(path: Path) -> int:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("external_id,kind,name,rpps,territory_code,city\n")
        count = 0
        for t_index, territory in enumerate(TERRITORIES):
            for n in range(GPS_PER_TERRITORY):
                count += 1
                out.write(f"{gp_id(territory, n)},gp,Dr {FrenchNames.last_names[count % 400]} "
                          f"{n},{10_000_000_000 + t_index * 1000 + n},{territory},Ville\n")
    return count


def patient_rows(count: int, seed: int = 1):
    """(external_id, cells...) of `count` distinct patients: the birth date is drawn from the
    row number so that no two patients share a birth name and a birth date."""
    rng = random.Random(seed)
    last_names = FrenchNames.last_names
    firsts = {"F": FrenchNames.first_names_female, "M": FrenchNames.first_names_male}
    for i in range(count):
        sex = "F" if rng.random() < 0.55 else "M"
        birth = FIRST_BIRTH_DAY + timedelta(days=(i // len(last_names)) * 7919 % BIRTH_DAYS)
        territory = TERRITORIES[rng.randrange(len(TERRITORIES))]
        deceased = birth + timedelta(days=rng.randrange(1, (TODAY - birth).days)) \
            if rng.random() < 0.02 else None
        yield {
            "external_id": f"PAT-{i:07d}",
            "nir": nir(sex, birth, i) if rng.random() < 0.9 else "",
            "birth_name": last_names[i % len(last_names)].upper(),
            "first_names": " ".join(rng.sample(firsts[sex], rng.choice((1, 1, 2)))),
            "birth_date": birth.isoformat() if i % 3 else birth.strftime("%d/%m/%Y"),
            "sex": sex, "territory_code": territory,
            "gp_external_id": gp_id(territory, rng.randrange(GPS_PER_TERRITORY)),
            "consent_share": "yes" if rng.random() < 0.6 else "no",
            "postal_code": f"{rng.randrange(1000, 95999):05d}",
            "deceased_date": deceased.isoformat() if deceased else "",
            "birth": birth, "deceased": deceased,
        }


PATIENT_COLUMNS = ("external_id", "nir", "birth_name", "first_names", "birth_date", "sex",
                   "territory_code", "gp_external_id", "consent_share", "postal_code",
                   "deceased_date")


def write_patients(path: Path, count: int, enrollments: Path | None = None,
                   seed: int = 1) -> tuple[int, int]:
    """patients.csv (`;`-separated, as French spreadsheets write it) and enrollments.csv: one
    to two programs per patient, some transitions, exits for most of the deceased."""
    rng = random.Random(seed + 1)
    written = 0
    with path.open("w", encoding="utf-8", newline="") as out, \
            (enrollments.open("w", encoding="utf-8", newline="") if enrollments
             else open(os.devnull, "w")) as links:
        out.write(";".join(PATIENT_COLUMNS) + "\n")
        links.write("patient_external_id,program_code,stratum_code,effective_date,reason\n")
        for patient in patient_rows(count, seed):
            out.write(";".join(patient[name] for name in PATIENT_COLUMNS) + "\n")
            if enrollments is None:
                continue
            for program, stratum, effective, reason in enrollment_rows(patient, rng):
                links.write(f"{patient['external_id']},{program},{stratum},"
                            f"{effective.isoformat()},{reason}\n")
                written += 1
    return count, written


def enrollment_rows(patient: dict, rng: random.Random):
    """(program, stratum code or "exit", effective date, reason) of one patient's timelines,
    each program's rows by date: one to two programs, some transitions, exits for most of the
    deceased; none for a patient followed less than 60 days."""
    start = max(patient["birth"], date(2018, 1, 1))
    end = patient["deceased"] or TODAY
    if (end - start).days < 60:
        return
    for program in rng.sample(sorted(STRATA), rng.choice((1, 1, 1, 2))):
        first = start + timedelta(days=rng.randrange((end - start).days // 2))
        yield program, rng.choice(STRATA[program]), first, ""
        if rng.random() < 0.3:
            later = first + timedelta(days=rng.randrange(1, (end - first).days))
            yield program, rng.choice(STRATA[program]), later, "reviewed"
        if patient["deceased"] and rng.random() < 0.8:
            yield program, "exit", patient["deceased"], "deceased"


def rss_mb() -> float:
    """The resident set size now (Linux), in MB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6  # KiB on Linux


def import_kind(session, kind: str, path: Path, label: str | None = None) -> dict:
    from coordinator.core.context import Actor
    from coordinator.imports import engine

    size = path.stat().st_size
    marks = {}

    def progress(done: int, rows: int) -> None:
        for percent in (10, 50, 100):
            if percent not in marks and done * 100 >= percent * size:
                marks[percent] = rss_mb()

    started = time.perf_counter()
    with path.open("rb") as stream:
        report = engine.import_file(session, Actor.system("benchmark"), kind, stream,
                                    path.name, engine.ImportOptions(), file_size=size,
                                    progress=progress, locale="en")
    seconds = time.perf_counter() - started
    if report.status != "succeeded":
        raise SystemExit(f"{kind}: {report.status} {report.errors[:5]}")
    result = {"kind": label or kind, "rows": report.rows_read, "seconds": seconds,
              "rate": report.rows_read / seconds, "created": report.created,
              "unchanged": report.unchanged, "rss": marks}
    print(f"{result['kind']:<22} {report.rows_read:>9} rows in {seconds:7.1f} s = "
          f"{result['rate']:>8.0f} rows/s (created {report.created}, unchanged "
          f"{report.unchanged}); RSS at 10/50/100 %: "
          + "/".join(f"{marks.get(p, 0):.0f}" for p in (10, 50, 100)) + " MB",
          file=sys.stderr)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--directory", help="where to write the CSV files (default: a "
                                            "temporary directory)")
    args = parser.parse_args()

    import flask_migrate

    from coordinator import create_app
    from coordinator.extensions import db
    from coordinator.strata.services import load_reference_data

    directory = Path(args.directory or tempfile.mkdtemp(prefix="import-bench-"))
    directory.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    write_providers(directory / "providers.csv")
    _, links = write_patients(directory / "patients.csv", args.patients,
                              directory / "enrollments.csv")
    print(f"generated {args.patients} patients and {links} enrollment rows in "
          f"{time.perf_counter() - started:.0f} s ({directory})", file=sys.stderr)

    url = os.environ.get("DATABASE_URL") or f"sqlite:///{directory}/bench-import.sqlite3"
    app = create_app({"ENV_NAME": "development", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        flask_migrate.upgrade()
        load_reference_data(db.session)
        db.session.commit()
        dialect = db.engine.dialect.name
        results = [import_kind(db.session, kind, directory / f"{kind}.csv")
                   for kind in ("providers", "patients", "enrollments")]
        results.append(import_kind(db.session, "patients", directory / "patients.csv",
                                   "patients (again)"))
        db.session.remove()
    peak = peak_rss_mb()
    print(f"peak RSS {peak:.0f} MB", file=sys.stderr)
    rates = {r["kind"]: r for r in results}
    flat = "/".join(f"{rates['patients']['rss'].get(p, 0):.0f}" for p in (10, 50, 100))
    print(f"| {date.today().isoformat()} | {dialect} | {args.patients:,} | "
          f"{rates['patients']['rate']:,.0f} | {rates['enrollments']['rows']:,} | "
          f"{rates['enrollments']['rate']:,.0f} | {rates['patients (again)']['rate']:,.0f} | "
          f"{peak:.0f} MB | {flat} MB | {os.cpu_count()} CPU, {platform.python_version()} |")


if __name__ == "__main__":
    main()
