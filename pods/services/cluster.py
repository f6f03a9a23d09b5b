"""The cluster the platform is configured for: a real one, or the bundled emulator."""

from __future__ import annotations

import threading
from pathlib import Path

from django.conf import settings

from pods.cluster import Cluster, ClusterSettings, ClusterUnavailable, build_cluster

_lock = threading.Lock()
_cached: tuple[tuple, Cluster] | None = None


def cluster_settings() -> ClusterSettings:
    if settings.PAAS_CLUSTER_BACKEND == "simulated":
        kubeconfig = settings.PAAS_EMULATOR_KUBECONFIG
        if not Path(kubeconfig).is_file():
            raise ClusterUnavailable(
                f"The cluster emulator is not running: no kubeconfig at {kubeconfig} "
                "(`make run` starts it; PAAS_CLUSTER_BACKEND=kubernetes uses a real cluster)."
            )
        return ClusterSettings(kubeconfig=kubeconfig, context=None, timeout=settings.PAAS_CLUSTER_TIMEOUT)
    return ClusterSettings(
        kubeconfig=None, context=settings.PAAS_CLUSTER_CONTEXT or None, timeout=settings.PAAS_CLUSTER_TIMEOUT
    )


def get_cluster(*, interactive: bool = False) -> Cluster:
    """The driver for the configured cluster, built once per configuration and process.
    ``interactive``: with the short timeouts of a request a person waits for."""
    global _cached
    config = cluster_settings()
    key = (config, _mtime(config.kubeconfig))
    with _lock:
        if _cached is None or _cached[0] != key:
            _cached = (key, build_cluster(config))
        cluster = _cached[1]
    return cluster.with_timeout(settings.PAAS_CLUSTER_INTERACTIVE_TIMEOUT) if interactive else cluster


def _mtime(path: str | None) -> float | None:
    # A new kubeconfig (the emulator restarted on another port) must be picked up without a restart.
    try:
        return Path(path).stat().st_mtime if path else None
    except OSError:
        return None


# A readiness probe gives up after a few seconds: this check must answer well before that.
READINESS_TIMEOUT = (1.0, 1.5)


def check_cluster() -> None:
    """Readiness (reported, not required): the cluster API answers its version, quickly."""
    get_cluster().with_timeout(READINESS_TIMEOUT).version()
