"""Celery wiring, through a real worker thread consuming from the Redis broker."""

import logging
import time

import pytest
from celery.contrib.testing.worker import start_worker

from accounts.tasks import tokens_flush_expired_task
from paas.celery import app
from paas.logging import RequestIdFilter, request_id_var


@pytest.fixture
def real_worker(settings):
    # Eager mode would run the task in this thread without publishing: turn it off for a real hop.
    app.conf.task_always_eager = False
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            yield
    finally:
        app.conf.task_always_eager = True


@pytest.mark.django_db(transaction=True)
def test_a_task_logs_with_the_request_id_of_the_request_that_queued_it(real_worker, caplog):
    caplog.handler.addFilter(RequestIdFilter())
    caplog.set_level(logging.INFO, logger="celery.app.trace")
    token = request_id_var.set("trace-0123456789")
    try:
        tokens_flush_expired_task.apply_async()
    finally:
        request_id_var.reset(token)

    def finished():
        return [r for r in caplog.records if r.name == "celery.app.trace" and "succeeded" in r.getMessage()]

    # No result backend (results are ignored): wait for the worker's own "succeeded" line.
    deadline = time.monotonic() + 20
    while not finished() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert finished(), [r.getMessage() for r in caplog.records]
    assert finished()[-1].request_id == "trace-0123456789"
    # After the task, the worker thread forgets the id again.
    assert request_id_var.get() == "-"


def test_the_beat_schedule_names_only_registered_tasks():
    registered = set(app.tasks)
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert scheduled and scheduled <= registered, scheduled - registered
