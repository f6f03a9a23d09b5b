"""The node agent: ``python -m workers.agent``. It registers this node with the platform using the
cluster's join token, keeps the node token it gets back, and reports the node's usage every
``heartbeat_interval`` seconds (the platform says how often). Told its token is no longer valid
(401: rotated, or the node was removed), it registers again. It backs off when the platform cannot
be reached. Standard library only: it runs on any node with a Python 3.11.

Everything it needs comes from flags or the environment::

    PAAS_URL             the platform's base URL (https://paas.example.com)
    WORKER_JOIN_TOKEN    the cluster's join token
    NODE_NAME            this node's name (the Kubernetes node name; default: the host name)
    NODE_IP              this node's address (default: the one used to reach the platform)
    NODE_PODS            how many pods the node may run (default 110, the kubelet's)
    NODE_LABELS          labels as a JSON object
    KUBELET_VERSION      reported as is
    PAAS_AGENT_STATE     where the node token is kept between restarts (default ~/.paas-agent/token)

Usage comes from /proc (CPU between two reports, memory available); running pods are counted by
asking the Kubernetes API for the pods on this node when the agent runs in a pod (its service
account may list pods), else 0.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import signal
import socket
import ssl
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("paas.agent")

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")


# --- what the node looks like -----------------------------------------------------------------


def cpu_times(proc: Path = Path("/proc")) -> tuple[int, int]:
    """(idle, total) jiffies since boot, from the first line of /proc/stat."""
    fields = [int(v) for v in (proc / "stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return idle, sum(fields[:8])


def cpu_percent(before: tuple[int, int], after: tuple[int, int]) -> float:
    idle, total = after[0] - before[0], after[1] - before[1]
    return round(100.0 * (total - idle) / total, 1) if total > 0 else 0.0


def meminfo(proc: Path = Path("/proc")) -> dict[str, int]:
    """/proc/meminfo in KiB."""
    values = {}
    for line in (proc / "meminfo").read_text().splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            values[key] = int(parts[0])
    return values


def memory_percent(info: dict[str, int]) -> float:
    total = info.get("MemTotal", 0)
    available = info.get("MemAvailable", info.get("MemFree", 0))
    return round(100.0 * (total - available) / total, 1) if total else 0.0


def pods_on_node(node: str, timeout: float = 5.0) -> int:
    """Running pods on ``node``, from the Kubernetes API with the pod's own service account."""
    host, port = os.environ.get("KUBERNETES_SERVICE_HOST"), os.environ.get("KUBERNETES_SERVICE_PORT", "443")
    token_file = SERVICE_ACCOUNT / "token"
    if not host or not token_file.exists():
        return 0
    query = urllib.parse.urlencode({"fieldSelector": f"spec.nodeName={node},status.phase=Running", "limit": "500"})
    request = urllib.request.Request(
        f"https://{host}:{port}/api/v1/pods?{query}",
        headers={"Authorization": f"Bearer {token_file.read_text().strip()}", "Accept": "application/json"},
    )
    context = ssl.create_default_context(cafile=str(SERVICE_ACCOUNT / "ca.crt"))
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as answer:  # noqa: S310 (https, in-cluster)
            return len(json.load(answer).get("items") or [])
    except (OSError, ValueError) as exc:
        log.warning("could not count pods: %s", exc)
        return 0


# --- talking to the platform -------------------------------------------------------------------


class Unauthorized(Exception):
    """The platform refused the token (401)."""


class Refused(Exception):
    """The platform answered with another error: it will not help to repeat the same request soon."""


@dataclass
class Config:
    url: str
    join_token: str
    name: str
    ip: str | None
    pods: int
    labels: dict
    kubelet_version: str
    state: Path
    timeout: float = 10.0


class Backoff:
    """Exponential waits with jitter: 1, 2, 4 ... seconds, at most ``cap``."""

    def __init__(self, first: float = 1.0, cap: float = 300.0):
        self.first, self.cap, self.attempt = first, cap, 0

    def next(self) -> float:
        wait = min(self.cap, self.first * 2**self.attempt)
        self.attempt += 1
        return wait * random.uniform(0.8, 1.2)  # noqa: S311 (spreading retries, not a secret)

    def reset(self) -> None:
        self.attempt = 0


