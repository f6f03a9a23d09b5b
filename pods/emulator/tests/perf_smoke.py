"""Performance smoke run (not a test): thousands of objects through the official client.

Starts the emulator CLI as a subprocess (as ``make run`` and the benchmarks do), creates N
Deployments and N Secrets over HTTP with the official client, lists each kind cluster-wide with a
label selector, waits for the controllers to make every Deployment ready, and prints timings.

    .venv/bin/python pods/emulator/tests/perf_smoke.py --count 2000
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from kubernetes import client, config  # noqa: E402

from pods.emulator.tests.helpers import deployment  # noqa: E402


def timed(label: str, action: Callable[[], Any], count: int | None = None) -> Any:
    started = time.perf_counter()
    result = action()
    elapsed = time.perf_counter() - started
    rate = f"  ({count / elapsed:,.0f}/s, {elapsed / count * 1000:.2f} ms each)" if count else ""
    print(f"{label:<58} {elapsed:8.2f} s{rate}", flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000, help="Deployments (and Secrets) to create")
    parser.add_argument("--namespaces", type=int, default=200, help="namespaces to spread them over")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        kubeconfig = Path(tmp) / "kubeconfig"
        # Enough simulated capacity for every pod to be scheduled.
        nodes = max(3, args.count // 100 + 1)
        command = [sys.executable, "-m", "pods.emulator", "--kubeconfig", str(kubeconfig), "--ready-delay", "0"]
        command += ["--nodes", str(nodes), "--node-cpu", "16", "--node-memory", "64Gi", "--log-level", "WARNING"]
        process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        try:
            deadline = time.monotonic() + 30
            while not kubeconfig.exists():
                if time.monotonic() > deadline:
                    raise SystemExit("the emulator did not start")
                time.sleep(0.05)
            return run(kubeconfig, args.count, args.namespaces)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


def run(kubeconfig: Path, count: int, namespaces: int) -> int:
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    api = client.ApiClient(configuration)
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    names = [f"perf-{i:04d}" for i in range(namespaces)]
    timed(
        f"create {namespaces} namespaces",
        lambda: [core.create_namespace({"metadata": {"name": n}}) for n in names],
        namespaces,
    )

    def create_deployments() -> None:
        for i in range(count):
            body = deployment(f"app-{i:05d}")
            body["metadata"]["labels"]["paas/perf"] = "yes"
            body["spec"]["template"]["metadata"]["labels"]["paas/perf"] = "yes"
            apps.create_namespaced_deployment(names[i % namespaces], body)

    def create_secrets() -> None:
        for i in range(count):
            meta = {"name": f"app-{i:05d}", "labels": {"paas/perf": "yes"}}
            core.create_namespaced_secret(
                names[i % namespaces], {"metadata": meta, "string_data": {"password": f"s{i}"}}
            )

    timed(f"create {count} Deployments", create_deployments, count)
    timed(f"create {count} Secrets", create_secrets, count)
    deployments = timed(
        "list Deployments cluster-wide (labelSelector)",
        lambda: apps.list_deployment_for_all_namespaces(label_selector="paas/perf=yes"),
    )
    secrets = timed(
        "list Secrets cluster-wide (labelSelector)",
        lambda: core.list_secret_for_all_namespaces(label_selector="paas/perf=yes"),
    )
    timed(
        "  same Deployments list, raw JSON (no client models)",
        lambda: apps.list_deployment_for_all_namespaces(label_selector="paas/perf=yes", _preload_content=False).data,
    )
    assert len(deployments.items) == count and len(secrets.items) == count

    def all_ready() -> int:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            listed = apps.list_deployment_for_all_namespaces(label_selector="paas/perf=yes")
            ready = sum(1 for d in listed.items if (d.status.ready_replicas or 0) == 1)
            if ready == count:
                return ready
            time.sleep(1)
        raise SystemExit("deployments did not all become ready")

    timed(f"controllers: all {count} Deployments ready", all_ready)
    pods = timed(
        "list Pods cluster-wide (labelSelector)",
        lambda: core.list_pod_for_all_namespaces(label_selector="paas/perf=yes"),
    )
    timed("list Pods cluster-wide (no selector)", lambda: core.list_pod_for_all_namespaces())
    page = timed("list Deployments cluster-wide, limit=500", lambda: apps.list_deployment_for_all_namespaces(limit=500))
    assert len(page.items) == 500
    print(f"{len(pods.items)} labelled pods listed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
