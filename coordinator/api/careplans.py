"""/api/v1/careplans: individual care plans (PPCS), written by case managers, read by the
patient's care team."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager

import marshmallow as ma
from flask import Response, request, url_for
from flask.views import MethodView
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_smorest import abort
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from coordinator.api.common import (
    ETAG_HEADER,
    ApiBlueprint,
    ErrorsSchema,
    PageArgsSchema,
    conditional,
    etag,
    expected_version,
    list_page,
    page_schema,
    precondition_failed,
    service_errors,
)
from coordinator.audit import services as audit
from coordinator.audit.models import AuditAction
from coordinator.auth.models import User
from coordinator.careplans import documents, printing, services
from coordinator.careplans.models import (
    PLAN_STATUSES,
    CarePlan,
    CarePlanAction,
    CarePlanGoal,
    CarePlanMember,
    CarePlanRevision,
)
from coordinator.careplans.schemas import (
    CarePlanCreateSchema,
    CarePlanRevisionSchema,
    CarePlanSchema,
    CarePlanUpdateSchema,
    PrintBatchSchema,
    PrintedPlanSchema,
)
from coordinator.core import fields
from coordinator.core.errors import ValidationError
from coordinator.core.viewhelpers import current_actor
from coordinator.extensions import db
from coordinator.patients.models import Patient
from coordinator.permissions import (
    PLAN_EDITOR,
    PLAN_READER,
    abort_if_hidden,
    can_edit_plan,
    can_read_plan,
    can_read_plan_history,
    can_see_print_batch,
    can_start_plan,
    readable_plan_scope,
    require,
)
from coordinator.printing.models import BatchStatus, PrintBatch, PrintKind
from coordinator.printing.pdf import PrintFailed
from coordinator.work import queue as work

blp = ApiBlueprint(
    "api_careplans", __name__, url_prefix="/api/v1/careplans",
    description="Individual care plans (PPCS). Case managers write the plans of the patients of "
                "their territory; administrators read every plan; a GP reads the active plan "
                "of their patients, and a care-team professional the active plans whose team "
                "includes them, while the patient consents to sharing. Councils read "
                "aggregates only (403). A plan the caller may not read answers 404. Every "
                "answer carrying a plan carries its ETag: send it back in If-Match to change "
                "the plan. Reads, searches, prints and changes are audited.")

# The services name some fields after the model; the API after its JSON fields.
RENAMES = {"patient": "patient_id"}
NOT_FOUND = "No such plan, or the caller may not read it."

CarePlanPageSchema = page_schema(CarePlanSchema, "CarePlanPage")
CarePlanRevisionPageSchema = page_schema(CarePlanRevisionSchema, "CarePlanRevisionPage")
PDF_CONTENT = {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}


class CarePlanListArgsSchema(PageArgsSchema):
    patient = fields.Id(metadata={"description": "Patient id."})
    status = ma.fields.String(
        validate=ma.validate.OneOf(PLAN_STATUSES, error=_l("Choose a known status.")),
        metadata={"enum": list(PLAN_STATUSES)})


# -- Access ------------------------------------------------------------------------------------

def _readable(plan_id: int) -> CarePlan:
    """The plan, if the caller may read it (`can_read_plan`); 404 otherwise."""
    plan = db.session.get(CarePlan, plan_id, options=documents.WHOLE_PLAN)
    abort_if_hidden(plan is not None and can_read_plan(current_user, plan))
    return plan


def _history_readable(plan_id: int) -> CarePlan:
    """The plan, if the caller may read its history: staff only (404 for the care team)."""
    plan = db.session.get(CarePlan, plan_id)
    abort_if_hidden(can_read_plan_history(current_user, plan))
    return plan


def _editable(plan_id: int) -> CarePlan:
    """The plan, if the caller may change it (`can_edit_plan`); 404 otherwise."""
    plan = db.session.get(CarePlan, plan_id, options=documents.WHOLE_PLAN)
    abort_if_hidden(plan is not None and can_edit_plan(current_user, plan))
    return plan


def _patient(patient_id: int) -> Patient:
    """The patient of a new plan, if the caller may start one for them; 404 otherwise."""
    patient = db.session.get(Patient, patient_id)
    abort_if_hidden(can_start_plan(current_user, patient))
    return patient


# -- Lists -------------------------------------------------------------------------------------

def list_query(user: User, args: dict) -> Select:
    """The plans `user` may read, newest first: staff those of the patients they may open,
    GPs and care-team professionals the shared ones; filtered by patient and status. Goals,
    actions, team and assessments are loaded with the providers they name, a query per kind."""
    query = (select(CarePlan).join(Patient, CarePlan.patient_id == Patient.id)
             .where(readable_plan_scope(user))
             .options(selectinload(CarePlan.goals).selectinload(CarePlanGoal.actions)
                      .selectinload(CarePlanAction.provider),
                      selectinload(CarePlan.team).selectinload(CarePlanMember.provider),
                      selectinload(CarePlan.assessments)))
    if args.get("patient") is not None:
        query = query.where(CarePlan.patient_id == args["patient"])
    if args.get("status"):
        query = query.where(CarePlan.status == args["status"])
    return query.order_by(CarePlan.created_at.desc(), CarePlan.id.desc())


def _audit_search(args: dict, total: int, plans: list[CarePlan]) -> None:
    """A list returns whole plans: one read per plan returned, and the search with its
    criteria and result count."""
    criteria = {name: args[name] for name in ("patient", "status") if args.get(name) is not None}
    audit.record(db.session, current_actor(), AuditAction.READ, "care_plan_search",
                 patient_id=args.get("patient"), summary=f"{total} result(s)",
                 details={"criteria": criteria, "plans": [plan.id for plan in plans]})
    services.read_plans(db.session, current_actor(), plans)


# -- Answers and errors ------------------------------------------------------------------------

def plan_body(plan: CarePlan, comments: list | None = None) -> dict:
    """The plan's document and its comments, as `CarePlanSchema` dumps them."""
    if comments is None:
        comments = services.comments(db.session, plan)
    return {**documents.document(db.session, plan), "comments": comments}


