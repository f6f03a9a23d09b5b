"""The reconcile sweep over a cluster in line with the database: time and API calls per instance.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/paas_bench python bench/sweep.py [--instances 2000]

Starts the Kubernetes API emulator in this process, as the test suite's ``cluster`` fixture does
(containers ready at once; enough nodes for every pod), creates the instances through
``pods.services.instance_create`` (two per customer namespace by default) and reconciles each until
it runs (not timed). Then, with the emulator's request log cleared:

1. ``pods.services.sweep()`` once: wall time, time per instance, API requests by verb, and per
   instance. Target: reads only, one list per kind (a page per 500 objects), never a request per
   instance or per object.
2. ``pods.services.reconcile()`` of a sample of the converged instances, one at a time (what the
   loop does when an instance is queued): requests per instance. Target: reads only, one list per
   kind in its namespace.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Report, setup


def start_emulator(instances: int, folder: Path):
    from pods.emulator import Emulator, EmulatorServer

    # Every app runs one or two pods; a node takes 250 of them, with room to spare in CPU and memory.
    nodes = max(3, instances // 100 + 1)
    emulator = Emulator(ready_delay=0, seed=1, nodes=nodes, node_cpu="256", node_memory="1024Gi", node_pods=250)
    server = EmulatorServer(emulator).start()
    kubeconfig = server.write_kubeconfig(folder / "kubeconfig")
    return emulator, server, kubeconfig


def populate(count: int, per_namespace: int, emulator) -> list:
    """``count`` instances, converged: created, applied, their pods ready, their status recorded."""
    from accounts.models import User
    from catalog.models import Plan
    from catalog.services import catalog_seed
    from pods import services
    from pods.models import ServiceInstance

    catalog_seed()
    plans = list(Plan.objects.select_related("service").filter(is_active=True).order_by("service__slug", "slug"))
    ids = []
    owner = None
    for i in range(count):
        if i % per_namespace == 0:
            owner = User.objects.create_user(email=f"sweep{i}@bench.local", password=None, name=f"Customer {i}")
        plan = plans[i % len(plans)]
        ids.append(services.instance_create(owner=owner, plan=plan).pk)
    for _ in range(3):  # applied, then its pods ready, then RUNNING recorded
        for instance_id in ids:
            services.reconcile(instance_id)
        emulator.tick()
    running = ServiceInstance.objects.filter(pk__in=ids, status="RUNNING").count()
    if running != count:
        raise SystemExit(f"only {running} of {count} instances came up")
    return ids


def by_verb(records) -> str:
    verbs = Counter(r.verb for r in records)
    return ", ".join(f"{verb} {n}" for verb, n in sorted(verbs.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=2000)
    parser.add_argument("--per-namespace", type=int, default=2, help="instances per customer (namespace)")
    parser.add_argument("--sample", type=int, default=200, help="instances reconciled one at a time in part 2")
    args = parser.parse_args()
    os.environ["CELERY_BROKER_URL"] = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/6")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    folder = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    emulator, server, kubeconfig = start_emulator(args.instances, folder)
    setup(PAAS_CLUSTER_BACKEND="simulated", PAAS_EMULATOR_KUBECONFIG=str(kubeconfig))
    from bench.clock import broker_flush
    from pods import services

    broker_flush(os.environ["CELERY_BROKER_URL"])
    report = Report("sweep")
    report("== Reconcile sweep ==")
    try:
        started = time.perf_counter()
        ids = populate(args.instances, args.per_namespace, emulator)
        namespaces = -(-args.instances // args.per_namespace)
        report(
            f"set-up: {args.instances} converged instances in {namespaces} namespaces, "
            f"{time.perf_counter() - started:.0f} s (not timed below)"
        )

        emulator.requests.clear()
        started = time.perf_counter()
        result = services.sweep()
        wall = time.perf_counter() - started
        records = emulator.requests.records()
        writes = [r for r in records if r.is_write]
        n = result.instances
        report(f"1. pods.services.sweep() over {n} instances: {result.in_sync} in line, {len(result.queued)} queued")
        report(f"   wall time {wall:.2f} s, {wall / n * 1000:.2f} ms per instance")
        report(f"   {len(records)} API requests ({by_verb(records)}): {len(records) / n:.4f} per instance")
        lists = Counter(r.resource for r in records if r.verb == "list")
        report("   lists (pages) by resource: " + ", ".join(f"{k} {v}" for k, v in sorted(lists.items())))
        per_object = [r for r in records if r.verb == "get"]
        met = not writes and not per_object and not result.queued and result.in_sync == n
        report(f"   target: reads only, lists per kind, no request per instance: {'met' if met else 'NOT met'}")

        sample = ids[: args.sample]
        emulator.requests.clear()
        started = time.perf_counter()
        outcomes = Counter(services.reconcile(i).outcome.value for i in sample)
        wall = time.perf_counter() - started
        records = emulator.requests.records()
        writes = [r for r in records if r.is_write]
        report(f"2. pods.services.reconcile() of {len(sample)} converged instances, one at a time: {dict(outcomes)}")
        report(f"   {wall / len(sample) * 1000:.1f} ms per instance")
        report(f"   {len(records)} API requests ({by_verb(records)}): {len(records) / len(sample):.1f} per instance")
        met = not writes and outcomes == Counter({"converged": len(sample)})
        report(f"   target: reads only, one list per kind in its namespace: {'met' if met else 'NOT met'}")
    finally:
        server.stop()
        broker_flush(os.environ["CELERY_BROKER_URL"])
    print(f"saved {report.save()}")


if __name__ == "__main__":
    main()
