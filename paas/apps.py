from django.apps import AppConfig


class PaasConfig(AppConfig):
    """Project wiring: shared base models, API plumbing and the project-wide commands."""

    name = "paas"
    verbose_name = "Platform"

    def ready(self) -> None:
        from . import metrics

        metrics.register()
