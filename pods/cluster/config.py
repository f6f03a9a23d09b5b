"""Building the official client's configuration: a kubeconfig file, or the pod's service account."""

from __future__ import annotations

import os
from dataclasses import dataclass

import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.config.config_exception import ConfigException

from .driver import Cluster
from .errors import ClusterUnavailable


@dataclass(frozen=True)
class ClusterSettings:
    """Where the cluster is. ``kubeconfig`` None means: ``$KUBECONFIG`` or ``~/.kube/config``,
    falling back to the in-cluster service account."""

    kubeconfig: str | None
    context: str | None
    timeout: tuple[float, float]
    user_agent: str = "paas-backend"


def _configuration(settings: ClusterSettings) -> k8s.Configuration:
    configuration = k8s.Configuration()
    path = settings.kubeconfig or os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")
    try:
        if settings.kubeconfig or os.path.exists(path):
            k8s_config.load_kube_config(
                config_file=path, context=settings.context or None, client_configuration=configuration
            )
        else:
            k8s_config.load_incluster_config(client_configuration=configuration)
    except (ConfigException, OSError) as exc:
        raise ClusterUnavailable(f"No usable cluster configuration at {path}: {exc}") from exc
    # Connection failures are retried at once twice; a slow or failed answer is not retried
    # here (the reconcile loop retries with backoff), so no call blocks longer than its timeout.
    configuration.retries = urllib3.Retry(total=2, connect=2, read=0, status=0, redirect=0, raise_on_status=False)
    return configuration


def build_cluster(settings: ClusterSettings) -> Cluster:
    api_client = k8s.ApiClient(_configuration(settings))
    api_client.user_agent = settings.user_agent
    return Cluster(api_client, timeout=settings.timeout)
