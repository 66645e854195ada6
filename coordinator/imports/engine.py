"""The CSV import engine: one engine for every kind of record, a kind being a schema.

A file is read as a stream (UTF-8 with or without BOM, `,` or `;` detected from the header),
each cell is parsed by its column, and rows go to the kind in batches; the kind validates them
with the domain's own rules and writes each batch with bulk SQL, looking up what it needs with
one query per batch. Memory stays flat whatever the size of the file: only one batch is held,
and the report keeps at most `MAX_STORED_MESSAGES` errors and warnings (all are counted).

The engine owns its transaction (the one exception to "services never commit"): the whole file
is imported in one transaction, then a dry run or a refused file is rolled back, and a clean
import is committed together with its report. The report is stored in every case, after a
rollback in a transaction of its own. Run as background work (`imports/work.py`), the engine
leaves that last commit to the work mechanism, which commits it with the end of the item.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from typing import BinaryIO

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from coordinator.audit import services as audit
from coordinator.audit.models import AuditAction
from coordinator.core import messages
from coordinator.core.context import Actor
from coordinator.core.time import local_today, utcnow
from coordinator.imports.cells import CellError, Parser, check_text, text
from coordinator.imports.models import ImportReport, ImportStatus
from coordinator.work.context import Stopped

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000
MAX_STORED_MESSAGES = 1000
MAX_LINE_CHARS = 1 << 20  # a longer physical line is not CSV: refuse it instead of buffering it
DELIMITERS = (",", ";")

Progress = Callable[[int, int], None]  # (bytes read, rows read)


@dataclass(frozen=True)
class Column:
    """One column of a format: its parser, whether it is required, and (for kinds that upsert
    a model) the model attributes it sets, so that a column absent from a file leaves them as
    they are. `allowed` (or the parser's own, see `cells.choice`) lists the values the rule
    checking the column accepts, `note` says what a value must be when there is no list: the
    Imports page shows them, from the constants the rules check, so they cannot drift."""

    name: str
    parse: Parser = field(default_factory=text)
    required: bool = False
    fields: tuple[str, ...] = ()
    allowed: tuple[str, ...] = ()
    note: object = None

    @property
    def values(self) -> tuple[str, ...]:
        """The values the column accepts, when they are a fixed list (else empty)."""
        return tuple(str(value) for value in
                     (self.allowed or getattr(self.parse, "allowed", None) or ()))


@dataclass(frozen=True)
class ImportOptions:
    dry_run: bool = False
    skip_invalid: bool = False  # import the valid rows, report and skip the others
    accept_duplicates: bool = False  # patients: create likely duplicates anyway (with a warning)
    territory_id: int | None = None  # only rows of this territory (case managers)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(slots=True)
class Row:
    """A data row: its first physical line, its parsed cells (None when empty), the columns
    whose cell could not be read, and whether any error was found on it."""

    line: int
    values: dict
    failed: set | None = None
    invalid: bool = False


class Messages:
    """Errors or warnings: all counted, the first `MAX_STORED_MESSAGES` kept (line order)."""

    def __init__(self) -> None:
        self.count = 0
        self.items: list[dict] = []

    def add(self, line: int | None, column: str | None, message) -> None:
        self.count += 1
        if len(self.items) < MAX_STORED_MESSAGES:
            self.items.append(message_item(line, column, message))


def message_item(line: int | None, column: str | None, message) -> dict:
    """An error or warning as the report keeps it: the text in the language it was written
    in (the literal fallback) and, for a lazy message, its code, read later in the reader's
    language (`reporting.message_text`)."""
    item = {"line": line, "column": column, "message": str(message)}
    code = messages.stored(message)
    if code is not None:
        item["code"] = code
    return item


class ImportRun:
    """The state of one import, handed to the kind with each batch."""

    def __init__(self, session: Session, actor: Actor, report_id: int, options: ImportOptions):
        self.session = session
        self.dialect = session.get_bind().dialect.name
        self.actor = actor
        self.report_id = report_id
        self.options = options
        self.now = utcnow()
        self.today = local_today()
        self.present: frozenset[str] = frozenset()  # the format's columns found in the header
        self.context: dict = {}  # reference data a kind loads once per run
        self.disclosed: set[int] = set()  # records of elsewhere said to exist (audited on them)
        self.errors = Messages()
        self.warnings = Messages()
        self.refused = False  # the whole file is refused (header, encoding, unreadable CSV)
        self.rows_read = self.created = self.updated = self.unchanged = self.skipped = 0

    def problem(self, row: Row, column: str | None, message) -> None:
        """An error on a row; ignored when that column's cell already could not be read."""
        if row.failed and column in row.failed:
            return
        row.invalid = True
        self.errors.add(row.line, column, message)

    def refuse(self, line: int | None, column: str | None, message) -> None:
        self.refused = True
        self.errors.add(line, column, message)

    @property
    def status(self) -> ImportStatus:
        if self.refused or (self.errors.count and not self.options.skip_invalid):
            return ImportStatus.REJECTED
        return ImportStatus.SUCCEEDED


def start_report(session: Session, actor: Actor, kind: str, file_name: str,
                 options: ImportOptions, file_size: int | None = None) -> ImportReport:
    """Record that an import starts (status running: not finished); the caller commits."""
    report = ImportReport(
        kind=kind, file_name=(file_name or "-")[:255], file_size=file_size,
        user_id=actor.user_id, actor_label=actor.label, dry_run=options.dry_run,
        options=options.as_dict(), status=ImportStatus.RUNNING, errors=[], warnings=[],
    )
    session.add(report)
    session.flush()
    return report


def run_import(session: Session, actor: Actor, report_id: int, stream: BinaryIO,
               options: ImportOptions, *, progress: Progress | None = None,
               locale: str | None = None, batch_size: int = BATCH_SIZE,
               commit: bool = True) -> ImportReport:
    """Import `stream` as the report's kind, in one transaction, and store the report.

    Commits: the data with its report when the import succeeds, else only the report; with
    `commit=False` the same is left flushed for the caller to commit (the background work
    commits it together with the end of its item). Messages are written in `locale` (default:
    the current one). When `progress` stops the import (`coordinator.work.context.Stopped`:
    cancelled, or its worker is stopping) everything is rolled back, the report included, and
    the exception goes on; so does a database error with `commit=False` (to be retried).
    """
    from coordinator.imports.kinds import KINDS

    kind = KINDS[session.get(ImportReport, report_id).kind]
    run = ImportRun(session, actor, report_id, options)
    with force_locale(locale) if locale else nullcontext():
        try:
            _read(run, kind, _CountingReader(stream), progress, batch_size)
            status = run.status
            if status != ImportStatus.SUCCEEDED or options.dry_run:
                session.rollback()
            _store(run, kind, status)
            if commit:
                session.commit()
        except Stopped:
            session.rollback()
            raise
        except BaseException as error:
            session.rollback()
            if not commit and isinstance(error, OperationalError | InterfaceError):
                raise  # the database went away or was busy: the background work retries it
            if isinstance(error, Exception):
                logger.exception("import report %s failed", report_id)
            run.errors.add(None, None, _l("The import stopped on an unexpected error: nothing was "
                                         "written. The error has been logged."))
            _store(run, kind, ImportStatus.FAILED)
            if commit:
                session.commit()
            if not isinstance(error, Exception):
                raise
    return session.get(ImportReport, report_id)


def import_file(session: Session, actor: Actor, kind: str, stream: BinaryIO, file_name: str,
                options: ImportOptions, *, file_size: int | None = None,
                progress: Progress | None = None, locale: str | None = None,
                batch_size: int = BATCH_SIZE) -> ImportReport:
    """Start a report, commit it, and run the import (command line, benchmarks, tests)."""
    report_id = start_report(session, actor, kind, file_name, options, file_size).id
    session.commit()
    return run_import(session, actor, report_id, stream, options, progress=progress,
                      locale=locale, batch_size=batch_size)


def _store(run: ImportRun, kind, status: ImportStatus) -> None:
    session = run.session
    report = session.get(ImportReport, run.report_id)
    report.status = status
    report.finished_at = utcnow()
    report.rows_read = run.rows_read
    report.created, report.updated, report.unchanged = run.created, run.updated, run.unchanged
    report.skipped = run.skipped
    report.error_count = run.errors.count
    report.errors = run.errors.items
    report.warnings = run.warnings.items
    written = status == ImportStatus.SUCCEEDED and not run.options.dry_run
    audit.record(
        session, run.actor, AuditAction.CREATE, "import_report", report.id,
        summary=f"{kind.name} import of {report.file_name}: {status}"
                f"{' (dry run)' if run.options.dry_run else ''}; {run.created} created, "
                f"{run.updated} updated, {run.unchanged} unchanged, {run.skipped} with errors"
                f"{'' if written else '; nothing written'}",
        details={"kind": kind.name, "status": status, "dry_run": run.options.dry_run,
                 "rows": run.rows_read, "errors": run.errors.count},
    )
    if run.disclosed:  # another territory's records said to exist (no id): in their trail
        audit.record_shown(session, run.actor, "import_match_elsewhere", sorted(run.disclosed),
                           entity_id=report.id,
                           summary="likely duplicate in another territory: its existence was "
                                   "told by an import",
                           details={"disclosed": "existence only", "import_report": report.id})
    session.flush()


class _CountingReader(io.RawIOBase):
    """The bytes read so far from the underlying binary stream (for the progress bar)."""

    def __init__(self, stream: BinaryIO):
        self.stream = stream
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.stream.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self.count += size
        return size


class _LineTooLong(Exception):
    pass


def _lines(text_stream) -> Iterator[str]:
    """Physical lines, refusing one longer than MAX_LINE_CHARS (it would fill the memory)."""
    while True:
        line = text_stream.readline(MAX_LINE_CHARS)
        if not line:
            return
        if len(line) >= MAX_LINE_CHARS and not line.endswith(("\n", "\r")):
            raise _LineTooLong
        yield line


@dataclass
class _Layout:
    delimiter: str
    width: int
    columns: list[tuple[int, Column]]


def _header(run: ImportRun, kind, line: str) -> _Layout | None:
    """The delimiter and the columns of the file, or None when the file is refused."""
    if not line.strip():
        run.refuse(1, None, _l("The file is empty: its first line must be the header."))
        return None
    split = {d: next(csv.reader([line], delimiter=d)) for d in DELIMITERS}
    delimiter = max(DELIMITERS, key=lambda d: len(split[d]))
    if len(split[delimiter]) < 2:
        run.refuse(1, None, _l("The header is not separated by commas (,) or semicolons (;): "
                              "these are the only delimiters accepted. Save the file as CSV "
                              "with one of them."))
        return None
    known = {column.name: column for column in kind.columns}
    names = [cell.strip().lower() for cell in split[delimiter]]
    columns: list[tuple[int, Column]] = []
    seen: set[str] = set()
    for index, name in enumerate(names):
        if not name:
            run.warnings.add(1, None, _l("Column %(n)d has no name: it is ignored.", n=index + 1))
        elif name in seen:
            run.refuse(1, name, _l("This column appears twice in the header."))
        elif name in known:
            columns.append((index, known[name]))
        else:
            run.warnings.add(1, name, _l("Unknown column: it is ignored."))
        seen.add(name)
    for column in kind.columns:
        if column.required and column.name not in seen:
            run.refuse(1, column.name, _l("Required column missing: the file is refused."))
    if run.refused:
        return None
    run.present = frozenset(column.name for _index, column in columns)
    return _Layout(delimiter, len(names), columns)


def _read(run: ImportRun, kind, raw: _CountingReader, progress: Progress | None,
          batch_size: int) -> None:
    text_stream = io.TextIOWrapper(io.BufferedReader(raw, 1 << 16), encoding="utf-8-sig",
                                   newline="")
    line = 1
    try:
        header = text_stream.readline(MAX_LINE_CHARS)
        if len(header) >= MAX_LINE_CHARS:
            raise _LineTooLong
        layout = _header(run, kind, header)
        if layout is None:
            return
        kind.begin(run)
        reader = csv.reader(_lines(text_stream), delimiter=layout.delimiter)
        batch: list[Row] = []
        keys: set = set()
        consumed = 0
        for record in reader:
            line = consumed + 2  # the header is line 1
            consumed = reader.line_num
            row = _parse(run, layout, record, line)
            if row is None:
                continue
            key = kind.batch_key(row)
            if key is not None:
                if key in keys:  # the same record again: it updates what the first row wrote
                    _flush(run, kind, batch, raw, progress)
                    keys.clear()
                keys.add(key)
            batch.append(row)
            if len(batch) >= batch_size:
                _flush(run, kind, batch, raw, progress)
                keys.clear()
        _flush(run, kind, batch, raw, progress)
    except UnicodeDecodeError:
        run.refuse(line, None, _l("The file is not UTF-8 text (near this line): save it as "
                                 "“CSV UTF-8”."))
    except _LineTooLong:
        run.refuse(line, None, _l("This line is longer than %(n)d characters: the file is not "
                                 "a CSV file of this format.", n=MAX_LINE_CHARS))
    except csv.Error as error:
        run.refuse(line, None, _l("The file cannot be read as CSV here (%(error)s).",
                                 error=str(error)[:200]))
    if progress is not None:
        progress(raw.count, run.rows_read)


def _parse(run: ImportRun, layout: _Layout, record: list[str], line: int) -> Row | None:
    """The row's cells parsed by their columns, or None for a blank line (spreadsheets add
    lines of empty cells)."""
    if len(record) != layout.width:
        if not "".join(record).strip():
            return None
        if len(record) < layout.width or "".join(record[layout.width:]).strip():
            run.rows_read += 1
            run.skipped += 1
            run.errors.add(line, None, _l("This row has %(found)d cells; the header has "
                                         "%(expected)d.", found=len(record),
                                         expected=layout.width))
            return None
    values: dict = {}
    missing = []
    failed = None
    filled = False
    for index, column in layout.columns:
        cell = record[index].strip()
        if not cell:
            values[column.name] = None
            if column.required:
                missing.append(column.name)
            continue
        filled = True
        try:
            check_text(cell)
            values[column.name] = column.parse(cell)
        except CellError as error:
            values[column.name] = None
            if failed is None:
                failed = {}
            failed[column.name] = error.message
    if not filled and not "".join(record).strip():
        return None
    run.rows_read += 1
    row = Row(line, values)
    if missing or failed:
        errors = dict.fromkeys(missing, _l("A value is required.")) | (failed or {})
        for _index, column in layout.columns:  # in the order of the file
            if column.name in errors:
                _cell_error(run, row, column.name, errors[column.name])
    return row


def _cell_error(run: ImportRun, row: Row, column: str, message) -> None:
    run.problem(row, column, message)
    if row.failed is None:
        row.failed = set()
    row.failed.add(column)


def _flush(run: ImportRun, kind, batch: list[Row], raw: _CountingReader,
           progress: Progress | None) -> None:
    if not batch:
        return
    kind.process(run, batch)
    run.skipped += sum(1 for row in batch if row.invalid)
    batch.clear()
    if progress is not None:
        progress(raw.count, run.rows_read)
