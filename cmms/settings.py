"""Settings for the CMMS, read from the environment.

With nothing set, the embedded demo runs: SQLite, Celery tasks executed in-process,
e-mail to the console. Set DATABASE_URL and CELERY_BROKER_URL for PostgreSQL and
real workers. See README.md ("Configuration") for every variable.
"""

import re
import tempfile
import zoneinfo
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from cmms.api.schema import ENUM_NAME_OVERRIDES
from cmms.env import env_bool, env_int, env_int_list, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", True)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-demo-only-key-never-use-in-production"
elif not DEBUG and (
    len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure")
):
    raise ImproperlyConfigured(
        "SECRET_KEY is too weak for DEBUG=0: use at least 50 random characters, e.g. "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# Security. With DEBUG=0 the defaults assume a TLS-terminating proxy in front (HTTPS redirect,
# HSTS, secure cookies, the proxy's X-Forwarded-Proto trusted); a deployment without one says so
# with TLS_PROXY=0. Each setting may also be overridden on its own. See README "Production".
TLS_PROXY = env_bool("TLS_PROXY", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", TLS_PROXY)
# Load balancers and orchestrators probe the app port directly over plain HTTP: the probes (and
# Prometheus with its bearer token) must reach the app, not a redirect to https.
SECURE_REDIRECT_EXEMPT = [r"^(healthz|readyz|metrics)$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600 if TLS_PROXY else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", TLS_PROXY)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", TLS_PROXY)
# The header the proxy sets (and overwrites, never passes through from clients) for HTTPS.
_PROXY_SSL_HEADER = env_str("SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto" if TLS_PROXY else "")
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _PROXY_SSL_HEADER.strip().upper().replace("-", "_"), "https")
    if _PROXY_SSL_HEADER.strip()
    else None
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SILENCED_SYSTEM_CHECKS = []
if not DEBUG and not TLS_PROXY:
    # TLS_PROXY=0 is the operator's explicit choice of plain HTTP: no warnings about HTTPS.
    SILENCED_SYSTEM_CHECKS += ["security.W004", "security.W008", "security.W012", "security.W016"]
# Request bodies read into memory (forms, JSON); the webhook caps its own body at 1 MiB.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440, minimum=1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
# Content-Security-Policy (django-csp): same-origin scripts, styles and fonts only; no inline.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
# Login throttling (django-axes): failures per (username, client IP) before a cool-off.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
# The client address that login lockout and API throttles key on (cmms/client_ip.py). Behind a
# reverse proxy, TRUSTED_PROXY_HEADER names the header it writes the client's address into and
# TRUSTED_PROXY_COUNT how many proxies in a row append to it; without one, only the connection's
# own address counts and no forwarding header is believed (a client could forge it).
_TRUSTED_PROXY_HEADER = env_str("TRUSTED_PROXY_HEADER").strip()
if _TRUSTED_PROXY_HEADER and not re.fullmatch(r"[A-Za-z0-9-]+", _TRUSTED_PROXY_HEADER):
    raise ImproperlyConfigured(
        f"TRUSTED_PROXY_HEADER must be a header name like X-Forwarded-For, "
        f"got {_TRUSTED_PROXY_HEADER!r}."
    )
CLIENT_IP_HEADERS = (
    ("HTTP_" + _TRUSTED_PROXY_HEADER.upper().replace("-", "_"), "REMOTE_ADDR")
    if _TRUSTED_PROXY_HEADER
    else ("REMOTE_ADDR",)
)
# Proxies listed inside the header besides the client; the nearest one is not listed.
CLIENT_IP_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1, minimum=1) - 1
AXES_CLIENT_IP_CALLABLE = "cmms.client_ip.client_ip"
AUTHENTICATION_BACKENDS = [
    "ops.auth.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]

INSTALLED_APPS = [
    "planner.admin_config.CmmsAdminConfig",  # the planners' admin site, planner/admin_site.py
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",  # trigram search indexes (cmms/indexes.py); inert on SQLite
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "assets",
    "integrations",
    "contracts",
    "workorders",
    "gateways",
    "alerts",
    "pipeline",
    "pm",
    "fleet",
    "sparkplug",
    "mqtt",
    "tech",
    "planner",
    "reports",  # the monthly client report and the billing export
    "import_export",
    "axes",
    "audit",
    "sync",  # tombstones and the updated_at triggers (docs/sync.md)
    "ops",
    "monitoring",  # anomalies and projected crossings (docs/monitoring.md)
    "condition",  # assessment: anomaly alerts, proposed work, health (docs/monitoring.md)
    "demo",  # last: seed_demo's data imports every other app
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "cmms.middleware.RefuseNulInputMiddleware",  # after CSRF, which has parsed the form
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tech.pwa.UserHeaderMiddleware",  # names the user a /tech/ page is for (service worker)
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a login lockout into a 429 answer
]

ROOT_URLCONF = "cmms.urls"
WSGI_APPLICATION = "cmms.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: SQLite for the embedded demo, PostgreSQL (psycopg 3) in production and tests.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
try:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0),
            conn_health_checks=True,
        )
    }
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["ENGINE"] = "cmms.sqlite"  # leaves out PostgreSQL-only indexes
    # The demo writes from several threads (server, in-process beat, seeded heartbeats, the
    # simulated gateway's set-up); a writer waits for the lock longer than SQLite's 5 s. A
    # transaction takes the write lock when it begins (IMMEDIATE): a deferred one that read
    # first and then writes cannot wait for a writer holding the lock and fails at once with
    # "database is locked", whatever the timeout.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options.setdefault("timeout", 30)
    options.setdefault("transaction_mode", "IMMEDIATE")
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", 5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/tech/login/"
LOGIN_REDIRECT_URL = "/tech/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
if TIME_ZONE not in zoneinfo.available_timezones():
    raise ImproperlyConfigured(f"TIME_ZONE {TIME_ZONE!r} is not a known IANA time zone.")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# WhiteNoise reads the folder collectstatic fills once at start-up, or looks files up per
