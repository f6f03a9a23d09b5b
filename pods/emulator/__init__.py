"""A Kubernetes API emulator for local runs, tests and benchmarks (see docs/emulator.md).

It serves, over HTTP on localhost, the part of the Kubernetes API this platform uses, with the
semantics of a real API server, plus a small simulated cluster (nodes, scheduler, kubelets,
workload controllers) so pods become Ready, fail to pull or crash-loop. The official
``kubernetes`` client talks to it through an ordinary kubeconfig.

    emulator = Emulator(ready_delay=0)
    server = EmulatorServer(emulator).start()
    server.write_kubeconfig("kubeconfig")
    emulator.start()  # or emulator.tick() for one deterministic pass

This package depends on the standard library, PyYAML and kubernetes-validate's schemas only.
"""

from .emulator import Emulator
from .faults import FaultRule
from .loop import DEFAULT_CRASH_PATTERN, DEFAULT_PULL_FAIL_PATTERN
from .persistence import StateFile
from .requestlog import RequestRecord
from .server import EmulatorServer

__all__ = [
    "DEFAULT_CRASH_PATTERN",
    "DEFAULT_PULL_FAIL_PATTERN",
    "Emulator",
    "EmulatorServer",
    "FaultRule",
    "RequestRecord",
    "StateFile",
]
