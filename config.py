"""Configuration classes.

Every setting can come from an environment variable of the same name; the README lists them.
``Development`` is the default (SQLite under ``instance/``); ``Production`` refuses to start
without ``SECRET_KEY``, ``DATABASE_URL`` and ``REDIS_URL``.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_PATH", BASE_DIR / "instance"))


class ConfigError(RuntimeError):
    """Raised at start-up when the configuration cannot work."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    value = _env(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {value!r}") from exc


def _env_bool(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.lower() in {"1", "true", "yes", "on"}


def check_storage(config: dict) -> None:
    """``STORAGE_URL`` is unset, ``file:///path`` or ``s3://bucket[/prefix]``; a known addressing style."""
    url = config.get("STORAGE_URL")
    scheme, sep, rest = (url or "").partition("://")
    if url and not (sep and (scheme == "file" and rest.startswith("/") or scheme == "s3" and rest.split("/")[0])):
        raise ConfigError(f"STORAGE_URL must be file:///path or s3://bucket/prefix, got {url!r}")
    if config.get("S3_ADDRESSING_STYLE") not in (None, "auto", "virtual", "path"):
        raise ConfigError("S3_ADDRESSING_STYLE must be auto, virtual or path")


class Config:
    ENV_NAME = "base"
    SECRET_KEY = _env("SECRET_KEY")
    DATABASE_URL = _env("DATABASE_URL")
    REDIS_URL = _env("REDIS_URL")
    SQLALCHEMY_ECHO = _env_bool("SQLALCHEMY_ECHO", False)
    # PostgreSQL row-level security behind the ORM's tenant filter (core.rls, migration 0017a): each
    # transaction says its organisation. Off by default; on in production. Ignored on SQLite.
    DATABASE_RLS = _env_bool("DATABASE_RLS", False)
    # A role each connection switches to (SET ROLE): one without BYPASSRLS, when the login role has it
    DATABASE_ROLE = _env("DATABASE_ROLE")

    # Sessions and cookies
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = False
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 24 * 14
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    MAX_CONTENT_LENGTH = _env_int("MAX_CONTENT_LENGTH", 20 * 1024 * 1024)
    MAX_UPLOAD_MB = _env_int("MAX_UPLOAD_MB", 20)  # per application file (PDF); MAX_CONTENT_LENGTH caps a request
    UPLOAD_DIR = _env("UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))
    # Where uploads and report files live: file:///path (unset: UPLOAD_DIR) or s3://bucket/prefix, an
    # S3-compatible bucket (AWS S3, MinIO, Ceph, R2). Several app instances need s3://: a folder is one server's.
    STORAGE_URL = _env("STORAGE_URL")
    S3_ENDPOINT_URL = _env("S3_ENDPOINT_URL")  # unset: AWS S3 itself
    S3_ADDRESSING_STYLE = _env("S3_ADDRESSING_STYLE")  # path | virtual | auto; unset: path with an endpoint
    AWS_ACCESS_KEY_ID = _env("AWS_ACCESS_KEY_ID")  # unset: boto3's own lookup (~/.aws, an instance role)
    AWS_SECRET_ACCESS_KEY = _env("AWS_SECRET_ACCESS_KEY")
    AWS_DEFAULT_REGION = _env("AWS_DEFAULT_REGION")
    # s3:// only: downloads (attachments) redirect to a presigned URL valid this long instead of streaming
    STORAGE_REDIRECT = _env_bool("STORAGE_REDIRECT", False)
    STORAGE_URL_SECONDS = _env_int("STORAGE_URL_SECONDS", 300)
    PUBLIC_URL = _env("PUBLIC_URL", "http://127.0.0.1:5000")  # links in mail sent by jobs

    # Security headers
    TRUSTED_PROXIES = _env_int("TRUSTED_PROXIES", 0)  # reverse proxies in front (X-Forwarded-For/Proto)
    FORCE_HTTPS = False
    HSTS = False

    # Locale
    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    LANGUAGES = ("vi", "en")

    # Rate limits (Flask-Limiter): memory unless REDIS_URL is set
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    # While Redis is down, each process counts in its own memory (signing in still works, still limited)
    # and goes back to Redis once it answers again; a dead Redis is given up on within 2 s.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 2}
    LOGIN_LIMIT_PER_IP = _env("LOGIN_LIMIT_PER_IP", "30 per minute")
    LOGIN_LIMIT_PER_ACCOUNT = _env("LOGIN_LIMIT_PER_ACCOUNT", "10 per 15 minutes")

    # Mail
    MAIL_BACKEND = _env("MAIL_BACKEND", "console")  # console | file | memory | smtp
    MAIL_DEFAULT_SENDER = _env("MAIL_DEFAULT_SENDER", "Incubator <no-reply@incubator.local>")
    MAIL_SERVER = _env("MAIL_SERVER", "localhost")
    MAIL_PORT = _env_int("MAIL_PORT", 587)
    MAIL_USERNAME = _env("MAIL_USERNAME")
    MAIL_PASSWORD = _env("MAIL_PASSWORD")
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", True)
    MAIL_FILE_DIR = _env("MAIL_FILE_DIR", str(INSTANCE_DIR / "mail"))

    # Jobs (Huey): SQLite file by default, Redis when REDIS_URL is set, immediate in tests
    HUEY_IMMEDIATE = _env_bool("HUEY_IMMEDIATE", False)
    HUEY_SQLITE_PATH = _env("HUEY_SQLITE_PATH", str(INSTANCE_DIR / "huey.db"))
    # Report downloads (XLSX, PDF) over at least this many startups are written by a job
    REPORT_JOB_MIN_STARTUPS = _env_int("REPORT_JOB_MIN_STARTUPS", 40)
    # A cohort's matching with at least this many startup x mentor pairs is run by a job (page and API
    # alike) and shows its progress; smaller ones answer at once. 500,000 (e.g. 1,000 startups x 500
    # mentors) is about half a second of scoring and solving on one core.
    MATCHING_JOB_MIN_PAIRS = _env_int("MATCHING_JOB_MIN_PAIRS", 500_000)

    # Payments: Stripe when STRIPE_SECRET_KEY is set; in development and tests a fake with a test-payment page
    # stripe | payos | fake; unset: stripe with a key, else fake outside production. payos: organisations that
    # have not chosen use payOS (VietQR); Stripe stays configured as unset for those that chose it.
    PAYMENT_GATEWAY = _env("PAYMENT_GATEWAY")
    STRIPE_SECRET_KEY = _env("STRIPE_SECRET_KEY")
    STRIPE_WEBHOOK_SECRET = _env("STRIPE_WEBHOOK_SECRET")
    STRIPE_API_BASE = _env("STRIPE_API_BASE")  # only to point the client at a test server
    PLATFORM_FEE_PERCENT = _env("PLATFORM_FEE_PERCENT", "0")  # kept by the platform from each payment
    CHECKOUT_MINUTES = _env_int("CHECKOUT_MINUTES", 30)  # Stripe's shortest session; the slot is held as long
    FAKE_STRIPE_STATE_FILE = _env("FAKE_STRIPE_STATE_FILE", str(INSTANCE_DIR / "fake-stripe.json"))
    FAKE_STRIPE_DELIVERY = "http"  # the fakes post their webhooks to PUBLIC_URL (tests: an outbox)
    PAYOS_API_BASE = _env("PAYOS_API_BASE")  # only to point the payOS client at a test server
    # Without an organisation's payOS credentials, outside production, a fake payOS signs with this key
    PAYOS_FAKE_CHECKSUM_KEY = _env("PAYOS_FAKE_CHECKSUM_KEY", "payos-development-checksum-key")
    FAKE_PAYOS_STATE_FILE = _env("FAKE_PAYOS_STATE_FILE", str(INSTANCE_DIR / "fake-payos.json"))
    # Comma-separated Fernet keys that encrypt the organisations' payOS credentials (the first encrypts, all
    # decrypt). Unset: a key derived from SECRET_KEY, refused in production when payOS is the default.
    PAYMENT_SECRET_KEYS = _env("PAYMENT_SECRET_KEYS")

    # Outbound webhooks: each delivery waits at most this long for the endpoint's answer
    WEBHOOK_TIMEOUT_SECONDS = float(_env("WEBHOOK_TIMEOUT_SECONDS", "5") or 5)
    # Comma-separated Fernet keys that encrypt the webhooks' signing secrets (the first encrypts, all
    # decrypt); unset: a key derived from SECRET_KEY. See the README's security section.
    WEBHOOK_SECRET_KEYS = _env("WEBHOOK_SECRET_KEYS")
    # Endpoints over plain http://, and on loopback or private addresses (SSRF), are refused unless
    # these are on; development and tests turn them on.
    WEBHOOKS_ALLOW_HTTP = _env_bool("WEBHOOKS_ALLOW_HTTP", False)
    WEBHOOKS_ALLOW_PRIVATE = _env_bool("WEBHOOKS_ALLOW_PRIVATE", False)

    # Password hashing (argon2id); the defaults are argon2-cffi's RFC 9106 low-memory profile
    ARGON2_TIME_COST = _env_int("ARGON2_TIME_COST", 3)
    ARGON2_MEMORY_COST = _env_int("ARGON2_MEMORY_COST", 65536)
    ARGON2_PARALLELISM = _env_int("ARGON2_PARALLELISM", 4)

    # Tokens
    PASSWORD_RESET_MAX_AGE = 60 * 60  # one hour
    EMAIL_VERIFICATION_MAX_AGE = 24 * 60 * 60  # a day
    INVITATION_MAX_AGE_DAYS = 14

    # Lab booking
    MAX_HOLDS_PER_USER = _env_int("MAX_HOLDS_PER_USER", 3)  # bookings awaiting payment at once, per person and org
    # Minutes before whoever let a hold lapse unpaid (or cancelled it) may hold that time again
    HOLD_RENEWAL_COOLDOWN_MINUTES = _env_int("HOLD_RENEWAL_COOLDOWN_MINUTES", 120)
    CALENDAR_UID_DOMAIN = _env("CALENDAR_UID_DOMAIN")  # iCal UIDs' domain; unset: PUBLIC_URL's host name

    # API (flask-smorest)
    API_TITLE = "Incubator API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"

    LOG_LEVEL = _env("LOG_LEVEL", "INFO")
    LOG_JSON = _env_bool("LOG_JSON", True)

    # Operations: /metrics answers only to "Authorization: Bearer $METRICS_TOKEN" (unset: /metrics is off,
    # 404); several gunicorn workers share their counters through PROMETHEUS_MULTIPROC_DIR (an environment
    # variable read by prometheus-client itself). /readyz waits this long at most for each dependency.
    METRICS_TOKEN = _env("METRICS_TOKEN")
    METRICS_PORT = _env_int("METRICS_PORT", 0)  # the job worker's own /metrics port; 0: none
    READYZ_TIMEOUT_SECONDS = float(_env("READYZ_TIMEOUT_SECONDS", "2") or 2)

    DEMO_PASSWORD = "incubator-demo-2026"  # noqa: S105 (the demo accounts' published password)

    @classmethod
    def validate(cls, config: dict) -> None:
        if not config.get("SECRET_KEY"):
            raise ConfigError("SECRET_KEY is not set")
        if not config.get("DATABASE_URL"):
            raise ConfigError("DATABASE_URL is not set")
        check_storage(config)


class Development(Config):
    ENV_NAME = "development"
    TENANCY_STRICT = True  # an org-owned query with no organisation in context raises (core.tenancy)
    SECRET_KEY = _env("SECRET_KEY", "dev-only-not-secret")
    DATABASE_URL = _env("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'incubator.db'}")
    LOG_JSON = _env_bool("LOG_JSON", False)
    STRIPE_WEBHOOK_SECRET = _env("STRIPE_WEBHOOK_SECRET", "whsec_development_only")
    WEBHOOKS_ALLOW_HTTP = _env_bool("WEBHOOKS_ALLOW_HTTP", True)  # a local receiver while developing
    WEBHOOKS_ALLOW_PRIVATE = _env_bool("WEBHOOKS_ALLOW_PRIVATE", True)


class Testing(Config):
    ENV_NAME = "testing"
    TESTING = True
    TENANCY_STRICT = True
    SECRET_KEY = "test-secret"  # noqa: S105 (tests only)
    DATABASE_URL = _env("TEST_DATABASE_URL")  # conftest supplies a SQLite file when unset
    # TEST_DATABASE_RLS=on runs the PostgreSQL suite with row-level security, as the role
    # incubator_app (the test set-up creates it and grants it the tables): postgres is a superuser,
    # and superusers are never held to a policy
    DATABASE_RLS = _env_bool("TEST_DATABASE_RLS", False)
    DATABASE_ROLE = "incubator_app" if DATABASE_RLS else None
    MAIL_BACKEND = "memory"
    HUEY_IMMEDIATE = True
    REDIS_URL = None
    PAYMENT_GATEWAY = "fake"
    STRIPE_WEBHOOK_SECRET = "whsec_test_secret"  # noqa: S105 (tests only)
    FAKE_STRIPE_STATE_FILE = None
    FAKE_STRIPE_DELIVERY = "outbox"
    FAKE_PAYOS_STATE_FILE = None
    STORAGE_URL = None  # a folder under the test instance; tests that want a bucket say so
    STORAGE_REDIRECT = False
    LOG_JSON = False
    LOG_LEVEL = "WARNING"
    # Cheap hashing keeps the suite fast; still argon2id.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 1024
    ARGON2_PARALLELISM = 1
    # Tests post forms with a CSRF token they read from the page, like a browser would.
    WTF_CSRF_ENABLED = True


class Production(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    FORCE_HTTPS = _env_bool("FORCE_HTTPS", True)
    HSTS = True
    MAIL_BACKEND = _env("MAIL_BACKEND", "smtp")
    DATABASE_RLS = _env_bool("DATABASE_RLS", True)

    @classmethod
    def validate(cls, config: dict) -> None:
        super().validate(config)
        if config["SECRET_KEY"] in {"dev-only-not-secret", "test-secret"} or len(config["SECRET_KEY"]) < 32:
            raise ConfigError("SECRET_KEY must be a random string of at least 32 characters")
        if config.get("PAYMENT_GATEWAY") == "fake":
            raise ConfigError("PAYMENT_GATEWAY=fake takes no real money: it is for development only")
        if config.get("STRIPE_SECRET_KEY") and not config.get("STRIPE_WEBHOOK_SECRET"):
            raise ConfigError("STRIPE_WEBHOOK_SECRET is needed with STRIPE_SECRET_KEY: webhooks confirm payments")
        if not config.get("REDIS_URL"):
            raise ConfigError("REDIS_URL is not set: production keeps its job queue and rate limits in Redis "
                              "(a SQLite queue and in-memory limits are one server's)")
        if not str(config["REDIS_URL"]).startswith(("redis://", "rediss://", "unix://")):
            raise ConfigError(f"REDIS_URL must be redis://, rediss:// or unix://, got {config['REDIS_URL']!r}")
        if config.get("METRICS_TOKEN") and len(config["METRICS_TOKEN"]) < 16:
            raise ConfigError("METRICS_TOKEN must be at least 16 characters (or unset: /metrics is off)")
        if config.get("PAYMENT_GATEWAY") == "payos" and not config.get("PAYMENT_SECRET_KEYS"):
            raise ConfigError("PAYMENT_SECRET_KEYS is needed with PAYMENT_GATEWAY=payos: it encrypts the "
                              "organisations' payOS credentials")


CONFIGS = {"development": Development, "testing": Testing, "production": Production}


def config_from_env() -> type[Config]:
    name = _env("INCUBATOR_ENV") or "development"
    try:
        return CONFIGS[name]
    except KeyError as exc:
        raise ConfigError(f"INCUBATOR_ENV must be one of {sorted(CONFIGS)}, got {name!r}") from exc


# -- gunicorn ---------------------------------------------------------------------------------------
# ``gunicorn -c python:config wsgi:app`` (the Dockerfile's command) reads the lowercase names below;
# GUNICORN_CMD_ARGS and the command line override them. The app is loaded once in the master and the
# workers are forked from it (``--preload``): its code and libraries are shared pages, not one copy per
# worker, and a broken app fails at start instead of in a worker loop.
preload_app = True
# On SIGTERM (``docker stop``, a rolling deploy) the workers stop accepting connections and get this long
# to finish the requests under way before they are killed; keep it below the container's stop grace period
# (compose.yaml: 30 s). A worker that handles no request for ``timeout`` seconds is restarted.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "25"))
timeout = 60


def post_fork(server: object, worker: object) -> None:
    """Each worker gets its own database connections (see ``incubator.after_fork``)."""
    from flask import Flask

    from incubator import after_fork

    app = getattr(getattr(server, "app", None), "callable", None)  # the preloaded app; None without --preload
    if isinstance(app, Flask):
        after_fork(app)


def on_starting(server: object) -> None:
    """Metrics in multiprocess mode start from an empty PROMETHEUS_MULTIPROC_DIR (no dead processes' values)."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        for stale in Path(folder).glob("*.db"):
            stale.unlink()


def child_exit(server: object, worker: object) -> None:
    """A worker that exits takes its live gauges (pool connections) with it."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(getattr(worker, "pid", 0))
