"""Every write on worker nodes, and capacity admission."""

from .capacity import Headroom, capacity_admit, headroom
from .health import SyncReport, nodes_mark_offline, nodes_sync
from .registry import (
    node_create,
    node_delete,
    node_heartbeat,
    node_register,
    node_rotate_token,
    node_set_cordoned,
    node_update,
)

__all__ = [
    "Headroom",
    "SyncReport",
    "capacity_admit",
    "headroom",
    "node_create",
    "node_delete",
    "node_heartbeat",
    "node_register",
    "node_rotate_token",
    "node_set_cordoned",
    "node_update",
    "nodes_mark_offline",
    "nodes_sync",
]
