"""Test settings: real PostgreSQL and Redis, eager Celery, locmem email, fast hashing."""

import os

# Forced, not defaulted: a developer's .env (DEBUG=true for make run) must not change the tests.
os.environ["DEBUG"] = "false"
os.environ.setdefault("SECRET_KEY", "test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGH")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/paas")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/1")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/2")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("LOG_FORMAT", "text")
os.environ.setdefault("PAYMENT_GATEWAY", "simulator")
os.environ.setdefault("WORKER_JOIN_TOKEN", "test-join-token-0123456789")

from .base import *  # noqa: F403
from .base import CACHES, PAAS_APPS_DOMAIN, REST_FRAMEWORK

ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1", "." + PAAS_APPS_DOMAIN]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CACHES["default"]["KEY_PREFIX"] = "paas-test"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
REST_FRAMEWORK = {**REST_FRAMEWORK}
