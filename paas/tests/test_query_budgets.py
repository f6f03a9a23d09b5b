"""Query budgets: every list endpoint of the API (docs/api.md, customers' and operators') runs the
same number of queries whatever its page size and however many rows its table holds, and its
``count`` stays exact.

Each case grows its table from one row to more than two pages (with other customers' rows beside
them), then reads it at several page sizes and pages. Budgets are for a caller whose row is already
in the cache (``paas.api.authentication``), as on every request after their first.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.tests.factories import UserFactory
from billing.models import Invoice, Transaction
from billing.services import wallet_charge
from billing.tests.factories import completed_topup
from catalog.models import Service
from catalog.tests.factories import PlanFactory, ServiceFactory
from notifications.models import EmailMessage, WebhookEndpoint
from notifications.tests.factories import EmailMessageFactory, WebhookDeliveryFactory, WebhookEndpointFactory
from pods.models import InstanceEvent, ServiceInstance
from pods.services.history import event_record
from pods.tests.factories import make_instance
from subscriptions.models import Subscription
from subscriptions.tests.factories import buy
from workers.models import WorkerNode
from workers.services import node_create

pytestmark = pytest.mark.django_db

# Rows after growing: 1 + GROWN, more than two pages of PAGE (page 2 full, page 3 partial).
GROWN = 7
PAGE = 3


@dataclass
class World:
    """The cast and what a case made: ``ref`` is the row a nested list hangs under."""

    user: Any
    user_client: Any
    admin_client: Any
    ref: Any = None


def _transactions(world: World, n: int) -> int:
    completed_topup(user=world.user, amount="500000.00")
    for i in range(n - 1):
        wallet_charge(user=world.user, amount=Decimal("1000.00"), description=f"charge {i}")
    completed_topup(user=UserFactory())  # another customer's row
    return Transaction.objects.filter(user=world.user).count()


def _invoices(world: World, n: int) -> int:
    _transactions(world, n)
    return Invoice.objects.filter(user=world.user).count()


def _subscriptions(world: World, n: int) -> int:
    for i in range(n):
        buy(world.user, service=("n8n", "ghost", "wordpress")[i % 3])
    buy(UserFactory())
    return Subscription.objects.filter(user=world.user).count()


def _events(world: World, n: int) -> int:
    if world.ref is None:
        world.ref = buy(world.user)
    instance = world.ref.instance
    for i in range(n):
        event_record(instance, kind=InstanceEvent.Kind.ACTION, reason="Touched", message=f"event {i}")
    return world.ref.instance.events.count() + world.ref.events.count()


def _webhooks(world: World, n: int) -> int:
    WebhookEndpointFactory.create_batch(n, user=world.user)
    WebhookEndpointFactory()
    return WebhookEndpoint.objects.filter(user=world.user).count()


def _deliveries(world: World, n: int) -> int:
    if world.ref is None:
        world.ref = WebhookEndpointFactory(user=world.user)
    WebhookDeliveryFactory.create_batch(n, endpoint=world.ref)
    WebhookDeliveryFactory(endpoint=WebhookEndpointFactory(user=world.user))  # another endpoint of theirs
    return world.ref.deliveries.count()


def _emails(world: World, n: int) -> int:
    EmailMessageFactory.create_batch(n, user=world.user)
    EmailMessageFactory()
    return EmailMessage.objects.filter(user=world.user).count()


def _services(world: World, n: int) -> int:
    for _ in range(n):
        PlanFactory.create_batch(2, service=ServiceFactory())
    return Service.objects.filter(is_active=True).count()


def _plans(world: World, n: int) -> int:
    if world.ref is None:
        world.ref = ServiceFactory(template="n8n")
    PlanFactory.create_batch(n, service=world.ref)
    PlanFactory(service=ServiceFactory(template="n8n"))  # another service's plan
    return world.ref.plans.count()


def _users(world: World, n: int) -> int:
    for _ in range(n):
        completed_topup(user=UserFactory(), amount="75000.00")
    return User.objects.count()


def _admin_transactions(world: World, n: int) -> int:
    for _ in range(n):
        completed_topup(user=UserFactory())
    return Transaction.objects.count()


def _instances(world: World, n: int) -> int:
    for i in range(n):
        make_instance(UserFactory(), service=("n8n", "ghost", "wordpress")[i % 3])
    return ServiceInstance.objects.count()


def _workers(world: World, n: int) -> int:
    start = world.ref or 0
    for i in range(start, start + n):
        node_create(name=f"worker-{i}", capacity={"cpu_millicores": 4000, "memory_mb": 8192, "pods": 110}, labels={})
    world.ref = start + n
    return WorkerNode.objects.count()


@dataclass(frozen=True)
class Case:
    path: str  # "{ref}" is filled in with the case's parent row
    grow: Any  # (world, n) -> how many rows the caller should now see
    budget: int
    who: str = "user"  # "user", "admin" or "anonymous"
    cluster: bool = False


CASES = {
    # Customers' lists.
    "services": Case("/api/v1/services", _services, 2, who="anonymous"),  # page with count, plans
    "transactions": Case("/api/v1/billing/transactions", _transactions, 1),
    "invoices": Case("/api/v1/billing/invoices", _invoices, 1),
    "subscriptions": Case("/api/v1/subscriptions", _subscriptions, 1, cluster=True),
    # The subscription, then its history: a union of two tables, counted on its own.
    "events": Case("/api/v1/subscriptions/{ref}/events", _events, 3, cluster=True),
    "webhooks": Case("/api/v1/webhooks", _webhooks, 1),
    "deliveries": Case("/api/v1/webhooks/{ref}/deliveries", _deliveries, 2),  # the endpoint, the page
    "notifications": Case("/api/v1/notifications", _emails, 1),
    # Operators' lists.
    "admin users": Case("/api/v1/admin/users", _users, 1, who="admin"),
    "admin services": Case("/api/v1/admin/services", _services, 2, who="admin"),  # page with count, plans
    "admin plans": Case("/api/v1/admin/services/{ref}/plans", _plans, 2, who="admin"),  # the service, the page
    "admin transactions": Case("/api/v1/admin/billing/transactions", _admin_transactions, 1, who="admin"),
    "admin pods": Case("/api/v1/admin/pods", _instances, 1, who="admin", cluster=True),
    "admin workers": Case("/api/v1/admin/workers", _workers, 1, who="admin"),
}


def _read(client, path: str) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code, response.content[:500])
    return len(ctx.captured_queries), response.json()


@pytest.mark.parametrize("name", list(CASES))
def test_a_list_costs_the_same_queries_whatever_its_size_and_page(
    name, request, user, user_client, admin_client, api_client
):
    case = CASES[name]
    if case.cluster:
        request.getfixturevalue("cluster")
    world = World(user=user, user_client=user_client, admin_client=admin_client)
    client = {"user": user_client, "admin": admin_client, "anonymous": api_client}[case.who]

    case.grow(world, 1)
    path = case.path.format(ref=getattr(world.ref, "pk", world.ref))
    client.get(path)  # the caller's first request reads their row into the cache
    small, _ = _read(client, f"{path}?page_size=100")

    expected = case.grow(world, GROWN)
    large, everything = _read(client, f"{path}?page_size=100")
    first, page_one = _read(client, f"{path}?page_size={PAGE}")
    last_page = -(-everything["count"] // PAGE)
    last, page_last = _read(client, f"{path}?page_size={PAGE}&page={last_page}")

    assert [small, large, first, last] == [case.budget] * 4
    # The count is exact on every page, and the pages hold what it says.
    total = everything["count"]
    assert total == len(everything["results"]) > PAGE
    assert total == expected
    assert page_one["count"] == page_last["count"] == total
    assert len(page_one["results"]) == PAGE and page_one["next"] and page_one["previous"] is None
    assert len(page_last["results"]) == total - PAGE * (last_page - 1) and page_last["next"] is None


def test_pages_past_the_end_are_404_and_an_empty_list_counts_zero(user, user_client):
    path = "/api/v1/billing/transactions"
    user_client.get(path)
    with CaptureQueriesContext(connection) as ctx:
        empty = user_client.get(path)
    assert empty.json() == {"count": 0, "next": None, "previous": None, "results": []}
    assert len(ctx.captured_queries) == 1

    completed_topup(user=user)
    for i in range(PAGE - 1):
        wallet_charge(user=user, amount=Decimal("1000.00"), description=f"charge {i}")
    full = user_client.get(f"{path}?page_size={PAGE}").json()  # exactly one full page
    assert full["count"] == PAGE and full["next"] is None and len(full["results"]) == PAGE
    past = user_client.get(f"{path}?page_size={PAGE}&page=2")
    assert past.status_code == 404 and past.json()["error"]["code"] == "not_found"
    for page in ("0", "-1", "abc", "1.5"):
        response = user_client.get(f"{path}?page_size={PAGE}&page={page}")
        assert response.status_code == 400, page
        assert "page" in response.json()["error"]["details"]


def test_a_filtered_list_counts_what_the_filter_keeps(user, user_client):
    completed_topup(user=user, amount="500000.00")
    for i in range(3):
        wallet_charge(user=user, amount=Decimal("1000.00"), description=f"charge {i}")
    charges = user_client.get("/api/v1/billing/transactions?type=CHARGE").json()
    topups = user_client.get("/api/v1/billing/transactions?type=TOPUP&page_size=1").json()
    assert charges["count"] == 3 and {t["type"] for t in charges["results"]} == {"CHARGE"}
    assert topups["count"] == 1 and topups["next"] is None
    bad = user_client.get("/api/v1/billing/transactions?type=NOPE")
    assert bad.status_code == 400 and "type" in bad.json()["error"]["details"]
