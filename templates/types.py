"""What a blueprint is made of: plain, frozen data that the renderer turns into manifests.

A blueprint describes one app (n8n, Ghost, WordPress, ...): its pinned image, port, data
paths, environment, probes, the database it needs, the settings a customer may choose and
the security context its image needs. Nothing here knows about Django models or the cluster.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

ConfigKind = Literal["string", "email", "boolean", "integer", "timezone", "choice"]
SecretGroup = Literal["app", "db"]
PodSecurityLevel = Literal["restricted", "baseline"]


class ServiceLike(Protocol):
    """The part of ``catalog.Service`` the renderer reads."""

    slug: str
    template: str


class PlanLike(Protocol):
    """The part of ``catalog.Plan`` the renderer reads; ``service`` gives the blueprint."""

    slug: str
    cpu_millicores: int
    memory_mb: int
    storage_gb: int
    service: ServiceLike


@dataclass(frozen=True)
class ConfigField:
    """One setting a customer may choose. Values only ever reach env values and annotations."""

    name: str
    kind: ConfigKind
    default: Any
    help_text: str
    max_length: int = 200
    pattern: str | None = None  # must match the whole value
    min_value: int | None = None
    max_value: int | None = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class SecretKey:
    """A generated secret: a key of the instance's ``<base>-app`` or ``<base>-db`` Secret."""

    key: str
    group: SecretGroup
    nbytes: int = 32


@dataclass(frozen=True)
class SecretRef:
    """An env var read from one of the instance's Secrets (never a plaintext ``value``)."""

    group: SecretGroup
    key: str


@dataclass(frozen=True)
class EnvVar:
    name: str
    value: str | SecretRef


@dataclass(frozen=True)
class Probe:
    """A container probe. ``proxied`` HTTP probes send the Host and X-Forwarded-Proto the
    ingress would, for apps that otherwise redirect plain-http requests to their https URL."""

    kind: Literal["http", "tcp", "exec"]
    path: str = "/"
    command: tuple[str, ...] = ()
    proxied: bool = False
    initial_delay_seconds: int = 0
    period_seconds: int = 10
    timeout_seconds: int = 5
    failure_threshold: int = 3


@dataclass(frozen=True)
class Probes:
    startup: Probe
    readiness: Probe
    liveness: Probe


@dataclass(frozen=True)
class DataMount:
    """Where the app's volume is mounted; ``sub_path`` shares one volume between paths."""

    mount_path: str
    sub_path: str = ""


@dataclass(frozen=True)
class SecurityProfile:
    """The pod-level identity an image needs to run without root.

    ``sysctls`` may only hold sysctls that Pod Security "restricted" allows (the safe set).
    ``level`` is the Pod Security Standard the pod meets; the namespace enforces the lowest
    level among the apps it runs.
    """

    run_as_user: int
    run_as_group: int
    fs_group: int
    sysctls: Mapping[str, str] = field(default_factory=dict)
    level: PodSecurityLevel = "restricted"


@dataclass(frozen=True)
class Share:
    """Percentages of the plan given to the app container; the database gets the rest."""

    cpu: int = 100
    memory: int = 100
    storage: int = 100


@dataclass(frozen=True)
class DatabaseSpec:
    """A database StatefulSet of the instance's own. Only ``mysql`` exists so far."""

    engine: Literal["mysql"]
    image: str
    name: str
    user: str
    uid: int  # the image's database user, which the pod runs as
    port: int = 3306


@dataclass(frozen=True)
class Minimums:
    """The smallest plan the app runs on (checked when an operator saves a plan)."""

    cpu_millicores: int
    memory_mb: int
    storage_gb: int


@dataclass(frozen=True)
class RenderContext:
    """What a blueprint's env builder may read: names already DNS-safe, config validated."""

    base_name: str
    fqdn: str
    config: Mapping[str, Any]
    database_host: str | None


@dataclass(frozen=True)
class Blueprint:
    """Everything needed to run one app. Register it in ``templates.registry``."""

    key: str
    name: str
    app_version: str
    image: str
    port: int
    data_mounts: tuple[DataMount, ...]
    env: Callable[[RenderContext], list[EnvVar]]
    probes: Probes
    security: SecurityProfile
    minimums: Minimums
    config_fields: tuple[ConfigField, ...] = ()
    secret_keys: tuple[SecretKey, ...] = ()
    database: DatabaseSpec | None = None
    share: Share = Share()
    # Secrets whose loss or change destroys data (n8n's encryption key) are made immutable.
    immutable_app_secret: bool = False
    # Extra container args; most images' defaults are right.
    args: tuple[str, ...] = ()
    docs: str = ""

    def config_field(self, name: str) -> ConfigField | None:
        return next((f for f in self.config_fields if f.name == name), None)
