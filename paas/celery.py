"""The Celery app. Settings come from Django's under the ``CELERY_`` namespace."""

import os

from celery import Celery
from celery.signals import before_task_publish, task_postrun, task_prerun, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paas.settings.base")

app = Celery("paas")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Acknowledgement. A task declared ``acks_late`` is idempotent (its docstring names how), so its
# message is acknowledged only once it has finished, and is handed back to the queue when the pool
# process running it dies (the OOM killer, a SIGKILL): another process runs it again instead of the
# work being dropped. A whole worker lost with its node leaves its messages unacknowledged, for the
# broker to redeliver after its visibility timeout (Redis: an hour, longer than any countdown (at
# most 10 minutes) plus the 5-minute time limit, so nothing is delivered twice while it waits); the
# periodic passes (reconcile_due, the billing clock, the email and webhook requeues) find that
# work from the database sooner. Periodic tasks are acknowledged on receipt: beat runs them again.
app.conf.task_reject_on_worker_lost = True

# A task's log lines carry the id of the request that queued it, so one id follows a user's
# action from the web process into the worker.
_REQUEST_ID_HEADER = "paas_request_id"


@before_task_publish.connect
def _attach_request_id(headers=None, **kwargs) -> None:
    from paas.logging import request_id_var

    if headers is not None and request_id_var.get() != "-":
        headers[_REQUEST_ID_HEADER] = request_id_var.get()


@task_prerun.connect
def _restore_request_id(task=None, **kwargs) -> None:
    from paas.logging import request_id_var

    request_id = getattr(task.request, _REQUEST_ID_HEADER, None)
    if request_id:
        task.request.paas_request_id_token = request_id_var.set(request_id)


@task_postrun.connect
def _forget_request_id(task=None, **kwargs) -> None:
    from paas.logging import request_id_var

    token = getattr(task.request, "paas_request_id_token", None)
    if token is not None:
        request_id_var.reset(token)


@worker_init.connect
def _serve_worker_metrics(**kwargs) -> None:
    """With ``WORKER_METRICS_PORT`` set, the worker serves its measurements (reconcile durations,
    cluster errors) for Prometheus. Pool processes share them through ``PROMETHEUS_MULTIPROC_DIR``."""
    port = os.environ.get("WORKER_METRICS_PORT")
    if not port:
        return
    from prometheus_client import REGISTRY, CollectorRegistry, multiprocess, start_http_server

    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    start_http_server(int(port), registry=registry)
