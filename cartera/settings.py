"""Cartera settings, read from environment variables.

SQLite (WAL mode) is the embedded default; PostgreSQL is selected with
``DATABASE_URL=postgres://...``. See docs/configuration.md for every variable.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.utils.translation import gettext_lazy as _

from cartera.core.mail_settings import email_settings

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("CARTERA_DATA_DIR", BASE_DIR.parent / "var")).resolve()


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_key() -> str:
    """The key from SECRET_KEY, or one generated once and kept in the data directory."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = DATA_DIR / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(50)
        path.write_text(key)
        path.chmod(0o600)
        return key


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

# Behind TLS (the production default) cookies are secure and HTTP redirects to HTTPS.
HTTPS = env_bool("CARTERA_HTTPS", not DEBUG)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "cartera.core",
    "cartera.accounts",
    "cartera.audit",
    "cartera.customers",
    "cartera.privacy",
    "cartera.activities",
    "cartera.quality",
    "cartera.transfer",
    "cartera.sales",
    "cartera.insights",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "cartera.core.middleware.UserLanguageMiddleware",
    "cartera.api.MethodNotAllowedMiddleware",
    "cartera.audit.middleware.AuditSourceMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "cartera.accounts.middleware.SessionExpiryMiddleware",
    "cartera.accounts.middleware.TwoFactorRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "cartera.core.middleware.ContentSecurityPolicyMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cartera.urls"
WSGI_APPLICATION = "cartera.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cartera.core.context_processors.company",
                "cartera.core.context_processors.navigation",
            ],
        },
    },
]
# Django's form templates, with <select> written in Python (250 countries in one picker).
FORM_RENDERER = "cartera.core.renderers.FormRenderer"

# --- Database -----------------------------------------------------------------

_SQLITE_PATH = DATA_DIR / "cartera.sqlite3"
DATABASES: dict[str, Any] = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{_SQLITE_PATH}"), conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # Writers take the lock when the transaction starts, so two writers queue
        # behind the busy timeout instead of failing with "database is locked".
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
            "PRAGMA foreign_keys=ON;"
            "PRAGMA cache_size=-64000;"
            "PRAGMA temp_store=MEMORY;"
        ),
    }
    if str(DATABASES["default"]["NAME"]).startswith(str(DATA_DIR)):
        DATA_DIR.mkdir(parents=True, exist_ok=True)
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth ---------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
# django-axes first: it refuses a locked-out username before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "activities:today"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", 60 * 60 * 12))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
# Sessions also end after this long without a request (cartera.accounts.middleware).
CARTERA_IDLE_MINUTES = int(os.environ.get("CARTERA_IDLE_MINUTES", 60))

# Login lockout (django-axes): a username is locked on one address after repeated failures.
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", 15)))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "cartera.accounts.signin.lockout_response"
AXES_CLIENT_IP_CALLABLE = "cartera.core.ratelimit.client_ip"
# No usernames or addresses in log lines, no log of every successful login in the database.
AXES_VERBOSE = False
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code"]
AXES_DISABLE_ACCESS_LOG = True

# --- Security -----------------------------------------------------------------

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if HTTPS:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [] if env_bool("SECURE_HSTS_PRELOAD", False) else ["security.W021"]

# --- Internationalisation -------------------------------------------------------

LANGUAGES = [("es", _("Spanish")), ("en", _("English"))]
# The language of users who chose none, of what is sent to them, and of the commands.
LANGUAGE_CODE = os.environ.get("CARTERA_LANGUAGE", "").strip().lower() or "es"
LANGUAGE_CODES = frozenset(code for code, _name in LANGUAGES)  # what a user may choose
if LANGUAGE_CODE not in LANGUAGE_CODES:
    raise ValueError(f"CARTERA_LANGUAGE must be es or en, not {LANGUAGE_CODE!r}.")
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Madrid")
USE_I18N = True
USE_TZ = True
LANGUAGE_COOKIE_NAME = "cartera_language"
LANGUAGE_COOKIE_SAMESITE = "Lax"

