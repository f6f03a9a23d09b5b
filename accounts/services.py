"""Every write on users: registration, credentials, tokens, profile and admin changes."""

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from notifications.services import email_queue, emit_on_commit
from paas.queue import enqueue_on_commit

from .exceptions import EmailAlreadyRegistered, InvalidCredentials, SelfLockout
from .models import User

logger = logging.getLogger(__name__)


def _check_password(password: str, *, user: User, field: str) -> None:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc


def _normalize_email(email: str) -> str:
    return User.objects.normalize_email(email.strip()).lower()


@transaction.atomic
def user_create(*, email: str, password: str, name: str, role: str = User.Role.USER) -> User:
    """Create an active user after checking the password policy; a taken email is a 400."""
    email = _normalize_email(email)
    candidate = User(email=email, name=name.strip(), role=role)
    _check_password(password, user=candidate, field="password")
    if User.objects.filter(email__iexact=email).exists():
        raise EmailAlreadyRegistered()
    try:
        # The savepoint keeps the outer transaction usable when a concurrent registration wins.
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=password, name=candidate.name, role=role)
    except IntegrityError as exc:
        raise EmailAlreadyRegistered() from exc
    logger.info("user registered", extra={"user_id": str(user.id), "role": role})
    if role == User.Role.USER:
        emit_on_commit("user.registered", user=user, payload={})
    return user


def user_authenticate(*, email: str, password: str, request=None) -> User:
    """The active user with these credentials, or ``InvalidCredentials`` (same error for every reason)."""
    user = authenticate(request, email=_normalize_email(email), password=password)
    if user is None:
        raise InvalidCredentials()
    return user


def tokens_issue(*, user: User) -> dict[str, str]:
    """A fresh refresh/access pair; the refresh token is tracked so it can be revoked."""
    refresh = RefreshToken.for_user(user)
    User.objects.filter(pk=user.pk).update(last_login=refresh.current_time)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def tokens_refresh(*, refresh: str) -> dict[str, str]:
    """Trade a refresh token for a new pair, once: the old token is blacklisted as the new one is issued.

    Raises ``TokenError`` for a token that is invalid, expired, used, revoked, or whose account is
    gone or inactive. Of concurrent requests with one token exactly one gets a pair: the owner's row
    is locked first (so a password change or a deactivation cannot interleave and miss the new
    token), and the blacklist row is the claim, since its INSERT can succeed only once per token.
    """
    token = RefreshToken(refresh)  # signature, expiry, type, and the blacklist as committed so far
    payload = token.payload
    with transaction.atomic():
        try:
            user = User.objects.select_for_update().filter(pk=payload.get(jwt_settings.USER_ID_CLAIM)).first()
        except (ValueError, ValidationError):
            user = None
        if user is None or not user.is_active:
            raise TokenError("Token is invalid or expired")
        outstanding, _ = OutstandingToken.objects.get_or_create(
            jti=payload[jwt_settings.JTI_CLAIM],
            defaults={
                "user": user,
                "token": refresh,
                "created_at": token.current_time,
                "expires_at": datetime_from_epoch(payload["exp"]),
            },
        )
        try:
            with transaction.atomic():
                BlacklistedToken.objects.create(token=outstanding)
        except IntegrityError:
            # Another request used this token first: the same answer as for any used token.
            raise TokenError("Token is blacklisted") from None
        fresh = RefreshToken.for_user(user)
    return {"access": str(fresh.access_token), "refresh": str(fresh)}


def token_revoke(*, refresh: str) -> None:
    """Blacklist one refresh token (logout). An invalid or used token raises ``TokenError``."""
    RefreshToken(refresh).blacklist()


def tokens_revoke_all(*, user: User) -> int:
    """Blacklist every outstanding refresh token of the user, e.g. after a password change."""
    outstanding = OutstandingToken.objects.filter(user=user).exclude(blacklistedtoken__isnull=False)
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )
    return len(outstanding)


