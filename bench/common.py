"""What every benchmark shares: the one database it may touch, Django set up on it, and reporting.

A benchmark only ever uses the database named by ``BENCH_DATABASE_URL`` (``make bench`` sets it;
default ``postgres://postgres@127.0.0.1:5432/paas_bench``). It creates that database when it is
missing and empties its tables before a run; it never drops or creates any other database.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/paas_bench"
BENCH_PASSWORD = "Bench-Password-123"  # noqa: S105  (accounts in the benchmark's own database)

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def database_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL


def _ensure_database(url: str) -> None:
    """Create the configured database if it does not exist yet (connecting to ``postgres``)."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name:
        raise SystemExit(f"BENCH_DATABASE_URL names no database: {url}")
    maintenance = parts._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)
    with psycopg.connect(maintenance, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def setup(**env: str) -> None:
    """Point Django at the benchmark database (migrated, emptied) with production-like settings.

    ``env`` overrides settings read from the environment (e.g. ``PAAS_CLUSTER_DRIVER``).
    """
    url = database_url()
    _ensure_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paas.settings.base")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "bench-" + "k" * 50)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
    os.environ.setdefault("PAYMENT_GATEWAY", "simulator")
    os.environ.update(env)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)


class Report:
    """Lines printed as they come and saved under ``bench/results/<name>.txt``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lines: list[str] = []

    def __call__(self, text: str = "") -> None:
        print(text, flush=True)
        self.lines.append(text)

    def save(self) -> Path:
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"{self.name}.txt"
        path.write_text("\n".join(self.lines) + "\n")
        return path