def plan_bodies(plans: list[CarePlan]) -> list[dict]:
    """The bodies of a list of plans, their comments read in one query."""
    comments = services.comments_of(db.session, [plan.id for plan in plans])
    return [plan_body(plan, comments[plan.id]) for plan in plans]


def _answer(plan: CarePlan, status: int = 200, headers: dict | None = None):
    """A view's answer for one plan, carrying its ETag."""
    return plan_body(plan), status, {"ETag": etag(plan), **(headers or {})}


def api_field(key: str) -> str:
    """A service's error key as the API's field name: rows are numbered with dots
    (`goals-0-actions-1-provider_id` → `goals.0.actions.1.provider_id`)."""
    return RENAMES.get(key, key.replace("-", "."))


@contextmanager
def api_field_names() -> Iterator[None]:
    """Re-raise a service's ValidationError with the API's field names."""
    try:
        yield
    except ValidationError as error:
        raise ValidationError({api_field(key): messages
                               for key, messages in error.errors.items()}) from error


PRINT_QUEUED = ("The plan is too large to print within a request: it is being rendered in the "
                "background. `Location` names the print to poll.")
# The 202 of a print: where to poll it (Location), and the same as links to follow.
PRINT_QUEUED_DOC = {
    "headers": {"Location": {"description": "The print to poll.", "schema": {"type": "string"}}},
    "links": {
        "progress": {"operationRef": "#/paths/~1api~1v1~1careplans~1prints~1{batch_id}/get",
                     "parameters": {"path.batch_id": "$response.body#/id"},
                     "description": "Poll the print."},
        "pdf": {"operationRef": "#/paths/~1api~1v1~1careplans~1prints~1{batch_id}~1pdf/get",
                "parameters": {"path.batch_id": "$response.body#/id"},
                "description": "Download its PDF once it has succeeded (409 before)."},
    },
}
BATCH_NOT_FOUND = "No such print, or it is not the caller's."
PRINT_NOT_READY = "The print has not succeeded (still running, failed, cancelled or expired)."
PRINT_FAILED = ("The plan could not be printed now: its rendering took longer than the time "
                "limit, failed, or could not be stored (a full disk). Nothing was written; "
                "`Retry-After` says when to try again, when that may help.")


@contextmanager
def print_failures() -> Iterator[None]:
    """A print that failed answers 503 with its reason (`pdf.PrintFailed`)."""
    try:
        yield
    except PrintFailed as error:
        db.session.rollback()
        headers = {"Retry-After": str(error.retry_after)} if error.retry_after else {}
        abort(503, messages={"_request": [error.user_message()]}, headers=headers)


def _pdf_response(pdf: bytes, filename: str) -> Response:
    """The PDF as a download, kept out of shared caches (it holds patient data)."""
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _wants_json() -> bool:
    """The client prefers JSON to a PDF (Accept: application/json)."""
    return request.accept_mimetypes.best_match(
        ["application/pdf", "application/json"]) == "application/json"


