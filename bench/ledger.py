"""Ledger throughput, and whether charges on different wallets wait for one another.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/paas_bench python bench/ledger.py

1. The same number of charges made serially, by 4 workers on 4 wallets, and by 4 workers on
   one wallet, the workers being threads and then processes (as gunicorn and Celery run them).
   Charges on different wallets share nothing but the yearly invoice counter, taken at commit,
   so 4 wallets should scale with the workers; one wallet serializes on its row. The target is
   judged on processes: threads also wait on each other for Python's interpreter lock.
2. A charge on one wallet while another customer's transaction has charged and is still doing
   other work (a purchase creating its subscription and instance): how long the charge waits.
3. Afterwards: every wallet equals the sum of its completed rows, and the invoice numbers of
   the year are 1..n with no gap and no repeat, with the counter at n.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BENCH_PASSWORD, Report, setup

TARGET_SCALING = 1.6
HOLD_SECONDS = 0.5


def make_user(email: str, balance: Decimal):
    from accounts.models import User
    from billing.services import wallet_adjust

    user = User.objects.create_user(email=email, password=BENCH_PASSWORD, name="Bench")
    operator = User.objects.filter(role=User.Role.ADMINISTRATOR).first() or User.objects.create_superuser(
        email="ops@bench.local", password=BENCH_PASSWORD, name="Ops"
    )
    wallet_adjust(actor=operator, user=user, amount=balance, reason="bench funding")
    return user


def charge_many(user, count: int) -> None:
    from django.db import connection

    from billing.services import wallet_charge

    try:
        for _ in range(count):
            wallet_charge(user=user, amount=Decimal("100.00"), description="bench")
    finally:
        connection.close()


def in_parallel(users, per_worker: int, kind: str) -> float:
    """Each user's charges in a worker of its own: a thread, or a process as the platform runs them
    (gunicorn and Celery workers). Threads share one interpreter lock, so beyond the database they
    also measure Python waiting for Python; processes measure only what the charges share."""
    if kind == "process":
        from django.db import connection

        connection.close()  # a forked child must open its own, never reuse the parent's socket
        context = multiprocessing.get_context("fork")
        barrier, spawn = context.Barrier(len(users) + 1), context.Process
    else:
        barrier, spawn = threading.Barrier(len(users) + 1), threading.Thread

    def run(user):
        barrier.wait()
        charge_many(user, per_worker)

    workers = [spawn(target=run, args=(u,)) for u in users]
    for w in workers:
        w.start()
    barrier.wait()
    start = time.perf_counter()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - start
    if kind == "process" and any(w.exitcode for w in workers):
        raise SystemExit("a charging process failed")
    return elapsed


SHAPES = ("serial", "threads apart", "threads shared", "processes apart", "processes shared")


def throughput(report: Report, charges: int, workers: int, rounds: int) -> float:
    per_worker = charges // workers
    solo = make_user("solo@bench.local", Decimal("1000000000.00"))
    shared = make_user("shared@bench.local", Decimal("1000000000.00"))
    apart = [make_user(f"apart{i}@bench.local", Decimal("1000000000.00")) for i in range(workers)]
    charge_many(solo, 20)  # warm up: connections, statement caches

    # Alternate the shapes over several rounds and keep each one's median, so a burst of load
    # from elsewhere on the machine does not land on one shape only.
    timings: dict[str, list[float]] = {shape: [] for shape in SHAPES}
    for _ in range(rounds):
        start = time.perf_counter()
        charge_many(solo, per_worker * workers)
        timings["serial"].append(time.perf_counter() - start)
        for kind, plural in (("thread", "threads"), ("process", "processes")):
            timings[f"{plural} apart"].append(in_parallel(apart, per_worker, kind))
            timings[f"{plural} shared"].append(in_parallel([shared] * workers, per_worker, kind))
    t = {shape: median(timings[shape]) for shape in SHAPES}
    done = per_worker * workers
    report(f"1. {done} charges of 100.00 per shape, median of {rounds} rounds (wallet lock + ledger row + invoice)")
    for shape, label in (
        ("serial", "serial, 1 thread"),
        ("threads apart", f"{workers} threads, {workers} wallets"),
        ("threads shared", f"{workers} threads, 1 wallet"),
        ("processes apart", f"{workers} processes, {workers} wallets"),
        ("processes shared", f"{workers} processes, 1 wallet"),
    ):
        report(f"   {label:26} {done / t[shape]:8.0f} charges/s   {t['serial'] / t[shape]:.2f}x")
    scaling = t["serial"] / t["processes apart"]
    verdict = "met" if scaling >= TARGET_SCALING else "NOT met"
    report(
        f"   target: {workers} processes on {workers} wallets >= {TARGET_SCALING}x serial: {verdict}"
        f" ({os.cpu_count()} CPU cores for PostgreSQL and the workers together)"
    )
    return scaling


def held_open(report: Report) -> float:
    """Customer A charges inside a transaction that stays open HOLD_SECONDS; B charges meanwhile."""
    from django.db import connection, transaction

    from billing.services import wallet_charge

    a = make_user("held-a@bench.local", Decimal("1000000.00"))
    b = make_user("held-b@bench.local", Decimal("1000000.00"))
    charged = threading.Event()

    def customer_a():
        try:
            with transaction.atomic():
                wallet_charge(user=a, amount=Decimal("100.00"), description="held open")
                charged.set()
                time.sleep(HOLD_SECONDS)  # the rest of a purchase: subscription, instance, events
        finally:
            connection.close()

    waits = []
    for _ in range(5):
        charged.clear()
        holder = threading.Thread(target=customer_a)
        holder.start()
        charged.wait(10)
        start = time.perf_counter()
        wallet_charge(user=b, amount=Decimal("100.00"), description="meanwhile")
        waits.append(time.perf_counter() - start)
        holder.join()
    wait = median(waits)
    report(f"2. a charge on wallet B while A's charging transaction stays open {HOLD_SECONDS * 1000:.0f} ms")
    report(f"   B's charge took {wait * 1000:.1f} ms (median of {len(waits)})")
    verdict = "met" if wait < HOLD_SECONDS / 10 else "NOT met"
    report(f"   target: B does not wait for A's transaction, only for taking a number: {verdict}")
    return wait


def check(report: Report) -> None:
    from django.db.models import Count, Max, Min, Sum

    from billing.models import Invoice, InvoiceSequence, Transaction, Wallet

    drifted = 0
    totals = dict(
        Transaction.objects.filter(status="COMPLETED")
        .values("user_id")
        .annotate(t=Sum("amount"))
        .values_list("user_id", "t")
    )
    for wallet in Wallet.objects.all():
        drifted += wallet.balance != totals.get(wallet.user_id, 0)
    report(
        f"3. ledger invariant (balance == sum of completed rows): {'holds' if not drifted else f'{drifted} drifted'}"
    )
    for year, last in InvoiceSequence.objects.values_list("year", "last_number"):
        stats = Invoice.objects.filter(year=year).aggregate(n=Count("id"), lo=Min("sequence"), hi=Max("sequence"))
        distinct = Invoice.objects.filter(year=year).values("sequence").distinct().count()
        gap_free = stats["lo"] == 1 and stats["hi"] == stats["n"] == distinct == last
        report(
            f"   invoices {year}: {stats['n']} issued, numbers {stats['lo']}..{stats['hi']}, counter at {last}: "
            + ("gap-free" if gap_free else "GAPS OR REPEATS")
        )
        if not gap_free or drifted:
            raise SystemExit("ledger check failed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charges", type=int, default=400, help="charges per shape and round")
    parser.add_argument("--workers", type=int, default=4, help="threads, then processes, charging at once")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    setup()
    report = Report("ledger")
    report("== Ledger ==")
    throughput(report, args.charges, args.workers, args.rounds)
    held_open(report)
    check(report)
    print(f"saved {report.save()}")


if __name__ == "__main__":
    main()
