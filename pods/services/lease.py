"""One worker at a time per instance: a lease on its row, taken with a conditional UPDATE.

No database transaction is held while the holder talks to the cluster; a worker that dies keeps
the lease until it lapses (``LEASE``), after which anyone may take it.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from pods.models import ServiceInstance

# Longer than any pass can take (every cluster call has a timeout; tasks are killed at 5 minutes).
LEASE = timedelta(minutes=6)


def lease_claim(instance_id) -> str | None:
    """A token proving the lease, or None when another worker holds it."""
    token = secrets.token_hex(8)
    now = timezone.now()
    claimed = (
        ServiceInstance.objects.filter(pk=instance_id)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + LEASE, lease_token=token)
    )
    return token if claimed else None


def lease_release(instance_id, token: str) -> None:
    ServiceInstance.objects.filter(pk=instance_id, lease_token=token).update(lease_until=None, lease_token="")
