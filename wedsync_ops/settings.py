"""Settings, all driven by the environment (django-environ).

Two modes:
- embedded default (no DATABASE_URL / REDIS_URL): SQLite under var/, in-memory
  channel layer, local-memory cache, Celery tasks run eagerly in-process and
  periodic jobs run on an in-process scheduler inside the one server process.
- full stack (DATABASE_URL and REDIS_URL set): PostgreSQL, channels_redis,
  Redis cache, Celery over Redis with separate worker and beat processes.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Runtime state of the embedded default (SQLite file, dev secret key, demo logins).
VAR_DIR = Path(env.str("WEDSYNC_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)
if env.str("PROMETHEUS_MULTIPROC_DIR", default=""):
    Path(env.str("PROMETHEUS_MULTIPROC_DIR")).mkdir(parents=True, exist_ok=True)

DATABASE_URL = env.str("DATABASE_URL", default="")
REDIS_URL = env.str("REDIS_URL", default="")
FULL_STACK = bool(DATABASE_URL and REDIS_URL)
# Namespace for every Redis key and pub/sub channel of ours (pub/sub ignores the DB number).
REDIS_PREFIX = env.str("REDIS_PREFIX", default="wso")
EMBEDDED = not FULL_STACK

# The demo on a laptop runs with DEBUG on; the full stack defaults to production.
DEBUG = env.bool("DEBUG", default=EMBEDDED)


def _secret_key() -> str:
    key = env.str("SECRET_KEY", default="")
    if key:
        if not DEBUG and (len(key) < 50 or len(set(key)) < 5 or key.startswith("django-insecure")):
            raise ImproperlyConfigured(
                "SECRET_KEY is too weak for DEBUG=False: use at least 50 random characters."
            )
        return key
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off; refusing to start without one."
        )
    # Development only: a key kept under var/ so sessions survive restarts.
    path = VAR_DIR / "dev-secret-key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64))
    return path.read_text().strip()


SECRET_KEY = _secret_key()

# (The test runner adds "testserver" itself.)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "channels",
    "axes",
    "csp",
    "apps.accounts",
    "apps.weddings",
    "apps.monitoring",
    "apps.alerts",
    "apps.dashboards",
    "apps.realtime",
    "apps.caching",
    "apps.scaling",
    "apps.statuspages",
]

MIDDLEWARE = [
    # First: X-Forwarded-* from the proxy only, and the in-flight count for the drain.
    "wedsync_ops.middleware.FrontDoorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # WhiteNoise, async-capable: every middleware here must be, or Daphne serves one
    # request at a time (wedsync_ops/middleware.py says why).
    "wedsync_ops.middleware.StaticFilesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "wedsync_ops.middleware.DatabaseUnavailableMiddleware",
    # Last, as django-axes asks: it turns lockouts into responses.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "wedsync_ops.urls"
ASGI_APPLICATION = "wedsync_ops.asgi.application"
WSGI_APPLICATION = "wedsync_ops.wsgi.application"

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
                "wedsync_ops.context.site",
                "apps.alerts.context.open_incidents",
            ],
        },
    },
]

# --- database -----------------------------------------------------------------
if DATABASE_URL:
    DATABASES = {"default": env.db_url("DATABASE_URL")}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "wedsync.sqlite3",
            # The demo's server, its in-process jobs and the simulator all write at once.
            # WAL lets reads run beside a write; IMMEDIATE takes the write lock when a
            # transaction begins, so two transactions never deadlock upgrading a read
            # lock (SQLite answers that with "database is locked" at once, whatever the
            # timeout); the timeout (seconds) is how long a writer waits for the lock.
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
                ),
            },
        }
    }
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60 if FULL_STACK else 0)
# After a PostgreSQL restart, persistent connections fail the first request unless checked.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Under ASGI every request runs its sync code in a thread of its own, so Django's
# thread-local persistent connections are never reused: each request paid a new
# PostgreSQL backend (fork + auth), the largest single cost of a metrics POST. The ASGI
# entry point (wedsync_ops/asgi.py) turns this pool on; management commands and Celery's
# forked workers keep plain persistent connections (a pool must not cross a fork).
DATABASE_POOL = bool(DATABASE_URL) and env.bool("DATABASE_POOL", default=False)
if DATABASE_POOL:
    # (CONN_HEALTH_CHECKS above also makes Django check each pooled connection at
    # checkout, so a PostgreSQL restart costs no failed request.)
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # Django refuses a pool with persistent conns
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN", default=2),
        "max_size": env.int("DATABASE_POOL_MAX", default=20),
        # A request waits at most this long for a connection, then gets 503 + Retry-After
        # (DatabaseUnavailableMiddleware): a PostgreSQL outage shorter than this is felt
        # as latency, a longer one tells callers to back off instead of hanging them.
        "timeout": env.float("DATABASE_POOL_TIMEOUT", default=2.0),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache, channels, celery ---------------------------------------------------
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_PREFIX,
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
                # A Redis blip must not turn every cached read into a 500.
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": REDIS_PREFIX + ":asgi"},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True

CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=90)
# A task on a SIGKILLed worker is re-run after this (default 3,600 s is far too long).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", 120)}
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# In the embedded default the periodic jobs run on a thread inside the server process.
RUN_EMBEDDED_SCHEDULER = env.bool("RUN_EMBEDDED_SCHEDULER", default=EMBEDDED)

# --- auth ---------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"

# How long a process remembers an API token's user and groups (apps/accounts/token_cache):
# the bound on how late a revoked token or a role change is noticed by other processes.
TOKEN_CACHE_SECONDS = env.float("TOKEN_CACHE_SECONDS", default=5.0)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so an unauthenticated call gets 401 with WWW-Authenticate.
        "apps.weddings.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "apps.accounts.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # JSON bodies of record-editing views must be objects (apps/accounts/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "apps.accounts.parsers.ObjectJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "apps.core.throttling.AnonRateThrottle",  # one cache round trip a request
        "apps.core.throttling.UserRateThrottle",
    ],
    # Throttle counters live in the default cache: Redis in the full stack.
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="60/min"),
        "user": env.str("THROTTLE_USER", default="6000/min"),
        "login": env.str("THROTTLE_LOGIN", default="20/min"),
    },
    "EXCEPTION_HANDLER": "apps.accounts.errors.exception_handler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "WedSync Ops API",
    "DESCRIPTION": (
        "Operations console for the WedSync realtime layer. "
        "The same schema as a reference: [ReDoc](/api/redoc/)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "wedsync_ops.schema.local_times",
        "wedsync_ops.schema.non_blank_strings",
        "wedsync_ops.schema.crud_links",
    ],
    # Several models have a `kind` field with different choices: name each enum.
    "ENUM_NAME_OVERRIDES": {
        "SupplierKindEnum": "apps.weddings.models.Supplier.Kind",
        "WidgetKindEnum": "apps.dashboards.models.WidgetKind",
        "AlertRuleKindEnum": "apps.alerts.models.AlertRule.Kind",
        "NotificationChannelKindEnum": "apps.alerts.models.NotificationChannel.Kind",
        "NotificationKindEnum": "apps.alerts.models.Notification.Kind",
    },
}

# --- i18n, static -------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# The JS client SDK is served to browsers as it is in clients/js/src (ES modules): the
# dashboards' reconnect core, and the module a browser app may load from the server.
STATICFILES_DIRS = [BASE_DIR / "static", ("wedsync-realtime", BASE_DIR / "clients" / "js" / "src")]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Serve straight from the finders too, so a checkout works before collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
if DEBUG:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

# --- security -----------------------------------------------------------------
# HTTPS defaults on whenever DEBUG is off; turn off only for local plain-HTTP runs.
HTTPS = env.bool("HTTPS", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# X-Forwarded-* (and so SECURE_PROXY_SSL_HEADER) count only from these peers: the full
# stack's HAProxy on the same host. From anyone else FrontDoorMiddleware drops them.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=["127.0.0.1", "::1"])
SECURE_SSL_REDIRECT = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # pages read it to send X-CSRFToken on fetch()

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # Plotly sets inline styles on the elements it draws.
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "connect-src": ["'self'", "ws:", "wss:"],
        "font-src": ["'self'", "data:"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# --- email --------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="ops@wedsync.local")

# --- logging ------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    # The embedded demo runs Celery's tasks in its own process: at INFO each of them logs
    # a line every few seconds (thousands an hour). WARNING unless LOG_LEVEL asks.
    "root": {
        "handlers": ["console"],
        "level": env.str("LOG_LEVEL", default="WARNING" if EMBEDDED else "INFO"),
    },
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

# --- front processes (wedsync_ops/front.py, wedsync_ops/shutdown.py) ------------------
# On SIGTERM a front process fails its health check for FRONT_DRAIN_SECONDS (front.py
# sets it from the proxy's check interval; 0 for a process with no proxy in front),
# then waits at most the grace for in-flight requests and the gateway's sockets, then
# exits, abandoning whatever is left.
FRONT_DRAIN_SECONDS = env.float("FRONT_DRAIN_SECONDS", default=0.0)
FRONT_SHUTDOWN_GRACE_SECONDS = env.float("FRONT_SHUTDOWN_GRACE_SECONDS", default=10.0)

# --- product settings ---------------------------------------------------------
def _public_url() -> str:
    """Base of the links in notifications (alerts, incidents). Celery workers send them
    and know no request and no web port, so the full stack in production must say where
    operators reach the console; elsewhere it is this server's own port."""
    url = env.str("ALERTS_PUBLIC_URL", default="").rstrip("/")
    if url:
        return url
    if FULL_STACK and not DEBUG:
        raise ImproperlyConfigured(
            "ALERTS_PUBLIC_URL must be set in the full stack with DEBUG off (e.g. "
            "https://ops.example.com): notification links point there; refusing to start "
            "rather than send dead links."
        )
    return f"http://127.0.0.1:{env.int('PORT', default=8000)}"


