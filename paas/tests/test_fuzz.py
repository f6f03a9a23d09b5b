"""The API fuzzed against its own OpenAPI schema (schemathesis), as an anonymous client, a customer
with a balance and a running subscription, and an administrator.

Every operation gets a bounded number of generated requests, valid ones (positive) and ones that
break the schema (negative), and every answer must be one the schema documents: never a 500, a
documented status, content type, headers and body (errors in the envelope), invalid input refused
with a 4xx, and no protected operation that works without a token. Afterwards every wallet still
equals its ledger.

Then the statuses random requests rarely reach (402, 409, 502...) are provoked one by one and held
to the same checks, so that each error the schema documents is one the server really answers.

Deterministic: derandomized examples and a fresh database per persona. Nothing leaves the process:
the payment gateway is the simulator (Midtrans, where a scenario needs it, is answered in the
process by ``responses``), webhook deliveries and reconciles queued on commit never run inside the
test's transaction, and name lookups other than this machine's fail.
"""

import re
import socket
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
import requests
import responses
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, connection
from django.db.models import Sum
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.tests.factories import AdminFactory, UserFactory
from billing import services as billing
from billing.gateways.simulator import build_notification
from billing.models import Invoice, Transaction, Wallet
from catalog.models import Plan
from catalog.services import catalog_seed
from notifications.services import WEBHOOK_MAX_ENDPOINTS_PER_USER, webhook_endpoint_create
from pods.services import instance_stop
from subscriptions.services import subscription_cancel
from subscriptions.tests.factories import buy, fund
from workers.services.registry import node_create

# Requests per operation: an anonymous client mostly meets the 401 at the door, so it gets fewer.
EXAMPLES = {
    ("anonymous", GenerationMode.POSITIVE): 6,
    ("anonymous", GenerationMode.NEGATIVE): 4,
    ("customer", GenerationMode.POSITIVE): 12,
    ("customer", GenerationMode.NEGATIVE): 6,
    ("admin", GenerationMode.POSITIVE): 12,
    ("admin", GenerationMode.NEGATIVE): 6,
}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
LOCAL_HOSTS = {None, "localhost", "127.0.0.1", "::1"}
SNAP_SANDBOX = "https://app.sandbox.midtrans.com/snap/v1/transactions"


