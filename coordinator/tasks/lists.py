"""Who sees which tasks, in what order: the case manager's worklist, the task list, the API.

Each list is one query that loads what its page or schema shows (the patient, the stay for its
LACE score, the resolving contact); counts are counted in SQL (`core.pagination`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.orm import contains_eager, joinedload

from coordinator.auth.models import User
from coordinator.patients.models import Patient
from coordinator.permissions import task_scope
from coordinator.stays.models import Stay
from coordinator.tasks.models import Task, TaskKind, TaskStatus


def overdue(today: date) -> ColumnElement[bool]:
    """An open task past its due date (due today is not overdue yet)."""
    return (Task.status == TaskStatus.OPEN) & (Task.due_on < today)


def _visible(user: User) -> Select:
    return (select(Task).join(Patient, Patient.id == Task.patient_id)
            .outerjoin(Stay, Stay.id == Task.stay_id)
            .options(contains_eager(Task.patient), contains_eager(Task.stay),
                     joinedload(Task.assignee), joinedload(Task.contact))
            .where(task_scope(user)))


def worklist(user: User, today: date) -> Select:
    """The open tasks assigned to `user`: the overdue ones first, the most at risk of
    readmission (highest LACE) first among them; then the others by due date."""
    is_overdue = case((Task.due_on < today, 1), else_=0)
    risk = case((Task.due_on < today, func.coalesce(Stay.lace_score, -1)), else_=-1)
    return (_visible(user)
            .where(Task.assignee_id == user.id, Task.status == TaskStatus.OPEN)
            .order_by(is_overdue.desc(), risk.desc(), Task.due_on, Task.id))


@dataclass(frozen=True)
class TaskFilter:
    status: str | None = None
    assignee_id: int | None = None
    patient_id: int | None = None
    kind: str | None = None
    overdue: bool | None = None


def list_query(user: User, filters: TaskFilter, today: date) -> Select:
    """The tasks `user` may see, filtered; by due date (the latest created first on a tie)."""
    query = _visible(user)
    if filters.status is not None:
        query = query.where(Task.status == filters.status)
    if filters.assignee_id is not None:
        query = query.where(Task.assignee_id == filters.assignee_id)
    if filters.patient_id is not None:
        query = query.where(Task.patient_id == filters.patient_id)
    if filters.kind is not None:
        query = query.where(Task.kind == TaskKind(filters.kind))
    if filters.overdue is True:
        query = query.where(overdue(today))
    elif filters.overdue is False:
        query = query.where(~overdue(today))
    return query.order_by(Task.due_on, Task.id.desc())
