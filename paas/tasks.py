"""The platform's own periodic work."""

from celery import shared_task

from paas.api.idempotency import idempotency_records_purge


@shared_task(name="paas.purge_idempotency_keys", ignore_result=True)
def purge_idempotency_keys_task() -> int:
    """Delete idempotency records older than 24 h (a plain delete: safe to repeat)."""
    return idempotency_records_purge()
