from django.apps import AppConfig


class PodsConfig(AppConfig):
    """Service instances: the cluster driver, the Kubernetes API emulator and the reconcile loop."""

    name = "pods"
    verbose_name = "Instances"

    def ready(self) -> None:
        from catalog import hooks as catalog_hooks
        from paas.health import REPORTED_CHECKS

        from .services import plan_resized
        from .services.cluster import check_cluster

        REPORTED_CHECKS["cluster"] = check_cluster
        catalog_hooks.plan_resized.connect(plan_resized)
