"""Who may use what: every rule of access lives in this module.

Each view declares a policy with `@require(POLICY)`; a test walks the URL map and fails on a view
without one. Record-level checks (`can_view_patient`, ...) are predicates used by views, the API
and templates alike. A forbidden page answers 403; a forbidden patient record answers 404 so that
its existence does not leak (see `abort_if_hidden`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps

from flask import abort, current_app
from flask_login import current_user

from coordinator.auth.roles import Role


@dataclass(frozen=True)
class Policy:
    """A named rule on the current user. `login=False` marks a public route."""

    name: str
    allows: Callable[[object], bool] = field(compare=False)
    login: bool = True

    def permits(self, user) -> bool:
        if not self.login:
            return True
        return bool(user and user.is_authenticated and self.allows(user))


def roles(*allowed: Role) -> Policy:
    names = {role.value for role in allowed}
    return Policy("role:" + ",".join(sorted(names)), lambda user: user.role in names)


PUBLIC = Policy("public", lambda user: True, login=False)
AUTHENTICATED = Policy("authenticated", lambda user: True)
ADMIN = roles(Role.ADMIN)
CASE_MANAGER = roles(Role.CASE_MANAGER)
PATIENT_STAFF = roles(Role.CASE_MANAGER, Role.ADMIN)  # may list and open patient records
AUDIT_READER = ADMIN
PROGRAM_EDITOR = roles(Role.ADMIN, Role.COUNCIL)
IMPORTER = roles(Role.ADMIN, Role.CASE_MANAGER)  # CSV imports (case managers: own territory)
# Care plans: case managers write them; administrators, GPs and care-team professionals read
# (each record then checked by `can_read_plan`); councils read aggregates only.
PLAN_READER = roles(Role.CASE_MANAGER, Role.ADMIN, Role.GP, Role.PROFESSIONAL)
PLAN_EDITOR = CASE_MANAGER
SHARED_PLAN_READER = roles(Role.GP, Role.PROFESSIONAL)


def require(policy: Policy):
    """Declare the policy of a view and enforce it: 401/login when anonymous, 403 when refused."""

    def decorator(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            if policy.login and not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if not policy.permits(current_user):
                abort(403)
            return view(*args, **kwargs)

        guarded.policy = policy
        return guarded

    return decorator


def declare(app, endpoint: str, policy: Policy) -> None:
    """Attach a policy to a view registered by a third-party extension."""
    app.view_functions[endpoint] = require(policy)(app.view_functions[endpoint])


def policy_of(view) -> Policy | None:
    """The policy a view declared (for function views and MethodViews alike)."""
    policy = getattr(view, "policy", None)
    if policy is not None:
        return policy
    view_class = getattr(view, "view_class", None)
    if view_class is None:
        return None
    methods = [getattr(view_class, m.lower(), None) for m in (view_class.methods or ())]
    policies = {getattr(m, "policy", None) for m in methods if m is not None}
    if not policies or None in policies:
        return None
    return next(iter(policies)) if len(policies) == 1 else Policy("per-method", lambda u: True)


def can_view_patient(user, patient) -> bool:
    """Administrators see every patient; case managers the patients of their territory.

    GPs and councils do not open registry records (GPs read shared care plans; councils read
    aggregates). A merged-away record is seen through the record it was merged into.
    """
    if not user.is_authenticated or patient is None or patient.merged_into_id is not None:
        return False
    if user.role == Role.ADMIN:
        return True
    return user.role == Role.CASE_MANAGER and patient.territory_id == user.territory_id


def patient_scope(user):
    """The SQL condition selecting the patients `user` may list (same rule as above)."""
    from sqlalchemy import false, true

    from coordinator.patients.models import Patient

    live = Patient.merged_into_id.is_(None)
    if user.role == Role.ADMIN:
        return live & true()
    if user.role == Role.CASE_MANAGER and user.territory_id is not None:
        return live & (Patient.territory_id == user.territory_id)
    return false()


def can_read_plan(user, plan) -> bool:
    """Staff read the plans of the patients they may open. A GP reads the active plan of a
    patient whose GP they are now, and a care-team professional the active plans whose care
    team includes them; only while the plan says the patient agreed to share it and the
    patient's consent to share stands."""
    if not user.is_authenticated or plan is None:
        return False
    if user.role in (Role.ADMIN, Role.CASE_MANAGER):
        return can_view_patient(user, plan.patient)
    if user.role not in (Role.GP, Role.PROFESSIONAL) or user.provider_id is None:
        return False
    patient = plan.patient
    if plan.status != "active" or not plan.sharing_agreed or not patient.consent_share or \
            patient.merged_into_id:
        return False
    if user.role == Role.GP:
        return patient.gp_id == user.provider_id
    return any(member.provider_id == user.provider_id for member in plan.team)


def can_edit_plan(user, plan) -> bool:
    """Case managers change the plans of the patients of their territory."""
    return user.is_authenticated and user.role == Role.CASE_MANAGER and \
        can_view_patient(user, plan.patient)


def shared_plan_scope(user):
    """The SQL condition selecting the plans a GP or care-team professional may read (the
    rule of `can_read_plan`)."""
    from sqlalchemy import false, select

    from coordinator.careplans.models import CarePlan, CarePlanMember
    from coordinator.patients.models import Patient

    if user.role not in (Role.GP, Role.PROFESSIONAL) or user.provider_id is None:
        return false()
    in_team = CarePlan.id.in_(select(CarePlanMember.plan_id)
                              .where(CarePlanMember.provider_id == user.provider_id))
    mine = (Patient.gp_id == user.provider_id) if user.role == Role.GP else in_team
    return (CarePlan.status == "active") & CarePlan.sharing_agreed.is_(True) & \
        Patient.consent_share.is_(True) & Patient.merged_into_id.is_(None) & mine


def can_edit_provider(user, provider=None) -> bool:
    """Administrators edit every provider, case managers those of their territory (and add
    providers there)."""
    if not user.is_authenticated:
        return False
    if user.role == Role.ADMIN:
        return True
    return user.role == Role.CASE_MANAGER and (
        provider is None or provider.territory_id == user.territory_id)


def can(policy: Policy, user=None) -> bool:
    """For templates: may the (current) user use what this policy guards?"""
    return policy.permits(user if user is not None else current_user)


def abort_if_hidden(visible: bool) -> None:
    """A record the user may not see answers 404, never 403: its existence must not leak."""
    if not visible:
        abort(404)
