"""Purchase to RUNNING on the emulated cluster: the platform's own share of the time.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/paas_bench python bench/purchase.py [--purchases 200]

Starts the Kubernetes API emulator in this process, as the test suite's ``cluster`` fixture does,
with containers ready as soon as they start (readiness delay zero) and no control loop thread:
the cluster's own work (scheduling, starting pods) is one ``tick()`` between two reconcile passes,
outside the timings. Each customer (funded beforehand) buys an app through the API
(``POST /api/v1/subscriptions``); then what a worker does, the reconcile task, runs until the
instance is RUNNING. The platform's share of one purchase is the API request (with what runs
after its commit: the queued messages) plus every reconcile pass (with its calls to the API
server); reported as p50 and p99, with the passes and API requests a purchase takes.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.clock import broker_flush, percentile
from bench.common import BENCH_PASSWORD, Report, setup
from bench.sweep import start_emulator

SERVICES = (("n8n", "starter"), ("ghost", "starter"), ("wordpress", "starter"))
MAX_PASSES = 6


def ms(values: list[float]) -> str:
    p50, p99, top = (v * 1000 for v in (median(values), percentile(values, 99), max(values)))
    return f"p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {top:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--purchases", type=int, default=200)
    args = parser.parse_args()
    os.environ["CELERY_BROKER_URL"] = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/6")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    folder = Path(tempfile.mkdtemp(prefix="bench-purchase-"))
    emulator, server, kubeconfig = start_emulator(args.purchases * 2, folder)
    setup(PAAS_CLUSTER_BACKEND="simulated", PAAS_EMULATOR_KUBECONFIG=str(kubeconfig))
    broker_flush(os.environ["CELERY_BROKER_URL"])

    from django.test import Client
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.models import User
    from billing.services import wallet_adjust
    from catalog.services import catalog_seed
    from pods.models import ServiceInstance
    from pods.tasks import instance_reconcile_task
    from workers.services import nodes_sync

    report = Report("purchase")
    report("== Purchase to RUNNING ==")
    catalog_seed()
    nodes_sync()
    operator = User.objects.create_superuser(email="ops@bench.local", password=BENCH_PASSWORD, name="Ops")
    customers = []
    for i in range(args.purchases):
        user = User.objects.create_user(email=f"buyer{i}@bench.local", password=None, name=f"Buyer {i}")
        wallet_adjust(actor=operator, user=user, amount=Decimal("1000000.00"), reason="bench funding")
        customers.append(Client(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}"))

    api, passes_time, platform, cluster_time = [], [], [], []
    passes = Counter()
    requests = []
    try:
        for i, client in enumerate(customers):
            service, plan = SERVICES[i % len(SERVICES)]
            emulator.requests.clear()
            started = time.perf_counter()
            response = client.post(
                "/api/v1/subscriptions", {"service": service, "plan": plan}, content_type="application/json"
            )
            answered = time.perf_counter() - started
            if response.status_code != 201:
                raise SystemExit(f"purchase refused: {response.status_code} {response.content[:300]!r}")
            instance_id = response.json()["instance"]["id"]
            reconciling = ticking = 0.0
            taken = 0
            for taken in range(1, MAX_PASSES + 1):  # noqa: B007  (the count is used after the loop)
                started = time.perf_counter()
                instance_reconcile_task(instance_id)
                reconciling += time.perf_counter() - started
                if ServiceInstance.objects.filter(pk=instance_id, status="RUNNING").exists():
                    break
                started = time.perf_counter()
                emulator.tick()  # the cluster's share: schedule, pull, start, ready
                ticking += time.perf_counter() - started
            else:
                raise SystemExit(f"instance {instance_id} not RUNNING after {MAX_PASSES} passes")
            passes[taken] += 1
            api.append(answered)
            passes_time.append(reconciling)
            platform.append(answered + reconciling)
            cluster_time.append(ticking)
            requests.append(emulator.requests.records())
    finally:
        server.stop()
        broker_flush(os.environ["CELERY_BROKER_URL"])

    n = len(platform)
    reads = sum(1 for rs in requests for r in rs if not r.is_write) / n
    writes = sum(1 for rs in requests for r in rs if r.is_write) / n
    report(f"{n} purchases ({', '.join(f'{s} {p}' for s, p in SERVICES)} in turn), readiness delay 0")
    report(f"   platform's share (API request + reconcile passes): {ms(platform)}")
    report(f"     the purchase request (201, provisioning queued): {ms(api)}")
    report(f"     reconcile passes until RUNNING:                  {ms(passes_time)}")
    report(f"   passes per purchase: {dict(sorted(passes.items()))}")
    report(f"   API server requests per purchase: {reads:.1f} reads, {writes:.1f} writes")
    report(f"   the emulated cluster's own share (not counted above): {ms(cluster_time)}")
    print(f"saved {report.save()}")


if __name__ == "__main__":
    main()
