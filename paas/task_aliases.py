"""Renamed Celery tasks keep answering to their old names for one release.

A message in the broker and a django-celery-beat row name their task by its registered name, so
renaming a task would orphan the messages queued before an upgrade and the periodic tasks stored
in the database (an operator's own entries included). ``renamed_task`` registers the task under
its new name and, under each old name, an alias that runs the same function with the same
options; the migration ``paas.0005_periodic_tasks_renamed`` moves stored periodic tasks to the new
names. Remove an alias (its ``was=``) one release after the rename.
"""

from __future__ import annotations

from collections.abc import Callable

from celery import shared_task


def renamed_task(name: str, *, was: str | tuple[str, ...], **options) -> Callable:
    """``shared_task(name=name, **options)``, also registered as ``was`` (one old name or several).

    The aliases are full tasks (same function, retries, acknowledgement and time limits), so a
    worker runs a message sent under an old name exactly as it runs one sent under the new name.
    """
    old_names = (was,) if isinstance(was, str) else was

    def decorate(fun: Callable):
        for old in old_names:
            shared_task(name=old, **options)(fun)
        return shared_task(name=name, **options)(fun)

    return decorate
