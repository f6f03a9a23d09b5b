"""An instance's workloads: the app (volume, Service, Deployment) and, for blueprints with one, its
MySQL database (headless Service, StatefulSet)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..types import DatabaseSpec, EnvVar, Probe, RenderContext, SecretRef
from .context import InstanceContext
from .podspec import CONTAINER_SECURITY, env_vars, pod_security, pod_spec_common, probe_spec, storage_class


def app_manifests(inst: InstanceContext, *, config: Mapping[str, Any], database_host: str | None) -> list[dict]:
    bp = inst.blueprint
    res = inst.allocation.app
    ctx = RenderContext(base_name=inst.base, fqdn=inst.fqdn, config=config, database_host=database_host)
    pvc_name = inst.name("data")
    web = inst.name("web")
    sec = bp.security
    container: dict[str, Any] = {
        "name": bp.key,
        "image": bp.image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": bp.port, "protocol": "TCP"}],
        "env": env_vars(inst, bp.env(ctx)),
        "resources": res.as_k8s(),
        "startupProbe": probe_spec(bp.probes.startup, port="http", fqdn=inst.fqdn),
        "readinessProbe": probe_spec(bp.probes.readiness, port="http", fqdn=inst.fqdn),
        "livenessProbe": probe_spec(bp.probes.liveness, port="http", fqdn=inst.fqdn),
        "securityContext": dict(CONTAINER_SECURITY),
        "volumeMounts": [
            {"name": "data", "mountPath": m.mount_path, **({"subPath": m.sub_path} if m.sub_path else {})}
            for m in bp.data_mounts
        ],
    }
    if bp.args:
        container["args"] = list(bp.args)
    return [
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": inst.meta(pvc_name, "web"),
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": f"{res.storage}Mi"}},
                **storage_class(),
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": inst.meta(web, "web"),
            "spec": {
                "type": "ClusterIP",
                "selector": inst.selector("web"),
                "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
            },
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": inst.meta(web, "web"),
            "spec": {
                "replicas": inst.replicas,
                # One replica on a ReadWriteOnce volume: stop the old pod before starting the new
                # one (no Multi-Attach error, no surge room needed in the quota).
                "strategy": {"type": "Recreate"},
                "revisionHistoryLimit": 3,
                "selector": {"matchLabels": inst.selector("web")},
                "template": {
                    "metadata": {"labels": {**inst.labels, "app.kubernetes.io/component": "web"}},
                    "spec": {
                        **pod_spec_common(),
                        "securityContext": pod_security(sec.run_as_user, sec.run_as_group, sec.fs_group, sec.sysctls),
                        "containers": [container],
                        "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": pvc_name}}],
                    },
                },
            },
        },
    ]


MYSQL_DATA = "/var/lib/mysql"


def mysql_manifests(inst: InstanceContext, db: DatabaseSpec) -> list[dict]:
    res = inst.allocation.database
    assert res is not None
    name = inst.name("db")
    ping = Probe(
        "exec",
        # Over TCP, so the entrypoint's temporary socket-only server during first init does not
        # count as up; mysqladmin ping succeeds without credentials ("access denied" = alive).
        command=("mysqladmin", "ping", "--host=127.0.0.1", "--silent"),
        period_seconds=10,
        timeout_seconds=5,
        failure_threshold=3,
    )
    startup = Probe("exec", command=ping.command, period_seconds=10, timeout_seconds=5, failure_threshold=60)
    liveness = Probe("tcp", period_seconds=20, failure_threshold=6)
    # A quarter of the container's memory, at least 32 MiB; performance_schema off saves more.
    buffer_pool = max(32, res.memory_limit // 4)
    container = {
        "name": "mysql",
        "image": db.image,
        "imagePullPolicy": "IfNotPresent",
        "args": [
            # A subdirectory: a fresh volume's lost+found makes MySQL refuse to initialise its root.
            f"--datadir={MYSQL_DATA}/data",
            f"--innodb-buffer-pool-size={buffer_pool}M",
            "--performance-schema=OFF",
            "--skip-name-resolve",
        ],
        "ports": [{"name": "mysql", "containerPort": db.port, "protocol": "TCP"}],
        "env": env_vars(
            inst,
            [
                EnvVar("MYSQL_ROOT_PASSWORD", SecretRef("db", "db-root-password")),
                EnvVar("MYSQL_DATABASE", db.name),
                EnvVar("MYSQL_USER", db.user),
                EnvVar("MYSQL_PASSWORD", SecretRef("db", "db-password")),
            ],
        ),
        "resources": res.as_k8s(),
        "startupProbe": probe_spec(startup, port="mysql", fqdn=inst.fqdn),
        "readinessProbe": probe_spec(ping, port="mysql", fqdn=inst.fqdn),
        "livenessProbe": probe_spec(liveness, port="mysql", fqdn=inst.fqdn),
        "securityContext": dict(CONTAINER_SECURITY),
        "volumeMounts": [{"name": "data", "mountPath": MYSQL_DATA}],
    }
    db_labels = {**inst.labels, "app.kubernetes.io/component": "database"}
    return [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": inst.meta(name, "database"),
            "spec": {
                # Headless: the StatefulSet's governing Service; the app connects to its pod directly.
                "clusterIP": "None",
                "selector": inst.selector("database"),
                "ports": [{"name": "mysql", "port": db.port, "targetPort": "mysql", "protocol": "TCP"}],
            },
        },
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": inst.meta(name, "database"),
            "spec": {
                "serviceName": name,
                "replicas": inst.replicas,
                "revisionHistoryLimit": 3,
                "selector": {"matchLabels": inst.selector("database")},
                "template": {
                    "metadata": {"labels": db_labels},
                    "spec": {
                        **pod_spec_common(),
                        "securityContext": pod_security(db.uid, db.uid, db.uid, {}),
                        "containers": [container],
                    },
                },
                "volumeClaimTemplates": [
                    {
                        "metadata": {"name": "data", "labels": db_labels},
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": f"{res.storage}Mi"}},
                            **storage_class(),
                        },
                    }
                ],
            },
        },
    ]
