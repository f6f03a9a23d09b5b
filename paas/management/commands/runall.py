"""Run the whole local system in the foreground (what ``make run`` starts): the Kubernetes API
emulator (when the cluster is simulated), the web server, a Celery worker and Celery beat.

One Ctrl-C stops them all; if one of them dies, the others are stopped too, so a broken local
setup is loud instead of half-running.
"""

import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Start the cluster emulator, web, Celery worker and beat for local runs; Ctrl-C stops all."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--concurrency", type=int, default=2)
        parser.add_argument(
            "--ready-delay", type=float, default=3.0, help="Seconds the emulated pods take to become ready."
        )

    def handle(self, *args, host, port, concurrency, ready_delay, **options):
        py = sys.executable
        procs: dict[str, subprocess.Popen] = {}
        if settings.PAAS_CLUSTER_BACKEND == "simulated":
            procs["cluster"] = self._start_emulator(py, ready_delay)
        commands = {
            "web": [py, "manage.py", "runserver", f"{host}:{port}", "--noreload"],
            "worker": [
                py, "-m", "celery", "-A", "paas", "worker", "-l", "INFO",
                f"--concurrency={concurrency}", "--without-mingle", "--without-gossip",
            ],
            "beat": [py, "-m", "celery", "-A", "paas", "beat", "-l", "INFO"],
        }  # fmt: skip
        # The argv lists are built above from our own interpreter path: no shell, no user input.
        procs |= {name: subprocess.Popen(cmd) for name, cmd in commands.items()}  # noqa: S603
        self.stdout.write(f"web on http://{host}:{port}/ (API docs at /api/docs/), worker and beat started")
        # Node agents (python -m workers.agent) and contract checks register with it.
        self.stdout.write(f"worker join token: {settings.WORKER_JOIN_TOKEN}")
        self._supervise(procs)

    def _start_emulator(self, py: str, ready_delay: float) -> subprocess.Popen:
        kubeconfig = Path(settings.PAAS_EMULATOR_KUBECONFIG)
        # A kubeconfig left by an earlier run names a port nobody listens on any more.
        kubeconfig.unlink(missing_ok=True)
        kubeconfig.parent.mkdir(parents=True, exist_ok=True)
        state = kubeconfig.parent / "state.json"
        # No bearer token: kubectl never sends one over plain HTTP, and the emulator listens on
        # loopback only, for this machine's own processes.
        argv = [
            py, "-m", "pods.emulator", "--kubeconfig", str(kubeconfig), "--state", str(state),
            "--ready-delay", str(ready_delay),
        ]  # fmt: skip
        proc = subprocess.Popen(argv)  # noqa: S603 (our interpreter, our arguments)
        deadline = time.monotonic() + 30
        while not kubeconfig.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise CommandError("The Kubernetes API emulator did not start; see its output above.")
            time.sleep(0.1)
        self.stdout.write(
            f"cluster: the Kubernetes API emulator (kubectl --kubeconfig {kubeconfig} get pods -A to look inside)"
        )
        return proc

    def _supervise(self, procs: dict[str, subprocess.Popen]) -> None:
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

        # The emulator goes last, so the worker is not cut off from the cluster mid-task.
        cluster = procs.pop("cluster", None)
        _stop_all(procs.values())
        if cluster is not None:
            _stop_all([cluster])
        if not stopping:
            sys.exit(1)


def _stop_all(procs) -> None:
    procs = list(procs)
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + 15
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
