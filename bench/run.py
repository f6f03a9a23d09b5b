"""Benchmarks, reported as ratios measured side by side in one run (not part of the test suite).

    make bench          # PostgreSQL + Redis, as for the tests; writes bench/results/latest.txt

1. Ledger throughput: the same number of charges done serially, by 4 threads on 4 wallets, and
   by 4 threads on one wallet. Each charge locks its wallet row and the yearly invoice counter
   (gap-free numbering), so the ratios show what those two locks cost under concurrency.
2. List endpoints: time and queries per page of 100 transactions when the customer has 100
   rows versus 5,000. Queries must not grow; time should barely grow (the count and the
   indexed page are all that see the extra rows).
"""

import os
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DB = "paas_bench"

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paas.settings.base")
os.environ["DEBUG"] = "true"
os.environ["LOG_LEVEL"] = "WARNING"
os.environ["ALLOWED_HOSTS"] = "testserver,localhost"
os.environ["PAYMENT_GATEWAY"] = "simulator"
base_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/paas")
os.environ["DATABASE_URL"] = base_url.rsplit("/", 1)[0] + "/" + BENCH_DB


def _create_database() -> None:
    import psycopg

    admin_url = base_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DB}")


_create_database()

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from rest_framework_simplejwt.tokens import RefreshToken  # noqa: E402

from accounts.models import User  # noqa: E402
from billing.models import Transaction, Wallet  # noqa: E402
from billing.services import wallet_adjust, wallet_charge  # noqa: E402

call_command("migrate", verbosity=0)
lines: list[str] = []


def report(text: str = "") -> None:
    print(text)
    lines.append(text)


BENCH_PASSWORD = "Bench-Password-123"  # noqa: S105  (a throwaway database, dropped each run)


def make_user(email: str, balance: Decimal) -> User:
    user = User.objects.create_user(email=email, password=BENCH_PASSWORD, name="Bench")
    operator = User.objects.filter(role=User.Role.ADMINISTRATOR).first() or User.objects.create_superuser(
        email="ops@bench.local", password=BENCH_PASSWORD, name="Ops"
    )
    wallet_adjust(actor=operator, user=user, amount=balance, reason="bench funding")
    return user


def charge_many(user: User, count: int) -> None:
    try:
        for _ in range(count):
            wallet_charge(user=user, amount=Decimal("100.00"), description="bench")
    finally:
        connections.close_all()


def timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def bench_ledger(charges: int = 400, threads: int = 4) -> None:
    per_thread = charges // threads
    solo = make_user("solo@bench.local", Decimal("1000000.00"))
    shared = make_user("shared@bench.local", Decimal("1000000.00"))
    apart = [make_user(f"apart{i}@bench.local", Decimal("1000000.00")) for i in range(threads)]

    def serial():
        charge_many(solo, charges)

    def parallel(users):
        def run():
            workers = [threading.Thread(target=charge_many, args=(u, per_thread)) for u in users]
            for w in workers:
                w.start()
            for w in workers:
                w.join()

        return run

    t_serial = timed(serial)
    t_apart = timed(parallel(apart))
    t_shared = timed(parallel([shared] * threads))
    for user in [solo, shared, *apart]:
        balance = Wallet.objects.get(user=user).balance
        completed = sum(Transaction.objects.filter(user=user, status="COMPLETED").values_list("amount", flat=True))
        assert balance == completed, f"ledger invariant broken for {user.email}"

    report(f"ledger: {charges} charges of 100.00 (wallet lock + ledger row + gap-free invoice)")
    for label, seconds in (
        ("serial, 1 thread", t_serial),
        (f"{threads} threads, {threads} wallets", t_apart),
        (f"{threads} threads, 1 wallet", t_shared),
    ):
        report(f"  {label:28} {charges / seconds:8.0f} charges/s   {t_serial / seconds:.2f}x")
    # With one wallet or four, charges meet at the yearly invoice counter (gap-free numbering),
    # so the two parallel rows should be close; the gain over serial is round trips overlapping.
    report("  (every charge also takes the yearly invoice counter lock: numbering must stay gap-free)")


def bench_list(small: int = 100, large: int = 5000, repeats: int = 15) -> None:
    results = {}
    for size in (small, large):
        user = make_user(f"list{size}@bench.local", Decimal("10000000.00"))
        Transaction.objects.bulk_create(
            [
                Transaction(
                    user=user,
                    type="TOPUP",
                    status="PENDING",
                    amount=Decimal("10000.00"),
                    description="bench",
                    order_id=f"bench-{size}-{i}",
                )
                for i in range(size - 1)
            ]
        )
        client = Client(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
        url = "/api/v1/billing/transactions?page_size=100"
        assert client.get(url).status_code == 200
        timings = []
        for _ in range(repeats):
            connection.force_debug_cursor = True
            reset_queries()
            start = time.perf_counter()
            response = client.get(url)
            timings.append(time.perf_counter() - start)
            queries = len(connection.queries)
            connection.force_debug_cursor = False
            assert response.status_code == 200 and len(response.json()["results"]) == 100
        results[size] = (median(timings) * 1000, queries)

    (t_small, q_small), (t_large, q_large) = results[small], results[large]
    report(f"GET /billing/transactions, a page of 100 (median of {repeats})")
    report(f"  {small:5d} rows   {t_small:7.1f} ms   {q_small} queries   1.00x")
    report(f"  {large:5d} rows   {t_large:7.1f} ms   {q_large} queries   {t_large / t_small:.2f}x")


if __name__ == "__main__":
    bench_ledger()
    report()
    bench_list()
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.txt").write_text("\n".join(lines) + "\n")
