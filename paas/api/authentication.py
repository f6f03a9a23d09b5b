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
process reads no cached rows for ``CACHE_RETRY_SECONDS``, so an outage does not add a timeout to
every request. Writers never skip the cache: a change a reader might miss is always pushed.
"""

from __future__ import annotations

import hashlib
import logging
import time
from functools import cache as once

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
_GONE = ()  # cached for a user that does not exist (deleted), so a stale row cannot come back


@once
def _columns() -> tuple[str, ...]:
    return tuple(f.attname for f in get_user_model()._meta.concrete_fields if f.attname != "password")


@once
def _key_prefix() -> str:
    # The row's layout is in its key: during a rolling deploy that changes the user model, old and
    # new processes never read each other's rows (a row is a tuple, read by position).
    layout = hashlib.sha256(",".join(_columns()).encode()).hexdigest()[:12]
    return f"auth-user:{layout}:"


def _key(user_id) -> str:
    return f"{_key_prefix()}{user_id}"


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
    key = _key(user_id)
    row = _cache_call("get", key)
    if row is None:
        row = _read(user_id)
        # add, not set: should the user change meanwhile, the writer's fresh row wins (see _refresh).
        _cache_call("add", key, row, CACHE_SECONDS)
    if row == _GONE:
        return None
    return get_user_model().from_db(DEFAULT_DB_ALIAS, _columns(), row)


def _write(method: str, *args) -> None:
    """A change pushed to the cache, tried even while this process skips reading it."""
    try:
        getattr(cache, method)(*args)
    except Exception:
        logger.error("user cache not updated: the change shows within %s s", CACHE_SECONDS, exc_info=True)


def _refresh(user_id) -> None:
    _write("set", _key(user_id), _read(user_id), CACHE_SECONDS)


def user_changed(sender, instance, **kwargs) -> None:
    """Drop the cached row at once (the next request of this process reads the database), and once
    the change is committed write the fresh row, so that a request which read the old row just
    before the commit cannot put it back."""
    _write("delete", _key(instance.pk))
    user_id = instance.pk
    transaction.on_commit(lambda: _refresh(user_id), using=kwargs.get("using") or DEFAULT_DB_ALIAS)


def connect_signals() -> None:
    post_save.connect(user_changed, sender=settings.AUTH_USER_MODEL, dispatch_uid="paas.api.user_changed")
    post_delete.connect(user_changed, sender=settings.AUTH_USER_MODEL, dispatch_uid="paas.api.user_deleted")


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's authentication with the user read through the cache; same errors. An inactive
    user is always refused; simplejwt's ``CHECK_REVOKE_TOKEN`` (password-bound tokens) is not
    supported, since the cached row holds no password hash."""

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
