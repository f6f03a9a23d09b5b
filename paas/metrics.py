"""The business on ``/metrics``: what operators graph and alert on, read from the database (and the
broker) when Prometheus scrapes, so every web process answers the same numbers.

Counters here are totals the database keeps (money in, refunds, notifications by outcome): they
only grow, which is what Prometheus' ``rate()`` and ``increase()`` expect. Work done in Celery
workers (reconcile passes) is measured where it happens: see ``pods.metrics``.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import REGISTRY, CounterMetricFamily, GaugeMetricFamily

logger = logging.getLogger(__name__)

# The names the alert rules and the Grafana dashboard use (k8s/monitoring); a test keeps them exported.
METRIC_NAMES = (
    "paas_subscriptions",
    "paas_instances",
    "paas_instances_stale",
    "paas_nodes",
    "paas_capacity_free_cpu_millicores",
    "paas_capacity_free_memory_mb",
    "paas_orphans",
    "paas_topups",
    "paas_topup_amount_idr_total",
    "paas_charge_amount_idr_total",
    "paas_refund_amount_idr_total",
    "paas_payment_notifications_total",
    "paas_emails",
    "paas_webhook_deliveries",
    "paas_webhook_backlog",
    "paas_oldest_due_renewal_seconds",
    "paas_celery_queue_length",
)


def _by(queryset, field: str, choices) -> dict[str, int]:
    counts = dict(queryset.order_by().values_list(field).annotate(n=Count("pk")).values_list(field, "n"))
    return {choice: counts.get(choice, 0) for choice in choices}


def _gauge(name: str, documentation: str, label: str, values: dict) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for key, value in values.items():
        family.add_metric([str(key)], value)
    return family


class BusinessCollector:
    """A prometheus_client collector: one scrape, a handful of aggregate queries."""

    def describe(self):
        # Without it, registering calls collect() to learn the names: every query at process start,
        # before migrations have run too.
        return []

    def collect(self):
        try:
            yield from self._collect()
        except Exception:  # a broken metric must never break /metrics for the others
            logger.exception("business metrics could not be collected")

    def _collect(self):
        from billing.models import PaymentNotification, Transaction
        from billing.selectors import ledger_totals
        from notifications.models import EmailMessage, WebhookDelivery
        from pods.models import ClusterOrphan, ServiceInstance
        from subscriptions.models import Subscription
        from workers.models import WorkerNode
        from workers.services import headroom

        now = timezone.now()
        yield _gauge(
            "paas_subscriptions",
            "Subscriptions by status.",
            "status",
            _by(Subscription.objects.all(), "status", Subscription.Status.values),
        )
        live = ServiceInstance.objects.live()
        yield _gauge(
            "paas_instances", "Instances by status.", "status", _by(live, "status", ServiceInstance.Status.values)
        )
        stale = live.stale(now).count()
        yield GaugeMetricFamily(
            "paas_instances_stale", "Instances whose cluster state is not known lately.", value=stale
        )
        yield _gauge(
            "paas_nodes",
            "Worker nodes by status.",
            "status",
            _by(WorkerNode.objects.all(), "status", WorkerNode.Status.values),
        )
        room = headroom()
        yield GaugeMetricFamily(
            "paas_capacity_free_cpu_millicores",
            "CPU the placeable nodes can still take.",
            value=room.free_cpu_millicores,
        )
        yield GaugeMetricFamily(
            "paas_capacity_free_memory_mb", "Memory the placeable nodes can still take.", value=room.free_memory_mb
        )
        yield GaugeMetricFamily(
            "paas_orphans", "Cluster objects labelled as ours that no instance accounts for.",
            value=ClusterOrphan.objects.filter(removed_at__isnull=True).count(),
        )  # fmt: skip

        topups = Transaction.objects.filter(type=Transaction.Type.TOPUP)
        yield _gauge("paas_topups", "Top-ups by status.", "status", _by(topups, "status", Transaction.Status.values))
        totals = ledger_totals()
        for name, value, text in (
            ("paas_topup_amount_idr", totals.topups, "IDR credited by completed top-ups."),
            ("paas_charge_amount_idr", totals.revenue, "IDR charged for subscriptions (revenue)."),
            ("paas_refund_amount_idr", totals.refunds, "IDR credited back to customers (refunds, downtime)."),
        ):
            yield CounterMetricFamily(name, text, value=float(value))
        notes = CounterMetricFamily(
            "paas_payment_notifications", "Payment notifications by outcome.", labels=["outcome"]
        )
        for outcome, count in _by(
            PaymentNotification.objects.all(), "outcome", PaymentNotification.Outcome.values
        ).items():
            notes.add_metric([outcome], count)
        yield notes

        yield _gauge(
            "paas_emails",
            "Emails by status.",
            "status",
            _by(EmailMessage.objects.all(), "status", EmailMessage.Status.values),
        )
        deliveries = WebhookDelivery.objects.all()
        yield _gauge(
            "paas_webhook_deliveries", "Webhook deliveries by status.", "status",
            _by(deliveries, "status", WebhookDelivery.Status.values),
        )  # fmt: skip
        backlog = deliveries.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now).count()
        yield GaugeMetricFamily("paas_webhook_backlog", "Webhook attempts due and not yet made.", value=backlog)

        oldest = Subscription.objects.due(now).aggregate(oldest=Min("current_period_end"))["oldest"]
        yield GaugeMetricFamily(
            "paas_oldest_due_renewal_seconds",
            "How long the oldest renewal the billing clock has not handled has been due (0: none).",
            value=(now - oldest).total_seconds() if oldest else 0,
        )
        queues = GaugeMetricFamily("paas_celery_queue_length", "Tasks waiting in the broker.", labels=["queue"])
        length = celery_queue_length("celery")
        if length is not None:
            queues.add_metric(["celery"], length)
        yield queues


def celery_queue_length(queue: str) -> int | None:
    """Messages waiting in a Redis-backed Celery queue; None for other brokers or when unreachable."""
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return None
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        return int(client.llen(queue))
    except redis.RedisError:
        return None


_registered = False


def register() -> None:
    """Add the collector to the default registry once per process."""
    global _registered
    if not _registered:
        REGISTRY.register(BusinessCollector())
        _registered = True
