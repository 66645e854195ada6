"""Account rules: creation, authentication, passwords, API tokens, activation."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from coordinator import permissions
from coordinator.audit import services as audit
from coordinator.audit.models import AuditAction
from coordinator.auth.models import ApiToken, User
from coordinator.auth.roles import Role
from coordinator.core.context import Actor
from coordinator.core.errors import ConflictError, ValidationError
from coordinator.core.time import utcnow
from coordinator.strata.models import Territory

MIN_PASSWORD_LENGTH = 12
# A new password's zxcvbn score (0-4: its guesses, against the lists of common passwords,
# names, words, keyboard runs, repeats, dates, and the words given as the user's): 3 is at
# least 10^8 guesses, what an offline attack on one scrypt hash does not reach.
MIN_PASSWORD_SCORE = 3
PASSWORD_SCORED_CHARS = 64  # zxcvbn's time grows fast with length; the start tells enough
# Words anybody guesses first for an account here.
APPLICATION_WORDS = ("coordinator", "coordinateur", "coordination", "parcours", "patient")
TOKEN_PREFIX = "cdt_"  # noqa: S105 - a prefix, not a secret
TOKEN_USE_RESOLUTION = timedelta(minutes=1)  # how precisely a token's last use is kept


@lru_cache(maxsize=4)
def _dummy_hash(method: str) -> str:
    """Compared against when the e-mail is unknown, made with the method of the real hashes
    (scrypt): both failures cost the same work, so the time does not tell who has an
    account."""
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalize_email(email)))


def hash_password(password: str, method: str) -> str:
    return generate_password_hash(password, method=method)


def account_words(*texts: str | None) -> list[str]:
    """The words of an account that a guesser tries first: each text whole (an e-mail, a
    name), its parts, and the application's own words."""
    words = list(APPLICATION_WORDS)
    for text in texts:
        if not text:
            continue
        lowered = text.strip().lower()
        words.append(lowered)
        if "@" in lowered:
            words.append(lowered.split("@", 1)[0])
        words.extend(part for part in re.split(r"[^\w]+", lowered) if len(part) > 2)
    return words