# request when autorefreshing; it would default to the DEBUG of that moment. Decided here,
# because Django's test runner turns DEBUG off after settings load: a test run (or a
# checkout without collectstatic) would warn "No directory at: staticfiles/" for every test
# client. With DEBUG=0 (collectstatic has run) the missing folder still warns, as it should.
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
# Planner CSV/XLSX imports (admin): limits, shown as a form error, and where an uploaded file
# waits between its preview and the confirmation (a private folder; files older than a day go).
IMPORT_MAX_FILE_BYTES = env_int("IMPORT_MAX_FILE_BYTES", 2 * 1024 * 1024, minimum=1024)
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 500, minimum=1)
IMPORT_MAX_XLSX_UNCOMPRESSED_BYTES = env_int(
    "IMPORT_MAX_XLSX_UNCOMPRESSED_BYTES", 10 * 1024 * 1024, minimum=1024
)
IMPORT_MAX_CELL_CHARS = env_int("IMPORT_MAX_CELL_CHARS", 1000, minimum=10)
IMPORT_TMP_DIR = Path(env_str("IMPORT_TMP_DIR", str(Path(tempfile.gettempdir()) / "cmms-imports")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Cache: shared Redis when CACHE_URL is set (rate limits across processes), else local memory.
CACHE_URL = env_str("CACHE_URL")
if CACHE_URL:
    if not CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured("CACHE_URL must be a redis:// or rediss:// URL.")
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# E-mail
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "cmms@localhost")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# Outbound events (integrations app, docs/webhooks-outbound.md). Endpoints must resolve to
# public addresses only, unless private networks are allowed (a plant's LAN receiver, tests);
# plain http is accepted only then or with DEBUG. A POST times out after the seconds given
# (connecting: 3 s); a failed delivery is retried after each delay of the schedule (seconds,
# comma-separated; 8 attempts over about 28 hours by default) and then given up; an endpoint
# failing for longer than the hours given is disabled and its owner e-mailed.
WEBHOOK_ALLOW_PRIVATE_NETWORKS = env_bool("WEBHOOK_ALLOW_PRIVATE_NETWORKS", False)
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1)
WEBHOOK_RETRY_SCHEDULE = env_int_list(
    "WEBHOOK_RETRY_SCHEDULE",
    [10, 60, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600],
    minimum=0,
)
WEBHOOK_DISABLE_AFTER_HOURS = env_int("WEBHOOK_DISABLE_AFTER_HOURS", 72, minimum=1)
# How long a worker holds a delivery it sends (a killed worker's delivery is sent again after
# it), and how often the sweeper queues due deliveries whose message may be lost.
WEBHOOK_LEASE_SECONDS = env_int("WEBHOOK_LEASE_SECONDS", 60, minimum=1)
WEBHOOK_SWEEP_SECONDS = env_int("WEBHOOK_SWEEP_SECONDS", 60, minimum=1)
# Events (with their deliveries and attempts) are kept this long once nothing is pending.
WEBHOOK_KEEP_DAYS = env_int("WEBHOOK_KEEP_DAYS", 30, minimum=1)

