"""The CLI as a real subprocess, and the state file that survives restarts."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import yaml
from kubernetes import client, config

from pods.emulator import Emulator, StateFile
from pods.emulator import resources as r

from .helpers import deployment

ROOT = Path(__file__).resolve().parents[3]


def _wait(condition, timeout: float = 15.0, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("timed out waiting")


def _start(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen, Path]:
    kubeconfig = tmp_path / "emulator" / "kubeconfig"
    kubeconfig.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pods.emulator",
            "--port",
            "0",
            "--kubeconfig",
            str(kubeconfig),
            "--token",
            "cli-token",
            *extra,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait(kubeconfig.exists)
    return process, kubeconfig


def _stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=15)
    assert process.returncode == 0, stderr
    return stderr


def _clients(kubeconfig: Path) -> tuple[client.CoreV1Api, client.AppsV1Api]:
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    api = client.ApiClient(configuration)
    return client.CoreV1Api(api), client.AppsV1Api(api)


def test_cli_serves_persists_and_stops(tmp_path):
    state = tmp_path / "emulator" / "state.json"
    process, kubeconfig = _start(tmp_path, "--state", str(state), "--ready-delay", "0", "--nodes", "2")
    try:
        doc = yaml.safe_load(kubeconfig.read_text())
        assert doc["current-context"] == "paas-emulator"
        assert doc["users"][0]["user"] == {"token": "cli-token"}
        assert doc["clusters"][0]["cluster"]["server"].startswith("http://127.0.0.1:")
        assert stat.S_IMODE(kubeconfig.stat().st_mode) == 0o600
        core, apps = _clients(kubeconfig)
        assert len(core.list_node().items) == 2
        core.create_namespace({"metadata": {"name": "kept"}})
        apps.create_namespaced_deployment("kept", deployment("web"))
        _wait(lambda: [p for p in core.list_namespaced_pod("kept").items if p.status.phase == "Running"])
    finally:
        stderr = _stop(process)
    assert "listening on http://127.0.0.1:" in stderr
    assert kubeconfig.exists() and state.exists()  # nothing removed on exit

    process, kubeconfig = _start(tmp_path, "--state", str(state), "--ready-delay", "0")
    try:
        core, apps = _clients(kubeconfig)
        assert apps.read_namespaced_deployment("web", "kept").status.ready_replicas == 1
        assert len(core.list_namespaced_pod("kept").items) == 1
        assert len(core.list_node().items) == 2  # the saved nodes, not new defaults
    finally:
        _stop(process)


def test_state_file_round_trip(tmp_path):
    first = Emulator(ready_delay=0)
    first.registry.create(r.CONFIGMAPS, {"metadata": {"name": "cm"}, "data": {"a": "b"}}, "default")
    saved = StateFile(tmp_path / "state.json", first)
    saved.save()
    second = Emulator(ready_delay=0)
    assert StateFile(tmp_path / "state.json", second).load()
    assert second.get("configmaps", "default", "cm")["data"] == {"a": "b"}
    assert second.store.revision == first.store.revision
    created = second.registry.create(r.CONFIGMAPS, {"metadata": {"name": "next"}}, "default")
    assert int(created["metadata"]["resourceVersion"]) > first.store.revision
