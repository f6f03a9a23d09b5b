"""The yardsticks: plain Django views, each doing the one query that an endpoint's answer needs.

No authentication, serializer, pagination or filtering: the owner is named in the query string
(``?user=<id>``). They run in the same server, behind the same middleware, as the product, so the
ratio of the two measures what the product's own layers cost on top of that query.
"""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from billing.models import Transaction, Wallet
from catalog.api.serializers import PlanSerializer
from catalog.models import Plan
from pods.models import ServiceInstance
from subscriptions.api.serializers import SubscriptionSerializer
from subscriptions.models import Subscription
from workers.models import WorkerNode
from workers.services.tokens import token_node_id

PAGE = 20


def _answer(results) -> JsonResponse:
    return JsonResponse({"results": results}, encoder=DjangoJSONEncoder)


def transactions(request):
    rows = Transaction.objects.filter(user_id=request.GET["user"]).order_by("-created_at", "-id")
    fields = ("id", "type", "status", "amount", "balance_after", "description", "order_id")
    return _answer(list(rows.values(*fields, "subscription_id", "created_at", "completed_at")[:PAGE]))


def subscriptions(request):
    rows = Subscription.objects.filter(user_id=request.GET["user"]).order_by("-created_at", "id")
    # The subscription's own columns are those its serializer shows; its relations are joined.
    own = [f for f in SubscriptionSerializer.Meta.fields if f not in ("service", "plan", "instance")]
    fields = (
        *own,
        "service__id",
        "service__slug",
        "service__name",
        "plan__id",
        "plan__slug",
        "plan__name",
        "plan__price_monthly",
        "instance__id",
        "instance__status",
        "instance__desired_state",
        "instance__host",
        "instance__namespace",
        "instance__status_message",
        "instance__updated_at",
        "instance__usage_cpu_millicores",
        "instance__usage_memory_mb",
        "instance__usage_sampled_at",
    )
    return _answer(list(rows.values(*fields)[:PAGE]))


def services(request):
    # Services and their plans in one join, grouped here.
    rows = (
        Plan.objects.filter(is_active=True, service__is_active=True)
        .order_by("service__name", "price_monthly")
        .values(
            "service_id",
            "service__slug",
            "service__name",
            "service__description",
            "service__category",
            "service__template",
            "service__version",
            *PlanSerializer.Meta.fields,
        )
    )
    by_service: dict = {}
    for row in rows:
        service = by_service.setdefault(
            row["service_id"],
            {"id": row["service_id"], "slug": row["service__slug"], "name": row["service__name"], "plans": []},
        )
        service["plans"].append({k: row[k] for k in ("id", "slug", "name", "price_monthly")})
    return _answer(list(by_service.values()))


def balance(request):
    value = Wallet.objects.filter(user_id=request.GET["user"]).values_list("balance", flat=True).first()
    return JsonResponse({"balance": f"{value:.2f}", "currency": "IDR"})


def pods(request):
    rows = ServiceInstance.objects.order_by("-created_at", "id").values(
        "id",
        "name",
        "status",
        "desired_state",
        "host",
        "namespace",
        "status_message",
        "node",
        "generation",
        "observed_generation",
        "last_synced_at",
        "usage_cpu_millicores",
        "usage_memory_mb",
        "usage_sampled_at",
        "created_at",
        "updated_at",
        "owner_id",
        "owner__email",
        "service__slug",
        "plan__slug",
    )
    return _answer(list(rows[:PAGE]))


@csrf_exempt
def heartbeat(request):
    # The node named by the token's id part; one UPDATE with what it reported, no checks.
    body = json.loads(request.body)
    node_id = token_node_id(request.headers.get("X-Worker-Token", ""))
    WorkerNode.objects.filter(pk=node_id).update(
        status=body["status"],
        cpu_percent=body["usage"]["cpu_percent"],
        memory_percent=body["usage"]["memory_percent"],
        pods_running=body["usage"]["pods_running"],
        conditions=body.get("conditions", []),
        last_heartbeat_at=timezone.now(),
    )
    return HttpResponse(b'{"heartbeat_interval": 10}', content_type="application/json")
