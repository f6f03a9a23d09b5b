"""Measuring from outside: the product served by gunicorn, loaded over HTTP, side by side with a
bare view in the same server.

``Server`` starts gunicorn (sync workers, as in production) on the benchmark database with the
benchmark's URLconf. ``compare`` loads an endpoint and its yardstick in interleaved rounds
(product, bare, bare, product, ...) so that a noisy neighbour on a shared machine hits both alike,
and reports the medians over the rounds. The load comes from ``wrk`` when it is installed
(Debian: ``apt-get install wrk``), else from threads of keep-alive ``http.client`` connections.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median

from common import ROOT


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn serving ``bench.settings`` on a free local port, for the length of a ``with``."""

    def __init__(self, *, workers: int, env: dict[str, str] | None = None) -> None:
        self.workers = workers
        self.port = _free_port()
        self.env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", **(env or {})}
        self.process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        # A benchmark stopped with SIGTERM still leaves through __exit__, taking its server along.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        command = [
            str(Path(sys.executable).with_name("gunicorn")),
            "paas.wsgi:application",
            f"--bind=127.0.0.1:{self.port}",
            f"--workers={self.workers}",
            "--worker-class=sync",
            "--timeout=30",
            # As the production image: an access log line per request (here to /dev/null).
            "--access-logfile=-",
        ]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited: {self.process.stderr.read()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return self
            except OSError:
                time.sleep(0.2)
        raise SystemExit("gunicorn did not answer /healthz within 60 s")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the master and its workers, from /proc."""
        pids = [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        if children.exists():
            pids += [int(pid) for pid in children.read_text().split()]
        ticks = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # a worker that just exited
                continue
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def get(self, path: str, headers: dict[str, str] | None = None, method: str = "GET", body: bytes | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()


@dataclass(frozen=True)
class Target:
    """What one load run sends: a path, its headers, and for POSTs a body per request in turn."""

    path: str
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "GET"
    # POSTs cycle through these (headers, body) pairs, e.g. one per worker node.
    variants: tuple[tuple[dict[str, str], bytes], ...] = ()


@dataclass(frozen=True)
class Run:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    cpu_ms: float = 0.0  # the server's CPU time per request (its processes only, not the database's)


# --- the two ways of making load ----------------------------------------------------------------

_WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _wrk_script(target: Target) -> str:
    if not target.variants:
        return f"wrk.method = {_lua_string(target.method)}\n"
    lines = ["local requests = {}", "init = function(args)"]
    for headers, body in target.variants:
        every = {**target.headers, **headers}
        header_table = ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in every.items())
        lines.append(
            f"  table.insert(requests, wrk.format({_lua_string(target.method)}, {_lua_string(target.path)},"
            f" {{{header_table}}}, {_lua_string(body.decode())}))"
        )
    lines += [
        "end",
        "local i = 0",
        "request = function()",
        "  i = i % #requests + 1",
        "  return requests[i]",
        "end",
    ]
    return "\n".join(lines) + "\n"


def _wrk(base: str, target: Target, *, seconds: float, connections: int) -> Run:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_wrk_script(target))
    try:
        command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{int(seconds)}s", "--latency"]
        command += ["-s", script.name]
        for name, value in target.headers.items():
            command += ["-H", f"{name}: {value}"]
        out = subprocess.run(
            [*command, base + target.path], capture_output=True, text=True, check=True, timeout=seconds + 60
        ).stdout
    finally:
        os.unlink(script.name)
    if "Non-2xx" in out:
        raise SystemExit(f"{target.path}: error answers under load:\n{out}")
    latency = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.MULTILINE))

    def ms(text: str) -> float:
        number, unit = re.fullmatch(r"([\d.]+)(\w+)", text).groups()
        return float(number) * _WRK_UNITS[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    done = int(re.search(r"(\d+) requests in", out).group(1))
    return Run(rps, ms(latency["50"]), ms(latency["99"]), done)


def _threads(base: str, target: Target, *, seconds: float, connections: int) -> Run:
    host, port = base.removeprefix("http://").split(":")
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors: list[str] = []
    stop_at = time.perf_counter() + seconds
    variants = target.variants or ((target.headers, None),)

    def client(slot: int) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        turn = slot
        while (start := time.perf_counter()) < stop_at:
            headers, body = variants[turn % len(variants)]
            turn += 1
            try:
                conn.request(target.method, target.path, body=body, headers={**target.headers, **headers})
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                conn.close()  # the server closed the connection: open another one
                conn = http.client.HTTPConnection(host, int(port), timeout=30)
                continue
            if response.status >= 300:
                errors.append(f"{response.status}")
                return
            latencies[slot].append((time.perf_counter() - start) * 1000)
            if response.getheader("Connection", "").lower() == "close":
                conn.close()

    workers = [threading.Thread(target=client, args=(i,)) for i in range(connections)]
    began = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - began
    if errors:
        raise SystemExit(f"{target.path}: error answers under load: {errors[:5]}")
    every = sorted(x for per in latencies for x in per)
    p99 = every[min(len(every) - 1, int(len(every) * 0.99))]
    return Run(len(every) / elapsed, every[len(every) // 2], p99, len(every))


def load(server: Server, target: Target, *, seconds: float, connections: int) -> Run:
    driver = _wrk if shutil.which("wrk") and os.environ.get("BENCH_CLIENT") != "python" else _threads
    before = server.cpu_seconds()
    run = driver(server.base, target, seconds=seconds, connections=connections)
    spent = server.cpu_seconds() - before
    return Run(run.requests_per_second, run.p50_ms, run.p99_ms, run.requests, 1000 * spent / max(1, run.requests))


def http_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options every HTTP benchmark takes: rounds, their length, server workers, connections."""
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    return parser


def client_name() -> str:
    return "wrk" if shutil.which("wrk") and os.environ.get("BENCH_CLIENT") != "python" else "python threads"


# --- product versus yardstick -------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    name: str
    product: Run  # medians over the rounds
    bare: Run
    ratio: float  # median over the rounds of product throughput / bare throughput
    cost_ratio: float  # median over the rounds of bare CPU per request / product CPU per request

    def row(self) -> str:
        p, b = self.product, self.bare
        return (
            f"  {self.name:26} {p.requests_per_second:6.0f} {b.requests_per_second:6.0f}  {self.ratio:5.2f}"
            f"   {p.p50_ms:6.1f} {b.p50_ms:6.1f}  {p.p99_ms:6.1f} {b.p99_ms:6.1f}"
            f"   {p.cpu_ms:5.2f} {b.cpu_ms:5.2f}  {self.cost_ratio:5.2f}"
        )


HEADER = (
    f"  {'endpoint':26} {'req/s':>6} {'bare':>6}  {'ratio':>5}   {'p50 ms':>6} {'bare':>6}  {'p99 ms':>6} {'bare':>6}"
    f"   {'cpu ms':>5} {'bare':>5}  {'cpu ratio':>5}"
)
LEGEND = (
    "  ratio: product req/s / bare req/s; cpu ms: the server's CPU time per request (gunicorn only, not"
    " PostgreSQL); cpu ratio: bare cpu / product cpu, steadier than req/s on a busy machine"
)


def compare(
    server: Server, name: str, product: Target, bare: Target, *, rounds: int, seconds: float, connections: int
) -> Comparison:
    """Interleaved rounds (the order alternates each round); medians of each measure."""
    load(server, product, seconds=1, connections=connections)  # warm both up: imports, connections
    load(server, bare, seconds=1, connections=connections)
    runs: dict[str, list[Run]] = {"product": [], "bare": []}
    ratios, cost_ratios = [], []
    for i in range(rounds):
        order = [("product", product), ("bare", bare)]
        if i % 2:
            order.reverse()
        got = {kind: load(server, target, seconds=seconds, connections=connections) for kind, target in order}
        for kind, run in got.items():
            runs[kind].append(run)
        ratios.append(got["product"].requests_per_second / got["bare"].requests_per_second)
        cost_ratios.append(got["bare"].cpu_ms / got["product"].cpu_ms if got["product"].cpu_ms else 0.0)

    def medians(kind: str) -> Run:
        measured = runs[kind]
        return Run(
            median(r.requests_per_second for r in measured),
            median(r.p50_ms for r in measured),
            median(r.p99_ms for r in measured),
            sum(r.requests for r in measured),
            median(r.cpu_ms for r in measured),
        )

    return Comparison(name, medians("product"), medians("bare"), median(ratios), median(cost_ratios))
