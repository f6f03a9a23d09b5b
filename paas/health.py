"""Liveness and readiness probes.

``/healthz`` only proves the process answers. ``/readyz`` checks what a request needs: the
database, the Celery broker and, when the cache is Redis, Redis (throttles count there; without
it they are skipped, see ``paas.api.throttling``, so operators must hear of it). Apps add their
own checks: to ``READINESS_CHECKS`` when the web process cannot serve without it, to
``REPORTED_CHECKS`` when it is only reported (the cluster: an outage of its API must not take the
whole platform, billing included, out of the load balancer).
"""

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_broker() -> None:
    from paas.celery import app

    # Read the URL from settings at call time so an override (or a test) is honoured.
    with app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
        conn.ensure_connection(max_retries=1, timeout=3)


def redis_cache() -> RedisCache | None:
    """The default cache if it is Redis; None for the file cache of local runs."""
    cache = caches["default"]
    return cache if isinstance(cache, RedisCache) else None


def check_redis() -> None:
    # A write, not a read: a Redis that only reads (a replica left after a failover) is not usable.
    redis_cache().set("readyz", "ok", timeout=10)


READINESS_CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "broker": check_broker,
}
REPORTED_CHECKS: dict[str, Callable[[], None]] = {}


def _run(check: Callable[[], None], name: str) -> str:
    try:
        check()
    except Exception as exc:  # any failure means "not ready"; the reason goes to the log only
        logger.warning("readiness check %s failed: %s", name, type(exc).__name__)
        return "fail"
    return "ok"


@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    required = READINESS_CHECKS | ({"redis": check_redis} if redis_cache() is not None else {})
    checks = {name: _run(check, name) for name, check in required.items()}
    ready = all(v == "ok" for v in checks.values())
    checks |= {name: _run(check, name) for name, check in REPORTED_CHECKS.items()}
    return JsonResponse({"status": "ok" if ready else "fail", "checks": checks}, status=200 if ready else 503)
