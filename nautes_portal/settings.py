"""Settings for the Nautes portal, read only from environment variables (DESIGN.md §9).

Defaults give the embedded setup: SQLite, local git repositories and a local OpenBao, all under
NAUTES_DATA_DIR.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from nautes_portal.datadir import create_once, ensure_empty_file, private_dir, private_file

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {raw!r}")


def env_secret(name: str, default: str = "") -> str:
    """Read NAME, or the file NAME_FILE points to (Kubernetes and Vault-agent mounts)."""
    if path := os.environ.get(f"{name}_FILE"):
        return Path(path).read_text().strip()
    return os.environ.get(name, default)


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# ---- Local state -----------------------------------------------------------
NAUTES_DATA_DIR = Path(os.environ.get("NAUTES_DATA_DIR", BASE_DIR / "var")).resolve()


def _generated_secret_key() -> str:
    """A per-installation key kept in the data directory (0600), created on first use.

    Processes started together on a fresh directory all end up with the same key: the first
    to link its file wins, the others read it (`datadir.create_once`).
    """
    private_dir(NAUTES_DATA_DIR)
    key = create_once(NAUTES_DATA_DIR / "secret_key", lambda: secrets.token_urlsafe(50)).strip()
    if not key:
        raise ImproperlyConfigured("The data directory's secret_key file is empty; remove it.")
    return key


# ---- Django basics ---------------------------------------------------------
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_secret("SECRET_KEY") or _generated_secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    # Local apps first so their management commands (drf_create_token) win.
    "nautes_portal",
    "clusters",
    "products",
    "deployments",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "django_q",
    "mozilla_django_oidc",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "nautes_portal.middleware.SecurityHeadersMiddleware",
    "nautes_portal.middleware.ApiTrailingSlashMiddleware",  # before anything reads the path
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into the login page (429)
]

ROOT_URLCONF = "nautes_portal.urls"
WSGI_APPLICATION = "nautes_portal.wsgi.application"

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

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{NAUTES_DATA_DIR / 'portal.sqlite3'}",
        # Seconds a connection is kept between requests (0: one per request). Kept ones are
        # checked before reuse, so a database restart costs one failed check, not an error.
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web processes and the worker share the file. WAL: readers never wait for the writer.
    # IMMEDIATE: a transaction takes the write lock when it begins, so it waits (up to the busy
    # timeout) for another writer instead of failing with "database is locked" when a read
    # transaction tries to become a write one. NORMAL is durable enough with WAL.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": float(os.environ.get("NAUTES_SQLITE_TIMEOUT", "20")),
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        }
    )
    _sqlite_file = Path(str(DATABASES["default"]["NAME"]))
    if _sqlite_file.parent == NAUTES_DATA_DIR:
        # Session keys and password hashes: owner-only, and so are the -wal/-shm files SQLite
        # gives the database file's mode.
        private_dir(NAUTES_DATA_DIR)
        ensure_empty_file(_sqlite_file)  # an existing one made before this rule is tightened
        for _suffix in ("-wal", "-shm"):
            private_file(_sqlite_file.with_name(_sqlite_file.name + _suffix))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("NAUTES_STATIC_ROOT", NAUTES_DATA_DIR / "staticfiles"))

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Behind TLS (production): secure cookies, HSTS and the proxy's scheme header.
NAUTES_HTTPS = env_bool("NAUTES_HTTPS", False)
if NAUTES_HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading commits the whole domain to HTTPS in every browser; portals in closed
        # networks are rarely on the public list, so it is an explicit opt-in.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# ---- REST API --------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "nautes_portal.api.auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # Body size and nesting limits (#12): DRF skips Django's DATA_UPLOAD_MAX_MEMORY_SIZE.
    "DEFAULT_PARSER_CLASSES": ["nautes_portal.limits.BoundedJSONParser"],
    "EXCEPTION_HANDLER": "nautes_portal.api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Nautes Portal API",
    "DESCRIPTION": "Wire-compatible with the Nautes v0.4.2 API server, plus portal extensions.",
    "VERSION": "0.4.2-portal",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Closed networks: Swagger UI is served from the installed package, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# ---- Nautes ----------------------------------------------------------------
NAUTES_TENANT = os.environ.get("NAUTES_TENANT", "tenant")
NAUTES_GIT_BACKEND = os.environ.get("NAUTES_GIT_BACKEND", "local")
if NAUTES_GIT_BACKEND not in ("local", "gitlab"):
    raise ImproperlyConfigured("NAUTES_GIT_BACKEND must be 'local' or 'gitlab'")
NAUTES_GIT_DIR = NAUTES_DATA_DIR / "git"
NAUTES_CODE_REPO_PROVIDER = os.environ.get("NAUTES_CODE_REPO_PROVIDER", "gitlab")
NAUTES_DEFAULT_PROJECT = "default.project"

GITLAB_URL = os.environ.get("GITLAB_URL", "")
GITLAB_TOKEN = env_secret("GITLAB_TOKEN")
GITLAB_TENANT_REPO = os.environ.get("GITLAB_TENANT_REPO", f"nautes/{NAUTES_TENANT}")
GITLAB_WEBHOOK_SECRET = env_secret("GITLAB_WEBHOOK_SECRET")
GITLAB_TIMEOUT = float(os.environ.get("GITLAB_TIMEOUT", "10"))
# Where code-repository webhooks point (the events listener); empty: no webhook is created.
NAUTES_CODEREPO_WEBHOOK_URL = os.environ.get("NAUTES_CODEREPO_WEBHOOK_URL", "")
if NAUTES_GIT_BACKEND == "gitlab" and not (GITLAB_URL and GITLAB_TOKEN):
    raise ImproperlyConfigured("NAUTES_GIT_BACKEND=gitlab needs GITLAB_URL and GITLAB_TOKEN")
# Identities resolved from GitLab tokens are cached (by the token's hash) this many seconds.
NAUTES_TOKEN_CACHE_SECONDS = int(os.environ.get("NAUTES_TOKEN_CACHE_SECONDS", "60"))

# ---- Login -------------------------------------------------------------------
# GitLab OIDC when OIDC_RP_CLIENT_ID is set (endpoints derived from GITLAB_URL unless the
# OIDC_OP_* variables are given); local accounts stay for the embedded default and break-glass.
OIDC_RP_CLIENT_ID = os.environ.get("OIDC_RP_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = env_secret("OIDC_RP_CLIENT_SECRET")
OIDC_ENABLED = bool(OIDC_RP_CLIENT_ID)
_GITLAB = GITLAB_URL.rstrip("/")
OIDC_OP_ISSUER = os.environ.get("OIDC_OP_ISSUER", _GITLAB)
OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ.get(
    "OIDC_OP_AUTHORIZATION_ENDPOINT", f"{_GITLAB}/oauth/authorize"
)
OIDC_OP_TOKEN_ENDPOINT = os.environ.get("OIDC_OP_TOKEN_ENDPOINT", f"{_GITLAB}/oauth/token")
OIDC_OP_USER_ENDPOINT = os.environ.get("OIDC_OP_USER_ENDPOINT", f"{_GITLAB}/oauth/userinfo")
OIDC_OP_JWKS_ENDPOINT = os.environ.get("OIDC_OP_JWKS_ENDPOINT", f"{_GITLAB}/oauth/discovery/keys")
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_RP_SCOPES = "openid profile email"
OIDC_USE_NONCE = True
OIDC_VERIFY_KID = True
OIDC_TIMEOUT = 10
OIDC_CALLBACK_CLASS = "mozilla_django_oidc.views.OIDCAuthenticationCallbackView"
OIDC_VERIFY_SSL = env_bool("OIDC_VERIFY_SSL", True)
NAUTES_LOCAL_LOGIN = env_bool("NAUTES_LOCAL_LOGIN", True)

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out (user, address)
    *(["nautes_portal.auth.GitLabOIDCBackend"] if OIDC_ENABLED else []),
    *(["django.contrib.auth.backends.ModelBackend"] if NAUTES_LOCAL_LOGIN else []),
]

# Password logins (the login page and the admin's) are throttled by django-axes per (username,
# client address): after NAUTES_LOGIN_FAILURE_LIMIT failures that pair is refused for
# NAUTES_LOGIN_COOLOFF_MINUTES, and every refused attempt starts the wait again. OIDC logins carry
# no password and are GitLab's to throttle. The client address is REMOTE_ADDR, or, behind
# NAUTES_TRUSTED_PROXIES reverse proxies, the address the outermost one saw (login_throttle.py).
AXES_ENABLED = env_bool("NAUTES_LOGIN_THROTTLE", True)
AXES_FAILURE_LIMIT = int(os.environ.get("NAUTES_LOGIN_FAILURE_LIMIT", "5"))
NAUTES_LOGIN_COOLOFF_MINUTES = int(os.environ.get("NAUTES_LOGIN_COOLOFF_MINUTES", "15"))
AXES_COOLOFF_TIME = "nautes_portal.login_throttle.cool_off"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_WHITELIST_CALLABLE = "nautes_portal.login_throttle.not_a_password_login"
AXES_LOCKOUT_CALLABLE = "nautes_portal.login_throttle.lockout_response"
NAUTES_TRUSTED_PROXIES = int(os.environ.get("NAUTES_TRUSTED_PROXIES", "0"))
AXES_CLIENT_IP_CALLABLE = "nautes_portal.login_throttle.client_address"
AXES_DISABLE_ACCESS_LOG = True  # throttling only: no per-login history of addresses

VAULT_ADDR = os.environ.get("VAULT_ADDR", "")
VAULT_TOKEN = env_secret("VAULT_TOKEN")
VAULT_ROLE_ID = os.environ.get("VAULT_ROLE_ID", "")
VAULT_SECRET_ID = env_secret("VAULT_SECRET_ID")
VAULT_CACERT = os.environ.get("VAULT_CACERT", "")
VAULT_TIMEOUT = float(os.environ.get("VAULT_TIMEOUT", "10"))
# Where the embedded OpenBao keeps its storage, unseal key and address (when VAULT_ADDR is unset).
NAUTES_OPENBAO_DIR = NAUTES_DATA_DIR / "openbao"

CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["CACHE_URL"],
        }
        if os.environ.get("CACHE_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# ---- Tasks (django-q2) -----------------------------------------------------
NAUTES_QUEUE = os.environ.get("NAUTES_QUEUE", "orm")
Q_CLUSTER: dict[str, object] = {
    "name": "nautes",
    "workers": int(os.environ.get("NAUTES_WORKERS", "2")),
    "timeout": 300,
    "retry": 360,
    "max_attempts": 1,
    "catch_up": False,
    "ack_failures": True,
}
if NAUTES_QUEUE == "orm":
    Q_CLUSTER["orm"] = "default"
else:
    Q_CLUSTER["redis"] = NAUTES_QUEUE

# Seconds between two reconcile passes of a runtime cluster (drift repair, #14); each cluster is
# shifted by a stable jitter of up to a fifth of it. Changes of the index reconcile at once.
NAUTES_RECONCILE_INTERVAL = int(os.environ.get("NAUTES_RECONCILE_INTERVAL", "300"))

# ---- Logging ---------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django_q": {"level": "WARNING"}},
}
