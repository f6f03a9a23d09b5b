"""The numbers on the operator console's front page, each with the list it counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from paas.formatting import rupiah


@dataclass(frozen=True)
class Tile:
    label: str
    value: str
    url: str
    alert: bool = False


def _changelist(model: str, **filters) -> str:
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    return reverse(f"admin:{model.replace('.', '_')}_changelist") + (f"?{query}" if query else "")


def dashboard() -> list[tuple[str, list[Tile]]]:
    """Sections of tiles, in the order they are shown."""
    from billing.models import Transaction
    from billing.selectors import ledger_totals
    from notifications.models import EmailMessage, WebhookDelivery
    from pods.models import ClusterOrphan, ServiceInstance
    from subscriptions.models import Subscription
    from workers.models import WorkerNode
    from workers.services import headroom

    today = timezone.localdate()
    day_start = timezone.make_aware(datetime.combine(today, time.min))
    day_end = timezone.make_aware(datetime.combine(today + timedelta(days=1), time.min))
    subscriptions = dict(
        Subscription.objects.order_by().values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    instances = dict(
        ServiceInstance.objects.live()
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    nodes = dict(WorkerNode.objects.order_by().values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    room = headroom()
    money = ledger_totals(since=day_start, until=day_end)
    pending_topups = Transaction.objects.filter(type=Transaction.Type.TOPUP, status=Transaction.Status.PENDING).count()
    day_filter = {"created_at__year": today.year, "created_at__month": today.month, "created_at__day": today.day}
    failed_emails = EmailMessage.objects.filter(status=EmailMessage.Status.FAILED).count()
    failed_webhooks = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.FAILED).count()
    orphans = ClusterOrphan.objects.filter(removed_at__isnull=True).count()
    return [
        (
            "Subscriptions",
            [
                Tile(
                    status.title(),
                    str(subscriptions.get(status, 0)),
                    _changelist("subscriptions.subscription", status__exact=status),
                )
                for status in ("ACTIVE", "SUSPENDED")
            ],
        ),
        (
            "Instances",
            [
                Tile(
                    status.title(),
                    str(instances.get(status, 0)),
                    _changelist("pods.serviceinstance", status__exact=status),
                    alert=status == "FAILED" and bool(instances.get(status)),
                )
                for status in ("RUNNING", "PROVISIONING", "PENDING", "STOPPED", "FAILED", "DELETING")
            ],
        ),
        (
            "Nodes",
            [
                *(
                    Tile(
                        status.replace("_", " ").title(),
                        str(nodes.get(status, 0)),
                        _changelist("workers.workernode", status__exact=status),
                        alert=status == "OFFLINE" and bool(nodes.get(status)),
                    )
                    for status in ("READY", "NOT_READY", "OFFLINE")
                ),
                Tile("Free CPU", f"{max(0, room.free_cpu_millicores)} m", _changelist("workers.workernode")),
                Tile("Free memory", f"{max(0, room.free_memory_mb)} MiB", _changelist("workers.workernode")),
            ],
        ),
        (
            "Money today",
            [
                Tile(
                    "Revenue",
                    rupiah(money.revenue),
                    _changelist("billing.transaction", type__exact="CHARGE", **day_filter),
                ),
                Tile(
                    "Top-ups",
                    rupiah(money.topups),
                    _changelist("billing.transaction", type__exact="TOPUP", **day_filter),
                ),
                Tile(
                    "Refunds",
                    rupiah(money.refunds),
                    _changelist("billing.transaction", type__exact="REFUND", **day_filter),
                ),
                Tile(
                    "Pending top-ups",
                    str(pending_topups),
                    _changelist("billing.transaction", type__exact="TOPUP", status__exact="PENDING"),
                ),
            ],
        ),
        (
            "Attention",
            [
                Tile(
                    "Failed emails",
                    str(failed_emails),
                    _changelist("notifications.emailmessage", status__exact="FAILED"),
                    alert=bool(failed_emails),
                ),
                Tile(
                    "Failed webhooks",
                    str(failed_webhooks),
                    _changelist("notifications.webhookdelivery", status__exact="FAILED"),
                    alert=bool(failed_webhooks),
                ),
                Tile(
                    "Orphans found",
                    str(orphans),
                    _changelist("pods.clusterorphan", removed_at__isnull="True"),
                    alert=bool(orphans),
                ),
            ],
        ),
    ]
