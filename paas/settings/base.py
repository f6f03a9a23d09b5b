"""Settings for every environment, read from the process environment (django-environ).

Embedded defaults (SQLite, filesystem broker, a file cache under var/) let ``make run`` start on a
fresh machine; production sets ``DEBUG=false`` and real URLs, and a missing secret fails at boot.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# OS environment wins over the file: read_env only sets variables that are not already set.
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")


def _checkout_secret(name: str) -> str:
    """A secret of this checkout's own, made once under ``var/`` and shared by every local process:
    a development server must not use a key anyone can read in the repository."""
    path = VAR_DIR / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Web, worker and beat start together: each writes a candidate, and the first hard link wins
        # atomically, so no process ever reads a half-written key.
        candidate = path.with_name(f"{name}.{os.getpid()}")
        with os.fdopen(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as key_file:
            key_file.write(secrets.token_urlsafe(50))
        try:
            os.link(candidate, path)
        except FileExistsError:
            pass
        finally:
            candidate.unlink()
    return path.read_text().strip()


# --- Core -------------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
# No default without DEBUG: production must set it.
SECRET_KEY = (env("SECRET_KEY", default="") or _checkout_secret("secret_key")) if DEBUG else env("SECRET_KEY")
# Previous keys, still accepted while a rotation is under way (docs/operations.md, Rotating secrets).
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_EXPOSE_HEADERS = ["Retry-After", "X-Request-ID"]

# Where a local run (make run) is reached; the default for links that production configures.
LOCAL_BASE_URL = f"http://localhost:{env.int('PORT', default=8000)}"

ROOT_URLCONF = "paas.urls"
WSGI_APPLICATION = "paas.wsgi.application"
ASGI_APPLICATION = "paas.asgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

INSTALLED_APPS = [
    "paas.admin_site.PaasAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_prometheus",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "paas",
    "accounts",
    "catalog",
    "templates",
    "billing",
    "notifications",
    "pods",
    "subscriptions",
    "workers",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "paas.middleware.RequestIdMiddleware",
    # App hosts (a stopped app's URL, or any app host locally) get the platform's page, nothing else.
    "pods.host_pages.AppHostMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# --- Database ---------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one file locally: WAL plus IMMEDIATE transactions avoid
    # "database is locked" when two processes write at once.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # The same backend, whose health check skips the SELECT 1 while the server is silent.
        DATABASES["default"]["ENGINE"] = "paas.postgres"

# --- Cache (throttling, idempotency keys, locks) ------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "paas",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    # Without Redis the web server, the worker and beat are separate processes: a cache on disk
    # is what lets them share throttle counters and the payment simulator's state, as Redis would.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": VAR_DIR / "cache",
            "KEY_PREFIX": "paas",
        }
    }

# --- Auth -------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "name")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Seconds a password-reset link stays valid; the token is also void once the password changes.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=2 * 60 * 60)
# Where the web frontend takes a reset link; {uid} and {token} are filled in.
PASSWORD_RESET_URL = env("PASSWORD_RESET_URL", default=LOCAL_BASE_URL + "/reset-password?uid={uid}&token={token}")

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "SIGNING_KEY": env("JWT_SIGNING_KEY", default=SECRET_KEY),
}

# --- REST API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # simplejwt's, with the user read through the cache (paas/api/authentication.py).
    "DEFAULT_AUTHENTICATION_CLASSES": ["paas.api.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["paas.api.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "paas.api.pagination.PageNumberPagination",
    "DEFAULT_FILTER_BACKENDS": [
        # django-filter's, skipped when the query string names no filter.
        "paas.api.filters.DjangoFilterBackend",
        # DRF's, but an unknown ordering is a 400 instead of being ignored.
        "paas.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "paas.api.exception_handler.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        # Per client address, and (login, reset) per target email so a botnet cannot
        # spread a guessing attack over many addresses.
        "login": env("THROTTLE_LOGIN", default="10/min"),
        "login_email": env("THROTTLE_LOGIN_EMAIL", default="5/min"),
        # Its own bucket: a client that refreshes often must not use up its address's logins.
        "refresh": env("THROTTLE_REFRESH", default="30/min"),
        "register": env("THROTTLE_REGISTER", default="10/hour"),
        "password_reset": env("THROTTLE_PASSWORD_RESET", default="5/hour"),
        "password_reset_email": env("THROTTLE_PASSWORD_RESET_EMAIL", default="3/hour"),
        "password_reset_confirm": env("THROTTLE_PASSWORD_RESET_CONFIRM", default="20/hour"),
        # Per user (paas.api.throttling.UserActionThrottle), for writes that move money, call the
        # payment gateway or the cluster, or make outgoing requests: one account cannot flood them.
        "topup": env("THROTTLE_TOPUP", default="20/hour"),
        "purchase": env("THROTTLE_PURCHASE", default="20/hour"),
        "subscription_change": env("THROTTLE_SUBSCRIPTION_CHANGE", default="30/hour"),
        "instance_action": env("THROTTLE_INSTANCE_ACTION", default="60/hour"),
        "webhook_test": env("THROTTLE_WEBHOOK_TEST", default="20/hour"),
    },
    # Behind a proxy, the client address is the last hop the proxy added.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "PaaS API",
    "DESCRIPTION": "One-click apps as prepaid subscriptions, each in the customer's own namespace.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and ReDoc come from this deployment's own static files: the docs work offline
    # and never change under us the way a CDN's @latest does.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a "status" field with their own choices: name each set explicitly.
    "ENUM_NAME_OVERRIDES": {
        "EmailMessageStatusEnum": "notifications.models.EmailMessage.Status",
        "WebhookDeliveryStatusEnum": "notifications.models.WebhookDelivery.Status",
        "TransactionStatusEnum": "billing.models.Transaction.Status",
        "InstanceStatusEnum": "pods.models.ServiceInstance.Status",
        "InstanceDesiredStateEnum": "pods.models.ServiceInstance.DesiredState",
        "SubscriptionStatusEnum": "subscriptions.models.Subscription.Status",
        "WorkerStatusEnum": "workers.models.WorkerNode.Status",
        "WorkerSourceEnum": "workers.models.WorkerNode.Source",
        "HistorySourceEnum": ["subscription", "instance"],
    },
    # Every operation documents the error envelope under each status it can answer.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "paas.api.schema.postprocess_error_responses",
    ],
}

# --- Static files -----------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Email ------------------------------------------------------------------------------------
# Locally the console backend prints mail; production names an anymail backend, e.g.
# anymail.backends.mailgun.EmailBackend, with its credentials in ANYMAIL.
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="PaaS <no-reply@localhost>")
ANYMAIL = env.json("ANYMAIL", default={})

# --- Webhooks ---------------------------------------------------------------------------------
# Off in production: deliveries to private, loopback or link-local addresses are SSRF.
WEBHOOKS_ALLOW_PRIVATE = env.bool("WEBHOOKS_ALLOW_PRIVATE", default=False)
# Seconds to connect, and to wait for each read of the answer, per delivery attempt.
WEBHOOKS_TIMEOUT = env.float("WEBHOOKS_TIMEOUT", default=5.0)
# Deliveries in a row that fail after every retry before an endpoint is turned off.
WEBHOOKS_DISABLE_AFTER_FAILURES = env.int("WEBHOOKS_DISABLE_AFTER_FAILURES", default=5)

# --- Celery -----------------------------------------------------------------------------------
# https://docs.celeryq.dev/en/stable/userguide/configuration.html
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
    }
    # The transport expects its folders to exist; web, worker and beat may start in any order.
    for _folder in ("queue", "control", "processed"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 5, "socket_timeout": 10}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = 5 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 4 * 60
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Keep Django's LOGGING (JSON in production, request ids) in worker and beat processes too.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The whole periodic schedule, in one reviewed place; the database scheduler copies it into
# django-celery-beat's tables at start, where operators can pause an entry from the admin.
CELERY_BEAT_SCHEDULE: dict = {
    # Expired refresh tokens pile up in the blacklist tables; once a day is plenty.
    "accounts-flush-expired-tokens": {
        "task": "accounts.tokens_flush_expired",
        "schedule": timedelta(hours=24),
        "options": {"expires": 60 * 60},
    },
    # Webhook retries wait in the database, not in the broker (hours-long countdowns would outlive
    # Redis' visibility timeout); every minute keeps the first retry (30 s) close to on time.
    "notifications-webhook-retry-due": {
        "task": "notifications.webhook_retry_due",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 50},
    },
    # Re-sends emails whose task message was lost (broker down at enqueue); rare, so 10 minutes.
    "notifications-email-requeue-stale": {
        "task": "notifications.email_requeue_stale",
        "schedule": timedelta(minutes=10),
        "options": {"expires": 9 * 60},
    },
    # Expires unpaid top-ups and asks the status API about stale ones, because Midtrans gives up
    # on a notification after ~5 retries; every 10 minutes keeps a paid top-up from waiting long.
    "billing-reconcile-topups": {
        "task": "billing.topups_reconcile",
        "schedule": timedelta(minutes=10),
        "options": {"expires": 9 * 60},
    },
    # Idempotency keys are honoured for 24 h; a daily purge keeps the table small.
    "paas-purge-idempotency-keys": {
        "task": "paas.idempotency_records_purge",
        "schedule": timedelta(hours=24),
        "options": {"expires": 60 * 60},
    },
}

# --- Billing and payments ---------------------------------------------------------------------
# https://docs.midtrans.com/docs/snap-snap-integration-guide
# `simulator` serves a local payment page that posts signed notifications to our own webhook;
# `midtrans` talks to Snap and the Core status API through midtransclient.
# Production must choose: a silent fallback to the simulator would let anyone mark a top-up paid.
PAYMENT_GATEWAY = env("PAYMENT_GATEWAY", default="simulator") if DEBUG else env("PAYMENT_GATEWAY")
if PAYMENT_GATEWAY not in {"midtrans", "simulator"}:
    raise ImproperlyConfigured(f"PAYMENT_GATEWAY must be 'midtrans' or 'simulator', not {PAYMENT_GATEWAY!r}.")
if PAYMENT_GATEWAY == "midtrans" and not DEBUG:
    MIDTRANS_SERVER_KEY = env("MIDTRANS_SERVER_KEY")  # no default: a real account must be configured
else:
    # Only ever signs notifications for the simulator and the test suite.
    MIDTRANS_SERVER_KEY = env("MIDTRANS_SERVER_KEY", default="SB-Mid-server-local-development-key")
MIDTRANS_CLIENT_KEY = env("MIDTRANS_CLIENT_KEY", default="SB-Mid-client-local-development-key")
MIDTRANS_IS_PRODUCTION = env.bool("MIDTRANS_IS_PRODUCTION", default=False)
# The notification signature covers neither the status nor a timestamp, so the status we act on
# comes from the status API; the simulator has no such API worth asking.
MIDTRANS_VERIFY_STATUS = env.bool("MIDTRANS_VERIFY_STATUS", default=PAYMENT_GATEWAY == "midtrans")
if PAYMENT_GATEWAY == "midtrans" and not MIDTRANS_VERIFY_STATUS and (not DEBUG or MIDTRANS_IS_PRODUCTION):
    # The signature does not cover the transaction status: without the status API, a replayed or
    # altered notification could credit a top-up nobody paid. Real money never runs that way.
    raise ImproperlyConfigured(
        "MIDTRANS_VERIFY_STATUS cannot be off with PAYMENT_GATEWAY=midtrans in production "
        "(DEBUG off or MIDTRANS_IS_PRODUCTION on)."
    )
# Sent as X-Override-Notification so each environment receives only its own notifications.
MIDTRANS_NOTIFICATION_URL = env("MIDTRANS_NOTIFICATION_URL", default="")
# Where Snap sends the customer after paying (display only: never trusted for the outcome).
MIDTRANS_FINISH_URL = env("MIDTRANS_FINISH_URL", default="")
# midtransclient sets no timeout of its own: (connect, read) seconds.
MIDTRANS_TIMEOUT = (
    env.float("MIDTRANS_CONNECT_TIMEOUT", default=5.0),
    env.float("MIDTRANS_READ_TIMEOUT", default=20.0),
)
# How long a customer has to pay a top-up (also sent to Snap as the payment expiry).
TOPUP_EXPIRY_MINUTES = env.int("TOPUP_EXPIRY_MINUTES", default=24 * 60)
# Pending top-ups older than this are reconciled with the status API (notifications can be lost).
TOPUP_STALE_MINUTES = env.int("TOPUP_STALE_MINUTES", default=30)
# Base URL of this backend as the browser sees it: the simulator's payment page lives under it.
PAYMENT_SIMULATOR_BASE_URL = env("PAYMENT_SIMULATOR_BASE_URL", default=LOCAL_BASE_URL)
# Seller details printed on invoices.
INVOICE_COMPANY_NAME = env("INVOICE_COMPANY_NAME", default="PaaS Platform")
INVOICE_COMPANY_ADDRESS = env("INVOICE_COMPANY_ADDRESS", default="Jakarta, Indonesia")
INVOICE_COMPANY_EMAIL = env("INVOICE_COMPANY_EMAIL", default="billing@localhost")
INVOICE_COMPANY_TAX_ID = env("INVOICE_COMPANY_TAX_ID", default="")

# --- Service templates (rendered Kubernetes manifests) -----------------------------------------
# Instances answer at https://<instance>-<short id>.<PAAS_APPS_DOMAIN>; point a wildcard DNS record here.
PAAS_APPS_DOMAIN = env("PAAS_APPS_DOMAIN", default="apps.localhost")
# spec.ingressClassName of every Ingress; empty leaves it to the cluster's default IngressClass.
PAAS_INGRESS_CLASS = env("PAAS_INGRESS_CLASS", default="")
# cert-manager ClusterIssuer named in the cert-manager.io/cluster-issuer annotation.
PAAS_CLUSTER_ISSUER = env("PAAS_CLUSTER_ISSUER", default="letsencrypt")
# Namespace of the ingress controller: the only source NetworkPolicies let reach the apps.
PAAS_INGRESS_NAMESPACE = env("PAAS_INGRESS_NAMESPACE", default="ingress-nginx")
# StorageClass of the instances' volumes; empty uses the cluster default. It must support
# fsGroup ownership management (most block CSI drivers do; NFS and hostPath do not).
PAAS_STORAGE_CLASS = env("PAAS_STORAGE_CLASS", default="")

# The platform's own web Service as the cluster's DNS names it: a stopped app's Ingress routes here
# (through an ExternalName Service) and the platform answers with a "this app is paused" page.
PAAS_PAUSE_SERVICE_HOST = env("PAAS_PAUSE_SERVICE_HOST", default="paas-web.paas-system.svc.cluster.local")
PAAS_PAUSE_SERVICE_PORT = env.int("PAAS_PAUSE_SERVICE_PORT", default=80)
# Requests for an app's host reach the platform only to be answered with that page.
ALLOWED_HOSTS.append("." + PAAS_APPS_DOMAIN.strip(".").lower())

# --- Cluster and instances (pods) -------------------------------------------------------------
# One driver, the official kubernetes client. `kubernetes` talks to the cluster of KUBECONFIG (or
# ~/.kube/config, or the in-cluster service account); `simulated` points the same client at the
# bundled Kubernetes API emulator through the kubeconfig it writes (make run starts it).
PAAS_EMULATOR_KUBECONFIG = env("PAAS_EMULATOR_KUBECONFIG", default=str(VAR_DIR / "emulator" / "kubeconfig"))
_HAS_REAL_CLUSTER = bool(
    env("KUBECONFIG", default="")
    or Path("~/.kube/config").expanduser().is_file()
    or env("KUBERNETES_SERVICE_HOST", default="")
)
PAAS_CLUSTER_BACKEND = env("PAAS_CLUSTER_BACKEND", default="kubernetes" if _HAS_REAL_CLUSTER else "simulated")
if PAAS_CLUSTER_BACKEND not in {"kubernetes", "simulated"}:
    raise ImproperlyConfigured(
        f"PAAS_CLUSTER_BACKEND must be 'kubernetes' or 'simulated', not {PAAS_CLUSTER_BACKEND!r}."
    )
# The kubeconfig context to use (empty: its current-context).
PAAS_CLUSTER_CONTEXT = env("PAAS_CLUSTER_CONTEXT", default="")
# Seconds to connect to the API server, and to wait for each answer: no call waits longer.
PAAS_CLUSTER_TIMEOUT = (
    env.float("PAAS_CLUSTER_CONNECT_TIMEOUT", default=5.0),
    env.float("PAAS_CLUSTER_READ_TIMEOUT", default=30.0),
)
# Shorter limits while a person waits (logs, live status): the answer must come before gunicorn's timeout.
PAAS_CLUSTER_INTERACTIVE_TIMEOUT = (2.0, 5.0)
# An instance not ready this long after it was asked to run is FAILED, with the cluster's reason.
PAAS_PROVISION_TIMEOUT = env.int("PAAS_PROVISION_TIMEOUT", default=10 * 60)
# A change the cluster refuses this many times in a row ends FAILED (unreachable API: never).
PAAS_RECONCILE_MAX_ATTEMPTS = env.int("PAAS_RECONCILE_MAX_ATTEMPTS", default=5)
# How often the full sweep compares every instance with the cluster (drift, orphans, usage).
PAAS_SWEEP_INTERVAL = env.int("PAAS_SWEEP_INTERVAL", default=5 * 60)
# Objects labelled as ours whose instance is gone are reported; removed only when this is on.
PAAS_DELETE_ORPHANS = env.bool("PAAS_DELETE_ORPHANS", default=False)
# A deleted instance's volumes and Secrets are kept this long, so an operator can undo it.
PAAS_DELETE_RETENTION_HOURS = env.int("PAAS_DELETE_RETENTION_HOURS", default=48)
# Usage samples (CPU, memory) are kept this many days.
PAAS_USAGE_RETENTION_DAYS = env.int("PAAS_USAGE_RETENTION_DAYS", default=7)
CELERY_BEAT_SCHEDULE |= {
    # Instances waiting for something (provisioning, a retry after a cluster error): seconds matter,
    # and the query behind it reads one index.
    "pods-reconcile-due": {
        "task": "pods.instances_reconcile_due",
        "schedule": timedelta(seconds=5),
        "options": {"expires": 5},
    },
    # Every instance against the cluster: drift repaired, orphans found, usage sampled.
    "pods-sweep": {
        "task": "pods.instances_sweep",
        "schedule": timedelta(seconds=PAAS_SWEEP_INTERVAL),
        "options": {"expires": 60},
    },
    # Deleted instances' volumes and Secrets past their retention window; old usage samples.
    "pods-purge": {
        "task": "pods.instances_purge_due",
        "schedule": timedelta(hours=1),
        "options": {"expires": 30 * 60},
    },
}
# An instance's URL; {host} is its host name. Locally the platform answers for app hosts itself.
PAAS_APPS_URL_TEMPLATE = env(
    "PAAS_APPS_URL_TEMPLATE",
    default=f"http://{{host}}:{env.int('PORT', default=8000)}/" if DEBUG else "https://{host}/",
)

# --- Subscriptions ----------------------------------------------------------------------------
# A period is this many days at the plan's monthly price; pro rata amounts are priced by the second.
SUBSCRIPTION_PERIOD_DAYS = env.int("SUBSCRIPTION_PERIOD_DAYS", default=30)
# An unpaid renewal suspends the subscription (app stopped, data kept) for this long, then it expires.
SUBSCRIPTION_GRACE_DAYS = env.int("SUBSCRIPTION_GRACE_DAYS", default=7)
# The owner is warned this many days before a period ends that it will not renew.
SUBSCRIPTION_WARN_DAYS = env.int("SUBSCRIPTION_WARN_DAYS", default=3)
# Live (active or suspended) subscriptions one account may hold.
SUBSCRIPTIONS_MAX_PER_USER = env.int("SUBSCRIPTIONS_MAX_PER_USER", default=10)
CELERY_BEAT_SCHEDULE |= {
    # Renewals, suspensions, expiries and warnings; a renewal waits at most this long past its due time.
    "subscriptions-billing-clock": {
        "task": "subscriptions.billing_clock_tick",
        "schedule": timedelta(seconds=env.int("SUBSCRIPTION_CLOCK_INTERVAL", default=120)),
        "options": {"expires": 110},
    },
}

# --- Worker nodes -----------------------------------------------------------------------------
# The token every node agent registers with; empty refuses registrations. Locally, made once per
# checkout (var/worker_join_token) and printed by make run.
WORKER_JOIN_TOKEN = env("WORKER_JOIN_TOKEN", default="") or (_checkout_secret("worker_join_token") if DEBUG else "")
# Seconds between an agent's reports, and how long a silent node stays READY (three reports).
WORKER_HEARTBEAT_INTERVAL = env.int("WORKER_HEARTBEAT_INTERVAL", default=10)
WORKER_HEARTBEAT_TIMEOUT = env.int("WORKER_HEARTBEAT_TIMEOUT", default=3 * WORKER_HEARTBEAT_INTERVAL)
# Purchases and upgrades may request this much of the nodes' allocatable CPU and memory (1.0: none over).
PAAS_OVERCOMMIT_RATIO = env.float("PAAS_OVERCOMMIT_RATIO", default=1.0)
CELERY_BEAT_SCHEDULE |= {
    "workers-mark-offline": {
        "task": "workers.nodes_mark_offline",
        "schedule": timedelta(seconds=WORKER_HEARTBEAT_INTERVAL),
        "options": {"expires": WORKER_HEARTBEAT_INTERVAL},
    },
    "workers-sync-nodes": {
        "task": "workers.nodes_sync",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 50},
    },
}

# --- Security (production) --------------------------------------------------------------------
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Probes, payment notifications (Midtrans does not follow redirects) and node agents (they reach
# the web Service inside the cluster, over plain HTTP) are never redirected.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$", r"^api/v1/billing/midtrans/", r"^api/v1/workers/"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
if env.bool("USE_X_FORWARDED_PROTO", default=not DEBUG):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"

# --- Logging ----------------------------------------------------------------------------------
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOG_FORMAT = env("LOG_FORMAT", default="text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "paas.logging.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)-7s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Django's own request logger repeats what our exception handler already logs.
        "django.request": {"level": "ERROR"},
    },
}
if DEBUG:
    # Locally, beat's polls every few seconds would drown everything else: tasks show when they fail.
    LOGGING["loggers"] |= {
        name: {"level": "WARNING"} for name in ("celery.beat", "celery.app.trace", "celery.worker.strategy")
    }
