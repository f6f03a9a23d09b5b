"""Throttles, counted in the shared cache: per address and per email for the unauthenticated
entry points, per user for the expensive or money-moving writes."""

import functools
import hashlib
import logging

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from redis.exceptions import RedisError
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from paas.api.idempotency import HEADER, WINDOW
from paas.models import IdempotencyRecord

logger = logging.getLogger(__name__)


def fail_open(throttle_class):
    """Let requests through, uncounted, while the cache cannot be reached (Redis down).

    A throttle limits abuse; it guards no money (wallet row locks and idempotency records in
    PostgreSQL do). Failing closed would turn a cache outage into an outage of sign-ins, token
    refreshes and payments, so the counts are skipped and each skip is logged instead.
    """
    allow_request = throttle_class.allow_request

    @functools.wraps(allow_request)
    def allow_or_skip(self, request, view):
        try:
            return allow_request(self, request, view)
        except (RedisError, OSError) as exc:
            logger.warning(
                "throttle skipped: the cache cannot be reached",
                extra={"throttle": type(self).__name__, "error": type(exc).__name__},
            )
            return True

    throttle_class.allow_request = allow_or_skip
    return throttle_class


@fail_open
class ScopedIPThrottle(SimpleRateThrottle):
    """Counts per client address, under the view's ``throttle_scope`` rate."""

    def __init__(self):
        # The scope comes from the view, so the rate is resolved in allow_request.
        pass

    def allow_request(self, request, view):
        self.scope = getattr(view, "throttle_scope", None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


@fail_open
class ScopedEmailThrottle(ScopedIPThrottle):
    """Counts per target email (``<scope>_email`` rate), whatever address the request comes from."""

    def allow_request(self, request, view):
        scope = getattr(view, "throttle_scope", None)
        if not scope:
            return True
        self.scope = f"{scope}_email"
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return SimpleRateThrottle.allow_request(self, request, view)

    def get_cache_key(self, request, view):
        email = request.data.get("email") if hasattr(request.data, "get") else None
        if not isinstance(email, str) or not email.strip():
            return None
        # Hash so the cache never holds addresses in clear.
        ident = hashlib.sha256(email.strip().lower().encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


@fail_open
class UserActionThrottle(SimpleRateThrottle):
    """Counts per signed-in user the writes that move money or cost real work (top-ups, purchases,
    plan changes, app restarts, webhook tests), each under its own rate.

    A view maps its actions to scopes in ``user_throttle_scopes``: a viewset's action name
    (``create``, ``change_plan``) or, for a plain view, the lower-case HTTP method; other actions
    are not counted. Rates come from ``DEFAULT_THROTTLE_RATES``, read at request time.

    The count is one atomic increment per request in a fixed window (``20/hour``: at most 20 per
    clock hour), so a burst of parallel requests cannot all slip through before any is recorded,
    as they could with a read-then-write history. A request that replays a stored
    ``Idempotency-Key`` response runs nothing and is not counted. Throttles run before the view,
    so a refused request never claims an idempotency key.
    """

    cache_format = "throttle_user_%(scope)s_%(ident)s_%(window)d"

    def __init__(self):
        # The scope depends on the action, so the rate is resolved in allow_request.
        self.window_end = 0.0
        self.now = 0.0

    def allow_request(self, request, view):
        scopes = getattr(view, "user_throttle_scopes", {})
        self.scope = scopes.get(getattr(view, "action", None) or request.method.lower())
        if not self.scope or not request.user.is_authenticated or _replays_stored_response(request):
            return True
        rates = api_settings.DEFAULT_THROTTLE_RATES
        if self.scope not in rates:
            raise ImproperlyConfigured(f"No rate in DEFAULT_THROTTLE_RATES for the scope {self.scope!r}.")
        self.num_requests, self.duration = self.parse_rate(rates[self.scope])
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_end = (window + 1) * self.duration
        key = self.cache_format % {"scope": self.scope, "ident": request.user.pk, "window": window}
        self.cache.add(key, 0, timeout=self.duration + 1)
        try:
            count = self.cache.incr(key)
        except ValueError:
            # The key expired between add and incr: the window just ended, this is its first request.
            self.cache.add(key, 1, timeout=self.duration + 1)
            count = 1
        return count <= self.num_requests

    def wait(self):
        return max(self.window_end - self.now, 1)


def _replays_stored_response(request) -> bool:
    key = request.headers.get(HEADER)
    if not key:
        return False
    return IdempotencyRecord.objects.filter(
        user=request.user,
        key=key,
        state=IdempotencyRecord.State.COMPLETED,
        created_at__gte=timezone.now() - WINDOW,
    ).exists()