ALERTS_PUBLIC_URL = _public_url()

WEDSYNC = {
    # How long before the ceremony a wedding counts as live (wedding-day mode).
    "LIVE_LEAD_MINUTES": env.int("WEDSYNC_LIVE_LEAD_MINUTES", default=120),
    "LIVE_TAIL_MINUTES": env.int("WEDSYNC_LIVE_TAIL_MINUTES", default=60),
    "COLLECT_INTERVAL_SECONDS": env.float("WEDSYNC_COLLECT_INTERVAL", default=5.0),
    "COLLECT_INTERVAL_LIVE_SECONDS": env.float("WEDSYNC_COLLECT_INTERVAL_LIVE", default=1.0),
}

# Wedding status pages (apps.statuspages.conf has the meaning of each).
STATUSPAGES = {
    "RATE_PER_MINUTE": env.int("STATUSPAGES_RATE_PER_MINUTE", default=120),
    "MISSES_PER_MINUTE": env.int("STATUSPAGES_MISSES_PER_MINUTE", default=10),
    "LIVE_TICK_SECONDS": env.float("STATUSPAGES_LIVE_TICK_SECONDS", default=1.0),
    "POLL_SECONDS": env.int("STATUSPAGES_POLL_SECONDS", default=5),
    "NOTIFY_MIN_INTERVAL_SECONDS": env.int("STATUSPAGES_NOTIFY_MIN_INTERVAL", default=60),
    "NOTIFY_EVERY_SECONDS": env.float("STATUSPAGES_NOTIFY_EVERY_SECONDS", default=10.0),
    "PUBLIC_URL": env.str("STATUSPAGES_PUBLIC_URL", default=""),
}

STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "wedsync_ops.staticfinders.PlotlyFinder",
]