# Celery: without a broker the demo runs tasks in-process (eager).
CELERY_TASK_ALWAYS_EAGER = not env_str("CELERY_BROKER_URL")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or "memory://"
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing must fail fast when the broker is down: the outbox sweeper re-enqueues later.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 1,
    "socket_timeout": 2,
    "max_retries": 0,
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 300, minimum=10),
}
CELERY_TASK_PUBLISH_RETRY = False
# At-least-once processing: a task is acknowledged after it ran, and redelivered if the worker
# dies mid-task; the services are idempotent. One message at a time per process, so a long task
# never holds others hostage; due dates live in the database, not in long ETA messages.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = env_int("CELERY_PREFETCH_MULTIPLIER", 1, minimum=1)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 60, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 90, minimum=1)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "alerts.tasks.process_alert": {"queue": "alerts"},
    "alerts.tasks.enqueue_alerts": {"queue": "alerts"},
    "alerts.tasks.process_alerts": {"queue": "alerts"},
    "alerts.tasks.sweep_alerts": {"queue": "housekeeping"},
    "pm.tasks.generate_pm_work_orders": {"queue": "housekeeping"},
    "pm.tasks.generate_round_runs": {"queue": "housekeeping"},
    "planner.tasks.refresh_dashboard_figures": {"queue": "housekeeping"},
    "sync.tasks.prune_tombstones": {"queue": "housekeeping"},
    "sync.tasks.purge_idempotency_keys": {"queue": "housekeeping"},
    "integrations.tasks.delivery_send": {"queue": "default"},
    "integrations.tasks.deliveries_sweep": {"queue": "housekeeping"},
    "reports.tasks.send_monthly_reports": {"queue": "housekeeping"},
    "contracts.tasks.sla_warn": {"queue": "housekeeping"},
}
CELERY_BEAT_SCHEDULE: dict = {
    "alerts-sweep": {"task": "alerts.tasks.sweep_alerts", "schedule": 30.0},
    "pm-generate": {"task": "pm.tasks.generate_pm_work_orders", "schedule": 15 * 60.0},
    "rounds-generate": {"task": "pm.tasks.generate_round_runs", "schedule": 15 * 60.0},
    # planner.selectors.SNAPSHOT_EVERY_SECONDS
    "planner-dashboard": {"task": "planner.tasks.refresh_dashboard_figures", "schedule": 10 * 60.0},
    # fleet.checks: silent gateways and stale sensors (one query for the whole fleet), then
    # low batteries and outdated firmware, less often.
    "fleet-check": {"task": "fleet.tasks.check_connectivity", "schedule": 60.0},
    "fleet-upkeep": {"task": "fleet.tasks.check_upkeep", "schedule": 60 * 60.0},
    # sync: tombstones older than SYNC_TOMBSTONE_RETENTION_DAYS go.
    # monitoring: partitions ahead, hourly aggregates, retention (docs/monitoring.md).
    "measurements-partitions": {
        "task": "monitoring.tasks.ensure_measurement_partitions",
        "schedule": 24 * 3600.0,
    },
    "measurements-aggregate": {
        "task": "monitoring.tasks.aggregate_measurements",
        "schedule": 600.0,
    },
    "measurements-expire": {"task": "monitoring.tasks.expire_measurements", "schedule": 6 * 3600.0},
    # Anomaly alerts, projected crossings and proposed work (docs/monitoring.md).
    "condition-assess": {"task": "condition.tasks.assess_measurements", "schedule": 15 * 60.0},
    "sync-prune-tombstones": {"task": "sync.tasks.prune_tombstones", "schedule": 6 * 3600.0},
    # sync: idempotency keys older than IDEMPOTENCY_KEY_TTL_HOURS go.
    "sync-purge-idempotency-keys": {
        "task": "sync.tasks.purge_idempotency_keys",
        "schedule": 3600.0,
    },
    # integrations.delivery.deliveries_sweep: outbound deliveries whose message may be lost.
    "webhooks-sweep": {
        "task": "integrations.tasks.deliveries_sweep",
        "schedule": float(WEBHOOK_SWEEP_SECONDS),
    },
    # reports.services: last month's client reports, hourly on the 1st (sent once per customer
    # and month; a failed mail is retried the next hour).
    "reports-monthly": {
        "task": "reports.tasks.send_monthly_reports",
        "schedule": crontab(minute=17, hour="*", day_of_month="1"),
    },
    # contracts.warnings: SLA states refreshed, planners warned once per threshold.
    "sla-warn": {"task": "contracts.tasks.sla_warn", "schedule": 60.0},
}

