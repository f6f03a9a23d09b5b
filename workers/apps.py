from django.apps import AppConfig


class WorkersConfig(AppConfig):
    """Worker nodes: registration, heartbeats, timeouts, node sync and capacity admission."""

    name = "workers"
    verbose_name = "Worker nodes"
