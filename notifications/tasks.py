"""Celery tasks: load by id, call one service. Each names its idempotency recipe."""

from celery import shared_task

from . import services
from .exceptions import EmailDeliveryError

EMAIL_MAX_RETRIES = 5


@shared_task(bind=True, name="notifications.email_send", acks_late=True, max_retries=EMAIL_MAX_RETRIES)
def email_send_task(self, message_id: str) -> None:
    """Send one queued email, retrying backend failures with exponential backoff.

    Idempotent by claim (conditional UPDATE on a QUEUED, unleased row) and state guard: a
    duplicate or late retry finds the email SENT or leased and does nothing.
    """
    try:
        services.email_send(message_id=message_id)
    except EmailDeliveryError as exc:
        if self.request.retries >= self.max_retries:
            services.email_mark_failed(message_id=message_id)
            return
        raise self.retry(exc=exc, countdown=services.email_retry_delay(self.request.retries)) from exc


@shared_task(name="notifications.email_send_many", acks_late=True)
def email_send_many_task(message_ids: list[str]) -> None:
    """Send a chunk of queued emails one after the other. Idempotent like ``email_send_task``
    (each send is claimed); one that fails goes to its own ``email_send_task`` for the retries."""
    for message_id in message_ids:
        try:
            services.email_send(message_id=message_id)
        except EmailDeliveryError:
            email_send_task.apply_async((message_id,), countdown=services.email_retry_delay(0))


@shared_task(name="notifications.webhook_deliver", acks_late=True)
def webhook_deliver_task(delivery_id: str) -> None:
    """Make the due attempt of one delivery. Idempotent by claim (lease on ``next_attempt_at``).

    Failed attempts are not retried by Celery: the next one is scheduled in the row and picked
    up by ``webhook_retry_due_task``, so hours-long waits never sit in the broker.
    """
    services.webhook_delivery_attempt(delivery_id=delivery_id)


@shared_task(name="notifications.webhook_retry_due")
def webhook_retry_due_task() -> int:
    """Enqueue every delivery whose next attempt is due. Safe to overlap: each attempt is claimed."""
    return services.webhook_deliveries_requeue_due()


@shared_task(name="notifications.email_requeue_stale")
def email_requeue_stale_task() -> int:
    """Enqueue again emails left QUEUED by a lost task message. Safe to overlap: sends are claimed."""
    return services.email_requeue_stale()
