from django.apps import AppConfig


class PodsConfig(AppConfig):
    """Service instances: the cluster driver, the Kubernetes API emulator and the reconcile loop."""

    name = "pods"
    verbose_name = "Instances"

    def ready(self) -> None:
        from paas.health import REPORTED_CHECKS

        from .services.cluster import check_cluster

        REPORTED_CHECKS["cluster"] = check_cluster
