"""Celery task names follow one rule: the function is ``<entity>_<verb>_task`` and its explicit name
``<app>.<entity>_<verb>``. A renamed task still answers to its old name for one release (messages
already queued, periodic tasks stored by django-celery-beat), and stored periodic tasks move to
the new names with a migration."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps as django_apps
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask, PeriodicTasks
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from paas.celery import app
from paas.tests.celery_worker import WorkerProcess, private_queue, wait_for

RENAMED = importlib.import_module("paas.migrations.0005_periodic_tasks_renamed")
PROJECT_APPS = {"accounts", "billing", "catalog", "notifications", "paas", "pods", "subscriptions", "workers"}
# Everything a task is declared with that changes how a message is run.
OPTIONS = ("acks_late", "ignore_result", "max_retries", "autoretry_for", "retry_backoff", "retry_backoff_max")


def _project_tasks() -> dict:
    app.loader.import_default_modules()
    return {name: task for name, task in app.tasks.items() if task.__module__.split(".")[0] in PROJECT_APPS}


def _by_the_rule(task) -> str:
    """The name the rule gives a task: its app, a dot, its function's name without ``_task``."""
    return f"{task.__module__.split('.')[0]}.{task.__wrapped__.__name__.removesuffix('_task')}"


def test_every_task_is_named_app_dot_its_function_without_task():
    tasks = {name: task for name, task in _project_tasks().items() if name not in RENAMED.RENAMED}
    assert len(tasks) == 20
    for name, task in tasks.items():
        assert task.__wrapped__.__name__.endswith("_task"), name
        assert name == _by_the_rule(task)


def test_every_old_name_is_an_alias_running_the_same_function_the_same_way():
    tasks = _project_tasks()
    assert {name for name, task in tasks.items() if name != _by_the_rule(task)} == set(RENAMED.RENAMED)
    for old, new in RENAMED.RENAMED.items():
        alias, task = tasks[old], tasks[new]
        assert alias.__wrapped__ is task.__wrapped__, old
        assert {o: getattr(alias, o, None) for o in OPTIONS} == {o: getattr(task, o, None) for o in OPTIONS}, old


def test_the_beat_schedule_names_the_new_names():
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert scheduled <= set(_project_tasks()) and not scheduled & set(RENAMED.RENAMED)


@pytest.mark.django_db
def test_the_migration_moves_stored_periodic_tasks_to_the_new_names_and_back():
    # given: the default entry as an older beat stored it, paused by an operator, and an operator's own
    every = IntervalSchedule.objects.create(every=10, period=IntervalSchedule.MINUTES)
    PeriodicTask.objects.create(name="pods-sweep", task="pods.sweep", interval=every, enabled=False)
    PeriodicTask.objects.create(name="nightly purge", task="pods.purge", interval=every)
    PeriodicTask.objects.create(name="unrelated", task="notifications.webhook_retry_due", interval=every)
    yesterday = timezone.now() - timedelta(days=1)
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": yesterday})
    # when
    RENAMED.forwards(django_apps, None)
    # then: renamed, the pause kept
    tasks = dict(PeriodicTask.objects.values_list("name", "task"))
    assert tasks == {
        "pods-sweep": "pods.instances_sweep",
        "nightly purge": "pods.instances_purge_due",
        "unrelated": "notifications.webhook_retry_due",
    }
    assert not PeriodicTask.objects.get(name="pods-sweep").enabled
    # and a beat of the previous release, still running, keeps the names its workers know
    assert PeriodicTasks.objects.get(ident=1).last_update == yesterday
    RENAMED.backwards(django_apps, None)
    assert PeriodicTask.objects.get(name="nightly purge").task == "pods.purge"


@pytest.mark.django_db(transaction=True)
def test_a_message_queued_under_an_old_name_is_run_by_a_worker(user):
    # given: an expired refresh token, and a message for the token purge under its old name, as a
    # broker holds it across an upgrade
    RefreshToken.for_user(user)
    OutstandingToken.objects.filter(user=user).update(expires_at=timezone.now() - timedelta(days=1))
    with private_queue() as queue:
        app.send_task("accounts.flush_expired_tokens")
        # when: a worker of the new code starts on that queue
        worker = WorkerProcess(queue).start()
        try:
            # then: it runs the renamed task's work
            wait_for(lambda: not OutstandingToken.objects.filter(user=user).exists(), what="the old name to run")
        finally:
            worker.kill()
    assert "accounts.flush_expired_tokens" in worker.output
