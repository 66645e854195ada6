"""The printed shared plan summary: one template for the HTML preview and the PDF, a PDF
rendered once per content and language (cache), stamped per print with its date and reader,
each print audited; batch printing of many plans into one PDF."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator import permissions
from coordinator.audit import services as audit
from coordinator.audit.models import AuditAction
from coordinator.auth.models import User
from coordinator.careplans import lists
from coordinator.careplans.models import CarePlan, PlanStatus
from coordinator.careplans.services import upcoming_appointments
from coordinator.core.context import Actor
from coordinator.core.dates import format_datetime
from coordinator.core.time import utcnow
from coordinator.printing import batch as batches
from coordinator.printing import pdf as pdfs
from coordinator.printing import services as printing
from coordinator.printing.models import BatchStatus, PrintBatch, PrintKind
from coordinator.work import queue as work

UPCOMING_DAYS = 90
BATCH_KIND = "print_batch"  # its handler: careplans/work.py


@dataclass(frozen=True)
class PrintedPlan:
    pdf: bytes
    pages: int
    cached: bool
    filename: str


def stamp_text(actor_name: str) -> str:
    """What every printed page says at its foot: when and by whom it was printed."""
    return _("Printed on %(when)s by %(user)s", when=format_datetime(utcnow(), "short"),
             user=actor_name)


def summary_html(session: Session, plan: CarePlan, *, preview: bool = False,
                 printed_by: str = "") -> str:
    """The shared plan summary in the current language. Without `preview` the HTML holds
    nothing that changes from one print to the next, so that its PDF can be cached."""
    return render_template(
        "careplans/print.html", plan=plan, patient=plan.patient, preview=preview,
        stamp=stamp_text(printed_by) if preview else "",
        appointments=upcoming_appointments(session, plan.patient_id, utcnow(), UPCOMING_DAYS),
    )


def preview(session: Session, actor: Actor, plan: CarePlan, reader_name: str) -> str:
    """The summary as HTML, ready to print from the browser: audited as a print."""
    audit.record(session, actor, AuditAction.PRINT, "care_plan", plan.id,
                 patient_id=plan.patient_id,
                 summary=f"preview, revision {plan.version} ({get_locale()})")
    return summary_html(session, plan, preview=True, printed_by=reader_name)


def filename(plan: CarePlan) -> str:
    return f"care-plan-{plan.patient_id}-{plan.plan_number}-r{plan.version}.pdf"


def print_plan(session: Session, actor: Actor, plan: CarePlan, reader_name: str | None = None,
               *, html: str | None = None) -> PrintedPlan:
    """The PDF of the plan's summary for this reader (audited); rendered once per revision
    and language, within the request's time limit, stamped at each print. `pdf.PrintFailed`
    when it cannot be printed now (nothing written, not audited)."""
    rendered = printing.render(session, html or summary_html(session, plan),
                               current_app.config["PRINT_REQUEST_TIMEOUT_SECONDS"] or None)
    pdf = pdfs.stamp(rendered.pdf, stamp_text(reader_name or actor.label))
    audit.record(session, actor, AuditAction.PRINT, "care_plan", plan.id,
                 patient_id=plan.patient_id,
                 summary=f"revision {plan.version} ({get_locale()})",
                 details={"cached": rendered.cached, "pages": rendered.pages})
    return PrintedPlan(pdf, rendered.pages, rendered.cached, filename(plan))


def plans_to_print(session: Session, user: User, *, caseload: bool,
                   plan_ids: list[int]) -> list[CarePlan]:
    """Every active plan of the user's caseload, or the chosen plans the user may read, in
    the order chosen."""
    if caseload:
        return list(session.scalars(lists.plans_query(user, status=PlanStatus.ACTIVE, mine=True)))
    order = {plan_id: index for index, plan_id in enumerate(plan_ids)}
    plans = [plan for plan in session.scalars(select(CarePlan).where(
        CarePlan.id.in_(plan_ids or [-1]))) if permissions.can_read_plan(user, plan)]
    return sorted(plans, key=lambda plan: order[plan.id])


def start_batch(session: Session, actor: Actor, plans: list[CarePlan], reader_name: str
                ) -> PrintBatch:
    """A batch print of these plans, queued as background work in the reader's language (each
    print audited now, with the batch's number); flushed, the caller commits."""
    batch = batches.start(session, actor.user_id, len(plans))
    batch.document_ids = [plan.id for plan in plans]
    for plan in plans:
        audit.record(session, actor, AuditAction.PRINT, "care_plan", plan.id,
                     patient_id=plan.patient_id,
                     summary=f"revision {plan.version} ({get_locale()}), batch {batch.id}")
    batch.work_item_id = work.enqueue(session, BATCH_KIND, {
        "batch_id": batch.id, "plan_ids": batch.document_ids, "locale": str(get_locale()),
        "reader_name": reader_name}, created_by_id=actor.user_id, total=len(plans)).id
    session.flush()
    return batch


def print_plan_or_batch(session: Session, actor: Actor, plan: CarePlan, reader_name: str
                        ) -> PrintedPlan | PrintBatch:
    """The plan's PDF now when it is cached or small; else a batch of one, rendered in the
    background (a large plan would hold the request for many seconds)."""
    html = summary_html(session, plan)
    if printing.cached(session, printing.cache_key(html)) is None and \
            len(html.encode("utf-8")) > current_app.config["PRINT_INLINE_MAX_BYTES"]:
        return start_batch(session, actor, [plan], reader_name)
    return print_plan(session, actor, plan, reader_name, html=html)


def batch_download(session: Session, actor: Actor, batch: PrintBatch,
                   user: User) -> bytes | None:
    """The batch's PDF for its owner, within 24 hours, while they may still read every plan in
    it; each download is audited for each patient."""
    if batch.status != BatchStatus.SUCCEEDED or batch.pdf is None or \
            batch.kind != PrintKind.CARE_PLANS:
        return None
    plans = list(session.scalars(select(CarePlan).where(
        CarePlan.id.in_(batch.document_ids or []))))
    if len(plans) != len(batch.document_ids or []) or \
            not permissions.can_read_plans(user, plans):
        return None
    for plan in plans:
        audit.record(session, actor, AuditAction.EXPORT, "care_plan", plan.id,
                     patient_id=plan.patient_id, summary=f"batch {batch.id} downloaded")
    return batch.pdf


def batch_documents(session: Session, plan_ids: list[int], reader_name: str
                    ) -> tuple[list[str], str]:
    """The HTML of the batch's plans (in the current language) and the text stamped at the
    foot of every page, for the batch's handler."""
    plans = {plan.id: plan for plan in session.scalars(
        select(CarePlan).where(CarePlan.id.in_(plan_ids)))}
    htmls = [summary_html(session, plans[plan_id]) for plan_id in plan_ids if plan_id in plans]
    return htmls, stamp_text(reader_name)