def check_password_strength(password: str, field: str = "password",
                            user_inputs: Iterable[str] = ()) -> None:
    """A new password: long enough, and not easy to guess (common passwords, repeats,
    keyboard runs, the words of the account or of the application), scored by zxcvbn."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            {field: [_l("At least %(n)d characters.", n=MIN_PASSWORD_LENGTH)]}
        )
    words = [*account_words(), *user_inputs]
    if zxcvbn(password[:PASSWORD_SCORED_CHARS], user_inputs=words)["score"] < MIN_PASSWORD_SCORE:
        raise ValidationError({field: [_l(
            "This password is too easy to guess: it is a common password, a repeated or "
            "keyboard pattern, or made of your name, your e-mail or the application's name. "
            "Choose a phrase of several unrelated words.")]})


def _check_account(session: Session, errors: dict[str, list], *, full_name: str, role: str,
                   territory_code: str | None, provider_id: int | None,
                   ) -> tuple[Role | None, Territory | None]:
    """The rules of an account's name, role, territory and directory record, for its creation
    and its changes alike: case managers and councils belong to a territory; only the account
    of a GP (a GP's record) or of a care-team professional (another record) is linked to the
    provider directory. Adds the messages to `errors`; returns the role and the territory."""
    if not full_name.strip():
        errors.setdefault("full_name", []).append(_l("This field is required."))
    try:
        role_enum: Role | None = Role(role)
    except ValueError:
        errors.setdefault("role", []).append(
            _l("Unknown role; use one of: %(roles)s.", roles=", ".join(r.value for r in Role))
        )
        role_enum = None
    territory = None
    if territory_code:
        territory = session.scalar(select(Territory).where(Territory.code == territory_code))
        if territory is None:
            errors.setdefault("territory", []).append(
                _l("Unknown territory %(code)s.", code=territory_code)
            )
    elif role_enum is not None and role_enum.needs_territory:
        errors.setdefault("territory", []).append(_l("This role needs a territory."))
    if provider_id is not None:
        from coordinator.providers.models import Provider

        provider = session.get(Provider, provider_id)
        if role_enum not in (Role.GP, Role.PROFESSIONAL):
            errors.setdefault("provider_id", []).append(
                _l("Only the account of a GP or of a care-team professional is linked to a "
                   "directory record."))
        elif provider is None or (provider.kind == "gp") != (role_enum == Role.GP):
            errors.setdefault("provider_id", []).append(
                _l("Choose a provider of kind GP.") if role_enum == Role.GP else
                _l("Choose a provider of the directory other than a GP."))
    return role_enum, territory


def create_user(
    session: Session,
    actor: Actor,
    *,
    email: str,
    full_name: str,
    role: str,
    password: str,
    hash_method: str,
    territory_code: str | None = None,
    provider_id: int | None = None,
) -> User:
    """Create an account; case managers and councils belong to a territory; the account of a
    GP or of a care-team professional may be linked to their record in the provider
    directory."""
    errors: dict[str, list] = {}
    email = normalize_email(email)
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        errors.setdefault("email", []).append(_l("Enter a valid e-mail address."))
    elif find_user(session, email) is not None:
        errors.setdefault("email", []).append(_l("An account with this e-mail already exists."))
    role_enum, territory = _check_account(session, errors, full_name=full_name, role=role,
                                          territory_code=territory_code,
                                          provider_id=provider_id)
    try:
        check_password_strength(password, user_inputs=account_words(email, full_name))
    except ValidationError as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationError(errors)
    assert role_enum is not None  # an unknown role was an error above
    user = User(
        email=email,
        full_name=full_name.strip(),
        role=role_enum,
        territory=territory,
        provider_id=provider_id,
        password_hash=hash_password(password, hash_method),
        password_changed_at=utcnow(),
    )
    session.add(user)
    session.flush()
    audit.record(session, actor, AuditAction.CREATE, "user", user.id, summary=email)
    return user


class LoginRefused(Exception):
    """Authentication failed; `reason` is 'credentials', 'disabled' or 'integration' (an
    integration account sends HL7 messages with its token, it does not sign in to pages)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def authenticate(session: Session, email: str, password: str, ip_address: str | None,
                 hash_method: str = "scrypt") -> User:
    """The user with these credentials, or LoginRefused. Every attempt is audited. For an
    account with a second factor, the password alone does not complete the sign-in."""
    user = find_user(session, email)
    valid = check_password_hash(user.password_hash if user else _dummy_hash(hash_method),
                                password)
    if user is None or not valid:
        audit.record(
            session,
            Actor(user_id=user.id if user else None, label=normalize_email(email)[:254],
                  ip_address=ip_address),
            AuditAction.LOGIN_FAILED,
            "user",
            user.id if user else None,
            summary="wrong credentials",
        )
        raise LoginRefused("credentials")
    if not user.is_active:
        audit.record(session, Actor.for_user(user, ip_address), AuditAction.LOGIN_FAILED,
                     "user", user.id, summary="account disabled")
        raise LoginRefused("disabled")
    if not permissions.may_sign_in_to_pages(user):
        audit.record(session, Actor.for_user(user, ip_address), AuditAction.LOGIN_FAILED,
                     "user", user.id, summary="integration account: no sign-in to the pages")
        raise LoginRefused("integration")
    if user.totp_secret is None:
        record_login(session, user, ip_address)
    # else the sign-in completes after the second factor (auth/twofactor.py, the view)
    return user


def record_login(session: Session, user: User, ip_address: str | None) -> None:
    """A completed sign-in (with its second factor, when the account has one)."""
    user.last_login_at = utcnow()
    audit.record(session, Actor.for_user(user, ip_address), AuditAction.LOGIN, "user", user.id)


def password_matches(user: User, password: str) -> bool:
    return check_password_hash(user.password_hash, password)


def change_password(
    session: Session, user: User, current: str, new: str, hash_method: str, actor: Actor,
    *, revoke_api_tokens: bool = False,
) -> None:
    """Replace the password after checking the current one; every session ends (the view
    signs the current one in again), and the API tokens too when asked."""
    if not check_password_hash(user.password_hash, current):
        raise ValidationError({"current_password": [_l("The current password is wrong.")]})
    check_password_strength(new, field="new_password",
                            user_inputs=account_words(user.email, user.full_name))
    if current == new:
        raise ValidationError(
            {"new_password": [_l("The new password must differ from the current one.")]}
        )
    user.password_hash = hash_password(new, hash_method)
    user.password_changed_at = utcnow()
    user.must_change_password = False
    user.session_version += 1
    audit.record(session, actor, AuditAction.UPDATE, "user", user.id, summary="password changed")
    if revoke_api_tokens:
        revoke_tokens(session, user, actor)


def end_sessions(session: Session, user: User, actor: Actor) -> None:
    """Sign out: every session of the account ends on the server (its version moves on), so a
    copy of the cookie taken before is refused as well."""
    user.session_version += 1
    audit.record(session, actor, AuditAction.LOGOUT, "user", user.id)


def set_active(session: Session, user: User, active: bool, actor: Actor) -> None:
    """Enable or disable an account; disabling ends its sessions and refuses its tokens.
    Nobody disables their own account (an administrator could lock everyone out)."""
    if user.is_active == active:
        return
    if not active and actor.user_id == user.id:
        raise ValidationError({"user": [_l("You cannot disable your own account.")]})
    _keep_an_administrator(session, user, user.role_enum, active, field="user")
    user.is_active = active
    user.session_version += 1
    audit.record(session, actor, AuditAction.UPDATE, "user", user.id,
                 summary="enabled" if active else "disabled")


def _keep_an_administrator(session: Session, user: User, role: Role | None, active: bool,
                           field: str) -> None:
    """The last enabled administrator stays one: nobody else could manage the accounts."""
    if not (user.role == Role.ADMIN and user.is_active) or (role == Role.ADMIN and active):
        return
    others = session.scalar(select(func.count()).select_from(User).where(
        User.role == Role.ADMIN, User.is_active.is_(True), User.id != user.id)) or 0
    if not others:
        raise ValidationError({field: [_l(
            "This is the last enabled administrator account: enable or create another "
            "administrator first.")]})


# What an administrator changes on an account (its e-mail and password apart).
EDITABLE_ACCOUNT_FIELDS = ("full_name", "role", "territory", "provider_id", "is_active")
# The changes after which the account's sessions end: what it may open is no longer the same.
ACCESS_FIELDS = frozenset({"role", "territory", "provider_id", "is_active"})


def account_state(user: User) -> str:
    """The values of the account's editable fields as a short digest: an edit form sends the
    state it was read in, and a change saved meanwhile is an edit conflict (the account has no
    version column)."""
    values = [user.full_name, str(user.role), str(user.territory_id), str(user.provider_id),
              str(user.is_active)]
    return hashlib.sha256("\x1f".join(values).encode()).hexdigest()[:16]


def update_user(
    session: Session,
    actor: Actor,
    user: User,
    *,
    full_name: str,
    role: str,
    territory_code: str | None,
    provider_id: int | None,
    active: bool,
    expected_state: str | None = None,
) -> list[str]:
    """Change an account: its name, role, territory, directory record, enabled or not, with
    the rules of its creation. An administrator keeps their own role and account enabled, and
    the last enabled administrator stays one. A change of what the account may open (role,
    territory, directory record, enabled) ends its sessions. Returns the fields changed."""
    if expected_state is not None and expected_state != account_state(user):
        raise ConflictError(0)
    errors: dict[str, list] = {}
    role_enum, territory = _check_account(session, errors, full_name=full_name, role=role,
                                          territory_code=territory_code,
                                          provider_id=provider_id)
    if actor.user_id == user.id:
        if role_enum is not None and role_enum != user.role:
            errors.setdefault("role", []).append(
                _l("You cannot change your own role: another administrator does it."))
        if not active:
            errors.setdefault("is_active", []).append(
                _l("You cannot disable your own account."))
    if role_enum is not None and not errors:
        try:
            _keep_an_administrator(session, user, role_enum,
                                   active, field="role" if active else "is_active")
        except ValidationError as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationError(errors)
    assert role_enum is not None  # an unknown role was an error above
    name = full_name.strip()
    new: dict[str, object] = {
        "full_name": name, "role": role_enum, "territory": territory.id if territory else None,
        "provider_id": provider_id, "is_active": active}
    old: dict[str, object] = {
        "full_name": user.full_name, "role": user.role, "territory": user.territory_id,
        "provider_id": user.provider_id, "is_active": user.is_active}
    changed = [key for key in EDITABLE_ACCOUNT_FIELDS if new[key] != old[key]]
    if not changed:
        return []
    user.full_name = name
    user.role = role_enum
    user.territory = territory
    user.provider_id = provider_id
    user.is_active = active
    if ACCESS_FIELDS & set(changed):
        user.session_version += 1
    session.flush()
    details = {key: {"from": _shown(old[key]), "to": _shown(new[key])} for key in changed
               if key != "full_name"}
    audit.record(session, actor, AuditAction.UPDATE, "user", user.id,
                 summary=f"account changed: {', '.join(changed)}",
                 details={"fields": changed, "changes": details})
    return changed


def _shown(value: object) -> object:
    return str(value) if isinstance(value, Role) else value


# The alphabet of a generated password: no 0/O, 1/l/I, easy to read out and to type.
GENERATED_ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
GENERATED_GROUPS, GENERATED_GROUP_LENGTH = 4, 5  # 20 characters, about 116 bits


def generate_password() -> str:
    """A strong random password (groups of letters and digits), which passes the strength
    rule of a chosen password."""
    while True:
        password = "-".join(
            "".join(secrets.choice(GENERATED_ALPHABET) for _ in range(GENERATED_GROUP_LENGTH))
            for _ in range(GENERATED_GROUPS))
        try:
            check_password_strength(password)
        except ValidationError:  # pragma: no cover - about never with 116 random bits
            continue
        return password


def reset_password(session: Session, actor: Actor, user: User, hash_method: str, *,
                   revoke_api_tokens: bool = False) -> str:
    """An administrator gives an account a new generated password: returned to be shown once
    (only its hash is stored, the audit entry says that it was reset and by whom, never the
    password); every session of the account ends, and its API tokens when asked. An
    administrator changes their own password on their account page, with the current one."""
    if actor.user_id == user.id:
        raise ValidationError({"user": [_l(
            "Change your own password on your account page (it asks for the current one).")]})
    password = generate_password()
    user.password_hash = hash_password(password, hash_method)
    user.password_changed_at = utcnow()
    user.must_change_password = True  # the account chooses its own at its next sign-in
    user.session_version += 1
    audit.record(session, actor, AuditAction.UPDATE, "user", user.id,
                 summary="password reset by an administrator")
    if revoke_api_tokens:
        revoke_tokens(session, user, actor)
    return password


def set_locale(user: User, locale: str, languages: list[str]) -> None:
    if locale not in languages:
        raise ValidationError({"locale": [_l("Unknown language.")]})
    user.locale = locale


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str


def issue_token(session: Session, user: User, actor: Actor, label: str = "") -> IssuedToken:
    """A new personal API token; the secret is shown once and only its digest is stored."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, token_hash=_digest(secret), label=label[:100])
    session.add(token)
    session.flush()
    audit.record(session, actor, AuditAction.CREATE, "api_token", token.id, summary=user.email)
    return IssuedToken(token=token, secret=secret)


def user_for_token(session: Session, secret: str) -> User | None:
    """The active user owning this unrevoked token, or None. Its last use is recorded at most
    once per `TOKEN_USE_RESOLUTION`: a read request does not write for it each time."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == _digest(secret), ApiToken.revoked_at.is_(None)
        )
    )
    if token is None or not token.user.is_active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_USE_RESOLUTION:
        token.last_used_at = now
    return token.user


def revoke_tokens(session: Session, user: User, actor: Actor) -> int:
    """Revoke every token of a user; returns how many were live."""
    live = [t for t in user.tokens if t.revoked_at is None]
    for token in live:
        token.revoked_at = utcnow()
    if live:
        audit.record(session, actor, AuditAction.UPDATE, "api_token", None,
                     summary=f"{len(live)} token(s) of {user.email} revoked")
    return len(live)


def count_users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0


def list_users(session: Session) -> list[User]:
    """Every account, with the territory and the directory record the list shows."""
    return list(session.scalars(
        select(User).options(joinedload(User.territory), joinedload(User.provider))
        .order_by(User.role, User.email)))


def case_managers(session: Session, territory_id: int | None) -> list[User]:
    """Active case managers of a territory (all territories when None)."""
    query = select(User).where(User.role == Role.CASE_MANAGER, User.is_active.is_(True))
    if territory_id is not None:
        query = query.where(User.territory_id == territory_id)
    return list(session.scalars(query.order_by(User.full_name)))
