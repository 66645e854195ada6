"""Configuration classes. Every setting can be overridden by an environment variable.

`DATABASE_URL` and `SECRET_KEY` are read as is; every other setting as `COORDINATOR_<NAME>`
(for example `COORDINATOR_SESSION_IDLE_MINUTES=30`). Values are parsed as JSON when they can be
(numbers, booleans, lists), else kept as strings.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
from datetime import timedelta
from pathlib import Path

ENV_PREFIX = "COORDINATOR_"


class Config:
    """Settings shared by every environment."""

    ENV_NAME = "base"
    SECRET_KEY: str | None = None
    GENERATE_SECRET_KEY = False  # development: a key of the instance's own (instance/)
    SQLALCHEMY_DATABASE_URI: str | None = None  # default: SQLite file in the instance folder
    # hide_parameters: a database error's message (and so a logged traceback) does not carry
    # the statement's values (plan text, identities), only the statement.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True, "hide_parameters": True}
    # SQLite (the embedded default): how long a write waits for the one before it, in seconds.
    # Web writes take milliseconds; a long import holds the lock while it writes.
    SQLITE_BUSY_TIMEOUT = 30
    # /healthz: how long its write probe waits for another writer's lock ("busy" past that).
    HEALTHZ_TIMEOUT = 2

    # Sessions and cookies
    SESSION_COOKIE_NAME = "coordinator_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = False
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    SESSION_IDLE_MINUTES = 60  # a session unused for this long has expired
    SESSION_LIFETIME_HOURS = 12  # and any session this long after its sign-in, used or not

    # Request limits: forms are small; imports raise the limit on their own route.
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 512 * 1024
    IMPORT_MAX_BYTES = 512 * 1024 * 1024  # CSV import uploads (their route only)
    IMPORT_BATCH_SIZE = 2000  # rows validated and written together (one progress step)

    # Registry: a stratum assignment (form, API, import) takes effect at most this many days
    # from today (a mistyped year is refused instead of locking the timeline).
    STRATUM_MAX_DAYS_AHEAD = 31

    # Security
    WTF_CSRF_CHECK_DEFAULT = False  # checked in one before_request hook (bearer-token API exempt)
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105 - a hashing method, not a password
    LOGIN_RATE_LIMIT = "5 per 15 minutes"  # failed sign-ins per (address, e-mail)
    # Failed sign-ins per address, whatever the e-mails tried. Several users behind one
    # hospital gateway share an address: keep it well above what people mistype.
    LOGIN_IP_RATE_LIMIT = "30 per 15 minutes"
    # The optional TOTP second factor (an authenticator app; docs/security.md): anyone may
    # enrol from "My account"; with this true, an administrator must before anything else.
    TOTP_REQUIRED_FOR_ADMINS = False
    TOTP_ISSUER = "Coordinator"  # the name the authenticator app shows
    SECOND_FACTOR_MINUTES = 5  # how long the second step of a sign-in waits for its code
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True

    # The audit trail (docs/security.md, "Tamper-evident audit"): entries older than this are
    # purged by the daily `purge_audit_entries` job, the chain kept verifiable from an anchor
    # (CNIL: an access log of health data is kept for a year, then deleted).
    AUDIT_RETENTION_DAYS = 365

    # Translations
    LANGUAGES = ["fr", "en"]
    BABEL_DEFAULT_LOCALE = "fr"
    BABEL_DEFAULT_TIMEZONE = "Europe/Paris"

    # UI
    BOOTSTRAP_SERVE_LOCAL = True
    PER_PAGE = 50

    # API (flask-smorest)
    API_TITLE = "Coordinator API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    API_SPEC_OPTIONS = {
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "coordinator_session"},
            }
        },
        "security": [{"bearerAuth": []}, {"sessionCookie": []}],
    }

    # Background jobs: the scheduler starts only where asked (`COORDINATOR_SCHEDULER=true`);
    # several processes may run one, each slot of a job still runs once (see README).
    SCHEDULER_ENABLED = False
    # Background work (imports, batch prints): items in the database, run by workers. The web
    # process runs worker threads when WORKERS_IN_PROCESS is true (default: outside production,
    # and always on SQLite); production runs `flask --app wsgi worker` processes instead.
    WORKERS_IN_PROCESS: bool | None = None
    WORKER_THREADS = 1  # items run at once per process
    WORK_POLL_SECONDS = 1.0  # an idle worker looks for queued items this often
    WORK_HEARTBEAT_SECONDS = 5.0  # a worker's heartbeat, and its running item's progress
    # Silent this long: a worker is taken for dead (its item is run again by another), and
    # /healthz answers 503 "stale" while work is queued or running without a live worker.
    WORK_STALE_SECONDS = 60.0
    WORK_MAX_ATTEMPTS = 3  # claims of an item that keeps being interrupted, then failed
    WORK_STOP_GRACE_SECONDS = 30.0  # a stopping worker waits this long for its item
    WORK_STATE_DIR: str | None = None  # SQLite: live progress files (default: beside the file)
    # Batch printing renders in worker processes, one per core by default; with several
    # processes on one host, give each a share (COORDINATOR_PRINT_WORKERS=1, say).
    PRINT_WORKERS: int | None = None
    PRINT_IN_WORKER_PROCESSES = True  # False: render in the worker itself (tests)
    # A document whose rendering takes longer fails (its batch with it) instead of holding a
    # worker; a plan whose printed HTML is larger is rendered in the background, not in the
    # request (a batch of one).
    PRINT_RENDER_TIMEOUT_SECONDS = 120.0
    PRINT_INLINE_MAX_BYTES = 60_000  # about 150 goals; a demo plan is 4-20 kB
    # A document printed inside a web request (a plan's PDF, up to PRINT_INLINE_MAX_BYTES of
    # HTML) renders in a child process stopped after this many seconds: the reader gets an error
    # page (503) instead of a web worker held for minutes. 0 renders in the web process itself,
    # without a limit.
    PRINT_REQUEST_TIMEOUT_SECONDS: float = 20
    # Outbox e-mail: off unless COORDINATOR_SMTP_HOST is set (messages then stay in the app).
    SMTP_HOST: str | None = None
    SMTP_PORT = 587
    SMTP_STARTTLS = True
    SMTP_USERNAME: str | None = None
    SMTP_PASSWORD: str | None = None
    SMTP_SENDER = "coordinator@localhost"
    SMTP_TIMEOUT = 30
    # HL7 v2 ADT feed (docs/hl7.md): how the ACKs name this registry (MSH-3, MSH-4), the largest
    # message taken (MLLP frame or HTTP body), and how long an MLLP connection may stay silent.
    HL7_APPLICATION = "COORDINATOR"
    HL7_FACILITY = "COORDINATOR"
    HL7_MAX_MESSAGE_BYTES = 1024 * 1024
    HL7_IDLE_TIMEOUT_SECONDS = 300.0
    HL7_BATCH_MAX = 50  # MLLP: messages of several connections committed together, at most

    TESTING = False
    DEBUG = False


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    # No key in the code: without SECRET_KEY, each instance generates its own, kept in
    # `instance/secret_key` (mode 0600; see `instance_secret_key`).
    GENERATE_SECRET_KEY = True
    DEBUG = False


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key"  # noqa: S105 - tests only
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or "sqlite://"
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # noqa: S105 - fast hashing for the suite
    WTF_CSRF_ENABLED = True
    SERVER_NAME = None
    WORKERS_IN_PROCESS = False  # tests run the queued work themselves (coordinator.work.worker)
    PRINT_IN_WORKER_PROCESSES = False


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 10,
                                 "hide_parameters": True}

    REQUIRED = ("SECRET_KEY", "SQLALCHEMY_DATABASE_URI")


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}


class ConfigurationError(RuntimeError):
    """Raised at start-up when the configuration cannot run safely."""


SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a key


def instance_secret_key(instance_path: str | os.PathLike) -> str:
    """This instance's own secret key, generated at first start: a random key kept in the
    instance folder, readable by its owner only (0600). Several processes starting at once
    (gunicorn's workers) agree on one key: the file is published whole, by a hard link that
    fails if another process was first."""
    folder = Path(instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SECRET_KEY_FILE
    if not path.exists():
        draft = folder / f".{SECRET_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another process published its key first: use that one
        finally:
            draft.unlink()
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(0o600)
    key = path.read_text().strip()
    if len(key) < 32:
        raise ConfigurationError(f"{path} holds no usable secret key: delete it to have a "
                                 "new one generated, or set SECRET_KEY.")
    return key


def _parse(value: str):
    try:
        return json.loads(value)
    except ValueError:
        return value


def env_overrides(environ: os._Environ | dict | None = None) -> dict:
    """Settings read from the environment: DATABASE_URL, SECRET_KEY and COORDINATOR_*."""
    environ = os.environ if environ is None else environ
    values: dict = {}
    if environ.get("DATABASE_URL"):
        values["SQLALCHEMY_DATABASE_URI"] = environ["DATABASE_URL"]
    if environ.get("SECRET_KEY"):
        values["SECRET_KEY"] = environ["SECRET_KEY"]
    if environ.get(ENV_PREFIX + "SCHEDULER"):
        values["SCHEDULER_ENABLED"] = _parse(environ[ENV_PREFIX + "SCHEDULER"])
    for key, value in environ.items():
        if key.startswith(ENV_PREFIX) and key != ENV_PREFIX + "ENV":
            values[key[len(ENV_PREFIX) :]] = _parse(value)
    return values


def select_config(name: str | None = None) -> type[Config]:
    """The configuration class named by `name` or `COORDINATOR_ENV` (default: development)."""
    name = name or os.environ.get(ENV_PREFIX + "ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise ConfigurationError(
            f"Unknown configuration {name!r}: use one of {', '.join(CONFIGS)}."
        ) from None
