"""The cluster driver: the official ``kubernetes`` client, pointed at a real cluster or at the
bundled emulator. Framework-neutral: no Django in here."""

from .compare import object_matches
from .config import ClusterSettings, build_cluster
from .driver import RESTARTED_AT, Cluster, rfc3339
from .errors import ClusterError, ClusterRefused, ClusterUnavailable, ObjectConflict, ObjectNotFound, QuotaExceeded
from .kinds import KINDS, WORKLOADS

__all__ = [
    "KINDS",
    "RESTARTED_AT",
    "WORKLOADS",
    "Cluster",
    "ClusterError",
    "ClusterRefused",
    "ClusterSettings",
    "ClusterUnavailable",
    "ObjectConflict",
    "ObjectNotFound",
    "QuotaExceeded",
    "build_cluster",
    "object_matches",
    "rfc3339",
]
