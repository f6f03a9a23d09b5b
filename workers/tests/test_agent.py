"""The node agent as a real process against a live server: register, report, and register again
when its token is rotated."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workers.agent import Backoff, cpu_percent, memory_percent
from workers.models import NodeEvent, WorkerNode
from workers.services import node_rotate_token

JOIN = "test-join-token-0123456789"
ROOT = Path(__file__).resolve().parents[2]


def wait_for(check, seconds=20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


@pytest.mark.django_db(transaction=True)
def test_the_agent_registers_reports_and_recovers_from_a_rotated_token(live_server, settings, tmp_path):
    settings.WORKER_HEARTBEAT_INTERVAL = 1
    state = tmp_path / "state" / "token"
    agent = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "workers.agent",
            "--url",
            live_server.url,
            "--name",
            "agent-node",
            "--state",
            str(state),
        ],
        cwd=ROOT,
        env={**os.environ, "WORKER_JOIN_TOKEN": JOIN, "NODE_IP": "10.0.0.5", "NODE_LABELS": '{"pool": "test"}'},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        node = wait_for(lambda: WorkerNode.objects.filter(name="agent-node", cpu_percent__isnull=False).first())
        assert node.status == "READY" and str(node.ip_address) == "10.0.0.5" and node.labels == {"pool": "test"}
        assert node.cpu_millicores == (os.cpu_count() or 1) * 1000 and node.memory_mb > 0
        assert state.read_text().startswith("wn_") and (state.stat().st_mode & 0o777) == 0o600

        rotated_at = time.time()
        node_rotate_token(node=node)
        wait_for(lambda: NodeEvent.objects.filter(node=node, reason="Reregistered").exists())
        wait_for(
            lambda: WorkerNode.objects.get(pk=node.pk).last_heartbeat_at.timestamp() > rotated_at + 0.5
        )  # reporting again, with its new token
    finally:
        agent.send_signal(signal.SIGTERM)
        output = agent.communicate(timeout=15)[0].decode()
    assert agent.returncode == 0, output
    assert "registering again" in output


def test_usage_is_read_from_proc(tmp_path):
    (tmp_path / "stat").write_text("cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 1 1 1\n")
    (tmp_path / "meminfo").write_text("MemTotal:  8000 kB\nMemFree: 1000 kB\nMemAvailable:  2000 kB\n")
    from workers.agent import cpu_times, meminfo

    before = cpu_times(tmp_path)
    (tmp_path / "stat").write_text("cpu  150 0 150 750 150 0 0 0 0 0\n")
    assert cpu_percent(before, cpu_times(tmp_path)) == 50.0  # 100 busy of 200 jiffies
    assert memory_percent(meminfo(tmp_path)) == 75.0


def test_the_backoff_grows_and_is_capped():
    backoff = Backoff(first=1, cap=10)
    waits = [backoff.next() for _ in range(8)]
    assert waits[0] < 1.3 and waits[3] > 6 and max(waits) <= 12
    backoff.reset()
    assert backoff.next() < 1.3


def test_the_agent_refuses_to_start_without_its_settings():
    result = subprocess.run(
        [sys.executable, "-m", "workers.agent", "--url", "ftp://x"],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "WORKER_JOIN_TOKEN"},
        capture_output=True,
        timeout=30,
    )
    assert result.returncode == 2 and b"join token" in result.stderr