@transaction.atomic
def user_update_profile(*, user: User, name: str) -> User:
    user.name = name.strip()
    user.full_clean(exclude=["password"])
    user.save(update_fields=["name", "updated_at"])
    return user


@transaction.atomic
def user_set_password(*, user: User, new_password: str) -> User:
    """Set a new password and sign the user out everywhere."""
    _check_password(new_password, user=user, field="new_password")
    user.set_password(new_password)
    user.save(update_fields=["password", "updated_at"])
    tokens_revoke_all(user=user)
    return user


def user_change_password(*, user: User, current_password: str, new_password: str) -> User:
    if not user.check_password(current_password):
        raise ValidationError({"current_password": ["The current password is incorrect."]})
    return user_set_password(user=user, new_password=new_password)


def password_reset_request(*, email: str) -> None:
    """Queue a reset for this email, whether or not an account has it, and say nothing either way.

    The request does the same work for every address (no lookup, one task queued), so neither its
    answer nor its duration tells a caller which emails are registered: the worker looks the
    account up. A broker outage is logged, never raised, for every address alike.
    """
    from .tasks import password_reset_request_task

    enqueue_on_commit(password_reset_request_task, _normalize_email(email))


def password_reset_send_if_registered(*, email: str) -> User | None:
    """Email a reset link if an active account has this (normalised) email; ``None`` otherwise."""
    user = User.objects.filter(email__iexact=email, is_active=True).first()
    if user is not None:
        password_reset_send(user=user)
    return user


def password_reset_send(*, user: User) -> None:
    """Email a single-use reset link (the token dies when the password changes or it times out)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    link = settings.PASSWORD_RESET_URL.format(uid=uid, token=token)
    # The link is a secret: the email log keeps it sealed, and wipes it once sent. This runs in
    # its own task, outside any transaction, so the send is enqueued at once.
    email_queue(
        user=user,
        template="password-reset",
        context={"minutes": settings.PASSWORD_RESET_TIMEOUT // 60},
        secret_context={"reset_link": link},
        defer_until_commit=False,
    )


def password_reset_confirm(*, uid: str, token: str, new_password: str) -> User:
    invalid = ValidationError({"token": ["The reset link is invalid or has expired."]})
    try:
        user = User.objects.get(pk=force_str(urlsafe_base64_decode(uid)), is_active=True)
    except (User.DoesNotExist, ValueError, TypeError, OverflowError, ValidationError):
        raise invalid from None
    if not default_token_generator.check_token(user, token):
        raise invalid
    return user_set_password(user=user, new_password=new_password)


# --- Administration ---------------------------------------------------------------------------


@transaction.atomic
def user_update_by_admin(*, actor: User, user: User, data: dict[str, Any]) -> User:
    """Change name, role or is_active; an administrator cannot lock themself out."""
    user = User.objects.select_for_update().get(pk=user.pk)
    locks_out = data.get("is_active") is False or data.get("role", user.role) != user.role
    if user.pk == actor.pk and locks_out:
        raise SelfLockout()
    fields = [field for field in ("name", "role", "is_active") if field in data]
    for field in fields:
        setattr(user, field, data[field].strip() if field == "name" else data[field])
    user.full_clean(exclude=["password"])
    user.save(update_fields=[*fields, "updated_at"])
    if data.get("is_active") is False:
        tokens_revoke_all(user=user)
    logger.info("user changed by admin", extra={"user_id": str(user.id), "actor_id": str(actor.id), "fields": fields})
    return user


def user_deactivate(*, actor: User, user: User) -> User:
    """Deactivate rather than delete: the ledger and history must keep their owner."""
    return user_update_by_admin(actor=actor, user=user, data={"is_active": False})


def superuser_ensure(*, email: str, password: str, name: str) -> tuple[User, bool]:
    """Idempotently make sure this ADMINISTRATOR exists (used by ``manage.py seed``)."""
    existing = User.objects.filter(email__iexact=_normalize_email(email)).first()
    if existing is not None:
        return existing, False
    return user_create(email=email, password=password, name=name, role=User.Role.ADMINISTRATOR), True
