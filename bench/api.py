"""API read paths under load: each endpoint against a bare Django view doing its one query.

    python bench/api.py [--rounds 5] [--seconds 3] [--workers 2] [--connections 8]

gunicorn (sync workers) serves the product and the yardsticks of ``bench/bare.py`` side by side, on
PostgreSQL and Redis. Measured from outside: throughput, p50 and p99 of a page of 20, and the
ratio of the product's throughput to the bare view's. Target: a ratio of at least 0.6, and a p99
under 50 ms at 8 connections.

The data: the catalog as seeded, 200 customers, 50,000 ledger rows spread among them, and the
customer measured with 300 completed charges and 25 subscriptions (each with its app and usage
samples), so every list holds more than a page and its count is not free.
"""

from __future__ import annotations

import argparse
import os
import uuid
from datetime import timedelta
from decimal import Decimal

from common import BENCH_PASSWORD, Report, setup

TARGET_RATIO = 0.6
TARGET_P99_MS = 50.0


def seed() -> dict[str, str]:
    """Fill the (emptied) benchmark database; returns the ids and tokens the requests need."""
    from django.utils import timezone
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.models import User
    from billing.models import Transaction
    from billing.services import wallet_adjust, wallet_charge
    from catalog.models import Plan
    from catalog.services import catalog_seed
    from pods.models import ServiceInstance, UsageSample
    from pods.services.desired import host_for
    from subscriptions.models import Subscription
    from templates.naming import namespace_for_user

    catalog_seed()
    plans = list(Plan.objects.select_related("service").order_by("service__slug", "slug"))
    operator = User.objects.create_superuser(email="ops@bench.local", password=BENCH_PASSWORD, name="Ops")
    customer = User.objects.create_user(email="customer@bench.local", password=BENCH_PASSWORD, name="Customer")
    others = [User(email=f"c{i}@bench.local", name=f"Customer {i}") for i in range(199)]
    for other in others:
        other.set_unusable_password()
    User.objects.bulk_create(others)

    wallet_adjust(actor=operator, user=customer, amount=Decimal("50000000.00"), reason="bench funding")
    for i in range(300):
        wallet_charge(user=customer, amount=Decimal("1500.00"), description=f"n8n starter, period {i}")
    # Other customers' rows: the table is large, the customer's page is a small part of it.
    Transaction.objects.bulk_create(
        [
            Transaction(
                user=others[i % len(others)],
                type=Transaction.Type.TOPUP,
                status=Transaction.Status.PENDING,
                amount=Decimal("100000.00"),
                description="Top-up",
                order_id=f"bench-{i}",
                gateway="simulator",
            )
            for i in range(50_000)
        ],
        batch_size=5000,
    )

    now = timezone.now()
    instances, subscriptions, samples = [], [], []
    owners = [customer] * 25 + others[:175]
    for i, owner in enumerate(owners):
        plan = plans[i % len(plans)]
        instance = ServiceInstance(
            id=uuid.uuid4(),
            owner=owner,
            service=plan.service,
            plan=plan,
            name=f"{plan.service.name} {i}",
            namespace=namespace_for_user(owner.pk),
            secrets_sealed="",
            status=ServiceInstance.Status.RUNNING,
            node=f"node-{i % 10}",
            last_synced_at=now,
            usage_cpu_millicores=50,
            usage_memory_mb=200,
            usage_sampled_at=now,
        )
        instance.host = host_for(instance)
        instances.append(instance)
        subscriptions.append(
            Subscription(
                user=owner,
                service=plan.service,
                plan=plan,
                instance=instance,
                name=instance.name,
                current_period_start=now - timedelta(days=i % 30),
                current_period_end=now + timedelta(days=30 - i % 30),
                period_price=plan.price_monthly,
                period_paid=plan.price_monthly,
            )
        )
        samples += [
            UsageSample(instance=instance, sampled_at=now - timedelta(minutes=5 * k), cpu_millicores=50, memory_mb=200)
            for k in range(10)
        ]
    ServiceInstance.objects.bulk_create(instances)
    Subscription.objects.bulk_create(subscriptions)
    UsageSample.objects.bulk_create(samples)

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return {
        "customer": str(customer.pk),
        "customer_token": str(RefreshToken.for_user(customer).access_token),
        "operator_token": str(RefreshToken.for_user(operator).access_token),
    }


def main(argv: list[str] | None = None) -> None:
    from loadgen import http_arguments

    parser = http_arguments(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    args = parser.parse_args(argv)

    # A Redis-backed cache, as in production; tokens that outlive the run.
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/3")
    setup(JWT_ACCESS_MINUTES="240")
    from loadgen import HEADER, LEGEND, Server, Target, client_name, compare

    ids = seed()
    report = Report("api")
    customer = {"Authorization": f"Bearer {ids['customer_token']}"}
    operator = {"Authorization": f"Bearer {ids['operator_token']}"}
    mine = f"?user={ids['customer']}"
    cases = [
        ("GET /subscriptions", Target("/api/v1/subscriptions", customer), Target("/bench/subscriptions" + mine)),
        ("GET /services", Target("/api/v1/services"), Target("/bench/services")),
        (
            "GET /billing/transactions",
            Target("/api/v1/billing/transactions", customer),
            Target("/bench/transactions" + mine),
        ),
        ("GET /billing/balance", Target("/api/v1/billing/balance", customer), Target("/bench/balance" + mine)),
        ("GET /admin/pods", Target("/api/v1/admin/pods", operator), Target("/bench/pods")),
    ]
    report(
        f"API read paths: gunicorn, {args.workers} sync workers, PostgreSQL + Redis, {args.connections} connections"
        f" ({client_name()}), {args.rounds} interleaved rounds of {args.seconds:g} s, medians"
    )
    report(f"target: ratio >= {TARGET_RATIO} and p99 < {TARGET_P99_MS:g} ms")
    report(LEGEND)
    report(HEADER)
    met = True
    with Server(workers=args.workers) as server:
        for name, product, bare in cases:
            status, body = server.get(product.path, product.headers)
            assert status == 200, (name, status, body[:300])
            result = compare(
                server,
                name,
                product,
                bare,
                rounds=args.rounds,
                seconds=args.seconds,
                connections=args.connections,
            )
            report(result.row())
            met &= result.ratio >= TARGET_RATIO and result.product.p99_ms < TARGET_P99_MS
    report(f"target {'met' if met else 'NOT met'}")
    report.save()


if __name__ == "__main__":
    main()
