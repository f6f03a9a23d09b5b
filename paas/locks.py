"""Named locks held until the current transaction ends, for decisions that read many rows and
must not interleave (is there room for one more app?). PostgreSQL advisory locks; SQLite (local
runs) already runs one writing transaction at a time."""

import hashlib

from django.db import connection


def transaction_lock(name: str) -> None:
    """Wait for, then hold until commit or rollback, the lock called ``name``. Call it inside
    ``transaction.atomic()``."""
    if connection.vendor != "postgresql":
        return
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