# -- Resources ---------------------------------------------------------------------------------

@blp.route("")
class CarePlans(MethodView):

    @require(PLAN_READER)
    @blp.arguments(CarePlanListArgsSchema, location="query")
    @blp.response(200, CarePlanPageSchema)
    @blp.alt_response(422, schema=ErrorsSchema, description="Invalid filter or page.")
    def get(self, args):
        """List the plans the caller may read (audited)

        Newest first. Case managers see the plans of their territory's patients, administrators
        all plans, GPs and care-team professionals the active plans shared with them.
        """
        page = list_page(list_query(current_user, args), args)
        _audit_search(args, page.total, page.items)
        page.items = plan_bodies(page.items)
        db.session.commit()
        return page

    @require(PLAN_EDITOR)
    @blp.arguments(CarePlanCreateSchema)
    @blp.response(201, CarePlanSchema, headers={"ETag": ETAG_HEADER})
    @blp.alt_response(404, schema=ErrorsSchema,
                      description="No such patient, or the caller may not open it.")
    @blp.alt_response(422, schema=ErrorsSchema, description="Invalid data: nothing was written.")
    def post(self, data):
        """Start a draft plan

        Case managers start plans for the patients of their territory, one draft at a time per
        patient. Errors of goals and actions are named by row: `goals.0.actions.1.provider_id`.
        """
        patient = _patient(data.pop("patient_id"))
        with service_errors(renames=RENAMES), api_field_names():
            plan = services.create_plan(db.session, current_actor(), patient, data)
            db.session.commit()
        return _answer(plan, 201, {"Location": url_for(".CarePlanItem", plan_id=plan.id)})


@blp.route("/<int:plan_id>")
class CarePlanItem(MethodView):

    @require(PLAN_READER)
    @blp.response(200, CarePlanSchema, headers={"ETag": ETAG_HEADER})
    @blp.alt_response(404, schema=ErrorsSchema, description=NOT_FOUND)
    def get(self, plan_id):
        """Read a plan (audited)"""
        plan = _readable(plan_id)
        services.read_plan(db.session, current_actor(), plan)
        db.session.commit()
        return _answer(plan)

    @require(PLAN_EDITOR)
    @conditional(blp)
    @blp.arguments(CarePlanUpdateSchema)
    @blp.response(200, CarePlanSchema, headers={"ETag": ETAG_HEADER})
    @blp.alt_response(404, schema=ErrorsSchema,
                      description="No such plan, or the caller may not change it.")
    @blp.alt_response(422, schema=ErrorsSchema, description="Invalid data: nothing was written.")
    def patch(self, data, plan_id):
        """Change a plan, activate or close it

        Only the fields sent change; goals and team sent replace the lists (rows with an `id`
        keep that goal or action). `status: active` activates a draft once the patient's
        agreement is recorded; `status: closed` closes the plan with a `close_reason`. Send the
        ETag read in If-Match. Every change is kept as a revision.
        """
        plan = _editable(plan_id)
        version = expected_version(plan)
        if version != plan.version:
            precondition_failed(plan)
        status, reason = data.pop("status", None), data.pop("close_reason", None)
        with service_errors(plan, RENAMES), api_field_names():
            if data:
                services.save_plan(db.session, current_actor(), plan, data, version)
            services.change_status(db.session, current_actor(), plan, status, reason)
            db.session.commit()
        return _answer(plan)


@blp.route("/<int:plan_id>/revisions")
class CarePlanRevisions(MethodView):

    @require(PLAN_READER)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, CarePlanRevisionPageSchema)
    @blp.alt_response(404, schema=ErrorsSchema,
                      description="No such plan, or the caller may not read its history "
                                  "(GPs and care-team professionals).")
    def get(self, args, plan_id):
        """List a plan's revisions (audited)

        Newest first. The history stays with the case managers and administrators.
        """
        plan = _history_readable(plan_id)
        query = select(CarePlanRevision).where(CarePlanRevision.plan_id == plan.id) \
            .order_by(CarePlanRevision.number.desc())
        page = list_page(query, args)
        audit.record(db.session, current_actor(), AuditAction.READ, "care_plan", plan.id,
                     patient_id=plan.patient_id, summary="revisions")
        db.session.commit()
        return page


