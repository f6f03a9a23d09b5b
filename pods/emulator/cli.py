"""``python -m pods.emulator``: run the emulator until SIGINT/SIGTERM.

It binds, starts the control loop, writes the kubeconfig only once it is listening (so a
process waiting for that file can connect at once), logs one line with its URL, and on exit
writes its state (with ``--state``) and removes nothing.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Sequence
from types import FrameType

from .emulator import Emulator
from .loop import DEFAULT_CRASH_PATTERN, DEFAULT_PULL_FAIL_PATTERN
from .persistence import StateFile
from .server import EmulatorServer

log = logging.getLogger("pods.emulator")


def _pattern(value: str) -> str | None:
    return value or None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m pods.emulator", description="Kubernetes API emulator for local runs and tests."
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    p.add_argument("--port", type=int, default=0, help="port to listen on; 0 picks a free one (default: %(default)s)")
    p.add_argument("--kubeconfig", required=True, help="where to write the kubeconfig for this emulator")
    p.add_argument("--state", help="JSON file keeping the cluster's objects across restarts")
    p.add_argument("--token", help="bearer token clients must send (default: none required)")
    p.add_argument("--nodes", type=int, default=3, help="number of simulated nodes (default: %(default)s)")
    p.add_argument("--node-cpu", default="4", help="CPU capacity per node (default: %(default)s)")
    p.add_argument("--node-memory", default="8Gi", help="memory capacity per node (default: %(default)s)")
    p.add_argument("--node-pods", type=int, default=110, help="pod capacity per node (default: %(default)s)")
    p.add_argument(
        "--ready-delay", type=float, default=3.0, help="seconds from container start to Ready (default: %(default)s)"
    )
    p.add_argument(
        "--image-pull-fail-pattern",
        type=_pattern,
        default=DEFAULT_PULL_FAIL_PATTERN,
        help="regex: matching images fail to pull ('' disables; default: %(default)s)",
    )
    p.add_argument(
        "--crash-pattern",
        type=_pattern,
        default=DEFAULT_CRASH_PATTERN,
        help="regex: matching images crash-loop ('' disables; default: %(default)s)",
    )
    p.add_argument(
        "--kubernetes-version", default="1.33", help="version served and validated against (default: %(default)s)"
    )
    p.add_argument(
        "--continue-token-ttl",
        type=float,
        default=None,
        help="seconds after which list continue tokens answer 410 Expired (default: never)",
    )
    p.add_argument("--log-level", default="INFO", help="logging level (default: %(default)s)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    emulator = Emulator(
        nodes=args.nodes,
        node_cpu=args.node_cpu,
        node_memory=args.node_memory,
        node_pods=args.node_pods,
        ready_delay=args.ready_delay,
        image_pull_fail_pattern=args.image_pull_fail_pattern,
        crash_pattern=args.crash_pattern,
        kubernetes_version=args.kubernetes_version,
        continue_token_ttl=args.continue_token_ttl,
    )
    state = StateFile(args.state, emulator) if args.state else None
    if state is not None and state.load():
        log.info("restored the cluster from %s", args.state)

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    server = EmulatorServer(emulator, args.host, args.port, token=args.token).start()
    emulator.start()
    if state is not None:
        state.start()
    server.write_kubeconfig(args.kubeconfig)
    log.info("Kubernetes API emulator listening on %s (kubeconfig: %s)", server.url, args.kubeconfig)
    try:
        stop.wait()
    finally:
        server.stop()
        emulator.stop()
        if state is not None:
            state.stop()
    log.info("Kubernetes API emulator stopped")
    return 0
