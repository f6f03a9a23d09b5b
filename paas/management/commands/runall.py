"""Run web, Celery worker and Celery beat together in the foreground (what ``make run`` starts).

One Ctrl-C stops all three; if one of them dies, the others are stopped too, so a broken
local setup is loud instead of half-running.
"""

import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Start web + Celery worker + beat for local runs; Ctrl-C stops all."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--concurrency", type=int, default=2)

    def handle(self, *args, host, port, concurrency, **options):
        py = sys.executable
        commands = {
            "web": [py, "manage.py", "runserver", f"{host}:{port}", "--noreload"],
            "worker": [
                py, "-m", "celery", "-A", "paas", "worker", "-l", "INFO",
                f"--concurrency={concurrency}", "--without-mingle", "--without-gossip",
            ],
            "beat": [py, "-m", "celery", "-A", "paas", "beat", "-l", "INFO"],
        }  # fmt: skip
        # The argv lists are built above from our own interpreter path: no shell, no user input.
        procs = {name: subprocess.Popen(cmd) for name, cmd in commands.items()}  # noqa: S603
        self.stdout.write(f"web on http://{host}:{port}/ (API docs at /api/docs/), worker and beat started")

        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        while not stopping:
            dead = [name for name, p in procs.items() if p.poll() is not None]
            if dead:
                self.stderr.write(f"{', '.join(dead)} exited; stopping the others")
                break
            time.sleep(0.5)

        for p in procs.values():
            if p.poll() is None:
                p.terminate()
        deadline = time.monotonic() + 15
        for p in procs.values():
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
        if not stopping:
            sys.exit(1)
