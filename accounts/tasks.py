from celery import shared_task
from django.core.management import call_command

from paas.task_aliases import renamed_task

from .models import User
from .services import password_reset_send, password_reset_send_if_registered


@shared_task(name="accounts.password_reset_request", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def password_reset_request_task(email: str) -> None:
    """Send a reset link if an active account has this email. A retry sends a new link: harmless,
    each is single-use."""
    password_reset_send_if_registered(email=email)


@shared_task(name="accounts.password_reset_send", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def password_reset_send_task(user_id: str) -> None:
    """Send one reset link to a known user. Requests now queue ``password_reset_request_task``;
    this name stays registered so messages already in the broker during an upgrade are still sent."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is not None:
        password_reset_send(user=user)


@renamed_task("accounts.tokens_flush_expired", was="accounts.flush_expired_tokens")
def tokens_flush_expired_task() -> None:
    """Drop expired outstanding/blacklisted refresh tokens. Idempotent by nature."""
    call_command("flushexpiredtokens")