@blp.route("/<int:plan_id>/pdf")
class CarePlanPdf(MethodView):

    @require(PLAN_READER)
    @blp.response(200, PrintedPlanSchema,
                  description="The PDF, as an attachment; in JSON (base64) when the client "
                              "asks for application/json.")
    @blp.doc(responses={200: {"content": PDF_CONTENT}, 202: PRINT_QUEUED_DOC})
    @blp.alt_response(404, schema=ErrorsSchema, description=NOT_FOUND)
    @blp.alt_response(202, schema=PrintBatchSchema, description=PRINT_QUEUED)
    @blp.alt_response(503, schema=ErrorsSchema, description=PRINT_FAILED)
    def get(self, plan_id):
        """Print a plan (audited)

        Answers `application/pdf` unless the Accept header prefers `application/json`. The
        PDF is rendered within a time limit (`COORDINATOR_PRINT_REQUEST_TIMEOUT_SECONDS`, 20 s
        by default): a plan that takes longer answers 503, as does a rendering that fails or a
        PDF that cannot be stored; nothing is written then, and the next print starts afresh.
        A plan too large to render within a request (over `COORDINATOR_PRINT_INLINE_MAX_BYTES`
        of HTML, and not printed before) answers 202: it is rendered by the background workers;
        poll the print at `Location`, then download its PDF.
        """
        plan = _readable(plan_id)
        with service_errors(plan, RENAMES), api_field_names(), print_failures():
            printed = printing.print_plan_or_batch(db.session, current_actor(), plan,
                                                   current_user.full_name)
            db.session.commit()
        if isinstance(printed, PrintBatch):
            location = url_for("api_careplans.PrintBatchResource", batch_id=printed.id)
            return Response(PrintBatchSchema().dumps(_batch_state(printed)), status=202,
                            mimetype="application/json", headers={"Location": location})
        if _wants_json():
            return {"filename": printed.filename, "content_type": "application/pdf",
                    "data": base64.b64encode(printed.pdf).decode("ascii")}
        return _pdf_response(printed.pdf, printed.filename)


# -- Background prints -------------------------------------------------------------------------

def _own_batch(batch_id: int) -> PrintBatch:
    """A print of the caller's (`can_see_print_batch`); 404 otherwise."""
    batch = db.session.get(PrintBatch, batch_id)
    abort_if_hidden(batch is not None and batch.kind == PrintKind.CARE_PLANS
                    and can_see_print_batch(current_user, batch))
    return batch


def _batch_state(batch: PrintBatch) -> dict:
    progress = work.state(db.session, batch.work_item_id)
    return {"id": batch.id, "status": batch.status.value, "total": batch.total,
            "done": progress.done if progress else
            (batch.total if batch.status == BatchStatus.SUCCEEDED else 0),
            "pages": batch.pages, "error": batch.error, "created_at": batch.created_at,
            "finished_at": batch.finished_at,
            "pdf_url": url_for("api_careplans.PrintBatchPdf", batch_id=batch.id)
            if batch.status == BatchStatus.SUCCEEDED else None}


@blp.route("/prints/<int:batch_id>")
class PrintBatchResource(MethodView):

    @require(PLAN_READER)
    @blp.response(200, PrintBatchSchema)
    @blp.alt_response(404, schema=ErrorsSchema, description=BATCH_NOT_FOUND)
    def get(self, batch_id):
        """A background print: its progress and, once it has succeeded, where its PDF is"""
        return _batch_state(_own_batch(batch_id))


@blp.route("/prints/<int:batch_id>/pdf")
class PrintBatchPdf(MethodView):

    @require(PLAN_READER)
    @blp.response(200, PrintedPlanSchema,
                  description="The PDF, as an attachment; in JSON (base64) when the client "
                              "asks for application/json.")
    @blp.doc(responses={200: {"content": PDF_CONTENT}})
    @blp.alt_response(404, schema=ErrorsSchema, description=BATCH_NOT_FOUND)
    @blp.alt_response(409, schema=ErrorsSchema, description=PRINT_NOT_READY)
    def get(self, batch_id):
        """Download a background print's PDF (audited for each patient)"""
        batch = _own_batch(batch_id)
        if batch.status != BatchStatus.SUCCEEDED:
            abort(409, messages={"_request": [str(_l(
                "The print has not succeeded: its status is %(status)s.",
                status=batch.status.value))]})
        pdf = printing.batch_download(db.session, current_actor(), batch, current_user)
        if pdf is None:  # expired, or a plan in it is no longer readable
            abort(409, messages={"_request": [str(_l(
                "The print is no longer available: print the plans again."))]})
        db.session.commit()
        filename = f"print-{batch.id}.pdf"
        if _wants_json():
            return {"filename": filename, "content_type": "application/pdf",
                    "data": base64.b64encode(pdf).decode("ascii")}
        return _pdf_response(pdf, filename)
