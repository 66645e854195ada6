"""/api/v1/programs: the programs with their strata, read by every signed-in user."""

from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from coordinator.api.common import (
    ApiBlueprint,
    ErrorsSchema,
    PageArgsSchema,
    list_page,
    not_found,
    page_schema,
)
from coordinator.extensions import db
from coordinator.permissions import AUTHENTICATED, require
from coordinator.strata.models import Program, Stratum
from coordinator.strata.schemas import ProgramSchema

blp = ApiBlueprint(
    "api_programs", __name__, url_prefix="/api/v1/programs",
    description="Programs with their strata, follow-up templates and indicators (read only "
                "here; administrators edit them in the application).")

ProgramPageSchema = page_schema(ProgramSchema, "ProgramPage")


def _programs():
    """Programs by code, their strata, templates and indicators loaded in a few queries."""
    return (select(Program)
            .options(selectinload(Program.strata).selectinload(Stratum.followup_items),
                     selectinload(Program.strata).selectinload(Stratum.goals),
                     selectinload(Program.indicators))
            .order_by(Program.code))


def _one(condition) -> Program:
    program = db.session.scalar(_programs().where(condition))
    if program is None:
        not_found()
    return program


@blp.route("")
class Programs(MethodView):

    @require(AUTHENTICATED)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, ProgramPageSchema)
    @blp.alt_response(422, schema=ErrorsSchema, description="Invalid page.")
    def get(self, args):
        """List the programs with their strata"""
        return list_page(_programs(), args)


@blp.route("/<int:program_id>")
class ProgramById(MethodView):

    @require(AUTHENTICATED)
    @blp.response(200, ProgramSchema)
    @blp.alt_response(404, schema=ErrorsSchema, description="No such program.")
    def get(self, program_id):
        """Read a program by id"""
        return _one(Program.id == program_id)


@blp.route("/<code>")
class ProgramByCode(MethodView):

    @require(AUTHENTICATED)
    @blp.response(200, ProgramSchema)
    @blp.alt_response(404, schema=ErrorsSchema, description="No such program.")
    def get(self, code):
        """Read a program by code (e.g. HF)"""
        return _one(Program.code == code)
