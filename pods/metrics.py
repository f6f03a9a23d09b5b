"""Measurements of the reconcile loop, taken where it runs (Celery workers, or any process that
reconciles). Workers expose them on their own port (``WORKER_METRICS_PORT``, see paas.celery)."""

from prometheus_client import Counter, Histogram

RECONCILE_SECONDS = Histogram(
    "paas_reconcile_duration_seconds",
    "Time one reconcile of one instance took, by outcome.",
    ["outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
CLUSTER_ERRORS = Counter(
    "paas_reconcile_cluster_errors",
    "Reconciles that could not reach the cluster (unreachable) or whose writes it refused (refused).",
    ["kind"],
)
# Both series exist from the start (at zero), so rate() and alerts see them before the first error.
for _kind in ("unreachable", "refused"):
    CLUSTER_ERRORS.labels(_kind)
