"""The optional second factor at sign-in: a TOTP code (RFC 6238, an authenticator app) or one
of the account's one-time recovery codes. Required of administrators when
`TOTP_REQUIRED_FOR_ADMINS` is set."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pyotp
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.audit import services as audit
from coordinator.audit.models import AuditAction
from coordinator.auth.models import RecoveryCode, User
from coordinator.auth.roles import Role
from coordinator.core.context import Actor
from coordinator.core.errors import ValidationError
from coordinator.core.time import utcnow

RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
STEP_SECONDS = 30
VALID_WINDOW = 1  # the code of the step before or after is taken too (clocks drift)


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str, issuer: str) -> str:
    """The otpauth:// address an authenticator app reads (typed or scanned)."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def required_for(user: User, admins_required: bool) -> bool:
    return admins_required and user.role == Role.ADMIN


def _digest(code: str) -> str:
    return hashlib.sha256(_normal(code).encode()).hexdigest()


def _normal(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _new_recovery_codes(session: Session, user: User) -> list[str]:
    for old in list(user.recovery_codes):
        session.delete(old)
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    user.recovery_codes = [RecoveryCode(code_hash=_digest(code)) for code in codes]
    return codes


def _accepted_step(secret: str, code: str, last_step: int | None, now: float) -> int | None:
    """The time step whose code this is, within the window, and newer than the last accepted
    one (a code seen once is refused: replay); else None."""
    code = _normal(code)
    if not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    current = int(now // STEP_SECONDS)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step if last_step is None or step > last_step else None
    return None


def enable(session: Session, user: User, secret: str, code: str, actor: Actor,
           now: float | None = None) -> list[str]:
    """Enrol: the code shown by the app proves it holds the secret. Returns the recovery codes,
    shown once (only their digests are kept)."""
    step = _accepted_step(secret, code, None, time.time() if now is None else now)
    if step is None:
        raise ValidationError({"code": [_l("This code is not the one your app shows now. "
                                          "Check the phone's time and type the new code.")]})
    user.totp_secret = secret
    user.totp_last_step = step
    codes = _new_recovery_codes(session, user)
    audit.record(session, actor, AuditAction.UPDATE, "user", user.id,
                 summary="second factor enabled")
    return codes


def disable(session: Session, user: User, actor: Actor, admins_required: bool) -> None:
    """Remove the second factor (the view has checked the password)."""
    if required_for(user, admins_required):
        raise ValidationError({"password": [_l("Administrators must keep a second factor.")]})
    user.totp_secret = None
    user.totp_last_step = None
    for old in list(user.recovery_codes):
        session.delete(old)
    audit.record(session, actor, AuditAction.UPDATE, "user", user.id,
                 summary="second factor disabled")


def reset(session: Session, user: User, actor: Actor) -> None:
    """An administrator removes another account's second factor (a lost phone and lost codes):
    its sessions end; it enrols again (required of administrators when so configured). Nobody
    resets their own: that would bypass the second factor with the password alone."""
    if actor.user_id == user.id:
        raise ValidationError({"user": [_l("Another administrator must reset your two-step "
                                           "sign-in.")]})
    user.totp_secret = None
    user.totp_last_step = None
    user.session_version += 1
    for old in list(user.recovery_codes):
        session.delete(old)
    audit.record(session, actor, AuditAction.UPDATE, "user", user.id,
                 summary="second factor reset by an administrator")


def regenerate_recovery_codes(session: Session, user: User, actor: Actor) -> list[str]:
    codes = _new_recovery_codes(session, user)
    audit.record(session, actor, AuditAction.UPDATE, "user", user.id,
                 summary="recovery codes replaced")
    return codes


def remaining_recovery_codes(user: User) -> int:
    return sum(1 for code in user.recovery_codes if code.used_at is None)


def verify(session: Session, user: User, code: str, ip_address: str | None,
           now: float | None = None) -> bool:
    """The second factor at sign-in: a TOTP code not used before, or an unspent recovery code
    (then spent). A failure is audited."""
    assert user.totp_secret is not None
    step = _accepted_step(user.totp_secret, code, user.totp_last_step,
                          time.time() if now is None else now)
    if step is not None:
        user.totp_last_step = step
        return True
    spare = session.scalar(select(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _digest(code),
        RecoveryCode.used_at.is_(None)))
    if spare is not None:
        spare.used_at = utcnow()
        audit.record(session, Actor.for_user(user, ip_address), AuditAction.UPDATE, "user",
                     user.id, summary="recovery code used")
        return True
    audit.record(session, Actor.for_user(user, ip_address), AuditAction.LOGIN_FAILED, "user",
                 user.id, summary="wrong second factor")
    return False
