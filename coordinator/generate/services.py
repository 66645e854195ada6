"""`generate(engine, ...)`: a realistic registry written in bulk on an empty database (or added
to a registry with `append=True`), then its derived stay flags, all in one transaction.

The order: the reference data (idempotent), the refusal of a non-empty registry, the audit entry
of the generation, the territories' providers and case managers, then the patients chunk by
chunk (each chunk's rows of every table, see `registry`), the indexes and constraints rebuilt
(PostgreSQL, empty registry), the id sequences moved past the generated ids, `ANALYZE`, the
readmission flags (`stays.readmissions.recompute`), and the commit. A failure anywhere rolls
everything back: nothing half-written. The LACE scores are in the stays' rows as they are
written: the chunks' workers score each patient's stays with the stays module's scoring
(`stays.lace.stay_points`), from what they wrote of that patient (the same as
`stays.lace.refresh` would compute once the rows are stored, which a test checks). So are the
appointments' consecutive no-shows, by the scheduling module's rule
(`scheduling.services.consecutive_no_show_counts`; `count_consecutive_no_shows` over the
stored rows writes nothing, which a test checks).
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import time
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, inspect, select, text
from sqlalchemy.orm import Session

from coordinator.audit import services as audit
from coordinator.audit.models import AuditAction
from coordinator.core.context import Actor
from coordinator.generate import loader as loaders
from coordinator.generate.clock import Codec
from coordinator.generate.registry import AUTHOR, COLUMNS, ChunkWriter, Context
from coordinator.generate.setup import (
    ID_TABLES,
    PROVIDER_COLUMNS,
    USER_COLUMNS,
    Options,
    prepare,
)
from coordinator.patients.models import Patient
from coordinator.stays import readmissions
from coordinator.strata.models import Territory
from coordinator.strata.services import load_reference_data

MAX_PATIENTS = 3_000_000  # the NIRs stay unique up to about 2.97 million patients
MAX_YEARS = 20
ACTOR = Actor.system(AUTHOR)
# The steps of a chunk, and the tables whose rows each one writes (for the report).
STEPS = (
    ("lives", ("stratum_assignment",)),
    ("care_plans", ("care_plan", "care_plan_assessment", "care_plan_goal", "care_plan_action",
                    "care_plan_member", "care_plan_revision")),
    ("patients", ("patient", "consent_event")),
    ("stays_and_events", ("stay", "stay_diagnosis", "clinical_event")),
    ("appointments", ("appointment",)),
)


class GenerateError(Exception):
    """The generation cannot start: the message says why and what to do."""


@dataclass
class Report:
    rows: dict[str, int] = field(default_factory=dict)
    generate_seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    load_seconds: dict[str, float] = field(default_factory=dict)
    index_seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    steps: dict[str, float] = field(default_factory=dict)  # whole phases, wall time
    total_seconds: float = 0.0
    database_bytes: int | None = None
    table_bytes: dict[str, int] = field(default_factory=dict)
    peak_rss_mb: float = 0.0
    peak_rss_workers_mb: float = 0.0  # the largest of the generating processes
    generator_cpu: float = 0.0  # this process and its children, seconds
    backend_cpu: dict[str, float] = field(default_factory=dict)
    indexes_rebuilt: bool = False
    frozen: bool = False
    statements: list[tuple[float, str]] = field(default_factory=list)


def options(*, patients: int, territories: tuple[str, ...] | None, territory_count: int | None,
            years: int, seed: int, today: date, chunk_size: int, password_hash: str,
            known: list[str]) -> Options:
    """Checked options; `known`: the territory codes of the database, in order."""
    if not 1 <= patients <= MAX_PATIENTS:
        raise GenerateError(f"--patients must be from 1 to {MAX_PATIENTS:,}.")
    if not 1 <= years <= MAX_YEARS:
        raise GenerateError(f"--years must be from 1 to {MAX_YEARS}.")
    if not 100 <= chunk_size <= 100_000:
        raise GenerateError("--chunk-size must be from 100 to 100,000.")
    if territories and territory_count:
        raise GenerateError("Give --territories or --territory-count, not both.")
    if territories:
        unknown = [code for code in territories if code not in known]
        if unknown:
            raise GenerateError(f"Unknown territory: {', '.join(unknown)} (known: "
                                f"{', '.join(known)}).")
        chosen = tuple(dict.fromkeys(territories))
    elif territory_count:
        if not 1 <= territory_count <= len(known):
            raise GenerateError(f"--territory-count must be from 1 to {len(known)}.")
        chosen = tuple(known[:territory_count])
    else:
        chosen = tuple(known)
    if not chosen:
        raise GenerateError("The database has no territory.")
    return Options(patients=patients, territories=chosen, years=years, seed=seed, today=today,
                   chunk_size=chunk_size, password_hash=password_hash)


def check_schema(engine: Engine) -> None:
    inspector = inspect(engine)
    missing = [table for table in ("alembic_version", *ID_TABLES)
               if not inspector.has_table(table)]
    if missing:
        raise GenerateError("The database has no schema (or an old one): run "
                            "`flask --app wsgi init-db` on it first (with the same "
                            "DATABASE_URL).")
    for table, columns in COLUMNS.items():
        present = {column["name"]: column for column in inspector.get_columns(table)}
        unknown = [name for name in columns if name not in present]
        unfilled = [name for name, column in present.items()
                    if name not in columns and not column["nullable"]
                    and column.get("default") is None and not column.get("autoincrement")
                    and not column.get("computed")]  # generated columns are the database's
        if unknown or unfilled:
            raise GenerateError(
                f"The table {table} does not have the columns the generator writes "
                f"(missing: {', '.join(unknown) or '-'}; not written: "
                f"{', '.join(unfilled) or '-'}): run `flask --app wsgi init-db` to bring "
                f"the schema to the head, or update coordinator/generate.")


def territory_codes(engine: Engine) -> list[str]:
    with Session(engine) as session:
        load_reference_data(session)
        session.commit()
        return list(session.scalars(select(Territory.code).order_by(Territory.code)))


class _Steps:
    """Times the steps of a generation: wall seconds, and the CPU seconds of the PostgreSQL
    backend serving the connection when it runs on this machine (read from /proc: on a shared
    machine the wall time also measures the neighbours)."""

    def __init__(self, report: Report, backend_pid: int | None):
        self.report = report
        self.stat = Path(f"/proc/{backend_pid}/stat") if backend_pid else None
        self.ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def backend_cpu(self) -> float | None:
        if self.stat is None:
            return None
        try:
            fields = self.stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            self.stat = None
            return None
        return (int(fields[11]) + int(fields[12])) / self.ticks  # utime + stime

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), self.backend_cpu()
        yield
        self.report.steps[name] = time.perf_counter() - wall
        after = self.backend_cpu()
        if cpu is not None and after is not None:
            self.report.backend_cpu[name] = after - cpu


def generate(engine: Engine, chosen: Options, *, append: bool = False,
             keep_indexes: bool = False, workers: int = 2,
             progress: Callable[[str], None] | None = None) -> Report:
    """Write the registry; returns what was written and how long each part took.
    `keep_indexes`: PostgreSQL keeps the indexes and constraints during the load (they are
    dropped and rebuilt otherwise, on an empty registry; always kept when appending)."""
    say = progress or (lambda message: None)
    report = Report()
    started = time.perf_counter()
    dialect = engine.dialect.name
    codec = Codec.for_dialect(dialect)
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        pragmas = loaders.sqlite_pragmas(raw) if dialect == "sqlite" else None
        session = Session(bind=connection)
        try:
            existing = session.scalar(select(func.count()).select_from(Patient))
            if existing and not append:
                raise GenerateError(
                    f"The registry already has {existing:,} patients: nothing was written. Run "
                    f"with --append to add patients to it, or generate on an empty database "
                    f"(e.g. scripts/postgres.sh create-database NAME, then init-db).")
            # The first write (SQLite: it takes the write lock before any bulk row).
            audit.record(session, ACTOR, AuditAction.CREATE, "registry",
                         summary=f"generate: {chosen.patients:,} patients, "
                                 f"{', '.join(chosen.territories)}, {chosen.years} years to "
                                 f"{chosen.today.isoformat()}, seed {chosen.seed}"
                                 + (" (appended)" if existing else ""))
            session.flush()
            backend = None
            if dialect == "postgresql":
                session.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
                session.execute(text("SET LOCAL synchronous_commit = off"))
                session.execute(text("SET LOCAL statement_timeout = 0"))
                backend = session.scalar(text("SELECT pg_backend_pid()"))
            steps = _Steps(report, backend)
            with steps.step("setup"):
                ctx, first_rows = prepare(session, chosen, codec)
                _check_id_range(ctx, chosen)
            rebuild: dict[str, list[str]] = {}
            frozen: frozenset[str] = frozenset()
            if dialect == "postgresql" and not existing:
                frozen = loaders.truncate_for_freeze(session, list(COLUMNS))
                report.frozen = bool(frozen)
                if not keep_indexes:
                    rebuild = loaders.drop_secondary_structures(session, list(COLUMNS))
                    report.indexes_rebuilt = True
            loader: loaders.Loader = loaders.PostgresLoader(session, frozen) \
                if dialect == "postgresql" else loaders.SqliteLoader(session)
            with steps.step("rows"):
                loader.put("user_account", USER_COLUMNS, first_rows["user_account"])
                loader.put("provider", PROVIDER_COLUMNS, first_rows["provider"])
                _chunks(ctx, chosen, loader, report, say,
                        max(1, min(workers, _chunk_count(chosen))))
            report.load_seconds = dict(loader.seconds)
            report.rows = dict(loader.rows)
            with steps.step("indexes"):
                for table, statements in rebuild.items():
                    say(f"rebuilding the indexes and constraints of {table}")
                    for statement in statements:
                        statement_started = time.perf_counter()
                        session.execute(text(statement))
                        seconds = time.perf_counter() - statement_started
                        report.index_seconds[table] += seconds
                        report.statements.append((seconds, statement))
            if dialect == "postgresql":
                loaders.reset_sequences(session, ID_TABLES)
                with steps.step("analyze"):
                    for table in ID_TABLES:
                        session.execute(text(f"ANALYZE {table}"))
            say("readmission flags")
            with steps.step("readmissions"):
                readmissions.recompute(session, None)
            with steps.step("commit"):
                session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
            if pragmas is not None:
                loaders.restore_sqlite_pragmas(raw, pragmas)
        if dialect == "postgresql":
            # The flags and LACE scores rewrote most stays, the no-show counts most
            # appointments: reclaim the old row versions and
            # mark the pages all-visible (the other tables were copied frozen).
            with steps.step("vacuum"), engine.connect() as autocommit:
                autocommit = autocommit.execution_options(isolation_level="AUTOCOMMIT")
                autocommit.execute(text("VACUUM (ANALYZE) stay, appointment"))
        report.total_seconds = time.perf_counter() - started
        _sizes(connection, dialect, report)
    report.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report.peak_rss_workers_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    report.generator_cpu = sum(resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
                               for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return report


def _produce(ctx: Context, chosen: Options, text: bool, send: Callable[[tuple], None],
             worker: int = 0, workers: int = 1) -> None:
    """Generate the chunks of this worker (every `workers`-th from `worker`) and send each
    one's rows table by table: `("rows", table, count, payload)` (payload: COPY text when
    `text`, else the tuples), then `("chunk", patients, {step: seconds})`."""
    first_id = ctx.next_id["patient"]
    for index in range(worker, _chunk_count(chosen), workers):
        done = index * chosen.chunk_size
        count = min(chosen.chunk_size, chosen.patients - done)
        writer = ChunkWriter(ctx, index, first_id + done, count)
        seconds: dict[str, float] = {}
        lives: list = []
        for step, _tables in STEPS:
            step_started = time.process_time()
            if step == "lives":
                lives = writer.lives()
            else:
                getattr(writer, step)(lives)
            seconds[step] = time.process_time() - step_started
        ctx.check_chunk(index)
        step_started = time.process_time()
        payloads: list[tuple[str, bytes | list[tuple]]] = [
            (table, writer.chunk.rows.get(table, [])) for table in COLUMNS]
        if text:
            payloads = [(table, loaders.copy_text(writer.chunk.rows.get(table, [])))
                        for table in COLUMNS]
            seconds["(COPY text)"] = time.process_time() - step_started
        for table, payload in payloads:
            send(("rows", table, len(writer.chunk.rows.get(table, [])), payload))
        send(("chunk", count, seconds))


def _check_id_range(ctx: Context, chosen: Options) -> None:
    """Every id block fits in an INTEGER column."""
    for table, stride in ctx.strides.items():
        if ctx.first_id[table] + _chunk_count(chosen) * stride >= 2**31:
            raise GenerateError(f"So many patients and years would take {table} ids past "
                                f"2^31: generate fewer, or in several --append runs.")


def _chunk_count(chosen: Options) -> int:
    return -(-chosen.patients // chosen.chunk_size)


def _child(ctx: Context, chosen: Options, channel: Any, worker: int, workers: int) -> None:
    """A generating process: its chunks as COPY text into `channel`, then "done"."""
    try:
        _produce(ctx, chosen, True, channel.put, worker, workers)
    except BaseException:
        channel.put(("error", traceback.format_exc()))
        raise
    channel.put(("done",))


class _Progress:
    def __init__(self, say: Callable[[str], None], loader: loaders.Loader, total: int):
        self.say, self.loader, self.total = say, loader, total
        self.last = time.perf_counter()
        self.done = 0

    def chunk(self, count: int) -> None:
        self.done += count
        done = self.done
        if time.perf_counter() - self.last > 10 or done == self.total:
            self.last = time.perf_counter()
            rows = self.loader.rows
            self.say(f"{done:,} patients, {rows.get('appointment', 0):,} appointments, "
                     f"{rows.get('stay', 0):,} stays")


def _chunks(ctx: Context, chosen: Options, loader: loaders.Loader, report: Report,
            say: Callable[[str], None], workers: int) -> None:
    """The chunks' rows into `loader`: on PostgreSQL generated by `workers` child processes
    (they build the next chunks while this process copies one: no GIL between them, and two
    cores), on SQLite in this process (small registries; sqlite3 writes while holding the
    GIL anyway)."""
    progress = _Progress(say, loader, chosen.patients)

    def receive(message: tuple) -> None:
        if message[0] == "rows":
            _, table, count, payload = message
            if isinstance(payload, bytes):
                loader.put_text(table, COLUMNS[table], count, payload)  # type: ignore[attr-defined]
            else:
                loader.put(table, COLUMNS[table], payload)
        elif message[0] == "chunk":
            for step, seconds in message[2].items():
                report.generate_seconds[step] += seconds
            progress.chunk(message[1])

    if not isinstance(loader, loaders.PostgresLoader):
        _produce(ctx, chosen, False, receive)
        return
    processes = multiprocessing.get_context("fork")
    channel = processes.Queue(maxsize=16 * workers)
    children = [processes.Process(target=_child, args=(ctx, chosen, channel, worker, workers),
                                  daemon=True, name=f"generate-rows-{worker}")
                for worker in range(workers)]
    for child in children:
        child.start()
    try:
        running = workers
        while running:
            message = channel.get()
            if message[0] == "done":
                running -= 1
            elif message[0] == "error":
                raise RuntimeError(f"a generating process failed:\n{message[1]}")
            else:
                receive(message)
        for child in children:
            child.join()
    finally:
        for child in children:
            if child.is_alive():
                child.terminate()
                child.join()


def _sizes(connection: Connection, dialect: str, report: Report) -> None:
    if dialect == "postgresql":
        report.database_bytes = connection.scalar(text(
            "SELECT pg_database_size(current_database())"))
        for table in ID_TABLES:
            report.table_bytes[table] = connection.scalar(text(
                f"SELECT pg_total_relation_size('{table}')"))
        connection.rollback()
    else:
        page_count = connection.exec_driver_sql("PRAGMA page_count").scalar() or 0
        page_size = connection.exec_driver_sql("PRAGMA page_size").scalar() or 0
        report.database_bytes = page_count * page_size
        connection.rollback()