class Agent:
    def __init__(self, config: Config, *, proc: Path = Path("/proc")):
        self.config = config
        self.proc = proc
        self.token: str | None = None
        self.interval = 10.0
        self.cpu = cpu_times(proc)

    def _post(self, path: str, body: dict, token: str) -> dict:
        # The URL's scheme is checked to be http(s) when the configuration is read.
        request = urllib.request.Request(  # noqa: S310
            self.config.url.rstrip("/") + "/api/v1" + path,
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json", "X-Worker-Token": token},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.config.timeout) as answer:  # noqa: S310 (operator's URL)
                return json.load(answer)
        except urllib.error.HTTPError as exc:
            if exc.code == 401:
                raise Unauthorized() from exc
            if exc.code >= 500 or exc.code == 429:
                raise OSError(f"the platform answered {exc.code}") from exc
            raise Refused(f"the platform refused the request ({exc.code}): {exc.read()[:300]!r}") from exc

    def _ip(self) -> str | None:
        if self.config.ip:
            return self.config.ip
        # The address this node reaches the platform from (no packet is sent for a UDP connect).
        host = urllib.parse.urlsplit(self.config.url).hostname or "127.0.0.1"
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                probe.connect((host, 9))
                return probe.getsockname()[0]
        except OSError:
            return None

    def register(self) -> str:
        info = meminfo(self.proc)
        body = {
            "name": self.config.name,
            "hostname": socket.gethostname()[:253],
            "ip_address": self._ip(),
            "capacity": {
                "cpu_millicores": (os.cpu_count() or 1) * 1000,
                "memory_mb": info.get("MemTotal", 0) // 1024,
                "pods": self.config.pods,
            },
            "labels": self.config.labels,
            "kubelet_version": self.config.kubelet_version,
        }
        answer = self._post("/workers/register", body, self.config.join_token)
        self.token = answer["token"]
        self.interval = float(answer.get("heartbeat_interval") or self.interval)
        self._save_token(self.token)
        log.info("registered as %s", self.config.name)
        return self.token

    def heartbeat(self) -> None:
        if self.token is None:
            self.register()
        now = cpu_times(self.proc)
        body = {
            "status": "READY",
            "usage": {
                "cpu_percent": cpu_percent(self.cpu, now),
                "memory_percent": memory_percent(meminfo(self.proc)),
                "pods_running": pods_on_node(self.config.name),
            },
        }
        self.cpu = now
        try:
            answer = self._post("/workers/heartbeat", body, self.token)
        except Unauthorized:
            log.info("the node token was refused: registering again")
            self.register()
            answer = self._post("/workers/heartbeat", body, self.token)
        self.interval = float(answer.get("heartbeat_interval") or self.interval)

    def _load_token(self) -> str | None:
        try:
            return self.config.state.read_text().strip() or None
        except OSError:
            return None

    def _save_token(self, token: str) -> None:
        try:
            self.config.state.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.config.state.with_suffix(".tmp")
            temporary.write_text(token)
            temporary.chmod(0o600)
            temporary.replace(self.config.state)
        except OSError as exc:  # the token is kept in memory anyway
            log.warning("could not keep the token in %s: %s", self.config.state, exc)

    def run(self, stop: threading.Event) -> None:
        self.token = self._load_token()
        backoff = Backoff()
        while not stop.is_set():
            try:
                self.heartbeat()
            except (OSError, Unauthorized, Refused, ValueError, KeyError) as exc:
                wait = backoff.next()
                log.warning("report failed (%s); next try in %.0f s", exc, wait)
                stop.wait(wait)
                continue
            backoff.reset()
            stop.wait(self.interval)


def config_from(argv: list[str] | None = None) -> Config:
    env = os.environ
    parser = argparse.ArgumentParser(prog="python -m workers.agent", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=env.get("PAAS_URL"), help="the platform's base URL")
    parser.add_argument("--join-token", default=env.get("WORKER_JOIN_TOKEN"), help="the cluster's join token")
    parser.add_argument("--name", default=env.get("NODE_NAME") or socket.gethostname().lower(), help="node name")
    parser.add_argument("--ip", default=env.get("NODE_IP"), help="node address")
    parser.add_argument("--pods", type=int, default=int(env.get("NODE_PODS", "110")), help="pods the node may run")
    parser.add_argument("--labels", default=env.get("NODE_LABELS", "{}"), help="labels, as a JSON object")
    parser.add_argument("--kubelet-version", default=env.get("KUBELET_VERSION", ""), help="reported as is")
    parser.add_argument(
        "--state",
        default=env.get("PAAS_AGENT_STATE", str(Path.home() / ".paas-agent" / "token")),
        help="file keeping the node token between restarts",
    )
    args = parser.parse_args(argv)
    if not args.url or not args.join_token:
        parser.error("the platform URL (--url / PAAS_URL) and the join token (--join-token) are needed")
    if urllib.parse.urlsplit(args.url).scheme not in ("http", "https"):
        parser.error("the platform URL must be http:// or https://")
    try:
        labels = json.loads(args.labels)
    except ValueError:
        parser.error("--labels / NODE_LABELS must be a JSON object")
    return Config(
        url=args.url,
        join_token=args.join_token,
        name=args.name,
        ip=args.ip,
        pods=args.pods,
        labels=labels if isinstance(labels, dict) else {},
        kubelet_version=args.kubelet_version,
        state=Path(args.state),
    )


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = config_from(argv)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    log.info("reporting node %s to %s", config.name, config.url)
    Agent(config).run(stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