# The partner's name on the monthly client report's cover and e-mail.
REPORT_PARTNER_NAME = env_str("REPORT_PARTNER_NAME", "Your maintenance partner")

# Incremental sync (docs/sync.md): deleted rows are listed at /api/v1/deletions/ this many days;
# a client that syncs less often than that must reload in full.
SYNC_TOMBSTONE_RETENTION_DAYS = env_int("SYNC_TOMBSTONE_RETENTION_DAYS", 90, minimum=1)

# Idempotent requests (docs/api.md): a request's Idempotency-Key is remembered this many hours;
# a retry later than that runs again. Longer than any device stays offline with queued actions
# (a week: a long weekend at a plant without coverage, with days to spare).
IDEMPOTENCY_KEY_TTL_HOURS = env_int("IDEMPOTENCY_KEY_TTL_HOURS", 168, minimum=1)

# IIoT fleet health (fleet app). Fleet work goes to a technician with this skill (code) at the
# gateway's site; unstarted silence work is closed when its gateway is heard again (False:
# it stays open, with the recovery on its timeline). A battery is low below the percentage,
# or when its trend runs it empty within the lead days; one sample is kept every so often.
FLEET_SKILL = env_str("FLEET_SKILL", "iiot")
FLEET_CLOSE_RECOVERED_WORK = env_bool("FLEET_CLOSE_RECOVERED_WORK", True)
FLEET_BATTERY_LOW_PERCENT = env_int("FLEET_BATTERY_LOW_PERCENT", 20, minimum=0)
FLEET_BATTERY_LEAD_DAYS = env_int("FLEET_BATTERY_LEAD_DAYS", 14, minimum=1)
FLEET_BATTERY_SAMPLE_EVERY_SECONDS = env_int(
    "FLEET_BATTERY_SAMPLE_EVERY_SECONDS", 6 * 3600, minimum=60
)
FLEET_BATTERY_KEEP_DAYS = env_int("FLEET_BATTERY_KEEP_DAYS", 90, minimum=7)

# MQTT (mqtt and sparkplug apps, docs/mqtt.md): the broker as one URL with the system's own
# credentials, mqtt[s]://user:password@host:port. Empty (the embedded demo): no consumer, and
# gateways get no broker clients. The system's client must hold Mosquitto's dynamic security
# admin role (it manages the gateways' clients and roles) and may subscribe to every topic.
MQTT_URL = env_str("MQTT_URL")
MQTT_CLIENT_ID = env_str("MQTT_CLIENT_ID", "cmms-consumer")
# The Sparkplug B host application id: the system publishes spBv1.0/STATE/{id}.
SPARKPLUG_HOST_ID = env_str("SPARKPLUG_HOST_ID", "cmms")
# Gateways' broker clients follow the database (mqtt.access): each change is queued on commit,
# and every gateway is reconciled every 10 minutes (two listings and one query when nothing
# changed), which repairs a lost message or a client changed behind the system's back.
CELERY_TASK_ROUTES["mqtt.tasks.sync_all_gateway_access"] = {"queue": "housekeeping"}
if MQTT_URL:
    CELERY_BEAT_SCHEDULE["mqtt-sync-access"] = {
        "task": "mqtt.tasks.sync_all_gateway_access",
        "schedule": 10 * 60.0,
    }