@contextmanager
def connection_kept():
    """What Django's test client does around a request: the request must not close the test's
    database connection, whose transaction holds the test's data."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def schema():
    config = schemathesis.Config.from_dict(
        {
            "generation": {
                "deterministic": True,
                # Tokens come from the persona; unknown query parameters are ignored, as by most APIs.
                "with-security-parameters": False,
                "allow-extra-parameters": False,
            }
        }
    )
    with connection_kept():
        return schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler(), config=config)


@pytest.fixture
def wsgi():
    with connection_kept():
        yield


@pytest.fixture
def offline(monkeypatch):
    """Name lookups for anything but this machine fail, as for a host without DNS."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if host not in LOCAL_HOSTS:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def invoices_numbered_at_once() -> None:
    """Invoices are numbered by a trigger deferred to the commit, which a test never reaches: fire
    it at once, so that the API shows what clients see after a commit."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS billing_invoice_number IMMEDIATE")


def bearer(user) -> dict:
    return {"Authorization": f"Bearer {RefreshToken.for_user(user).access_token}"}


def customer_with_data():
    user = UserFactory()
    subscription = buy(user)
    fund(user, "1000000.00")
    endpoint, _ = webhook_endpoint_create(user=user, url="https://hooks.example.com/paas", events=["balance.low"])
    return user, subscription, endpoint


def persona_setup(persona: str) -> tuple[dict, dict, dict]:
    """The persona's Authorization header, real ids for the path templates it can reach, and
    valid bodies for the operations random ones would never get past validation."""
    invoices_numbered_at_once()
    if persona == "anonymous":
        return {}, {"/api/v1/services/{id_or_slug}": {"id_or_slug": "n8n"}}, {}
    customer, subscription, endpoint = customer_with_data()
    if persona == "customer":
        user = customer
        ids = {
            "/api/v1/subscriptions/{id}": {"id": subscription.pk},
            "/api/v1/billing/transactions/{id}": {"id": Transaction.objects.filter(user=user).first().pk},
            "/api/v1/billing/invoices/{id}": {"id": Invoice.objects.filter(user=user).first().pk},
            "/api/v1/webhooks/{id}": {"id": endpoint.pk},
        }
        bodies = {
            "POST /api/v1/subscriptions": {"service": "ghost", "plan": "starter"},
            "POST /api/v1/subscriptions/{id}/change-plan": {"plan": "pro"},
            "POST /api/v1/billing/topups": {"amount": "50000.00"},
        }
    else:
        user = AdminFactory()
        plan = Plan.objects.get(pk=subscription.plan_id)
        capacity = {"cpu_millicores": 4000, "memory_mb": 8192, "pods": 110}
        node, _ = node_create(name="worker-1", capacity=capacity, labels={})
        ids = {
            "/api/v1/admin/users/{id}": {"id": customer.pk},
            "/api/v1/admin/pods/{id}": {"id": subscription.instance.pk},
            "/api/v1/admin/billing/transactions/{id}": {"id": Transaction.objects.filter(user=customer).first().pk},
            "/api/v1/admin/services/{id}": {"id": plan.service_id},
            "/api/v1/admin/services/{service_id}/plans": {"service_id": plan.service_id},
            "/api/v1/admin/services/{service_id}/plans/{id}": {"service_id": plan.service_id, "id": plan.pk},
            "/api/v1/admin/workers/{id}": {"id": node.pk},
        }
        bodies = {
            "POST /api/v1/admin/billing/adjustments": {"user": str(customer.pk), "amount": "-1000.00", "reason": "x"},
            "POST /api/v1/admin/pods/reconcile": {"instance": str(subscription.instance.pk)},
            "POST /api/v1/admin/users": {"email": "new@example.com", "password": "Blue-Giraffe-Orbit-42", "name": "N"},
        }
    ids["/api/v1/services/{id_or_slug}"] = {"id_or_slug": "n8n"}
    return bearer(user), ids, bodies


def known_ids(ids: dict, path: str) -> dict | None:
    """The ids of the longest template ``path`` starts with (``/subscriptions/{id}/cancel``)."""
    matches = [template for template in ids if path == template or path.startswith(template + "/")]
    return ids[max(matches, key=len)] if matches else None


def strategy(operation, mode: GenerationMode, ids: dict, bodies: dict):
    cases = operation.as_strategy(generation_mode=mode)
    if mode == GenerationMode.NEGATIVE:
        return cases
    known = known_ids(ids, operation.path)
    body = bodies.get(operation.label)
    if not known and body is None:
        return cases
    # Half on real objects with a valid body, to get past the 404 or 400 into what the operation does.
    fixed = {"path_parameters": known} | ({"body": body} if body is not None else {})
    return st.one_of(cases, operation.as_strategy(generation_mode=mode, **fixed))


def in_order(schema) -> list:
    """The operations, those that end an object (DELETE, cancel) last, so the others find it alive."""
    operations = [result.ok() for result in schema.get_all_operations()]
    return sorted(operations, key=lambda op: op.method.upper() == "DELETE" or op.path.endswith("/cancel"))


def assert_wallets_match_their_ledgers():
    totals = dict(
        Transaction.objects.filter(status=Transaction.Status.COMPLETED)
        .values("user_id")
        .annotate(total=Sum("amount"))
        .values_list("user_id", "total")
    )
    for wallet in Wallet.objects.all():
        assert wallet.balance == totals.get(wallet.user_id, Decimal(0)), f"wallet {wallet.user_id} left its ledger"


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["positive", "negative"])
@pytest.mark.parametrize("persona", ["anonymous", "customer", "admin"])
def test_every_operation_answers_as_documented(persona, mode, schema, db, cluster, offline, wsgi):
    headers, ids, bodies = persona_setup(persona)
    checks = [*CHECKS]
    if mode == GenerationMode.NEGATIVE:
        checks.append(negative_data_rejection)
    elif headers:
        checks.append(ignored_auth)
    failures = []
    for operation in in_order(schema):

        @given(case=strategy(operation, mode, ids, bodies))
        @hypothesis_settings(
            max_examples=EXAMPLES[persona, mode],
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],
        )
        def call(case):
            case.call_and_validate(headers=headers, checks=checks)

        try:
            call()
        except Unsatisfiable:
            # Some parameters have no invalid value a URL can carry (a slug matching "[^/]+").
            assert mode == GenerationMode.NEGATIVE, operation.label
        except (Exception, BaseExceptionGroup) as exc:  # failed checks: collect them all, one report
            failures.append(f"{operation.label}: {exc}")
    assert not failures, f"{len(failures)} operations failed:\n\n" + "\n\n".join(failures)
    assert_wallets_match_their_ledgers()


# --- The statuses random requests rarely reach, provoked on purpose -----------------------------
# Each scenario sets the stage and names the request that must get its domain error: the same checks
# then hold that answer to the schema. Every status the schema lists because a service raises it is
# shown to be real, in the envelope, with the code it documents.


@dataclass
class Scenario:
    operation: str  # "POST /api/v1/subscriptions"
    status: int
    code: str
    user: object = None
    path: dict = field(default_factory=dict)
    body: object = None
    headers: dict = field(default_factory=dict)
    before: list = field(default_factory=list)  # bodies sent first, to the same operation
    repeat: int = 1  # sent until it gets the status, at most this many times (a throttle)


def _charge_of(user) -> Transaction:
    return Transaction.objects.get(user=user, type=Transaction.Type.CHARGE)


def _spent_customer():
    """A customer whose top-up went into a subscription: a balance of zero."""
    user = UserFactory()
    return user, buy(user)


def purchase_unfunded(settings, cluster, midtrans):
    return Scenario(
        "POST /api/v1/subscriptions",
        402,
        "insufficient_balance",
        UserFactory(),
        body={"service": "n8n", "plan": "starter"},
    )


def purchase_over_the_limit(settings, cluster, midtrans):
    settings.SUBSCRIPTIONS_MAX_PER_USER = 1
    user, _ = _spent_customer()
    fund(user, "500000.00")
    return Scenario(
        "POST /api/v1/subscriptions",
        409,
        "subscription_limit_reached",
        user,
        body={"service": "ghost", "plan": "starter"},
    )


def change_plan_unfunded(settings, cluster, midtrans):
    user, subscription = _spent_customer()
    return Scenario(
        "POST /api/v1/subscriptions/{id}/change-plan",
        402,
        "insufficient_balance",
        user,
        {"id": subscription.pk},
        {"plan": "pro"},
    )


def cancel_twice(settings, cluster, midtrans):
    user, subscription = _spent_customer()
    subscription_cancel(subscription=subscription, immediate=True, actor=user)
    return Scenario(
        "POST /api/v1/subscriptions/{id}/cancel",
        409,
        "invalid_state",
        user,
        {"id": subscription.pk},
        {"immediate": True},
    )


def start_a_cancelled_app(settings, cluster, midtrans):
    user, subscription = _spent_customer()
    subscription_cancel(subscription=subscription, immediate=True, actor=user)
    return Scenario(
        "POST /api/v1/subscriptions/{id}/instance/start", 409, "invalid_state", user, {"id": subscription.pk}
    )


def logs_of_an_app_with_no_pod(settings, cluster, midtrans):
    user, subscription = _spent_customer()
    return Scenario("GET /api/v1/subscriptions/{id}/instance/logs", 409, "invalid_state", user, {"id": subscription.pk})


def logs_while_the_cluster_fails(settings, cluster, midtrans):
    _, subscription = _spent_customer()
    cluster.add_fault(verb="list", resource="pods", status=503, times=3)
    return Scenario(
        "GET /api/v1/admin/pods/{id}/logs", 502, "cluster_error", AdminFactory(), {"id": subscription.instance.pk}
    )


def topup_the_gateway_refuses(settings, cluster, midtrans):
    settings.PAYMENT_GATEWAY = "midtrans"
    midtrans.post(SNAP_SANDBOX, json={"error_messages": ["Internal server error"]}, status=500)
    return Scenario(
        "POST /api/v1/billing/topups", 502, "payment_gateway_error", UserFactory(), body={"amount": "50000.00"}
    )


def topup_key_reused_for_another_amount(settings, cluster, midtrans):
    return Scenario(
        "POST /api/v1/billing/topups",
        422,
        "idempotency_key_mismatch",
        UserFactory(),
        body={"amount": "60000.00"},
        headers={"Idempotency-Key": "k-1"},
        before=[{"amount": "50000.00"}],
    )


def topup_with_a_malformed_key(settings, cluster, midtrans):
    return Scenario(
        "POST /api/v1/billing/topups",
        400,
        "invalid_idempotency_key",
        UserFactory(),
        body={"amount": "50000.00"},
        headers={"Idempotency-Key": "a key"},
    )


def webhook_endpoints_over_the_limit(settings, cluster, midtrans):
    user = UserFactory()
    for n in range(WEBHOOK_MAX_ENDPOINTS_PER_USER):
        webhook_endpoint_create(user=user, url=f"https://hooks.example.com/{n}", events=["balance.low"])
    return Scenario(
        "POST /api/v1/webhooks",
        409,
        "limit_reached",
        user,
        body={"url": "https://hooks.example.com/x", "events": ["balance.low"]},
    )


def renew_a_cancelled_subscription(settings, cluster, midtrans):
    user, subscription = _spent_customer()
    subscription_cancel(subscription=subscription, immediate=True, actor=user)
    return Scenario("POST /api/v1/subscriptions/{id}/renew", 409, "invalid_state", user, {"id": subscription.pk})


def logout_with_a_junk_token(settings, cluster, midtrans):
    return Scenario("POST /api/v1/auth/logout", 401, "token_not_valid", body={"refresh": "not.a.token"})


def login_with_a_wrong_password(settings, cluster, midtrans):
    user = UserFactory()
    return Scenario(
        "POST /api/v1/auth/login",
        401,
        "invalid_credentials",
        body={"email": user.email, "password": "not-the-password"},
    )


def login_again_and_again(settings, cluster, midtrans):
    user = UserFactory()
    return Scenario(
        "POST /api/v1/auth/login",
        429,
        "throttled",
        body={"email": user.email, "password": "not-the-password"},
        repeat=12,
    )


def notification_with_a_bad_signature(settings, cluster, midtrans):
    body = build_notification(
        order_id="TOPUP-x", gross_amount="50000.00", transaction_status="settlement", server_key="another key"
    )
    return Scenario("POST /api/v1/billing/midtrans/notification", 403, "invalid_signature", body=body)


def notification_for_an_unknown_order(settings, cluster, midtrans):
    body = build_notification(
        order_id="TOPUP-x",
        gross_amount="50000.00",
        transaction_status="settlement",
        server_key=settings.MIDTRANS_SERVER_KEY,
    )
    return Scenario("POST /api/v1/billing/midtrans/notification", 404, "not_found", body=body)


def notification_the_status_api_cannot_confirm(settings, cluster, midtrans):
    topup = billing.topup_create(user=UserFactory(), amount=Decimal("50000.00"))
    settings.PAYMENT_GATEWAY = "midtrans"
    settings.MIDTRANS_VERIFY_STATUS = True
    midtrans.get(re.compile(r"https://api\.sandbox\.midtrans\.com/.*"), body=requests.ConnectionError("refused"))
    body = build_notification(
        order_id=topup.order_id,
        gross_amount="50000.00",
        transaction_status="settlement",
        server_key=settings.MIDTRANS_SERVER_KEY,
    )
    return Scenario("POST /api/v1/billing/midtrans/notification", 503, "payment_gateway_unavailable", body=body)


def adjustment_below_zero(settings, cluster, midtrans):
    customer, _ = _spent_customer()
    body = {"user": str(customer.pk), "amount": "-1000.00", "reason": "correction"}
    return Scenario("POST /api/v1/admin/billing/adjustments", 402, "insufficient_balance", AdminFactory(), body=body)


def adjustment_for_nobody(settings, cluster, midtrans):
    body = {"user": "00000000-0000-4000-8000-000000000000", "amount": "1000.00", "reason": "correction"}
    return Scenario("POST /api/v1/admin/billing/adjustments", 404, "not_found", AdminFactory(), body=body)


def refund_of_a_spent_topup(settings, cluster, midtrans):
    customer, _ = _spent_customer()
    topup = Transaction.objects.get(user=customer, type=Transaction.Type.TOPUP)
    return Scenario(
        "POST /api/v1/admin/billing/transactions/{id}/refund",
        402,
        "insufficient_balance",
        AdminFactory(),
        {"id": topup.pk},
        {},
    )


def refund_twice(settings, cluster, midtrans):
    admin = AdminFactory()
    customer = UserFactory()
    fund(customer, "50000.00")
    charge = billing.wallet_charge(user=customer, amount=Decimal("10000.00"), description="a one-off charge")
    billing.transaction_refund_by_admin(actor=admin, transaction=charge)
    return Scenario(
        "POST /api/v1/admin/billing/transactions/{id}/refund", 409, "already_refunded", admin, {"id": charge.pk}, {}
    )


def refund_of_a_subscription_charge(settings, cluster, midtrans):
    customer, _ = _spent_customer()
    return Scenario(
        "POST /api/v1/admin/billing/transactions/{id}/refund",
        409,
        "invalid_state",
        AdminFactory(),
        {"id": _charge_of(customer).pk},
        {},
    )


def restore_what_was_not_deleted(settings, cluster, midtrans):
    _, subscription = _spent_customer()
    return Scenario(
        "POST /api/v1/admin/pods/{id}/restore", 409, "invalid_state", AdminFactory(), {"id": subscription.instance.pk}
    )


def restart_a_stopped_instance(settings, cluster, midtrans):
    customer, subscription = _spent_customer()
    instance_stop(instance=subscription.instance, actor=customer)
    return Scenario(
        "POST /api/v1/admin/pods/{id}/restart", 409, "invalid_state", AdminFactory(), {"id": subscription.instance.pk}
    )


def reconcile_an_unknown_instance(settings, cluster, midtrans):
    body = {"instance": "00000000-0000-4000-8000-000000000000"}
    return Scenario("POST /api/v1/admin/pods/reconcile", 404, "not_found", AdminFactory(), body=body)


def delete_a_service_with_plans(settings, cluster, midtrans):
    service = Plan.objects.first().service
    return Scenario("DELETE /api/v1/admin/services/{id}", 409, "conflict", AdminFactory(), {"id": service.pk})


def delete_a_plan_in_use(settings, cluster, midtrans):
    _, subscription = _spent_customer()
    ids = {"service_id": subscription.service_id, "id": subscription.plan_id}
    return Scenario("DELETE /api/v1/admin/services/{service_id}/plans/{id}", 409, "conflict", AdminFactory(), ids)


def deactivate_oneself(settings, cluster, midtrans):
    admin = AdminFactory()
    return Scenario("DELETE /api/v1/admin/users/{id}", 409, "conflict", admin, {"id": admin.pk})


def demote_oneself(settings, cluster, midtrans):
    admin = AdminFactory()
    return Scenario("PATCH /api/v1/admin/users/{id}", 409, "conflict", admin, {"id": admin.pk}, {"role": "USER"})


def register_a_node_with_a_wrong_token(settings, cluster, midtrans):
    body = {
        "name": "worker-9",
        "hostname": "worker-9",
        "ip_address": "10.0.0.9",
        "capacity": {"cpu_millicores": 1000, "memory_mb": 1024, "pods": 10},
        "labels": {},
        "kubelet_version": "v1.31.0",
    }
    return Scenario(
        "POST /api/v1/workers/register",
        401,
        "not_authenticated",
        body=body,
        headers={"X-Worker-Token": "not-the-join-token"},
    )


def heartbeat_with_a_wrong_token(settings, cluster, midtrans):
    body = {"status": "READY", "usage": {"cpu_percent": 10.0, "memory_percent": 20.0, "pods_running": 3}}
    headers = {"X-Worker-Token": "not-a-node-token"}
    return Scenario("POST /api/v1/workers/heartbeat", 401, "not_authenticated", body=body, headers=headers)


SCENARIOS = [
    purchase_unfunded,
    purchase_over_the_limit,
    change_plan_unfunded,
    cancel_twice,
    renew_a_cancelled_subscription,
    start_a_cancelled_app,
    logs_of_an_app_with_no_pod,
    logs_while_the_cluster_fails,
    topup_the_gateway_refuses,
    topup_key_reused_for_another_amount,
    topup_with_a_malformed_key,
    webhook_endpoints_over_the_limit,
    logout_with_a_junk_token,
    login_with_a_wrong_password,
    login_again_and_again,
    notification_with_a_bad_signature,
    notification_for_an_unknown_order,
    notification_the_status_api_cannot_confirm,
    adjustment_below_zero,
    adjustment_for_nobody,
    refund_of_a_spent_topup,
    refund_twice,
    refund_of_a_subscription_charge,
    restore_what_was_not_deleted,
    restart_a_stopped_instance,
    reconcile_an_unknown_instance,
    delete_a_service_with_plans,
    delete_a_plan_in_use,
    deactivate_oneself,
    demote_oneself,
    register_a_node_with_a_wrong_token,
    heartbeat_with_a_wrong_token,
]


@pytest.fixture
def midtrans(settings):
    """Midtrans' API, answered in the process: anything a scenario did not register fails to connect."""
    settings.MIDTRANS_SERVER_KEY = "SB-Mid-server-test-key-0123456789"
    settings.MIDTRANS_IS_PRODUCTION = False
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.__name__)
def test_a_domain_error_answers_as_documented(scenario, schema, db, cluster, offline, wsgi, settings, midtrans):
    invoices_numbered_at_once()
    catalog_seed()
    stage = scenario(settings, cluster, midtrans)
    method, path = stage.operation.split(" ", 1)
    operation = schema[path][method]
    headers = {**(bearer(stage.user) if stage.user else {}), **stage.headers}
    kwargs = {"path_parameters": {k: str(v) for k, v in stage.path.items()}}
    if stage.body is not None:
        kwargs |= {"body": stage.body, "media_type": "application/json"}
    # An outage the scenario stages is a 5xx on purpose: the other checks still hold.
    checks = [check for check in CHECKS if stage.status < 500 or check is not not_a_server_error]
    for body in stage.before:
        operation.Case(**kwargs | {"body": body}).call_and_validate(headers=headers, checks=checks)
    for _ in range(stage.repeat):
        response = operation.Case(**kwargs).call_and_validate(headers=headers, checks=checks)
        if response.status_code == stage.status:
            break
    assert response.status_code == stage.status, response.text
    assert response.json()["error"]["code"] == stage.code
