"""The platform's own periodic work."""

from paas.api.idempotency import idempotency_records_purge
from paas.task_aliases import renamed_task


@renamed_task("paas.idempotency_records_purge", was="paas.purge_idempotency_keys", ignore_result=True)
def idempotency_records_purge_task() -> int:
    """Delete idempotency records older than 24 h (a plain delete: safe to repeat)."""
    return idempotency_records_purge()