# --- Static and uploaded files ------------------------------------------------------

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", DATA_DIR / "media"))
# Assets are served from the package itself: no collectstatic step, no CDN.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
# Uploaded documents: the local disk under MEDIA_ROOT (never served at a public URL), or
# any Django storage backend named here with its options as JSON (docs/documents.md).
STORAGES = {
    "default": {
        "BACKEND": os.environ.get(
            "CARTERA_FILE_STORAGE", "django.core.files.storage.FileSystemStorage"
        ),
        "OPTIONS": json.loads(os.environ.get("CARTERA_FILE_STORAGE_OPTIONS") or "{}"),
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Background jobs -------------------------------------------------------------------

# Jobs are rows in the database, run by `cartera worker` (see docs/jobs.md and core/jobs.py).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": []}}

# --- E-mail -------------------------------------------------------------------------

_EMAIL = email_settings(os.environ)  # EMAIL_URL, EMAIL_HOST... (docs/configuration.md)
EMAIL_BACKEND: str = _EMAIL["EMAIL_BACKEND"]
EMAIL_HOST: str = _EMAIL["EMAIL_HOST"]
EMAIL_PORT: int = _EMAIL["EMAIL_PORT"]
EMAIL_HOST_USER: str = _EMAIL["EMAIL_HOST_USER"]
EMAIL_HOST_PASSWORD: str = _EMAIL["EMAIL_HOST_PASSWORD"]
EMAIL_USE_TLS: bool = _EMAIL["EMAIL_USE_TLS"]
EMAIL_USE_SSL: bool = _EMAIL["EMAIL_USE_SSL"]
EMAIL_TIMEOUT: int = _EMAIL["EMAIL_TIMEOUT"]
EMAIL_FILE_PATH: str = _EMAIL["EMAIL_FILE_PATH"]
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "cartera@localhost")
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
# Where users reach Cartera: links in e-mails and calendar feeds are built on it.
CARTERA_BASE_URL = os.environ.get("CARTERA_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# --- Logging --------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# --- Cartera ---------------------------------------------------------------------------

CARTERA_PAGE_SIZE = int(os.environ.get("CARTERA_PAGE_SIZE", 25))
CARTERA_API_MAX_PAGE_SIZE = 200
# Lists count at most this many rows; past it they say "more than" (fast on a million).
CARTERA_MAX_COUNT = int(os.environ.get("CARTERA_MAX_COUNT", 10000))
# A search reads at most this many matches of the index; filters, sort and count apply to them.
CARTERA_MAX_SEARCH_COUNT = int(os.environ.get("CARTERA_MAX_SEARCH_COUNT", 200))
# Purchase activity: days since the last invoice until a customer is pre-inactive / inactive
# (a customer group may set its own).
CARTERA_PRE_INACTIVE_DAYS = int(os.environ.get("CARTERA_PRE_INACTIVE_DAYS", 30))
CARTERA_INACTIVE_DAYS = int(os.environ.get("CARTERA_INACTIVE_DAYS", 45))
# The most customers one bulk action (tag, reassign, status...) may change at once.
CARTERA_BULK_MAX = int(os.environ.get("CARTERA_BULK_MAX", 10000))

# Request rates ("600/minute", "20/10m", "5000/hour"), counted in the cache below.
CARTERA_API_RATE = os.environ.get("CARTERA_API_RATE", "600/minute")  # per token or user
CARTERA_API_ANON_RATE = os.environ.get("CARTERA_API_ANON_RATE", "60/minute")  # per address
CARTERA_LOGIN_RATE = os.environ.get("CARTERA_LOGIN_RATE", "30/minute")  # per address
CARTERA_CALENDAR_RATE = os.environ.get("CARTERA_CALENDAR_RATE", "60/hour")  # per calendar feed
# Reverse proxies in front of the app whose X-Forwarded-For is trusted for client addresses.
CARTERA_PROXY_COUNT = int(os.environ.get("CARTERA_PROXY_COUNT", 0))

# Uploaded files: the size limit and the extensions accepted (content checked, see core/uploads).
CARTERA_UPLOAD_MAX_MB = int(os.environ.get("CARTERA_UPLOAD_MAX_MB", 20))
# The largest spreadsheet an import accepts (a million rows of CSV is about 150 MB).
CARTERA_IMPORT_MAX_MB = int(os.environ.get("CARTERA_IMPORT_MAX_MB", 200))
# Helper processes validating a large file's rows (empty: one per processor, at most 4; 0: none).
CARTERA_IMPORT_WORKERS = (
    int(os.environ["CARTERA_IMPORT_WORKERS"]) if os.environ.get("CARTERA_IMPORT_WORKERS") else None
)
CARTERA_UPLOAD_EXTENSIONS = env_list(
    "CARTERA_UPLOAD_EXTENSIONS", "pdf,png,jpg,jpeg,gif,webp,docx,xlsx,odt,ods,txt,csv"
)
# Documents attached to customers: their own size limit and extensions (same content checks).
CARTERA_ATTACHMENT_MAX_MB = int(os.environ.get("CARTERA_ATTACHMENT_MAX_MB", 20))
CARTERA_ATTACHMENT_TYPES = env_list(
    "CARTERA_ATTACHMENT_TYPES", "pdf,png,jpg,jpeg,gif,webp,docx,xlsx,odt,ods,txt,csv"
)


def _caches() -> dict[str, Any]:
    """CACHE_URL=redis://... shares the cache (and so the rate limits) between processes."""
    url = os.environ.get("CACHE_URL", "").strip()
    backends = "django.core.cache.backends"
    if url.startswith(("redis://", "rediss://", "unix://")):
        if importlib.util.find_spec("redis") is not None:
            return {"default": {"BACKEND": f"{backends}.redis.RedisCache", "LOCATION": url}}
        warnings.warn(
            "CACHE_URL names Redis but the redis package is not installed: "
            "using a per-process memory cache.",
            stacklevel=1,
        )
    return {"default": {"BACKEND": f"{backends}.locmem.LocMemCache", "LOCATION": "cartera"}}


CACHES = _caches()
