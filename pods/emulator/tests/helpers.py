"""Manifests and small helpers shared by the emulator tests."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from kubernetes.client.exceptions import ApiException

TOKEN = "emulator-test-token"


def labels(name: str, component: str = "web") -> dict[str, str]:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/component": component}


def container(
    name: str = "web",
    image: str = "nginx:1.27",
    *,
    cpu: str = "100m",
    memory: str = "128Mi",
    cpu_limit: str = "500m",
    memory_limit: str = "256Mi",
) -> dict[str, Any]:
    return {
        "name": name,
        "image": image,
        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
        "env": [{"name": "MODE", "value": "production"}],
        "resources": {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu_limit, "memory": memory_limit}},
        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
    }


def deployment(
    name: str, *, replicas: int = 1, image: str = "nginx:1.27", strategy: str = "Recreate", **kwargs: Any
) -> dict[str, Any]:
    sel = labels(name)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": sel},
        "spec": {
            "replicas": replicas,
            "strategy": {"type": strategy},
            "selector": {"matchLabels": sel},
            "template": {
                "metadata": {"labels": sel},
                "spec": {
                    "containers": [container(image=image, **kwargs)],
                    "volumes": [{"name": "data", "emptyDir": {}}],
                },
            },
        },
    }


def statefulset(name: str, *, replicas: int = 1, image: str = "mysql:8.4", storage: str = "1Gi") -> dict[str, Any]:
    sel = labels(name, "database")
    c = container("mysql", image)
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name, "labels": sel},
        "spec": {
            "serviceName": name,
            "replicas": replicas,
            "selector": {"matchLabels": sel},
            "template": {"metadata": {"labels": sel}, "spec": {"containers": [c]}},
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data", "labels": sel},
                    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": storage}}},
                }
            ],
        },
    }


def status_of(exc: ApiException) -> dict[str, Any]:
    """The Status body of a failed call."""
    return json.loads(exc.body)


def raw_request(
    server: Any,
    method: str,
    path: str,
    body: Any = None,
    *,
    token: str | None = TOKEN,
    content_type: str = "application/json",
    accept: str = "application/json",
) -> tuple[int, Any, Any]:
    """A request the typed client cannot make (it validates bodies itself): (status, headers, body)."""
    data = json.dumps(body).encode() if body is not None and not isinstance(body, bytes) else body
    request = urllib.request.Request(server.url + path, method=method, data=data)  # noqa: S310 - http://127.0.0.1 only
    request.add_header("Accept", accept)
    request.add_header("Content-Type", content_type)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - http://127.0.0.1 only
            status, headers, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        status, headers, raw = exc.code, exc.headers, exc.read()
    try:
        return status, headers, json.loads(raw)
    except ValueError:
        return status, headers, raw
