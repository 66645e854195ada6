"""The printed council report: every figure of a selection (period, territory, program,
stratum) with the previous period, the trends and the territories compared, the definitions
in an appendix, as a PDF rendered by `coordinator.printing` (WeasyPrint).

- The figures are those of `services` as `MetricsResult`s, withheld for a council exactly as
  the page and the API withhold them (a withheld cell has no value to print: its mark is
  printed, `<11` or `*`).
- The HTML holds nothing that changes from one print to the next (no date, no reader), so the
  PDF cache keeps it; the print date and the reader are stamped on each page (`pdf.stamp`).
- A small selection is printed within the request (`printing.services.render`, in a child
  process within `PRINT_REQUEST_TIMEOUT_SECONDS`); a large one (every territory, a period over
  a year: the figures themselves take long to compute) is a batch print of one document rendered by
  the background workers (`run`, kind `metrics_report`, registered by `web.register_work`),
  fetched from its page once done, by its owner only, while they may still read it
  (`permissions.can_fetch_metrics_report`).
- Every print is audited with what was asked (`services.audit_read`, action `print`), every
  download of a background report too (`export`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from flask import current_app, render_template
from flask_babel import force_locale, get_locale
from sqlalchemy.orm import Session

from coordinator.audit import services as audit
from coordinator.audit.models import AuditAction
from coordinator.auth.models import User
from coordinator.careplans.printing import stamp_text
from coordinator.core.context import Actor
from coordinator.core.time import utcnow
from coordinator.metrics import charts, definitions, services, tables
from coordinator.metrics.results import MetricsResult
from coordinator.metrics.tables import Figures
from coordinator.printing import batch as batches
from coordinator.printing import pdf as pdfs
from coordinator.printing import services as printing
from coordinator.printing.models import BatchStatus, PrintBatch, PrintKind
from coordinator.work import queue as work
from coordinator.work.context import ItemInfo, WorkContext
from coordinator.work.models import WorkStatus
from coordinator.work.registry import Kind, Registry

WORK_KIND = "metrics_report"
INLINE_MAX_DAYS = 366  # a longer period is printed in the background


@dataclass(frozen=True)
class Report:
    """What the report shows: the dashboard's figures of the selection (the result with its
    previous period, the twelve months, the drill-down, the territories compared), as the
    reader may see them."""

    selection: services.Selection
    figures: Figures
    exact: bool

    @property
    def result(self) -> MetricsResult:
        assert self.figures.result is not None  # gathered with every part but the comparison
        return self.figures.result


@dataclass(frozen=True)
class PrintedReport:
    pdf: bytes
    pages: int
    cached: bool
    filename: str


def gather(session: Session, selection: services.Selection, *, exact: bool, compare: bool,
           now: datetime | None = None) -> Report:
    """Every figure the report prints: the dashboard's (`services.dashboard`), the territories
    compared when `compare`."""
    parts = services.DASHBOARD_PARTS if compare else \
        services.DASHBOARD_PARTS - {"comparison"}
    return Report(selection, services.dashboard(session, selection, exact=exact, parts=parts,
                                                now=now), exact)


def is_large(selection: services.Selection) -> bool:
    """Every territory, or a period over a year: printed in the background."""
    return selection.territory is None or selection.period.days > INLINE_MAX_DAYS


def report_html(report: Report, *, stamp: str = "") -> str:
    """The report in the current language: the dashboard's tables, each chart (the page's SVG)
    with its values below it. Without `stamp` (the preview's print date and reader) nothing in
    it changes from one print to the next."""
    locale = get_locale()
    return render_template("metrics/report.html", report=report, result=report.result,
                           stamp=stamp,
                           tables=tables.dashboard_tables(report.figures),
                           # the page's SVG, with its style inside (WeasyPrint reads
                           # an inline SVG's own rules only; a page links charts.css)
                           chart=lambda table: charts.chart(table, locale, embed_style=True),
                           locale=locale, definitions=definitions)


def query(selection: services.Selection) -> dict[str, str]:
    """The query string printing this selection: what the dashboard's "Print" link passes,
    `url_for("metrics_report.pdf", **report.query(selection))`."""
    asked = {"from": selection.period.first.isoformat(), "to": selection.period.last.isoformat()}
    for name, found in (("territory", selection.territory), ("program", selection.program),
                        ("stratum", selection.stratum)):
        if found is not None:
            asked[name] = found.code
    if selection.caseload_of is not None:
        asked["caseload"] = "1"
    return asked


def filename(selection: services.Selection) -> str:
    parts = ["report", selection.territory.code if selection.territory else "all",
             selection.program.code if selection.program else None,
             selection.stratum.code if selection.stratum else None,
             selection.period.first.isoformat(), selection.period.last.isoformat()]
    return "-".join(part for part in parts if part) + ".pdf"


def parameters(selection: services.Selection, *, exact: bool, compare: bool) -> dict:
    """What a background report was asked, kept on its batch: to render it, and to check at
    download that its owner may still read it."""
    return {"from": selection.period.first.isoformat(), "to": selection.period.last.isoformat(),
            "territory": selection.territory.code if selection.territory else None,
            "territory_id": selection.territory.id if selection.territory else None,
            "program": selection.program.code if selection.program else None,
            "stratum": selection.stratum.code if selection.stratum else None,
            "caseload_of": selection.caseload_of.id if selection.caseload_of else None,
            "exact": exact, "compare": compare}


def _audit(session: Session, actor: Actor, selection: services.Selection, *,
           compare: bool) -> None:
    """A print is audited with what was asked (and the comparison of the territories it
    holds, as the page and the API audit it)."""
    services.audit_read(session, actor, selection, "metrics_report", action=AuditAction.PRINT)
    if compare:
        services.audit_read(session, actor, replace(selection, territory=None),
                            "metrics_comparison", action=AuditAction.PRINT)


def preview(session: Session, actor: Actor, selection: services.Selection, *, exact: bool,
            compare: bool, reader_name: str) -> str:
    """The report as HTML, for the browser's own printing, with its print date and reader:
    audited as a print."""
    html = report_html(gather(session, selection, exact=exact, compare=compare),
                       stamp=stamp_text(reader_name))
    _audit(session, actor, selection, compare=compare)
    return html


def print_report(session: Session, actor: Actor, selection: services.Selection, *,
                 exact: bool, compare: bool, reader_name: str) -> PrintedReport | PrintBatch:
    """The report's PDF now (audited), or for a large selection a batch print queued for the
    background workers (audited now; flushed, the caller commits). `pdf.PrintFailed` when it
    cannot be printed now (nothing written, not audited)."""
    if is_large(selection):
        return start(session, actor, selection, exact=exact, compare=compare,
                     reader_name=reader_name)
    html = report_html(gather(session, selection, exact=exact, compare=compare))
    rendered = printing.render(session, html,
                               current_app.config["PRINT_REQUEST_TIMEOUT_SECONDS"] or None)
    _audit(session, actor, selection, compare=compare)
    return PrintedReport(pdfs.stamp(rendered.pdf, stamp_text(reader_name)), rendered.pages,
                         rendered.cached, filename(selection))


def start(session: Session, actor: Actor, selection: services.Selection, *, exact: bool,
          compare: bool, reader_name: str) -> PrintBatch:
    """A batch print of one report, rendered in the background in the reader's language."""
    assert actor.user_id is not None
    batch = batches.start(session, actor.user_id, 1, kind=PrintKind.METRICS_REPORT,
                          parameters=parameters(selection, exact=exact,
                                                          compare=compare))
    _audit(session, actor, selection, compare=compare)
    batch.work_item_id = work.enqueue(session, WORK_KIND, {
        "batch_id": batch.id, "locale": str(get_locale()), "reader_name": reader_name},
        created_by_id=actor.user_id, total=1).id
    session.flush()
    return batch


def download(session: Session, actor: Actor, batch: PrintBatch) -> bytes | None:
    """A background report's PDF (the caller checked `can_fetch_metrics_report`), audited;
    None until it has succeeded, or once purged (after 24 hours)."""
    if batch.status != BatchStatus.SUCCEEDED or batch.pdf is None:
        return None
    asked = batch.parameters or {}
    audit.record(session, actor, AuditAction.EXPORT, "metrics_report", batch.id,
                 summary=f"{asked.get('from')}..{asked.get('to')}, batch {batch.id} downloaded",
                 details={key: asked.get(key)
                          for key in ("from", "to", "territory", "program", "stratum")})
    return batch.pdf


def batch_filename(batch: PrintBatch) -> str:
    asked = batch.parameters or {}
    parts = ["report", asked.get("territory") or "all", asked.get("program"),
             asked.get("stratum"), asked.get("from"), asked.get("to")]
    return "-".join(str(part) for part in parts if part) + ".pdf"


# -- The background work ------------------------------------------------------------------------

def run(ctx: WorkContext) -> dict:
    """The handler: gather the figures asked, render the report in the reader's language into
    its batch, stamped with the print date and reader."""
    session, payload = ctx.session, ctx.payload
    batch = session.get(PrintBatch, payload["batch_id"])
    if batch is None or batch.status != BatchStatus.RUNNING:  # an earlier attempt finished it
        return {"status": batch.status if batch else "missing"}
    asked = batch.parameters or {}
    config = current_app.config
    with current_app.test_request_context(), force_locale(payload["locale"]):
        selection = services.select_figures(
            session, first=date.fromisoformat(asked["from"]), last=date.fromisoformat(asked["to"]),
            territory=asked.get("territory"), program=asked.get("program"),
            stratum=asked.get("stratum"),
            caseload_of=session.get(User, asked["caseload_of"]) if asked.get("caseload_of")
            else None)
        html = report_html(gather(session, selection, exact=bool(asked.get("exact")),
                                  compare=bool(asked.get("compare"))))
        stamp = stamp_text(payload["reader_name"])
    pages = batches.execute(
        session, batch.id, [html], stamp,
        progress=lambda done: ctx.progress(done, 1, commit=True),
        parallel=bool(config.get("PRINT_IN_WORKER_PROCESSES", True)),
        timeout=config.get("PRINT_RENDER_TIMEOUT_SECONDS"))
    return {"documents": 1, "pages": pages}


def end(session: Session, info: ItemInfo) -> None:
    """The item ended without its PDF: the report failed or was cancelled."""
    batch = session.get(PrintBatch, info.payload["batch_id"])
    if batch is None or batch.status != BatchStatus.RUNNING:
        return
    batch.status = (BatchStatus.CANCELLED if info.status == WorkStatus.CANCELLED
                    else BatchStatus.FAILED)
    batch.error, batch.finished_at = (info.error or "")[:500] or None, utcnow()
    session.flush()


def register(registry: Registry) -> None:
    registry.register(Kind(WORK_KIND, run, on_end=end))
