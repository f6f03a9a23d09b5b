"""Real processes for fault tests: a Celery worker that can be SIGKILLed mid-task, a PostgreSQL
session that watches and terminates other backends, and a Redis server of a test's own.

The worker is ``celery -A paas worker`` with the test settings, on this run's test database,
cache and broker, consuming one private queue: concurrent test runs share the broker, and must
never take each other's messages. It runs in its own process group, so a kill takes the pool
children with it, as when a container is killed.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import quote

import psycopg
import redis
from django.conf import settings
from django.db import connection

from paas.celery import app


def wait_for(condition: Callable[[], object], *, timeout: float = 60.0, what: str = "condition") -> object:
    """Poll ``condition`` until it returns something truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def database_url() -> str:
    """The URL of the database this test run uses (the test database, not the configured one)."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{credentials}@{host}/{db['NAME']}"


@contextlib.contextmanager
def private_queue() -> Iterator[str]:
    """Publish for real (no eager mode) to a queue of this test's own, emptied afterwards."""
    queue = f"faults-{uuid.uuid4().hex[:12]}"
    # The app's queue declarations are built once and grow with every queue published to: build
    # them before the switch (so the project's default stays theirs) and drop ours afterwards, or a
    # worker started later in this process would consume from it instead.
    declared = app.amqp.queues
    eager, default_queue = app.conf.task_always_eager, app.conf.task_default_queue
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    try:
        yield queue
    finally:
        app.conf.task_always_eager = eager
        app.conf.task_default_queue = default_queue
        declared.pop(queue, None)
        _forget_queue(queue)


def _forget_queue(queue: str) -> None:
    """Drop the queue and the unacknowledged messages a killed worker left for it, so no later
    worker on the shared broker restores them after the visibility timeout."""
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        for tag, raw in broker.hscan_iter("unacked"):
            with contextlib.suppress(ValueError, TypeError, IndexError):
                _, exchange, routing_key = json.loads(raw)
                if queue in (exchange, routing_key):
                    broker.hdel("unacked", tag)
                    broker.zrem("unacked_index", tag)
        broker.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    finally:
        broker.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def private_redis() -> Iterator[str]:
    """A Redis server of this test's own: state that must survive until another process reads it
    cannot live in the shared test Redis, which concurrent runs flush between their tests."""
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        wait_for(lambda: _pings(client), timeout=10, what="a private redis-server")
        yield url
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=10)


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


class WorkerProcess:
    """``celery worker`` in a child process group, consuming ``queue`` with one pool process."""

    def __init__(self, queue: str) -> None:
        self.queue = queue
        self.process: subprocess.Popen | None = None
        self.lines: list[str] = []
        self._ready = threading.Event()

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_", "PAAS_"))}
        # The settings as this test has them now (an overridden cache, the emulator's kubeconfig).
        return env | {
            "DJANGO_SETTINGS_MODULE": "paas.settings.test",
            "DATABASE_URL": database_url(),
            "REDIS_URL": settings.CACHES["default"]["LOCATION"],
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "PAAS_CLUSTER_BACKEND": settings.PAAS_CLUSTER_BACKEND,
            "PAAS_EMULATOR_KUBECONFIG": str(settings.PAAS_EMULATOR_KUBECONFIG),
            "PYTHONUNBUFFERED": "1",
        }

    def start(self, *, timeout: float = 60.0) -> WorkerProcess:
        argv = [sys.executable, "-m", "celery", "-A", "paas", "worker", "--queues", self.queue]
        argv += ["--pool", "prefork", "--concurrency", "1", "--loglevel", "INFO", "--hostname", f"{self.queue}@%h"]
        argv += ["--without-heartbeat", "--without-gossip", "--without-mingle"]
        self.process = subprocess.Popen(
            argv,
            cwd=settings.BASE_DIR,
            env=self._env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        if not self._ready.wait(timeout):
            self.kill()
            raise AssertionError("the worker did not start:\n" + self.output)
        return self

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            if " ready." in line:
                self._ready.set()

    @property
    def output(self) -> str:
        return "".join(self.lines[-60:])

    def pool_pids(self) -> set[int]:
        """The pool processes (the children that run tasks), from /proc."""
        assert self.process is not None
        found = set()
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                with contextlib.suppress(OSError):
                    with open(f"/proc/{entry}/stat") as stat:
                        fields = stat.read().rsplit(")", 1)[1].split()
                    if fields[0] != "Z" and int(fields[1]) == self.process.pid:  # state, parent pid
                        found.add(int(entry))
        return found

    def kill_pool_process(self) -> int:
        """SIGKILL the one pool process, as the OOM killer would; the main process survives."""
        (pid,) = self.pool_pids()
        os.kill(pid, signal.SIGKILL)
        return pid

    def kill(self) -> None:
        """SIGKILL the whole worker, pool included: no shutdown, no acknowledgement, nothing."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


class PostgresObserver:
    """A separate session on the test database, to see who waits on whose locks and to terminate
    a backend, as an operator (or a failover) would."""

    def __init__(self) -> None:
        db = connection.settings_dict
        self.conn = psycopg.connect(
            dbname=db["NAME"],
            user=db["USER"] or None,
            password=db["PASSWORD"] or None,
            host=db["HOST"] or "127.0.0.1",
            port=db["PORT"] or 5432,
            autocommit=True,
        )

    def close(self) -> None:
        self.conn.close()

    def blocked_by(self, pid: int) -> list[int]:
        """Backends of this database whose lock waits on backend ``pid``: it holds the lock, or it
        is ahead of them in the lock's queue."""
        rows = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND %s = ANY(pg_blocking_pids(pid))",
            [pid],
        ).fetchall()
        return [row[0] for row in rows]

    def alive(self, pid: int) -> bool:
        return bool(self.conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone())

    def terminate(self, pid: int) -> bool:
        return bool(self.conn.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0])


def backend_pid() -> int:
    """The PostgreSQL backend of this thread's Django connection."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]
