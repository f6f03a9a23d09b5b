"""Worker heartbeats under load: the ingest rate of ``POST /workers/heartbeat`` against a bare view
that does one UPDATE of the node's row with the report.

    python bench/heartbeat.py [--rounds 5] [--seconds 3] [--workers 2] [--connections 8] [--nodes 200]

gunicorn (sync workers) on PostgreSQL, as for the API benchmark. The load cycles through the nodes'
own tokens, as a cluster's agents would report. Target: at least half the bare view's rate.
"""

from __future__ import annotations

import argparse
import json
import os

from common import Report, setup

TARGET_RATIO = 0.5
JOIN_TOKEN = "bench-join-token-0123456789"  # noqa: S105 (the benchmark's own throwaway cluster)


def seed(nodes: int) -> list[str]:
    """Register ``nodes`` nodes the way agents do; returns their tokens."""
    from workers.services import node_register

    tokens = []
    for i in range(nodes):
        _, token, _ = node_register(
            join_token=JOIN_TOKEN,
            name=f"node-{i}",
            hostname=f"node-{i}.internal",
            ip_address=f"10.0.{i // 250}.{i % 250 + 1}",
            capacity={"cpu_millicores": 8000, "memory_mb": 32768, "pods": 110},
            labels={"zone": "abc"[i % 3]},
            kubelet_version="v1.33.0",
        )
        tokens.append(token)
    return tokens


def main(argv: list[str] | None = None) -> None:
    from loadgen import http_arguments

    parser = http_arguments(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--nodes", type=int, default=200)
    args = parser.parse_args(argv)

    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/3")
    setup(WORKER_JOIN_TOKEN=JOIN_TOKEN)
    from loadgen import HEADER, LEGEND, Server, Target, client_name, compare

    tokens = seed(args.nodes)
    body = {
        "status": "READY",
        "usage": {"cpu_percent": 37.5, "memory_percent": 61.25, "pods_running": 12},
        "conditions": [{"type": "Ready", "status": "True"}, {"type": "DiskPressure", "status": "False"}],
    }
    variants = tuple(({"X-Worker-Token": token}, json.dumps(body).encode()) for token in tokens)
    json_headers = {"Content-Type": "application/json"}
    product = Target("/api/v1/workers/heartbeat", json_headers, "POST", variants)
    bare = Target("/bench/heartbeat", json_headers, "POST", variants)

    report = Report("heartbeat")
    report(
        f"Heartbeat ingest: gunicorn, {args.workers} sync workers, PostgreSQL, {args.connections} connections"
        f" ({client_name()}), {args.nodes} nodes in turn, {args.rounds} interleaved rounds of {args.seconds} s, medians"
    )
    report(f"target: ratio >= {TARGET_RATIO}")
    report(LEGEND)
    report(HEADER)
    with Server(workers=args.workers) as server:
        status, answer = server.get(product.path, {**json_headers, **variants[0][0]}, "POST", variants[0][1])
        assert status == 200, (status, answer[:300])
        result = compare(
            server,
            "POST /workers/heartbeat",
            product,
            bare,
            rounds=args.rounds,
            seconds=args.seconds,
            connections=args.connections,
        )
        report(result.row())
    report(f"target {'met' if result.ratio >= TARGET_RATIO else 'NOT met'}")
    report.save()


if __name__ == "__main__":
    main()
