"""Every write on instances: what people ask for (``instances``), and the loop that makes the
cluster match (``reconcile``, ``sweep``)."""

from .instances import (
    instance_change_plan,
    instance_create,
    instance_delete,
    instance_reconcile_soon,
    instance_restart,
    instance_restore,
    instance_start,
    instance_stop,
    instances_refresh_for_plan,
    instances_stop,
    plan_resized,
)
from .live import instance_live_status, instance_logs
from .reconcile import Outcome, Result, reconcile, reconcile_preview
from .sweep import SweepReport, purge_due, purge_instance, reconcile_due, sweep

__all__ = [
    "Outcome",
    "Result",
    "SweepReport",
    "instance_change_plan",
    "instance_create",
    "instance_delete",
    "instance_live_status",
    "instance_logs",
    "instance_reconcile_soon",
    "instance_restart",
    "instance_restore",
    "instance_start",
    "instance_stop",
    "instances_refresh_for_plan",
    "instances_stop",
    "plan_resized",
    "purge_due",
    "purge_instance",
    "reconcile",
    "reconcile_due",
    "reconcile_preview",
    "sweep",
]
