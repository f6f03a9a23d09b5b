"""Who is calling: the access token's user, read from the shared cache rather than the database.

Every authenticated request needs its caller's row (active? an administrator?). The row is kept in
the cache (Redis in production) under its id, without the password hash, and is replaced whenever
the user is saved or deleted, in this process or any other. So deactivating a user, or changing
their role, still takes effect on their very next request, as it did when every request read the
database. ``CACHE_SECONDS`` bounds how long a change could go unseen that the cache never heard
of: one made behind the ORM's back (raw SQL, ``QuerySet.update()``), or while the cache could not
be reached. A view that needs the password hash (change password) loads it on first access, as a
deferred field.

When the cache cannot be reached, requests read the database as before; after a failure this
process leaves the cache alone for ``CACHE_RETRY_SECONDS``, so an outage does not add a timeout
to every request.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings

logger = logging.getLogger(__name__)

CACHE_SECONDS = 60
CACHE_RETRY_SECONDS = 10
_cache_down_until = 0.0
# Access tokens already checked, most recently used last (see JWTAuthentication).
_VALIDATED_MAX = 4096
_validated: OrderedDict[bytes, object] = OrderedDict()
# The layout of the cached row is in the key: a deployment that changes the user model reads fresh rows.
_KEY = "auth-user:v1:{}"
_GONE = ()  # cached for a user that does not exist (deleted), so a stale row cannot come back


def _columns() -> list[str]:
    return [f.attname for f in get_user_model()._meta.concrete_fields if f.attname != "password"]


def _read(user_id) -> tuple:
    """The user's row from the database (without the password hash), or ``_GONE``."""
    try:
        row = get_user_model()._default_manager.filter(pk=user_id).values_list(*_columns()).first()
    except (ValueError, ValidationError):  # not an id at all
        return _GONE
    return _GONE if row is None else row


def _cache_call(method: str, *args):
    global _cache_down_until
    if time.monotonic() < _cache_down_until:
        return None
    try:
        return getattr(cache, method)(*args)
    except Exception:  # the cache is down or unreachable: the database still answers
        _cache_down_until = time.monotonic() + CACHE_RETRY_SECONDS
        logger.warning("user cache unavailable; reading users from the database", exc_info=True)
        return None


def user_for_request(user_id):
    """The user with this id, as it is now, or None. At most one query, none when cached."""
    key = _KEY.format(user_id)
    row = _cache_call("get", key)
    if row is None:
        row = _read(user_id)
        # add, not set: should the user change meanwhile, the writer's fresh row wins (see _refresh).
        _cache_call("add", key, row, CACHE_SECONDS)
    if row == _GONE:
        return None
    return get_user_model().from_db(DEFAULT_DB_ALIAS, _columns(), row)


def _refresh(user_id) -> None:
    _cache_call("set", _KEY.format(user_id), _read(user_id), CACHE_SECONDS)


def user_changed(sender, instance, **kwargs) -> None:
    """Drop the cached row at once (the next request of this process reads the database), and once
    the change is committed write the fresh row, so that a request which read the old row just
    before the commit cannot put it back."""
    _cache_call("delete", _KEY.format(instance.pk))
    user_id = instance.pk
    transaction.on_commit(lambda: _refresh(user_id), using=kwargs.get("using") or DEFAULT_DB_ALIAS)


def connect_signals() -> None:
    post_save.connect(user_changed, sender=settings.AUTH_USER_MODEL, dispatch_uid="paas.api.user_changed")
    post_delete.connect(user_changed, sender=settings.AUTH_USER_MODEL, dispatch_uid="paas.api.user_deleted")


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's authentication with the user read through the cache; same errors, same checks.

    A client sends the same access token for its whole life: once its signature and claims have
    been checked, the token is remembered (per process, by its exact bytes) and only its expiry is
    checked again on the next requests.
    """

    def get_validated_token(self, raw_token: bytes):
        token = _validated.get(raw_token)
        if token is not None and token.payload.get("exp", 0) > time.time():
            _validated.move_to_end(raw_token)
            return token
        token = super().get_validated_token(raw_token)
        _validated[raw_token] = token
        if len(_validated) > _VALIDATED_MAX:
            _validated.popitem(last=False)
        return token

    def get_user(self, validated_token):
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError as exc:
            raise InvalidToken(_("Token contained no recognizable user identification")) from exc
        user = user_for_request(user_id)
        if user is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        if not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        return user


class JWTScheme(SimpleJWTScheme):
    """The OpenAPI security scheme of simplejwt's class, for this subclass."""

    target_class = "paas.api.authentication.JWTAuthentication"
