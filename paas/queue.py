"""Queueing Celery work from services: the one way to hand work to a worker.

Work that depends on rows written in the current transaction is queued only once that
transaction commits (``enqueue_on_commit``): queued earlier, a worker could run before the rows
exist, or after a rollback for rows that never will. A broker outage never fails the caller:
every job queued here is also findable from the database by a periodic sweep, which queues it again.
"""

import logging
from collections.abc import Iterable

from celery import Task
from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


def enqueue(task: Task, *args) -> bool:
    """Queue ``task(*args)`` now; ``False`` (logged) when the broker cannot be reached.

    Arguments must be JSON-serialisable ids, never model instances.
    """
    try:
        task.delay(*args)
    except OperationalError as exc:
        logger.warning(
            "task not queued; the periodic sweep will pick it up", extra={"task": task.name, "error": str(exc)}
        )
        return False
    return True


def enqueue_on_commit(task: Task, *args) -> None:
    """Queue ``task(*args)`` when the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(lambda: enqueue(task, *args))


def enqueue_each_on_commit(task: Task, ids: Iterable) -> None:
    """Queue ``task(id)`` for every id once the current transaction commits."""
    pending = [str(i) for i in ids]
    if pending:
        transaction.on_commit(lambda: [enqueue(task, i) for i in pending])