# Measurements (monitoring app, docs/monitoring.md): raw values are kept this many days, hourly
# aggregates this many; each aggregation run recomputes the hours this far back (late values).
MEASUREMENT_RAW_RETENTION_DAYS = env_int("MEASUREMENT_RAW_RETENTION_DAYS", 90, minimum=1)
MEASUREMENT_HOURLY_RETENTION_DAYS = env_int("MEASUREMENT_HOURLY_RETENTION_DAYS", 3 * 365, minimum=1)
MEASUREMENT_AGGREGATION_LOOKBACK_HOURS = env_int(
    "MEASUREMENT_AGGREGATION_LOOKBACK_HOURS", 48, minimum=1
)

# Gateway webhook: requests per gateway per minute (each gateway may override it),
# and how long an alert may stay `received` before the sweeper enqueues it again.
GATEWAY_RATE_LIMIT_PER_MINUTE = env_int("GATEWAY_RATE_LIMIT_PER_MINUTE", 6000, minimum=1)
ALERT_SWEEP_GRACE_SECONDS = env_int("ALERT_SWEEP_GRACE_SECONDS", 60, minimum=1)
ALERT_SWEEP_BATCH_SIZE = env_int("ALERT_SWEEP_BATCH_SIZE", 1000, minimum=1)

# Probes and metrics (ops app): /readyz fails when an alert waits longer than this (0: never,
# the age is only reported); /metrics answers a bearer METRICS_TOKEN or a staff session.
READYZ_MAX_ALERT_AGE_SECONDS = env_int("READYZ_MAX_ALERT_AGE_SECONDS", 0, minimum=0)
METRICS_TOKEN = env_str("METRICS_TOKEN")

_THROTTLE_RATE = re.compile(r"^\d+/(s|sec|second|m|min|minute|h|hour|d|day)$")
for _name, _default in (("API_THROTTLE_ANON", "1000/minute"), ("API_THROTTLE_USER", "5000/minute")):
    if not _THROTTLE_RATE.match(env_str(_name, _default)):
        raise ImproperlyConfigured(f"{_name} must look like 100/minute (per s, m, h or d).")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "cmms.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "cmms.api.filters.ScopedFilterBackend",
        "cmms.api.filters.OrderingFilter",  # ?ordering= where a view offers it
    ],
    "DEFAULT_PARSER_CLASSES": [
        "cmms.api.parsers.JSONParser",  # JSON nesting capped at 32 levels
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "cmms.api.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "cmms.api.exceptions.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # Per user (session or token) and per client IP for anonymous calls; 429 with Retry-After.
    "DEFAULT_THROTTLE_CLASSES": [
        "cmms.api.throttling.AnonRateThrottle",
        "cmms.api.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "1000/minute"),
        "user": env_str("API_THROTTLE_USER", "5000/minute"),
    },
}
# API tokens (django-rest-knox): hashed at rest, one per device, each revocable on its own.
# A token issued without an explicit lifetime expires after API_TOKEN_TTL_DAYS (0: never).
KNOX_TOKEN_MODEL = "accounts.ApiToken"
# knox's own migrations would create its unused default table even though the model is swapped
# (its table would then block flushing the users table); accounts owns the only token table.
MIGRATION_MODULES = {"knox": None}
API_TOKEN_TTL_DAYS = env_int("API_TOKEN_TTL_DAYS", 90, minimum=0)
# Live tokens one account may hold at once (every request of a user reads all of them).
API_TOKEN_LIMIT_PER_USER = env_int("API_TOKEN_LIMIT_PER_USER", 20, minimum=1)
REST_KNOX = {
    "TOKEN_MODEL": KNOX_TOKEN_MODEL,
    "TOKEN_TTL": timedelta(days=API_TOKEN_TTL_DAYS) if API_TOKEN_TTL_DAYS else None,
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "CMMS API",
    "DESCRIPTION": "Assets, work orders, condition alerts and preventive maintenance.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": ENUM_NAME_OVERRIDES,
    # Enum components first, then ours: error bodies, one enum per concept, named members.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "cmms.api.openapi.postprocess_schema",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # WeasyPrint logs every rendering step (and its default CSS at import) at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
