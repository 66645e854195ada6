"""/api/v1/tasks: the tasks of the case managers (the transition-of-care protocol first).

Tasks are created and resolved by the protocol (a discharge, a contact, an attended
appointment); a person closes one by hand with `PATCH /api/v1/tasks/<id>` and the ETag in
If-Match.
"""

from __future__ import annotations

from flask.views import MethodView
from flask_login import current_user

from coordinator.api.common import (
    ETAG_HEADER,
    ApiBlueprint,
    ErrorsSchema,
    PageArgsSchema,
    conditional,
    expected_version,
    list_page,
    page_schema,
    service_errors,
    tagged,
)
from coordinator.core.time import local_today
from coordinator.core.viewhelpers import current_actor
from coordinator.extensions import db
from coordinator.permissions import (
    TASK_STAFF,
    abort_if_hidden,
    can_change_task,
    can_view_task,
    require,
)
from coordinator.tasks import lists, services
from coordinator.tasks.models import Task
from coordinator.tasks.schemas import TaskCloseSchema, TaskListArgsSchema, TaskSchema

blp = ApiBlueprint(
    "api_tasks", __name__, url_prefix="/api/v1/tasks",
    description="Tasks of the case managers. At each discharge to a place of living of a "
                "patient with a case manager, the transition-of-care protocol creates two: a "
                "contact within 2 working days (French public holidays excluded) and a "
                "follow-up visit within 7 days when the stay's LACE score is 10 or more, else "
                "14 days. A contact task is done when any contact is recorded (its outcome is "
                "kept), a visit task when an appointment from the discharge day on is marked "
                "attended; a readmission, a death or a cancelled discharge closes them. Case "
                "managers see the tasks of the patients of their territory, administrators all "
                "of them; GPs, councils and integration accounts none (403 on the list, 404 on "
                "a task). Reads and changes are audited.")

NOT_FOUND = "No such task, or the caller may not open its patient."

TaskPageSchema = page_schema(TaskSchema, "TaskPage")


class TaskListQuerySchema(PageArgsSchema, TaskListArgsSchema):
    pass


def _visible(task_id: int) -> Task:
    task = db.session.get(Task, task_id)
    abort_if_hidden(can_view_task(current_user, task))
    assert task is not None
    return task


@blp.route("")
class Tasks(MethodView):

    @require(TASK_STAFF)
    @blp.arguments(TaskListQuerySchema, location="query")
    @blp.response(200, TaskPageSchema)
    @blp.alt_response(422, schema=ErrorsSchema, description="Invalid filter or page.")
    def get(self, args):
        """List the tasks the caller may see (audited)

        By due date. Filters: `status`, `kind`, `assignee` (a user id), `patient`, `overdue`
        (open and past the due date).
        """
        filters = lists.TaskFilter(status=args.get("status"), kind=args.get("kind"),
                                   assignee_id=args.get("assignee"),
                                   patient_id=args.get("patient"), overdue=args.get("overdue"))
        page = list_page(lists.list_query(current_user, filters, local_today()), args)
        criteria = {name: args[name] for name in ("status", "kind", "assignee", "patient",
                                                  "overdue") if args.get(name) is not None}
        services.read_tasks(db.session, current_actor(), "task_search", page.total,
                            details={"criteria": criteria},
                            patients=[task.patient_id for task in page.items])
        db.session.commit()
        return page


@blp.route("/<int:task_id>")
class TaskItem(MethodView):

    @require(TASK_STAFF)
    @blp.response(200, TaskSchema, headers={"ETag": ETAG_HEADER})
    @blp.alt_response(404, schema=ErrorsSchema, description=NOT_FOUND)
    def get(self, task_id):
        """Read a task (audited)"""
        task = _visible(task_id)
        services.read_task(db.session, current_actor(), task)
        db.session.commit()
        return tagged(task)

    @require(TASK_STAFF)
    @conditional(blp)
    @blp.arguments(TaskCloseSchema)
    @blp.response(200, TaskSchema, headers={"ETag": ETAG_HEADER})
    @blp.alt_response(404, schema=ErrorsSchema, description=NOT_FOUND)
    @blp.alt_response(422, schema=ErrorsSchema,
                      description="Invalid data, or the task is closed already: nothing was "
                                  "written.")
    def patch(self, data, task_id):
        """Close a task by hand

        `status` done (dealt with another way) or cancelled (no longer needed), with a `note`
        saying why; an open task only. Send the ETag read in If-Match.
        """
        task = _visible(task_id)
        abort_if_hidden(can_change_task(current_user, task))
        with service_errors(task):
            services.close_task(db.session, current_actor(), task, data["status"],
                                data["note"], expected_version(task))
            db.session.commit()
        return tagged(task)
